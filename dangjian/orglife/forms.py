"""Forms of the meeting pages. They only parse what was typed: the rules are the services'."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from dangjian.members.choices import ON_ROSTER
from dangjian.members.models import Member
from dangjian.organizations.forms import DateInput
from dangjian.organizations.models import BRANCH_TYPES, Organization, OrgType

from .choices import AppraisalGrade, MeetingKind
from .models import Attendance, Meeting
from .services import MEETING_FIELDS, participants

PEOPLE = ("host", "recorder", "counterpart")


def kinds_for(organization: Organization) -> list[tuple[str, str]]:
    """The kinds of meeting ``organization`` records: a 党小组 its group meetings, a branch (or
    general branch) everything else; other organizations none here."""
    if organization.org_type == OrgType.GROUP:
        return [(MeetingKind.GROUP_MEETING, MeetingKind.GROUP_MEETING.label)]
    if organization.org_type in (*BRANCH_TYPES, OrgType.GENERAL_BRANCH):
        return [(k, label) for k, label in MeetingKind.choices if k != MeetingKind.GROUP_MEETING]
    return []


def branch_members(organization: Organization, keep=()):
    """Members who may host, record or take part: the branch's roster, plus ``keep`` (ids
    already on a record, who may since have moved on)."""
    query = participants(organization).filter(standing__in=ON_ROSTER)
    keep = [pk for pk in keep if pk]
    if keep:
        query = query | Member.objects.filter(pk__in=keep)
    return query.order_by("name", "id")


def vote_field(label):
    return forms.IntegerField(label=label, min_value=0, max_value=9999, initial=0)


class MemberChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class MeetingForm(forms.ModelForm):
    """A meeting of one kind (picked before the form is shown); ``meeting`` when editing."""

    class Meta:
        model = Meeting
        fields = [f for f in MEETING_FIELDS if f != "kind"]  # the kind is chosen first
        field_classes = {
            "host": MemberChoice,
            "recorder": MemberChoice,
            "counterpart": MemberChoice,
        }
        widgets = {
            "status": forms.RadioSelect,
            "date": DateInput(),
            "minutes": forms.Textarea(attrs={"rows": 8}),
            "resolutions": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, organization: Organization, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        keep = [getattr(self.instance, f"{f}_id") for f in PEOPLE] if self.instance.pk else []
        people = branch_members(organization, keep)
        for name in PEOPLE:
            self.fields[name].queryset = people
            self.fields[name].empty_label = _("（请选择）")
            self.fields[name].error_messages["invalid_choice"] = _("请选择本支部的党员。")
        if kind == MeetingKind.TALK:
            self.fields["host"].label = _("谈话人")
            self.fields["host"].required = True
            self.fields["counterpart"].required = True
            self.fields["topic"].label = _("谈话主题")
            self.fields["minutes"].label = _("谈话记录")
            del self.fields["recorder"]
            del self.fields["resolutions"]
        else:
            del self.fields["counterpart"]
        if kind == MeetingKind.APPRAISAL:
            # An appraisal follows its stages: it is held once the vote is recorded.
            del self.fields["status"]
        if self.instance.pk:
            self.fields["version"] = forms.IntegerField(widget=forms.HiddenInput)
            self.initial.setdefault("version", self.instance.version)

    def _post_clean(self):
        # The record's rules are checked by the services.
        pass

    def data_for_service(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if k != "version"}
        if not self.instance.pk:
            data["kind"] = self.kind
        return data


class DeleteForm(forms.Form):
    reason = forms.CharField(
        label=_("删除原因"), max_length=200, widget=forms.Textarea(attrs={"rows": 2})
    )


class MeetingFilter(forms.Form):
    kind = forms.ChoiceField(
        label=_("类型"), required=False, choices=[("", _("全部类型")), *MeetingKind.choices]
    )
    year = forms.IntegerField(label=_("年度"), required=False, min_value=1921, max_value=2100)


class AttendeeAddForm(forms.Form):
    member = MemberChoice(
        label=_("增加应到人员"),
        queryset=Member.objects.none(),
        empty_label=_("（请选择党员）"),
        error_messages={"invalid_choice": _("请选择本支部的党员。")},
    )
    reason = forms.CharField(label=_("增加原因"), max_length=200)

    def __init__(self, *args, meeting: Meeting, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = branch_members(meeting.organization).exclude(
            attendance__meeting=meeting
        )


class AttendanceChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class AttendeeRemoveForm(forms.Form):
    attendance = AttendanceChoice(
        label=_("移出应到名单"),
        queryset=Attendance.objects.none(),
        empty_label=_("（请选择）"),
    )
    reason = forms.CharField(label=_("移出原因"), max_length=200)

    def __init__(self, *args, meeting: Meeting, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attendance"].queryset = meeting.attendance.all()


class CheckinOpenForm(forms.Form):
    minutes = forms.IntegerField(
        label=_("签到时长（分钟）"),
        min_value=5,
        max_value=240,
        error_messages={
            "min_value": _("签到时长应在5到240分钟之间。"),
            "max_value": _("签到时长应在5到240分钟之间。"),
        },
    )


class CheckinForm(forms.Form):
    code = forms.CharField(
        label=_("签到码"),
        max_length=8,
        error_messages={"required": _("请输入会议现场显示的签到码。")},
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "pattern": "[0-9]*",
                "class": "code-input",
            }
        ),
    )


class AttachmentForm(forms.Form):
    file = forms.FileField(
        label=_("上传附件"), error_messages={"required": _("请选择要上传的文件。")}
    )


class SelfAppraisalForm(forms.Form):
    self_summary = forms.CharField(
        label=_("个人自评"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class MutualAppraisalForm(forms.Form):
    mutual_comments = forms.CharField(
        label=_("互评意见"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class VoteForm(forms.Form):
    votes_excellent = vote_field(label=_("优秀"))
    votes_qualified = vote_field(label=_("合格"))
    votes_basic = vote_field(label=_("基本合格"))
    votes_unqualified = forms.IntegerField(
        label=_("不合格"), min_value=0, max_value=9999, initial=0
    )
    grade = forms.ChoiceField(
        label=_("评议结果"), required=False, choices=[("", _("（未定）")), *AppraisalGrade.choices]
    )
