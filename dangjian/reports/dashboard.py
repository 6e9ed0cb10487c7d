"""The dashboard's panels: ECharts options built from the statistics tables, so a chart
shows the page's figures, and every bar or slice carries the URL of the list behind it.

A panel is one request (the dashboard loads its panels side by side with htmx), so a
committee's city-wide dashboard costs what its slowest panel costs, not the sum.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dangjian.organizations.models import Organization

from . import activity
from .members import member_tables
from .organizations import organization_tables
from .periods import Period
from .tables import Table, display

PALETTE = ["#c8102e", "#e6a23c", "#409eff", "#67c23a", "#909399", "#9b59b6", "#1abc9c", "#f56c6c"]


@dataclass
class Chart:
    key: str
    title: str
    option: dict
    more_url: str  # the statistics table behind the chart

    @property
    def data_id(self) -> str:
        return f"chart-{self.key}-data"


@dataclass
class Kpi:
    label: str
    value: str
    url: str | None = None


@dataclass
class Panel:
    key: str
    title: str
    charts: list[Chart] = field(default_factory=list)
    kpis: list[Kpi] = field(default_factory=list)


def _point(value, url):
    return {"value": float(value) if value is not None else None, "url": url}


def pie(table: Table, keys: list[str] | None = None) -> dict:
    columns = _columns(table, keys)
    data = []
    for column in columns:
        value = table.total.get(column.key)
        if not value:
            continue
        url = table.url(table.total, column)
        data.append({"name": column.label, "value": value, "url": url})
    return {
        "color": PALETTE,
        "tooltip": {"trigger": "item", "formatter": "{b}：{c}（{d}%）"},
        "legend": {"bottom": 0, "type": "scroll"},
        "series": [{"type": "pie", "radius": ["35%", "65%"], "data": data}],
    }


def _columns(table: Table, keys: list[str] | None):
    if keys is None:
        return [c for c in table.columns if c.key not in (table.base, "total")]
    by_key = {c.key: c for c in table.columns}
    return [by_key[k] for k in keys]


def columns_bar(table: Table, keys: list[str] | None = None, horizontal=False) -> dict:
    """One bar per column of the total row (``keys``: which, in this order)."""
    columns = _columns(table, keys)
    labels = [c.label for c in columns]
    data = [_point(table.total.get(c.key), table.url(table.total, c)) for c in columns]
    if horizontal:
        # long names (the flags) would squeeze the plot to nothing on a phone: cut them
        label = {"interval": 0, "width": 110, "overflow": "truncate"}
        category = {"type": "category", "data": labels, "axisLabel": label, "inverse": True}
    else:
        label = {"interval": 0, "rotate": 35, "width": 90, "overflow": "truncate"}
        category = {"type": "category", "data": labels, "axisLabel": label}
    value = {"type": "value"}
    return {
        "color": PALETTE,
        "tooltip": {"trigger": "axis"},
        "grid": {"left": "3%", "right": "4%", "bottom": "3%", "containLabel": True},
        "xAxis": value if horizontal else category,
        "yAxis": category if horizontal else value,
        "series": [{"type": "bar", "data": data}],
    }


def children_bar(table: Table, key: str, share: bool = False, limit: int = 30) -> dict:
    """One bar per child organization: the column's value (or its share of the base)."""
    column = next(c for c in table.columns if c.key == key)
    rows = [r for r in table.rows if r.values][:limit]
    labels = [r.label for r in rows]
    data = [
        _point(table.share(r, column) if share else r.get(key), table.url(r, column)) for r in rows
    ]
    return {
        "color": PALETTE,
        "tooltip": {"trigger": "axis"},
        "grid": {"left": "3%", "right": "4%", "bottom": "3%", "containLabel": True},
        "xAxis": {"type": "value", "max": 100} if share else {"type": "value"},
        "yAxis": {
            "type": "category",
            "data": labels,
            "inverse": True,
            "axisLabel": {"width": 110, "overflow": "truncate"},
        },
        "series": [{"type": "bar", "data": data, "name": column.label}],
    }


def figure(table: Table, name: str):
    return table.figures()[f"{table.key}.{name}"]


def statistics_url(organization: Organization, section: str, period: Period | None = None):
    params = {"section": section, **(period.as_query() if period else {})}
    return reverse("reports:statistics", args=[organization.pk]) + "?" + urlencode(params)


def members_panel(org: Organization, period: Period, today: date) -> Panel:
    tables = {t.key: t for t in member_tables(org, today)}
    more = statistics_url(org, "members")
    status = tables["status"]
    panel = Panel("members", _("党员队伍"))
    panel.kpis = [
        Kpi(_("党员总数"), display(status.total.get("total")), more),
        Kpi(_("预备党员"), display(status.total.get("probationary")), more),
        Kpi(_("女党员占比"), f"{display(figure(tables['gender'], 'female.pct'))}%", more),
    ]
    panel.charts = [
        Chart("gender", _("性别"), pie(tables["gender"]), more),
        Chart("age", _("年龄"), columns_bar(tables["age"]), more),
        Chart(
            "education",
            _("学历"),
            columns_bar(
                tables["education"],
                keys=[c.key for c in tables["education"].columns if c.key != "college_or_above"],
                horizontal=True,
            ),
            more,
        ),
        Chart("party_age", _("党龄"), columns_bar(tables["party_age"]), more),
        Chart("occupation", _("职业"), pie(tables["occupation"]), more),
        Chart("category", _("管理类别"), pie(tables["category"]), more),
    ]
    return panel


