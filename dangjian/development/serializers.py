"""What the member development API reads and writes.

Records are read through ModelSerializers (the ID and phone numbers masked, never in clear)
and written through plain input serializers: the services check the rules and the
permissions. The pipeline is built as plain dicts by the functions at the end; the
serializers above them describe that shape for the OpenAPI schema.

The choice sets of this app (stages, outcomes, roles, document kinds, assessment stages) are
named in the schema by ``ENUM_NAME_OVERRIDES`` in the settings (``Development…Enum``), so
they do not collide with other apps' ``StageEnum``/``KindEnum``/``RoleEnum``.
"""

from __future__ import annotations

from collections import defaultdict

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from dangjian.accounts.roles import Perm
from dangjian.core.flags import FLAGS
from dangjian.members.choices import ETHNICITY_CHOICES, Education, Gender, Occupation
from dangjian.members.idnumber import mask_phone
from dangjian.organizations.models import Organization, OrgType
from dangjian.orglife.serializers import OrganizationBriefSerializer

from . import steps
from .models import Assessment, DevelopmentRecord, Document, DocumentKind, Outcome, StepRecord
from .pipeline import OPEN_STAGES, Overdue, Pipeline, Row
from .steps import BY_NUMBER, Stage

# The reminder (step flag) whose due date is the due date of each next step.
NEXT_STEP_FLAGS = {
    steps.TALK: "development_talk_due",
    steps.ACTIVIST_EDUCATION: "development_assessment_due",
    16: "development_approval_pending",
    steps.APPROVAL: "development_approval_pending",
    steps.PROBATION_EDUCATION: "development_assessment_due",
    steps.CONVERSION_MEETING: "development_probation_ending",
    steps.CONVERSION_APPROVAL: "development_conversion_pending",
}


def next_step_data(record: DevelopmentRecord) -> dict | None:
    """The step to record next, with the date it is due by where a rule sets one (the same
    date as the reminder lists and the pipeline show), or None for a finished record."""
    if not record.is_open or record.step >= steps.LAST:
        return None
    step = BY_NUMBER[record.step + 1]
    flag = FLAGS[NEXT_STEP_FLAGS[step.number]] if step.number in NEXT_STEP_FLAGS else None
    return {
        "number": step.number,
        "code": step.code,
        "label": str(step.label),
        "phase": int(step.phase),
        "phase_label": str(step.phase.label),
        "by_higher_committee": step.by_higher_committee,
        "due_on": flag.due_of(record) if flag else None,
        "due_label": str(flag.label) if flag else "",
        "citation": str(flag.citation) if flag else "",
    }


class NextStepSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    code = serializers.CharField()
    label = serializers.CharField()
    phase = serializers.IntegerField(
        help_text="1–5：申请入党、积极分子、发展对象、接收预备党员、转正"
    )
    phase_label = serializers.CharField()
    by_higher_committee = serializers.BooleanField(
        help_text="由上级党委办理（须在支部的上级组织有审批发展党员的权限）"
    )
    due_on = serializers.DateField(allow_null=True, help_text="应完成的日期；无期限要求时为空")
    due_label = serializers.CharField(help_text="对应的提醒事项")
    citation = serializers.CharField(help_text="期限的依据")


RECORD_READ_FIELDS = [
    "id",
    "organization",
    "organization_name",
    "name",
    "gender",
    "stage",
    "stage_label",
    "outcome",
    "outcome_label",
    "step",
    "step_label",
    "applied_on",
    "activist_on",
    "candidate_on",
    "admitted_on",
    "approved_on",
    "probation_ends_on",
    "converted_on",
    "closed_on",
    "next_step",
    "version",
]


