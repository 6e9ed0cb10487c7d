"""What the dues pages, the export and the API read: a subtree's collection by child, the
monthly collection sheet (党费收缴登记表) and one member's ledger for a year.

Reads only; every figure follows :mod:`dangjian.dues.services` (the amount due of an unpaid
month from the base in force, of a paid month as kept on its payment).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import F, FilteredRelation, Q
from django.db.models.functions import Substr
from django.utils.translation import gettext_lazy as _

from dangjian.members.models import Member
from dangjian.organizations.models import Organization
from dangjian.organizations.services import add_months, rulebook_for
from dangjian.rules.registry import RuleBook

from .models import DuesBase, DuesPayment, Reduction, SpecialContribution, in_force
from .rates import INCOME_CATEGORIES, DuesCategory, RateTable
from .services import (
    ZERO,
    Collection,
    base_from_columns,
    due_from_base,
    first_owed_month,
    month_of,
    owing_members,
    tally,
)

SHORT_CATEGORY = {
    DuesCategory.IN_SERVICE: _("在职"),
    DuesCategory.RETIRED: _("离退休"),
    DuesCategory.FARMER: _("农民"),
    DuesCategory.STUDENT: _("学生"),
    DuesCategory.UNEMPLOYED: _("下岗失业"),
    DuesCategory.RELIEF: _("领取救济金或低保"),
}

# --- collection by child ---------------------------------------------------------------------


@dataclass(frozen=True)
class Rollup:
    """One row of a subtree's statistics: a child with its whole subtree, or (``is_self``)
    the organization's own members."""

    organization: Organization
    is_self: bool
    collection: Collection


@dataclass(frozen=True)
class Statistics:
    organization: Organization
    month: date
    total: Collection
    rows: list[Rollup]


def table_for_organization(organization: Organization, book: RuleBook | None = None):
    return RateTable.from_rules(book or rulebook_for(organization))


def by_child(organization: Organization, month: date, book: RuleBook | None = None) -> Statistics:
    """Collection of ``organization``'s subtree for ``month``: its own members, and each
    child with its whole subtree, plus the total. Two queries whatever the size of the tree:
    one aggregate over the subtree's owing members grouped by the child their organization
    lies under (the first steps of its tree path, see :func:`services.tally`), and one for the
    children themselves."""
    month = month_of(month)
    table = table_for_organization(organization, book)
    length = len(organization.path) + Organization.steplen
    members = owing_members(Organization.objects.within(organization), month)
    by_path = tally(members, month, table, group=Substr("organization__path", 1, length))
    # the active children, and a dissolved one only if members are still recorded under it
    children = (
        Organization.objects.within(organization)
        .filter(depth=organization.depth + 1)
        .filter(Q(dissolved_on__isnull=True) | Q(path__in=list(by_path)))
    )
    empty = Collection(month, 0, 0, 0, ZERO, ZERO)
    rows = []
    if organization.path in by_path:
        rows.append(Rollup(organization, True, by_path[organization.path]))
    for child in children.order_by("path"):
        rows.append(Rollup(child, False, by_path.get(child.path, empty)))
    return Statistics(organization, month, combine(month, by_path.values()), rows)


def combine(month: date, collections) -> Collection:
    owing = paid = without = 0
    due = paid_sum = ZERO
    for c in collections:
        owing += c.members_owing
        paid += c.members_paid
        without += c.members_without_base
        due += c.due
        paid_sum += c.paid
    return Collection(month, owing, paid, without, due, paid_sum)


# --- the monthly collection sheet ------------------------------------------------------------

# The columns of the base in force a line of the sheet reads (as ``b_<column>``).
BASE_COLUMNS = ("category", "monthly_income", "fixed_amount", "reduction", "reduced_amount")


@dataclass(frozen=True)
class SheetRow:
    """One owing member's line for a month."""

    member: Member
    month: date
    organization_name: str
    base: DuesBase | None
    percent: Decimal | None  # the bracket's rate (%), for the income categories
    due: Decimal | None  # None: no base yet, nothing can be computed
    payment: DuesPayment | None
    recorder: str

    @property
    def paid(self) -> bool:
        return self.payment is not None

    @property
    def percent_label(self) -> str:
        return percent_label(self.percent)

    @property
    def category_short(self) -> str:
        return str(SHORT_CATEGORY.get(self.base.category, "")) if self.base else ""

    @property
    def income(self) -> Decimal | None:
        if self.base is None:
            return None
        if self.base.category in INCOME_CATEGORIES:
            return self.base.monthly_income
        return None


def sheet_members(organizations, month: date):
    """The owing members of ``organizations`` for ``month`` with their base in force and the
    month's payment (LEFT JOINs: at most one of each per member and month), in tree and name
    order."""
    month = month_of(month)
    return (
        owing_members(organizations, month)
        .annotate(
            base=FilteredRelation("dues_bases", condition=in_force(month, "dues_bases__")),
            pay=FilteredRelation("dues_payments", condition=Q(dues_payments__month=month)),
        )
        .annotate(
            **{f"b_{field}": F(f"base__{field}") for field in BASE_COLUMNS},
            org_name=F("organization__name"),
            org_path=F("organization__path"),
            p_id=F("pay__id"),
            p_due=F("pay__amount_due"),
            p_paid=F("pay__amount_paid"),
            p_kind=F("pay__kind"),
            p_paid_on=F("pay__paid_on"),
            p_note=F("pay__note"),
            p_reason=F("pay__approved_reason"),
            p_recorder_name=F("pay__recorded_by__full_name"),
            p_recorder_username=F("pay__recorded_by__username"),
        )
        .order_by("organization__path", "name", "pk")
    )


