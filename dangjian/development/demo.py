"""Demo member development: people at every stage of the 25 steps, bulk-inserted.

Deterministic for a seed and a "today". What it writes, for the developing branches (党支部
and 联合党支部 with at least three full members):

* the roster's recent members get the record that brought them in: probationary members
  (joined within the year) are at steps 17–22, members whose probation ended in the last
  year are converted (all 25 steps) — or, if it ended within the last weeks, waiting for the
  higher committee's approval of the conversion (the roster then says probationary);
* in about two branches in five, new people are on the way: applicants, activists, candidates
  and some admitted by the branch meeting and waiting for approval; a few activists have not
  been assessed for over half a year, a few applicants still wait for their talk past the
  month, a few records were stopped;
* dates follow the rules (talk within a month, a year as activist, assessments every half
  year, a notice of 7 calendar days — 5 working days whatever the weekday —, approval within
  3 months, a year's probation, conversion approved within 3 months), so the pages and the
  reminder list show only the lateness put in on purpose.

The rows are plain tuples written with :func:`dangjian.orglife.demo.insert_rows` (multi-row
INSERT, COPY on PostgreSQL): the city has ~35,000 records and ~1.3 million steps, people,
papers and assessments, which ``bulk_create`` would prepare value by value through the field
API (about a minute). A recent member's record copies the member's stored (encrypted) ID
number as it is, without decrypting and encrypting it again: every encrypted column uses the
same keys.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.db.models import ExpressionWrapper, F, Q, TextField

from dangjian.members import idnumber
from dangjian.members.choices import ETHNICITIES, Education, Membership, Occupation, Standing
from dangjian.members.demo import GIVEN, SURNAMES, demo_id_number
from dangjian.members.models import Member
from dangjian.organizations.models import Organization
from dangjian.organizations.services import add_months
from dangjian.orglife.demo import insert_rows

from . import steps
from .models import (
    Assessment,
    AssessmentStage,
    DevelopmentRecord,
    Document,
    DocumentKind,
    Outcome,
    Participant,
    StepRecord,
)
from .services import DEVELOPING_TYPES, STEP_DOCUMENTS
from .steps import BY_NUMBER, Role, Stage

BATCH_SIZE = 2000  # records per flush (with ~40 steps, people and papers each)
# Share of developing branches with people on the way (the rest develop nobody for now).
ACTIVE_SHARE = 0.4
PENDING_DAYS = 30

# The columns written (see insert_rows; the others take their defaults) and plain strings
# for the choices.
RECORD_FIELDS = (
    "organization",
    "member",
    "name",
    "gender",
    "ethnicity",
    "id_number",
    "id_hash",
    "birth_date",
    "education",
    "occupation",
    "work_unit",
    "phone",
    "stage",
    "outcome",
    "step",
    "applied_on",
    "talked_on",
    "activist_on",
    "candidate_on",
    "last_assessed_on",
    "admitted_on",
    "approved_on",
    "probation_ends_on",
    "conversion_meeting_on",
    "converted_on",
    "closed_on",
    "closed_reason",
)
STEP_FIELDS = (
    "record",
    "number",
    "date",
    "note",
    "entitled",
    "present",
    "in_favour",
    "training_days",
    "training_hours",
    "notice_start",
    "notice_end",
    "passed",
)
PARTICIPANT_FIELDS = ("record", "step", "role", "member", "name")
DOCUMENT_FIELDS = ("record", "kind", "date")
ASSESSMENT_FIELDS = ("record", "stage", "date", "summary")
OPEN, COMPLETED, STOPPED = Outcome.OPEN.value, Outcome.COMPLETED.value, Outcome.STOPPED.value
TALKER, CONTACT, SPONSOR = Role.TALKER.value, Role.CONTACT.value, Role.SPONSOR.value
COMMITTEE_TALKER, APPROVER = Role.COMMITTEE_TALKER.value, Role.APPROVER.value
APPLICATION, THOUGHT_REPORT = DocumentKind.APPLICATION.value, DocumentKind.THOUGHT_REPORT.value
ACTIVIST_ASSESSMENT = AssessmentStage.ACTIVIST.value
PROBATIONARY_ASSESSMENT = AssessmentStage.PROBATIONARY.value
STAGE_AFTER = {n: steps.stage_after(n) for n in range(0, steps.LAST + 1)}
DOCUMENT_STEPS = [(number, kind.value) for number, kind in STEP_DOCUMENTS.items()]
TRAINING_DAYS, TRAINING_HOURS = Decimal(3), Decimal(24)


class RecentMember(NamedTuple):
    """What a recent member's record copies from the roster (the ID number as stored)."""

    pk: int
    organization_id: int
    name: str
    gender: str
    ethnicity: str
    stored_id_number: str  # encrypted, as in the members table
    id_hash: str
    birth_date: date
    education: str
    occupation: str
    work_unit: str
    phone: str
    joined_on: date
    membership: str
    full_member_on: date | None


