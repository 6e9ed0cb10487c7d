"""Forms of the transfer pages. The rules themselves are checked by the services."""

from __future__ import annotations

import re
from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from dangjian.organizations.forms import DateInput, OrganizationPicker

from .choices import Gender
from .idnumber import parse
from .models import Member, Transfer
from .transfers import INCOMING_MEMBER_FIELDS

REASONS = ["工作调动", "升学", "毕业", "退休", "迁居", "外出务工经商", "参军", "其他"]
MONTH = re.compile(r"^\s*(\d{4})\s*(?:-|/|\.|年)\s*(\d{1,2})\s*月?(?:\s*-\s*\d{1,2})?\s*$")


class MonthInput(forms.TextInput):
    input_type = "month"

    def format_value(self, value):
        if isinstance(value, date):
            return f"{value.year:04d}-{value.month:02d}"
        return value


class MonthField(forms.Field):
    """A year and month (``2026-03``, ``2026年3月``); cleaned to the first day of the month."""

    widget = MonthInput
    default_error_messages = {"invalid": _("请填写年月，如 2026-03。")}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, date):
            return value.replace(day=1)
        match = MONTH.match(str(value))
        if not match:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        year, month = int(match[1]), int(match[2])
        if not (1921 <= year <= 2100 and 1 <= month <= 12):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return date(year, month, 1)


def reason_field():
    # The page renders a <datalist id="transfer-reasons"> of the usual REASONS.
    return forms.CharField(
        label=_("转接原因"),
        max_length=200,
        widget=forms.TextInput(attrs={"list": "transfer-reasons"}),
    )


class TransferForm(forms.Form):
    """The sending side's letter: a destination in the system or outside it."""

    to_organization = OrganizationPicker(
        label=_("系统内接收党组织"),
        required=False,
        error_messages={"invalid_choice": _("请从搜索结果中选择接收党组织。")},
    )
    to_outside = forms.CharField(
        label=_("或：系统外接收党组织名称"),
        max_length=160,
        required=False,
        help_text=_("转往外地或未使用本系统的党组织时填写全称"),
    )
    reason = reason_field()
    dues_paid_until = MonthField(label=_("党费缴至"), help_text=_("已缴党费的最后一个月"))
    valid_until = forms.DateField(
        label=_("有效期至"), required=False, widget=DateInput(), help_text=""
    )

    def __init__(self, *args, destinations=None, validity_days: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if destinations is not None:
            self.fields["to_organization"].queryset = destinations
        if validity_days:
            self.fields["valid_until"].help_text = _(
                "留空则按规定有效期自动确定（开具之日起%(n)d天）"
            ) % {"n": validity_days}

    def clean(self):
        data = super().clean()
        if not self.errors and bool(data.get("to_organization")) == bool(
            (data.get("to_outside") or "").strip()
        ):
            raise ValidationError(_("请在“系统内接收党组织”和“系统外接收党组织名称”中二选一。"))
        return data


class IncomingForm(forms.Form):
    """A letter from an organization outside the system, recorded by the receiving side."""

    to_organization = OrganizationPicker(label=_("接收党组织"))
    from_outside = forms.CharField(label=_("转出党组织（系统外）"), max_length=160)
    letter_number = forms.CharField(label=_("原介绍信编号"), max_length=40, required=False)
    incoming_name = forms.CharField(label=_("党员姓名"), max_length=60)
    incoming_id_number = forms.CharField(
        label=_("公民身份号码"),
        max_length=18,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    reason = reason_field()
    dues_paid_until = MonthField(label=_("党费缴至"), help_text=_("已缴党费的最后一个月"))
    issued_on = forms.DateField(label=_("介绍信开具日期"), widget=DateInput())
    valid_until = forms.DateField(
        label=_("有效期至"),
        required=False,
        widget=DateInput(),
        help_text=_("按介绍信填写；留空则按本地规定的有效期计算"),
    )

    def __init__(self, *args, organizations=None, **kwargs):
        super().__init__(*args, **kwargs)
        if organizations is not None:
            self.fields["to_organization"].queryset = organizations


class IncomingAcceptForm(forms.ModelForm):
    """The roster record of a member arriving from outside the system, filled in on acceptance.

    Name and ID number come from the recorded letter; gender and birth date are offered from
    the ID number.
    """

    class Meta:
        model = Member
        fields = INCOMING_MEMBER_FIELDS
        widgets = {
            "birth_date": DateInput(),
            "joined_on": DateInput(),
            "full_member_on": DateInput(),
        }

    def __init__(self, *args, transfer: Transfer, **kwargs):
        super().__init__(*args, **kwargs)
        try:
            parsed = parse(transfer.incoming_id_number)
        except ValidationError:
            return
        self.initial.setdefault("birth_date", parsed.birth_date)
        self.initial.setdefault("gender", Gender(parsed.gender))

    def _post_clean(self):
        # The record's rules are checked by the service, as for every member record.
        pass


class ReturnForm(forms.Form):
    return_reason = forms.CharField(
        label=_("退回原因"), max_length=200, widget=forms.Textarea(attrs={"rows": 2})
    )


TABS = [("out", _("转出")), ("in", _("转入"))]
STATUS_FILTERS = [("", _("全部状态")), *Transfer.Status.choices, ("expired", _("已过有效期"))]


class TransferFilter(forms.Form):
    tab = forms.ChoiceField(choices=TABS, required=False)
    status = forms.ChoiceField(label=_("状态"), choices=STATUS_FILTERS, required=False)
    q = forms.CharField(label=_("姓名或编号"), required=False, max_length=60)
