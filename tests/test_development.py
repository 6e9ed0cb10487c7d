"""Member development, read against 《中国共产党发展党员工作细则》 and 党章: one person walked
through all 25 steps, and each rule refusing a bad date or number with its citation."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from dangjian.accounts.roles import Role
from dangjian.audit.models import AuditEvent
from dangjian.core.flags import FLAGS, FlagContext
from dangjian.development import rules, services, steps
from dangjian.development.models import Document, Outcome, Participant
from dangjian.development.steps import Stage
from dangjian.members.choices import Membership, Standing
from dangjian.members.models import Member, RewardOrPunishment
from dangjian.organizations.models import Organization
from dangjian.organizations.services import RuleViolation
from dangjian.rules.models import RuleOverride
from dangjian.rules.registry import RuleBook

from .factories import UserFactory, grant, make_member, valid_id_number

TODAY = date(2026, 11, 24)
BIRTH = date(2000, 3, 15)


@pytest.fixture
def voters(district):
    """Nine full members on branch A's roster: the branch meeting's voters."""
    return [make_member(district.branch_a, f"党员{i}") for i in range(9)]


def application(**changes):
    return {
        "date": date(2023, 3, 1),
        "name": "李申请",
        "gender": "female",
        "ethnicity": "汉族",
        "id_number": valid_id_number(BIRTH, male=False),
        "birth_date": BIRTH,
        "education": "bachelor",
        "occupation": "enterprise_staff",
        "work_unit": "某某科技公司",
        **changes,
    }


def happy_path(voters, district) -> dict[int, dict]:
    """What a careful clerk records at each step after the application."""
    contact, sponsor = voters[0], voters[1]
    return {
        2: {"date": date(2023, 3, 20), "people": ["王组织委员"]},
        3: {"date": date(2023, 5, 10), "note": "党员推荐、支委会研究确定"},
        4: {"date": date(2023, 5, 20)},
        5: {"date": date(2023, 5, 20), "people": [contact.pk, sponsor.pk]},
        6: {"date": date(2023, 11, 10), "note": "第一次半年考察：表现积极"},
        7: {"date": date(2024, 6, 1)},
        8: {"date": date(2024, 6, 10)},
        9: {"date": date(2024, 6, 15), "people": [contact.pk, sponsor.pk]},
        10: {"date": date(2024, 7, 1), "passed": True},
        11: {"date": date(2024, 7, 10), "training_days": 3, "training_hours": 24},
        12: {"date": date(2024, 8, 1)},
        13: {
            "date": date(2024, 8, 12),
            "notice_start": date(2024, 8, 2),  # a Friday
            "notice_end": date(2024, 8, 8),  # Thursday: five working days
        },
        14: {"date": date(2024, 8, 15)},
        15: {"date": date(2024, 9, 1), "entitled": 9, "present": 6, "in_favour": 5},
        16: {"date": date(2024, 9, 20), "people": ["赵组织员"]},
        17: {"date": date(2024, 11, 15), "people": ["社区党委"]},
        18: {"date": date(2024, 11, 20)},
        19: {"date": date(2024, 11, 25), "party_group": district.group_a.pk},
        20: {"date": date(2024, 12, 1)},
        21: {"date": date(2025, 3, 1), "note": "预备期第一次考察"},
        22: {"date": date(2025, 8, 10)},
        23: {"date": date(2025, 9, 5), "entitled": 9, "present": 8, "in_favour": 8},
        24: {"date": date(2025, 10, 10), "people": ["社区党委"]},
        25: {"date": date(2025, 10, 20)},
    }


def actor_for(number, clerk, committee):
    return committee if steps.BY_NUMBER[number].by_higher_committee else clerk


def walk(record, path, clerk, committee, until, start=None):
    """Record the happy path's steps from the next one through ``until``."""
    for number in range(start or record.step + 1, until + 1):
        if number == steps.CANDIDATE and record.assessments.count() < 2:
            services.add_assessment(clerk, record, date(2024, 5, 10), "第二次半年考察：合格")
        services.record_step(
            actor_for(number, clerk, committee), record, number, dict(path[number]), today=TODAY
        )
        record.refresh_from_db()
    return record


