"""Demo organizational life: three years of meetings for the seeded branches and groups.

Deterministic for a seed and a "today", in the style of :mod:`dangjian.members.demo` (no
services, no per-row saves), but written with plain multi-row INSERTs or COPY rather than
``bulk_create`` (see :func:`insert_rows`: the city has ~5 million attendance rows). What it
writes:

* every active branch holds its 支部党员大会, 支委会 (when it has a committee), 党课, 主题党日,
  组织生活会 (mostly in the fourth quarter), 民主评议党员 (with a result per member) and
  谈心谈话; every 党小组 its 党小组会. Members of branches with groups are put in the groups.
* most branches keep the rules; a minority (more among non-public enterprises and social
  organizations) is deliberately short: months without a 支委会 or 主题党日, a 支委会 without a
  quorum, a year without a 组织生活会, lapsed groups, …
* expected attendees are the branch's members on the roster (normal or floating) who had
  joined by the day, the group's members, the committee (matched to a member by name where
  one exists) or the two people of a talk. Attendance rows are written for the last months
  (all of them at the small scales); older meetings keep only their counts, which is what
  the compliance engine reads.
* a few members stop coming: some for four or five months (the warning), fewer for more
  than six (the flag). ``Member.last_participated_on`` is then set by one UPDATE.
* past meetings are held; a meeting later in the current month may be planned.
"""

from __future__ import annotations

import bisect
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import NotSupportedError, connection, transaction
from django.db.models import DateField, DateTimeField, Q
from django.utils import timezone

from dangjian.members.choices import Standing
from dangjian.members.models import Member
from dangjian.organizations.models import (
    BRANCH_TYPES,
    CommitteeMember,
    CommitteePost,
    Organization,
    OrgType,
    Sector,
)

from .choices import AppraisalGrade, AppraisalStage, MeetingKind, MeetingStatus, Presence
from .compliance import COMMITTEE_POSTS, month_start
from .models import AppraisalResult, Attachment, Attendance, Meeting, RequirementSetting
from .services import update_participation

K = MeetingKind
G = AppraisalGrade
# Plain strings for the rows written directly (see insert_rows).
HELD, PLANNED = MeetingStatus.HELD.value, MeetingStatus.PLANNED.value
PRESENT, LEAVE, ABSENT = Presence.PRESENT.value, Presence.LEAVE.value, Presence.ABSENT.value
BATCH_SIZE = 2000
HISTORY_MONTHS = 36  # meetings from the first day of the month three years ago


@dataclass(frozen=True)
class HistoryScale:
    # Meetings from the first day of this many months before the current one on get
    # attendance rows; older ones only their counts (the city would have ~20M rows).
    attendance_months: int


SCALES = {
    "tiny": HistoryScale(HISTORY_MONTHS),
    "demo": HistoryScale(HISTORY_MONTHS),
    "city": HistoryScale(7),
}

# Share of branches deliberately short of the rules, and how often members come, by sector.
SHORT_SHARE = {
    Sector.GOVERNMENT_ORGAN: 0.06,
    Sector.PUBLIC_INSTITUTION: 0.08,
    Sector.STATE_OWNED_ENTERPRISE: 0.08,
    Sector.COMMUNITY: 0.12,
    Sector.VILLAGE: 0.18,
    Sector.NON_PUBLIC_ENTERPRISE: 0.26,
    Sector.SOCIAL_ORGANIZATION: 0.22,
    Sector.OTHER: 0.15,
}
PRESENCE_RATE = {
    Sector.GOVERNMENT_ORGAN: 0.95,
    Sector.PUBLIC_INSTITUTION: 0.93,
    Sector.STATE_OWNED_ENTERPRISE: 0.92,
    Sector.COMMUNITY: 0.86,
    Sector.VILLAGE: 0.83,
    Sector.NON_PUBLIC_ENTERPRISE: 0.87,
    Sector.SOCIAL_ORGANIZATION: 0.89,
    Sector.OTHER: 0.9,
}
# Weekday meetings: these units move a meeting that falls on a weekend to the Friday before.
WEEKDAY_SECTORS = {
    Sector.GOVERNMENT_ORGAN,
    Sector.PUBLIC_INSTITUTION,
    Sector.STATE_OWNED_ENTERPRISE,
    Sector.NON_PUBLIC_ENTERPRISE,
    Sector.SOCIAL_ORGANIZATION,
}
# Deficiencies of a short branch (one to three of them).
DEFICIENCIES = (
    "theme_gaps",  # months without a 主题党日
    "committee_gaps",  # months without a 支委会
    "no_quorum",  # 支委会 now and then without more than half of the committee
    "general_gaps",  # quarters without a 支部党员大会
    "no_life_meeting",  # a year without a 组织生活会
    "no_lecture",  # a year without a 党课
    "no_appraisal",  # a year without 民主评议党员
    "no_talks",  # a year without 谈心谈话
    "groups_lapsed",  # 党小组会 often skipped
)
# A grade's votes: most for it, then for the grade next to it, the rest for the one beyond.
VOTE_NEIGHBOURS = {
    G.EXCELLENT: (G.QUALIFIED, G.BASIC),
    G.QUALIFIED: (G.EXCELLENT, G.BASIC),
    G.BASIC: (G.QUALIFIED, G.UNQUALIFIED),
}
WARNING_SHARE = 0.03  # members who stopped coming four or five months ago
FLAG_SHARE = 0.01  # members who stopped coming more than six months ago

# --------------------------------------------------------------------------------------------
# Words
# --------------------------------------------------------------------------------------------

