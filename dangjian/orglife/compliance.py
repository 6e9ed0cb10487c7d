"""The compliance engine: for a subtree and a year, where each organization stands on each
requirement, period by period — met, still due, or overdue.

Set-based: one query for the organizations the requirements apply to, and one aggregate
query per requirement that counts the qualifying meetings of the whole subtree in each period
(conditional counts grouped by organization). Python only compares those counts with the
minimum, so the work grows with the number of organizations, never with queries.

A period's result is kept as a bit mask (bit *i* = period *i*), so a whole year of one
requirement for one organization is a handful of integers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import reduce
from operator import add

from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThanOrEqual
from django.utils.translation import gettext as _

from dangjian.organizations.models import CommitteeMember, CommitteePost, Organization
from dangjian.organizations.querysets import path_range_q

from .choices import MeetingStatus, Period
from .models import Meeting
from .requirements import Requirement

# Seats that make a branch committee (支部委员会): any 委员 beside the 书记 and 副书记, who
# alone are how a branch under 7 full members is led (支部工作条例 ch.6).
COMMITTEE_POSTS = (
    CommitteePost.ORGANIZATION,
    CommitteePost.PROPAGANDA,
    CommitteePost.DISCIPLINE,
    CommitteePost.YOUTH,
    CommitteePost.WOMEN,
    CommitteePost.MEMBER,
)
FAR_PAST, FAR_FUTURE = date(1900, 1, 1), date(9999, 12, 31)
QUARTERS = ("第一季度", "第二季度", "第三季度", "第四季度")


class Status(StrEnum):
    MET = "met"  # enough qualifying meetings in the period
    DUE = "due"  # the period is running and not yet met
    OVERDUE = "overdue"  # the period ended short
    UPCOMING = "upcoming"  # the period has not begun
    EXEMPT = "exempt"  # the organization did not exist for the whole period


# Short forms for a month cell on a phone (the full word is in the cell's tooltip).
STATUS_SHORT = {
    Status.MET: "完成",
    Status.DUE: "待办",
    Status.OVERDUE: "逾期",
    Status.UPCOMING: "未到",
    Status.EXEMPT: "—",
}
STATUS_LABELS = {
    Status.MET: "已完成",
    Status.DUE: "待完成",
    Status.OVERDUE: "逾期未完成",
    Status.UPCOMING: "未到期",
    Status.EXEMPT: "不适用",
}


def month_start(year: int, month: int) -> date:
    return date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


@dataclass(frozen=True)
class Window:
    """The year (or months of it) looked at, and the day that divides past from future."""

    year: int
    today: date
    first_month: int = 1
    last_month: int = 12

    def slot_start(self, requirement: Requirement, slot: int) -> date:
        return month_start(self.year, requirement.slot_months(slot)[0])

    def slot_end(self, requirement: Requirement, slot: int) -> date:
        """The first day after the slot."""
        return month_start(self.year, requirement.slot_months(slot)[1] + 1)

    def slots(self, requirement: Requirement) -> range:
        """The slots of ``requirement`` that overlap the window."""
        return range(
            requirement.slot_of_month(self.first_month),
            requirement.slot_of_month(self.last_month) + 1,
        )

    def masks(self, requirement: Requirement) -> tuple[int, int, int | None]:
        """(slots in the window, slots already ended, the running slot or None)."""
        window = elapsed = 0
        current = None
        for slot in self.slots(requirement):
            window |= 1 << slot
            if self.slot_end(requirement, slot) <= self.today:
                elapsed |= 1 << slot
            elif self.slot_start(requirement, slot) <= self.today:
                current = slot
        return window, elapsed, current

    def deadline(self, requirement: Requirement, slot: int) -> date:
        """The last day of the slot: what a reminder says the work is due by."""
        end = self.slot_end(requirement, slot)
        return date.fromordinal(end.toordinal() - 1)


def slot_label(requirement: Requirement, slot: int, year: int | None = None) -> str:
    prefix = f"{year}年" if year else ""
    if requirement.period == Period.MONTH:
        return f"{prefix}{slot + 1}月"
    if requirement.period == Period.QUARTER:
        return prefix + QUARTERS[slot]
    return f"{prefix}全年" if prefix else "全年"


@dataclass(slots=True)
class Cell:
    """One organization against one requirement over the window."""

    requirement: Requirement
    met_mask: int  # periods with enough qualifying meetings
    applicable_mask: int  # periods the organization owed (existed throughout, in the window)
    elapsed_mask: int
    current: int | None  # the running period, if it is owed
    counts: tuple[int, ...] = ()  # qualifying meetings per period (bit order)

    @property
    def met(self) -> int:
        return (self.met_mask & self.applicable_mask).bit_count()

    @property
    def overdue(self) -> int:
        return (self.applicable_mask & self.elapsed_mask & ~self.met_mask).bit_count()

    @property
    def due(self) -> int:
        return int(self.current is not None and not self.met_mask >> self.current & 1)

    @property
    def owed(self) -> int:
        """Periods owed so far: the ended ones and the running one."""
        mask = self.elapsed_mask | (1 << self.current if self.current is not None else 0)
        return (self.applicable_mask & mask).bit_count()

    @property
    def applicable(self) -> bool:
        return self.applicable_mask != 0

    def status(self, slot: int) -> Status:
        bit = 1 << slot
        if not self.applicable_mask & bit:
            return Status.EXEMPT
        if self.met_mask & bit:
            return Status.MET
        if self.elapsed_mask & bit:
            return Status.OVERDUE
        if slot == self.current:
            return Status.DUE
        return Status.UPCOMING

    @property
    def overall(self) -> Status:
        if not self.applicable:
            return Status.EXEMPT
        if self.overdue:
            return Status.OVERDUE
        if self.due:
            return Status.DUE
        if self.met:
            return Status.MET
        return Status.UPCOMING

    def overdue_slots(self) -> list[int]:
        mask = self.applicable_mask & self.elapsed_mask & ~self.met_mask
        return [i for i in range(mask.bit_length()) if mask >> i & 1]

    def describe(self, year: int) -> str:
        """The cell's tooltip: the rule, its citation, and what is missing."""
        req = self.requirement
        text = f"{req.rule_text}（{req.citation}）"
        missing = self.overdue_slots()
        if missing:
            text += _("；逾期：") + "、".join(slot_label(req, s) for s in missing)
        if self.due:
            text += _("；本期待完成")
        return text


