"""The demo's development records: people at every stage, with dates that keep the rules."""

import io
from datetime import date

import pytest
from django.core.management import call_command
from django.db.models import Count

from dangjian.core.flags import FLAGS, FlagContext
from dangjian.development import steps
from dangjian.development.models import DevelopmentRecord, Outcome, StepRecord
from dangjian.development.services import full_members_on, notice_days
from dangjian.development.steps import Stage
from dangjian.members.choices import Membership
from dangjian.organizations.models import Organization
from dangjian.organizations.services import add_months
from dangjian.rules.registry import RuleBook

TODAY = date(2026, 11, 24)


def seed():
    call_command("seed_demo", scale="demo", seed=7, today=TODAY, stdout=io.StringIO())


@pytest.mark.django_db
def test_the_demo_development_records():
    """One seed (a few seconds), four looks at it."""
    seed()
    people_at_every_stage_and_step()
    dates_keep_the_rules()
    the_branch_meetings_votes_fit_the_roster()
    some_steps_are_late_on_purpose_and_reach_the_reminders()


def people_at_every_stage_and_step():
    stages = dict(DevelopmentRecord.objects.values_list("stage").annotate(n=Count("pk")).order_by())
    assert all(stages.get(stage, 0) > 0 for stage in Stage.values), stages
    reached = set(DevelopmentRecord.objects.values_list("step", flat=True))
    # someone stands just after each step where people wait: applicants, activists,
    # candidates, admitted but not approved, probationary, converted
    assert {1, 2, 6, 16, 17, 21, 23, 25} <= reached, reached
    assert DevelopmentRecord.objects.filter(outcome=Outcome.COMPLETED).exists()


def dates_keep_the_rules():
    for record in DevelopmentRecord.objects.prefetch_related("steps", "assessments"):
        dates = {s.number: s for s in record.steps.all()}
        assert sorted(dates) == list(range(1, record.step + 1))
        days = [dates[n].date for n in sorted(dates)]
        assert days == sorted(days) and days[-1] <= TODAY, record
        if 2 in dates:
            assert dates[2].date <= add_months(dates[1].date, 1)
        if 7 in dates:
            assert dates[7].date >= add_months(dates[3].date, 12)
        if 13 in dates:
            step = dates[13]
            assert notice_days(step.notice_start, step.notice_end, working_days=True) >= 5
            assert dates[12].date <= step.notice_start and step.notice_end <= step.date
        if 15 in dates:
            vote = dates[15]
            assert vote.present * 2 > vote.entitled and vote.in_favour * 2 > vote.entitled
            assert record.probation_ends_on == add_months(vote.date, 12)
        if 17 in dates:
            assert dates[17].date <= add_months(dates[15].date, 3)
            assert record.member.joined_on == dates[15].date
        if 23 in dates:
            assert dates[23].date >= record.probation_ends_on
        if 24 in dates:
            assert dates[24].date <= add_months(dates[23].date, 3)
            assert record.member.membership == Membership.FULL
            assert record.member.full_member_on == record.probation_ends_on
        elif 17 in dates:
            assert record.member.membership == Membership.PROBATIONARY


def the_branch_meetings_votes_fit_the_roster():
    for step in StepRecord.objects.filter(number=steps.ADMISSION_MEETING).select_related(
        "record__organization"
    )[:40]:
        assert step.entitled <= max(3, full_members_on(step.record.organization, step.date))


def some_steps_are_late_on_purpose_and_reach_the_reminders():
    ctx = FlagContext(organizations=Organization.objects.all(), rules=RuleBook(), today=TODAY)
    for key in ("development_talk_due", "development_assessment_due", "no_new_member"):
        assert FLAGS[key].queryset(ctx).exists(), key
