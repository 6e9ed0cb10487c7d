"""What the dues services keep derived from each member's ledger (dangjian.dues.derived): the
month each base ends and the unpaid runs the arrears flags read. Checked after every kind of
change made through the services against the ledger read month by month, and the flags
against their definition (dangjian/dues/flags.py) for many a "today"."""

import importlib
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection

from dangjian.core.flags import FLAGS, FlagContext
from dangjian.dues import services
from dangjian.dues.derived import refresh_ledger
from dangjian.dues.models import DuesBase, DuesPayment, Reduction, UnpaidRun
from dangjian.dues.rates import DuesCategory, RateTable
from dangjian.dues.rules import ARREARS_MONTHS, ARREARS_WARNING_MONTHS
from dangjian.organizations.models import Organization
from dangjian.organizations.services import add_months, months_between
from dangjian.rules.models import RuleOverride
from dangjian.rules.registry import RuleBook

from .factories import make_member

D = Decimal


def in_service(clerk, member, income, start):
    return services.set_base(
        clerk,
        member,
        {"category": DuesCategory.IN_SERVICE, "monthly_income": income, "effective_from": start},
    )


def pay(clerk, member, month: date, paid_on: date | None = None):
    paid_on = paid_on or month.replace(day=10)
    back = months_between(month, paid_on.replace(day=1)) > 6
    return services.record_payment(
        clerk, member, month, "1000", paid_on, approved=back, reason="支部研究同意" if back else ""
    )


# --- the ledger read month by month -------------------------------------------------------------


def ledger_of(member):
    bases = list(DuesBase.objects.filter(member=member).order_by("effective_from"))
    paid = set(DuesPayment.objects.filter(member=member).values_list("month", flat=True))
    return bases, paid


def in_force(bases, month):
    earlier = [b for b in bases if b.effective_from <= month]
    return earlier[-1] if earlier else None


def covered(bases, paid, month) -> bool:
    """Before the first base, paid, or exempt."""
    base = in_force(bases, month)
    return base is None or month in paid or base.reduction == Reduction.EXEMPT


def expected_runs(member) -> list[tuple[date, date | None]]:
    """The member's runs of months neither paid nor exempt from the first base on. Past the
    last payment and the last base every month is like the last: the run reaching there is
    open-ended."""
    bases, paid = ledger_of(member)
    if not bases:
        return []
    horizon = add_months(max([b.effective_from for b in bases] + list(paid)), 1)
    runs, start, month = [], None, bases[0].effective_from
    while month <= horizon:
        if not covered(bases, paid, month) and start is None:
            start = month
        elif covered(bases, paid, month) and start is not None:
            runs.append((start, add_months(month, -1)))
            start = None
        month = add_months(month, 1)
    if start is not None:
        runs.append((start, None))
    return runs


def stored_runs(member):
    return list(
        UnpaidRun.objects.filter(member=member)
        .order_by("first_month")
        .values_list("first_month", "last_month")
    )


def check(member, runs=None):
    """The stored runs are the ledger's (and ``runs`` when given); each base ends where the
    next one starts."""
    assert stored_runs(member) == expected_runs(member)
    if runs is not None:
        assert stored_runs(member) == runs
    bases = list(DuesBase.objects.filter(member=member).order_by("effective_from"))
    ends = [b.effective_from for b in bases[1:]] + [None]
    assert [b.effective_until for b in bases] == ends[: len(bases)]


