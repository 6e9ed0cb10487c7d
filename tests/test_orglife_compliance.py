"""The compliance engine reads like the 2018 branch regulation, with the clock frozen."""

from datetime import UTC, date, datetime

import pytest

from dangjian.accounts.roles import Role
from dangjian.core.flags import FLAGS, FlagContext
from dangjian.members.models import Member
from dangjian.organizations.models import CommitteeMember, CommitteePost, Organization
from dangjian.organizations.services import rulebook_for
from dangjian.orglife import requirement_settings
from dangjian.orglife.choices import MeetingKind, MeetingStatus, Period
from dangjian.orglife.compliance import Status, Window, compute, for_organization, rollup
from dangjian.orglife.models import Meeting
from dangjian.orglife.requirements import requirements_for
from dangjian.orglife.services import Mark, create_meeting, mark_attendance

from .factories import UserFactory, grant, make_member

TODAY = date(2026, 4, 15)  # the first quarter has ended; April is running


def held(org, kind, day, expected=3, present=3, status=MeetingStatus.HELD, **fields):
    return Meeting.objects.create(
        organization=org,
        kind=kind,
        status=status,
        date=day,
        topic=f"{MeetingKind(kind).label}{day}",
        expected_count=expected,
        present_count=present,
        **fields,
    )


def give_committee(branch):
    """A secretary (张书记, from make_org) plus organization and propaganda members."""
    for post, name in ((CommitteePost.ORGANIZATION, "乙"), (CommitteePost.PROPAGANDA, "丙")):
        CommitteeMember.objects.create(organization=branch, post=post, name=name)


def cell(org, kind, today=TODAY, root=None):
    requirements = requirements_for(root or Organization.objects.get(path=org.root_path))
    result = for_organization(org, Window(today.year, today), requirements)
    return result.row(org.pk).cells[kind]


def test_committee_meeting_without_quorum_leaves_exactly_its_month_overdue(district):
    branch = district.branch_a
    give_committee(branch)
    held(branch, MeetingKind.COMMITTEE_MEETING, date(2026, 1, 12), expected=5, present=4)
    held(branch, MeetingKind.COMMITTEE_MEETING, date(2026, 2, 9), expected=5, present=3)
    # 2 of 5 present: not more than half (支部工作条例 art.12), so it does not count.
    held(branch, MeetingKind.COMMITTEE_MEETING, date(2026, 3, 16), expected=5, present=2)

    result = cell(branch, MeetingKind.COMMITTEE_MEETING)

    assert [result.status(m) for m in range(4)] == [
        Status.MET,
        Status.MET,
        Status.OVERDUE,
        Status.DUE,
    ]
    assert result.overdue_slots() == [2]
    assert (result.met, result.overdue, result.due) == (2, 1, 1)
    assert "第十二条" in result.describe(2026)
    assert "3月" in result.describe(2026)


def test_exactly_half_present_is_not_a_quorum(district):
    branch = district.branch_a
    give_committee(branch)
    held(branch, MeetingKind.COMMITTEE_MEETING, date(2026, 1, 12), expected=4, present=2)
    assert cell(branch, MeetingKind.COMMITTEE_MEETING).status(0) == Status.OVERDUE


def test_quorum_comes_from_attendance_recorded_through_the_services(district, clerk):
    branch = district.branch_a
    give_committee(branch)
    for name in ("张书记", "乙", "丙"):
        make_member(branch, name)
    meeting = create_meeting(
        clerk,
        branch,
        {"kind": MeetingKind.COMMITTEE_MEETING, "date": date(2026, 1, 12), "topic": "研究工作"},
        today=TODAY,
    )
    assert meeting.expected_count == 3
    assert cell(branch, MeetingKind.COMMITTEE_MEETING).status(0) == Status.OVERDUE
    rows = list(meeting.attendance.order_by("name"))
    mark_attendance(
        clerk,
        meeting,
        [Mark(rows[0].pk, "present"), Mark(rows[1].pk, "present")],
        correction_reason="补录出席情况",
    )
    assert cell(branch, MeetingKind.COMMITTEE_MEETING).status(0) == Status.MET


def test_committee_meetings_are_owed_only_by_branches_with_a_committee(district):
    requirements = requirements_for(district.root)
    result = for_organization(district.branch_a, Window(2026, TODAY), requirements)
    assert MeetingKind.COMMITTEE_MEETING not in result.row(district.branch_a.pk).cells
    give_committee(district.branch_a)
    result = for_organization(district.branch_a, Window(2026, TODAY), requirements)
    assert MeetingKind.COMMITTEE_MEETING in result.row(district.branch_a.pk).cells