def sheet_row(member: Member, table: RateTable, month: date) -> SheetRow:
    """A member from :func:`sheet_members` as a line of the sheet."""
    base = base_from_columns(
        member.b_category,
        member.b_monthly_income,
        member.b_fixed_amount,
        member.b_reduction,
        member.b_reduced_amount,
    )
    payment = None
    if member.p_id is not None:
        payment = DuesPayment(
            pk=member.p_id,
            member=member,
            month=month_of(month),
            amount_due=member.p_due,
            amount_paid=member.p_paid,
            kind=member.p_kind,
            paid_on=member.p_paid_on,
            note=member.p_note or "",
            approved_reason=member.p_reason or "",
        )
    due = payment.amount_due if payment else (due_from_base(base, table) if base else None)
    return SheetRow(
        member=member,
        month=month_of(month),
        organization_name=member.org_name,
        base=base,
        percent=percent_of(base, table),
        due=due,
        payment=payment,
        recorder=member.p_recorder_name or member.p_recorder_username or "",
    )


def percent_label(percent: Decimal | None) -> str:
    """1.50 → "1.5%", 2.00 → "2%"; "" for None."""
    return "" if percent is None else f"{percent.normalize():f}%"


def percent_of(base: DuesBase | None, table: RateTable) -> Decimal | None:
    """The rate (%) a base's income pays, for the income categories (None for the others)."""
    if base is None:
        return None
    return percent_of_income(table, base.category, base.monthly_income)


def percent_of_income(table: RateTable, category: str, income: Decimal | None) -> Decimal | None:
    """:func:`percent_of` on a base's columns."""
    if category not in INCOME_CATEGORIES:
        return None
    brackets = table.in_service if category == DuesCategory.IN_SERVICE else table.retired
    return table.rate(brackets, income or Decimal(0))


# --- one member's ledger ---------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerMonth:
    month: date
    owed: bool  # on or after the first owed month
    base: DuesBase | None
    due: Decimal | None  # None: owed but no base yet
    payment: DuesPayment | None
    status: str  # paid / unpaid / current / upcoming / not_owed / no_base

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status])


STATUS_LABELS = {
    "paid": _("已交"),
    "unpaid": _("未交"),
    "current": _("本月待交"),
    "upcoming": _("未到期"),
    "not_owed": _("无须交纳"),
    "no_base": _("未定基数"),
}


@dataclass(frozen=True)
class Ledger:
    member: Member
    year: int
    months: list[LedgerMonth]
    bases: list[DuesBase]  # in force at some time in the year, oldest first
    specials: list[SpecialContribution]

    @property
    def total_due(self) -> Decimal:
        return sum((m.due or ZERO for m in self.months if m.owed), ZERO)

    @property
    def total_paid(self) -> Decimal:
        return sum((m.payment.amount_paid for m in self.months if m.payment), ZERO)

    @property
    def reductions(self) -> list[DuesBase]:
        return [b for b in self.bases if b.reduction != Reduction.NONE]


def ledger(member: Member, year: int, today: date, book: RuleBook | None = None) -> Ledger:
    """``member``'s dues month by month in ``year`` (three queries: bases, payments, special
    contributions)."""
    table = RateTable.from_rules(book or rulebook_for(member.organization))
    first, last = date(year, 1, 1), date(year, 12, 1)
    all_bases = list(
        DuesBase.objects.filter(member=member, effective_from__lte=last)
        .select_related("reduction_approved_by", "entered_by")
        .order_by("effective_from")
    )
    payments = {
        p.month: p
        for p in DuesPayment.objects.filter(
            member=member, month__gte=first, month__lte=last
        ).select_related("recorded_by")
    }
    owed_from = first_owed_month(member)
    current = month_of(today)
    months = []
    for index in range(12):
        month = add_months(first, index)
        base = next((b for b in reversed(all_bases) if b.effective_from <= month), None)
        payment = payments.get(month)
        owed = month >= owed_from
        if payment is not None:
            due, status = payment.amount_due, "paid"
        elif not owed:
            due, status = None, "not_owed"
        elif base is None:
            due, status = None, "no_base"
        else:
            due = due_from_base(base, table)
            status = "unpaid" if month < current else "current" if month == current else "upcoming"
        months.append(LedgerMonth(month, owed, base, due, payment, status))
    in_year = [
        b
        for i, b in enumerate(all_bases)
        if b.effective_from >= first
        or i + 1 == len(all_bases)
        or all_bases[i + 1].effective_from > first
    ]
    specials = list(
        SpecialContribution.objects.filter(member=member, date__year=year)
        .select_related("recorded_by", "payment")
        .order_by("date", "pk")
    )
    return Ledger(member, year, months, in_year, specials)
