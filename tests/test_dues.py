"""Party dues, read against the regulation: 中组发〔2008〕3号 (rates, back-payment, special
contributions) and 党章 art.9 (six months without paying). Dates are passed explicitly."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.audit.models import AuditEvent
from dangjian.core.flags import FLAGS, FlagContext
from dangjian.dues import services
from dangjian.dues.models import DuesBase, DuesPayment, PaymentKind, SpecialContribution
from dangjian.dues.rates import DEFAULT_TABLE, DuesCategory, RateTable
from dangjian.organizations.models import Organization
from dangjian.rules.models import RuleOverride
from dangjian.rules.registry import RuleBook

from .factories import UserFactory, grant, make_member

D = Decimal


def in_service(clerk, member, income, start=date(2026, 1, 1)):
    return services.set_base(
        clerk,
        member,
        {"category": DuesCategory.IN_SERVICE, "monthly_income": income, "effective_from": start},
    )


# --- the rate table ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("income", "due"),
    [
        ("0", "0.00"),
        ("2999.99", "15.00"),
        ("3000.00", "15.00"),
        ("3000.01", "30.00"),
        ("5000.00", "50.00"),
        ("5000.01", "75.00"),
        ("10000.00", "150.00"),
        ("10000.01", "200.00"),
        ("12345.67", "246.91"),  # 2% of 12345.67 = 246.9134 → 246.91
    ],
)
def test_in_service_rate_applies_to_the_whole_income_of_its_bracket(income, due):
    assert DEFAULT_TABLE.monthly(DuesCategory.IN_SERVICE, D(income), None) == D(due)


@pytest.mark.parametrize(
    ("pension", "due"), [("5000.00", "25.00"), ("5000.01", "50.00"), ("1234.50", "6.17")]
)
def test_retired_pay_on_their_basic_pension(pension, due):
    # 0.5% of 1234.50 = 6.1725 → 6.17 (half up at the fen)
    assert DEFAULT_TABLE.monthly(DuesCategory.RETIRED, D(pension), None) == D(due)


def test_amounts_are_rounded_half_up_to_the_fen():
    # 0.5% of 1001.00 = 5.005 → 5.01, not banker's 5.00
    assert DEFAULT_TABLE.monthly(DuesCategory.IN_SERVICE, D("1001.00"), None) == D("5.01")


def test_fixed_categories():
    assert DEFAULT_TABLE.monthly(DuesCategory.FARMER, None, D("0.50")) == D("0.50")
    for category in (DuesCategory.STUDENT, DuesCategory.UNEMPLOYED, DuesCategory.RELIEF):
        assert DEFAULT_TABLE.monthly(category, None, None) == D("0.20")
    assert "中组发〔2008〕3号" in DEFAULT_TABLE.citation


def test_brackets_are_configurable_per_top_organization(district):
    RuleOverride.objects.create(root=district.root, key="dues.in_service_upper_1", value=4000)
    RuleOverride.objects.create(root=district.root, key="dues.in_service_rate_4", value="2.5")
    table = RateTable.from_rules(RuleBook.for_root(district.root))
    assert table.monthly(DuesCategory.IN_SERVICE, D("3500"), None) == D("17.50")
    assert table.monthly(DuesCategory.IN_SERVICE, D("20000"), None) == D("500.00")
    # Thresholds left out of order by an override cannot form brackets: the defaults hold.
    RuleOverride.objects.create(root=district.root, key="dues.in_service_upper_2", value=3500)
    table = RateTable.from_rules(RuleBook.for_root(district.root))
    assert table.monthly(DuesCategory.IN_SERVICE, D("3500"), None) == D("35.00")


# --- bases ------------------------------------------------------------------------------------


def test_base_for_each_category_through_the_service(district, clerk):
    worker = make_member(district.branch_a, "在职")
    retiree = make_member(district.branch_a, "退休", occupation="retired", category="retired")
    farmer = make_member(district.branch_a, "农民", occupation="farmer")
    student = make_member(district.branch_a, "学生", occupation="student")
    jobless = make_member(district.branch_a, "失业", occupation="other")
    in_service(clerk, worker, "5000.01")
    services.set_base(
        clerk,
        retiree,
        {"category": "retired", "monthly_income": "5000", "effective_from": date(2026, 1, 1)},
    )
    services.set_base(
        clerk,
        farmer,
        {"category": "farmer", "fixed_amount": "1.00", "effective_from": date(2026, 1, 1)},
    )
    services.set_base(clerk, student, {"category": "student", "effective_from": date(2026, 1, 1)})
    services.set_base(
        clerk, jobless, {"category": "unemployed", "effective_from": date(2026, 1, 1)}
    )
    march = date(2026, 3, 1)
    assert services.monthly_due(worker, march) == D("75.00")
    assert services.monthly_due(retiree, march) == D("25.00")
    assert services.monthly_due(farmer, march) == D("1.00")
    assert services.monthly_due(student, march) == D("0.20")
    assert services.monthly_due(jobless, march) == D("0.20")
    assert AuditEvent.objects.filter(action="create").count() >= 5


def test_base_is_validated(district, clerk):
    worker = make_member(district.branch_a)
    with pytest.raises(ValidationError, match="负数"):
        in_service(clerk, worker, "-1")
    with pytest.raises(ValidationError, match="不是离退休人员"):
        services.set_base(clerk, worker, {"category": "retired", "monthly_income": "3000"})
    with pytest.raises(ValidationError, match="不是农牧渔民"):
        services.set_base(clerk, worker, {"category": "farmer", "fixed_amount": "0.5"})
    farmer = make_member(district.branch_a, occupation="farmer")
    with pytest.raises(ValidationError, match=r"0\.20元至1\.00元.*中组发〔2008〕3号"):
        services.set_base(clerk, farmer, {"category": "farmer", "fixed_amount": "1.50"})


def test_a_mid_year_income_change_applies_from_its_month(district, clerk):
    member = make_member(district.branch_a)
    in_service(clerk, member, "4000", date(2026, 1, 1))
    in_service(clerk, member, "6000", date(2026, 7, 15))  # raise from July
    assert services.monthly_due(member, date(2026, 6, 1)) == D("40.00")
    assert services.monthly_due(member, date(2026, 7, 1)) == D("90.00")
    assert services.monthly_due(member, date(2026, 12, 31)) == D("90.00")
    assert member.dues_bases.count() == 2


def test_a_probationary_member_owes_from_the_month_after_joining(district, clerk):
    member = make_member(
        district.branch_a,
        membership="probationary",
        joined_on=date(2026, 3, 20),
        full_member_on=None,
    )
    in_service(clerk, member, "3000", date(2026, 1, 1))
    assert services.monthly_due(member, date(2026, 3, 1)) == D("0.00")
    assert services.monthly_due(member, date(2026, 4, 1)) == D("15.00")
    with pytest.raises(ValidationError, match="次月起交纳党费"):
        services.record_payment(clerk, member, date(2026, 3, 1), "15", date(2026, 3, 25))
    services.record_payment(clerk, member, date(2026, 4, 1), "15", date(2026, 4, 10))


def test_reduction_and_exemption_need_approval_with_a_reason(district, clerk, committee):
    member = make_member(district.branch_a)
    base = in_service(clerk, member, "8000")
    with pytest.raises(ValidationError, match="理由"):
        services.approve_reduction(committee, base, amount="10", reason="")
    services.approve_reduction(
        committee, base, amount="10", reason="家庭困难", approved_on=date(2026, 2, 1)
    )
    assert services.monthly_due(member, date(2026, 3, 1)) == D("10.00")
    services.approve_reduction(committee, base, exempt=True, reason="重病")
    assert services.monthly_due(member, date(2026, 3, 1)) == D("0.00")
    base.refresh_from_db()
    assert base.reduction_approved_by == committee


def test_only_the_higher_committee_approves_a_reduction(district, clerk, committee):
    """党员因特殊情况需减免党费的，须经党支部研究、报上级党委批准: the branch studies it, the
    committee above the branch approves it — not the branch's own clerk or secretary."""
    member = make_member(district.branch_a)
    base = in_service(clerk, member, "8000")
    secretary = UserFactory()
    grant(secretary, district.branch_a, Role.SECRETARY)
    # a committee administrator granted on the branch itself is not the committee above it
    on_the_branch = UserFactory()
    grant(on_the_branch, district.branch_a, Role.COMMITTEE_ADMIN)
    for user in (clerk, secretary, on_the_branch):
        with pytest.raises(PermissionDenied, match="报上级党委批准"):
            services.approve_reduction(user, base, exempt=True, reason="重病")
        with pytest.raises(PermissionDenied):
            services.approve_reduction(user, base, amount="10", reason="家庭困难")
    base.refresh_from_db()
    assert base.reduction == "" and base.reduction_approved_by is None
    assert services.monthly_due(member, date(2026, 3, 1)) == D("120.00")

    services.approve_reduction(committee, base, exempt=True, reason="重病")
    base.refresh_from_db()
    assert base.reduction == "exempt" and base.reduction_approved_by == committee
    assert services.monthly_due(member, date(2026, 3, 1)) == D("0.00")
    # a committee higher up approves too (its grant covers the committee above the branch)
    top = UserFactory()
    grant(top, district.root, Role.COMMITTEE_ADMIN)
    services.approve_reduction(top, base, amount="10", reason="家庭困难")
    base.refresh_from_db()
    assert base.reduction == "reduced" and base.reduction_approved_by == top


