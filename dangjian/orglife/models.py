"""Records of organizational life: meetings with their attendance, attachments, appraisals.

A meeting's expected attendees are taken from the membership when it is recorded and kept as
attendance rows, so later roster changes do not rewrite the past. ``expected_count`` and
``present_count`` are kept on the meeting by the services so the compliance engine can test a
quorum without reading attendance.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from dangjian.organizations.models import Organization

from .choices import AppraisalGrade, AppraisalStage, MeetingKind, MeetingStatus, Period, Presence


class Meeting(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="meetings", verbose_name=_("党组织")
    )
    kind = models.CharField(_("类型"), max_length=24, choices=MeetingKind.choices)
    status = models.CharField(
        _("状态"), max_length=12, choices=MeetingStatus.choices, default=MeetingStatus.HELD
    )
    date = models.DateField(_("日期"))
    place = models.CharField(_("地点"), max_length=120, blank=True)
    topic = models.CharField(_("主题"), max_length=200)
    host = models.ForeignKey(
        "members.Member",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("主持人"),
    )
    recorder = models.ForeignKey(
        "members.Member",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("记录人"),
    )
    # 谈心谈话: who talked with whom (the host is the one who held the talk).
    counterpart = models.ForeignKey(
        "members.Member",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("谈话对象"),
    )
    minutes = models.TextField(_("会议记录"), blank=True)
    resolutions = models.TextField(_("决议事项"), blank=True)
    appraisal_stage = models.CharField(
        _("评议阶段"), max_length=12, choices=AppraisalStage.choices, blank=True
    )
    expected_count = models.PositiveIntegerField(_("应到人数"), default=0, editable=False)
    present_count = models.PositiveIntegerField(_("实到人数"), default=0, editable=False)
    # Members sign in with this code (or its QR) while the host keeps the window open.
    checkin_code = models.CharField(max_length=8, blank=True, db_index=True, editable=False)
    checkin_opens_at = models.DateTimeField(null=True, blank=True, editable=False)
    checkin_closes_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("组织生活记录")
        verbose_name_plural = _("组织生活记录")
        ordering = ["-date", "-id"]
        indexes = [
            # The compliance engine reads one kind over a year, for a subtree.
            models.Index(fields=["kind", "date", "organization"], name="meeting_kind_date_org"),
            models.Index(fields=["organization", "date"], name="meeting_org_date"),
            # The newest-first list of a large subtree reads this index backwards.
            models.Index(fields=["date", "id"], name="meeting_date_id"),
        ]

    def __str__(self):
        return f"{self.date} {self.get_kind_display()} {self.topic}"

    def get_absolute_url(self):
        return reverse("orglife:meeting", args=[self.pk])

    @property
    def is_held(self) -> bool:
        return self.status == MeetingStatus.HELD

    @property
    def has_quorum(self) -> bool:
        """More than half of those expected are present (支部工作条例 art.12)."""
        return self.meets_quorum(50)

    def meets_quorum(self, percent: int) -> bool:
        """More than ``percent``% of those expected are present (0: no quorum asked)."""
        return not percent or self.present_count * 100 > self.expected_count * percent


class Attendance(models.Model):
    """One expected attendee of a meeting and whether they came."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    # A part-time committee member from a stationed unit may not be on any roster here.
    member = models.ForeignKey(
        "members.Member",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="attendance",
        verbose_name=_("党员"),
    )
    name = models.CharField(_("姓名"), max_length=60)
    presence = models.CharField(
        _("出席情况"), max_length=12, choices=Presence.choices, default=Presence.UNMARKED
    )
    leave_approved = models.BooleanField(_("请假已批准"), default=False)
    reason = models.CharField(_("缺席或请假原因"), max_length=200, blank=True)
    checked_in_at = models.DateTimeField(_("签到时间"), null=True, blank=True)
    # Kept here (as well as on the meeting) so "last took part" is one indexed lookup.
    meeting_date = models.DateField(editable=False)

    class Meta:
        verbose_name = _("出席记录")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "member"],
                condition=models.Q(member__isnull=False),
                name="attendance_one_row_per_member",
            )
        ]
        indexes = [
            models.Index(fields=["member", "meeting_date"], name="attendance_member_date"),
        ]

    def __str__(self):
        return f"{self.name} {self.get_presence_display()}"


def attachment_path(instance, filename):
    return f"meetings/{instance.meeting.date:%Y/%m}/{instance.meeting_id}/{filename}"


class Attachment(models.Model):
    """A scan, photo or document kept with a meeting record; served only through the app."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=255)
    original_name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField(_("大小"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("附件")
        ordering = ["id"]

    def __str__(self):
        return self.original_name


class AppraisalResult(models.Model):
    """One member's result in a 民主评议党员: self-appraisal, mutual appraisal, the vote."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="appraisals")
    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="appraisals"
    )
    self_summary = models.TextField(_("个人自评"), blank=True)
    mutual_comments = models.TextField(_("互评意见"), blank=True)
    votes_excellent = models.PositiveIntegerField(_("评为优秀票数"), default=0)
    votes_qualified = models.PositiveIntegerField(_("评为合格票数"), default=0)
    votes_basic = models.PositiveIntegerField(_("评为基本合格票数"), default=0)
    votes_unqualified = models.PositiveIntegerField(_("评为不合格票数"), default=0)
    grade = models.CharField(
        _("评议结果"), max_length=16, choices=AppraisalGrade.choices, blank=True
    )

    class Meta:
        verbose_name = _("评议结果")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "member"], name="appraisal_one_per_member")
        ]

    def __str__(self):
        return f"{self.member} {self.get_grade_display()}"


class RequirementSetting(models.Model):
    """A top organization's own version of one requirement (e.g. 党课 every quarter)."""

    root = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("顶层组织")
    )
    kind = models.CharField(_("类型"), max_length=24, choices=MeetingKind.choices)
    period = models.CharField(_("周期"), max_length=12, choices=Period.choices)
    minimum = models.PositiveSmallIntegerField(_("每周期至少次数"))
    quorum_percent = models.PositiveSmallIntegerField(_("到会人数须超过应到人数的百分比"))
    org_types = models.JSONField(_("适用组织类别"), default=list)
    enabled = models.BooleanField(_("启用"), default=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("组织生活要求设置")
        constraints = [
            models.UniqueConstraint(fields=["root", "kind"], name="requirement_setting_unique")
        ]

    def __str__(self):
        return f"{self.root_id}:{self.kind}"
