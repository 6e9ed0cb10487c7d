"""Party dues: setting a member's base, approving reductions, the monthly amount, the ledger,
and collection statistics.

Every write checks MANAGE_DUES on the member's organization — except the approval of a
reduction or exemption, which is the higher committee's: APPROVE_DUES on the organization
above the member's branch — runs in one transaction and is audited. Months are the first day
of the month; a date inside a month stands for that month.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import (
    BigIntegerField,
    Case,
    CharField,
    Count,
    F,
    FilteredRelation,
    Q,
    Sum,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from dangjian.accounts.roles import Perm
from dangjian.accounts.scope import has_perm_on
from dangjian.audit.models import AuditAction
from dangjian.audit.services import record, snapshot
from dangjian.members.choices import ON_ROSTER, Category, Occupation
from dangjian.members.models import Member
from dangjian.organizations.models import Organization, OrgType
from dangjian.organizations.services import (
    RuleViolation,
    add_months,
    months_between,
    require,
    rulebook_for,
)
from dangjian.rules.registry import RuleBook

from .derived import refresh_ledger
from .models import (
    DuesBase,
    DuesPayment,
    PaymentKind,
    Reduction,
    SpecialContribution,
    in_force,
)
from .rates import CENT, INCOME_CATEGORIES, Cents, DuesCategory, RateTable, to_cents
from .rules import BACKPAY_MONTHS, DUES_CITATION, SPECIAL_CONTRIBUTION_MINIMUM

ZERO = Decimal("0.00")


def month_of(day: date) -> date:
    return day.replace(day=1)


def first_owed_month(member: Member) -> date:
    """Dues are owed from the month after the branch meeting that admitted the member as
    probationary (中组发〔2008〕3号). The roster's 入党日期 (``joined_on``) is that meeting's
    date, so: the month after ``joined_on``."""
    return add_months(month_of(member.joined_on), 1)


def table_for(member: Member, book: RuleBook | None = None) -> RateTable:
    return RateTable.from_rules(book or rulebook_for(member.organization))


def base_for(member: Member, month: date) -> DuesBase | None:
    """The base in force in ``month``: the latest whose ``effective_from`` is not after it."""
    return (
        DuesBase.objects.filter(member=member, effective_from__lte=month_of(month))
        .order_by("-effective_from")
        .first()
    )


def due_from_base(base: DuesBase | None, table: RateTable) -> Decimal:
    """The monthly amount a base asks for, after an approved reduction or exemption. No base
    yet: nothing can be computed, 0.00 (collection statistics count such members apart)."""
    if base is None:
        return ZERO
    return due_from_columns(
        table,
        base.category,
        base.monthly_income,
        base.fixed_amount,
        base.reduction,
        base.reduced_amount,
    )


def due_from_columns(table: RateTable, category, income, fixed, reduction, reduced) -> Decimal:
    """:func:`due_from_base` on a base's columns as read from the database."""
    if reduction == Reduction.EXEMPT:
        return ZERO
    if reduction == Reduction.REDUCED and reduced is not None:
        return to_cents(reduced)
    return table.monthly(category, income, fixed)


def monthly_due(member: Member, month: date, book: RuleBook | None = None) -> Decimal:
    """What ``member`` owes for ``month``: 0 before the first owed month, otherwise the amount
    of the base in force that month."""
    month = month_of(month)
    if month < first_owed_month(member):
        return ZERO
    return due_from_base(base_for(member, month), table_for(member, book))


# --- bases -----------------------------------------------------------------------------------

BASE_FIELDS = ["category", "monthly_income", "fixed_amount", "declared_by_member", "note"]