def refused(rule, call):
    """``call`` is refused for ``rule``, and the message cites the rule's source."""
    with pytest.raises(RuleViolation) as raised:
        call()
    assert raised.value.citation == str(rule.citation)
    assert str(rule.citation) in raised.value.messages[0]
    return raised.value.messages[0]


def attempt(actor, record, number, data):
    return lambda: services.record_step(actor, record, number, data, today=TODAY)


def test_one_person_walks_all_25_steps_and_every_rule_refuses_a_bad_date(
    district, clerk, committee, voters
):
    path = happy_path(voters, district)
    record = services.open_record(clerk, district.branch_a, application(), today=TODAY)
    assert (record.stage, record.step) == (Stage.APPLICANT, 1)

    # 2: the talk within a month of the application (by 2023-04-01)
    refused(
        rules.TALK_WITHIN_MONTHS,
        attempt(clerk, record, 2, {**path[2], "date": date(2023, 4, 2)}),
    )
    walk(record, path, clerk, committee, until=3)
    assert record.stage == Stage.ACTIVIST and record.activist_on == date(2023, 5, 10)

    # 4 is the higher committee's: the branch's clerk may not record it
    with pytest.raises(PermissionDenied):
        attempt(clerk, record, 4, path[4])()
    walk(record, path, clerk, committee, until=4)

    # 5: one or two contacts, full members only
    extra = make_member(district.branch_a, "第三人")
    refused(
        rules.CONTACTS_MAXIMUM,
        attempt(clerk, record, 5, {**path[5], "people": [*path[5]["people"], extra.pk]}),
    )
    probationary = make_member(
        district.branch_a, "预备甲", membership="probationary", full_member_on=None
    )
    refused(
        rules.CONTACTS_MAXIMUM, attempt(clerk, record, 5, {**path[5], "people": [probationary.pk]})
    )
    walk(record, path, clerk, committee, until=6)

    # 7: a year as activist (from 2023-05-10), and an assessment every half year
    refused(
        rules.ACTIVIST_MINIMUM_MONTHS,
        attempt(clerk, record, 7, {"date": date(2024, 5, 9)}),
    )
    refused(rules.ASSESSMENT_INTERVAL_MONTHS, attempt(clerk, record, 7, path[7]))
    walk(record, path, clerk, committee, until=8)  # adds the second assessment first
    assert record.stage == Stage.CANDIDATE

    # 9: two full members as sponsors, none under 留党察看
    refused(rules.SPONSORS, attempt(clerk, record, 9, {**path[9], "people": [voters[0].pk]}))
    RewardOrPunishment.objects.create(
        member=voters[1],
        kind=RewardOrPunishment.Kind.PUNISHMENT,
        title="留党察看一年",
        decided_on=date(2024, 1, 1),
        under_probation_until=date(2024, 12, 31),
    )
    message = refused(rules.SPONSORS, attempt(clerk, record, 9, path[9]))
    assert voters[1].name in message and "留党察看" in message
    RewardOrPunishment.objects.filter(member=voters[1]).update(
        under_probation_until=date(2024, 6, 14)
    )
    walk(record, path, clerk, committee, until=10)

    # 11: training at least 3 days or 24 class hours
    short = {"date": date(2024, 7, 10), "training_days": 2, "training_hours": 16}
    refused(rules.TRAINING_MINIMUM_DAYS, attempt(clerk, record, 11, short))
    walk(record, path, clerk, committee, until=12)

    # 13: the public notice, five working days by default (Fri 2 Aug – Wed 7 Aug is four)
    short_notice = {**path[13], "notice_end": date(2024, 8, 7)}
    message = refused(rules.NOTICE_LENGTH, attempt(committee, record, 13, short_notice))
    assert "4个工作日" in message
    walk(record, path, clerk, committee, until=14)

    # 15: the entitled are the branch's full members that day (ten, with 第三人) …
    with pytest.raises(ValidationError, match="须说明原因"):
        attempt(clerk, record, 15, path[15])()
    path[15] = {**path[15], "entitled": 10, "present": 6, "in_favour": 6}
    path[23] = {**path[23], "entitled": 10}
    # … more than half of them present; in favour more than half of all of them
    quorum = {**path[15], "present": 5, "in_favour": 5}
    refused(rules.QUORUM, attempt(clerk, record, 15, quorum))
    majority = {**path[15], "present": 9, "in_favour": 5}
    refused(rules.MAJORITY, attempt(clerk, record, 15, majority))
    with pytest.raises(ValidationError, match="正式党员数（10名）"):
        attempt(clerk, record, 15, {**path[15], "entitled": 11})()
    walk(record, path, clerk, committee, until=16)
    assert record.admitted_on == date(2024, 9, 1)
    assert record.probation_ends_on == date(2025, 9, 1)

    # 17: approval within 3 months of the meeting, up to 6 with a reason, never later
    late = {**path[17], "date": date(2024, 12, 2)}
    refused(rules.APPROVAL_MONTHS, attempt(committee, record, 17, late))
    too_late = {**path[17], "date": date(2025, 3, 2), "delay_reason": "党委换届"}
    refused(rules.APPROVAL_MAXIMUM_MONTHS, attempt(committee, record, 17, too_late))
    walk(record, path, clerk, committee, until=17)
    member = record.member
    assert record.stage == Stage.PROBATIONARY
    assert (member.organization, member.membership) == (district.branch_a, Membership.PROBATIONARY)
    assert member.joined_on == date(2024, 9, 1)  # 入党日期: the branch meeting
    walk(record, path, clerk, committee, until=22)
    member.refresh_from_db()
    assert member.party_group == district.group_a

    # 23: the conversion meeting only once the probation (to 2025-09-01) has ended
    early = {**path[23], "date": date(2025, 8, 20)}
    refused(rules.PROBATION_MONTHS, attempt(clerk, record, 23, early))
    walk(record, path, clerk, committee, until=23)

    # 24: the conversion approved within 3 months of that meeting (by 2025-12-05)
    late = {**path[24], "date": date(2025, 12, 6)}
    refused(rules.CONVERSION_APPROVAL_MONTHS, attempt(committee, record, 24, late))
    walk(record, path, clerk, committee, until=25)

    assert (record.stage, record.step, record.outcome) == (Stage.FULL, 25, Outcome.COMPLETED)
    member.refresh_from_db()
    assert member.membership == Membership.FULL
    assert member.full_member_on == date(2025, 9, 1)  # the day the probation ended
    history = AuditEvent.objects.filter(object_type="members.member", object_id=str(member.pk))
    assert history.filter(reason__contains="转为正式党员").exists()
    assert record.steps.count() == 25
    assert set(record.steps.values_list("number", flat=True)) == set(range(1, 26))
    assert Participant.objects.filter(record=record, role="sponsor").count() == 2
    kinds = set(Document.objects.filter(record=record).values_list("kind", flat=True))
    assert {"application", "political_review", "training_certificate", "volunteer_form"} <= kinds
    assert record.assessments.count() == 3


