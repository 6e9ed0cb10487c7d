"""The demo dues ledger (dangjian.dues.demo) on the tiny data set, checked with the real
services and flags."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command

from dangjian.core.flags import FLAGS, FlagContext
from dangjian.dues import services
from dangjian.dues.demo import DuesGenerator
from dangjian.dues.derived import refresh_ledger
from dangjian.dues.flags import last_completed_month
from dangjian.dues.models import (
    DuesBase,
    DuesPayment,
    PaymentKind,
    Reduction,
    SpecialContribution,
    UnpaidRun,
)
from dangjian.dues.rates import DEFAULT_TABLE, DuesCategory
from dangjian.members.choices import ON_ROSTER
from dangjian.members.models import Member
from dangjian.organizations.models import Organization
from dangjian.organizations.services import add_months, months_between
from dangjian.rules.registry import RuleBook

TODAY = date(2026, 11, 24)
LAST = date(2026, 10, 1)  # the last completed month


def seed(seed: int = 2026, today: date = TODAY):
    call_command(
        "seed_demo", "--scale", "tiny", "--seed", str(seed), "--today", today.isoformat(),
        stdout=StringIO(),
    )  # fmt: skip


def snapshot() -> tuple:
    """Everything the generator wrote, without database ids."""
    bases = sorted(
        DuesBase.objects.values_list(
            "member__id_hash",
            "effective_from",
            "category",
            "monthly_income",
            "fixed_amount",
            "reduction",
            "reduced_amount",
            "reduction_reason",
            "note",
        )
    )
    payments = sorted(
        DuesPayment.objects.values_list(
            "member__id_hash", "month", "amount_due", "amount_paid", "kind", "paid_on", "note"
        )
    )
    special = sorted(
        SpecialContribution.objects.values_list("member__id_hash", "amount", "date", "note")
    )
    return bases, payments, special


@pytest.fixture
def tiny(db):
    seed()


def flagged(key: str, today: date = TODAY) -> set[int]:
    ctx = FlagContext(Organization.objects.all(), RuleBook(), today)
    return set(FLAGS[key].queryset(ctx).values_list("pk", flat=True))


def test_every_member_on_the_roster_has_a_base_from_january(tiny):
    members = Member.objects.filter(standing__in=ON_ROSTER)
    assert members.count() > 100
    without = members.exclude(dues_bases__year=2026)
    assert not without.exists()
    for member in members.prefetch_related("dues_bases"):
        bases = list(member.dues_bases.all())
        first_owed = services.first_owed_month(member)
        this_year = [b for b in bases if b.year == 2026]
        assert this_year[0].effective_from == max(date(2026, 1, 1), first_owed)
        assert all(b.effective_from >= min(first_owed, this_year[0].effective_from) for b in bases)
        # the category agrees with the roster (as set_base would check it)
        for base in bases:
            services.check_category_fits(member, base.category)
    # some change mid-year, a few have an approved reduction or exemption
    assert DuesBase.objects.filter(effective_from__gt=date(2026, 1, 1)).exclude(note="").exists()
    relieved = DuesBase.objects.exclude(reduction="")
    assert relieved.filter(reduction=Reduction.REDUCED).exists()
    assert relieved.filter(reduction=Reduction.EXEMPT).exists()
    assert not relieved.filter(reduction_reason="").exists()
    assert not relieved.filter(reduction_approved_by=None).exists()
    assert not relieved.filter(reduction_approved_on=None).exists()
    assert not relieved.filter(reduction_approved_on__gt=TODAY).exists()


def test_all_categories_and_brackets_are_present(tiny):
    table = DEFAULT_TABLE
    categories = set(DuesBase.objects.values_list("category", flat=True))
    assert {
        DuesCategory.IN_SERVICE,
        DuesCategory.RETIRED,
        DuesCategory.FARMER,
        DuesCategory.UNEMPLOYED,
    } <= categories
    # the roster has no students: the category only follows the occupation
    students = Member.objects.filter(occupation="student").exists()
    assert (DuesCategory.STUDENT in categories) == students

    def rates(category, brackets):
        incomes = DuesBase.objects.filter(category=category).values_list(
            "monthly_income", flat=True
        )
        return {table.rate(brackets, income) for income in incomes}

    assert rates(DuesCategory.IN_SERVICE, table.in_service) == {b.percent for b in table.in_service}
    assert rates(DuesCategory.RETIRED, table.retired) == {b.percent for b in table.retired}
    fixed = DuesBase.objects.filter(category=DuesCategory.FARMER).values_list(
        "fixed_amount", flat=True
    )
    assert all(table.farmer_minimum <= amount <= table.farmer_maximum for amount in fixed)
    assert len(set(fixed)) > 1


def test_every_payment_is_what_the_services_say_is_due(tiny):
    payments = list(DuesPayment.objects.select_related("member__organization"))
    assert len(payments) > 1000
    for payment in payments:
        member = payment.member
        assert payment.month >= services.first_owed_month(member)
        assert payment.amount_due == services.monthly_due(member, payment.month)
        assert payment.amount_paid >= payment.amount_due
        assert payment.paid_on <= TODAY
        back = months_between(payment.month, payment.paid_on)
        if payment.kind == PaymentKind.ON_TIME:
            assert back == 0
        elif payment.kind == PaymentKind.BACK_PAID:
            assert 0 < back <= 6
        else:
            assert back < 0 and payment.month.year == payment.paid_on.year
    kinds = {p.kind for p in payments}
    assert kinds == set(PaymentKind.values)
    on_time = sum(p.kind == PaymentKind.ON_TIME for p in payments)
    assert on_time > 0.9 * len(payments)
    # the ledger: the twelve months up to the last completed one, and prepaid months after
    months = {p.month for p in payments}
    assert min(months) == add_months(LAST, -11)
    assert LAST in months
    later = [p for p in payments if p.month > LAST]
    assert later and all(
        p.kind == PaymentKind.PREPAID or p.month == date(2026, 11, 1) for p in later
    )
    assert max(months) == date(2026, 12, 1)
    # an exempt month owes nothing and has no row
    exempt = DuesBase.objects.filter(reduction=Reduction.EXEMPT).first()
    assert not DuesPayment.objects.filter(
        member=exempt.member_id, month__gte=exempt.effective_from
    ).exists()


def test_most_members_are_paid_up_and_a_few_are_in_arrears(tiny):
    flags, warnings = flagged("dues_arrears"), flagged("dues_arrears_warning")
    assert flags and warnings
    assert not flags & warnings
    members = Member.objects.filter(standing__in=ON_ROSTER).count()
    assert len(flags | warnings) < members * 0.1
    # each of them as the flags define it: nothing paid in the last 3 (6) months up to L
    for member_id in flags | warnings:
        paid = DuesPayment.objects.filter(
            member=member_id, month__gt=add_months(LAST, -3), month__lte=LAST
        )
        assert not paid.exists()
    for member_id in flags:
        paid = DuesPayment.objects.filter(
            member=member_id, month__gt=add_months(LAST, -6), month__lte=LAST
        )
        assert not paid.exists()
    # the collection of the last month is mostly in
    collection = services.collection(Organization.objects.all(), LAST)
    assert collection.members_owing > 100
    assert 0.8 < collection.members_paid / collection.members_owing < 1
    assert collection.members_without_base == 0


def test_the_summary_counts_what_the_flags_find(db):
    from dangjian.members.demo import MemberGenerator
    from dangjian.organizations.demo import DemoGenerator

    DemoGenerator(seed=5, scale="tiny", today=TODAY).run()
    MemberGenerator(5, "tiny", TODAY).run(Organization.objects.all())
    summary = DuesGenerator(5, TODAY).run(Organization.objects.all())
    assert summary.payments == DuesPayment.objects.count()
    assert summary.bases == DuesBase.objects.count()
    assert summary.special == SpecialContribution.objects.count() >= 3
    assert len(flagged("dues_arrears")) == summary.flagged_members > 0
    assert len(flagged("dues_arrears_warning")) == summary.warned_members > 0
    assert last_completed_month(TODAY) == LAST


def test_special_contributions(tiny):
    contributions = list(SpecialContribution.objects.select_related("payment"))
    assert len(contributions) >= 3
    assert all(c.amount >= 1000 and c.date <= TODAY for c in contributions)
    given_with_dues = [c for c in contributions if c.payment is not None]
    assert given_with_dues
    for contribution in given_with_dues:
        assert contribution.payment.member_id == contribution.member_id
        assert contribution.date == contribution.payment.paid_on


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_ledger_and_another_seed_another():
    seed()
    first = snapshot()
    assert first[0] and first[1] and first[2]
    call_command(
        "seed_demo", "--scale", "tiny", "--today", TODAY.isoformat(), "--force", stdout=StringIO()
    )
    assert snapshot() == first
    call_command(
        "seed_demo", "--scale", "tiny", "--seed", "9", "--today", TODAY.isoformat(), "--force",
        stdout=StringIO(),
    )  # fmt: skip
    assert snapshot()[1] != first[1]


@pytest.mark.django_db
@pytest.mark.parametrize("today", [date(2026, 1, 6), date(2026, 12, 31)])
def test_other_days_of_the_year(today):
    """In January the whole ledger is last year's; in December nothing is left to prepay."""
    seed(today=today)
    last = last_completed_month(today)
    payments = DuesPayment.objects.select_related("member__organization")
    assert payments.filter(month=last).exists()
    assert not payments.filter(month__lt=add_months(last, -11)).exists()
    for payment in payments.filter(month__in=[last, add_months(last, -11)])[:300]:
        assert payment.amount_due == services.monthly_due(payment.member, payment.month)
        assert payment.paid_on <= today
    assert flagged("dues_arrears", today) and flagged("dues_arrears_warning", today)


def test_the_derived_data_are_those_the_services_would_keep(tiny):
    """The bases' ends the generator writes and the runs it derives are what a refresh of
    every member's ledger gives."""

    def state():
        runs = sorted(UnpaidRun.objects.values_list("member_id", "first_month", "last_month"))
        ends = sorted(DuesBase.objects.values_list("pk", "effective_until"))
        return runs, ends

    seeded = state()
    assert len(seeded[0]) > 100
    assert any(end is not None for _pk, end in seeded[1])
    refresh_ledger()
    assert state() == seeded