def _decimal(value, label: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        raise ValidationError(_("%(label)s不是有效的金额。") % {"label": label}) from None
    if not number.is_finite() or number != number.quantize(Decimal("0.01")):
        raise ValidationError(_("%(label)s最多保留两位小数。") % {"label": label})
    return number


def check_category_fits(member: Member, category: str) -> None:
    """The dues category must agree with what the roster says the member is."""
    retired = member.occupation == Occupation.RETIRED or member.category == Category.RETIRED
    if category == DuesCategory.RETIRED and not retired:
        raise ValidationError(_("花名册中该党员不是离退休人员，不能按基本离退休费交纳党费。"))
    if category == DuesCategory.IN_SERVICE and retired:
        raise ValidationError(_("该党员为离退休人员，应按基本离退休费交纳党费。"))
    if category == DuesCategory.FARMER and member.occupation != Occupation.FARMER:
        raise ValidationError(_("花名册中该党员的工作岗位不是农牧渔民。"))
    if category == DuesCategory.STUDENT and member.occupation != Occupation.STUDENT:
        raise ValidationError(_("花名册中该党员的工作岗位不是学生。"))


@transaction.atomic
def set_base(actor, member: Member, data: dict) -> DuesBase:
    """Declare or correct ``member``'s base from ``data["effective_from"]``'s month (default:
    January of the current year). A base already starting that month is replaced."""
    # The member first, then its bases: the order every change of a ledger locks in
    # (record_payment, refresh_ledger), so two changes of one ledger wait, never deadlock.
    member = Member.objects.select_for_update().select_related("organization").get(pk=member.pk)
    require(actor, Perm.MANAGE_DUES, member.organization)
    category = data.get("category")
    if category not in DuesCategory.values:
        raise ValidationError(_("请选择党费交纳类别。"))
    check_category_fits(member, category)
    start = data.get("effective_from") or date(date.today().year, 1, 1)
    start = month_of(start)
    income = _decimal(data.get("monthly_income"), _("月收入"))
    fixed = _decimal(data.get("fixed_amount"), _("每月交纳额"))
    table = table_for(member)
    if category in INCOME_CATEGORIES:
        if income is None:
            raise ValidationError(_("请填写税后月工资性收入或基本离退休费。"))
        if income < 0:
            raise ValidationError(_("月收入不能为负数。"))
        fixed = None
    else:
        income = None
    if category == DuesCategory.FARMER:
        if fixed is None:
            fixed = table.farmer_minimum
        if not table.farmer_minimum <= fixed <= table.farmer_maximum:
            raise RuleViolation(
                _("农民党员每月交纳党费%(low)s元至%(high)s元，%(amount)s元不在此范围内。")
                % {"low": table.farmer_minimum, "high": table.farmer_maximum, "amount": fixed},
                table.citation,
            )
    else:
        fixed = None
    values = {
        "year": start.year,
        "category": category,
        "monthly_income": income,
        "fixed_amount": fixed,
        "declared_by_member": bool(data.get("declared_by_member", False)),
        "note": data.get("note", "") or "",
        "entered_by": actor,
    }
    base = DuesBase.objects.select_for_update().filter(member=member, effective_from=start).first()
    if base is None:
        base = DuesBase.objects.create(member=member, effective_from=start, **values)
        refresh_ledger([member.pk])
        base.refresh_from_db(fields=["effective_until"])
        record(
            AuditAction.CREATE,
            actor=actor,
            instance=base,
            organization=member.organization,
            after=snapshot(base),
        )
        return base
    before = snapshot(base)
    for field, value in values.items():
        setattr(base, field, value)
    # a new income undoes a reduction approved on the old one: it must be approved again
    base.reduction, base.reduced_amount, base.reduction_reason = "", None, ""
    base.reduction_approved_by, base.reduction_approved_on = None, None
    base.save()
    refresh_ledger([member.pk])  # an exemption may have been undone
    record(
        AuditAction.UPDATE,
        actor=actor,
        instance=base,
        organization=member.organization,
        before=before,
        after=snapshot(base),
    )
    return base


def approver_organization(organization: Organization) -> Organization:
    """Where a reduction or exemption of the dues of ``organization``'s members is approved:
    the party committee above the branch (党员因特殊情况需减免党费的，须经党支部研究、报上级
    党委批准). A party group's members belong to its branch, so for a group that is the
    organization above the group's branch. At the top of the tree: the organization itself."""
    branch = organization
    if branch.org_type == OrgType.GROUP:
        branch = Organization.objects.get_parent(branch) or branch
    return Organization.objects.get_parent(branch) or branch


def may_approve_reduction(user, member: Member) -> bool:
    return has_perm_on(user, Perm.APPROVE_DUES, approver_organization(member.organization))


@transaction.atomic
def approve_reduction(
    actor,
    base: DuesBase,
    *,
    exempt: bool = False,
    amount=None,
    reason: str,
    approved_on: date | None = None,
) -> DuesBase:
    """Record the approval of a reduced monthly amount (``amount``) or an exemption for
    ``base``'s period. Studied by the branch, approved by the higher committee (党员因特殊情况
    需减免党费的，须经党支部研究、报上级党委批准): ``actor`` needs APPROVE_DUES on the
    organization above the member's branch (see :func:`approver_organization`); the branch's
    own clerk or secretary cannot approve it."""
    # The member's row before the base's, as every change of a ledger locks them.
    member_id = DuesBase.objects.values_list("member_id", flat=True).get(pk=base.pk)
    list(Member.objects.select_for_update().filter(pk=member_id).values_list("pk"))
    base = (
        DuesBase.objects.select_for_update(of=("self",))
        .select_related("member__organization")
        .get(pk=base.pk)
    )
    member = base.member
    require(
        actor,
        Perm.APPROVE_DUES,
        approver_organization(member.organization),
        _("减免党费须报上级党委批准，您无权在“%(org)s”批准减免。"),
    )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("减免党费须写明理由。"))
    before = snapshot(base)
    if exempt:
        base.reduction, base.reduced_amount = Reduction.EXEMPT, None
    else:
        reduced = _decimal(amount, _("减交后金额"))
        if reduced is None or reduced < 0:
            raise ValidationError(_("请填写减交后的每月金额。"))
        full = table_for(member).monthly(base.category, base.monthly_income, base.fixed_amount)
        if reduced >= full:
            raise ValidationError(_("减交后的金额应少于按标准应交的%(full)s元。") % {"full": full})
        base.reduction, base.reduced_amount = Reduction.REDUCED, reduced
    base.reduction_reason = reason
    base.reduction_approved_by = actor
    base.reduction_approved_on = approved_on or date.today()
    base.save()
    refresh_ledger([member.pk])
    record(
        AuditAction.UPDATE,
        actor=actor,
        instance=base,
        organization=member.organization,
        before=before,
        after=snapshot(base),
        reason=reason,
    )
    return base