def test_applicant_must_be_eighteen_on_the_day_of_application(district, clerk):
    birth = date(2008, 6, 1)
    data = application(
        birth_date=birth, id_number=valid_id_number(birth, male=False), date=date(2026, 5, 31)
    )
    refused(rules.MINIMUM_AGE, lambda: services.open_record(clerk, district.branch_a, data, TODAY))
    record = services.open_record(
        clerk, district.branch_a, {**data, "date": date(2026, 6, 1)}, TODAY
    )
    assert record.applied_on == date(2026, 6, 1)


def test_a_member_or_an_open_applicant_cannot_apply_again(district, clerk):
    member = make_member(district.branch_a)
    with pytest.raises(ValidationError, match="已在党员花名册"):
        services.open_record(
            clerk,
            district.branch_a,
            application(id_number=member.id_number, birth_date=member.birth_date, gender="male"),
            TODAY,
        )
    data = application()
    services.open_record(clerk, district.branch_a, data, TODAY)
    with pytest.raises(ValidationError, match="正在进行"):
        services.open_record(clerk, district.branch_a, data, TODAY)


def test_steps_go_in_order_and_never_back_in_time(district, clerk):
    record = services.open_record(clerk, district.branch_a, application(), TODAY)
    with pytest.raises(ValidationError, match=r"下一步应为“2\. 党组织派人谈话”"):
        services.record_step(clerk, record, 3, {"date": date(2023, 3, 5)}, today=TODAY)
    with pytest.raises(ValidationError, match="不能早于上一步"):
        services.record_step(
            clerk, record, 2, {"date": date(2023, 2, 28), "people": ["王"]}, today=TODAY
        )
    with pytest.raises(ValidationError, match="不能晚于今天"):
        services.record_step(
            clerk, record, 2, {"date": date(2026, 11, 25), "people": ["王"]}, today=TODAY
        )


