"""The demo history of organizational life (dangjian.orglife.demo) on the tiny data set."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import Count, F, Max, Q

from dangjian.core.flags import FLAGS, FlagContext
from dangjian.members.demo import MemberGenerator
from dangjian.members.models import Member
from dangjian.organizations.demo import DemoGenerator
from dangjian.organizations.models import BRANCH_TYPES, CommitteeMember, Organization, OrgType
from dangjian.orglife.choices import MeetingKind, MeetingStatus, Presence
from dangjian.orglife.compliance import COMMITTEE_POSTS, Status, Window, compute, month_start
from dangjian.orglife.demo import MeetingGenerator
from dangjian.orglife.models import AppraisalResult, Attendance, Meeting
from dangjian.orglife.requirements import requirements_for
from dangjian.rules.registry import RuleBook

TODAY = date(2026, 11, 24)
PRESENT = Presence.PRESENT
ROOT = Path(__file__).resolve().parents[1]
# Seeds a fresh SQLite database and prints a digest of the history (no database ids).
DIGEST = """
import hashlib, io, django
django.setup()
from django.core.management import call_command
from dangjian.orglife.models import Attendance, Meeting
call_command("migrate", verbosity=0)
call_command("seed_demo", "--scale", "tiny", "--today", "2026-11-24", stdout=io.StringIO())
digest = hashlib.sha256()
for row in Meeting.objects.order_by("organization__path", "date", "kind", "topic").values_list(
    "organization__path", "kind", "status", "date", "topic", "host__name", "minutes"
):
    digest.update(repr(row).encode())
for row in sorted(Attendance.objects.values_list(
    "meeting__organization__path", "meeting__kind", "meeting_date", "name", "presence", "reason"
), key=repr):
    digest.update(repr(row).encode())
