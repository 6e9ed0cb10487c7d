"""``manage.py seed_demo``: load a deterministic demo data set (see dangjian.organizations.demo)."""

from __future__ import annotations

import argparse
import time
import unicodedata
from datetime import date

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from dangjian.accounts.models import User
from dangjian.development.demo import DevelopmentGenerator, clear_development_data
from dangjian.development.steps import Stage
from dangjian.dues.demo import DuesGenerator, clear_dues_data
from dangjian.members.demo import MemberGenerator
from dangjian.members.models import Member, Transfer
from dangjian.organizations.demo import (
    DEFAULT_SEED,
    DEMO_PASSWORD,
    SCALES,
    DemoGenerator,
    clear_demo_data,
    demo_logins,
)
from dangjian.organizations.models import Organization
from dangjian.orglife.demo import MeetingGenerator, clear_orglife_data

ADDRESS = "http://127.0.0.1:8000/"


def parse_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"日期格式应为 YYYY-MM-DD，收到 {value!r}") from error


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, size: int) -> str:
    return text + " " * (size - width(text))


class Command(BaseCommand):
    help = (
        "生成演示数据：一个区（--scale demo）、一个市（--scale city，约一万个组织）"
        "或极小的数据集（--scale tiny），并打印演示账号。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=list(SCALES), default="demo")
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
        parser.add_argument(
            "--today",
            type=parse_day,
            default=None,
            help="数据中的“今天”（YYYY-MM-DD），默认为当天；日期均相对于它生成",
        )
        existing = parser.add_mutually_exclusive_group()
        existing.add_argument(
            "--if-empty", action="store_true", help="已有组织数据时什么也不做（只打印账号）"
        )
        existing.add_argument(
            "--force",
            action="store_true",
            help="先删除已有的组织及其相关数据（审计日志保留）再生成",
        )

    def handle(self, *args, **options):
        started = time.perf_counter()
        if Organization.objects.exists() and options["if_empty"]:
            self.stdout.write("已有组织数据，未生成演示数据。")
            self.print_logins()
            return
        if Organization.objects.exists() and not options["force"]:
            raise CommandError(
                "数据库中已有组织数据。使用 --force 删除后重新生成，或使用 --if-empty 跳过。"
            )
        try:
            validate_password(DEMO_PASSWORD)
        except ValidationError as error:
            raise CommandError(f"演示密码不符合密码规则：{' '.join(error.messages)}") from error

        generator = DemoGenerator(
            seed=options["seed"], scale=options["scale"], today=options["today"] or date.today()
        )
        with transaction.atomic():
            if options["force"]:
                clear_development_data()
                clear_orglife_data()  # attendance and appraisals protect the members
                clear_dues_data()
                Transfer.objects.all().delete()
                Member.objects.all().delete()
                clear_demo_data()
            summary = generator.run()
            members = MemberGenerator(options["seed"], options["scale"], generator.today)
            member_count = members.run(Organization.objects.all())
            branch = Organization.objects.get(name=summary.users_branch)
            logins = User.objects.filter(
                username__in=["branch_secretary", "branch_clerk", "member_demo"]
            ).order_by("username")
            members.link_users([(user, branch) for user in logins])
            orglife_started = time.perf_counter()
            history = MeetingGenerator(options["seed"], generator.today, options["scale"]).run(
                Organization.objects.all(), exemplary=[branch.pk]
            )
            orglife_seconds = time.perf_counter() - orglife_started
            dues_started = time.perf_counter()
            dues = DuesGenerator(options["seed"], generator.today).run(
                Organization.objects.all(), exemplary=[branch.pk]
            )
            dues_seconds = time.perf_counter() - dues_started
            development = DevelopmentGenerator(options["seed"], generator.today).run(
                Organization.objects.all(), exemplary=[branch.pk]
            )
        # After a bulk load the planner has no statistics yet (the meetings, the dues ledger);
        # gather them now, as a production database's autovacuum would have long since done.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

        self.stdout.write(
            self.style.SUCCESS(
                f"已生成演示数据（规模 {summary.scale}，种子 {summary.seed}，"
                f"今天 {summary.today.isoformat()}）：{summary.root}"
            )
        )
        self.stdout.write(
            f"  党组织 {summary.organizations} 个，班子成员 {summary.committee_members} 人，"
            f"村集体收入 {summary.village_incomes} 条，区域化党建联建单位 "
            f"{summary.regional_links} 个，两新组织 {summary.new_organizations} 个"
        )
        self.stdout.write(f"  党员 {member_count + 3} 人，编入党小组 {history.grouped_members} 人")
        self.stdout.write(
            f"  组织生活记录 {history.meetings} 条（其中计划召开 {history.planned} 条），"
            f"出席记录 {history.attendance} 条，评议结果 {history.appraisals} 条，"
            f"用时 {orglife_seconds:.1f} 秒；有意缺项的党支部 {history.short_branches} 个，"
            f"长期未参加组织生活的党员 {history.warned_members + history.flagged_members} 人"
        )
        self.stdout.write(
            f"  党费交纳基数 {dues.bases} 条（年中调整 {dues.mid_year_bases} 条，"
            f"减交 {dues.reduced} 人，免交 {dues.exempt} 人），交纳记录 {dues.payments} 条"
            f"（补交 {dues.back_paid} 条，预交 {dues.prepaid} 条），特殊党费 {dues.special} 笔，"
            f"用时 {dues_seconds:.1f} 秒；连续3至5个月未交纳的党员 {dues.warned_members} 人，"
            f"6个月以上 {dues.flagged_members} 人（集中在 {dues.arrears_branches} 个党支部）"
        )
        stages = "，".join(
            f"{Stage(stage).label} {count} 人" for stage, count in development.by_stage.items()
        )
        self.stdout.write(
            f"  发展党员档案 {development.records} 份（{stages}），"
            f"步骤记录 {development.steps} 条；谈话超期 {development.overdue_talks} 人，半年未考察 "
            f"{development.lapsed_assessments} 人"
        )
        self.stdout.write(f"  支部账号所在组织：{summary.users_branch}")
        self.print_logins()
        self.stdout.write(f"用时 {time.perf_counter() - started:.1f} 秒")

    def print_logins(self) -> None:
        self.stdout.write("")
        self.stdout.write(f"地址：{ADDRESS}（python manage.py runserver 启动后访问）")
        self.stdout.write(f"演示账号（密码均为 {DEMO_PASSWORD}）：")
        header = ("用户名", "姓名", "角色", "授权组织", "说明")
        rows = [header, *demo_logins()]
        sizes = [max(width(row[i]) for row in rows) for i in range(len(header))]
        for number, row in enumerate(rows):
            cells = [pad(c, s) for c, s in zip(row, sizes, strict=True)]
            self.stdout.write(("  " + "  ".join(cells)).rstrip())
            if number == 0:
                self.stdout.write("  " + "  ".join("-" * s for s in sizes))