def test_where_a_reduction_is_approved(district):
    approver = services.approver_organization
    assert approver(district.branch_a) == district.community
    assert approver(district.organ_branch) == district.organs
    # a party group's members belong to its branch: the committee above the branch
    assert approver(district.group_a) == district.community
    # members kept directly on a committee's roster: the committee above it
    assert approver(district.community) == district.street
    assert approver(district.root) == district.root  # the top has nothing above it
    group_member = make_member(district.group_a)
    base = DuesBase.objects.create(
        member=group_member,
        year=2026,
        effective_from=date(2026, 1, 1),
        category=DuesCategory.IN_SERVICE,
        monthly_income=D("4000"),
    )
    branch_admin = UserFactory()
    grant(branch_admin, district.branch_a, Role.COMMITTEE_ADMIN)
    with pytest.raises(PermissionDenied):
        services.approve_reduction(branch_admin, base, exempt=True, reason="重病")


# --- the ledger -------------------------------------------------------------------------------


def test_a_payment_needs_a_base_for_its_month(district, clerk):
    """Without a base nothing is known to be due: the amount would be taken as 0.00 due and
    anything from 1000 yuan on as a special contribution. Refused until a base is set."""
    member = make_member(district.branch_a)
    for amount in ("40", "1040"):
        with pytest.raises(ValidationError, match="请先设定党费交纳基数"):
            services.record_payment(clerk, member, date(2026, 5, 1), amount, date(2026, 5, 10))
    # a base from June does not cover May
    in_service(clerk, member, "4000", start=date(2026, 6, 1))
    with pytest.raises(ValidationError, match="请先设定党费交纳基数"):
        services.record_payment(clerk, member, date(2026, 5, 1), "40", date(2026, 5, 10))
    assert not DuesPayment.objects.exists()
    assert not SpecialContribution.objects.exists()
    payment = services.record_payment(clerk, member, date(2026, 6, 1), "40", date(2026, 6, 10))
    assert payment.amount_due == D("40.00")