PLACES = {
    Sector.VILLAGE: ("村党群服务中心会议室", "村委会会议室", "村党员活动室"),
    Sector.COMMUNITY: ("社区党群服务中心", "社区党员活动室", "社区二楼会议室"),
    Sector.GOVERNMENT_ORGAN: ("机关三楼会议室", "机关党员活动室", "机关五楼小会议室"),
    Sector.PUBLIC_INSTITUTION: ("单位党员活动室", "行政楼会议室", "综合楼二楼会议室"),
    Sector.STATE_OWNED_ENTERPRISE: ("公司党建活动室", "公司第一会议室", "职工之家"),
    Sector.NON_PUBLIC_ENTERPRISE: ("公司会议室", "园区党群服务中心", "公司党员活动室"),
    Sector.SOCIAL_ORGANIZATION: ("协会会议室", "街道党群服务中心", "机构党员活动室"),
    Sector.OTHER: ("项目部会议室", "项目部党员活动室", "工地党建服务站"),
}
OUTINGS = (
    "革命烈士陵园",
    "党风廉政教育基地",
    "红色教育基地",
    "辛亥革命纪念馆",
    "社区新时代文明实践站",
    "结对共建社区",
)
# 主题党日, by month (the regular calendar of anniversaries) and by sector.
THEME_BY_MONTH = {
    1: ("新春走访慰问困难党员和老党员",),
    2: ("学习贯彻中央一号文件精神", "开展“我为群众办实事”新春志愿服务"),
    3: ("“学雷锋”志愿服务活动", "学习全国两会精神"),
    4: ("清明祭英烈，缅怀革命先烈", "观看警示教育片，筑牢廉洁自律防线"),
    5: ("“五四”青年节主题学习", "劳动光荣主题教育"),
    6: ("重温入党誓词，迎接建党纪念日", "安全生产月主题学习"),
    7: ("庆祝中国共产党成立纪念日主题活动", "为老党员颁发“光荣在党50年”纪念章"),
    8: ("“八一”走访慰问退役军人", "防汛巡查志愿服务"),
    9: ("烈士纪念日向人民英雄敬献花篮", "“铭记历史、勿忘国耻”主题学习"),
    10: ("“喜迎国庆”主题宣讲", "重阳节走访慰问老党员"),
    11: ("学习党章党规，严守党的纪律", "冬季消防安全宣传志愿服务"),
    12: ("“国家宪法日”学法活动", "学习中央经济工作会议精神"),
}
THEME_BY_SECTOR = {
    Sector.VILLAGE: ("人居环境整治志愿服务", "乡村振兴政策宣讲", "秸秆禁烧和森林防火宣传"),
    Sector.COMMUNITY: ("“敲门行动”走访独居老人", "垃圾分类宣传志愿服务", "小区环境卫生整治"),
    Sector.GOVERNMENT_ORGAN: ("机关作风建设专题学习", "在职党员进社区“双报到”志愿服务"),
    Sector.PUBLIC_INSTITUTION: ("党员志愿服务进社区", "学习行业作风建设规定"),
    Sector.STATE_OWNED_ENTERPRISE: ("安全生产主题学习", "“党员先锋岗”创建活动"),
    Sector.NON_PUBLIC_ENTERPRISE: ("“党建引领促发展”交流座谈", "党员示范岗创建活动"),
    Sector.SOCIAL_ORGANIZATION: ("公益服务进社区", "行业诚信自律主题学习"),
    Sector.OTHER: ("工地安全生产主题学习", "党员突击队攻坚动员"),
}
THEME_COMMON = (
    "集中学习习近平新时代中国特色社会主义思想",
    "学习《中国共产党纪律处分条例》",
    "学习贯彻党的二十大精神",
    "参观红色教育基地，接受党性教育",
    "观看专题纪录片并交流心得",
)
# Topics that only make sense from a date on (the first day they may appear).
THEME_DATED = (
    (date(2024, 8, 1), "学习贯彻党的二十届三中全会精神"),
    (date(2025, 11, 1), "学习贯彻党的二十届四中全会精神"),
)
COMMITTEE_TOPICS = (
    "研究本月党建工作安排",
    "研究入党积极分子培养考察情况",
    "研究党费收缴和使用情况",
    "讨论确定主题党日活动方案",
    "研究困难党员帮扶工作",
    "研究发展党员工作计划",
    "分析党员队伍思想状况",
    "研究意识形态工作",
    "研究党风廉政建设工作",
    "研究落实上级党组织工作部署",
)
COMMITTEE_Q4 = ("研究组织生活会和民主评议党员准备工作", "研究年度党建工作总结")
GENERAL_BY_QUARTER = (
    ("讨论通过本年度党支部工作计划", "传达学习上级会议精神"),
    ("讨论预备党员转正事宜", "通报党费收缴使用情况"),
    ("党支部半年工作总结", "讨论接收预备党员"),
    ("年度党支部工作总结，推选优秀共产党员", "讨论下年度党员发展计划"),
)
LECTURE_TOPICS = (
    "以党的创新理论凝心铸魂",
    "弘扬伟大建党精神，争做合格党员",
    "严守政治纪律和政治规矩",
    "践行以人民为中心的发展思想",
    "加强党性修养，永葆共产党员先进性",
    "从党史中汲取奋进力量",
    "落实全面从严治党主体责任",
    "牢记初心使命，立足岗位作贡献",
)
LECTURE_BY_SECTOR = {
    Sector.VILLAGE: "党建引领乡村全面振兴",
    Sector.COMMUNITY: "党建引领基层治理，服务居民群众",
    Sector.GOVERNMENT_ORGAN: "建设模范机关，当好“三个表率”",
    Sector.STATE_OWNED_ENTERPRISE: "坚持党的领导，推动国有企业高质量发展",
    Sector.NON_PUBLIC_ENTERPRISE: "党建引领非公企业健康发展",
}
GROUP_TOPICS = (
    "学习上级文件精神，交流学习体会",
    "组织小组党员参加志愿服务",
    "收缴党费，通报党支部工作安排",
    "讨论入党积极分子培养情况",
    "结合岗位实际开展学习讨论",
    "走访联系群众，收集意见建议",
)
TALK_TOPICS = (
    "了解思想、工作和生活情况",
    "交流对党支部工作的意见建议",
    "组织生活会前谈心谈话，相互提醒",
    "了解家庭困难，听取诉求",
)
MINUTES_ENDINGS = (
    "与会党员结合实际交流发言。",
    "会议对下一步工作作了安排。",
    "与会同志一致表示要学以致用、抓好落实。",
    "会议提出了具体要求。",
)
LEAVE_REASONS = ("出差", "因病住院", "照顾家人", "单位值班", "外出学习培训", "身体原因")
LEAVE_REASONS_BY_SECTOR = {
    Sector.VILLAGE: ("外出务工", "农忙", "身体原因"),
    Sector.COMMUNITY: ("年老体弱行动不便", "照顾家人", "外出探亲"),
}
FLOATING_REASON = "外出流动，在流入地参加组织生活"
AWAY_REASONS = ("长期外出，联系不上", "本人未说明原因", "长期在外地照顾家人")
SELF_SUMMARIES = (
    "能够认真学习党的理论，按时参加组织生活，按时足额交纳党费。",
    "立足岗位做好本职工作，发挥了党员先锋模范作用。",
    "政治理论学习还不够系统，今后要加强学习。",
    "积极参加志愿服务，密切联系群众。",
)
MUTUAL_COMMENTS = (
    "工作认真负责，群众评价好。",
    "理论学习有待进一步加强。",
    "能够团结同志，起到了带头作用。",
    "参加组织生活不够积极，希望改进。",
)