# --- the ledger ------------------------------------------------------------------------------


@transaction.atomic
def record_payment(
    actor,
    member: Member,
    month: date,
    amount,
    paid_on: date,
    *,
    approved: bool = False,
    reason: str = "",
    note: str = "",
) -> DuesPayment:
    """Record ``member``'s dues for ``month`` paid on ``paid_on``.

    The month of ``paid_on`` is paid on time; earlier months are back-paid, at most
    ``dues.backpay_months`` back unless the party organization approved it (``approved`` with
    a ``reason``); later months of the same year may be prepaid. The amount may not be less
    than due (a lower amount needs an approved reduction). Of an amount beyond what is due,
    1000 yuan or more is a special contribution, recorded separately. ``paid_on`` may not be
    after today, and the month needs a base in force (without one nothing is known to be
    due)."""
    member = Member.objects.select_for_update().select_related("organization").get(pk=member.pk)
    require(actor, Perm.MANAGE_DUES, member.organization)
    if member.standing not in ON_ROSTER:
        raise ValidationError(_("该党员已不在花名册中，不能登记党费。"))
    if paid_on > timezone.localdate():
        raise ValidationError(_("交纳日期不能晚于今天。"))
    month, current = month_of(month), month_of(paid_on)
    book = rulebook_for(member.organization)
    if month < first_owed_month(member):
        raise RuleViolation(
            _("预备党员从支部大会通过其为预备党员的次月起交纳党费，%(month)s尚不需交纳。")
            % {"month": f"{month:%Y年%m月}"},
            DUES_CITATION,
        )
    if base_for(member, month) is None:
        raise ValidationError(_("请先设定党费交纳基数。"))
    back = months_between(month, current)
    limit = int(book[BACKPAY_MONTHS.key])
    reason = (reason or "").strip()
    if back > 0:
        kind = PaymentKind.BACK_PAID
        if back > limit:
            if not approved:
                raise RuleViolation(
                    _(
                        "补交党费一般不超过%(limit)d个月，%(month)s已过去%(back)d个月；"
                        "超期补交须经党组织批准并说明理由。"
                    )
                    % {"limit": limit, "month": f"{month:%Y年%m月}", "back": back},
                    BACKPAY_MONTHS.citation,
                )
            if not reason:
                raise ValidationError(_("超期补交须写明批准理由。"))
    elif back < 0:
        kind = PaymentKind.PREPAID
        if month.year != current.year:
            raise RuleViolation(_("预交党费限于本年度内的月份。"), DUES_CITATION)
    else:
        kind = PaymentKind.ON_TIME
    if DuesPayment.objects.filter(member=member, month=month).exists():
        raise ValidationError(
            _("%(name)s %(month)s的党费已登记。")
            % {"name": member.name, "month": f"{month:%Y年%m月}"}
        )
    paid = _decimal(amount, _("实交金额"))
    if paid is None or paid < 0:
        raise ValidationError(_("请填写实交金额。"))
    due = monthly_due(member, month, book)
    if paid < due:
        raise ValidationError(
            _("实交%(paid)s元少于应交的%(due)s元；确有困难的，应按规定申请减免。")
            % {"paid": paid, "due": due}
        )
    extra = paid - due
    special = extra >= SPECIAL_CONTRIBUTION_MINIMUM.default
    payment = DuesPayment.objects.create(
        member=member,
        month=month,
        amount_due=due,
        amount_paid=due if special else paid,
        kind=kind,
        paid_on=paid_on,
        recorded_by=actor,
        approved_reason=reason if back > limit else "",
        note=note,
    )
    refresh_ledger([member.pk])
    record(
        AuditAction.CREATE,
        actor=actor,
        instance=payment,
        organization=member.organization,
        after=snapshot(payment),
        reason=payment.approved_reason,
    )
    if special:
        _special(actor, member, extra, paid_on, note or _("随党费一次多交纳"), payment)
    return payment


