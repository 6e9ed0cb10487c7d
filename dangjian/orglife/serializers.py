"""What the organizational-life API reads and writes.

Meetings go through ModelSerializers for reading and plain input serializers for writing (the
services do the checking). The compliance result is built as plain dicts by the functions at
the end (a subtree can hold ~10,000 organizations); the serializers above them only describe
that shape for the OpenAPI schema.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from dangjian.accounts.roles import Perm
from dangjian.members.models import Member
from dangjian.organizations.models import Organization

from .choices import MeetingKind, MeetingStatus, Period, Presence
from .compliance import STATUS_LABELS, Cell, Compliance, OrgRow, RollupRow, slot_label
from .models import Attendance, Meeting
from .requirements import Requirement

# "status" is documented as a plain string: an enum would be named StatusEnum like the import
# batches' and the transfers' statuses, a collision the schema test refuses (settings'
# ENUM_NAME_OVERRIDES would be the other way out).
MEETING_STATUS_HELP = "planned（计划召开）或 held（已召开）"
COMPLIANCE_STATUS_HELP = (
    "met（已完成）、due（待完成）、overdue（逾期未完成）、upcoming（未到期）、exempt（不适用）"
)


@extend_schema_field(OpenApiTypes.STR)
class MeetingStatusField(serializers.ChoiceField):
    """Checked against the meeting statuses, documented as a string (see above)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", MEETING_STATUS_HELP)
        super().__init__(choices=MeetingStatus.choices, **kwargs)


# ---- meetings ----

MEETING_READ_FIELDS = [
    "id",
    "organization",
    "organization_name",
    "kind",
    "kind_label",
    "status",
    "status_label",
    "date",
    "place",
    "topic",
    "host",
    "recorder",
    "counterpart",
    "appraisal_stage",
    "expected_count",
    "present_count",
    "has_quorum",
    "version",
]


class AttendanceSerializer(serializers.ModelSerializer):
    presence_label = serializers.CharField(source="get_presence_display", read_only=True)

    class Meta:
        model = Attendance
        fields = [
            "id",
            "member",
            "name",
            "presence",
            "presence_label",
            "leave_approved",
            "reason",
            "checked_in_at",
        ]
        read_only_fields = fields


class MeetingSerializer(serializers.ModelSerializer):
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    status = serializers.CharField(read_only=True, help_text=MEETING_STATUS_HELP)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    has_quorum = serializers.BooleanField(
        read_only=True, help_text="实到人数超过应到人数的一半（支部工作条例第十二条）"
    )

    class Meta:
        model = Meeting
        fields = MEETING_READ_FIELDS
        read_only_fields = fields


class MeetingDetailSerializer(MeetingSerializer):
    attendance = AttendanceSerializer(many=True, read_only=True)

    class Meta(MeetingSerializer.Meta):
        fields = [*MEETING_READ_FIELDS, "minutes", "resolutions", "attendance"]
        read_only_fields = fields


def _scoped_member_field(**kwargs) -> serializers.PrimaryKeyRelatedField:
    return serializers.PrimaryKeyRelatedField(
        queryset=Member.objects.none(), required=False, allow_null=True, **kwargs
    )