# --------------------------------------------------------------------------------------------
# What the generator works from
# --------------------------------------------------------------------------------------------


@dataclass(eq=False)
class Person:
    """A member as the generator sees it."""

    id: int
    name: str
    standing: str
    joined_on: date
    user_linked: bool = False
    absent_since: date | None = None  # stops coming from this day


@dataclass(eq=False)
class Group:
    id: int
    name: str
    founded_on: date | None
    leader: str = ""
    people: list[Person] = field(default_factory=list)  # on the roster, by joined_on
    joined: list[date] = field(default_factory=list)


@dataclass(eq=False)
class Branch:
    id: int
    path: str
    name: str
    sector: str
    founded_on: date | None
    # A branch dissolved in the period: its members have moved on to other rosters, so its
    # meetings up to the dissolution keep only their counts (of ``former_size`` members).
    dissolved_on: date | None = None
    former_size: int = 0
    people: list[Person] = field(default_factory=list)  # on the roster, by joined_on
    joined: list[date] = field(default_factory=list)
    everyone: list[Person] = field(default_factory=list)  # every member, by id
    seats: list[tuple[str, str]] = field(default_factory=list)  # (post, name), current
    groups: list[Group] = field(default_factory=list)
    has_committee: bool = False
    host: Person | None = None
    recorder: Person | None = None
    short: frozenset[str] = frozenset()
    short_years: dict[str, int] = field(default_factory=dict)
    exemplary: bool = False
    venue: str = ""
    named: dict[str, Person] = field(default_factory=dict)  # first roster member of a name

    def by_name(self, name: str) -> Person | None:
        return self.named.get(name)


@dataclass
class HistorySummary:
    meetings: int = 0
    planned: int = 0
    attendance: int = 0
    appraisals: int = 0
    grouped_members: int = 0
    branches: int = 0
    short_branches: int = 0
    warned_members: int = 0
    flagged_members: int = 0


def clear_orglife_data() -> None:
    """Delete every record of organizational life (meetings and what hangs on them, the
    requirement settings), with their uploaded files. A bulk delete: one statement a table."""
    with transaction.atomic():
        for attachment in Attachment.objects.exclude(file=""):
            attachment.file.delete(save=False)
        for model in (Attendance, AppraisalResult, Attachment, RequirementSetting):
            model.objects.all().delete()  # nothing hangs on these: a single DELETE
        # Meetings have children (now none); Django's delete would first load every meeting.
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(Meeting._meta.db_table)}")


MEETING_FIELDS = (
    "organization",
    "kind",
    "status",
    "date",
    "place",
    "topic",
    "host",
    "recorder",
    "counterpart",
    "minutes",
    "resolutions",
    "appraisal_stage",
    "expected_count",
    "present_count",
)
ATTENDANCE_FIELDS = (
    "meeting",
    "member",
    "name",
    "presence",
    "leave_approved",
    "reason",
    "meeting_date",
)
APPRAISAL_FIELDS = (
    "meeting",
    "member",
    "self_summary",
    "mutual_comments",
    "votes_excellent",
    "votes_qualified",
    "votes_basic",
    "votes_unqualified",
    "grade",
)


