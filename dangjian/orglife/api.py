"""REST endpoints for organizational life: meetings with their attendance, and compliance.

The same scope as the pages (the subtrees where the user holds ``orglife.view``) and the same
services for every write, which check ``orglife.manage`` themselves.
"""

from __future__ import annotations

from datetime import date

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.pagination import CursorPagination, LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from dangjian.accounts.roles import Perm
from dangjian.organizations.api import translate_errors
from dangjian.organizations.models import Organization
from dangjian.organizations.services import StaleEdit

from . import services
from .choices import MeetingKind
from .compliance import Window, compute, rollup
from .models import Meeting
from .requirements import requirements_for_organization
from .serializers import (
    ComplianceQuerySerializer,
    ComplianceRollupSerializer,
    ComplianceSerializer,
    MarkAttendanceSerializer,
    MeetingDeleteSerializer,
    MeetingDetailSerializer,
    MeetingFilterSerializer,
    MeetingSerializer,
    MeetingUpdateSerializer,
    MeetingWriteSerializer,
    StaleSerializer,
    requirement_data,
    rollup_data,
    row_data,
    totals_data,
)


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "保存前已有其他人修改了该记录。"
    default_code = "conflict"


def call_service(call):
    """Run a service call with its errors in HTTP terms: 403, 400, and 409 on a stale edit."""

    def guarded():
        try:
            return call()
        except StaleEdit as error:
            raise Conflict(
                {
                    "version": "保存前已有其他人修改了该记录，请重新读取后再修改。",
                    "changes": [
                        {"field": f, "before": b, "after": a, "by": who}
                        for f, b, a, who in error.changes
                    ],
                }
            ) from error

    return translate_errors(guarded)


def visible_organizations(user):
    return Organization.objects.for_user(user, Perm.VIEW_LIFE)