def test_a_payment_cannot_be_dated_after_today(district, clerk):
    member = make_member(district.branch_a)
    in_service(clerk, member, "4000", start=date(2025, 1, 1))
    today = timezone.localdate()
    with pytest.raises(ValidationError, match="交纳日期不能晚于今天"):
        services.record_payment(
            clerk, member, today.replace(day=1), "40", today + timedelta(days=1)
        )
    assert not DuesPayment.objects.exists()
    payment = services.record_payment(clerk, member, today.replace(day=1), "40", today)
    assert payment.paid_on == today and payment.kind == PaymentKind.ON_TIME


def test_payments_on_time_back_paid_and_prepaid(district, clerk):
    member = make_member(district.branch_a)
    in_service(clerk, member, "4000")
    paid_on = date(2026, 5, 10)
    kinds = {
        month: services.record_payment(clerk, member, date(2026, month, 1), "40", paid_on).kind
        for month in (5, 1, 12)
    }
    assert kinds == {5: PaymentKind.ON_TIME, 1: PaymentKind.BACK_PAID, 12: PaymentKind.PREPAID}
    with pytest.raises(ValidationError, match="已登记"):
        services.record_payment(clerk, member, date(2026, 5, 1), "40", paid_on)
    with pytest.raises(ValidationError, match="本年度"):
        services.record_payment(clerk, member, date(2027, 1, 1), "40", paid_on)
    with pytest.raises(ValidationError, match="少于应交"):
        services.record_payment(clerk, member, date(2026, 6, 1), "39.99", paid_on)