def test_derived_data_follow_every_change_made_through_the_services(district, clerk, committee):
    member = make_member(district.branch_a, "张三", joined_on=date(2024, 3, 5))
    check(member, [])  # no base: no ledger
    in_service(clerk, member, "4000", date(2026, 1, 1))
    check(member, [(date(2026, 1, 1), None)])
    for month in (1, 2, 3):
        pay(clerk, member, date(2026, month, 1))
    check(member, [(date(2026, 4, 1), None)])
    # December paid ahead in May: April–November stay unpaid, the open run starts after it
    pay(clerk, member, date(2026, 12, 1), date(2026, 5, 10))
    check(member, [(date(2026, 4, 1), date(2026, 11, 1)), (date(2027, 1, 1), None)])
    pay(clerk, member, date(2026, 4, 1), date(2026, 5, 10))  # back-paid
    check(member, [(date(2026, 5, 1), date(2026, 11, 1)), (date(2027, 1, 1), None)])
    # a new base from July (an income change), then its exemption approved
    july = in_service(clerk, member, "6000", date(2026, 7, 1))
    assert july.effective_until is None
    check(member, [(date(2026, 5, 1), date(2026, 11, 1)), (date(2027, 1, 1), None)])
    services.approve_reduction(committee, july, exempt=True, reason="重病")
    check(member, [(date(2026, 5, 1), date(2026, 6, 1))])
    # the July base declared again: a new income undoes the exemption
    in_service(clerk, member, "6500", date(2026, 7, 1))
    check(member, [(date(2026, 5, 1), date(2026, 11, 1)), (date(2027, 1, 1), None)])
    # a base from an earlier month: the ledger starts there
    first = in_service(clerk, member, "3000", date(2025, 9, 1))
    assert first.effective_until == date(2026, 1, 1)
    check(
        member,
        [
            (date(2025, 9, 1), date(2025, 12, 1)),
            (date(2026, 5, 1), date(2026, 11, 1)),
            (date(2027, 1, 1), None),
        ],
    )
    # a reduction changes what is due, not what is owed
    services.approve_reduction(committee, first, amount="5", reason="困难")
    check(member)
    for month in (9, 10, 11, 12):
        pay(clerk, member, date(2025, month, 1), date(2026, 1, 10))
    check(member, [(date(2026, 5, 1), date(2026, 11, 1)), (date(2027, 1, 1), None)])
    # an exemption in force for good: nothing is owed after it, not even past the payments
    later = in_service(clerk, member, "6500", date(2027, 1, 1))
    services.approve_reduction(committee, later, exempt=True, reason="长期卧床")
    check(member, [(date(2026, 5, 1), date(2026, 11, 1))])
    # the rest of the members are left alone
    other = make_member(district.branch_a)
    in_service(clerk, other, "4000", date(2026, 6, 1))
    check(other, [(date(2026, 6, 1), None)])
    check(member, [(date(2026, 5, 1), date(2026, 11, 1))])


def test_a_member_removed_takes_the_derived_rows_along(district, clerk):
    member = make_member(district.branch_a)
    in_service(clerk, member, "4000", date(2026, 1, 1))
    assert UnpaidRun.objects.filter(member=member).exists()
    member.delete()
    assert not UnpaidRun.objects.exists()


# --- the flags against their definition ---------------------------------------------------------


def expected_arrears(members, today) -> tuple[set[str], set[str]]:
    """The flagged and the warned, by the definition in dangjian/dues/flags.py."""
    last = add_months(today.replace(day=1), -1)
    flag_months = int(ARREARS_MONTHS.default)
    warning_months = int(ARREARS_WARNING_MONTHS.default)
    flagged, warned = set(), set()
    for member in members:
        bases, paid = ledger_of(member)
        if member.standing != "normal" or not bases:
            continue
        at_last = in_force(bases, last)
        if at_last is not None and at_last.reduction == Reduction.EXEMPT:
            continue
        candidates = [member.joined_on.replace(day=1), add_months(bases[0].effective_from, -1)]
        candidates += [month for month in paid if month <= last]
        for index, base in enumerate(bases):
            if base.reduction == Reduction.EXEMPT and base.effective_from <= last:
                following = [
                    b.effective_from for b in bases[index + 1 :] if b.reduction != Reduction.EXEMPT
                ]
                candidates.append(add_months(following[0], -1))
        unpaid = months_between(max(candidates), last)
        if unpaid >= flag_months:
            flagged.add(member.name)
        elif unpaid >= warning_months:
            warned.add(member.name)
    return flagged, warned