def test_changing_the_lecture_rule_to_quarterly_changes_the_result(district):
    branch = district.branch_a
    admin = UserFactory()
    grant(admin, district.root, Role.COMMITTEE_ADMIN)
    held(branch, MeetingKind.LECTURE, date(2026, 2, 20))

    yearly = cell(branch, MeetingKind.LECTURE)
    assert (yearly.met, yearly.overdue) == (1, 0)

    requirement_settings.save_setting(
        admin,
        district.root,
        MeetingKind.LECTURE,
        {
            "period": Period.QUARTER,
            "minimum": 1,
            "quorum_percent": 0,
            "org_types": ["branch", "joint_branch", "temporary_branch"],
            "enabled": True,
        },
    )
    quarterly = cell(branch, MeetingKind.LECTURE)
    assert [quarterly.status(q) for q in range(4)] == [
        Status.MET,
        Status.DUE,
        Status.UPCOMING,
        Status.UPCOMING,
    ]
    # The other branch gave no lecture in the first quarter: now that is overdue.
    other = cell(district.branch_b, MeetingKind.LECTURE)
    assert other.overdue_slots() == [0]

    requirement_settings.reset_setting(admin, district.root, MeetingKind.LECTURE)
    assert cell(district.branch_b, MeetingKind.LECTURE).overdue == 0


def test_only_the_top_organizations_administrator_changes_requirements(district):
    from django.core.exceptions import PermissionDenied

    street_admin = UserFactory()
    grant(street_admin, district.street, Role.COMMITTEE_ADMIN)
    data = {"period": Period.QUARTER, "minimum": 1, "quorum_percent": 0, "org_types": ["branch"]}
    with pytest.raises(PermissionDenied):
        requirement_settings.save_setting(street_admin, district.street, MeetingKind.LECTURE, data)


def test_a_bad_setting_is_refused_with_reasons(district):
    from django.core.exceptions import ValidationError

    admin = UserFactory()
    grant(admin, district.root, Role.COMMITTEE_ADMIN)
    with pytest.raises(ValidationError) as error:
        requirement_settings.save_setting(
            admin,
            district.root,
            MeetingKind.LECTURE,
            {"period": "week", "minimum": 0, "quorum_percent": 120, "org_types": ["group"]},
        )
    assert set(error.value.message_dict) == {"period", "minimum", "quorum_percent", "org_types"}


def test_a_branch_founded_during_a_period_does_not_owe_that_period(district):
    branch = district.branch_b
    Organization.objects.filter(pk=branch.pk).update(founded_on=date(2026, 2, 10))
    result = cell(Organization.objects.get(pk=branch.pk), MeetingKind.THEME_DAY)
    assert [result.status(m) for m in range(4)] == [
        Status.EXEMPT,
        Status.EXEMPT,
        Status.OVERDUE,
        Status.DUE,
    ]


def test_planned_meetings_and_other_kinds_do_not_count(district):
    branch = district.branch_a
    held(branch, MeetingKind.LECTURE, date(2026, 1, 8), status=MeetingStatus.PLANNED)
    held(branch, MeetingKind.THEME_DAY, date(2026, 1, 8))
    assert cell(branch, MeetingKind.LECTURE).met == 0
    assert cell(branch, MeetingKind.THEME_DAY).status(0) == Status.MET


def test_group_meetings_are_owed_by_party_groups(district):
    held(district.group_a, MeetingKind.GROUP_MEETING, date(2026, 1, 20))
    result = cell(district.group_a, MeetingKind.GROUP_MEETING)
    assert [result.status(m) for m in range(3)] == [Status.MET, Status.OVERDUE, Status.OVERDUE]
    row = for_organization(district.branch_a, Window(2026, TODAY), requirements_for(district.root))
    assert MeetingKind.GROUP_MEETING not in row.row(district.branch_a.pk).cells


def test_a_past_year_is_all_elapsed_and_a_future_year_all_upcoming(district):
    branch = district.branch_a
    held(branch, MeetingKind.LIFE_MEETING, date(2025, 12, 1))
    assert cell(branch, MeetingKind.LIFE_MEETING, today=date(2026, 4, 15)).met == 0
    past = for_organization(branch, Window(2025, TODAY), requirements_for(district.root))
    assert past.row(branch.pk).cells[MeetingKind.LIFE_MEETING].overall == Status.MET
    assert past.row(branch.pk).cells[MeetingKind.THEME_DAY].overdue == 12
    future = for_organization(branch, Window(2027, TODAY), requirements_for(district.root))
    assert future.row(branch.pk).cells[MeetingKind.THEME_DAY].overall == Status.UPCOMING


def test_the_rollup_sums_each_childs_subtree(district):
    for branch in (district.branch_a, district.branch_b, district.organ_branch):
        held(branch, MeetingKind.THEME_DAY, date(2026, 1, 6))
    result = compute(
        Organization.objects.within(district.root),
        Window(2026, TODAY),
        requirements_for(district.root),
    )
    rows = {r.organization.name: r for r in rollup(result, district.root)}
    assert set(rows) == {district.street.name, district.organs.name}
    theme = rows[district.street.name].totals[MeetingKind.THEME_DAY]
    # two branches × (January met, February and March overdue, April due)
    assert (theme["orgs"], theme["met"], theme["overdue"], theme["due"]) == (2, 2, 4, 2)
    assert rows[district.organs.name].totals[MeetingKind.THEME_DAY]["orgs"] == 1