def test_applications_go_to_a_branch_not_a_committee_or_temporary_branch(district, committee):
    with pytest.raises(ValidationError, match="不是发展党员的党支部"):
        services.open_record(committee, district.community, application(), TODAY)


def test_public_notice_in_calendar_days_when_the_locality_says_so(
    district, clerk, committee, voters
):
    root = district.root
    RuleOverride.objects.create(root=root, key=rules.NOTICE_WORKING_DAYS.key, value=0)
    RuleOverride.objects.create(root=root, key=rules.NOTICE_LENGTH.key, value=7)
    path = happy_path(voters, district)
    record = services.open_record(clerk, district.branch_a, application(), TODAY)
    walk(record, path, clerk, committee, until=12)
    six_days = {**path[13], "notice_start": date(2024, 8, 2), "notice_end": date(2024, 8, 7)}
    message = refused(rules.NOTICE_LENGTH, attempt(committee, record, 13, six_days))
    assert "7天" in message and "6天" in message
    seven = {**path[13], "notice_start": date(2024, 8, 2), "notice_end": date(2024, 8, 8)}
    services.record_step(committee, record, 13, seven, today=TODAY)


def test_approval_in_the_fourth_to_sixth_month_needs_a_reason(district, clerk, committee, voters):
    path = happy_path(voters, district)
    record = services.open_record(clerk, district.branch_a, application(), TODAY)
    walk(record, path, clerk, committee, until=16)
    with_reason = {**path[17], "date": date(2025, 3, 1), "delay_reason": "基层党委换届"}
    # the last day of the sixth month is allowed with the reason
    step = services.record_step(committee, record, 17, with_reason, today=TODAY)
    assert step.delay_reason == "基层党委换届"
    record.refresh_from_db()
    assert (record.stage, record.approved_on) == (Stage.PROBATIONARY, date(2025, 3, 1))


def test_approval_on_the_last_day_of_the_third_month_needs_no_reason(
    district, clerk, committee, voters
):
    path = happy_path(voters, district)
    record = services.open_record(clerk, district.branch_a, application(), TODAY)
    walk(record, path, clerk, committee, until=16)
    step = services.record_step(
        committee, record, 17, {**path[17], "date": date(2024, 12, 1)}, today=TODAY
    )
    assert step.delay_reason == ""


def test_probation_extended_once_by_six_to_twelve_months(district, clerk, committee, voters):
    path = happy_path(voters, district)
    record = services.open_record(clerk, district.branch_a, application(), TODAY)
    walk(record, path, clerk, committee, until=22)
    decided = date(2025, 9, 5)
    refused(
        rules.EXTENSION_MINIMUM_MONTHS,
        lambda: services.extend_probation(committee, record, 5, decided, "表现不够好"),
    )
    refused(
        rules.EXTENSION_MAXIMUM_MONTHS,
        lambda: services.extend_probation(committee, record, 13, decided, "表现不够好"),
    )
    services.extend_probation(committee, record, 6, decided, "需继续考察")
    record.refresh_from_db()
    assert record.probation_ends_on == date(2026, 3, 1)
    refused(
        rules.EXTENSION_MAXIMUM_MONTHS,
        lambda: services.extend_probation(committee, record, 6, date(2026, 3, 2), "再延长"),
    )
    # the conversion meeting waits for the extended end
    refused(rules.PROBATION_MONTHS, attempt(clerk, record, 23, path[23]))
    services.record_step(clerk, record, 23, {**path[23], "date": date(2026, 3, 2)}, today=TODAY)
    record.refresh_from_db()
    services.record_step(committee, record, 24, {**path[24], "date": date(2026, 4, 1)}, today=TODAY)
    assert Member.objects.get(pk=record.member_id).full_member_on == date(2026, 3, 1)