def insert_rows(model, names: tuple[str, ...], rows: list[tuple], returning: bool = False):
    """Insert plain value tuples (in the order of the fields ``names``; the model's other
    columns get their defaults); with ``returning``, return the new primary keys in the order
    of ``rows``.

    ``bulk_create`` would do the same, but it prepares every value of every model instance
    through the field API: measured at ~65 µs a row, about 400 s for the city's ~6 million
    attendance rows. Here PostgreSQL gets the rows by COPY (keys drawn from the sequence
    first), other databases by multi-row INSERT statements: a few µs a row.
    """
    if not rows:
        return []
    meta = model._meta
    fields = [meta.get_field(name) for name in names]
    others = [f for f in meta.concrete_fields if not f.primary_key and f not in fields]
    now = timezone.now()
    defaults = tuple(
        now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        else f.get_default()
        for f in others
    )  # fmt: skip
    ops = connection.ops
    table = ops.quote_name(meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and hasattr(cursor.cursor, "copy"):  # psycopg 3
            return _copy_rows(cursor, meta, fields + others, rows, defaults, returning)
        if returning and not connection.features.can_return_rows_from_bulk_insert:
            raise NotSupportedError("the demo history needs INSERT … RETURNING (SQLite 3.35+)")

        def adapter(f):
            if isinstance(f, DateTimeField):
                return ops.adapt_datetimefield_value
            return ops.adapt_datefield_value if isinstance(f, DateField) else None

        adapters = [(i, adapter(f)) for i, f in enumerate(fields) if adapter(f) is not None]
        # The defaults are the same for every row: adapted once (timestamps cost ~3 µs each).
        defaults = tuple(
            adapter(f)(value) if value is not None and adapter(f) is not None else value
            for f, value in zip(others, defaults, strict=True)
        )
        columns = ", ".join(ops.quote_name(f.column) for f in fields + others)
        placeholder = "(" + ", ".join(["%s"] * (len(fields) + len(others))) + ")"
        size = max(1, min(BATCH_SIZE, ops.bulk_batch_size(fields + others, rows)))
        ids, memo = [], {}
        for offset in range(0, len(rows), size):
            chunk = rows[offset : offset + size]
            params = []
            for row in chunk:
                row = [*row, *defaults]
                for index, adapt in adapters:
                    value = row[index]
                    if value is not None:
                        adapted = memo.get(value)
                        if adapted is None:  # the same few days recur on many rows
                            adapted = memo[value] = adapt(value)
                        row[index] = adapted
                params.extend(row)
            sql = f"INSERT INTO {table} ({columns}) VALUES {', '.join([placeholder] * len(chunk))}"
            if returning:
                # Keys are drawn in the order of the VALUES rows, but RETURNING may list them
                # in any order: sorted, they line up with the rows.
                cursor.execute(f"{sql} RETURNING {ops.quote_name(meta.pk.column)}", params)
                ids.extend(sorted(pk for (pk,) in cursor.fetchall()))
            else:
                cursor.execute(sql, params)
        return ids


def _copy_rows(cursor, meta, fields, rows, defaults, returning) -> list[int]:
    """PostgreSQL: COPY the rows in; with ``returning``, draw their keys from the sequence."""
    ops = connection.ops
    columns = [ops.quote_name(f.column) for f in fields]
    ids = []
    if returning:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(rows)],
        )
        ids = sorted(pk for (pk,) in cursor.fetchall())
        columns.insert(0, ops.quote_name(meta.pk.column))
    sql = f"COPY {ops.quote_name(meta.db_table)} ({', '.join(columns)}) FROM STDIN"
    with cursor.copy(sql) as copy:
        if returning:
            for pk, row in zip(ids, rows, strict=True):
                copy.write_row((pk, *row, *defaults))
        else:
            for row in rows:
                copy.write_row((*row, *defaults))
    return ids


# --------------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------------


