"""Member development records: one per person from the application to full membership.

The record keeps the person's particulars (they are not on the roster until the higher
committee approves them as probationary, when a :class:`~dangjian.members.models.Member` is
created and linked), the stage they are in, and the key dates of the steps recorded so far,
denormalised so that reminders, flags and the pipeline are single queries over a subtree.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from encrypted_fields.fields import EncryptedCharField

from dangjian.members import idnumber
from dangjian.members.choices import ETHNICITY_CHOICES, Education, Gender, Occupation
from dangjian.members.models import Member
from dangjian.organizations.models import Organization

from .steps import LAST, Role, Stage


class Outcome(models.TextChoices):
    OPEN = "open", _("进行中")
    COMPLETED = "completed", _("已转正")
    STOPPED = "stopped", _("终止培养")
    DISQUALIFIED = "disqualified", _("取消预备党员资格")


class DevelopmentRecord(models.Model):
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="development_records",
        verbose_name=_("党支部"),
    )
    name = models.CharField(_("姓名"), max_length=60)
    gender = models.CharField(_("性别"), max_length=8, choices=Gender.choices)
    ethnicity = models.CharField(_("民族"), max_length=16, choices=ETHNICITY_CHOICES)
    id_number = EncryptedCharField(_("公民身份号码"), max_length=18)
    id_hash = models.CharField(max_length=64, editable=False, db_index=True)
    birth_date = models.DateField(_("出生日期"))
    education = models.CharField(_("学历"), max_length=24, choices=Education.choices)
    occupation = models.CharField(_("工作岗位"), max_length=24, choices=Occupation.choices)
    work_unit = models.CharField(_("工作单位及职务"), max_length=120, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)

    stage = models.CharField(
        _("阶段"), max_length=16, choices=Stage.choices, default=Stage.APPLICANT
    )
    outcome = models.CharField(
        _("状态"), max_length=16, choices=Outcome.choices, default=Outcome.OPEN
    )
    step = models.PositiveSmallIntegerField(_("已完成步骤"), default=0)
    member = models.OneToOneField(
        Member,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="development_record",
        verbose_name=_("花名册记录"),
    )
    # Key dates, kept by the services from the steps.
    applied_on = models.DateField(_("申请入党日期"), null=True, blank=True)
    talked_on = models.DateField(_("谈话日期"), null=True, blank=True)
    activist_on = models.DateField(_("确定为入党积极分子日期"), null=True, blank=True)
    candidate_on = models.DateField(_("确定为发展对象日期"), null=True, blank=True)
    last_assessed_on = models.DateField(_("最近一次考察日期"), null=True, blank=True)
    admitted_on = models.DateField(_("支部大会接收日期"), null=True, blank=True)
    approved_on = models.DateField(_("上级党委审批日期"), null=True, blank=True)
    probation_ends_on = models.DateField(_("预备期满日期"), null=True, blank=True)
    conversion_meeting_on = models.DateField(_("支部大会讨论转正日期"), null=True, blank=True)
    converted_on = models.DateField(_("转正日期"), null=True, blank=True)
    extension_months = models.PositiveSmallIntegerField(_("延长预备期（月）"), default=0)
    extension_decided_on = models.DateField(_("延长预备期决定日期"), null=True, blank=True)
    extension_reason = models.CharField(_("延长预备期理由"), max_length=200, blank=True)
    closed_on = models.DateField(_("终止日期"), null=True, blank=True)
    closed_reason = models.CharField(_("终止理由"), max_length=200, blank=True)

    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("发展党员档案")
        verbose_name_plural = _("发展党员档案")
        ordering = ["organization", "applied_on", "pk"]
        indexes = [
            models.Index(fields=["organization", "outcome", "stage"], name="development_pipeline")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(step__lte=LAST), name="development_step_at_most_last"
            ),
        ]

    def __str__(self):
        return f"{self.name}（{self.get_stage_display()}）"

    def save(self, *args, **kwargs):
        self.id_number = idnumber.normalize(self.id_number)
        self.id_hash = idnumber.lookup_hash(self.id_number)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("development:detail", args=[self.pk])

    @property
    def masked_id_number(self) -> str:
        return idnumber.mask(self.id_number)

    @property
    def is_open(self) -> bool:
        return self.outcome == Outcome.OPEN


class StepRecord(models.Model):
    """One of the 25 steps, done on ``date``; the columns a step does not use stay empty."""

    record = models.ForeignKey(
        DevelopmentRecord, on_delete=models.CASCADE, related_name="steps", verbose_name=_("档案")
    )
    number = models.PositiveSmallIntegerField(_("步骤"))
    date = models.DateField(_("日期"))
    note = models.TextField(_("情况说明"), blank=True)
    # branch general meetings (steps 15 and 23)
    entitled = models.PositiveIntegerField(_("应到会有表决权的正式党员"), null=True, blank=True)
    present = models.PositiveIntegerField(_("实到会有表决权的党员"), null=True, blank=True)
    in_favour = models.PositiveIntegerField(_("赞成票"), null=True, blank=True)
    # training (step 11)
    training_days = models.DecimalField(
        _("培训天数"), max_digits=4, decimal_places=1, null=True, blank=True
    )
    training_hours = models.DecimalField(
        _("培训学时"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    # public notice (step 13)
    notice_start = models.DateField(_("公示开始日期"), null=True, blank=True)
    notice_end = models.DateField(_("公示结束日期"), null=True, blank=True)
    # political review (step 10)
    passed = models.BooleanField(_("审查合格"), null=True, blank=True)
    # approval later than the usual window (step 17)
    delay_reason = models.CharField(_("延长审批时间的理由"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("登记人"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("发展步骤")
        verbose_name_plural = _("发展步骤")
        ordering = ["record", "number"]
        constraints = [
            models.UniqueConstraint(fields=["record", "number"], name="development_step_once"),
            models.CheckConstraint(
                condition=Q(number__gte=1) & Q(number__lte=LAST), name="development_step_number"
            ),
        ]

    def __str__(self):
        return f"{self.record.name} {self.number} {self.date}"


class Participant(models.Model):
    """A person named in a step: a talker, a contact, a sponsor, an approver. Contacts and
    sponsors are members on the roster; others may be named only."""

    record = models.ForeignKey(
        DevelopmentRecord, on_delete=models.CASCADE, related_name="people", verbose_name=_("档案")
    )
    step = models.PositiveSmallIntegerField(_("步骤"))
    role = models.CharField(_("身份"), max_length=20, choices=Role.choices)
    member = models.ForeignKey(
        Member,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("党员"),
    )
    name = models.CharField(_("姓名"), max_length=60)

    class Meta:
        verbose_name = _("相关人员")
        verbose_name_plural = _("相关人员")
        ordering = ["record", "step", "pk"]

    def __str__(self):
        return f"{self.get_role_display()} {self.name}"


class AssessmentStage(models.TextChoices):
    ACTIVIST = "activist", _("入党积极分子考察")
    PROBATIONARY = "probationary", _("预备党员考察")


class Assessment(models.Model):
    """A half-yearly assessment (培养教育考察 / 继续教育考察) written into the record."""

    record = models.ForeignKey(
        DevelopmentRecord,
        on_delete=models.CASCADE,
        related_name="assessments",
        verbose_name=_("档案"),
    )
    stage = models.CharField(_("考察类别"), max_length=16, choices=AssessmentStage.choices)
    date = models.DateField(_("考察日期"))
    summary = models.TextField(_("考察意见"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("登记人"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("考察记录")
        verbose_name_plural = _("考察记录")
        ordering = ["record", "date", "pk"]

    def __str__(self):
        return f"{self.record.name} {self.date}"


class DocumentKind(models.TextChoices):
    APPLICATION = "application", _("入党申请书")
    THOUGHT_REPORT = "thought_report", _("思想汇报")
    POLITICAL_REVIEW = "political_review", _("政治审查材料")
    TRAINING_CERTIFICATE = "training_certificate", _("培训结业证书")
    VOLUNTEER_FORM = "volunteer_form", _("入党志愿书")
    CONVERSION_APPLICATION = "conversion_application", _("转正申请书")
    OTHER = "other", _("其他材料")


class Document(models.Model):
    """A paper in the person's file (入党材料), registered with its date and number."""

    record = models.ForeignKey(
        DevelopmentRecord,
        on_delete=models.CASCADE,
        related_name="documents",
        verbose_name=_("档案"),
    )
    kind = models.CharField(_("材料类别"), max_length=24, choices=DocumentKind.choices)
    date = models.DateField(_("日期"))
    title = models.CharField(_("名称或编号"), max_length=120, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("登记人"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("入党材料")
        verbose_name_plural = _("入党材料")
        ordering = ["record", "date", "pk"]

    def __str__(self):
        return f"{self.record.name} {self.get_kind_display()} {self.date}"