class MeetingPagination(CursorPagination):
    """Newest first, in keyset pages."""

    ordering = ("-date", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


MEETING_FILTERS = [
    OpenApiParameter("organization", int, description="只列出该组织（含下级组织）的记录"),
    OpenApiParameter("kind", str, enum=MeetingKind.values),
    OpenApiParameter("status", str, description="planned（计划召开）或 held（已召开）"),
    OpenApiParameter("year", int),
    OpenApiParameter("date_from", OpenApiTypes.DATE),
    OpenApiParameter("date_to", OpenApiTypes.DATE),
]


@extend_schema_view(
    list=extend_schema(parameters=MEETING_FILTERS),
    retrieve=extend_schema(responses=MeetingDetailSerializer),
    create=extend_schema(request=MeetingWriteSerializer, responses={201: MeetingDetailSerializer}),
    update=extend_schema(
        request=MeetingUpdateSerializer,
        responses={200: MeetingDetailSerializer, 409: StaleSerializer},
    ),
    partial_update=extend_schema(
        request=MeetingUpdateSerializer,
        responses={200: MeetingDetailSerializer, 409: StaleSerializer},
    ),
    destroy=extend_schema(
        parameters=[
            OpenApiParameter(
                "reason", str, description="删除原因（必填；也可放在请求体的 reason 中）"
            )
        ],
        responses={204: OpenApiResponse(description="已删除")},
    ),
)
class MeetingViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Meeting records (三会一课 and the rest of organizational life) with their attendance."""

    serializer_class = MeetingSerializer
    pagination_class = MeetingPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI schema's dry run
            return Meeting.objects.none()
        visible = visible_organizations(self.request.user)
        meetings = Meeting.objects.filter(organization__in=visible).select_related("organization")
        if self.action == "list":
            return self._filtered(meetings, visible)
        if self.action == "retrieve":
            return meetings.prefetch_related("attendance")
        return meetings

    def _filtered(self, meetings, visible):
        params = MeetingFilterSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        if "organization" in data:
            anchor = visible.filter(pk=data["organization"]).first()
            if anchor is None:  # outside the scope (or unknown): nothing, as elsewhere
                return meetings.none()
            meetings = meetings.filter(organization__in=Organization.objects.within(anchor))
        if "kind" in data:
            meetings = meetings.filter(kind=data["kind"])
        if "status" in data:
            meetings = meetings.filter(status=data["status"])
        if "year" in data:
            meetings = meetings.filter(
                date__gte=date(data["year"], 1, 1), date__lt=date(data["year"] + 1, 1, 1)
            )
        if "date_from" in data:
            meetings = meetings.filter(date__gte=data["date_from"])
        if "date_to" in data:
            meetings = meetings.filter(date__lte=data["date_to"])
        return meetings

    def get_serializer_class(self):
        if self.action == "retrieve":
            return MeetingDetailSerializer
        if self.action == "create":
            return MeetingWriteSerializer
        if self.action in ("update", "partial_update"):
            return MeetingUpdateSerializer
        if self.action == "attendance":
            return MarkAttendanceSerializer
        return MeetingSerializer

    def _detail(self, meeting: Meeting) -> dict:
        meeting = (
            Meeting.objects.select_related("organization")
            .prefetch_related("attendance")
            .get(pk=meeting.pk)
        )
        return MeetingDetailSerializer(meeting, context=self.get_serializer_context()).data

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        organization = data.pop("organization")
        meeting = call_service(lambda: services.create_meeting(request.user, organization, data))
        return Response(self._detail(meeting), status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        meeting = self.get_object()
        kwargs.pop("partial", None)  # PUT and PATCH alike: only the fields sent change
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = data.pop("version")
        meeting = call_service(
            lambda: services.update_meeting(request.user, meeting, data, version)
        )
        return Response(self._detail(meeting))

    def destroy(self, request, *args, **kwargs):
        meeting = self.get_object()
        reason = request.query_params.get("reason")
        if reason is None and hasattr(request.data, "get"):
            reason = request.data.get("reason")
        serializer = MeetingDeleteSerializer(data={"reason": reason or ""})
        serializer.is_valid(raise_exception=True)
        call_service(
            lambda: services.delete_meeting(
                request.user, meeting, serializer.validated_data["reason"]
            )
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=MarkAttendanceSerializer, responses=MeetingDetailSerializer)
    @action(detail=True, methods=["post"])
    def attendance(self, request, pk=None):
        """Record who was present, on leave or absent; corrections need ``correction_reason``."""
        meeting = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        marks = [services.Mark(**mark) for mark in serializer.validated_data["marks"]]
        reason = serializer.validated_data["correction_reason"]
        meeting = call_service(
            lambda: services.mark_attendance(request.user, meeting, marks, reason)
        )
        return Response(self._detail(meeting))


class ComplianceRowPagination(LimitOffsetPagination):
    default_limit = 100
    max_limit = 1000


class ComplianceView(APIView):
    """Where an organization's subtree stands on each requirement in force, period by period.

    ``?rollup=1`` sums the subtree by the organization's children instead of listing every
    organization. Rows are paged with ``limit``/``offset``.
    """

    pagination_class = ComplianceRowPagination

    @extend_schema(
        parameters=[
            OpenApiParameter("organization", int, required=True, description="所查组织（含下级）"),
            OpenApiParameter("year", int, required=True),
            OpenApiParameter("month_from", int, description="起始月份（默认1）"),
            OpenApiParameter("month_to", int, description="截止月份（默认12）"),
            OpenApiParameter("rollup", bool, description="按直属下级组织汇总"),
            OpenApiParameter("limit", int),
            OpenApiParameter("offset", int),
        ],
        responses=PolymorphicProxySerializer(
            component_name="ComplianceResult",
            serializers=[ComplianceSerializer, ComplianceRollupSerializer],
            resource_type_field_name=None,
        ),
    )
    def get(self, request):
        query = ComplianceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        organization = get_object_or_404(
            visible_organizations(request.user), pk=params["organization"]
        )
        today = timezone.localdate()
        year = params.get("year", today.year)
        window = Window(year, today, params["month_from"], params["month_to"])
        result = compute(
            Organization.objects.within(organization),
            window,
            requirements_for_organization(organization),
            with_counts=not params["rollup"],
        )
        paginator = self.pagination_class()
        if params["rollup"]:
            page = paginator.paginate_queryset(rollup(result, organization), request, view=self)
            rows = [rollup_data(row, result) for row in page]
        else:
            page = paginator.paginate_queryset(result.rows, request, view=self)
            rows = [row_data(row, result) for row in page]
        return Response(
            {
                "organization": {
                    "id": organization.pk,
                    "name": organization.name,
                    "org_type": organization.org_type,
                },
                "year": window.year,
                "month_from": window.first_month,
                "month_to": window.last_month,
                "today": today,
                "requirements": [requirement_data(r) for r in result.requirements],
                "totals": totals_data(result.totals()),
                "count": paginator.count,
                "next": paginator.get_next_link(),
                "previous": paginator.get_previous_link(),
                "results": rows,
            }
        )