def found_arrears(district, today):
    ctx = FlagContext(Organization.objects.within(district.root), RuleBook(), today)
    return (
        {m.name for m in FLAGS["dues_arrears"].queryset(ctx)},
        {m.name for m in FLAGS["dues_arrears_warning"].queryset(ctx)},
    )


def test_the_flags_follow_their_definition_whatever_the_day(district, clerk, committee):
    people = {}

    def member(name, joined=date(2020, 1, 1), **fields):
        people[name] = make_member(district.branch_a, name, joined_on=joined, **fields)
        return people[name]

    def exempt(base):
        services.approve_reduction(committee, base, exempt=True, reason="重病")

    member("未定基数")
    in_service(clerk, member("从不交"), "4000", date(2025, 11, 1))
    paid_some = member("交到三月")
    in_service(clerk, paid_some, "4000", date(2025, 11, 1))
    for month in (date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1), date(2026, 3, 1)):
        pay(clerk, paid_some, month, date(2026, 4, 2))
    ahead = member("跳交预交")
    in_service(clerk, ahead, "4000", date(2026, 1, 1))
    pay(clerk, ahead, date(2026, 2, 1))
    for month in (9, 11, 12):  # October skipped
        pay(clerk, ahead, date(2026, month, 1), date(2026, 8, 20))
    late = member("年中入党", joined=date(2026, 5, 20), membership="probationary")
    in_service(clerk, late, "4000", date(2026, 1, 1))
    gaps = member("两段免交")
    in_service(clerk, gaps, "4000", date(2025, 12, 1))
    exempt(in_service(clerk, gaps, "4000", date(2026, 2, 1)))
    in_service(clerk, gaps, "4000", date(2026, 4, 1))
    exempt(in_service(clerk, gaps, "4000", date(2026, 6, 1)))
    exempt(in_service(clerk, gaps, "4500", date(2026, 7, 1)))
    in_service(clerk, gaps, "4500", date(2026, 8, 1))
    pay(clerk, gaps, date(2026, 4, 1))
    for_good = member("一直免交")
    in_service(clerk, for_good, "4000", date(2025, 12, 1))
    exempt(in_service(clerk, for_good, "4000", date(2026, 5, 1)))
    member("失联", standing="lost_contact")
    in_service(clerk, people["失联"], "4000", date(2025, 11, 1))

    for name in people:
        check(people[name])
    days = [date(2025, 12, 3)] + [date(2026, month, 3) for month in range(1, 13)]
    days += [date(2027, month, 3) for month in range(1, 10)]
    seen = set()
    for today in days:
        expected = expected_arrears(people.values(), today)
        assert found_arrears(district, today) == expected, today
        seen |= expected[0] | expected[1]
        if today >= date(2026, 6, 1):  # L is exempt for good from May 2026
            assert "一直免交" not in expected[0] | expected[1]
    assert {"从不交", "交到三月", "跳交预交", "年中入党", "两段免交", "一直免交"} <= seen
    assert not {"未定基数", "失联"} & seen


def test_the_hits_say_where_the_run_begins(district, clerk, committee):
    ahead = make_member(district.branch_a, "跳交预交", joined_on=date(2020, 1, 1))
    in_service(clerk, ahead, "4000", date(2026, 1, 1))
    pay(clerk, ahead, date(2026, 3, 1))
    pay(clerk, ahead, date(2026, 11, 1), date(2026, 4, 20))  # ahead, with a gap before it
    ctx = FlagContext(Organization.objects.within(district.root), RuleBook(), date(2026, 11, 3))
    [hit] = FLAGS["dues_arrears"].hits(ctx)
    assert hit.detail == "自2026年04月起连续7个月未交纳党费"


# --- the amount due computed by the database -------------------------------------------------


