"""The organization tree (隶属关系) and what each organization records.

The membership tree is a materialized path (django-treebeard ``MP_Node``): a whole subtree is
one indexed prefix query on ``path`` on SQLite and PostgreSQL alike. The regional structure
(区域化党建) is kept beside it as links (:class:`RegionalLink`), never as a second tree.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node

from .querysets import OrganizationManager, OrganizationQuerySet


class OrgType(models.TextChoices):
    COMMITTEE = "committee", _("党委")
    WORKING_COMMITTEE = "working_committee", _("党工委")
    GENERAL_BRANCH = "general_branch", _("党总支")
    BRANCH = "branch", _("党支部")
    JOINT_BRANCH = "joint_branch", _("联合党支部")
    TEMPORARY_BRANCH = "temporary_branch", _("临时党支部")
    GROUP = "group", _("党小组")


BRANCH_TYPES = frozenset({OrgType.BRANCH, OrgType.JOINT_BRANCH, OrgType.TEMPORARY_BRANCH})
COMMITTEE_TYPES = frozenset({OrgType.COMMITTEE, OrgType.WORKING_COMMITTEE})


class Sector(models.TextChoices):
    """单位类别: the kind of unit the organization is set up in."""

    GOVERNMENT_ORGAN = "government_organ", _("机关")
    STATE_OWNED_ENTERPRISE = "state_owned_enterprise", _("国有企业")
    PUBLIC_INSTITUTION = "public_institution", _("事业单位")
    VILLAGE = "village", _("村")
    COMMUNITY = "community", _("社区")
    NON_PUBLIC_ENTERPRISE = "non_public_enterprise", _("非公企业")
    SOCIAL_ORGANIZATION = "social_organization", _("社会组织")
    OTHER = "other", _("其他")


SIX_HAVES = (
    ("has_venue", _("有场所")),
    ("has_facilities", _("有设施")),
    ("has_sign", _("有标志")),
    ("has_flag", _("有党旗")),
    ("has_books", _("有书报")),
    ("has_rules", _("有制度")),
)


class Organization(MP_Node):
    """A Party organization: a node of the membership tree."""

    name = models.CharField(_("名称"), max_length=120, db_index=True)
    code = models.CharField(
        _("组织代码"), max_length=40, blank=True, help_text=_("全国党员管理信息系统中的组织代码")
    )
    org_type = models.CharField(_("组织类别"), max_length=24, choices=OrgType.choices)
    sector = models.CharField(_("单位类别"), max_length=32, choices=Sector.choices)
    unit_name = models.CharField(_("所在单位"), max_length=120, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    founded_on = models.DateField(_("成立日期"), null=True, blank=True)
    dissolved_on = models.DateField(_("撤销日期"), null=True, blank=True, db_index=True)
    dissolution_reason = models.TextField(_("撤销原因"), blank=True)

    # The current term (届). term_due_on is stored so that "due within N months" is one
    # indexed range query for a whole subtree.
    term_started_on = models.DateField(_("本届开始日期"), null=True, blank=True)
    term_years = models.PositiveSmallIntegerField(
        _("任期（年）"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    # False: the length follows the term rules (and changes with them or with the type).
    term_years_custom = models.BooleanField(default=False, editable=False)
    term_adjust_months = models.SmallIntegerField(
        _("延期或提前（月）"),
        default=0,
        help_text=_("经批准延期为正数、提前换届为负数"),
    )
    term_adjust_reason = models.CharField(_("延期或提前的批准情况"), max_length=200, blank=True)
    term_due_on = models.DateField(_("届满日期"), null=True, blank=True, db_index=True)

    # Facilities (阵地).
    premises_area = models.DecimalField(
        _("活动场所面积（平方米）"),
        max_digits=9,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    has_venue = models.BooleanField(_("有场所"), default=False)
    has_facilities = models.BooleanField(_("有设施"), default=False)
    has_sign = models.BooleanField(_("有标志"), default=False)
    has_flag = models.BooleanField(_("有党旗"), default=False)
    has_books = models.BooleanField(_("有书报"), default=False)
    has_rules = models.BooleanField(_("有制度"), default=False)

    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrganizationManager.from_queryset(OrganizationQuerySet)()

    class Meta:
        verbose_name = _("党组织")
        verbose_name_plural = _("党组织")
        indexes = [models.Index(fields=["org_type", "path"], name="org_type_path")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("organizations:detail", args=[self.pk])

    @property
    def is_active(self) -> bool:
        return self.dissolved_on is None

    @property
    def is_branch(self) -> bool:
        return self.org_type in BRANCH_TYPES

    @property
    def root_path(self) -> str:
        return self.path[: self.steplen]

    @property
    def parent_path(self) -> str:
        return self.path[: -self.steplen]

    @property
    def ancestor_paths(self) -> list[str]:
        """The paths of the organizations above this one, top first."""
        step = self.steplen
        return [self.path[:i] for i in range(step, len(self.path), step)]

    def six_haves(self) -> list[tuple[str, bool]]:
        return [(label, getattr(self, field)) for field, label in SIX_HAVES]

    def missing_six_haves(self) -> list[str]:
        return [str(label) for label, present in self.six_haves() if not present]

    def current_committee(self):
        return self.committee_members.filter(ended_on__isnull=True).order_by("post_rank", "id")


class CommitteePost(models.TextChoices):
    SECRETARY = "secretary", _("书记")
    DEPUTY_SECRETARY = "deputy_secretary", _("副书记")
    ORGANIZATION = "organization", _("组织委员")
    PROPAGANDA = "propaganda", _("宣传委员")
    DISCIPLINE = "discipline", _("纪检委员")
    YOUTH = "youth", _("青年委员")
    WOMEN = "women", _("妇女委员")
    MEMBER = "member", _("委员")
    GROUP_LEADER = "group_leader", _("党小组组长")


POST_RANK = {post: rank for rank, post in enumerate(CommitteePost.values)}


class CommitteeMember(models.Model):
    """A seat on an organization's committee (班子成员), current while ``ended_on`` is empty."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="committee_members"
    )
    post = models.CharField(_("职务"), max_length=24, choices=CommitteePost.choices)
    post_rank = models.PositiveSmallIntegerField(default=0, editable=False)
    name = models.CharField(_("姓名"), max_length=60)
    full_time = models.BooleanField(_("专职"), default=False)
    from_unit = models.CharField(
        _("兼职委员所在单位"),
        max_length=120,
        blank=True,
        help_text=_("驻区单位负责人选聘为兼职委员时填写"),
    )
    started_on = models.DateField(_("任职日期"), null=True, blank=True)
    ended_on = models.DateField(_("离任日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("班子成员")
        indexes = [
            models.Index(fields=["organization", "post"], name="committee_org_post"),
        ]

    def __str__(self):
        return f"{self.get_post_display()} {self.name}"

    def save(self, *args, **kwargs):
        self.post_rank = POST_RANK.get(self.post, 99)
        super().save(*args, **kwargs)


class VillageIncome(models.Model):
    """A village's collective income (村级集体经济收入) for one year."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="village_incomes"
    )
    year = models.PositiveSmallIntegerField(
        _("年度"), validators=[MinValueValidator(1949), MaxValueValidator(2100)]
    )
    amount = models.DecimalField(
        _("集体经济收入（元）"), max_digits=14, decimal_places=2, validators=[MinValueValidator(0)]
    )

    class Meta:
        verbose_name = _("村集体经济收入")
        ordering = ["-year"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "year"], name="village_income_year")
        ]

    def __str__(self):
        return f"{self.organization} {self.year}: {self.amount}"


class RegionalLink(models.Model):
    """A unit joined to a 街道大工委 or 社区大党委 in the regional structure.

    The unit keeps its own membership relation (隶属关系); the link records that the community
    coordinates it, and whether its leader sits on the hub's committee as a part-time member.
    """

    hub = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="regional_links",
        verbose_name=_("大工委/大党委"),
    )
    unit_organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="regional_hubs",
        verbose_name=_("驻区单位党组织（系统内）"),
    )
    unit_name = models.CharField(_("驻区单位名称"), max_length=120)
    leader_name = models.CharField(_("单位党组织负责人"), max_length=60, blank=True)
    part_time_member = models.BooleanField(_("选聘为兼职委员"), default=False)
    joined_on = models.DateField(_("加入日期"), default=date.today)
    left_on = models.DateField(_("退出日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("区域化党建联建单位")
        ordering = ["unit_name"]

    def __str__(self):
        return f"{self.hub} ← {self.unit_name}"


class NewOrgCategory(models.TextChoices):
    NON_PUBLIC_ENTERPRISE = "non_public_enterprise", _("非公企业")
    SOCIAL_ORGANIZATION = "social_organization", _("社会组织")
    SMALL_BUSINESS = "small_business", _("小个专")


class SmallBusinessType(models.TextChoices):
    MICRO_ENTERPRISE = "micro_enterprise", _("小微企业")
    INDIVIDUAL_BUSINESS = "individual_business", _("个体工商户")
    SPECIALIZED_MARKET = "specialized_market", _("专业市场")


class Coverage(models.TextChoices):
    """How party building reaches a new organization (两个覆盖)."""

    STANDALONE = "standalone", _("单独组建")
    JOINT = "joint", _("联合组建")
    INSTRUCTOR = "instructor", _("选派党建指导员")
    MASS_ORG_FIRST = "mass_org_first", _("群团组织先建")
    UNCOVERED = "uncovered", _("未覆盖")


ORGANIZATION_COVERAGE = frozenset({Coverage.STANDALONE, Coverage.JOINT})
WORK_COVERAGE = frozenset({Coverage.INSTRUCTOR, Coverage.MASS_ORG_FIRST})


class NewOrganization(models.Model):
    """A non-public enterprise, social organization or 小个专 in the coverage register."""

    name = models.CharField(_("名称"), max_length=160, db_index=True)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    category = models.CharField(_("类别"), max_length=32, choices=NewOrgCategory.choices)
    small_business_type = models.CharField(
        _("小个专类型"), max_length=32, choices=SmallBusinessType.choices, blank=True
    )
    area = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="new_organizations",
        verbose_name=_("属地党组织"),
    )
    employee_count = models.PositiveIntegerField(_("从业人员数"), default=0)
    member_count = models.PositiveIntegerField(_("党员数"), default=0)
    coverage = models.CharField(
        _("覆盖方式"), max_length=24, choices=Coverage.choices, default=Coverage.UNCOVERED
    )
    party_organization = models.ForeignKey(
        Organization,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="covered_new_organizations",
        verbose_name=_("所建（所在）党组织"),
    )
    instructor_name = models.CharField(_("党建指导员"), max_length=60, blank=True)
    checked_at_registration = models.BooleanField(_("登记时同步开展党建审查"), default=False)
    checked_at_growth = models.BooleanField(_("发展时同步指导党建"), default=False)
    checked_at_inspection = models.BooleanField(_("年检时同步检查党建"), default=False)
    registered_on = models.DateField(_("登记日期"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("两新组织")
        verbose_name_plural = _("两新组织")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("organizations:neworg_edit", args=[self.pk])

    @property
    def organization(self) -> Organization:
        """The organization a flag on this record is shown under."""
        return self.area