def test_losing_probationary_membership_takes_them_off_the_roster(
    district, clerk, committee, voters
):
    path = happy_path(voters, district)
    record = services.open_record(clerk, district.branch_a, application(), TODAY)
    walk(record, path, clerk, committee, until=17)
    with pytest.raises(PermissionDenied):
        services.close_record(clerk, record, date(2025, 9, 5), "不具备党员条件")
    services.close_record(committee, record, date(2025, 9, 5), "不具备党员条件")
    record.refresh_from_db()
    assert record.outcome == Outcome.DISQUALIFIED
    assert Member.objects.get(pk=record.member_id).standing == Standing.LEFT
    with pytest.raises(ValidationError, match="不能再登记"):
        attempt(committee, record, 18, path[18])()


def test_a_failed_political_review_stops_the_procedure(district, clerk, committee, voters):
    path = happy_path(voters, district)
    record = services.open_record(clerk, district.branch_a, application(), TODAY)
    walk(record, path, clerk, committee, until=9)
    services.record_step(clerk, record, 10, {**path[10], "passed": False}, today=TODAY)
    record.refresh_from_db()
    services.record_step(clerk, record, 11, path[11], today=TODAY)
    record.refresh_from_db()
    with pytest.raises(RuleViolation, match="政治审查不合格"):
        attempt(clerk, record, 12, path[12])()


def test_other_branches_clerks_cannot_touch_a_record(district, clerk, voters):
    record = services.open_record(clerk, district.branch_a, application(), TODAY)
    other = UserFactory()
    grant(other, district.branch_b, Role.CLERK)
    with pytest.raises(PermissionDenied):
        services.record_step(other, record, 2, {"date": date(2023, 3, 5), "people": ["王"]})


# --- reminders and flags ---------------------------------------------------------------------


def flagged(key, district, today):
    ctx = FlagContext(
        organizations=Organization.objects.within(district.root), rules=RuleBook(), today=today
    )
    return list(FLAGS[key].queryset(ctx))


def test_a_probationary_member_without_an_activist_date_is_assessed_from_admission(
    district, clerk, committee, voters
):
    """A record carried over from paper may lack the date the person became an activist;
    the half-yearly assessment then runs from the branch meeting's admission, the same on
    every database."""
    from dangjian.development.models import DevelopmentRecord
    from dangjian.organizations.services import add_months

    path = happy_path(voters, district)
    record = services.open_record(clerk, district.branch_a, application(), TODAY)
    walk(record, path, clerk, committee, until=steps.APPROVAL)
    assert record.stage == Stage.PROBATIONARY
    DevelopmentRecord.objects.filter(pk=record.pk).update(activist_on=None, last_assessed_on=None)
    reminded_from = add_months(add_months(record.admitted_on, 6), -1)
    assert flagged("development_assessment_due", district, reminded_from) == [record]
    day_before = date.fromordinal(reminded_from.toordinal() - 1)
    assert flagged("development_assessment_due", district, day_before) == []


