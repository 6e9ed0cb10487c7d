"""Forms of the dues pages. They only parse what was typed: the rules are the services'."""

from __future__ import annotations

import re
from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _

from dangjian.organizations.forms import DateInput

from .models import DuesBase
from .rates import DuesCategory

MONTH_PATTERN = re.compile(r"^\s*(\d{4})\s*(?:[-/.年]\s*(\d{1,2})|(\d{2}))\s*(?:[-/.月].*)?$")


def parse_month(value) -> date | None:
    """A month as typed: 2026-05, 2026/5, 2026年5月, 202605 or a date in it; None if not."""
    if isinstance(value, date):
        return value.replace(day=1)
    match = MONTH_PATTERN.match(str(value or ""))
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2) or match.group(3))
    if not (1 <= month <= 12 and 1921 <= year <= 2200):
        return None
    return date(year, month, 1)


class MonthInput(forms.TextInput):
    input_type = "month"

    def format_value(self, value):
        if isinstance(value, date):
            return f"{value:%Y-%m}"
        return value


class MonthField(forms.Field):
    """A month (the first day of it), typed as YYYY-MM."""

    widget = MonthInput
    default_error_messages = {"invalid": _("请按“年-月”填写月份，如 2026-05。")}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        month = parse_month(value)
        if month is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return month


def money(label, required=True, **kwargs):
    return forms.DecimalField(
        label=label,
        required=required,
        max_digits=12,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
        **kwargs,
    )


class PaymentForm(forms.Form):
    """One month's dues as the clerk records them."""

    month = MonthField(label=_("所属月份"))
    amount = money(_("实交金额（元）"))
    paid_on = forms.DateField(label=_("交纳日期"), widget=DateInput())
    approved = forms.BooleanField(
        label=_("超期补交已经党组织批准"),
        required=False,
        help_text=_("补交超过规定月数时须勾选并写明批准理由"),
    )
    reason = forms.CharField(label=_("批准理由"), required=False, max_length=200)
    note = forms.CharField(label=_("备注"), required=False, max_length=200)

    def data_for_service(self) -> dict:
        data = self.cleaned_data
        return {
            "month": data["month"],
            "amount": data["amount"],
            "paid_on": data["paid_on"],
            "approved": data["approved"],
            "reason": data["reason"],
            "note": data["note"],
        }


class BaseForm(forms.Form):
    """A member's base from a month on (declared for the year, or changed mid-year)."""

    effective_from = MonthField(label=_("起始月份"))
    category = forms.ChoiceField(label=_("交纳类别"), choices=DuesCategory.choices)
    monthly_income = money(
        _("税后月工资性收入 / 基本离退休费（元）"),
        required=False,
        help_text=_("在职、离退休党员填写"),
    )
    fixed_amount = money(
        _("农民党员每月交纳额（元）"), required=False, help_text=_("农民党员填写，0.2至1元")
    )
    declared_by_member = forms.BooleanField(label=_("党员本人申报"), required=False)
    note = forms.CharField(label=_("备注"), required=False, max_length=200)


class ReductionForm(forms.Form):
    """An approved reduction or exemption of one base's monthly amount."""

    base = forms.ModelChoiceField(label=_("交纳基数"), queryset=DuesBase.objects.none())
    exempt = forms.BooleanField(label=_("免交"), required=False)
    amount = money(_("减交后每月金额（元）"), required=False, help_text=_("免交时不填"))
    reason = forms.CharField(label=_("减免理由"), max_length=200)
    approved_on = forms.DateField(label=_("批准日期"), widget=DateInput())

    def __init__(self, *args, bases=None, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["base"]
        field.queryset = bases if bases is not None else DuesBase.objects.none()
        field.label_from_instance = lambda b: (
            _("%(month)s起 %(category)s")
            % {
                "month": f"{b.effective_from:%Y-%m}",
                "category": b.get_category_display(),
            }
        )


class SpecialForm(forms.Form):
    """A special contribution (一次多交纳1000元以上的党费)."""

    amount = money(_("金额（元）"))
    date = forms.DateField(label=_("日期"), widget=DateInput())
    note = forms.CharField(label=_("备注"), required=False, max_length=200)


class MonthFilter(forms.Form):
    month = MonthField(required=False)


class YearFilter(forms.Form):
    year = forms.IntegerField(required=False, min_value=1921, max_value=2200)