def test_back_payment_beyond_six_months_needs_approval_with_a_reason(district, clerk):
    member = make_member(district.branch_a)
    in_service(clerk, member, "4000", date(2025, 1, 1))
    paid_on = date(2026, 5, 10)
    six_back, seven_back = date(2025, 11, 1), date(2025, 10, 1)
    services.record_payment(clerk, member, six_back, "40", paid_on)
    with pytest.raises(ValidationError) as refused:
        services.record_payment(clerk, member, seven_back, "40", paid_on)
    message = refused.value.messages[0]
    assert "补交党费一般不超过6个月" in message
    assert "中组发〔2008〕3号" in message
    with pytest.raises(ValidationError, match="批准理由"):
        services.record_payment(clerk, member, seven_back, "40", paid_on, approved=True)
    payment = services.record_payment(
        clerk, member, seven_back, "40", paid_on, approved=True, reason="支部委员会研究同意"
    )
    assert payment.kind == PaymentKind.BACK_PAID
    assert payment.approved_reason == "支部委员会研究同意"


def test_backpay_limit_is_a_configurable_rule(district, clerk):
    RuleOverride.objects.create(root=district.root, key="dues.backpay_months", value=3)
    member = make_member(district.branch_a)
    in_service(clerk, member, "4000", date(2025, 1, 1))
    with pytest.raises(ValidationError, match="不超过3个月"):
        services.record_payment(clerk, member, date(2026, 1, 1), "40", date(2026, 5, 10))


def test_a_payment_of_1000_beyond_the_dues_is_a_special_contribution(district, clerk):
    member = make_member(district.branch_a)
    in_service(clerk, member, "4000")
    payment = services.record_payment(clerk, member, date(2026, 5, 1), "1040", date(2026, 5, 10))
    assert payment.amount_due == payment.amount_paid == D("40.00")
    special = SpecialContribution.objects.get(member=member)
    assert special.amount == D("1000.00") and special.payment == payment
    # less than 1000 beyond the dues stays in the ledger as paid
    payment = services.record_payment(clerk, member, date(2026, 6, 1), "140", date(2026, 6, 10))
    assert payment.amount_paid == D("140.00")
    assert SpecialContribution.objects.count() == 1
    with pytest.raises(ValidationError, match="1000"):
        services.record_special_contribution(clerk, member, "999.99", date(2026, 6, 1))
    services.record_special_contribution(clerk, member, "2000", date(2026, 7, 1), "抗洪救灾")
    assert SpecialContribution.objects.count() == 2


def test_a_clerk_of_another_branch_cannot_record_payments(district, clerk):
    member = make_member(district.branch_b)
    in_service_user = UserFactory()
    grant(in_service_user, district.branch_b, Role.CLERK)
    in_service(in_service_user, member, "4000")
    with pytest.raises(PermissionDenied):
        services.record_payment(clerk, member, date(2026, 5, 1), "40", date(2026, 5, 10))
    with pytest.raises(PermissionDenied):
        in_service(clerk, member, "5000")
    assert not DuesPayment.objects.exists()
    # the committee above covers both branches
    admin = UserFactory()
    grant(admin, district.community, Role.COMMITTEE_ADMIN)
    services.record_payment(admin, member, date(2026, 5, 1), "40", date(2026, 5, 10))


# --- arrears ----------------------------------------------------------------------------------

TODAY = date(2026, 11, 24)  # the last completed month is October 2026


def arrears(district, today=TODAY):
    ctx = FlagContext(Organization.objects.within(district.root), RuleBook(), today)
    return (
        {m.name for m in FLAGS["dues_arrears"].queryset(ctx)},
        {m.name for m in FLAGS["dues_arrears_warning"].queryset(ctx)},
    )


def pay_through(clerk, member, last_month: date):
    """Pay January 2026 through ``last_month``."""
    for month in range(1, last_month.month + 1):
        day = date(2026, month, 1)
        services.record_payment(clerk, member, day, "40", day.replace(day=10))


def test_arrears_warned_from_three_months_and_flagged_at_exactly_six(district, clerk):
    members = {}
    # unpaid run ending in October: paid through (10 - n)
    for unpaid in (2, 3, 5, 6, 9):
        member = make_member(district.branch_a, f"欠{unpaid}个月")
        in_service(clerk, member, "4000")
        pay_through(clerk, member, date(2026, 10 - unpaid, 1))
        members[unpaid] = member
    flagged, warned = arrears(district)
    assert flagged == {"欠6个月", "欠9个月"}
    assert warned == {"欠3个月", "欠5个月"}
    # Paying the latest month (October, on time... or late) clears the run.
    services.record_payment(clerk, members[6], date(2026, 10, 1), "40", date(2026, 11, 5))
    flagged, warned = arrears(district)
    assert flagged == {"欠9个月"}