@dataclass(slots=True)
class OrgRow:
    id: int
    name: str
    path: str
    depth: int
    org_type: str
    cells: dict[str, Cell] = field(default_factory=dict)


@dataclass
class Compliance:
    window: Window
    requirements: list[Requirement]
    rows: list[OrgRow]

    def __iter__(self) -> Iterator[OrgRow]:
        return iter(self.rows)

    def row(self, organization_id: int) -> OrgRow | None:
        for row in self.rows:
            if row.id == organization_id:
                return row
        return None

    def totals(self) -> dict[str, dict[str, int]]:
        """Per requirement: organizations owing it, met/overdue/due period counts, and how
        many organizations have something overdue."""
        totals = _empty_totals(self)
        for row in self.rows:
            _add(totals, row)
        return totals


def _periods_from(requirement: Requirement, window: Window, founded_on: date) -> int:
    """Periods that began on or after the founding day."""
    mask = 0
    for slot in window.slots(requirement):
        if founded_on <= window.slot_start(requirement, slot):
            mask |= 1 << slot
    return mask


def _periods_before(requirement: Requirement, window: Window, dissolved_on: date) -> int:
    """Periods that ended before the organization was dissolved."""
    mask = 0
    for slot in window.slots(requirement):
        if window.slot_end(requirement, slot) <= dissolved_on:
            mask |= 1 << slot
    return mask


def _committee_periods(requirement: Requirement, window: Window, committee: list) -> int:
    """Periods during which the branch had a committee (one 委员 seat overlapping them)."""
    since, until = committee
    if since is None:  # never had a 委员
        return 0
    mask = 0
    for slot in window.slots(requirement):
        if since < window.slot_end(requirement, slot) and until > window.slot_start(
            requirement, slot
        ):
            mask |= 1 << slot
    return mask


