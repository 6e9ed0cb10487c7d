"""REST endpoints for member development: records walked step by step, and the pipeline.

The same scope as the pages (the subtrees where the user holds ``development.view``) and the
same services for every write, which check ``development.manage`` (the branch's steps) or
``development.approve`` on the branch's parent (the higher committee's steps) themselves.
Errors come back as in the organizational-life API: 403 for a missing permission, 400 for
a refused value or a rule of the regulations (its message ends with the citation, “（依据：…）”),
409 for a stale ``version``; a record outside the scope is 404.
"""

from __future__ import annotations

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from dangjian.accounts.roles import Perm
from dangjian.core.flags import FLAGS, FlagContext
from dangjian.organizations.models import Organization
from dangjian.organizations.services import rulebook_for
from dangjian.orglife.api import call_service
from dangjian.orglife.serializers import StaleSerializer

from . import services
from .models import DevelopmentRecord, Outcome, StepRecord
from .pipeline import STEP_FLAGS, pipeline
from .serializers import (
    AssessmentWriteSerializer,
    CloseSerializer,
    DocumentWriteSerializer,
    ExtendSerializer,
    PipelineQuerySerializer,
    PipelineSerializer,
    RecordDetailSerializer,
    RecordFilterSerializer,
    RecordSerializer,
    RecordWriteSerializer,
    StepWriteSerializer,
    pipeline_data,
)
from .steps import Stage


def visible_organizations(user):
    return Organization.objects.for_user(user, Perm.VIEW_DEVELOPMENT)


def overdue_ids(organizations, rules, today) -> set[int]:
    """Records with a step overdue on ``today``: the pipeline's and the reminders' flags."""
    ctx = FlagContext(organizations=organizations, rules=rules, today=today)
    ids = set()
    for key in STEP_FLAGS:
        flag = FLAGS[key]
        ids.update(r.pk for r in flag.queryset(ctx) if flag.due_of(r) < today)
    return ids