class RecordSerializer(serializers.ModelSerializer):
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    stage_label = serializers.CharField(source="get_stage_display", read_only=True)
    outcome_label = serializers.CharField(source="get_outcome_display", read_only=True)
    step = serializers.IntegerField(read_only=True, help_text="已完成的最后一步（1–25）")
    step_label = serializers.SerializerMethodField()
    next_step = serializers.SerializerMethodField()

    class Meta:
        model = DevelopmentRecord
        fields = RECORD_READ_FIELDS
        read_only_fields = fields

    def get_step_label(self, record) -> str:
        return steps.step_label(record.step) if record.step else ""

    @extend_schema_field(NextStepSerializer(allow_null=True))
    def get_next_step(self, record):
        return next_step_data(record)


class ParticipantSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=steps.Role.choices)
    role_label = serializers.CharField()
    member = serializers.IntegerField(allow_null=True, help_text="花名册中的党员；仅填姓名时为空")
    name = serializers.CharField()


class StepSerializer(serializers.ModelSerializer):
    """A recorded step; the columns the step does not use are null."""

    code = serializers.SerializerMethodField()
    label = serializers.SerializerMethodField()
    phase = serializers.SerializerMethodField(help_text="1–5")
    people = serializers.SerializerMethodField(help_text="谈话人、培养联系人、入党介绍人等")
    recorded_by_name = serializers.SerializerMethodField()

    class Meta:
        model = StepRecord
        fields = [
            "number",
            "code",
            "label",
            "phase",
            "date",
            "note",
            "people",
            "entitled",
            "present",
            "in_favour",
            "training_days",
            "training_hours",
            "notice_start",
            "notice_end",
            "passed",
            "delay_reason",
            "recorded_by_name",
            "created_at",
        ]
        read_only_fields = fields

    def get_code(self, step) -> str:
        return BY_NUMBER[step.number].code

    def get_label(self, step) -> str:
        return str(BY_NUMBER[step.number].label)

    def get_phase(self, step) -> int:
        return int(BY_NUMBER[step.number].phase)

    @extend_schema_field(ParticipantSerializer(many=True))
    def get_people(self, step):
        people = self.context.get("people", {}).get(step.number, [])
        return [
            {
                "role": p.role,
                "role_label": p.get_role_display(),
                "member": p.member_id,
                "name": p.name,
            }
            for p in people
        ]

    def get_recorded_by_name(self, step) -> str:
        return str(step.recorded_by) if step.recorded_by_id else ""


class AssessmentSerializer(serializers.ModelSerializer):
    stage_label = serializers.CharField(source="get_stage_display", read_only=True)

    class Meta:
        model = Assessment
        fields = ["id", "stage", "stage_label", "date", "summary", "created_at"]
        read_only_fields = fields


class DocumentSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Document
        fields = ["id", "kind", "kind_label", "date", "title", "created_at"]
        read_only_fields = fields


class RecordDetailSerializer(RecordSerializer):
    """The whole record: particulars (ID and phone masked), the steps with their people,
    votes, training and notice, the assessments and the papers, and the next step."""

    id_number_masked = serializers.CharField(source="masked_id_number", read_only=True)
    phone_masked = serializers.SerializerMethodField()
    steps = serializers.SerializerMethodField()
    assessments = AssessmentSerializer(many=True, read_only=True)
    documents = DocumentSerializer(many=True, read_only=True)

    class Meta(RecordSerializer.Meta):
        fields = [
            *RECORD_READ_FIELDS,
            "ethnicity",
            "id_number_masked",
            "birth_date",
            "education",
            "occupation",
            "work_unit",
            "phone_masked",
            "member",
            "talked_on",
            "last_assessed_on",
            "conversion_meeting_on",
            "extension_months",
            "extension_decided_on",
            "extension_reason",
            "closed_reason",
            "steps",
            "assessments",
            "documents",
        ]
        read_only_fields = fields

    def get_phone_masked(self, record) -> str:
        return mask_phone(record.phone)

    @extend_schema_field(StepSerializer(many=True))
    def get_steps(self, record):
        people = defaultdict(list)
        for person in record.people.all():
            people[person.step].append(person)
        return StepSerializer(
            record.steps.all(), many=True, context={**self.context, "people": people}
        ).data