RECENT_COLUMNS = (
    "pk",
    "organization_id",
    "name",
    "gender",
    "ethnicity",
    "stored_id_number",
    "id_hash",
    "birth_date",
    "education",
    "occupation",
    "work_unit",
    "phone",
    "joined_on",
    "membership",
    "full_member_on",
)


def record_end(dates: dict[int, date]) -> date:
    """The end of the probation of a timeline (a year from the branch meeting)."""
    return add_months(dates[15], 12)


@dataclass
class Summary:
    records: int = 0
    by_stage: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    steps: int = 0
    overdue_talks: int = 0
    lapsed_assessments: int = 0
    stopped: int = 0


def clear_development_data() -> None:
    DevelopmentRecord.objects.all().delete()


class DevelopmentGenerator:
    def __init__(self, seed: int, today: date):
        self.rng = random.Random(f"development-{seed}")
        self.today = today
        self.summary = Summary()
        # Records (dicts of RECORD_FIELDS) waiting for the next flush; the child rows refer
        # to their record by its index in ``records`` until the keys are known.
        self.records: list[dict] = []
        self.steps: list[tuple] = []
        self.people: list[tuple] = []
        self.documents: list[tuple] = []
        self.assessments: list[tuple] = []
        self.used_ids: set[str] = set()
        self.encrypt = DevelopmentRecord._meta.get_field("id_number").get_prep_value

    # --- people ----------------------------------------------------------------------------

    def id_number(self, birth: date, male: bool) -> str:
        return demo_id_number(self.rng, self.used_ids, birth, male)

    def newcomer(self, branch: Organization, applied_on: date) -> dict:
        rng = self.rng
        male = rng.random() < 0.55
        birth = applied_on - timedelta(days=rng.randint(19 * 365, 40 * 365))
        number = self.id_number(birth, male)
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))
        return {
            "organization": branch.pk,
            "member": None,
            "name": name,
            "gender": "male" if male else "female",
            "ethnicity": "汉族" if rng.random() < 0.93 else rng.choice(ETHNICITIES[1:20]),
            "id_number": self.encrypt(number),
            "id_hash": idnumber.lookup_hash(number),
            "birth_date": birth,
            "education": rng.choice(
                [Education.BACHELOR, Education.COLLEGE, Education.POSTGRADUATE]
            ).value,
            "occupation": Occupation.FARMER.value
            if branch.sector == "village"
            else rng.choice([Occupation.WORKER, Occupation.ENTERPRISE_STAFF]).value,
            "work_unit": branch.unit_name or "",
            "phone": f"1{rng.choice('3578')}{rng.randint(0, 999999999):09d}",
        }

    def from_member(self, member: RecentMember) -> dict:
        return {
            "organization": member.organization_id,
            "member": member.pk,
            "name": member.name,
            "gender": member.gender,
            "ethnicity": member.ethnicity,
            "id_number": member.stored_id_number,  # already encrypted
            "id_hash": member.id_hash,
            "birth_date": member.birth_date,
            "education": member.education,
            "occupation": member.occupation,
            "work_unit": member.work_unit,
            "phone": member.phone,
        }

    # --- dates -----------------------------------------------------------------------------

    def days(self, low: int, high: int) -> timedelta:
        return timedelta(days=self.rng.randint(low, high))

    def timeline(self, applied_on: date) -> dict[int, date]:
        """Every step's date from an application on ``applied_on``, keeping every rule."""
        d: dict[int, date] = {1: applied_on}
        d[2] = d[1] + self.days(5, 25)
        d[3] = d[2] + self.days(40, 150)
        d[4] = d[3] + self.days(5, 15)
        d[5] = d[4] + self.days(0, 10)
        d[6] = max(d[5], add_months(d[3], 6) - self.days(0, 10))
        d[7] = add_months(d[3], 12) + self.days(25, 70)
        d[8] = d[7] + self.days(5, 15)
        d[9] = d[8] + self.days(0, 10)
        d[10] = d[9] + self.days(10, 30)
        d[11] = d[10] + self.days(5, 30)
        d[12] = d[11] + self.days(10, 30)
        d[13] = d[12] + self.days(8, 14)  # after a notice of 7 calendar days from d12 + 1
        d[14] = d[13] + self.days(3, 10)
        d[15] = d[14] + self.days(7, 30)
        d[16] = d[15] + self.days(7, 20)
        d[17] = d[16] + self.days(10, 55)  # at most 75 days after the meeting: within 3 months
        d[18] = d[17] + self.days(3, 10)
        d[19] = d[18] + self.days(1, 7)
        d[20] = d[19] + self.days(0, 30)
        d[21] = max(d[20], add_months(d[15], 6) - self.days(0, 10))
        d[22] = max(d[21], add_months(d[15], 12) - self.days(10, 30))
        d[23] = add_months(d[15], 12) + self.days(0, 20)
        d[24] = d[23] + self.days(15, 60)
        d[25] = d[24] + self.days(5, 20)
        return d

    def shifted(self, timeline: dict[int, date], number: int, to: date) -> dict[int, date]:
        """The timeline moved so that step ``number`` falls on ``to``."""
        delta = to - timeline[number]
        return {n: day + delta for n, day in timeline.items()}

    # --- rows ------------------------------------------------------------------------------

    def add(
        self,
        record: dict,
        dates: dict[int, date],
        last: int,
        branch: Branch,
        lapsed: bool = False,
    ) -> None:
        rng = self.rng
        index = len(self.records)
        record["step"] = last
        record["stage"] = STAGE_AFTER[last].value
        record["outcome"] = COMPLETED if last == steps.LAST else OPEN
        record["applied_on"] = dates[1]
        record["talked_on"] = dates.get(2) if last >= 2 else None
        record["activist_on"] = dates[3] if last >= 3 else None
        record["candidate_on"] = dates[7] if last >= 7 else None
        record["admitted_on"] = dates[15] if last >= 15 else None
        ends = add_months(dates[15], 12) if last >= 15 else None
        record["probation_ends_on"] = ends
        record["approved_on"] = dates[17] if last >= 17 else None
        record["conversion_meeting_on"] = dates[23] if last >= 23 else None
        record["converted_on"] = ends if last >= 24 else None
        record["closed_on"], record["closed_reason"] = None, ""
        for number in range(1, last + 1):
            spec = BY_NUMBER[number]
            entitled = present = in_favour = days = hours = start = end = passed = None
            if spec.vote:
                entitled = branch.voters(dates[number])
                present = max(entitled // 2 + 1, round(entitled * rng.uniform(0.75, 0.95)))
                present = min(present, entitled)
                in_favour = max(entitled // 2 + 1, present - rng.randint(0, 1))
            if spec.training:
                days, hours = TRAINING_DAYS, TRAINING_HOURS
            if spec.notice:
                start = dates[12] + timedelta(days=1)
                end = dates[12] + timedelta(days=7)
            if spec.review:
                passed = True
            row = (index, number, dates[number], "", entitled, present, in_favour, days, hours)
            self.steps.append((*row, start, end, passed))
        self.summary.steps += last
        people = self.people
        contacts = rng.sample(branch.full, min(2, len(branch.full)))
        if last >= 2:
            people.append((index, 2, TALKER, None, rng.choice(branch.full)[1]))
        if last >= 5:
            people += [(index, 5, CONTACT, pk, name) for pk, name in contacts[:2]]
        if last >= 9:
            people += [(index, 9, SPONSOR, pk, name) for pk, name in contacts[:2]]
        if last >= 16:
            people.append((index, 16, COMMITTEE_TALKER, None, "组织员"))
        if last >= 17:
            people.append((index, 17, APPROVER, None, branch.parent_name))
        if last >= 24:
            people.append((index, 24, APPROVER, None, branch.parent_name))
        documents = self.documents
        documents.append((index, APPLICATION, dates[1]))
        documents += [
            (index, kind, dates[number]) for number, kind in DOCUMENT_STEPS if number <= last
        ]
        assessed = None
        if last >= 6:
            # every half year from becoming activist until the branch meeting (or today)
            until = dates[15] if last >= 15 else self.today
            day = dates[6]
            while day <= until and not (lapsed and day > dates[6]):
                self.assessments.append((index, ACTIVIST_ASSESSMENT, day, "表现良好"))
                documents.append((index, THOUGHT_REPORT, day))
                assessed = day if assessed is None else max(assessed, day)
                day = add_months(day, 6) - timedelta(days=rng.randint(0, 10))
        if last >= 21:
            until = dates[23] if last >= 23 else self.today
            day = dates[21]
            while day <= until:
                self.assessments.append((index, PROBATIONARY_ASSESSMENT, day, "表现良好"))
                assessed = day if assessed is None else max(assessed, day)
                day = add_months(day, 6) - timedelta(days=rng.randint(0, 10))
        record["last_assessed_on"] = assessed
        self.records.append(record)
        self.summary.records += 1
        self.summary.by_stage[STAGE_AFTER[last]] += 1

    def flush(self) -> None:
        if not self.records:
            return
        ids = insert_rows(
            DevelopmentRecord,
            RECORD_FIELDS,
            [tuple(record[name] for name in RECORD_FIELDS) for record in self.records],
            returning=True,
        )
        for model, names, rows in (
            (StepRecord, STEP_FIELDS, self.steps),
            (Participant, PARTICIPANT_FIELDS, self.people),
            (Document, DOCUMENT_FIELDS, self.documents),
            (Assessment, ASSESSMENT_FIELDS, self.assessments),
        ):
            insert_rows(model, names, [(ids[row[0]], *row[1:]) for row in rows])
        self.records, self.steps, self.people, self.documents, self.assessments = [], [], [], [], []

    # --- the run ---------------------------------------------------------------------------

    def last_step_by(self, dates: dict[int, date], cap: int = steps.LAST) -> int:
        last = 0
        for number in range(1, cap + 1):
            if dates[number] > self.today:
                break
            last = number
        return last

    def recent_members(self, branch: Branch, members: list[RecentMember]) -> None:
        """The records of the roster's recent members."""
        for member in members:
            admitted = member.joined_on
            dates = self.shifted(self.timeline(admitted), 15, admitted)
            if dates[1] < add_months(member.birth_date, 12 * 18):
                continue  # would have applied before 18: leave this one without a record
            record = self.from_member(member)
            if member.membership == Membership.PROBATIONARY:
                # approved already (they are on the roster): squeeze steps 16–17 if needed
                if dates[17] > self.today:
                    span = (self.today - admitted).days
                    dates[16] = admitted + timedelta(days=span // 3)
                    dates[17] = admitted + timedelta(days=2 * span // 3)
                    for n in range(18, 26):
                        dates[n] = max(dates[n], dates[17])
                self.add(record, dates, max(17, self.last_step_by(dates, cap=22)), branch)
            elif member.pk in self.pending:
                # the conversion meeting was held, the approval is pending: still probationary
                # (or, by the calendar, the probation ends tomorrow: not even the meeting yet)
                if record_end(dates) > self.today:
                    self.add(record, dates, self.last_step_by(dates, cap=22), branch)
                    continue
                dates[23] = max(record_end(dates), min(dates[23], self.today))
                self.add(record, dates, 23, branch)
            else:
                if dates[24] > self.today:  # approved by now, within the 3 months
                    dates[24] = max(dates[23], self.today - timedelta(days=1))
                    dates[25] = max(dates[24], self.today)
                self.add(record, dates, self.last_step_by(dates), branch)

    def newcomers(self, branch: Branch) -> None:
        rng = self.rng
        targets = [
            (Stage.APPLICANT, 0, 60),
            (Stage.ACTIVIST, 90, 480),
            (Stage.CANDIDATE, 520, 640),
            ("admitted", 640, 700),
        ]
        for _ in range(rng.randint(1, 4)):
            stage, low, high = rng.choice(targets)
            applied = self.today - timedelta(days=rng.randint(low, high))
            record = self.newcomer(branch.organization, applied)
            dates = self.timeline(applied)
            last = self.last_step_by(dates, cap=16)
            lapsed = False
            if stage == Stage.APPLICANT and rng.random() < 0.3:
                last = 1  # the talk is late
                dates[1] = self.today - timedelta(days=rng.randint(35, 60))
                self.summary.overdue_talks += 1
            if stage == Stage.ACTIVIST and 6 <= last < 7 and rng.random() < 0.15:
                lapsed = True
                self.summary.lapsed_assessments += 1
            if last == 0:
                continue
            self.add(record, dates, last, branch, lapsed=lapsed)
            if stage in (Stage.ACTIVIST, Stage.APPLICANT) and rng.random() < 0.05:
                record["outcome"] = STOPPED
                record["closed_on"] = self.today - timedelta(days=rng.randint(1, 30))
                record["closed_reason"] = "本人申请暂缓"
                self.summary.stopped += 1

    def run(self, organizations, exemplary: list[int] = ()) -> Summary:
        branches = list(
            organizations.filter(org_type__in=DEVELOPING_TYPES, dissolved_on__isnull=True)
            .only("pk", "path", "sector", "unit_name", "name")
            .order_by("path")
        )
        parents = dict(
            Organization.objects.filter(
                path__in={b.path[: -Organization.steplen] for b in branches}
            ).values_list("path", "name")
        )
        full, full_since = defaultdict(list), defaultdict(list)
        for pk, organization_id, name, since in (
            Member.objects.filter(
                organization__in=[b.pk for b in branches],
                membership=Membership.FULL,
                standing=Standing.NORMAL,
            )
            .order_by("pk")
            .values_list("pk", "organization_id", "name", "full_member_on")
        ):
            full[organization_id].append((pk, name))
            full_since[organization_id].append(since or date.min)
        self.pending_conversion: list[int] = []
        year_ago = add_months(self.today, -12)
        # Members whose probation ended in the last month wait for the conversion's approval:
        # the roster will say probationary, so they are no voters or sponsors either.
        pending_since = self.today - timedelta(days=PENDING_DAYS)
        recent = defaultdict(list)
        # Plain values, the ID number as stored: no model instances, nothing decrypted.
        for row in (
            Member.objects.filter(
                Q(membership=Membership.PROBATIONARY) | Q(full_member_on__gt=year_ago),
                organization__in=[b.pk for b in branches],
                standing=Standing.NORMAL,
                joined_on__gt=add_months(self.today, -24),
            )
            .annotate(stored_id_number=ExpressionWrapper(F("id_number"), output_field=TextField()))
            .order_by("pk")
            .values_list(*RECENT_COLUMNS)
        ):
            member = RecentMember(*row)
            recent[member.organization_id].append(member)
            if member.full_member_on and member.full_member_on > pending_since:
                self.pending_conversion.append(member.pk)
        self.pending = pending = set(self.pending_conversion)
        for organization_id, people in full.items():
            keep = [i for i, (pk, _name) in enumerate(people) if pk not in pending]
            full[organization_id] = [people[i] for i in keep]
            full_since[organization_id] = [full_since[organization_id][i] for i in keep]
        for organization in branches:
            if len(full[organization.pk]) < 3:
                continue
            branch = Branch(
                organization,
                full[organization.pk],
                parents.get(organization.path[: -Organization.steplen], "上级党委"),
                full_since[organization.pk],
            )
            self.recent_members(branch, recent[organization.pk])
            if organization.pk in exemplary or self.rng.random() < ACTIVE_SHARE:
                self.newcomers(branch)
            if len(self.records) >= BATCH_SIZE:
                self.flush()
        self.flush()
        Member.objects.filter(pk__in=self.pending_conversion).update(
            membership=Membership.PROBATIONARY, full_member_on=None
        )
        return self.summary


@dataclass
class Branch:
    organization: Organization
    full: list[tuple[int, str]]  # the full members: contacts, sponsors, talkers
    parent_name: str
    full_since: list[date]  # the day each full member became full, for the votes

    def voters(self, day: date) -> int:
        """Full members on ``day`` (at least the three a developing branch has)."""
        return max(3, sum(1 for since in self.full_since if since <= day))