@pytest.mark.parametrize("overridden", [False, True])
def test_the_database_computes_the_amounts_of_the_rate_table(district, overridden):
    """Every bracket, its edges, the half-up rounding (0.5% of 1001.00 is 5.005 → 5.01), the
    fixed categories, reductions and exemptions: the SQL amount is the rate table's, to the
    fen, under the shipped rules and under an organization's own."""
    if overridden:
        for key, value in (
            ("dues.in_service_upper_1", "4000"),
            ("dues.in_service_rate_2", "1.25"),
            ("dues.in_service_rate_4", "2.5"),
            ("dues.retired_rate_1", "0.75"),
            ("dues.farmer_minimum", "0.30"),
            ("dues.low_income_amount", "0.50"),
        ):
            RuleOverride.objects.create(root=district.root, key=key, value=value)
    table = RateTable.from_rules(RuleBook.for_root(district.root))
    member = make_member(district.branch_a)
    month = iter(range(1, 10_000))

    def base(category, income=None, fixed=None, reduction="", reduced=None):
        number = next(month)
        return DuesBase.objects.create(
            member=member,
            year=2000 + number // 12,
            effective_from=date(2000 + number // 12, number % 12 + 1, 1),
            category=category,
            monthly_income=D(income) if income is not None else None,
            fixed_amount=D(fixed) if fixed is not None else None,
            reduction=reduction,
            reduced_amount=D(reduced) if reduced is not None else None,
        )

    incomes = [
        "0", "0.01", "1", "999.99", "1001.00", "1003.00", "2999.99", "3000.00", "3000.01",
        "3333.33", "3999.99", "4000.00", "4000.01", "4999.99", "5000.00", "5000.01", "6666.67",
        "9999.99", "10000.00", "10000.01", "12345.67", "33333.33", "1000000.00",
    ]  # fmt: skip
    for income in incomes:
        base(DuesCategory.IN_SERVICE, income)
        base(DuesCategory.RETIRED, income)
    base(DuesCategory.IN_SERVICE)  # no income entered: as 0
    for fixed in (None, "0.20", "0.55", "1.00"):
        base(DuesCategory.FARMER, fixed=fixed)
    for category in (DuesCategory.STUDENT, DuesCategory.UNEMPLOYED, DuesCategory.RELIEF):
        base(category)
    base(DuesCategory.IN_SERVICE, "8000", reduction=Reduction.REDUCED, reduced="12.34")
    base(DuesCategory.IN_SERVICE, "8000", reduction=Reduction.REDUCED)  # no amount: the full
    base(DuesCategory.RETIRED, "6000", reduction=Reduction.EXEMPT)
    computed = dict(
        DuesBase.objects.annotate(fen=services.due_cents(table)).values_list("pk", "fen")
    )
    assert len(computed) == 2 * len(incomes) + 11
    for base in DuesBase.objects.all():
        assert D(computed[base.pk]) / 100 == services.due_from_base(base, table), (
            base.category,
            base.monthly_income,
            base.fixed_amount,
            base.reduction,
        )


# --- filling everything at once ------------------------------------------------------------------


def test_the_migration_fills_what_the_services_keep(district, clerk, committee):
    """The migration's set-based fill of every member gives what the services kept member by
    member (and so does a refresh of everyone)."""
    for n in range(4):
        member = make_member(district.branch_a, joined_on=date(2020, 1, 1))
        in_service(clerk, member, "4000", date(2025, 12 - n, 1))
        for month in range(1, 2 + 2 * n):
            pay(clerk, member, date(2026, month, 1))
        if n % 2:
            later = in_service(clerk, member, "5000", date(2026, 8 + n, 1))
            services.approve_reduction(committee, later, exempt=True, reason="重病")
    pay(clerk, member, date(2026, 12, 1), date(2026, 6, 1))

    def state():
        runs = sorted(UnpaidRun.objects.values_list("member_id", "first_month", "last_month"))
        ends = sorted(DuesBase.objects.values_list("pk", "effective_until"))
        return runs, ends

    kept = state()
    assert len(kept[0]) >= 5
    migration = importlib.import_module("dangjian.dues.migrations.0002_ledger_summaries")
    UnpaidRun.objects.all().delete()
    DuesBase.objects.update(effective_until=None)
    migration.fill(apps, SimpleNamespace(connection=connection))
    assert state() == kept
    UnpaidRun.objects.all().delete()
    refresh_ledger()
    assert state() == kept