class RecordPagination(CursorPagination):
    """The latest applications first, in keyset pages."""

    ordering = ("-applied_on", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


RECORD_FILTERS = [
    OpenApiParameter("organization", int, description="只列出该组织（含下级组织）的档案"),
    OpenApiParameter("stage", str, enum=Stage.values, description="阶段"),
    OpenApiParameter("outcome", str, enum=Outcome.values, description="状态"),
    OpenApiParameter("overdue", bool, description="true：只列出有逾期未办事项的档案"),
]
REFUSED = OpenApiResponse(
    description="不符合规定：消息列表（违反发展党员工作细则等规定的，消息末尾注明依据“（依据：…）”），"
    "或按字段列出的错误"
)
STALE = OpenApiResponse(StaleSerializer, description="version 已过期：档案已被他人修改")


@extend_schema_view(
    list=extend_schema(parameters=RECORD_FILTERS),
    retrieve=extend_schema(responses=RecordDetailSerializer),
    create=extend_schema(
        request=RecordWriteSerializer,
        responses={201: RecordDetailSerializer, 400: REFUSED},
        description="第1步：递交入党申请书。身份证号只写不读（读出时为脱敏号码）。",
    ),
)
class RecordViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Member development records (发展党员档案), one per person, and their 25 steps."""

    serializer_class = RecordSerializer
    pagination_class = RecordPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI schema's dry run
            return DevelopmentRecord.objects.none()
        visible = visible_organizations(self.request.user)
        records = DevelopmentRecord.objects.filter(organization__in=visible).select_related(
            "organization"
        )
        if self.action == "list":
            return self._filtered(records, visible)
        if self.action == "retrieve":
            return self._details(records)
        return records

    def _filtered(self, records, visible):
        params = RecordFilterSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        anchor = None
        if "organization" in data:
            anchor = visible.filter(pk=data["organization"]).first()
            if anchor is None:  # outside the scope (or unknown): nothing, as elsewhere
                return records.none()
            records = records.filter(organization__in=Organization.objects.within(anchor))
        if "stage" in data:
            records = records.filter(stage=data["stage"])
        if "outcome" in data:
            records = records.filter(outcome=data["outcome"])
        if data.get("overdue") is not None:
            subtree = Organization.objects.within(anchor) if anchor else visible
            ids = overdue_ids(subtree, rulebook_for(anchor), timezone.localdate())
            records = records.filter(pk__in=ids) if data["overdue"] else records.exclude(pk__in=ids)
        return records

    def get_serializer_class(self):
        return {
            "retrieve": RecordDetailSerializer,
            "create": RecordWriteSerializer,
            "steps": StepWriteSerializer,
            "assessments": AssessmentWriteSerializer,
            "documents": DocumentWriteSerializer,
            "extend": ExtendSerializer,
            "close": CloseSerializer,
        }.get(self.action, RecordSerializer)

    @staticmethod
    def _details(records):
        """With the steps (and who recorded them), people, assessments and papers."""
        return records.prefetch_related(
            Prefetch("steps", queryset=StepRecord.objects.select_related("recorded_by")),
            "people",
            "assessments",
            "documents",
        )

    def _detail(self, record: DevelopmentRecord, status_code=status.HTTP_200_OK) -> Response:
        """The record as it now stands, after a service changed it."""
        records = self._details(DevelopmentRecord.objects.select_related("organization"))
        data = RecordDetailSerializer(
            records.get(pk=record.pk), context=self.get_serializer_context()
        ).data
        return Response(data, status=status_code)

    def _input(self, request) -> dict:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def create(self, request, *args, **kwargs):
        data = self._input(request)
        organization = data.pop("organization")
        today = timezone.localdate()
        record = call_service(lambda: services.open_record(request.user, organization, data, today))
        return self._detail(record, status.HTTP_201_CREATED)

    @extend_schema(
        request=StepWriteSerializer,
        responses={201: RecordDetailSerializer, 400: REFUSED, 409: STALE},
    )
    @action(detail=True, methods=["post"])
    def steps(self, request, pk=None):
        """Record the next step (2–25) with what it records; answers with the record."""
        record = self.get_object()
        data = self._input(request)
        number = data.pop("number")
        today = timezone.localdate()
        call_service(lambda: services.record_step(request.user, record, number, data, today))
        return self._detail(record, status.HTTP_201_CREATED)

    @extend_schema(
        request=AssessmentWriteSerializer,
        responses={201: RecordDetailSerializer, 400: REFUSED},
    )
    @action(detail=True, methods=["post"])
    def assessments(self, request, pk=None):
        """A further half-yearly assessment of an activist, candidate or probationary member."""
        record = self.get_object()
        data = self._input(request)
        call_service(
            lambda: services.add_assessment(request.user, record, data["date"], data["summary"])
        )
        return self._detail(record, status.HTTP_201_CREATED)

    @extend_schema(
        request=DocumentWriteSerializer,
        responses={201: RecordDetailSerializer, 400: REFUSED},
    )
    @action(detail=True, methods=["post"])
    def documents(self, request, pk=None):
        """Register a paper in the person's file (入党材料)."""
        record = self.get_object()
        data = self._input(request)
        call_service(
            lambda: services.add_document(
                request.user, record, data["kind"], data["date"], data["title"]
            )
        )
        return self._detail(record, status.HTTP_201_CREATED)

    @extend_schema(request=ExtendSerializer, responses={200: RecordDetailSerializer, 400: REFUSED})
    @action(detail=True, methods=["post"])
    def extend(self, request, pk=None):
        """Extend the probation once, by 6 to 12 months (the higher committee's decision)."""
        record = self.get_object()
        data = self._input(request)
        call_service(
            lambda: services.extend_probation(
                request.user, record, data["months"], data["date"], data["reason"]
            )
        )
        return self._detail(record)

    @extend_schema(request=CloseSerializer, responses={200: RecordDetailSerializer, 400: REFUSED})
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Stop the training (终止培养), or for a probationary member take away the
        probationary membership (取消预备党员资格, the higher committee's decision)."""
        record = self.get_object()
        data = self._input(request)
        call_service(
            lambda: services.close_record(request.user, record, data["date"], data["reason"])
        )
        return self._detail(record)


class PipelineView(APIView):
    """How many people are at each stage of development, per child organization of the one
    asked for (its subtree summed), this year's admissions and conversions, and the overdue
    and soon-due steps with their citations."""

    @extend_schema(
        parameters=[
            OpenApiParameter("organization", int, required=True, description="所查组织（含下级）")
        ],
        responses=PipelineSerializer,
    )
    def get(self, request):
        query = PipelineQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        organization = get_object_or_404(
            visible_organizations(request.user), pk=query.validated_data["organization"]
        )
        today = timezone.localdate()
        return Response(pipeline_data(pipeline(organization, today), today))