def qualifying_meetings(requirement: Requirement, organizations: QuerySet) -> QuerySet:
    """Held meetings of the requirement's kind, by organizations it applies to, that meet
    its conditions (a 支委会 without quorum does not count)."""
    meetings = Meeting.objects.filter(
        kind=requirement.kind,
        status=MeetingStatus.HELD,
        organization__in=organizations.filter(org_type__in=requirement.org_types),
    )
    if requirement.quorum_percent:
        # present / expected > quorum%, in integers: present * 100 > expected * quorum.
        meetings = meetings.alias(present_times_100=F("present_count") * 100).filter(
            present_times_100__gt=F("expected_count") * requirement.quorum_percent
        )
    return meetings


def period_masks(
    requirement: Requirement, organizations: QuerySet, window: Window, with_counts: bool
) -> Iterable[tuple[int, int, tuple[int, ...]]]:
    """(organization id, mask of the periods met, meetings per period if asked) for every
    organization with qualifying meetings in the window — one aggregate query. The database
    compares each period's count with the minimum, so only a number per organization
    travels back unless the counts themselves are wanted (a single branch's year)."""
    slots = window.slots(requirement)
    counts = {
        f"s{slot}": Count(
            "pk",
            filter=Q(
                date__gte=window.slot_start(requirement, slot),
                date__lt=window.slot_end(requirement, slot),
            ),
        )
        for slot in slots
    }
    bits = [
        Case(
            When(GreaterThanOrEqual(counts[f"s{slot}"], requirement.minimum), then=1 << slot),
            default=0,
            output_field=IntegerField(),
        )
        for slot in slots
    ]
    annotations = {"met_mask": reduce(add, bits)}
    if with_counts:
        annotations.update(counts)
    rows = (
        qualifying_meetings(requirement, organizations)
        .filter(
            date__gte=window.slot_start(requirement, slots[0]),
            date__lt=window.slot_end(requirement, slots[-1]),
        )
        .order_by()
        .values("organization_id")
        .annotate(**annotations)
        .values_list("organization_id", *annotations)
    )
    for org_id, mask, *per_period in rows:
        yield org_id, mask, tuple(per_period)


def compute(
    organizations: QuerySet,
    window: Window,
    requirements: Iterable[Requirement],
    with_counts: bool = False,
) -> Compliance:
    """Where every organization in ``organizations`` stands on every enabled requirement.
    ``with_counts`` also keeps the number of qualifying meetings in each period."""
    if not 1 <= window.first_month <= window.last_month <= 12:
        raise ValueError("the window's months must run forward within one year")
    requirements = [r for r in requirements if r.enabled]
    types = {t for r in requirements for t in r.org_types}
    owed_by_type = {t: [r for r in requirements if t in r.org_types] for t in types}
    # Organizations that existed in the window: dissolved ones still owe what fell before.
    orgs = (
        organizations.filter(org_type__in=types)
        .filter(
            Q(dissolved_on__isnull=True)
            | Q(dissolved_on__gt=month_start(window.year, window.first_month))
        )
        .order_by("path")
    )
    fields = ["id", "name", "path", "depth", "org_type", "founded_on", "dissolved_on"]
    if any(r.needs_committee for r in requirements):
        # When the branch had a committee: from its first 委员's start to its last one's end.
        seats = CommitteeMember.objects.filter(
            organization=OuterRef("pk"), post__in=COMMITTEE_POSTS
        ).order_by()
        orgs = orgs.annotate(
            committee_from=Subquery(
                seats.values("organization")
                .annotate(d=Min(Coalesce("started_on", Value(FAR_PAST))))
                .values("d")
            ),
            committee_until=Subquery(
                seats.values("organization")
                .annotate(d=Max(Coalesce("ended_on", Value(FAR_FUTURE))))
                .values("d")
            ),
        )
        fields += ["committee_from", "committee_until"]
    rows: list[OrgRow] = []
    owed_by: dict[str, dict[int, Cell]] = {r.kind: {} for r in requirements}
    masks = {r.kind: window.masks(r) for r in requirements}
    first_start = {r.kind: window.slot_start(r, window.slots(r)[0]) for r in requirements}
    for (
        org_id,
        name,
        path,
        depth,
        org_type,
        founded_on,
        dissolved_on,
        *committee,
    ) in orgs.values_list(*fields):
        row = OrgRow(org_id, name, path, depth, org_type)
        rows.append(row)
        for r in owed_by_type[org_type]:
            in_window, elapsed, current = masks[r.kind]
            applicable = in_window
            if founded_on is not None and founded_on > first_start[r.kind]:
                # Founded during the window: only the periods it saw whole.
                applicable &= _periods_from(r, window, founded_on)
            if dissolved_on is not None:
                applicable &= _periods_before(r, window, dissolved_on)
            if r.needs_committee:
                applicable &= _committee_periods(r, window, committee)
            if not applicable:
                continue
            if current is not None and not applicable >> current & 1:
                current = None
            cell = row.cells[r.kind] = Cell(r, 0, applicable, elapsed, current)
            owed_by[r.kind][org_id] = cell
    for r in requirements:
        owing = owed_by[r.kind]
        if not owing:
            continue
        for org_id, mask, counts in period_masks(r, organizations, window, with_counts):
            cell = owing.get(org_id)
            if cell is not None:
                cell.met_mask = mask
                cell.counts = counts
    return Compliance(window, requirements, rows)