# ---- writing ----


class RecordWriteSerializer(serializers.Serializer):
    """Step 1: an application handed in to a branch. The ID number is written in clear and
    never read back (the record shows it masked)."""

    organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.none(), help_text="接收申请的党支部"
    )
    date = serializers.DateField(help_text="递交入党申请书的日期")
    name = serializers.CharField(max_length=60)
    gender = serializers.ChoiceField(choices=Gender.choices)
    ethnicity = serializers.ChoiceField(choices=ETHNICITY_CHOICES)
    id_number = serializers.CharField(max_length=18, write_only=True, help_text="公民身份号码")
    birth_date = serializers.DateField(required=False, help_text="默认取自身份证号")
    education = serializers.ChoiceField(choices=Education.choices)
    occupation = serializers.ChoiceField(choices=Occupation.choices)
    work_unit = serializers.CharField(max_length=120, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
    note = serializers.CharField(required=False, allow_blank=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:  # only what the caller can see can be named
            self.fields["organization"].queryset = Organization.objects.for_user(
                request.user, Perm.VIEW_DEVELOPMENT
            )


class StepWriteSerializer(serializers.Serializer):
    """The next step of a record, with what that step records (other fields are ignored)."""

    number = serializers.IntegerField(min_value=2, max_value=steps.LAST, help_text="步骤 2–25")
    date = serializers.DateField()
    note = serializers.CharField(required=False, allow_blank=True, help_text="情况说明")
    people = serializers.ListField(
        child=serializers.CharField(max_length=60),
        required=False,
        help_text="谈话人、培养联系人（步骤5）、入党介绍人（步骤9，须2名）、上级党委谈话人、"
        "审批人：花名册中党员的 id（数字），或姓名（联系人、介绍人须为党员 id）",
    )
    entitled = serializers.IntegerField(
        min_value=0, required=False, help_text="应到会有表决权的正式党员（步骤15、23）"
    )
    present = serializers.IntegerField(
        min_value=0, required=False, help_text="实到会有表决权的党员（步骤15、23）"
    )
    in_favour = serializers.IntegerField(
        min_value=0, required=False, help_text="赞成票（步骤15、23）"
    )
    entitled_reason = serializers.CharField(
        max_length=200,
        required=False,
        help_text="应到人数少于支部当日有表决权的正式党员数（受留党察看处分者除外）时的原因",
    )
    training_days = serializers.DecimalField(
        max_digits=4, decimal_places=1, min_value=0, required=False, help_text="培训天数（步骤11）"
    )
    training_hours = serializers.DecimalField(
        max_digits=5, decimal_places=1, min_value=0, required=False, help_text="培训学时（步骤11）"
    )
    notice_start = serializers.DateField(required=False, help_text="公示开始日期（步骤13）")
    notice_end = serializers.DateField(required=False, help_text="公示结束日期（步骤13）")
    passed = serializers.BooleanField(required=False, help_text="政治审查是否合格（步骤10）")
    delay_reason = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="支部大会后超过3个月审批时须写明的特殊情况（步骤17）",
    )
    party_group = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.none(),
        required=False,
        allow_null=True,
        help_text="编入的党小组（步骤19）",
    )
    version = serializers.IntegerField(help_text="读取档案时的 version；已被他人修改时返回 409")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["party_group"].queryset = Organization.objects.for_user(
                request.user, Perm.VIEW_DEVELOPMENT
            ).filter(org_type=OrgType.GROUP)


class AssessmentWriteSerializer(serializers.Serializer):
    date = serializers.DateField()
    summary = serializers.CharField(help_text="考察意见")


class DocumentWriteSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    date = serializers.DateField()
    title = serializers.CharField(
        max_length=120, required=False, allow_blank=True, default="", help_text="名称或编号"
    )


