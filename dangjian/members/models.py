"""The member roster (党员花名册), after the national member information system."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from encrypted_fields.fields import EncryptedCharField

from dangjian.organizations.models import Organization

from . import idnumber
from .choices import (
    ETHNICITY_CHOICES,
    ON_ROSTER,
    Category,
    Education,
    Gender,
    Membership,
    Occupation,
    Standing,
)


class MemberQuerySet(models.QuerySet):
    def on_roster(self):
        return self.filter(standing__in=ON_ROSTER)

    def for_user(self, user):
        """Members of the organizations whose members ``user`` may see (their subtrees)."""
        from dangjian.accounts.roles import Perm

        return self.filter(organization__in=Organization.objects.for_user(user, Perm.VIEW_MEMBERS))

    def within(self, organization):
        return self.filter(organization__in=Organization.objects.within(organization))


class Member(models.Model):
    """A Party member on the roster of one organization (组织关系所在党组织)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="members", verbose_name=_("所在党组织")
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="member",
        verbose_name=_("登录账号"),
    )
    name = models.CharField(_("姓名"), max_length=60, db_index=True)
    gender = models.CharField(_("性别"), max_length=8, choices=Gender.choices)
    ethnicity = models.CharField(_("民族"), max_length=16, choices=ETHNICITY_CHOICES)
    # Stored encrypted; ``id_hash`` (a keyed hash) serves exact lookup and uniqueness.
    id_number = EncryptedCharField(_("公民身份号码"), max_length=18)
    id_hash = models.CharField(max_length=64, unique=True, editable=False)
    birth_date = models.DateField(_("出生日期"))
    education = models.CharField(_("学历"), max_length=24, choices=Education.choices)
    occupation = models.CharField(_("工作岗位"), max_length=24, choices=Occupation.choices)
    work_unit = models.CharField(_("工作单位及职务"), max_length=120, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    address = models.CharField(_("家庭住址"), max_length=200, blank=True)
    joined_on = models.DateField(_("入党日期"))
    full_member_on = models.DateField(_("转正日期"), null=True, blank=True)
    membership = models.CharField(
        _("党员类别"), max_length=16, choices=Membership.choices, default=Membership.FULL
    )
    standing = models.CharField(
        _("党籍状态"),
        max_length=16,
        choices=Standing.choices,
        default=Standing.NORMAL,
        db_index=True,
    )
    category = models.CharField(
        _("区域化管理类别"), max_length=16, choices=Category.choices, default=Category.RESIDENT
    )
    floating_destination = models.CharField(_("外出流向"), max_length=120, blank=True)
    floating_since = models.DateField(_("外出日期"), null=True, blank=True)
    lost_contact_since = models.DateField(_("失去联系日期"), null=True, blank=True)
    party_group = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="group_members",
        limit_choices_to={"org_type": "group"},
        verbose_name=_("所在党小组"),
    )
    # The last organizational-life meeting attended; kept by dangjian.orglife.services.
    last_participated_on = models.DateField(
        _("最近参加组织生活日期"), null=True, blank=True, editable=False
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MemberQuerySet.as_manager()

    class Meta:
        verbose_name = _("党员")
        verbose_name_plural = _("党员")
        indexes = [
            models.Index(fields=["organization", "standing", "name"], name="member_org_roster"),
            # Keyset paging by each sort of the roster.
            models.Index(fields=["name", "id"], name="member_name_id"),
            models.Index(fields=["joined_on", "id"], name="member_joined_id"),
            models.Index(fields=["birth_date", "id"], name="member_birth_id"),
            # Few members have lost contact: a partial index finds them without a scan.
            models.Index(
                fields=["lost_contact_since"],
                condition=models.Q(lost_contact_since__isnull=False),
                name="member_lost_contact",
            ),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.id_number = idnumber.normalize(self.id_number)
        self.id_hash = idnumber.lookup_hash(self.id_number)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("members:detail", args=[self.pk])

    @property
    def masked_id_number(self) -> str:
        return idnumber.mask(self.id_number)

    @property
    def masked_phone(self) -> str:
        return idnumber.mask_phone(self.phone)

    @property
    def on_roster(self) -> bool:
        return self.standing in ON_ROSTER


class PartyPost(models.Model):
    """A post held in the Party (党内职务)."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="party_posts")
    organization_name = models.CharField(_("任职组织"), max_length=120)
    post = models.CharField(_("职务"), max_length=60)
    started_on = models.DateField(_("任职日期"), null=True, blank=True)
    ended_on = models.DateField(_("离任日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("党内职务")
        ordering = ["-started_on"]

    def __str__(self):
        return f"{self.organization_name} {self.post}"


class RewardOrPunishment(models.Model):
    class Kind(models.TextChoices):
        REWARD = "reward", _("奖励")
        PUNISHMENT = "punishment", _("处分")

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="rewards")
    kind = models.CharField(_("类别"), max_length=16, choices=Kind.choices)
    title = models.CharField(_("名称"), max_length=120)
    decided_on = models.DateField(_("日期"))
    decided_by = models.CharField(_("批准机关"), max_length=120, blank=True)
    # 留党察看 matters to development: such a member may not sponsor an applicant.
    under_probation_until = models.DateField(_("留党察看至"), null=True, blank=True)

    class Meta:
        verbose_name = _("奖惩情况")
        ordering = ["-decided_on"]

    def __str__(self):
        return self.title


class FamilyMember(models.Model):
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="family")
    relation = models.CharField(_("称谓"), max_length=20)
    name = models.CharField(_("姓名"), max_length=60)
    work_unit = models.CharField(_("工作单位及职务"), max_length=120, blank=True)
    political_status = models.CharField(_("政治面貌"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("家庭成员")

    def __str__(self):
        return f"{self.relation} {self.name}"


class Hardship(models.Model):
    """A member in difficulty (生活困难党员), for care and visits."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="hardships")
    kind = models.CharField(_("困难类型"), max_length=40)
    since = models.DateField(_("开始日期"))
    note = models.CharField(_("情况说明"), max_length=200, blank=True)
    resolved_on = models.DateField(_("解除日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("困难情况")

    def __str__(self):
        return self.kind


class TravelAbroad(models.Model):
    """出国（境）情况."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="travels")
    destination = models.CharField(_("前往国家（地区）"), max_length=60)
    reason = models.CharField(_("事由"), max_length=120)
    left_on = models.DateField(_("出境日期"))
    returned_on = models.DateField(_("回国日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("出国（境）情况")
        ordering = ["-left_on"]

    def __str__(self):
        return f"{self.destination} {self.left_on}"


class ImportBatch(models.Model):
    """An uploaded roster workbook: checked into a preview, then applied in one transaction.

    The file is kept in the database (not on a disk one app process may not share), and the
    preview (every row's errors and changes) is stored so the user confirms what they saw.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("等待检查")
        CHECKING = "checking", _("正在检查")
        CHECKED = "checked", _("已检查，待确认")
        APPLYING = "applying", _("正在导入")
        APPLIED = "applied", _("已导入")
        FAILED = "failed", _("失败")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    filename = models.CharField(_("文件名"), max_length=200)
    content = models.BinaryField()
    sha256 = models.CharField(max_length=64, db_index=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    error_rows = models.PositiveIntegerField(default=0)
    new_count = models.PositiveIntegerField(default=0)
    update_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    preview = models.JSONField(default=dict, blank=True)
    valid_rows_only = models.BooleanField(_("仅导入无误的行"), default=False)
    applied_at = models.DateTimeField(null=True, blank=True)
    message = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("名册导入")
        ordering = ["-created_at"]

    def __str__(self):
        return self.filename

    def get_absolute_url(self):
        return reverse("members:import_detail", args=[self.pk])


class Transfer(models.Model):
    """组织关系转接: a member's organizational relation moving from one organization to another.

    Either side may lie outside the system (``*_outside`` names the organization there). The
    member moves only when the receiving side accepts.
    """

    class Status(models.TextChoices):
        ISSUED = "issued", _("已开具，待接收")
        ACCEPTED = "accepted", _("已接收")
        RETURNED = "returned", _("已退回")
        CANCELLED = "cancelled", _("已撤回")

    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, null=True, blank=True, related_name="transfers"
    )
    # For a member arriving from outside the system there is no Member row yet: the record
    # is created on acceptance from these fields.
    incoming_name = models.CharField(_("转入党员姓名"), max_length=60, blank=True)
    # The number as on the letter (encrypted). The encrypted field stores "" as NULL.
    incoming_id_number = EncryptedCharField(
        _("介绍信所载身份证号"), max_length=18, blank=True, null=True
    )
    from_organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="transfers_out",
        verbose_name=_("转出党组织"),
    )
    from_outside = models.CharField(_("系统外转出党组织"), max_length=160, blank=True)
    to_organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="transfers_in",
        verbose_name=_("接收党组织"),
    )
    to_outside = models.CharField(_("系统外接收党组织"), max_length=160, blank=True)
    reason = models.CharField(_("转接原因"), max_length=200)
    dues_paid_until = models.DateField(_("党费缴至"), help_text=_("所缴党费的最后一个月"))
    issued_on = models.DateField(_("开具日期"))
    valid_until = models.DateField(_("有效期至"))
    letter_number = models.CharField(_("介绍信编号"), max_length=40, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.ISSUED, db_index=True
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_on = models.DateField(_("处理日期"), null=True, blank=True)
    return_reason = models.CharField(_("退回原因"), max_length=200, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("组织关系转接")
        ordering = ["-issued_on", "-id"]
        indexes = [models.Index(fields=["status", "valid_until"], name="transfer_open_expiry")]
        constraints = [
            # The services check both; the database keeps them under concurrent requests.
            models.UniqueConstraint(
                fields=["member"],
                condition=models.Q(status="issued"),
                name="transfer_one_open_per_member",
            ),
            models.UniqueConstraint(
                fields=["from_organization", "letter_number"],
                condition=~models.Q(letter_number=""),
                name="transfer_letter_number_unique",
            ),
        ]

    def __str__(self):
        return f"{self.member or self.incoming_name} · {self.letter_number or self.pk}"

    def get_absolute_url(self):
        return reverse("members:transfer_detail", args=[self.pk])
