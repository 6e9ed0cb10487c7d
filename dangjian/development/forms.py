"""Forms of the development pages. They only parse what was typed: the rules (dates, counts,
who may be a sponsor) are the services', whose errors come back onto these forms."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, Q, Value, When
from django.utils.translation import gettext_lazy as _

from dangjian.core.forms import add_errors
from dangjian.members.choices import Membership, Standing
from dangjian.members.models import Member
from dangjian.organizations.forms import DateInput
from dangjian.organizations.models import Organization, OrgType
from dangjian.rules.registry import RuleBook

from . import rules
from .models import DevelopmentRecord, DocumentKind, Outcome
from .services import PERSON_FIELDS, approver_organization
from .steps import Role, Stage, Step

# People named by a member on the roster (a picker) rather than by name.
MEMBER_ROLES = {Role.CONTACT: rules.CONTACTS_MAXIMUM, Role.SPONSOR: rules.SPONSORS}
# More eligible members than this in the parent subtree: the picker lists the branch's own and
# finds the others by name (htmx), rather than sending a select of thousands to a phone.
PICKER_LIMIT = 200
SEARCH_LIMIT = 30
NAME_SEPARATORS = re.compile(r"[、,，;；\s]+")


def split_names(text: str) -> list[str]:
    return [name for name in NAME_SEPARATORS.split(text or "") if name]


class ApplicationForm(forms.ModelForm):
    """Step 1: the person's particulars and the day the application was handed in."""

    id_number = forms.CharField(
        label=_("公民身份号码"),
        max_length=18,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    date = forms.DateField(label=_("递交入党申请书日期"), widget=DateInput())
    note = forms.CharField(
        label=_("情况说明"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    class Meta:
        model = DevelopmentRecord
        fields = PERSON_FIELDS
        widgets = {"birth_date": DateInput()}
        help_texts = {"birth_date": _("可不填，按身份证号确定")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["birth_date"].required = False
        self.fields["gender"].choices = [("", _("（请选择）")), *self.fields["gender"].choices[1:]]

    def _post_clean(self):
        # The record's rules (age, ID number, an open record already) are the service's.
        pass

    def data_for_service(self) -> dict:
        return dict(self.cleaned_data)


class MemberChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name}（{obj.organization.name}）"


def nearby_full_members(record: DevelopmentRecord):
    """Who may be named a contact or sponsor: full members in normal standing of the branch's
    parent subtree (the branch and its neighbours under the same committee — sponsors may
    come from a neighbouring branch), the branch's own first. Only their names and branches
    are shown: nobody else of that subtree, and nothing more of them."""
    branch = record.organization
    return (
        Member.objects.within(approver_organization(record))
        .filter(membership=Membership.FULL, standing=Standing.NORMAL)
        .select_related("organization")
        .annotate(
            own=Case(
                When(organization=branch, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("own", "organization__path", "name", "pk")
    )


def member_options(field: forms.ModelChoiceField, members) -> list[tuple]:
    return [("", field.empty_label), *((m.pk, field.label_from_instance(m)) for m in members)]


def searched_members(record: DevelopmentRecord, query: str, selected=()):
    """The picker's options after a search: the branch's own, the matches, the selected."""
    query = (query or "").strip()
    match = Q(organization=record.organization) | Q(pk__in=[pk for pk in selected if pk])
    pool = nearby_full_members(record)
    found = list(pool.filter(match))
    if len(query) >= 2:  # a name search, not a listing of the neighbours one letter at a time
        seen = {m.pk for m in found}
        found += [m for m in pool.filter(name__contains=query)[:SEARCH_LIMIT] if m.pk not in seen]
    return found


def party_groups(branch: Organization):
    return (
        Organization.objects.within(branch)
        .filter(org_type=OrgType.GROUP, depth=branch.depth + 1)
        .active()
        .order_by("path")
    )


class StepForm(forms.Form):
    """The next step of a record, with exactly the fields that step records (from its flags
    in :mod:`dangjian.development.steps`)."""

    number = forms.IntegerField(widget=forms.HiddenInput)
    version = forms.IntegerField(widget=forms.HiddenInput)
    date = forms.DateField(label=_("日期"), widget=DateInput())

    def __init__(self, *args, record: DevelopmentRecord, step: Step, book: RuleBook, **kwargs):
        super().__init__(*args, **kwargs)
        self.record, self.step = record, step
        self.initial.setdefault("number", step.number)
        self.initial.setdefault("version", record.version)
        self.people_fields: list[str] = []
        self.searchable_fields: list[str] = []
        fields = self.fields
        if step.role in MEMBER_ROLES:
            count = int(book[MEMBER_ROLES[step.role].key])
            typed = [self.data.get(f"people_{i}") for i in range(1, count + 1)]
            typed = [int(v) for v in typed if str(v).isdigit()]
            choices = nearby_full_members(record)
            searchable = choices.count() > PICKER_LIMIT
            shown = searched_members(record, "", typed) if searchable else None
            for i in range(1, count + 1):
                name = f"people_{i}"
                fields[name] = field = MemberChoice(
                    label=f"{step.role.label} {i}",
                    queryset=choices,
                    required=False,
                    empty_label=_("（请选择党员）"),
                    error_messages={"invalid_choice": _("请从名单中选择党员。")},
                )
                if searchable:
                    # Any eligible member is accepted; only the branch's own are listed.
                    field.widget.choices = member_options(field, shown)
                    self.searchable_fields.append(name)
                self.people_fields.append(name)
        elif step.role is not None:
            fields["people"] = forms.CharField(
                label=step.role.label,
                required=False,
                max_length=300,
                help_text=_("填写姓名（或党委名称），多人用顿号分隔。"),
            )
            self.people_fields.append("people")
        if step.vote:
            fields["entitled"] = forms.IntegerField(
                label=_("应到会有表决权的正式党员"), min_value=0, max_value=99999
            )
            fields["present"] = forms.IntegerField(
                label=_("实到会有表决权的党员"), min_value=0, max_value=99999
            )
            fields["in_favour"] = forms.IntegerField(
                label=_("赞成票"), min_value=0, max_value=99999
            )
            fields["entitled_reason"] = forms.CharField(
                label=_("应到人数少于名册的原因"),
                required=False,
                max_length=200,
                help_text=_("应到人数少于支部当日有表决权的正式党员数时填写。"),
            )
        if step.training:
            fields["training_days"] = forms.DecimalField(
                label=_("培训天数"), required=False, min_value=0, max_digits=4, decimal_places=1
            )
            fields["training_hours"] = forms.DecimalField(
                label=_("培训学时"), required=False, min_value=0, max_digits=5, decimal_places=1
            )
        if step.notice:
            fields["notice_start"] = forms.DateField(
                label=_("公示开始日期"), required=False, widget=DateInput()
            )
            fields["notice_end"] = forms.DateField(
                label=_("公示结束日期"), required=False, widget=DateInput()
            )
        if step.review:
            fields["passed"] = forms.TypedChoiceField(
                label=_("政治审查结论"),
                choices=[("true", _("合格")), ("false", _("不合格"))],
                coerce=lambda value: value == "true",
                empty_value=None,
                required=False,
                widget=forms.RadioSelect,
            )
        if step.code == "approval":
            fields["delay_reason"] = forms.CharField(
                label=_("延长审批时间的理由"),
                required=False,
                max_length=200,
                help_text=_("支部大会后超过3个月审批的，须写明特殊情况。"),
            )
        if step.code == "placement":
            groups = party_groups(record.organization)
            if groups.exists():
                fields["party_group"] = forms.ModelChoiceField(
                    label=_("编入党小组"),
                    queryset=groups,
                    required=False,
                    empty_label=_("（不编入党小组）"),
                    error_messages={"invalid_choice": _("请选择本支部下设的党小组。")},
                )
        fields["note"] = forms.CharField(
            label=_("考察意见") if step.assessment else _("情况说明"),
            required=False,
            widget=forms.Textarea(attrs={"rows": 2}),
        )

    def data_for_service(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("number", None)
        people: list = []
        for name in self.people_fields:
            value = data.pop(name, None)
            if name == "people":
                people += split_names(value)
            elif value is not None:
                people.append(value)
        if self.people_fields:
            data["people"] = people
        return data

    def add_service_errors(self, error: ValidationError) -> None:
        """The services name the people "people": put that on the first people field."""
        if hasattr(error, "error_dict") and "people" in error.error_dict and self.people_fields:
            first = self.people_fields[0]
            if first != "people":
                error = ValidationError(
                    {first if k == "people" else k: v for k, v in error.error_dict.items()}
                )
        add_errors(self, error)


class AssessmentForm(forms.Form):
    date = forms.DateField(label=_("考察日期"), widget=DateInput())
    summary = forms.CharField(label=_("考察意见"), widget=forms.Textarea(attrs={"rows": 3}))


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(label=_("材料类别"), choices=DocumentKind.choices)
    date = forms.DateField(label=_("日期"), widget=DateInput())
    title = forms.CharField(label=_("名称或编号"), required=False, max_length=120)


class ExtendForm(forms.Form):
    months = forms.IntegerField(label=_("延长（月）"), min_value=1, max_value=24)
    date = forms.DateField(label=_("支部大会决定日期"), widget=DateInput())
    reason = forms.CharField(label=_("延长理由"), max_length=200)


class CloseForm(forms.Form):
    date = forms.DateField(label=_("日期"), widget=DateInput())
    reason = forms.CharField(
        label=_("理由"), max_length=200, widget=forms.Textarea(attrs={"rows": 2})
    )


class RecordFilter(forms.Form):
    stage = forms.ChoiceField(
        label=_("阶段"), required=False, choices=[("", _("全部阶段")), *Stage.choices]
    )
    outcome = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部状态")), *Outcome.choices]
    )
    q = forms.CharField(label=_("姓名"), required=False, max_length=60)
    own = forms.BooleanField(required=False, widget=forms.HiddenInput)


class ConversionWindowForm(forms.Form):
    until = forms.DateField(label=_("预备期满截至"), widget=DateInput())