class ExtendSerializer(serializers.Serializer):
    months = serializers.IntegerField(min_value=1, max_value=24, help_text="延长的月数（6–12）")
    date = serializers.DateField(help_text="支部大会决定延长的日期（预备期满时）")
    reason = serializers.CharField(max_length=200)


class CloseSerializer(serializers.Serializer):
    date = serializers.DateField()
    reason = serializers.CharField(max_length=200, help_text="终止培养或取消预备党员资格的理由")


class RecordFilterSerializer(serializers.Serializer):
    organization = serializers.IntegerField(required=False)
    stage = serializers.ChoiceField(choices=Stage.choices, required=False)
    outcome = serializers.ChoiceField(choices=Outcome.choices, required=False)
    overdue = serializers.BooleanField(required=False, allow_null=True, default=None)


# ---- the pipeline ----


class PipelineQuerySerializer(serializers.Serializer):
    organization = serializers.IntegerField()


class StageCountsSerializer(serializers.Serializer):
    applicant = serializers.IntegerField(help_text="入党申请人")
    activist = serializers.IntegerField(help_text="入党积极分子")
    candidate = serializers.IntegerField(help_text="发展对象")
    probationary = serializers.IntegerField(help_text="预备党员")


class PipelineRowSerializer(serializers.Serializer):
    organization = OrganizationBriefSerializer(
        allow_null=True, help_text="直属下级组织（含其下级合计）；为空表示所查组织本身的档案"
    )
    by_stage = StageCountsSerializer(help_text="进行中的档案按阶段计数")
    total = serializers.IntegerField()
    admitted_this_year = serializers.IntegerField(help_text="今年支部大会接收的预备党员")
    converted_this_year = serializers.IntegerField(help_text="今年转正的党员")
    overdue = serializers.IntegerField(help_text="逾期未办的事项数")


class RecordBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    organization = serializers.IntegerField()
    organization_name = serializers.CharField()
    stage = serializers.ChoiceField(choices=Stage.choices)
    step = serializers.IntegerField()


class PipelineItemSerializer(serializers.Serializer):
    record = RecordBriefSerializer()
    label = serializers.CharField(help_text="待办事项")
    due_on = serializers.DateField()
    citation = serializers.CharField(help_text="依据")


class PipelineSerializer(serializers.Serializer):
    organization = OrganizationBriefSerializer()
    today = serializers.DateField()
    stages = serializers.DictField(
        child=serializers.CharField(), help_text="by_stage 各键的名称：阶段代码 → 中文"
    )
    rows = PipelineRowSerializer(many=True)
    totals = PipelineRowSerializer()
    overdue = PipelineItemSerializer(many=True, help_text="已逾期的事项，最早到期的在前")
    due_soon = PipelineItemSerializer(many=True, help_text="即将到期的事项")


def _brief(organization: Organization | None) -> dict | None:
    if organization is None:
        return None
    return {"id": organization.pk, "name": organization.name, "org_type": organization.org_type}


def _row(row: Row) -> dict:
    return {
        "organization": _brief(row.organization),
        "by_stage": {str(stage): row.by_stage[stage] for stage in OPEN_STAGES},
        "total": row.total,
        "admitted_this_year": row.admitted_this_year,
        "converted_this_year": row.converted_this_year,
        "overdue": row.overdue,
    }


def _item(item: Overdue) -> dict:
    record = item.record
    return {
        "record": {
            "id": record.pk,
            "name": record.name,
            "organization": record.organization_id,
            "organization_name": record.organization.name,
            "stage": record.stage,
            "step": record.step,
        },
        "label": item.label,
        "due_on": item.due_on,
        "citation": item.citation,
    }


def pipeline_data(result: Pipeline, today) -> dict:
    return {
        "organization": _brief(result.organization),
        "today": today,
        "stages": {str(stage): str(stage.label) for stage in OPEN_STAGES},
        "rows": [_row(row) for row in result.rows],
        "totals": _row(result.totals),
        "overdue": [_item(item) for item in result.overdue],
        "due_soon": [_item(item) for item in result.due_soon],
    }
