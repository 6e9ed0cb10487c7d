"""What a subtree did in a period, per child organization: meetings held by kind, people
developed, organizational-life compliance, dues collected; plus the coverage of new
organizations and the flags outstanding today. Each table is one or a few aggregate queries
over the subtree (compliance through the compliance engine, dues through the dues
statistics), never a loop over organizations.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Count, F, Q, Sum
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from dangjian.core.flags import all_flags
from dangjian.core.views import flag_context
from dangjian.development.models import DevelopmentRecord, Outcome
from dangjian.development.steps import Stage
from dangjian.dues.models import DuesPayment, SpecialContribution
from dangjian.dues.rates import Cents
from dangjian.dues.services import yuan
from dangjian.dues.statistics import by_child
from dangjian.organizations.coverage import coverage_table
from dangjian.organizations.models import NewOrgCategory, Organization
from dangjian.organizations.services import rulebook_for
from dangjian.orglife.choices import MeetingKind, MeetingStatus
from dangjian.orglife.compliance import Window, compute
from dangjian.orglife.models import Meeting
from dangjian.orglife.requirements import requirements_for_organization

from .periods import Period
from .tables import (
    Column,
    Row,
    Table,
    child_rows,
    grouped_by_child,
    percent,
    prefix_length,
    total_row,
)


def _table(organization, key, title, columns, counts, **kwargs) -> Table:
    return Table(
        key=key,
        title=title,
        columns=columns,
        rows=child_rows(organization, counts),
        total=total_row(organization, counts, columns),
        **kwargs,
    )


# ---- organizational life ------------------------------------------------------------------


def meeting_table(organization: Organization, period: Period) -> Table:
    """Meetings held (recorded as held) in the period, by kind."""
    meetings = Meeting.objects.filter(
        organization__in=Organization.objects.within(organization),
        status=MeetingStatus.HELD,
        date__range=(period.start, period.end),
    )
    counts = grouped_by_child(
        meetings,
        "organization__path",
        organization,
        total=Count("pk"),
        **{kind: Count("pk", filter=Q(kind=kind)) for kind in MeetingKind.values},
    )
    columns = [Column("total", _("合计"), {})] + [
        Column(v, str(label), {"kind": v}) for v, label in MeetingKind.choices
    ]

    def link(org, column, own=False):
        params = {"year": period.year, **(column.filters or {})}
        url = reverse("orglife:meetings", args=[(org or organization).pk])
        return url + "?" + urlencode(params)

    return _table(
        organization,
        "meetings",
        _("组织生活召开次数"),
        columns,
        counts,
        note=_("统计期内记录为“已召开”的会议和活动，按会议日期计。"),
        link=link,
    )


def compliance_table(organization: Organization, period: Period, today: date) -> Table:
    """Organizational-life requirements over the period's ended months: periods owed, met,
    missed, and the compliance rate (met over owed)."""
    window = Window(period.year, today, period.first_month, period.last_month)
    result = compute(
        Organization.objects.within(organization),
        window,
        requirements_for_organization(organization),
    )
    length = prefix_length(organization)
    counts: dict[str, dict] = {}
    for row in result.rows:
        target = counts.setdefault(row.path[:length], {"orgs": 0, "owed": 0, "met": 0, "missed": 0})
        owing = False
        for cell in row.cells.values():
            ended = cell.applicable_mask & cell.elapsed_mask
            owed = ended.bit_count()
            if not owed:
                continue
            owing = True
            missed = cell.overdue
            target["owed"] += owed
            target["met"] += owed - missed
            target["missed"] += missed
        target["orgs"] += owing
    columns = [
        Column("orgs", _("应开展的党组织"), None),
        Column("owed", _("应达标次数"), None),
        Column("met", _("已达标"), None, percent=True),
        Column("missed", _("未达标"), None, percent=True),
    ]

    def link(org, column, own=False):
        url = reverse("orglife:matrix", args=[(org or organization).pk])
        return url + "?" + urlencode({"year": period.year})

    return _table(
        organization,
        "compliance",
        _("组织生活达标情况"),
        columns,
        counts,
        base="owed",
        note=_(
            "按组织生活规则（三会一课等）逐项逐期计算，只计统计期内已经结束的月份、季度和年度；"
            "达标率 = 已达标 ÷ 应达标次数。"
        ),
        link=link,
    )


# ---- development --------------------------------------------------------------------------

OPEN_STAGES = [Stage.APPLICANT, Stage.ACTIVIST, Stage.CANDIDATE, Stage.PROBATIONARY]


def development_table(organization: Organization, period: Period) -> Table:
    """People developed in the period (by the dates of their steps) and the open records now,
    by stage (as the development pipeline counts them)."""
    span = (period.start, period.end)
    records = DevelopmentRecord.objects.filter(
        organization__in=Organization.objects.within(organization)
    )
    counts = grouped_by_child(
        records,
        "organization__path",
        organization,
        applied=Count("pk", filter=Q(applied_on__range=span)),
        activists=Count("pk", filter=Q(activist_on__range=span)),
        candidates=Count("pk", filter=Q(candidate_on__range=span)),
        admitted=Count("pk", filter=Q(admitted_on__range=span)),
        converted=Count("pk", filter=Q(converted_on__range=span, stage=Stage.FULL)),
        **{
            f"open_{stage}": Count("pk", filter=Q(outcome=Outcome.OPEN, stage=stage))
            for stage in OPEN_STAGES
        },
    )
    columns = [
        Column("applied", _("递交入党申请"), None),
        Column("activists", _("确定入党积极分子"), None),
        Column("candidates", _("确定发展对象"), None),
        Column("admitted", _("发展党员（支部大会接收）"), None),
        Column("converted", _("预备党员转正"), None),
    ] + [
        Column(
            f"open_{stage}", _("现有%(stage)s") % {"stage": Stage(stage).label}, {"stage": stage}
        )
        for stage in OPEN_STAGES
    ]

    def link(org, column, own=False):
        url = reverse("development:list", args=[(org or organization).pk])
        if column.filters is None:
            return reverse("development:pipeline", args=[(org or organization).pk])
        params = {"outcome": Outcome.OPEN, **column.filters, **({"own": 1} if own else {})}
        return url + "?" + urlencode(params)

    return _table(
        organization,
        "development",
        _("发展党员"),
        columns,
        counts,
        note=_("统计期内各步骤的日期计数；“现有”各阶段人数为当前在培养的人数。"),
        link=link,
    )


# ---- dues ---------------------------------------------------------------------------------


def dues_table(organization: Organization, period: Period) -> Table:
    """Dues paid for the months of the period, and special contributions received in it."""
    within = Organization.objects.within(organization)
    months = (period.start, period.end)
    paid = grouped_by_child(
        DuesPayment.objects.filter(member__organization__in=within, month__range=months),
        "member__organization__path",
        organization,
        payments=Count("pk"),
        members=Count("member", distinct=True),
        collected=Sum(Cents(F("amount_paid"))),
    )
    special = grouped_by_child(
        SpecialContribution.objects.filter(
            member__organization__in=within, date__range=(period.start, period.end)
        ),
        "member__organization__path",
        organization,
        special=Sum(Cents(F("amount"))),
        special_count=Count("pk"),
    )
    counts: dict[str, dict] = {}
    for source in (paid, special):
        for child, values in source.items():
            counts.setdefault(child, {}).update(values)
    for values in counts.values():
        # Summed in whole fen (SQLite would sum decimals as floating point), shown in yuan.
        for key in ("collected", "special"):
            if key in values:
                values[key] = yuan(values[key])
    columns = [
        Column("members", _("交纳党员人数"), None),
        Column("payments", _("交纳笔数（按月计）"), None),
        Column("collected", _("交纳党费（元）"), None),
        Column("special_count", _("大额党费笔数"), None),
        Column("special", _("大额党费（元）"), None),
    ]

    def link(org, column, own=False):
        return reverse("dues:statistics", args=[(org or organization).pk])

    table = _table(
        organization,
        "dues",
        _("党费交纳"),
        columns,
        counts,
        note=_("按党费所属月份统计；大额党费（一次交纳1000元以上）按交纳日期统计。"),
        link=link,
    )
    return table


def dues_month_table(organization: Organization, month: date) -> Table:
    """One month's collection by child, as the dues statistics page computes it."""
    result = by_child(organization, month)
    columns = [
        Column("owing", _("应交党员"), None),
        Column("paid_members", _("已交党员"), None, percent=True),
        Column("due", _("应交金额（元）"), None),
        Column("paid", _("实交金额（元）"), None),
        Column("rate", _("收缴率（%）"), None),
    ]

    def values(collection):
        return {
            "owing": collection.members_owing,
            "paid_members": collection.members_paid,
            "due": collection.due,
            "paid": collection.paid,
            "rate": percent(collection.paid, collection.due),
        }

    rows = [
        Row(r.organization.name, r.organization, values(r.collection), is_self=r.is_self)
        for r in result.rows
    ]

    def link(org, column, own=False):
        url = reverse("dues:statistics", args=[(org or organization).pk])
        return url + "?" + urlencode({"month": month.strftime("%Y-%m")})

    return Table(
        key="dues_month",
        title=_("%(year)d年%(month)d月党费收缴") % {"year": month.year, "month": month.month},
        columns=columns,
        rows=rows,
        total=Row(organization.name, organization, values(result.total)),
        base="owing",
        link=link,
    )


