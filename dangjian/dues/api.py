"""REST endpoints for party dues: the payment ledger, members' bases and collection
statistics.

The same scope as the pages (the subtrees where the user holds ``dues.view``) and the same
services for every write, which check ``dues.manage`` themselves. A change the regulations
do not allow (a back-payment beyond the limit without approval, …) is a 400 with the
``citation`` it rests on.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Exists, OuterRef
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from dangjian.accounts.roles import Perm
from dangjian.organizations.api import translate_errors
from dangjian.organizations.models import Organization

from . import services, statistics
from .models import DuesBase, DuesPayment, PaymentKind
from .serializers import (
    BaseFilterSerializer,
    BaseSerializer,
    BaseWriteSerializer,
    CollectionQuerySerializer,
    CollectionSerializer,
    PaymentFilterSerializer,
    PaymentSerializer,
    PaymentWriteSerializer,
    RuleErrorSerializer,
    numbers,
)


def call_service(call):
    """Run a service call with its errors in HTTP terms: 403, and 400 — for a rule of the
    regulations with the rule's citation apart (see translate_errors)."""
    return translate_errors(call)


def visible_organizations(user):
    return Organization.objects.for_user(user, Perm.VIEW_DUES)


def anchor_subtree(user, pk: int):
    """The subtree of organization ``pk`` if the user may see its dues, else None."""
    anchor = visible_organizations(user).filter(pk=pk).first()
    return Organization.objects.within(anchor) if anchor is not None else None


MONTH_HELP = "YYYY-MM"


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("organization", int, description="只列出该组织（含下级组织）的记录"),
            OpenApiParameter("member", int),
            OpenApiParameter("month", str, description=f"所属月份 {MONTH_HELP}"),
            OpenApiParameter("year", int, description="所属年度"),
            OpenApiParameter("kind", str, enum=PaymentKind.values),
        ]
    ),
    create=extend_schema(
        request=PaymentWriteSerializer,
        responses={201: PaymentSerializer, 400: RuleErrorSerializer},
        description="登记一名党员一个月的党费。交纳日期所在月为按月交纳，以前月份为补交"
        "（超过规定月数须 approved 并写明 reason），本年度以后月份为预交；"
        "多交1000元以上的部分单独登记为特殊党费。交纳日期不能晚于今天，该月须已设定交纳基数。"
        "违反规定时返回400及依据（citation）。",
    ),
)
class PaymentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """The dues ledger: one row per member and month paid."""

    serializer_class = PaymentSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI schema's dry run
            return DuesPayment.objects.none()
        user = self.request.user
        payments = (
            DuesPayment.objects.filter(member__organization__in=visible_organizations(user))
            .select_related("member__organization", "recorded_by")
            .prefetch_related("special_contributions")
            .order_by("-month", "member__name", "id")
        )
        if self.action != "list":
            return payments
        params = PaymentFilterSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        if "organization" in data:
            subtree = anchor_subtree(user, data["organization"])
            if subtree is None:  # outside the scope (or unknown): nothing, as elsewhere
                return payments.none()
            payments = payments.filter(member__organization__in=subtree)
        if "member" in data:
            payments = payments.filter(member_id=data["member"])
        if "month" in data:
            payments = payments.filter(month=data["month"])
        if "year" in data:
            year = data["year"]
            payments = payments.filter(month__gte=date(year, 1, 1), month__lte=date(year, 12, 1))
        if "kind" in data:
            payments = payments.filter(kind=data["kind"])
        return payments

    def get_serializer_class(self):
        if self.action == "create":
            return PaymentWriteSerializer
        return PaymentSerializer

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        payment = call_service(
            lambda: services.record_payment(
                request.user,
                data["member"],
                data["month"],
                data["amount"],
                data["paid_on"],
                approved=data["approved"],
                reason=data["reason"],
                note=data["note"],
            )
        )
        payment = self.get_queryset().get(pk=payment.pk)
        return Response(
            PaymentSerializer(payment, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("organization", int, description="只列出该组织（含下级组织）的党员"),
            OpenApiParameter("member", int),
            OpenApiParameter(
                "year", int, description="该年度内适用的基数（含年初仍适用的上年基数）"
            ),
        ]
    ),
    create=extend_schema(
        request=BaseWriteSerializer,
        responses={201: BaseSerializer, 400: RuleErrorSerializer},
        description="设定党员自某月起的交纳基数（年初核定或年中收入变化）；同一起始月份已有的基数被替换。",
    ),
)
class BaseViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Members' dues bases (交纳基数), each from its month until the member's next one."""

    serializer_class = BaseSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return DuesBase.objects.none()
        user = self.request.user
        bases = (
            DuesBase.objects.filter(member__organization__in=visible_organizations(user))
            .select_related("member__organization")
            .order_by("member__name", "member_id", "effective_from")
        )
        if self.action != "list":
            return bases
        params = BaseFilterSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        if "organization" in data:
            subtree = anchor_subtree(user, data["organization"])
            if subtree is None:
                return bases.none()
            bases = bases.filter(member__organization__in=subtree)
        if "member" in data:
            bases = bases.filter(member_id=data["member"])
        if "year" in data:
            bases = in_force_during(bases, data["year"])
        return bases

    def get_serializer_class(self):
        if self.action == "create":
            return BaseWriteSerializer
        return BaseSerializer

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        member = data.pop("member")
        base = call_service(lambda: services.set_base(request.user, member, data))
        base = self.get_queryset().get(pk=base.pk)
        return Response(
            BaseSerializer(base, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )


def in_force_during(bases, year: int):
    """The bases in force at some time in ``year``: those starting in it, and the latest one
    of each member starting before it."""
    first = date(year, 1, 1)
    superseded = DuesBase.objects.filter(
        member=OuterRef("member"),
        effective_from__gt=OuterRef("effective_from"),
        effective_from__lte=first,
    )
    return bases.filter(effective_from__lte=date(year, 12, 1)).exclude(Exists(superseded))


class CollectionView(APIView):
    """Dues collection of an organization's subtree for a month: the total, the
    organization's own members and each child with its whole subtree (due, paid, rate,
    members owing / paid / without a base)."""

    @extend_schema(
        parameters=[
            OpenApiParameter("organization", int, required=True, description="所查组织（含下级）"),
            OpenApiParameter("month", str, description=f"{MONTH_HELP}，默认为本月"),
        ],
        responses=CollectionSerializer,
    )
    def get(self, request):
        query = CollectionQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        organization = get_object_or_404(
            visible_organizations(request.user), pk=params["organization"]
        )
        month = params.get("month") or timezone.localdate().replace(day=1)
        result = statistics.by_child(organization, month)
        data = {
            "organization": {
                "id": organization.pk,
                "name": organization.name,
                "org_type": organization.org_type,
            },
            "month": result.month,
            "total": numbers(result.total),
            "results": [
                {
                    "id": row.organization.pk,
                    "name": row.organization.name,
                    "org_type": row.organization.org_type,
                    "is_self": row.is_self,
                    **numbers(row.collection),
                }
                for row in result.rows
            ],
        }
        return Response(CollectionSerializer(data).data)
