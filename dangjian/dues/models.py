"""Party dues: each member's base (what the amount is computed from), the monthly ledger,
and special contributions (≥1000 yuan given at once beyond the dues, recorded separately)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dangjian.members.models import Member

from .rates import DuesCategory

MONEY = {"max_digits": 12, "decimal_places": 2}


class Reduction(models.TextChoices):
    NONE = "", _("无")
    REDUCED = "reduced", _("减交")
    EXEMPT = "exempt", _("免交")


class DuesBase(models.Model):
    """What a member's monthly dues are computed from, from ``effective_from`` (the first day
    of a month) until the member's next base. Declared at the start of the year; a mid-year
    change of income adds a base from the month it changes.

    ``effective_until`` repeats the month the member's next base starts (None for the latest
    base), kept by the services that add bases, so that "the base in force in a month" is a
    plain range condition a whole subtree's members can be joined on."""

    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="dues_bases", verbose_name=_("党员")
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    effective_from = models.DateField(_("起始月份"))
    effective_until = models.DateField(_("截止月份（不含）"), null=True, blank=True, editable=False)
    category = models.CharField(_("交纳类别"), max_length=16, choices=DuesCategory.choices)
    monthly_income = models.DecimalField(
        _("月工资性收入/基本离退休费（税后）"), null=True, blank=True, **MONEY
    )
    fixed_amount = models.DecimalField(_("农民党员每月交纳额"), null=True, blank=True, **MONEY)
    declared_by_member = models.BooleanField(_("党员本人申报"), default=False)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    reduction = models.CharField(
        _("减免"), max_length=8, choices=Reduction.choices, blank=True, default=""
    )
    reduced_amount = models.DecimalField(_("减交后每月金额"), null=True, blank=True, **MONEY)
    reduction_reason = models.CharField(_("减免理由"), max_length=200, blank=True)
    reduction_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("减免批准人"),
    )
    reduction_approved_on = models.DateField(_("减免批准日期"), null=True, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("登记人"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("党费交纳基数")
        verbose_name_plural = _("党费交纳基数")
        ordering = ["member", "effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "effective_from"], name="dues_base_one_per_month"
            ),
            models.CheckConstraint(
                condition=Q(monthly_income__isnull=True) | Q(monthly_income__gte=0),
                name="dues_base_income_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(reduced_amount__isnull=True) | Q(reduced_amount__gte=0),
                name="dues_base_reduced_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.member} {self.effective_from:%Y-%m} {self.get_category_display()}"


def in_force(month, prefix: str = "") -> Q:
    """Bases in force in ``month`` (the first day of a month); ``prefix``: the lookup path to
    the bases in the query the condition is used in."""
    return Q(**{f"{prefix}effective_from__lte": month}) & (
        Q(**{f"{prefix}effective_until__isnull": True})
        | Q(**{f"{prefix}effective_until__gt": month})
    )


class PaymentKind(models.TextChoices):
    ON_TIME = "on_time", _("按月交纳")
    PREPAID = "prepaid", _("预交")
    BACK_PAID = "back_paid", _("补交")


class DuesPayment(models.Model):
    """One member's dues for one month (``month`` is its first day); the amount due is kept
    as it was when paid, so a later change of base does not rewrite the ledger."""

    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="dues_payments", verbose_name=_("党员")
    )
    month = models.DateField(_("所属月份"))
    amount_due = models.DecimalField(_("应交金额"), **MONEY)
    amount_paid = models.DecimalField(_("实交金额"), **MONEY)
    kind = models.CharField(_("交纳方式"), max_length=12, choices=PaymentKind.choices)
    paid_on = models.DateField(_("交纳日期"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("登记人"),
    )
    approved_reason = models.CharField(_("超期补交批准理由"), max_length=200, blank=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("党费交纳记录")
        verbose_name_plural = _("党费交纳记录")
        ordering = ["member", "month"]
        constraints = [
            models.UniqueConstraint(fields=["member", "month"], name="dues_payment_one_per_month"),
            models.CheckConstraint(
                condition=Q(amount_paid__gte=0) & Q(amount_due__gte=0),
                name="dues_payment_not_negative",
            ),
        ]
        indexes = [models.Index(fields=["month", "member"], name="dues_payment_month")]

    def __str__(self):
        return f"{self.member} {self.month:%Y-%m} {self.amount_paid}"


class SpecialContribution(models.Model):
    """A member's voluntary contribution of 1000 yuan or more at once, beyond the dues
    (一次多交纳1000元以上的党费), recorded apart from the monthly ledger."""

    member = models.ForeignKey(
        Member,
        on_delete=models.CASCADE,
        related_name="special_contributions",
        verbose_name=_("党员"),
    )
    amount = models.DecimalField(_("金额"), **MONEY)
    date = models.DateField(_("日期"))
    payment = models.ForeignKey(
        DuesPayment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="special_contributions",
        verbose_name=_("随同交纳的月份"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("登记人"),
    )
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("特殊党费")
        verbose_name_plural = _("特殊党费")
        ordering = ["-date", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=Decimal("1000")), name="special_contribution_min_1000"
            )
        ]

    def __str__(self):
        return f"{self.member} {self.date} {self.amount}"


class UnpaidRunQuerySet(models.QuerySet):
    def spanning(self, first, last):
        """Runs holding every month from ``first`` to ``last``. Written as two conjunctions,
        each one range of the (last_month, first_month) index: the still running runs that
        began by ``first``, and the ended ones reaching ``last``."""
        return self.filter(
            Q(last_month__isnull=True, first_month__lte=first)
            | Q(last_month__gte=last, first_month__lte=first)
        )


class UnpaidRun(models.Model):
    """A run of consecutive months, each owed by the member's dues ledger and neither paid
    nor exempt: owed from the member's first base, a month under an approved exemption not,
    whatever is paid ahead counted as paid. Runs are maximal, so a member's runs never touch.

    Derived data, kept by the dues services whenever a base or a payment of the member is
    recorded or changed (:func:`dangjian.dues.derived.refresh_ledger`), so that the
    arrears flags (:mod:`dangjian.dues.flags`) are an indexed range query instead of a
    search of every member's ledger. The roster's 入党日期 is not taken into account here
    (it is the members app's to change): the flags test it on the member."""

    member = models.ForeignKey(
        Member,
        on_delete=models.CASCADE,
        related_name="dues_unpaid_runs",
        verbose_name=_("党员"),
    )
    first_month = models.DateField(_("起始月份"))
    # None: the run is still going on (nothing paid or exempt after it)
    last_month = models.DateField(_("截止月份"), null=True, blank=True)

    objects = UnpaidRunQuerySet.as_manager()

    class Meta:
        verbose_name = _("连续未交党费月份")
        verbose_name_plural = _("连续未交党费月份")
        ordering = ["member", "first_month"]
        indexes = [
            models.Index(fields=["last_month", "first_month"], name="dues_unpaid_run_months")
        ]

    def __str__(self):
        end = f"{self.last_month:%Y-%m}" if self.last_month else "…"
        return f"{self.member} {self.first_month:%Y-%m}–{end}"