def test_the_engine_uses_a_few_queries_whatever_the_size_of_the_subtree(
    district, django_assert_max_num_queries
):
    requirements = requirements_for(district.root)
    with django_assert_max_num_queries(len(requirements) + 1):
        compute(Organization.objects.within(district.root), Window(2026, TODAY), requirements)


def absent_flags(organization, today):
    ctx = FlagContext(
        organizations=Organization.objects.within(organization),
        rules=rulebook_for(organization),
        today=today,
    )
    flagged = {m.name for m in FLAGS["absent_from_life"].queryset(ctx)}
    warned = {m.name for m in FLAGS["absence_warning"].queryset(ctx)}
    return flagged, warned


def test_six_months_absent_is_flagged_and_five_only_warned(district, clerk):
    branch = district.branch_a
    six = make_member(branch, "六个月")
    five = make_member(branch, "五个月")
    recent = make_member(branch, "常参加")
    for member, day in ((six, date(2025, 10, 14)), (five, date(2025, 11, 20))):
        meeting = create_meeting(
            clerk,
            branch,
            {"kind": MeetingKind.THEME_DAY, "date": day, "topic": "主题党日"},
            today=day,
        )
        row = meeting.attendance.get(member=member)
        mark_attendance(clerk, meeting, [Mark(row.pk, "present")])
    meeting = create_meeting(
        clerk,
        branch,
        {"kind": MeetingKind.THEME_DAY, "date": date(2026, 4, 1), "topic": "主题党日"},
        today=TODAY,
    )
    mark_attendance(clerk, meeting, [Mark(meeting.attendance.get(member=recent).pk, "present")])

    flagged, warned = absent_flags(district.root, TODAY)

    assert "六个月" in flagged and "六个月" not in warned
    assert "五个月" in warned and "五个月" not in flagged
    assert "常参加" not in flagged | warned


def test_members_new_to_the_roster_are_not_flagged_before_they_could_take_part(district):
    make_member(district.branch_a, "新转入")
    flagged, warned = absent_flags(district.root, date.today())
    assert "新转入" not in flagged | warned


def test_committee_meetings_are_owed_only_while_the_branch_had_a_committee(district):
    branch = district.branch_a
    CommitteeMember.objects.create(
        organization=branch,
        post=CommitteePost.ORGANIZATION,
        name="乙",
        started_on=date(2026, 2, 10),
    )
    result = cell(branch, MeetingKind.COMMITTEE_MEETING)
    # The committee was formed in February: January owed nothing, February on did.
    assert [result.status(m) for m in range(4)] == [
        Status.EXEMPT,
        Status.OVERDUE,
        Status.OVERDUE,
        Status.DUE,
    ]
    CommitteeMember.objects.filter(organization=branch, name="乙").update(ended_on=date(2026, 3, 1))
    result = cell(branch, MeetingKind.COMMITTEE_MEETING)
    assert [result.status(m) for m in range(4)] == [
        Status.EXEMPT,
        Status.OVERDUE,
        Status.EXEMPT,
        Status.EXEMPT,
    ]


def test_a_dissolved_branch_still_answers_for_the_periods_before_its_dissolution(district):
    branch = district.branch_b
    held(branch, MeetingKind.THEME_DAY, date(2025, 12, 5))
    Organization.objects.filter(pk=branch.pk).update(dissolved_on=date(2026, 2, 15))
    branch = Organization.objects.get(pk=branch.pk)
    requirements = requirements_for(district.root)

    last_year = for_organization(district.community, Window(2025, TODAY), requirements)
    assert last_year.row(branch.pk).cells[MeetingKind.THEME_DAY].met == 1

    this_year = for_organization(district.community, Window(2026, TODAY), requirements)
    theme = this_year.row(branch.pk).cells[MeetingKind.THEME_DAY]
    assert [theme.status(m) for m in range(3)] == [Status.OVERDUE, Status.EXEMPT, Status.EXEMPT]
    assert theme.due == 0


def test_a_member_who_never_attends_is_flagged_six_months_after_joining_the_roster(district):
    member = make_member(district.branch_a, "从未参加")
    Member.objects.filter(pk=member.pk).update(created_at=datetime(2025, 10, 1, tzinfo=UTC))
    flagged, warned = absent_flags(district.root, TODAY)
    assert "从未参加" in flagged
    flagged, warned = absent_flags(district.root, date(2026, 2, 1))
    assert "从未参加" in warned and "从未参加" not in flagged
