from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from dangjian.organizations.forms import DateInput, OrganizationPicker
from dangjian.organizations.models import Organization, OrgType

from . import roster
from .choices import ETHNICITIES, Category, Education, Gender, Membership, Occupation, Standing
from .models import Member
from .services import EDIT_FIELDS, MEMBER_FIELDS


class MemberForm(forms.ModelForm):
    organization = OrganizationPicker(label=_("所在党组织"))
    id_number = forms.CharField(
        label=_("公民身份号码"),
        max_length=18,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    class Meta:
        model = Member
        fields = MEMBER_FIELDS
        widgets = {
            "birth_date": DateInput(),
            "joined_on": DateInput(),
            "full_member_on": DateInput(),
            "floating_since": DateInput(),
            "lost_contact_since": DateInput(),
        }

    def __init__(self, *args, organizations=None, **kwargs):
        super().__init__(*args, **kwargs)
        if organizations is not None:
            self.fields["organization"].queryset = organizations

    def _post_clean(self):
        # The record's rules are checked by the service (one place for the UI, the API and
        # the import); the model's own full_clean would only repeat part of them.
        pass


class MemberEditForm(MemberForm):
    version = forms.IntegerField(widget=forms.HiddenInput)

    class Meta(MemberForm.Meta):
        fields = EDIT_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The 党小组 is one of the groups set up under the member's own branch.
        group = self.fields["party_group"]
        group.queryset = (
            Organization.objects.within(self.instance.organization)
            .filter(org_type=OrgType.GROUP, depth=self.instance.organization.depth + 1)
            .active()
            .order_by("path")
            if self.instance.pk
            else Organization.objects.none()
        )
        group.empty_label = _("（未编入党小组）")
        group.error_messages["invalid_choice"] = _("请选择本支部下设的党小组。")
        # Moving a member to another organization is a transfer, not an edit.
        self.fields["organization"].disabled = True
        self.fields["organization"].required = False
        # The form never carries the number in clear: it shows the masked one, and an
        # unchanged masked value means "keep the number on record".
        if self.instance.pk:
            self.initial["id_number"] = self.instance.masked_id_number

    def clean_id_number(self):
        value = self.cleaned_data["id_number"]
        if self.instance.pk and value == self.instance.masked_id_number:
            return self.instance.id_number
        return value


AGE_BANDS = [("", _("全部年龄")), *roster.AGE_BANDS]
PARTY_AGE_BANDS = [
    ("", _("全部党龄")),
    *((key, format_lazy("{}{}", _("党龄"), label)) for key, label in roster.PARTY_AGE_BANDS),
]
# 汉族 and 少数民族 first: the statistics link to them.
ETHNICITY_FILTER = [
    ("", _("全部民族")),
    (roster.HAN, _("汉族")),
    ("minority", _("少数民族")),
    *[(e, e) for e in ETHNICITIES if e != roster.HAN],
]
SORTS = [
    ("name", _("按姓名")),
    ("joined_on", _("按入党日期")),
    ("-joined_on", _("按入党日期（近→远）")),
    ("birth_date", _("按年龄（长→幼）")),
]


def with_all(choices, label):
    return [("", label), *choices]


class RosterFilter(forms.Form):
    """The roster's filters; every field optional, bad values simply ignored."""

    q = forms.CharField(label=_("姓名"), required=False)
    org = forms.IntegerField(required=False, widget=forms.HiddenInput)
    descendants = forms.BooleanField(label=_("含下级组织"), required=False, initial=True)
    standing = forms.ChoiceField(
        label=_("党籍状态"), required=False, choices=with_all(Standing.choices, _("在册党员"))
    )
    membership = forms.ChoiceField(
        label=_("党员类别"), required=False, choices=with_all(Membership.choices, _("全部类别"))
    )
    category = forms.ChoiceField(
        label=_("管理类别"), required=False, choices=with_all(Category.choices, _("全部"))
    )
    gender = forms.ChoiceField(
        label=_("性别"), required=False, choices=with_all(Gender.choices, _("全部"))
    )
    age = forms.ChoiceField(label=_("年龄段"), required=False, choices=AGE_BANDS)
    education = forms.ChoiceField(
        label=_("学历"),
        required=False,
        choices=with_all(
            [*Education.choices, ("college_or_above", _("大专及以上"))], _("全部学历")
        ),
    )
    occupation = forms.ChoiceField(
        label=_("工作岗位"), required=False, choices=with_all(Occupation.choices, _("全部岗位"))
    )
    ethnicity = forms.ChoiceField(label=_("民族"), required=False, choices=ETHNICITY_FILTER)
    party_age = forms.ChoiceField(label=_("党龄"), required=False, choices=PARTY_AGE_BANDS)
    joined_year = forms.IntegerField(
        label=_("入党年份"), required=False, min_value=1921, max_value=2100
    )
    sort = forms.ChoiceField(label=_("排序"), required=False, choices=SORTS)