def test_arrears_count_from_the_first_owed_month_and_skip_the_exempt(district, clerk, committee):
    for name, joined in (
        ("四月入党", date(2026, 4, 15)),  # owes May–Oct: 6
        ("五月入党", date(2026, 5, 15)),  # owes Jun–Oct: 5
        ("十月入党", date(2026, 10, 2)),  # owes nothing yet
    ):
        in_service(clerk, make_member(district.branch_a, name, joined_on=joined), "4000")
    exempt = make_member(district.branch_a, "免交", joined_on=date(2026, 1, 5))
    base = in_service(clerk, exempt, "1000")
    services.approve_reduction(committee, base, exempt=True, reason="特困")
    make_member(district.branch_a, "失联", joined_on=date(2026, 1, 5), standing="lost_contact")
    flagged, warned = arrears(district)
    assert "四月入党" in flagged and "五月入党" in warned
    assert not {"十月入党", "免交", "失联"} & (flagged | warned)


def with_bases(district, clerk, committee, name, *periods):
    """A member of branch_a (joined long ago) with a base from each ``(month, exempt)`` of
    2026 given: in service on 4000 (40.00 a month), or exempt."""
    member = make_member(district.branch_a, name)
    for month, exempt in periods:
        base = in_service(clerk, member, "4000", start=date(2026, month, 1))
        if exempt:
            services.approve_reduction(committee, base, exempt=True, reason="重病")
    return member


EXEMPT, OWING = True, False


def test_months_under_an_exemption_are_not_arrears(district, clerk, committee):
    """Exempt January–August, a normal base from September: in November (L = October) only
    September and October are unpaid — not the ten months since January."""
    with_bases(district, clerk, committee, "免交至八月", (1, EXEMPT), (9, OWING))
    flagged, warned = arrears(district)
    assert "免交至八月" not in flagged | warned
    # L = November: September–November, 3 months: the warning
    flagged, warned = arrears(district, date(2026, 12, 3))
    assert "免交至八月" in warned and "免交至八月" not in flagged
    # L = January: 5 months, still the warning; L = February: 6, the flag
    flagged, warned = arrears(district, date(2027, 2, 3))
    assert "免交至八月" in warned and "免交至八月" not in flagged
    flagged, warned = arrears(district, date(2027, 3, 3))
    assert "免交至八月" in flagged and "免交至八月" not in warned
    ctx = FlagContext(Organization.objects.within(district.root), RuleBook(), date(2027, 3, 3))
    [hit] = FLAGS["dues_arrears"].hits(ctx)
    assert hit.detail == "自2026年09月起连续6个月未交纳党费"


def test_the_run_starts_after_the_latest_exempt_period(district, clerk, committee):
    """L = October 2026 throughout."""
    # exempt January–April, owing from May: May–October, exactly 6: flagged
    with_bases(district, clerk, committee, "免交至四月", (1, EXEMPT), (5, OWING))
    # exempt January–July, owing from August: 3, warned
    with_bases(district, clerk, committee, "免交至七月", (1, EXEMPT), (8, OWING))
    # two exempt bases in a row (re-approved on a new income), owing from September: 2
    with_bases(district, clerk, committee, "两次免交", (1, EXEMPT), (3, EXEMPT), (9, OWING))
    # unpaid March–April, then exempt May–June: the run starts again in July, 4 months
    with_bases(
        district, clerk, committee, "两段免交", (1, EXEMPT), (3, OWING), (5, EXEMPT), (7, OWING)
    )
    # paid January–March, exempt April–June, unpaid since July: 4 months
    paid_first = with_bases(
        district, clerk, committee, "先交后免", (1, OWING), (4, EXEMPT), (7, OWING)
    )
    pay_through(clerk, paid_first, date(2026, 3, 1))
    # exempt January–February, paid March–April, unpaid since May: the payment is later, 6
    paid_after = with_bases(district, clerk, committee, "免后交", (1, EXEMPT), (3, OWING))
    for month in (3, 4):
        day = date(2026, month, 1)
        services.record_payment(clerk, paid_after, day, "40", day.replace(day=10))
    # still exempt in October: left out, whatever came before
    with_bases(district, clerk, committee, "仍免交", (1, OWING), (6, EXEMPT))
    flagged, warned = arrears(district)
    assert flagged == {"免交至四月", "免后交"}
    assert warned == {"免交至七月", "两段免交", "先交后免"}