def _special(actor, member, amount, on, note, payment=None) -> SpecialContribution:
    contribution = SpecialContribution.objects.create(
        member=member, amount=amount, date=on, note=note, payment=payment, recorded_by=actor
    )
    record(
        AuditAction.CREATE,
        actor=actor,
        instance=contribution,
        organization=member.organization,
        after=snapshot(contribution),
    )
    return contribution


@transaction.atomic
def record_special_contribution(
    actor, member: Member, amount, on: date, note: str = ""
) -> SpecialContribution:
    """A voluntary contribution of 1000 yuan or more given apart from the monthly dues."""
    member = Member.objects.select_related("organization").get(pk=member.pk)
    require(actor, Perm.MANAGE_DUES, member.organization)
    value = _decimal(amount, _("金额"))
    minimum = SPECIAL_CONTRIBUTION_MINIMUM.default
    if value is None or value < minimum:
        raise RuleViolation(
            _("一次多交纳%(min)s元以上的党费才作为特殊党费单独登记。") % {"min": minimum},
            SPECIAL_CONTRIBUTION_MINIMUM.citation,
        )
    return _special(actor, member, value, on, note)


# --- collection statistics -------------------------------------------------------------------


@dataclass(frozen=True)
class Collection:
    month: date
    members_owing: int  # members who owe dues that month (on the roster, past their first month)
    members_paid: int  # of them, those with the month recorded as paid
    members_without_base: int  # owing but with no base yet: their due counts as 0.00
    due: Decimal
    paid: Decimal

    @property
    def rate(self) -> Decimal | None:
        """Paid over due, as a fraction to 4 places (None when nothing is due)."""
        if not self.due:
            return None
        return (self.paid / self.due).quantize(Decimal("0.0001"))

    @property
    def members_unpaid(self) -> int:
        return self.members_owing - self.members_paid