def test_due_and_overdue_steps_are_flagged_with_their_due_date(district, clerk, committee, voters):
    path = happy_path(voters, district)
    record = services.open_record(clerk, district.branch_a, application(), TODAY)
    talk = FLAGS["development_talk_due"]
    assert flagged("development_talk_due", district, date(2023, 3, 2)) == [record]
    assert talk.due_of(record) == date(2023, 4, 1)
    walk(record, path, clerk, committee, until=3)
    assert flagged("development_talk_due", district, date(2023, 5, 11)) == []

    # half-yearly assessment: due 2023-11-10, reminded a month before
    assert flagged("development_assessment_due", district, date(2023, 10, 9)) == []
    assert flagged("development_assessment_due", district, date(2023, 10, 10)) == [record]
    walk(record, path, clerk, committee, until=15)
    assert flagged("development_approval_pending", district, date(2024, 9, 2)) == [record]
    assert FLAGS["development_approval_pending"].due_of(record) == date(2024, 12, 1)
    walk(record, path, clerk, committee, until=22)
    assert flagged("development_approval_pending", district, date(2024, 11, 16)) == []
    assert flagged("development_probation_ending", district, date(2025, 7, 31)) == []
    assert flagged("development_probation_ending", district, date(2025, 8, 1)) == [record]
    walk(record, path, clerk, committee, until=23)
    assert flagged("development_probation_ending", district, date(2025, 9, 6)) == []
    assert flagged("development_conversion_pending", district, date(2025, 9, 6)) == [record]
    walk(record, path, clerk, committee, until=24)
    assert flagged("development_conversion_pending", district, date(2025, 10, 11)) == []


def test_branch_with_no_new_member_for_three_years(district, clerk, committee, voters):
    today = date(2026, 11, 24)
    make_member(district.branch_b, joined_on=date(2020, 1, 1), full_member_on=date(2021, 1, 1))
    hits = flagged("no_new_member", district, today)
    assert district.branch_a in hits and district.branch_b in hits
    make_member(
        district.branch_b,
        joined_on=date(2023, 11, 24),
        full_member_on=None,
        membership="probationary",
    )
    hits = flagged("no_new_member", district, today)
    assert district.branch_b not in hits and district.branch_a in hits
    # a branch founded less than three years ago is not flagged
    Organization.objects.filter(pk=district.branch_a.pk).update(founded_on=date(2024, 1, 1))
    assert district.branch_a not in flagged("no_new_member", district, today)


def test_pipeline_counts_each_stage_per_child_and_lists_the_overdue(
    district, clerk, committee, voters
):
    from dangjian.development.pipeline import pipeline

    path = happy_path(voters, district)
    applicant = services.open_record(clerk, district.branch_a, application(), TODAY)
    activist = services.open_record(clerk, district.branch_a, application(name="甲"), TODAY)
    walk(activist, path, clerk, committee, until=3)
    probationary = services.open_record(clerk, district.branch_a, application(name="乙"), TODAY)
    walk(probationary, path, clerk, committee, until=20)
    clerk_b = UserFactory()
    grant(clerk_b, district.branch_b, Role.CLERK)
    services.open_record(clerk_b, district.branch_b, application(name="丙"), TODAY)

    result = pipeline(district.community, date(2024, 12, 1))
    rows = {row.organization: row for row in result.rows}
    assert rows[district.branch_a].by_stage == {
        Stage.APPLICANT: 1,
        Stage.ACTIVIST: 1,
        Stage.CANDIDATE: 0,
        Stage.PROBATIONARY: 1,
    }
    assert rows[district.branch_b].by_stage[Stage.APPLICANT] == 1
    assert rows[district.branch_a].admitted_this_year == 1
    assert result.totals.total == 4
    # the applicants' talks were due by 2023-04-01; the activist's assessment by 2023-11-10
    overdue = {(o.record, o.label) for o in result.overdue}
    assert (applicant, str(FLAGS["development_talk_due"].label)) in overdue
    assert (activist, str(FLAGS["development_assessment_due"].label)) in overdue
    assert rows[district.branch_a].overdue == 2 + 0  # 乙's assessment is due 2025-03-01
    assert rows[district.branch_b].overdue == 1
    # from the whole district, branch A's figures are summed into its street
    district_rows = {row.organization: row for row in pipeline(district.root, TODAY).rows}
    assert district_rows[district.street].total == 4
    assert district_rows[district.organs].total == 0


