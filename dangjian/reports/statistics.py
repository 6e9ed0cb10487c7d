"""The statistics of a subtree, in sections (the tabs of the statistics page), and the named
figures report drafts fill their placeholders with. A draft and the page read the same
tables, so every figure in a draft is the figure on the page for the same scope and period.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from dangjian.organizations.models import Organization

from . import activity
from .members import member_tables
from .organizations import organization_tables
from .periods import Period
from .tables import Table, display


@dataclass(frozen=True)
class Section:
    key: str
    label: str | Promise
    periodic: bool  # whether the figures depend on the period asked for
    build: Callable[[Organization, Period, date], list[Table]]


SECTIONS = [
    Section("members", _("党员队伍"), False, lambda org, period, today: member_tables(org, today)),
    Section(
        "organizations",
        _("组织设置"),
        False,
        lambda org, period, today: [
            *organization_tables(org, today),
            activity.coverage_statistics(org),
        ],
    ),
    Section(
        "life",
        _("组织生活"),
        True,
        lambda org, period, today: [
            activity.meeting_table(org, period),
            activity.compliance_table(org, period, today),
        ],
    ),
    Section(
        "development",
        _("发展党员"),
        True,
        lambda org, period, today: [activity.development_table(org, period)],
    ),
    Section(
        "dues",
        _("党费"),
        True,
        lambda org, period, today: [
            activity.dues_table(org, period),
            activity.dues_month_table(org, period.last_month_start(today)),
        ],
    ),
    Section(
        "flags",
        _("预警事项"),
        False,
        lambda org, period, today: [activity.flag_table(org, today)],
    ),
]
SECTION_BY_KEY = {s.key: s for s in SECTIONS}

# Shorter names for the figures a report uses most; each is also on the page under its own.
ALIASES = {
    "members.total": "gender.total",
    "organizations.total": "org_types.total",
    "compliance.rate": "compliance.met.pct",
}
SCALARS = {
    "organization": _("党组织名称"),
    "period": _("统计期"),
    "year": _("年度"),
    "date": _("成文日期（今天）"),
}


def scalar_figures(organization: Organization, period: Period, today: date) -> dict[str, str]:
    return {
        "organization": organization.name,
        "period": period.label,
        "year": str(period.year),
        "date": f"{today.year}年{today.month}月{today.day}日",
    }


def all_tables(organization: Organization, period: Period, today: date) -> list[Table]:
    return [t for section in SECTIONS for t in section.build(organization, period, today)]


def figures(organization: Organization, period: Period, today: date) -> dict[str, str]:
    """Every named figure of the subtree for the period, written as the page writes it."""
    values: dict[str, str] = scalar_figures(organization, period, today)
    for table in all_tables(organization, period, today):
        for name, value in table.figures().items():
            values[name] = display(value)
    for alias, name in ALIASES.items():
        values[alias] = values[name]
    return values


@lru_cache(maxsize=4)
def catalogue(today: date) -> dict[str, str]:
    """Every figure's name and what it is, for the template editor. The tables are built for
    an organization that does not exist (the last path of the alphabet, which no tree
    reaches), so every query is an empty index range: only the names and labels are wanted.
    The labels hold no figures (the dues month's title aside), so they are kept a day."""
    nowhere = Organization(pk=0, path="ZZZZ", depth=1, name="", org_type="committee")
    labels: dict[str, str] = {k: str(v) for k, v in SCALARS.items()}
    for table in all_tables(nowhere, Period(today.year), today):
        labels.update(table.labels())
    for alias, name in ALIASES.items():
        labels[alias] = labels[name]
    return labels