def for_organization(
    organization: Organization,
    window: Window,
    requirements: Iterable[Requirement],
    with_counts: bool = True,
) -> Compliance:
    """One organization's subtree, with the meeting counts (a branch and its groups)."""
    return compute(Organization.objects.within(organization), window, requirements, with_counts)


@dataclass
class RollupRow:
    """A child of the organization looked at, with its whole subtree summed."""

    organization: OrgRow
    is_self: bool
    totals: dict[str, dict[str, int]]
    own: OrgRow | None = None  # the child's own cells, when it owes requirements itself


def rollup(compliance: Compliance, parent: Organization) -> list[RollupRow]:
    """The subtree of ``parent`` summed by its children (the matrix's rows), ``parent`` first
    when it owes requirements itself."""
    prefix_length = len(parent.path) + parent.steplen
    children = {
        path: OrgRow(pk, name, path, depth, org_type)
        for pk, name, path, depth, org_type in Organization.objects.filter(
            path_range_q(parent.path), depth=parent.depth + 1
        ).values_list("id", "name", "path", "depth", "org_type")
    }
    owing_children = {row.path: row for row in compliance.rows if len(row.path) == prefix_length}
    result: dict[str, RollupRow] = {}
    own_row = None
    for row in compliance.rows:
        if row.path == parent.path:
            own_row = row
            continue
        if not row.path.startswith(parent.path):
            continue
        key = row.path[:prefix_length]
        target = result.get(key)
        if target is None:
            child = children.get(key)
            if child is None:
                continue
            target = result[key] = RollupRow(child, False, _empty_totals(compliance))
            target.own = owing_children.get(key)
        _add(target.totals, row)
    rows = sorted(result.values(), key=lambda r: r.organization.path)
    if own_row is not None and own_row.cells:
        own = RollupRow(own_row, True, _empty_totals(compliance), own_row)
        _add(own.totals, own_row)
        rows.insert(0, own)
    return rows


def _empty_totals(compliance: Compliance) -> dict[str, dict[str, int]]:
    return {
        r.kind: {"orgs": 0, "met": 0, "overdue": 0, "due": 0, "owed": 0, "orgs_overdue": 0}
        for r in compliance.requirements
    }


def _add(totals: dict[str, dict[str, int]], row: OrgRow) -> None:
    for kind, cell in row.cells.items():
        t = totals[kind]
        overdue = cell.overdue
        t["orgs"] += 1
        t["met"] += cell.met
        t["due"] += cell.due
        t["owed"] += cell.owed
        t["overdue"] += overdue
        t["orgs_overdue"] += overdue > 0
