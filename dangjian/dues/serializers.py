"""What the dues API reads and writes.

Payments and bases are read through ModelSerializers and written through plain input
serializers (the services do the checking). Choice fields are documented as plain strings
with their values in the help text: as enums they would be named KindEnum and CategoryEnum
like the meetings' and the roster's, a collision the schema test refuses.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from dangjian.accounts.roles import Perm
from dangjian.members.models import Member
from dangjian.organizations.models import Organization
from dangjian.organizations.services import rulebook_for
from dangjian.orglife.serializers import OrganizationBriefSerializer

from .forms import parse_month
from .models import DuesBase, DuesPayment, PaymentKind, SpecialContribution
from .rates import DuesCategory, RateTable
from .services import due_from_base


def _values(choices) -> str:
    return "、".join(f"{value}（{label}）" for value, label in choices if value)


KIND_HELP = _values(PaymentKind.choices)
CATEGORY_HELP = _values(DuesCategory.choices)
REDUCTION_HELP = "空（无）、reduced（减交）、exempt（免交）"


@extend_schema_field({"type": "string", "pattern": r"^\d{4}-\d{2}$", "example": "2026-05"})
class MonthField(serializers.Field):
    """A month as YYYY-MM (a date inside the month is taken for the month)."""

    default_error_messages = {"invalid": "请按 YYYY-MM 填写月份，如 2026-05。"}

    def to_internal_value(self, data):
        month = parse_month(data)
        if month is None:
            self.fail("invalid")
        return month

    def to_representation(self, value):
        return f"{value:%Y-%m}"


@extend_schema_field(OpenApiTypes.STR)
class PlainChoiceField(serializers.ChoiceField):
    """Checked against its choices, documented as a string (see the module's docstring)."""


# ---- payments ----


class SpecialContributionSerializer(serializers.ModelSerializer):
    class Meta:
        model = SpecialContribution
        fields = ["id", "amount", "date", "note"]
        read_only_fields = fields


class PaymentSerializer(serializers.ModelSerializer):
    month = MonthField(read_only=True)
    member_name = serializers.CharField(source="member.name", read_only=True)
    organization = serializers.IntegerField(source="member.organization_id", read_only=True)
    organization_name = serializers.CharField(source="member.organization.name", read_only=True)
    kind = serializers.CharField(read_only=True, help_text=KIND_HELP)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    recorded_by_name = serializers.SerializerMethodField()
    special_contributions = SpecialContributionSerializer(
        many=True, read_only=True, help_text="随同本月党费一次多交纳1000元以上、单独登记的特殊党费"
    )

    class Meta:
        model = DuesPayment
        fields = [
            "id",
            "member",
            "member_name",
            "organization",
            "organization_name",
            "month",
            "amount_due",
            "amount_paid",
            "kind",
            "kind_label",
            "paid_on",
            "recorded_by",
            "recorded_by_name",
            "approved_reason",
            "note",
            "special_contributions",
            "created_at",
        ]
        read_only_fields = fields

    def get_recorded_by_name(self, obj) -> str:
        return obj.recorded_by.get_full_name() if obj.recorded_by else ""


def _scoped_members(serializer) -> None:
    """Only members the caller may see can be named: nothing outside the scope is probed."""
    request = serializer.context.get("request")
    if request is not None:
        serializer.fields["member"].queryset = Member.objects.filter(
            organization__in=Organization.objects.for_user(request.user, Perm.VIEW_DUES)
        )


class PaymentWriteSerializer(serializers.Serializer):
    """One month's dues as recorded; the kind (on time, back-paid, prepaid) follows from the
    month and the date paid."""

    member = serializers.PrimaryKeyRelatedField(queryset=Member.objects.none())
    month = MonthField(help_text="所属月份")
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="实交金额（元）")
    paid_on = serializers.DateField(help_text="交纳日期")
    approved = serializers.BooleanField(
        default=False, help_text="补交超过规定月数（默认6个月）时须经党组织批准"
    )
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=200, help_text="超期补交批准理由"
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _scoped_members(self)


class PaymentFilterSerializer(serializers.Serializer):
    organization = serializers.IntegerField(required=False)
    member = serializers.IntegerField(required=False)
    month = MonthField(required=False)
    year = serializers.IntegerField(required=False, min_value=1921, max_value=2200)
    kind = PlainChoiceField(choices=PaymentKind.choices, required=False)