def test_prepaying_ahead_does_not_hide_arrears(district, clerk):
    member = make_member(district.branch_a, "跳交", joined_on=date(2025, 12, 5))
    in_service(clerk, member, "4000")
    services.record_payment(clerk, member, date(2026, 12, 1), "40", date(2026, 1, 10))
    flagged, _ = arrears(district)
    assert "跳交" in flagged  # January–October unpaid


def test_each_arrears_flag_is_one_query(district, clerk, committee):
    for n in range(5):
        member = make_member(district.branch_a, f"党员{n}", joined_on=date(2025, 1, 1))
        in_service(clerk, member, "4000", start=date(2026, 1 + n, 1))  # 10 to 6 months
    for n in range(3):  # exempt January–March, then 7 months; or until July, then 3 months
        with_bases(district, clerk, committee, f"免交{n}", (1, EXEMPT), (4 + 4 * (n % 2), OWING))
    ctx = FlagContext(Organization.objects.within(district.root), RuleBook(), TODAY)
    found = {}
    for key in ("dues_arrears", "dues_arrears_warning"):
        with CaptureQueriesContext(connection) as queries:
            hits = FLAGS[key].hits(ctx)
        assert len(queries) == 1
        found[key] = {hit.obj.name: hit.detail for hit in hits}
    assert found["dues_arrears"] == {
        **{f"党员{n}": f"自2026年{1 + n:02d}月起连续{10 - n}个月未交纳党费" for n in range(5)},
        "免交0": "自2026年04月起连续7个月未交纳党费",
        "免交2": "自2026年04月起连续7个月未交纳党费",
    }
    assert found["dues_arrears_warning"] == {"免交1": "自2026年08月起连续3个月未交纳党费"}


# --- collection statistics --------------------------------------------------------------------


def test_collection_for_a_subtree_and_month(district, clerk):
    paid = make_member(district.branch_a, "已交")
    unpaid = make_member(district.branch_a, "未交")
    no_base = make_member(district.branch_a, "未定基数")
    make_member(district.branch_a, "新党员", joined_on=date(2026, 5, 3))  # owes from June
    in_service(clerk, paid, "4000")
    in_service(clerk, unpaid, "12000")
    services.record_payment(clerk, paid, date(2026, 5, 1), "40", date(2026, 5, 8))
    other = make_member(district.organ_branch, "机关")
    organs_clerk = UserFactory()
    grant(organs_clerk, district.organ_branch, Role.CLERK)
    in_service(organs_clerk, other, "3000")
    with CaptureQueriesContext(connection) as queries:
        stats = services.collection(
            Organization.objects.within(district.community), date(2026, 5, 20)
        )
    assert len(queries) == 1
    assert stats.members_owing == 3
    assert stats.members_paid == 1
    assert stats.members_unpaid == 2
    assert stats.members_without_base == 1
    assert stats.due == D("280.00")  # 40 + 2% of 12000
    assert stats.paid == D("40.00")
    assert stats.rate == D("0.1429")
    # the member without a base is the one counted apart, owing with nothing computed
    assert services.base_for(no_base, date(2026, 5, 1)) is None
    assert services.monthly_due(no_base, date(2026, 5, 1)) == D("0.00")
    in_service(clerk, no_base, "6000")
    stats = services.collection(Organization.objects.within(district.community), date(2026, 5, 1))
    assert (stats.members_owing, stats.members_without_base) == (3, 0)
    assert stats.due == D("370.00")  # + 1.5% of 6000


def test_the_ledger_starts_with_the_members_first_base(district, clerk):
    """Adopting the system does not put every member in arrears: months count from the
    member's first dues base, and a member without one is not flagged at all."""
    make_member(district.branch_a, "未定基数", joined_on=date(2000, 7, 1))
    since_june = make_member(district.branch_a, "六月起", joined_on=date(2000, 7, 1))
    in_service(clerk, since_june, "4000", start=date(2026, 6, 1))  # owes Jun–Oct: 5
    since_may = make_member(district.branch_a, "五月起", joined_on=date(2000, 7, 1))
    in_service(clerk, since_may, "4000", start=date(2026, 5, 1))  # owes May–Oct: 6
    flagged, warned = arrears(district)
    assert "未定基数" not in flagged | warned
    assert "六月起" in warned and "六月起" not in flagged
    assert "五月起" in flagged