def owing_members(organizations, month: date):
    """The members of ``organizations`` (a queryset) who owe dues for ``month``: on the roster
    and past their first owed month (the month after the month of ``joined_on``)."""
    return Member.objects.filter(
        organization__in=organizations, standing__in=ON_ROSTER, joined_on__lt=month_of(month)
    )


def base_from_columns(category, income, fixed, reduction, reduced) -> DuesBase | None:
    """An unsaved DuesBase from the columns of a base in force (None: no base)."""
    if category is None:
        return None
    return DuesBase(
        category=category,
        monthly_income=Decimal(income) if income is not None else None,
        fixed_amount=Decimal(fixed) if fixed is not None else None,
        reduction=reduction or "",
        reduced_amount=Decimal(reduced) if reduced is not None else None,
    )


def due_cents(table: RateTable, prefix: str = "") -> Case:
    """:func:`due_from_base` as an SQL expression in fen, over a base (``prefix``: the lookup
    path to the base's columns in the query it is used in)."""
    reduced = {f"{prefix}reduction": Reduction.REDUCED, f"{prefix}reduced_amount__isnull": False}
    return Case(
        When(Q(**{f"{prefix}reduction": Reduction.EXEMPT}), then=Value(0)),
        When(Q(**reduced), then=Cents(F(f"{prefix}reduced_amount"))),
        default=table.monthly_cents(
            f"{prefix}category", f"{prefix}monthly_income", f"{prefix}fixed_amount"
        ),
        output_field=BigIntegerField(),
    )


def yuan(fen) -> Decimal:
    """A sum in fen from the database (None: nothing summed) as yuan."""
    return (Decimal(fen or 0) / 100).quantize(CENT)


def tally(members, month: date, table: RateTable, group=None) -> dict[object, Collection]:
    """Dues collection of ``members`` (a queryset of owing members, see :func:`owing_members`)
    for ``month``, per value of ``group`` (an expression over Member; None: one group, keyed
    None).

    One aggregate query, one row per group: the members are joined with the month's payment
    and the base in force (at most one of each); a paid month counts with the amounts kept on
    its payment, an unpaid one with what the base asks for, computed by the database from the
    rate table (:meth:`RateTable.monthly_cents`: the brackets and rounding of :mod:`rates`).
    Sums are in fen, so exact on every database."""
    month = month_of(month)
    unpaid = Q(payment__id__isnull=True)
    rows = (
        members.annotate(
            payment=FilteredRelation("dues_payments", condition=Q(dues_payments__month=month)),
            base=FilteredRelation("dues_bases", condition=in_force(month, "dues_bases__")),
            g=group if group is not None else Value("", output_field=CharField()),
        )
        .values("g")
        .annotate(
            owing=Count("pk"),
            paid_count=Count("payment__id"),
            without_base=Count(Case(When(unpaid & Q(base__id__isnull=True), then=Value(1)))),
            paid_due=Sum(Cents(F("payment__amount_due"))),
            paid_sum=Sum(Cents(F("payment__amount_paid"))),
            unpaid_due=Sum(
                Case(When(unpaid & Q(base__id__isnull=False), then=due_cents(table, "base__")))
            ),
        )
        .order_by()
        .values_list(
            "g", "owing", "paid_count", "without_base", "paid_due", "paid_sum", "unpaid_due"
        )
    )
    totals = {}
    for key, owing, paid_count, without, paid_due, paid_sum, unpaid_due in rows:
        due = yuan((paid_due or 0) + (unpaid_due or 0))
        key = key if group is not None else None
        totals[key] = Collection(month, owing, paid_count, without, due, yuan(paid_sum))
    return totals


def collection(organizations, month: date, book: RuleBook | None = None) -> Collection:
    """Dues collection of the members of ``organizations`` (a queryset) for ``month``, in one
    aggregate query (see :func:`tally`). ``book``: the rules in force (default: the shipped
    table)."""
    month = month_of(month)
    totals = tally(owing_members(organizations, month), month, RateTable.from_rules(book))
    return totals.get(None) or Collection(month, 0, 0, 0, ZERO, ZERO)