class RuleErrorSerializer(serializers.Serializer):
    """A 400 for a change the regulations do not allow."""

    detail = serializers.CharField(help_text="说明（含依据）")
    citation = serializers.CharField(help_text="依据的条文")
    code = serializers.CharField(help_text="rule")


# ---- bases ----


class BaseSerializer(serializers.ModelSerializer):
    effective_from = MonthField(read_only=True)
    member_name = serializers.CharField(source="member.name", read_only=True)
    organization = serializers.IntegerField(source="member.organization_id", read_only=True)
    category = serializers.CharField(read_only=True, help_text=CATEGORY_HELP)
    category_label = serializers.CharField(source="get_category_display", read_only=True)
    reduction = serializers.CharField(read_only=True, help_text=REDUCTION_HELP)
    monthly_due = serializers.SerializerMethodField(
        help_text="按该基数（及批准的减免）每月应交的金额"
    )

    class Meta:
        model = DuesBase
        fields = [
            "id",
            "member",
            "member_name",
            "organization",
            "year",
            "effective_from",
            "category",
            "category_label",
            "monthly_income",
            "fixed_amount",
            "declared_by_member",
            "note",
            "reduction",
            "reduced_amount",
            "reduction_reason",
            "reduction_approved_by",
            "reduction_approved_on",
            "monthly_due",
            "entered_by",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DecimalField(max_digits=12, decimal_places=2))
    def get_monthly_due(self, obj) -> str:
        tables = self.context.setdefault("tables", {})
        organization = obj.member.organization
        root = organization.path[: Organization.steplen]
        if root not in tables:
            tables[root] = RateTable.from_rules(rulebook_for(organization))
        return str(due_from_base(obj, tables[root]))


class BaseWriteSerializer(serializers.Serializer):
    """A member's base from a month on (by default January of this year); a base already
    starting that month is replaced."""

    member = serializers.PrimaryKeyRelatedField(queryset=Member.objects.none())
    effective_from = MonthField(required=False, help_text="起始月份，默认为本年1月")
    category = PlainChoiceField(choices=DuesCategory.choices, help_text=CATEGORY_HELP)
    monthly_income = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        required=False,
        allow_null=True,
        help_text="在职：税后月工资性收入；离退休：基本离退休费",
    )
    fixed_amount = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        required=False,
        allow_null=True,
        help_text="农民党员每月交纳额",
    )
    declared_by_member = serializers.BooleanField(default=False)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _scoped_members(self)


class BaseFilterSerializer(serializers.Serializer):
    organization = serializers.IntegerField(required=False)
    member = serializers.IntegerField(required=False)
    year = serializers.IntegerField(required=False, min_value=1921, max_value=2200)


# ---- collection statistics ----


class CollectionQuerySerializer(serializers.Serializer):
    organization = serializers.IntegerField()
    month = MonthField(required=False, help_text="默认为本月")


class CollectionNumbersSerializer(serializers.Serializer):
    members_owing = serializers.IntegerField(help_text="应交纳该月党费的党员数")
    members_paid = serializers.IntegerField()
    members_unpaid = serializers.IntegerField()
    members_without_base = serializers.IntegerField(help_text="应交而尚未确定交纳基数的党员数")
    due = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="应交金额（元）")
    paid = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="实交金额（元）")
    rate = serializers.DecimalField(
        max_digits=6,
        decimal_places=4,
        allow_null=True,
        help_text="收缴率（实交/应交），无应交时为空",
    )


class CollectionRowSerializer(CollectionNumbersSerializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    org_type = serializers.CharField()
    is_self = serializers.BooleanField(help_text="直接隶属本组织的党员（不含下级组织）")


class CollectionSerializer(serializers.Serializer):
    organization = OrganizationBriefSerializer()
    month = MonthField()
    total = CollectionNumbersSerializer(help_text="整个子树的合计")
    results = CollectionRowSerializer(
        many=True, help_text="本级党员，以及每个直属下级组织（含其全部下属）的合计"
    )


def numbers(collection) -> dict:
    return {
        "members_owing": collection.members_owing,
        "members_paid": collection.members_paid,
        "members_unpaid": collection.members_unpaid,
        "members_without_base": collection.members_without_base,
        "due": collection.due,
        "paid": collection.paid,
        "rate": collection.rate,
    }
