from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import CommitteeMember, NewOrganization, Organization, RegionalLink, VillageIncome
from .services import EDITABLE_FIELDS, NEW_ORGANIZATION_FIELDS


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class OrganizationPicker(forms.ModelChoiceField):
    """An organization chosen by id (the page offers a search that fills it in).

    The queryset is the user's scope, so an id outside it is "not a valid choice".
    """

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", Organization.objects.none())
        kwargs.setdefault("error_messages", {"invalid_choice": _("请选择您权限范围内的有效组织。")})
        super().__init__(**kwargs)


class OrganizationForm(forms.ModelForm):
    class Meta:
        model = Organization
        fields = EDITABLE_FIELDS
        widgets = {
            "founded_on": DateInput(),
            "term_started_on": DateInput(),
        }
        help_texts = {"term_years": _("留空则按任期规定自动确定")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["term_adjust_months"].required = False
        if self.instance.pk and not self.instance.term_years_custom:
            self.initial["term_years"] = None  # following the rules: keep it so

    def clean_term_adjust_months(self):
        return self.cleaned_data.get("term_adjust_months") or 0


class OrganizationEditForm(OrganizationForm):
    version = forms.IntegerField(widget=forms.HiddenInput)


class MoveForm(forms.Form):
    new_parent = OrganizationPicker(label=_("新的上级组织"))


class DissolveForm(forms.Form):
    dissolved_on = forms.DateField(label=_("撤销日期"), initial=date.today, widget=DateInput())
    reason = forms.CharField(
        label=_("撤销原因（上级批复文号等）"), widget=forms.Textarea(attrs={"rows": 3})
    )


class CommitteeMemberForm(forms.ModelForm):
    class Meta:
        model = CommitteeMember
        fields = ["post", "name", "full_time", "from_unit", "started_on"]
        widgets = {"started_on": DateInput()}


class VillageIncomeForm(forms.ModelForm):
    class Meta:
        model = VillageIncome
        fields = ["year", "amount"]


class RegionalLinkForm(forms.ModelForm):
    unit_organization = OrganizationPicker(label=_("系统内单位党组织"), required=False)

    class Meta:
        model = RegionalLink
        fields = ["unit_name", "unit_organization", "leader_name", "part_time_member", "joined_on"]
        widgets = {"joined_on": DateInput()}

    def __init__(self, *args, scope=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit_name"].required = False
        if scope is not None:
            self.fields["unit_organization"].queryset = scope

    def clean(self):
        data = super().clean()
        if not data.get("unit_name") and not data.get("unit_organization"):
            raise forms.ValidationError(_("请填写驻区单位名称或选择系统内的单位党组织。"))
        return data


class NewOrganizationForm(forms.ModelForm):
    area = OrganizationPicker(label=_("属地党组织"))
    party_organization = OrganizationPicker(label=_("所建（所在）党组织"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = NewOrganization
        fields = NEW_ORGANIZATION_FIELDS
        widgets = {"registered_on": DateInput()}

    def __init__(self, *args, area_scope=None, view_scope=None, **kwargs):
        super().__init__(*args, **kwargs)
        if area_scope is not None:
            self.fields["area"].queryset = area_scope
        if view_scope is not None:
            self.fields["party_organization"].queryset = view_scope
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version

    def clean(self):
        data = super().clean()
        coverage = data.get("coverage")
        if coverage in ("standalone", "joint") and not data.get("party_organization"):
            self.add_error("party_organization", _("单独组建或联合组建的，请选择所建党组织。"))
        if coverage == "instructor" and not data.get("instructor_name"):
            self.add_error("instructor_name", _("选派党建指导员的，请填写指导员姓名。"))
        if data.get("category") == "small_business" and not data.get("small_business_type"):
            self.add_error("small_business_type", _("请选择小个专类型。"))
        return data