# ---- coverage of new organizations --------------------------------------------------------


def coverage_statistics(organization: Organization) -> Table:
    """Coverage by area and category against the targets (from the coverage register)."""
    rows, total = coverage_table(organization, rulebook_for(organization))
    columns = []
    for category, label in NewOrgCategory.choices:
        columns += [
            Column(f"{category}_total", _("%(c)s：总数") % {"c": label}, None),
            Column(f"{category}_covered", _("%(c)s：建立党组织") % {"c": label}, None),
            Column(f"{category}_rate", _("%(c)s：党组织覆盖率（%%）") % {"c": label}, None),
            Column(f"{category}_target", _("%(c)s：目标（%%）") % {"c": label}, None),
        ]

    def values(row):
        result = {}
        for category in NewOrgCategory.values:
            cell = row.cells.get(category)
            if cell is None:
                continue
            result[f"{category}_total"] = cell.total
            result[f"{category}_covered"] = cell.organization_covered
            result[f"{category}_rate"] = cell.organization_rate
            result[f"{category}_target"] = cell.target
        return result

    def link(org, column, own=False):
        return (
            reverse("organizations:new_organizations")
            + "?"
            + urlencode({"org": (org or organization).pk})
        )

    return Table(
        key="coverage",
        title=_("两新组织党的组织覆盖"),
        columns=columns,
        rows=[Row(r.label, r.area, values(r), is_self=r.area == organization) for r in rows],
        total=Row(organization.name, organization, values(total)),
        note=_("党组织覆盖率 = 单独组建和联合组建党组织的数量 ÷ 总数；目标按规则设置。"),
        link=link,
    )


# ---- flags --------------------------------------------------------------------------------


def flag_table(organization: Organization, today: date) -> Table:
    """Every flag's hits in the subtree today (the home page's counts)."""
    ctx = flag_context(organization, today)
    flags = all_flags()
    values = {flag.key: flag.count(ctx) for flag in flags}
    values["total"] = sum(values.values())
    columns = [Column("total", _("预警事项合计"), None)] + [
        Column(flag.key, str(flag.label), {"flag": flag.key}) for flag in flags
    ]

    def link(org, column, own=False):
        if column.filters is None:
            return None
        return reverse("core:flag_list", args=[column.filters["flag"], (org or organization).pk])

    return Table(
        key="flags",
        title=_("预警事项"),
        columns=columns,
        rows=[],
        total=Row(organization.name, organization, values),
        note=_("截至今日仍未处理的预警事项数量，与首页一致。"),
        link=link,
        vertical=True,
    )