class MeetingGenerator:
    def __init__(self, seed: int, today: date, scale: str = "demo"):
        if scale not in SCALES:
            raise ValueError(f"unknown scale {scale!r}; choose from {', '.join(SCALES)}")
        self.rng = random.Random(f"orglife-{seed}")
        self.today = today
        self.scale = SCALES[scale]
        self.start = month_start(today.year, today.month - HISTORY_MONTHS)
        self.rows_from = month_start(today.year, today.month - self.scale.attendance_months)
        self.summary = HistorySummary()
        # Meetings waiting to be written, with their attendance and appraisal rows.
        self._meetings: list[tuple] = []
        self._rows: list[list[tuple]] = []
        self._results: list[list[tuple]] = []
        self._pending = 0

    # -- small helpers -------------------------------------------------------------------

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def day(self, branch: Branch, year: int, month: int, day: int) -> date:
        """``day`` of the month (clamped), moved off the weekend for units that work weekdays."""
        first = date(year, month, 1)
        last = month_start(year, month + 1) - timedelta(days=1)
        if month == 10 and day <= 7:
            day += 7  # the National Day holiday
        result = first + timedelta(days=min(day, last.day) - 1)
        if branch.sector in WEEKDAY_SECTORS and result.weekday() >= 5:
            friday = result - timedelta(days=result.weekday() - 4)
            result = friday if friday >= first else result + timedelta(days=7 - result.weekday())
        return result

    def months(self) -> Iterable[tuple[int, int]]:
        year, month = self.start.year, self.start.month
        while (year, month) <= (self.today.year, self.today.month):
            yield year, month
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)

    def years(self) -> range:
        return range(self.start.year, self.today.year + 1)

    def status_for(self, on: date) -> str | None:
        """HELD for a past day, PLANNED later this month, None (not recorded) otherwise."""
        if on <= self.today:
            return HELD
        if (on.year, on.month) == (self.today.year, self.today.month):
            return PLANNED
        return None

    # -- loading -------------------------------------------------------------------------

    def load(self, organizations, exemplary: Iterable[int]) -> list[Branch]:
        exemplary = set(exemplary)
        branches: dict[int, Branch] = {}
        by_path: dict[str, Branch] = {}
        rows = (
            organizations.filter(org_type__in=BRANCH_TYPES)
            .filter(Q(dissolved_on__isnull=True) | Q(dissolved_on__gt=self.start))
            .order_by("path")
            .values_list("id", "path", "name", "sector", "founded_on", "dissolved_on")
        )
        for pk, path, name, sector, founded_on, dissolved_on in rows:
            branch = Branch(
                pk, path, name, sector, founded_on, dissolved_on, exemplary=pk in exemplary
            )
            branches[pk] = by_path[path] = branch
        steplen = Organization.steplen
        groups: dict[int, Group] = {}
        rows = (
            organizations.active()
            .filter(org_type=OrgType.GROUP)
            .order_by("path")
            .values_list("id", "path", "name", "founded_on")
        )
        for pk, path, name, founded_on in rows:
            parent = by_path.get(path[:-steplen])
            if parent is not None:
                group = groups[pk] = Group(pk, name, founded_on)
                parent.groups.append(group)
        # The current seats; a dissolved branch's seats ended with it.
        seats = (
            CommitteeMember.objects.filter(organization_id__in=list(branches) + list(groups))
            .filter(Q(ended_on__isnull=True) | Q(organization__dissolved_on__isnull=False))
            .order_by("organization_id", "post_rank", "id")
            .values_list("organization_id", "post", "name")
        )
        for org_id, post, name in seats:
            if org_id in groups:
                groups[org_id].leader = groups[org_id].leader or name
            else:
                branches[org_id].seats.append((post, name))
        members = (
            Member.objects.filter(organization_id__in=list(branches))
            .order_by("id")
            .values_list("id", "organization_id", "name", "standing", "joined_on", "user_id")
        )
        for pk, org_id, name, standing, joined_on, user_id in members:
            branches[org_id].everyone.append(
                Person(pk, name, standing, joined_on, user_linked=user_id is not None)
            )
        for branch in branches.values():
            branch.people = sorted(
                (p for p in branch.everyone if p.standing in (Standing.NORMAL, Standing.FLOATING)),
                key=lambda p: p.joined_on,
            )
            branch.joined = [p.joined_on for p in branch.people]
            for person in branch.people:
                branch.named.setdefault(person.name, person)
            branch.has_committee = any(post in COMMITTEE_POSTS for post, _name in branch.seats)
        return list(branches.values())

    # -- who is where ----------------------------------------------------------------------

    def assign_groups(self, branches: list[Branch]) -> None:
        """Spread each branch's members over its groups, evenly, and record it (one UPDATE a
        group)."""
        for branch in branches:
            if not branch.groups or not branch.everyone:
                continue
            members = list(branch.everyone)
            self.rng.shuffle(members)
            assigned: dict[int, list[int]] = defaultdict(list)
            group_of: dict[int, Group] = {}
            for index, person in enumerate(members):
                group = branch.groups[index % len(branch.groups)]
                assigned[group.id].append(person.id)
                group_of[person.id] = group
            for person in branch.people:
                group = group_of[person.id]
                group.people.append(person)
                group.joined.append(person.joined_on)
            for group_id, ids in assigned.items():
                Member.objects.filter(pk__in=ids).update(party_group_id=group_id)
                self.summary.grouped_members += len(ids)

    def assign_roles(self, branch: Branch) -> None:
        """The host (the secretary, or the longest-standing member) and the recorder."""
        seats = dict(reversed(branch.seats))  # post → first name in rank order
        normal = [p for p in branch.people if p.standing == Standing.NORMAL] or branch.people
        secretary = branch.by_name(seats.get(CommitteePost.SECRETARY, ""))
        branch.host = secretary or (normal[0] if normal else None)
        clerk = branch.by_name(seats.get(CommitteePost.ORGANIZATION, ""))
        others = [p for p in normal if p is not branch.host]
        branch.recorder = clerk or (others[0] if others else branch.host)

    def choose_short(self, branches: list[Branch]) -> None:
        """The branches deliberately short of the rules (by sector, at least three), each with
        one to three deficiencies; every kind of deficiency shows up somewhere."""
        candidates = [b for b in branches if not b.exemplary and b.people]
        short = [b for b in candidates if self.chance(SHORT_SHARE.get(b.sector, 0.12))]
        chosen = {b.id for b in short}
        others = [b for b in candidates if b.id not in chosen]
        short += self.rng.sample(others, min(len(others), max(0, 3 - len(short))))
        years = list(self.years())

        def possible(branch: Branch, deficiency: str) -> bool:
            if deficiency in ("committee_gaps", "no_quorum"):
                return branch.has_committee
            return deficiency != "groups_lapsed" or bool(branch.groups)

        picked: dict[int, list[str]] = {}
        for branch in short:
            options = [d for d in DEFICIENCIES if possible(branch, d)]
            picked[branch.id] = self.rng.sample(options, self.rng.randint(1, 3))
        for deficiency in DEFICIENCIES:
            able = [b for b in short if possible(b, deficiency)]
            if able and not any(deficiency in picked[b.id] for b in able):
                picked[self.rng.choice(able).id].append(deficiency)
        for branch in short:
            branch.short = frozenset(picked[branch.id])
            # From the list, not the set: a set's order changes with PYTHONHASHSEED.
            branch.short_years = {d: self.rng.choice(years) for d in picked[branch.id]}
        self.summary.short_branches = len(short)

    def choose_absent(self, branches: list[Branch]) -> None:
        """A few members stop coming: ~3% four or five months ago (a warning), ~1% more than
        six months ago (the flag). Never a host, recorder, committee member or demo login."""
        eligible = []
        for branch in branches:
            committee = {name for _post, name in branch.seats}
            eligible.extend(
                p
                for p in branch.people
                if p.standing == Standing.NORMAL
                and p.joined_on < self.rows_from  # so they have attended before
                and p is not branch.host
                and p is not branch.recorder
                and p.name not in committee
                and not p.user_linked
            )
        if not eligible:
            return
        flagged_count = max(1, round(FLAG_SHARE * len(eligible)))
        warned_count = max(1, round(WARNING_SHARE * len(eligible)))
        picked = self.rng.sample(eligible, min(len(eligible), flagged_count + warned_count))
        # Their last meeting must fall where attendance rows are written.
        latest = (self.today - self.rows_from).days - 25
        for index, person in enumerate(picked):
            if index < flagged_count:
                person.absent_since = self.today - timedelta(
                    days=self.rng.randint(200, max(201, min(400, latest)))
                )
                self.summary.flagged_members += 1
            else:
                person.absent_since = self.today - timedelta(days=self.rng.randint(110, 145))
                self.summary.warned_members += 1

    # -- one meeting -----------------------------------------------------------------------

    def meeting(
        self,
        branch: Branch,
        org_id: int,
        kind: str,
        on: date,
        topic: str,
        expected: list[tuple[Person | None, str]] | None = None,
        people: list[Person] | None = None,
        joined: list[date] | None = None,
        host: Person | None = None,
        counterpart: Person | None = None,
        quorum: bool | None = None,
        place: str = "",
        resolutions: str = "",
    ) -> None:
        """Record one meeting. The expected attendees are ``expected`` ((person or None, name)
        pairs, e.g. the committee) or the members of ``people`` who had joined by ``on``.
        ``quorum`` True: make sure more than half came; False: make sure they did not."""
        status = self.status_for(on)
        if status is None or on < self.start:
            return
        former = branch.dissolved_on is not None
        if former and on >= branch.dissolved_on:
            return
        host = host or branch.host
        recorder = branch.recorder if kind not in (K.TALK, K.GROUP_MEETING) else None
        rows: list[tuple] = []
        results: list[tuple] = []
        expected_count = present_count = 0
        minutes = ""
        if status == PLANNED:
            self.summary.planned += 1
        else:
            if expected is None:
                expected = [(p, p.name) for p in people[: bisect.bisect_right(joined, on)]]
            if on >= self.rows_from and not former:
                rows = self.attendance(branch, expected, on, quorum, kind)
                expected_count = len(rows)
                present_count = sum(1 for row in rows if row[2] == PRESENT)
                if kind == K.APPRAISAL:
                    results = self.appraisals(rows, present_count)
            else:  # only the counts
                expected_count = len(expected) or (branch.former_size if former else 0)
                present_count = self.head_count(branch, expected_count, quorum, kind)
            minutes = self.minutes(kind, host, topic, expected_count, present_count, counterpart)
        self._meetings.append(
            (
                org_id,
                kind,
                status,
                on,
                place or branch.venue,
                topic[:200],
                host.id if host else None,
                recorder.id if recorder and recorder is not host else None,
                counterpart.id if counterpart else None,
                minutes,
                resolutions,
                AppraisalStage.DONE.value if kind == K.APPRAISAL and status == HELD else "",
                expected_count,
                present_count,
            )
        )
        self._rows.append(rows)
        self._results.append(results)
        self._pending += len(rows) + len(results) + 1
        if self._pending >= 20 * BATCH_SIZE:
            self.flush()

    def minutes(self, kind, host, topic, expected, present, counterpart) -> str:
        who = host.name if host else "党支部书记"
        if kind == K.TALK and counterpart is None:
            return f"{who}开展谈心谈话，{topic.split('：')[-1]}。谈话情况已记录。"
        if kind == K.TALK:
            return (
                f"{who}与{counterpart.name}同志谈心谈话，{topic.split('：')[-1]}。"
                "双方坦诚交流，谈话情况已记录。"
            )
        ending = self.rng.choice(MINUTES_ENDINGS)
        return f"{who}主持。{topic}。应到{expected}人，实到{present}人。{ending}"

    def attendance(self, branch, expected, on, quorum, kind) -> list[tuple]:
        """(member id, name, presence, leave approved, reason, date) of each expected person."""
        rate = PRESENCE_RATE.get(branch.sector, 0.9)
        reasons = LEAVE_REASONS_BY_SECTOR.get(branch.sector, LEAVE_REASONS)
        marks = []
        seen = set()
        for person, name in expected:
            if person is not None and person.id in seen:
                person = None  # two seats with the same name: one matched row
            if person is None:
                marks.append([None, name, *self.presence_of_outsider(rate, reasons)])
            elif kind == K.TALK:
                marks.append([person.id, name, PRESENT, False, ""])
            else:
                seen.add(person.id)
                marks.append([person.id, name, *self.presence(person, on, rate, reasons)])
        if quorum is not None and marks:
            self.fix_quorum(marks, quorum)
        return [(*mark, on) for mark in marks]

    def presence(self, person: Person, on: date, rate: float, reasons: tuple[str, ...]):
        """(presence, leave approved, reason) of one expected member."""
        rng = self.rng
        if person.absent_since is not None:
            if on < person.absent_since:
                return PRESENT, False, ""  # a regular until then
            if rng.random() < 0.5:
                return LEAVE, False, rng.choice(AWAY_REASONS)
            return ABSENT, False, rng.choice(AWAY_REASONS)
        if person.standing == Standing.FLOATING:
            if rng.random() < 0.25:
                return PRESENT, False, ""  # joined online
            return LEAVE, True, FLOATING_REASON
        roll = rng.random()
        if roll < rate:
            return PRESENT, False, ""
        if roll < rate + (1 - rate) * 0.75:
            return LEAVE, rng.random() < 0.9, rng.choice(reasons)
        return ABSENT, False, ""

    def presence_of_outsider(self, rate, reasons):
        """A committee member who is not on this roster (e.g. from a stationed unit)."""
        if self.rng.random() < rate:
            return PRESENT, False, ""
        return LEAVE, True, self.rng.choice(reasons)

    def fix_quorum(self, marks: list[list], quorum: bool) -> None:
        """Mark people present (or away) until more (or not more) than half came."""
        present = [m for m in marks if m[2] == PRESENT]
        away = [m for m in marks if m[2] != PRESENT]
        if quorum:
            while len(present) * 2 <= len(marks) and away:
                mark = away.pop()
                mark[2:] = [PRESENT, False, ""]
                present.append(mark)
        else:
            while len(present) * 2 > len(marks):
                mark = present.pop()
                mark[2:] = [LEAVE, True, self.rng.choice(LEAVE_REASONS)]

    def head_count(self, branch: Branch, expected: int, quorum: bool | None, kind: str) -> int:
        """How many came, for a meeting older than the attendance rows."""
        if kind == K.TALK:
            return expected
        rate = PRESENCE_RATE.get(branch.sector, 0.9)
        present = round(expected * min(1.0, rate + self.rng.uniform(-0.08, 0.05)))
        if quorum is True:
            present = max(present, expected // 2 + 1)
        elif quorum is False:
            present = min(present, expected // 2)
        return max(0, min(expected, present))

    def appraisals(self, rows: list[tuple], voters: int) -> list[tuple]:
        """A result for each member expected at a 民主评议党员 (those who had stopped coming
        are rated 基本合格): (member id, self summary, mutual comments, four vote counts,
        grade)."""
        rng = self.rng
        results = []
        for member_id, _name, presence, _approved, reason, _on in rows:
            if member_id is None:
                continue
            if presence != PRESENT and reason in AWAY_REASONS:
                grade = G.BASIC
            else:
                roll = rng.random()
                grade = G.EXCELLENT if roll < 0.13 else G.BASIC if roll > 0.97 else G.QUALIFIED
            # Most votes for the grade, the rest mostly for the grade next to it.
            top = round(voters * rng.uniform(0.6, 0.9))
            second = round((voters - top) * rng.uniform(0.5, 1.0))
            votes = dict.fromkeys(G, 0)
            near, far = VOTE_NEIGHBOURS[grade]
            votes[grade], votes[near], votes[far] = top, second, voters - top - second
            results.append(
                (
                    member_id,
                    rng.choice(SELF_SUMMARIES),
                    rng.choice(MUTUAL_COMMENTS),
                    votes[G.EXCELLENT],
                    votes[G.QUALIFIED],
                    votes[G.BASIC],
                    votes[G.UNQUALIFIED],
                    grade.value,
                )
            )
        return results

    def flush(self) -> None:
        if not self._meetings:
            return
        ids = insert_rows(Meeting, MEETING_FIELDS, self._meetings, returning=True)
        attendance, results = [], []
        for meeting_id, rows, appraisals in zip(ids, self._rows, self._results, strict=True):
            attendance.extend((meeting_id, *row) for row in rows)
            results.extend((meeting_id, *result) for result in appraisals)
        insert_rows(Attendance, ATTENDANCE_FIELDS, attendance)
        insert_rows(AppraisalResult, APPRAISAL_FIELDS, results)
        self.summary.meetings += len(self._meetings)
        self.summary.attendance += len(attendance)
        self.summary.appraisals += len(results)
        self._meetings, self._rows, self._results = [], [], []
        self._pending = 0

    # -- a branch's three years ----------------------------------------------------------

    def lacks(self, branch: Branch, deficiency: str, year: int | None = None) -> bool:
        """Whether the (short) branch has ``deficiency`` — in ``year``, for yearly ones."""
        if deficiency not in branch.short:
            return False
        return year is None or branch.short_years[deficiency] == year

    def theme_topic(self, branch: Branch, on: date) -> str:
        roll = self.rng.random()
        if roll < 0.45:
            return self.rng.choice(THEME_BY_MONTH[on.month])
        if roll < 0.7:
            return self.rng.choice(THEME_BY_SECTOR.get(branch.sector, THEME_COMMON))
        dated = [topic for since, topic in THEME_DATED if on >= since]
        return self.rng.choice(THEME_COMMON + tuple(dated[-1:]))

    def branch_history(self, branch: Branch) -> None:
        rng = self.rng
        if branch.dissolved_on is not None:
            branch.former_size = rng.randint(4, 12)
        elif not branch.people:
            return
        founded = branch.founded_on or date.min
        people, joined = branch.people, branch.joined
        committee = [(branch.by_name(name), name) for _post, name in branch.seats]
        theme_day = rng.choice((3, 5, 8, 10, 12, 15, 18, 20, 25))
        committee_day = max(1, theme_day - rng.randint(2, 6))
        group_day = rng.randint(3, 27)
        quarterly_lectures = rng.random() < 0.45
        general_month = lecture_month = 0
        for year, month in self.months():
            if (month - 1) % 3 == 0:  # the first month of a quarter: plan the quarter
                general_month = month + rng.randint(0, 2)
                lecture_month = month + rng.randint(0, 2)
            # 主题党日, on the branch's fixed day.
            on = self.day(branch, year, month, theme_day)
            if on >= founded and not (self.lacks(branch, "theme_gaps") and self.chance(0.3)):
                outing = rng.random() < 0.12
                self.meeting(
                    branch,
                    branch.id,
                    K.THEME_DAY,
                    on,
                    self.theme_topic(branch, on),
                    people=people,
                    joined=joined,
                    place=rng.choice(OUTINGS) if outing else "",
                )
            # 支委会, a few days before it (now and then a second one).
            if branch.has_committee:
                on = self.day(branch, year, month, committee_day)
                skip = self.lacks(branch, "committee_gaps") and self.chance(0.3)
                if on >= founded and not skip:
                    quorum = not (self.lacks(branch, "no_quorum") and self.chance(0.3))
                    topics = COMMITTEE_TOPICS + (COMMITTEE_Q4 if month >= 10 else ())
                    self.meeting(
                        branch,
                        branch.id,
                        K.COMMITTEE_MEETING,
                        on,
                        rng.choice(topics),
                        expected=committee,
                        quorum=quorum,
                        resolutions="会议形成一致意见，按分工抓好落实。",
                    )
                if rng.random() < 0.05:
                    on = self.day(branch, year, month, rng.randint(20, 28))
                    if on >= founded:
                        self.meeting(
                            branch,
                            branch.id,
                            K.COMMITTEE_MEETING,
                            on,
                            rng.choice(COMMITTEE_TOPICS),
                            expected=committee,
                            quorum=True,
                        )
            # 支部党员大会, once a quarter (often on the 主题党日).
            if month == general_month:
                on = self.day(branch, year, month, theme_day + rng.choice((0, 0, 1, 7)))
                skip = self.lacks(branch, "general_gaps") and self.chance(0.35)
                if on >= founded and not skip:
                    self.meeting(
                        branch,
                        branch.id,
                        K.GENERAL_MEETING,
                        on,
                        rng.choice(GENERAL_BY_QUARTER[(month - 1) // 3]),
                        people=people,
                        joined=joined,
                        resolutions="经举手表决，与会党员一致同意。",
                    )
            # 党课, each quarter where the locality asks for it.
            if quarterly_lectures and month == lecture_month:
                self.lecture(branch, self.day(branch, year, month, rng.randint(3, 26)))
            # 党小组会, monthly in each group.
            for group in branch.groups:
                self.group_meeting(branch, group, self.day(branch, year, month, group_day))
        for year in self.years():
            self.year_history(branch, year, quarterly_lectures)

    def lecture(self, branch: Branch, on: date) -> None:
        if on < (branch.founded_on or date.min) or self.lacks(branch, "no_lecture", on.year):
            return
        topic = self.rng.choice(LECTURE_TOPICS)
        if branch.sector in LECTURE_BY_SECTOR and self.rng.random() < 0.3:
            topic = LECTURE_BY_SECTOR[branch.sector]
        who = branch.host.name if branch.host else "党支部书记"
        self.meeting(
            branch,
            branch.id,
            K.LECTURE,
            on,
            f"{who}讲专题党课：{topic}",
            people=branch.people,
            joined=branch.joined,
        )

    def group_meeting(self, branch: Branch, group: Group, on: date) -> None:
        if not group.people or on < (group.founded_on or branch.founded_on or date.min):
            return
        if self.lacks(branch, "groups_lapsed") and self.chance(0.4):
            return
        leader = branch.by_name(group.leader)
        host = leader if leader in group.people else group.people[0]
        self.meeting(
            branch,
            group.id,
            K.GROUP_MEETING,
            on,
            self.rng.choice(GROUP_TOPICS),
            people=group.people,
            joined=group.joined,
            host=host,
        )

    def year_history(self, branch: Branch, year: int, quarterly_lectures: bool) -> None:
        rng = self.rng
        founded = branch.founded_on or date.min
        # 组织生活会: mostly in the fourth quarter; a few hold a themed one earlier instead.
        month = rng.choices((6, 9, 10, 11, 12), weights=(4, 4, 12, 35, 45))[0]
        life = self.day(branch, year, month, rng.randint(5, 26))
        if not self.lacks(branch, "no_life_meeting", year) and life >= founded:
            topic = f"{year}年度组织生活会" if month >= 10 else f"{year}年专题组织生活会"
            self.meeting(
                branch,
                branch.id,
                K.LIFE_MEETING,
                life,
                topic + "：对照检查，开展批评和自我批评",
                people=branch.people,
                joined=branch.joined,
            )
        # 民主评议党员, right after it.
        appraisal = min(life + timedelta(days=rng.randint(0, 3)), date(year, 12, 31))
        if not self.lacks(branch, "no_appraisal", year) and appraisal >= founded:
            self.meeting(
                branch,
                branch.id,
                K.APPRAISAL,
                appraisal,
                f"{year}年度民主评议党员",
                people=branch.people,
                joined=branch.joined,
                resolutions="根据民主测评结果，确定评议等次并报上级党组织。",
            )
        # 谈心谈话: most in the weeks before the 组织生活会, a couple during the year.
        has_someone = branch.host is not None or branch.dissolved_on is not None
        if has_someone and not self.lacks(branch, "no_talks", year):
            talks = max(2, min(10, len(branch.people) // 5 + 2))
            for number in range(talks):
                if number < 2:
                    on = date(year, 1, 1) + timedelta(days=rng.randint(20, 300))
                else:
                    on = life - timedelta(days=rng.randint(1, 40))
                self.talk(branch, on)
        # 党课 once a year (those holding one each quarter did so above).
        if not quarterly_lectures:
            month = rng.choices(range(1, 13), weights=(2, 2, 4, 6, 6, 10, 12, 4, 4, 4, 5, 3))[0]
            self.lecture(branch, self.day(branch, year, month, rng.randint(3, 26)))

    def talk(self, branch: Branch, on: date) -> None:
        if on < (branch.founded_on or date.min) or on < self.start or on > self.today:
            return
        if branch.dissolved_on is not None:  # who talked is no longer on record here
            topic = f"谈心谈话：{self.rng.choice(TALK_TOPICS)}"
            self.meeting(branch, branch.id, K.TALK, on, topic, expected=[(None, "")] * 2)
            return
        host = branch.host
        count = bisect.bisect_right(branch.joined, on)
        others = [
            p
            for p in branch.people[:count]
            if p is not host and (p.absent_since is None or p.absent_since > on)
        ]
        if not others:
            return
        counterpart = self.rng.choice(others)
        self.meeting(
            branch,
            branch.id,
            K.TALK,
            on,
            f"与{counterpart.name}同志谈心谈话：{self.rng.choice(TALK_TOPICS)}",
            expected=[(host, host.name), (counterpart, counterpart.name)],
            host=host,
            counterpart=counterpart,
        )

    # -- putting it together -------------------------------------------------------------

    @transaction.atomic
    def run(self, organizations, exemplary: Iterable[int] = ()) -> HistorySummary:
        """Write the history of every active branch and group in ``organizations``.

        ``exemplary``: ids of branches kept free of deliberate gaps (the demo logins' one).
        """
        branches = self.load(organizations, exemplary)
        self.summary.branches = len(branches)
        self.assign_groups(branches)
        for branch in branches:
            self.assign_roles(branch)
            branch.venue = self.rng.choice(PLACES.get(branch.sector, PLACES[Sector.OTHER]))
        self.choose_short(branches)
        self.choose_absent(branches)
        for branch in branches:
            self.branch_history(branch)
        self.flush()
        self.update_last_participated(organizations)
        return self.summary

    @staticmethod
    def update_last_participated(organizations) -> int:
        """``Member.last_participated_on`` from the attendance, for all members: one UPDATE."""
        return update_participation(Member.objects.filter(organization__in=organizations))