class MeetingWriteSerializer(serializers.Serializer):
    """A meeting as a client records it; who is expected is taken from the membership."""

    organization = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.none())
    kind = serializers.ChoiceField(choices=MeetingKind.choices)
    status = MeetingStatusField(required=False)
    date = serializers.DateField()
    place = serializers.CharField(max_length=120, required=False, allow_blank=True)
    topic = serializers.CharField(max_length=200)
    host = _scoped_member_field(help_text="主持人（谈心谈话为谈话人）")
    recorder = _scoped_member_field(help_text="记录人")
    counterpart = _scoped_member_field(help_text="谈话对象（仅谈心谈话）")
    minutes = serializers.CharField(required=False, allow_blank=True)
    resolutions = serializers.CharField(required=False, allow_blank=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is None:
            return
        # Only what the caller can see can be named: nothing outside the scope is probed.
        if "organization" in self.fields:
            self.fields["organization"].queryset = Organization.objects.for_user(
                request.user, Perm.VIEW_LIFE
            )
        for name in ("host", "recorder", "counterpart"):
            self.fields[name].queryset = Member.objects.for_user(request.user)


class MeetingUpdateSerializer(MeetingWriteSerializer):
    """Changed fields only (PUT and PATCH alike), with the version that was read."""

    organization = None  # a record stays with its organization
    kind = serializers.ChoiceField(
        choices=MeetingKind.choices, required=False, help_text="不能修改；须与原记录一致"
    )
    date = serializers.DateField(required=False)
    topic = serializers.CharField(max_length=200, required=False)
    version = serializers.IntegerField(help_text="读取时的 version；已被他人修改时返回 409")


class ChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)
    by = serializers.CharField(help_text="修改人")


class StaleSerializer(serializers.Serializer):
    """The 409 answer to an edit of a version somebody else has saved over."""

    version = serializers.CharField()
    changes = ChangeSerializer(many=True)


class MeetingDeleteSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="删除原因（记入审计日志）")


class MarkSerializer(serializers.Serializer):
    attendance_id = serializers.IntegerField()
    presence = serializers.ChoiceField(choices=Presence.choices)
    leave_approved = serializers.BooleanField(default=False)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class MarkAttendanceSerializer(serializers.Serializer):
    marks = MarkSerializer(many=True, allow_empty=False)
    correction_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="更正已签到或已召开会议的出席记录时必填",
    )


class MeetingFilterSerializer(serializers.Serializer):
    organization = serializers.IntegerField(required=False)
    kind = serializers.ChoiceField(choices=MeetingKind.choices, required=False)
    status = MeetingStatusField(required=False)
    year = serializers.IntegerField(required=False, min_value=1921, max_value=2200)
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)

    def validate(self, attrs):
        if (
            attrs.get("date_from")
            and attrs.get("date_to")
            and attrs["date_from"] > attrs["date_to"]
        ):
            raise serializers.ValidationError({"date_to": "结束日期不能早于开始日期。"})
        return attrs


# ---- compliance ----


class ComplianceQuerySerializer(serializers.Serializer):
    organization = serializers.IntegerField()
    year = serializers.IntegerField(
        min_value=1921, max_value=2200, required=False, help_text="默认为今年"
    )
    month_from = serializers.IntegerField(min_value=1, max_value=12, default=1)
    month_to = serializers.IntegerField(min_value=1, max_value=12, default=12)
    rollup = serializers.BooleanField(default=False)

    def validate(self, attrs):
        if attrs["month_from"] > attrs["month_to"]:
            raise serializers.ValidationError({"month_to": "结束月份不能早于开始月份。"})
        return attrs


class RequirementSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=MeetingKind.choices)
    label = serializers.CharField()
    period = serializers.CharField(help_text="month / quarter / year")
    period_label = serializers.CharField()
    minimum = serializers.IntegerField(help_text="每周期至少次数")
    quorum_percent = serializers.IntegerField(help_text="到会须超过应到人数的百分比，0为不要求")
    needs_committee = serializers.BooleanField(help_text="仅适用于设支部委员会的支部")
    org_types = serializers.ListField(child=serializers.CharField())
    citation = serializers.CharField()
    rule_text = serializers.CharField()
    summary = serializers.CharField()
    customized = serializers.BooleanField(help_text="顶层组织改过默认要求")


class PeriodSerializer(serializers.Serializer):
    period = serializers.CharField(help_text="如“3月”“第二季度”“全年”")
    status = serializers.CharField(help_text=COMPLIANCE_STATUS_HELP)
    status_label = serializers.CharField()
    count = serializers.IntegerField(help_text="该期内符合要求的会议次数")


class CellSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=MeetingKind.choices)
    status = serializers.CharField(help_text="总体状态：" + COMPLIANCE_STATUS_HELP)
    met = serializers.IntegerField(help_text="已完成的期数")
    overdue = serializers.IntegerField(help_text="已结束而未完成的期数")
    due = serializers.IntegerField(help_text="本期正在进行且尚未完成时为1")
    owed = serializers.IntegerField(help_text="截至今天应完成的期数（已结束的和本期）")
    periods = PeriodSerializer(many=True)


class ComplianceRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    org_type = serializers.CharField()
    depth = serializers.IntegerField()
    requirements = CellSerializer(many=True, help_text="该组织须完成的各项要求")


class TotalsSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=MeetingKind.choices)
    orgs = serializers.IntegerField(help_text="须完成该要求的组织数")
    met = serializers.IntegerField()
    overdue = serializers.IntegerField()
    due = serializers.IntegerField()
    owed = serializers.IntegerField()
    orgs_overdue = serializers.IntegerField(help_text="有逾期的组织数")


class RollupRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    org_type = serializers.CharField()
    is_self = serializers.BooleanField(help_text="所查组织本身（其本身须完成的要求）")
    totals = TotalsSerializer(many=True, help_text="该下级组织整个子树的合计")
    own = CellSerializer(many=True, allow_null=True, help_text="该组织本身的各项要求")


class OrganizationBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    org_type = serializers.CharField()


class ComplianceSerializer(serializers.Serializer):
    organization = OrganizationBriefSerializer()
    year = serializers.IntegerField()
    month_from = serializers.IntegerField()
    month_to = serializers.IntegerField()
    today = serializers.DateField(help_text="区分已结束、本期、未到期的日期")
    requirements = RequirementSerializer(many=True)
    totals = TotalsSerializer(many=True, help_text="整个子树的合计")
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ComplianceRowSerializer(many=True, help_text="?rollup=1 时为 RollupRow")


class ComplianceRollupSerializer(ComplianceSerializer):
    results = RollupRowSerializer(many=True)


def requirement_data(requirement: Requirement) -> dict:
    return {
        "kind": requirement.kind,
        "label": str(requirement.label),
        "period": requirement.period,
        "period_label": str(Period(requirement.period).label),
        "minimum": requirement.minimum,
        "quorum_percent": requirement.quorum_percent,
        "needs_committee": requirement.needs_committee,
        "org_types": list(requirement.org_types),
        "citation": str(requirement.citation),
        "rule_text": str(requirement.rule_text),
        "summary": requirement.summary(),
        "customized": requirement.customized,
    }


def cell_data(cell: Cell, compliance: Compliance) -> dict:
    requirement = cell.requirement
    slots = compliance.window.slots(requirement)
    counts = cell.counts or (0,) * len(slots)
    periods = []
    for slot, count in zip(slots, counts, strict=True):
        status = cell.status(slot)
        periods.append(
            {
                "period": slot_label(requirement, slot),
                "status": status.value,
                "status_label": STATUS_LABELS[status],
                "count": count,
            }
        )
    return {
        "kind": requirement.kind,
        "status": cell.overall.value,
        "met": cell.met,
        "overdue": cell.overdue,
        "due": cell.due,
        "owed": cell.owed,
        "periods": periods,
    }


def row_data(row: OrgRow, compliance: Compliance) -> dict:
    return {
        "id": row.id,
        "name": row.name,
        "org_type": row.org_type,
        "depth": row.depth,
        "requirements": [cell_data(cell, compliance) for cell in row.cells.values()],
    }


def totals_data(totals: dict[str, dict[str, int]]) -> list[dict]:
    return [{"kind": kind, **numbers} for kind, numbers in totals.items()]


def rollup_data(row: RollupRow, compliance: Compliance) -> dict:
    org = row.organization
    return {
        "id": org.id,
        "name": org.name,
        "org_type": org.org_type,
        "is_self": row.is_self,
        "totals": totals_data(row.totals),
        "own": [cell_data(c, compliance) for c in row.own.cells.values()] if row.own else None,
    }
