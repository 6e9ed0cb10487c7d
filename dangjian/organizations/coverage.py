"""Coverage of new organizations (两个覆盖): rates per area and category against targets.

One aggregate query for a whole subtree, grouped by the child of the viewed organization each
register entry's area lies under.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q
from django.db.models.functions import Substr

from dangjian.rules.registry import RuleBook

from .models import (
    ORGANIZATION_COVERAGE,
    WORK_COVERAGE,
    Coverage,
    NewOrganization,
    NewOrgCategory,
    Organization,
)
from .querysets import path_range_q
from .rules import COVERAGE_TARGETS


def percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class CoverageCell:
    total: int = 0
    organization_covered: int = 0  # 单独组建 + 联合组建
    work_covered: int = 0  # 党建指导员 + 群团组织先建
    uncovered: int = 0
    target: Decimal | None = None

    @property
    def covered(self) -> int:
        return self.organization_covered + self.work_covered

    @property
    def rate(self) -> Decimal | None:
        return percent(self.covered, self.total)

    @property
    def organization_rate(self) -> Decimal | None:
        return percent(self.organization_covered, self.total)

    @property
    def meets_target(self) -> bool | None:
        """The targets are for 党组织覆盖率: organizations formed (单独或联合组建)."""
        if self.organization_rate is None or self.target is None:
            return None
        return self.organization_rate >= self.target

    def add(self, other: CoverageCell) -> None:
        self.total += other.total
        self.organization_covered += other.organization_covered
        self.work_covered += other.work_covered
        self.uncovered += other.uncovered


@dataclass
class CoverageRow:
    area: Organization | None  # None: entries registered on the viewed organization itself
    label: str
    cells: dict[str, CoverageCell] = field(default_factory=dict)


def coverage_table(parent: Organization, rules: RuleBook) -> tuple[list[CoverageRow], CoverageRow]:
    """Rows per child area of ``parent`` (plus ``parent`` itself), and the total row."""
    prefix_length = (parent.depth + 1) * Organization.steplen
    rows = (
        NewOrganization.objects.filter(path_range_q(parent.path, "area__path"))
        .annotate(area_prefix=Substr("area__path", 1, prefix_length))
        .values("area_prefix", "category")
        .annotate(
            total=Count("id"),
            organization_covered=Count("id", filter=Q(coverage__in=ORGANIZATION_COVERAGE)),
            work_covered=Count("id", filter=Q(coverage__in=WORK_COVERAGE)),
            uncovered=Count("id", filter=Q(coverage=Coverage.UNCOVERED)),
        )
        .order_by("area_prefix", "category")
    )
    targets = {category: rules[rule.key] for category, rule in COVERAGE_TARGETS.items()}
    areas = {
        org.path: org
        for org in Organization.objects.filter(path__in={row["area_prefix"] for row in rows}).only(
            "id", "name", "path", "depth", "numchild"
        )
    }
    by_area: dict[str, CoverageRow] = {}
    total = CoverageRow(area=None, label="合计")
    for category in NewOrgCategory.values:
        total.cells[category] = CoverageCell(target=targets[category])
    for row in rows:
        area = areas.get(row["area_prefix"])
        if row["area_prefix"] == parent.path:
            area = parent
        key = row["area_prefix"]
        if key not in by_area:
            by_area[key] = CoverageRow(
                area=area,
                label=area.name if area else key,
                cells={c: CoverageCell(target=targets[c]) for c in NewOrgCategory.values},
            )
        cell = CoverageCell(
            total=row["total"],
            organization_covered=row["organization_covered"],
            work_covered=row["work_covered"],
            uncovered=row["uncovered"],
        )
        by_area[key].cells[row["category"]].add(cell)
        total.cells[row["category"]].add(cell)
    return list(by_area.values()), total
