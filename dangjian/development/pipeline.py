"""The development pipeline of a subtree: how many people are at each stage, per child
organization (its whole subtree summed), and who is overdue.

One aggregate query groups the open records of the subtree by the child they fall under and
by stage; a second counts this year's admissions and conversions the same way. Overdue people
come from the step flags (one query each), so the pipeline and the reminder list agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, Q
from django.db.models.functions import Substr

from dangjian.core.flags import FLAGS, FlagContext
from dangjian.organizations.models import Organization, OrgType
from dangjian.organizations.services import rulebook_for

from .models import DevelopmentRecord, Outcome
from .steps import Stage

STEP_FLAGS = (
    "development_talk_due",
    "development_assessment_due",
    "development_approval_pending",
    "development_probation_ending",
    "development_conversion_pending",
)
OPEN_STAGES = [Stage.APPLICANT, Stage.ACTIVIST, Stage.CANDIDATE, Stage.PROBATIONARY]


@dataclass
class Row:
    organization: Organization | None  # None: records kept at the organization itself
    by_stage: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OPEN_STAGES, 0))
    admitted_this_year: int = 0
    converted_this_year: int = 0
    overdue: int = 0

    @property
    def total(self) -> int:
        return sum(self.by_stage.values())


@dataclass
class Overdue:
    record: DevelopmentRecord
    label: str
    due_on: date
    citation: str


@dataclass
class Pipeline:
    organization: Organization
    rows: list[Row]
    totals: Row
    overdue: list[Overdue]
    due_soon: list[Overdue]


def _prefix(organization: Organization) -> int:
    return len(organization.path) + Organization.steplen


def pipeline(organization: Organization, today: date) -> Pipeline:
    """The pipeline of ``organization``'s subtree on ``today``."""
    subtree = Organization.objects.within(organization)
    records = DevelopmentRecord.objects.filter(organization__in=subtree).annotate(
        child=Substr("organization__path", 1, _prefix(organization))
    )
    children = {
        child.path: Row(child)
        for child in Organization.objects.filter(
            path__startswith=organization.path, depth=organization.depth + 1
        )
        .exclude(org_type=OrgType.GROUP)
        .order_by("path")
    }
    own = Row(None)

    def row_of(prefix: str) -> Row:
        return children.get(prefix) or own

    open_counts = (
        # (a conversion approved but not yet archived is open at stage FULL: counted as
        # converted this year, not as a stage of the pipeline)
        records.filter(outcome=Outcome.OPEN, stage__in=OPEN_STAGES)
        .values("child", "stage")
        .annotate(n=Count("pk"))
    )
    for item in open_counts:
        row_of(item["child"]).by_stage[item["stage"]] += item["n"]
    year = (date(today.year, 1, 1), date(today.year, 12, 31))
    yearly = records.values("child").annotate(
        admitted=Count("pk", filter=Q(admitted_on__range=year)),
        converted=Count("pk", filter=Q(converted_on__range=year, stage=Stage.FULL)),
    )
    for item in yearly:
        row = row_of(item["child"])
        row.admitted_this_year += item["admitted"]
        row.converted_this_year += item["converted"]

    ctx = FlagContext(organizations=subtree, rules=rulebook_for(organization), today=today)
    overdue, due_soon = [], []
    for key in STEP_FLAGS:
        flag = FLAGS[key]
        for record in flag.queryset(ctx):
            item = Overdue(record, str(flag.label), flag.due_of(record), str(flag.citation))
            if item.due_on < today:
                overdue.append(item)
                row_of(record.organization.path[: _prefix(organization)]).overdue += 1
            else:
                due_soon.append(item)
    overdue.sort(key=lambda o: (o.due_on, o.record.pk))
    due_soon.sort(key=lambda o: (o.due_on, o.record.pk))

    rows = [
        row
        for row in children.values()
        if row.organization.is_active or row.total or row.admitted_this_year or row.overdue
    ]
    if own.total or own.admitted_this_year or own.converted_this_year or own.overdue:
        rows.insert(0, own)
    totals = Row(organization)
    for row in rows:
        for stage, n in row.by_stage.items():
            totals.by_stage[stage] += n
        totals.admitted_this_year += row.admitted_this_year
        totals.converted_this_year += row.converted_this_year
        totals.overdue += row.overdue
    return Pipeline(organization, rows, totals, overdue, due_soon)
