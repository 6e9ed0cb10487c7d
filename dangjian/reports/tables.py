"""The shape every statistics table has: columns, a row per child organization of the viewed
one (its whole subtree summed), a row for the organization's own records when it has any,
and the total. Pages, Excel exports, charts and report drafts all read these, so a figure is
computed once and shown the same everywhere.

Figures are named ``<table>.<column>`` (the total row's value) and ``<table>.<column>.pct``
(its share of the table's base column), which is what report templates use as placeholders.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models.functions import Substr

from dangjian.organizations.models import Organization
from dangjian.organizations.querysets import path_range_q


def percent(part, whole) -> Decimal | None:
    """Share in percent to one decimal place (None when the whole is 0)."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def display(value) -> str:
    """How a figure is written, on pages, in Excel headers' notes and in report drafts alike:
    whole numbers as they are, money and percentages with their decimals, nothing as "—"."""
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        return f"{value:f}"
    return str(value)


@dataclass(frozen=True)
class Cell:
    label: str
    value: object
    has_share: bool  # a share column follows
    share: Decimal | None
    url: str | None
    figure: str | None  # the figure's name, on the total row


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    # roster (or other list) filters behind the column's counts, for drill-down links
    filters: dict | None = None
    percent: bool = False  # show the share of the table's base next to the count


@dataclass
class Row:
    label: str
    organization: Organization | None
    values: dict = field(default_factory=dict)
    is_self: bool = False  # the viewed organization's own records, not a child's subtree

    def get(self, key):
        return self.values.get(key, 0)


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[Row]
    total: Row
    base: str | None = None  # the column percentages are of
    note: str = ""
    vertical: bool = False  # one row only: shown as a list of its columns
    hide_zero: bool = False  # a vertical table leaves out its zero columns
    # the list behind a cell: (row's organization, column, own records only) → URL
    link: Callable[[Organization | None, Column, bool], str | None] | None = None

    def share(self, row: Row, column: Column) -> Decimal | None:
        if self.base is None:
            return None
        return percent(row.get(column.key), row.get(self.base))

    def shows_share(self, column: Column) -> bool:
        """Whether ``column``'s share of the base is shown (and named ``….pct``)."""
        return column.percent and self.base is not None

    def url(self, row: Row, column: Column) -> str | None:
        """The list behind ``row``'s count in ``column``."""
        return self.link(row.organization, column, row.is_self) if self.link else None

    def cells(self, row: Row, is_total: bool = False) -> list[Cell]:
        result = []
        for column in self.columns:
            url = self.url(row, column)
            has_share = self.shows_share(column)
            share = self.share(row, column) if has_share else None
            figure = f"{self.key}.{column.key}" if is_total else None
            result.append(Cell(column.label, row.get(column.key), has_share, share, url, figure))
        return result

    def grid(self) -> list[tuple[Row, list[Cell]]]:
        return [(row, self.cells(row)) for row in self.rows]

    def total_cells(self) -> list[Cell]:
        return self.cells(self.total, is_total=True)

    @property
    def has_shares(self) -> bool:
        return any(self.shows_share(c) for c in self.columns)

    def figures(self) -> dict[str, object]:
        """The total row as named figures (see the module docstring)."""
        result = {}
        for column in self.columns:
            name = f"{self.key}.{column.key}"
            result[name] = self.total.get(column.key)
            if self.shows_share(column):
                result[f"{name}.pct"] = self.share(self.total, column)
        return result

    def labels(self) -> dict[str, str]:
        result = {}
        for column in self.columns:
            name = f"{self.key}.{column.key}"
            result[name] = f"{self.title}：{column.label}"
            if self.shows_share(column):
                result[f"{name}.pct"] = f"{self.title}：{column.label}占比（%）"
        return result


def child_rows(organization: Organization, counts: dict[str, dict], include_groups=False):
    """Rows for ``organization``'s own records and each active child (or a dissolved one with
    counts), from ``counts`` keyed by the path prefix the records fall under."""
    children = Organization.objects.filter(
        path_range_q(organization.path), depth=organization.depth + 1
    ).order_by("path")
    if not include_groups:
        children = children.exclude(org_type="group")
    rows = []
    own = counts.get(organization.path)
    if own and any(own.values()):
        rows.append(Row(organization.name, organization, dict(own), is_self=True))
    for child in children:
        values = counts.get(child.path, {})
        if child.dissolved_on is not None and not any(values.values()):
            continue
        rows.append(Row(child.name, child, dict(values)))
    return rows


def total_row(organization: Organization, counts: dict[str, dict], columns) -> Row:
    values = {}
    for column in columns:
        values[column.key] = sum((c.get(column.key) or 0) for c in counts.values())
    return Row(organization.name, organization, values)


def prefix_length(organization: Organization) -> int:
    return len(organization.path) + Organization.steplen


def grouped_by_child(queryset, path_field: str, organization: Organization, **aggregates):
    """``aggregates`` of ``queryset`` grouped by the child of ``organization`` each row's
    organization lies under (``path_field`` is that organization's path): {path prefix:
    {name: value}}. One aggregate query; the organization's own rows come under its path."""
    rows = (
        queryset.annotate(child=Substr(path_field, 1, prefix_length(organization)))
        .values("child")
        .annotate(**aggregates)
        .order_by()
    )
    return {row.pop("child"): row for row in rows}


def split_tables(grouped: dict[str, dict]) -> dict[str, dict[str, dict]]:
    """Aggregates named ``<table>__<column>`` (plus one ``total``) as the counts of each
    table: {table: {path prefix: {column: value, "total": total}}}."""
    tables: dict[str, dict[str, dict]] = {}
    for child, values in grouped.items():
        total = values["total"]
        for name, n in values.items():
            if name == "total":
                continue
            table, column = name.split("__", 1)
            tables.setdefault(table, {}).setdefault(child, {"total": total})[column] = n
    return tables