print(digest.hexdigest())
"""


def seed(scale: str = "tiny", seed: int = 2026):
    """The tiny tree and its members, then the meeting history (at ``scale``'s row window)."""
    summary = DemoGenerator(seed=seed, scale="tiny", today=TODAY).run()
    MemberGenerator(seed, "tiny", TODAY).run(Organization.objects.all())
    return history(seed, scale, exemplary=summary.users_branch)


def history(seed: int, scale: str = "tiny", exemplary: str = ""):
    branches = Organization.objects.filter(name=exemplary).values_list("pk", flat=True)
    return MeetingGenerator(seed, TODAY, scale).run(Organization.objects.all(), exemplary=branches)


def clear_history():
    Attendance.objects.all().delete()
    AppraisalResult.objects.all().delete()
    Meeting.objects.all().delete()
    Member.objects.update(party_group=None, last_participated_on=None)


def snapshot() -> tuple:
    """Everything the generator wrote, without database ids."""
    meetings = list(
        Meeting.objects.order_by("organization__path", "date", "kind", "topic").values_list(
            "organization__path",
            "kind",
            "status",
            "date",
            "place",
            "topic",
            "host__id_hash",
            "recorder__id_hash",
            "counterpart__id_hash",
            "minutes",
            "expected_count",
            "present_count",
        )
    )
    attendance = sorted(
        Attendance.objects.values_list(
            "meeting__organization__path",
            "meeting__kind",
            "meeting_date",
            "member__id_hash",
            "name",
            "presence",
            "leave_approved",
            "reason",
        ),
        key=repr,
    )
    appraisals = sorted(
        AppraisalResult.objects.values_list(
            "meeting__organization__path", "meeting__date", "member__id_hash", "grade"
        ),
        key=repr,
    )
    members = sorted(
        Member.objects.values_list("id_hash", "party_group__path", "last_participated_on")
    )
    return meetings, attendance, appraisals, members


def root() -> Organization:
    return Organization.objects.get(depth=1)


@pytest.mark.django_db
def test_seed_command_writes_the_history_and_reseeds_the_same():
    out = StringIO()
    call_command("seed_demo", "--scale", "tiny", "--today", TODAY.isoformat(), stdout=out)
    assert "组织生活记录" in out.getvalue()
    first = snapshot()
    assert first[0] and first[1] and first[2]
    # --force clears the history first (attendance and appraisals protect the members).
    call_command(
        "seed_demo", "--scale", "tiny", "--today", TODAY.isoformat(), "--force", stdout=out
    )
    assert snapshot() == first


@pytest.mark.django_db
def test_a_seed_always_gives_the_same_history_and_another_seed_another():
    users_branch = DemoGenerator(seed=7, scale="tiny", today=TODAY).run().users_branch
    MemberGenerator(7, "tiny", TODAY).run(Organization.objects.all())
    history(7, exemplary=users_branch)
    first = snapshot()
    clear_history()
    history(7, exemplary=users_branch)
    assert snapshot() == first
    clear_history()
    history(8, exemplary=users_branch)
    assert snapshot()[0] != first[0]


def test_the_history_does_not_depend_on_the_process(tmp_path):
    """Two processes with different string hashing seed the same history (no set order)."""
    digests = []
    for hash_seed in ("1", "2"):
        env = {
            **os.environ,
            "PYTHONHASHSEED": hash_seed,
            "DATABASE_URL": f"sqlite:///{tmp_path / f'seed{hash_seed}.sqlite3'}",
            "DANGJIAN_VAR_DIR": str(tmp_path),
            "DJANGO_SETTINGS_MODULE": "dangjian.settings",
        }
        result = subprocess.run(
            [sys.executable, "-c", DIGEST],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        digests.append(result.stdout.strip().splitlines()[-1])
    assert digests[0] == digests[1]


@pytest.mark.django_db
def test_three_years_of_meetings_up_to_today():
    summary = seed()
    assert summary.meetings == Meeting.objects.count()
    start = month_start(TODAY.year, TODAY.month - 36)
    dates = Meeting.objects.aggregate(first=Max("date", filter=Q(date__lt=start)))
    assert dates["first"] is None
    held = Meeting.objects.filter(status=MeetingStatus.HELD)
    assert held.filter(date__gt=TODAY).count() == 0
    assert held.filter(date__lt=date(start.year, start.month, 28)).exists()
    # Planned meetings only later this month.
    planned = Meeting.objects.filter(status=MeetingStatus.PLANNED)
    assert planned.exists()
    assert not planned.exclude(date__gt=TODAY, date__lt=date(2026, 12, 1)).exists()
    # Every kind is there, and every active branch with members held a 主题党日 last month.
    assert set(held.values_list("kind", flat=True)) == set(MeetingKind.values)
    branches = Organization.objects.active().filter(
        org_type__in=BRANCH_TYPES, members__isnull=False
    )
    assert branches.exists()
    last_month = held.filter(kind=MeetingKind.THEME_DAY, date__range=("2026-10-01", "2026-10-31"))
    missing = branches.exclude(pk__in=last_month.values("organization")).distinct().count()
    assert missing <= summary.short_branches
    # 民主评议党员 is done, with a result per member expected.
    appraisals = held.filter(kind=MeetingKind.APPRAISAL)
    assert not appraisals.exclude(appraisal_stage="done").exists()
    grades = dict(AppraisalResult.objects.values_list("grade").annotate(n=Count("id")))
    assert grades["qualified"] > grades.get("excellent", 0) > 0
    assert 0 < grades.get("basic", 0) < grades["qualified"] / 5
    for meeting in appraisals[:10]:
        assert meeting.appraisals.count() == meeting.attendance.exclude(member=None).count()


@pytest.mark.django_db
def test_most_branches_comply_and_some_are_short():
    seed()
    requirements = requirements_for(root())
    organizations = Organization.objects.within(root())
    last_year = compute(organizations, Window(2025, TODAY), requirements)
    this_year = compute(organizations, Window(2026, TODAY), requirements)
    rows = [row for row in last_year.rows if row.cells]
    short = [row for row in rows if any(cell.overdue for cell in row.cells.values())]
    assert short, "some organizations are deliberately short of the rules"
    assert len(short) < len(rows) / 2
    statuses = {
        cell.status(slot)
        for row in this_year.rows
        for cell in row.cells.values()
        for slot in range(cell.requirement.slots)
    }
    assert {Status.MET, Status.OVERDUE, Status.DUE, Status.UPCOMING} <= statuses
    # A 支委会 without its quorum is recorded, and does not count.
    committee = Meeting.objects.filter(kind=MeetingKind.COMMITTEE_MEETING, status="held")
    assert committee.filter(present_count__lte=F("expected_count") / 2).exists()


@pytest.mark.django_db
def test_counts_agree_with_the_attendance_rows():
    seed()
    held = Meeting.objects.filter(status=MeetingStatus.HELD).annotate(
        rows=Count("attendance"),
        present=Count("attendance", filter=Q(attendance__presence=PRESENT)),
    )
    # All of them at the tiny scale, but for a dissolved branch's: its members have moved on.
    current = held.filter(organization__dissolved_on=None)
    assert current.count() == current.filter(rows__gt=0).count()
    former = held.exclude(organization__dissolved_on=None)
    assert former.exists()
    assert not former.filter(rows__gt=0).exists()
    assert not former.filter(date__gte=F("organization__dissolved_on")).exists()
    assert not former.filter(expected_count__lt=F("present_count")).exists()
    assert not current.exclude(expected_count=F("rows")).exists()
    assert not current.exclude(present_count=F("present")).exists()
    assert not Attendance.objects.exclude(meeting_date=F("meeting__date")).exists()
    assert not Attendance.objects.filter(meeting__status=MeetingStatus.PLANNED).exists()
    # Branch-wide meetings expect the branch's own members (on the roster, joined by then).
    wide = Attendance.objects.filter(
        meeting__kind__in=[MeetingKind.THEME_DAY, MeetingKind.GENERAL_MEETING]
    )
    assert not wide.exclude(member__organization=F("meeting__organization")).exists()
    assert not wide.filter(member__standing="lost_contact").exists()
    assert not wide.filter(member__joined_on__gt=F("meeting_date")).exists()
    # A 党小组会 expects the group's members; a 支委会 the committee; a talk two people.
    group = Attendance.objects.filter(meeting__kind=MeetingKind.GROUP_MEETING)
    assert group.exists()
    assert not group.exclude(member__party_group=F("meeting__organization")).exists()
    committee = Meeting.objects.filter(kind=MeetingKind.COMMITTEE_MEETING, status="held").first()
    seats = CommitteeMember.objects.filter(organization=committee.organization, ended_on=None)
    assert sorted(committee.attendance.values_list("name", flat=True)) == sorted(
        seats.values_list("name", flat=True)
    )
    assert seats.filter(post__in=COMMITTEE_POSTS).exists()
    talks = Meeting.objects.filter(kind=MeetingKind.TALK, organization__dissolved_on=None)
    talks = talks.annotate(n=Count("attendance"))
    assert talks.exists()
    assert not talks.exclude(n=2).exists()
    assert not talks.filter(counterpart=None).exists()


@pytest.mark.django_db
def test_members_of_branches_with_groups_are_in_those_groups():
    summary = seed()
    grouped = Member.objects.exclude(party_group=None)
    assert grouped.count() == summary.grouped_members > 0
    for member in grouped.select_related("party_group", "organization")[:50]:
        assert member.party_group.org_type == OrgType.GROUP
        assert member.party_group.path[: -Organization.steplen] == member.organization.path
    parents = Organization.objects.filter(
        path__in=[
            g.path[: -Organization.steplen] for g in Organization.objects.filter(org_type="group")
        ]
    )
    assert not Member.objects.filter(organization__in=parents, party_group=None).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("scale", ["tiny", "city"])
def test_last_participation_and_the_absence_flags(scale):
    summary = seed(scale)
    latest = Member.objects.annotate(
        seen=Max(
            "attendance__meeting_date",
            filter=Q(attendance__presence=PRESENT, attendance__meeting__status="held"),
        )
    )
    assert (
        not latest.exclude(last_participated_on=F("seen"))
        .exclude(last_participated_on=None, seen=None)
        .exists()
    )
    assert latest.exclude(last_participated_on=None).count() > latest.count() * 0.9
    ctx = FlagContext(Organization.objects.within(root()), RuleBook(), TODAY)
    flagged = set(FLAGS["absent_from_life"].queryset(ctx).values_list("pk", flat=True))
    warned = set(FLAGS["absence_warning"].queryset(ctx).values_list("pk", flat=True))
    assert flagged and warned
    assert not flagged & warned
    assert len(flagged) <= summary.flagged_members
    assert len(warned) <= summary.warned_members


@pytest.mark.django_db
def test_at_the_city_scale_older_meetings_keep_only_their_counts():
    seed("city")
    rows_from = month_start(TODAY.year, TODAY.month - 7)
    held = Meeting.objects.filter(status=MeetingStatus.HELD, organization__dissolved_on=None)
    held = held.annotate(rows=Count("attendance"))
    old, recent = held.filter(date__lt=rows_from), held.filter(date__gte=rows_from)
    assert old.exists() and recent.exists()
    assert not old.filter(rows__gt=0).exists()
    assert not old.filter(expected_count__lt=F("present_count")).exists()
    assert old.filter(expected_count__gt=0).count() == old.count()
    assert not recent.exclude(expected_count=F("rows")).exists()
    # The engine reads only the counts: last year still shows the kept and the missed periods.
    totals = compute(
        Organization.objects.within(root()), Window(2025, TODAY), requirements_for(root())
    ).totals()
    assert sum(t["met"] for t in totals.values()) > 0
    assert sum(t["overdue"] for t in totals.values()) > 0