def test_a_conversion_approved_but_not_archived_is_counted_as_converted(
    district, clerk, committee, voters
):
    from dangjian.development.pipeline import pipeline

    path = happy_path(voters, district)
    record = services.open_record(clerk, district.branch_a, application(), TODAY)
    walk(record, path, clerk, committee, until=24)
    result = pipeline(district.community, date(2025, 10, 15))
    row = {r.organization: r for r in result.rows}[district.branch_a]
    assert row.total == 0 and row.converted_this_year == 1


def test_fewer_voters_than_the_roster_only_with_a_reason_and_suspended_members_have_no_vote(
    district, clerk, committee, voters
):
    path = happy_path(voters, district)
    record = services.open_record(clerk, district.branch_a, application(), TODAY)
    walk(record, path, clerk, committee, until=14)
    RewardOrPunishment.objects.create(
        member=voters[8],
        kind=RewardOrPunishment.Kind.PUNISHMENT,
        title="留党察看一年",
        decided_on=date(2024, 3, 1),
    )  # no end date recorded: still without a vote
    assert services.full_members_on(district.branch_a, date(2024, 9, 1)) == 8
    with pytest.raises(ValidationError, match="不能多于"):
        attempt(clerk, record, 15, path[15])()  # 9 entitled, 8 voters
    few = {**path[15], "entitled": 3, "present": 2, "in_favour": 2}
    with pytest.raises(ValidationError, match="须说明原因"):
        attempt(clerk, record, 15, few)()
    step = services.record_step(
        clerk, record, 15, {**few, "entitled_reason": "名册中5人已去世待销号"}, today=TODAY
    )
    assert "名册中5人已去世待销号" in step.note


def test_a_sponsor_under_probation_without_an_end_date_is_refused(
    district, clerk, committee, voters
):
    path = happy_path(voters, district)
    record = services.open_record(clerk, district.branch_a, application(), TODAY)
    walk(record, path, clerk, committee, until=8)
    RewardOrPunishment.objects.create(
        member=voters[1],
        kind=RewardOrPunishment.Kind.PUNISHMENT,
        title="留党察看",
        decided_on=date(2024, 1, 1),
    )
    refused(rules.SPONSORS, attempt(clerk, record, 9, path[9]))


def test_above_a_general_branch_the_committee_approves(district, clerk):
    from .factories import make_org

    general = make_org(district.community, "第三党总支", "general_branch")
    branch = make_org(general, "总支下的党支部")
    general_admin = UserFactory()
    grant(general_admin, general, Role.COMMITTEE_ADMIN)
    record = services.open_record(general_admin, branch, application(date=date(2026, 1, 5)), TODAY)
    assert services.approver_organization(record) == district.community
    services.record_step(
        general_admin, record, 2, {"date": date(2026, 1, 20), "people": ["王"]}, today=TODAY
    )
    record.refresh_from_db()
    services.record_step(general_admin, record, 3, {"date": date(2026, 3, 1)}, today=TODAY)
    record.refresh_from_db()
    with pytest.raises(PermissionDenied):  # the 党总支 cannot file with itself
        services.record_step(general_admin, record, 4, {"date": date(2026, 3, 5)}, today=TODAY)


def test_the_limits_themselves_are_allowed(district, clerk, committee, voters):
    """The talk on the last day of the month, 24 class hours in two days, a 12-month
    extension: each is within the rule."""
    path = happy_path(voters, district)
    record = services.open_record(clerk, district.branch_a, application(), TODAY)
    services.record_step(clerk, record, 2, {**path[2], "date": date(2023, 4, 1)}, today=TODAY)
    record.refresh_from_db()
    walk(record, path, clerk, committee, until=10, start=3)
    services.record_step(
        clerk,
        record,
        11,
        {"date": date(2024, 7, 10), "training_days": 2, "training_hours": 24},
        today=TODAY,
    )
    record.refresh_from_db()
    walk(record, path, clerk, committee, until=22)
    services.extend_probation(committee, record, 12, date(2025, 9, 5), "需继续考察")
    record.refresh_from_db()
    assert record.probation_ends_on == date(2026, 9, 1)
