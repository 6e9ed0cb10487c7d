"""``manage.py send_reminders``: build this month's key-work reminder lists and e-mail them.

Safe to run as often as you like: each reminder is e-mailed once (items are claimed before
sending and released if sending fails, so a later run retries them). Schedule it with cron:

    # the 1st of each month, 07:30: the month's lists go out
    30 7 1 * *  cd /srv/dangjian && .venv/bin/python manage.py send_reminders
    # every day, 07:45: items that became due since (a term entering its warning window,
    # a transfer expiring, yearly work entering the lead window) go out the same day
    45 7 * * *  cd /srv/dangjian && .venv/bin/python manage.py send_reminders

``--background`` hands the run to the django-tasks queue (``manage.py db_worker``) instead.
"""

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from dangjian.organizations.models import Organization
from dangjian.reminders import services, tasks


class Command(BaseCommand):
    help = (
        "生成本月各党支部的重点工作提醒单，并把尚未发送、尚未完成的事项用邮件发给支部书记和"
        "党务工作者（每个支部每次一封）。可重复运行，每个事项只发送一次；发送失败的事项下次重试。"
        "建议用 cron 每月1日运行一次、并每天运行一次，例如："
        "“30 7 1 * * manage.py send_reminders”和“45 7 * * * manage.py send_reminders”。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--month", help="月份，格式 YYYY-MM，默认本月")
        parser.add_argument("--today", help="按此日期核验（YYYY-MM-DD），默认今天；用于补发或测试")
        parser.add_argument("--org", type=int, help="只处理此党组织（编号）及其下级")
        parser.add_argument(
            "--background", action="store_true", help="交给后台任务队列执行（db_worker）"
        )

    def handle(self, *args, month=None, today=None, org=None, background=False, **options):
        try:
            day = date.fromisoformat(today) if today else timezone.localdate()
        except ValueError:
            raise CommandError("--today 应为 YYYY-MM-DD") from None
        first = services.parse_month(month) if month else day.replace(day=1)
        if first is None:
            raise CommandError("--month 应为 YYYY-MM")
        if background:
            if today or org:
                raise CommandError("--background 不能与 --today、--org 同时使用")
            result = tasks.send_reminders.enqueue(f"{first:%Y-%m}")
            self.stdout.write(f"已加入后台任务队列：{result.id}")
            return
        organizations = None
        if org is not None:
            root = Organization.objects.filter(pk=org).first()
            if root is None:
                raise CommandError(f"没有编号为 {org} 的党组织")
            organizations = Organization.objects.within(root)
        result = services.send(first, day, organizations)
        generated = result.generated
        self.stdout.write(
            f"{first:%Y-%m}：提醒单 {generated.lists} 份，新增事项 {generated.created} 项，"
            f"系统核验已完成 {generated.resolved} 项；发出邮件 {result.messages} 封、"
            f"事项 {result.items} 项。"
        )
        if result.without_recipients:
            self.stdout.write(
                f"{len(result.without_recipients)} 个党支部没有留有邮箱的支部书记或党务工作者，"
                "未发送。"
            )
        if result.failed:
            raise CommandError(f"{result.failed} 封邮件发送失败，相关事项将在下次运行时重试。")