def organizations_panel(org: Organization, period: Period, today: date) -> Panel:
    tables = {t.key: t for t in organization_tables(org, today)}
    more = statistics_url(org, "organizations")
    terms = tables["terms"]
    panel = Panel("organizations", _("组织设置"))
    panel.kpis = [
        Kpi(_("党组织总数"), display(tables["org_types"].total.get("total")), more),
        Kpi(_("任期届满未换届"), display(terms.total.get("term_overdue")), more),
        Kpi(_("未配备书记"), display(terms.total.get("secretary_missing")), more),
    ]
    panel.charts = [
        Chart("org_types", _("党组织类别"), pie(tables["org_types"]), more),
        Chart("sectors", _("所在单位类别"), columns_bar(tables["sectors"], horizontal=True), more),
    ]
    return panel


def life_panel(org: Organization, period: Period, today: date) -> Panel:
    meetings = activity.meeting_table(org, period)
    compliance = activity.compliance_table(org, period, today)
    more = statistics_url(org, "life", period)
    panel = Panel("life", _("组织生活（%(period)s）") % {"period": period.label})
    panel.kpis = [
        Kpi(_("召开会议和活动"), display(meetings.total.get("total")), more),
        Kpi(_("达标率"), f"{display(figure(compliance, 'met.pct'))}%", more),
        Kpi(_("未达标次数"), display(compliance.total.get("missed")), more),
    ]
    panel.charts = [
        Chart("meetings", _("召开次数"), columns_bar(meetings), more),
        Chart(
            "compliance", _("各单位达标率（%）"), children_bar(compliance, "met", share=True), more
        ),
    ]
    return panel


def development_panel(org: Organization, period: Period, today: date) -> Panel:
    table = activity.development_table(org, period)
    more = statistics_url(org, "development", period)
    panel = Panel("development", _("发展党员（%(period)s）") % {"period": period.label})
    panel.kpis = [
        Kpi(_("发展党员"), display(table.total.get("admitted")), more),
        Kpi(_("转正"), display(table.total.get("converted")), more),
        Kpi(_("现有积极分子"), display(table.total.get("open_activist")), more),
    ]
    funnel = [c for c in table.columns if c.key.startswith("open_")]
    panel.charts = [
        Chart(
            "pipeline",
            _("现有培养对象"),
            columns_bar(table, keys=[c.key for c in funnel]),
            more,
        ),
        Chart(
            "development_steps",
            _("统计期内各步骤"),
            columns_bar(
                table, keys=["applied", "activists", "candidates", "admitted", "converted"]
            ),
            more,
        ),
    ]
    return panel


def dues_panel(org: Organization, period: Period, today: date) -> Panel:
    """The last ended month's collection: what a committee follows month by month. The
    period's totals (every payment of the period, millions of rows for a city) are on the
    statistics page the panel links to."""
    month = activity.dues_month_table(org, period.last_month_start(today))
    more = statistics_url(org, "dues", period)
    panel = Panel("dues", _("党费"))
    title, total = str(month.title), month.total
    rate = display(total.get("rate"))
    panel.kpis = [
        Kpi(title + _("：收缴率"), f"{rate}%" if total.get("rate") is not None else rate, more),
        Kpi(title + _("：实交金额（元）"), display(total.get("paid")), more),
        Kpi(title + _("：未交党员"), display(total.get("owing") - total.get("paid_members")), more),
    ]
    panel.charts = [
        Chart(
            "dues_rate",
            str(month.title) + _("：各单位收缴率（%）"),
            children_bar(month, "rate"),
            more,
        ),
    ]
    return panel


def flags_panel(org: Organization, period: Period, today: date) -> Panel:
    table = activity.flag_table(org, today)
    more = statistics_url(org, "flags")
    counted = [c for c in table.columns if c.key != "total" and table.total.get(c.key)]
    counted.sort(key=lambda c: -table.total.get(c.key))
    panel = Panel("flags", _("预警事项"))
    panel.kpis = [Kpi(_("预警事项合计"), display(table.total.get("total")), more)]
    panel.charts = [
        Chart(
            "flags",
            _("各类预警事项"),
            columns_bar(table, keys=[c.key for c in counted[:12]], horizontal=True),
            more,
        )
    ]
    return panel


PANELS: dict[str, tuple[str, Callable[[Organization, Period, date], Panel]]] = {
    "members": (gettext_lazy("党员队伍"), members_panel),
    "organizations": (gettext_lazy("组织设置"), organizations_panel),
    "life": (gettext_lazy("组织生活"), life_panel),
    "development": (gettext_lazy("发展党员"), development_panel),
    "dues": (gettext_lazy("党费"), dues_panel),
    "flags": (gettext_lazy("预警事项"), flags_panel),
}
