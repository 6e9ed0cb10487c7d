"""REST endpoints for the roster: the same scope, filters, masking and services as the pages."""

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response

from dangjian.accounts.roles import Perm
from dangjian.audit.models import AuditEvent
from dangjian.organizations.api import translate_errors
from dangjian.organizations.models import Organization

from . import import_batches, importing, services
from .models import ImportBatch, Member
from .roster import filter_roster, roster_query

READ_FIELDS = [
    "id",
    "organization",
    "name",
    "gender",
    "ethnicity",
    "id_number_masked",
    "birth_date",
    "education",
    "occupation",
    "work_unit",
    "phone_masked",
    "address",
    "joined_on",
    "full_member_on",
    "membership",
    "standing",
    "category",
    "floating_destination",
    "floating_since",
    "lost_contact_since",
    "version",
]


class MemberSerializer(serializers.ModelSerializer):
    id_number_masked = serializers.CharField(source="masked_id_number", read_only=True)
    phone_masked = serializers.CharField(source="masked_phone", read_only=True)

    class Meta:
        model = Member
        fields = READ_FIELDS
        read_only_fields = READ_FIELDS


class HistorySerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = ["at", "actor_name", "action", "before", "after", "reason"]
        read_only_fields = fields


class MemberWriteSerializer(serializers.ModelSerializer):
    """What a client sends: the ID number and phone in clear (write-only), never read back."""

    id_number = serializers.CharField(max_length=18, write_only=True, required=False)
    organization = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.none())
    version = serializers.IntegerField(required=False)

    class Meta:
        model = Member
        fields = [*services.MEMBER_FIELDS, "version"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["organization"].queryset = Organization.objects.for_user(
                request.user, Perm.MANAGE_MEMBERS
            )

    def validate(self, attrs):
        # The record's rules live in the service; the model's own validation is not repeated.
        return attrs


class RosterPagination(CursorPagination):
    """Cursor paging in the roster's sort orders (``?sort=`` as on the roster page)."""

    ordering = ("name", "id")
    page_size = 50
    orderings = {
        "name": ("name", "id"),
        "joined_on": ("joined_on", "id"),
        "-joined_on": ("-joined_on", "-id"),
        "birth_date": ("birth_date", "id"),
    }

    def get_ordering(self, request, queryset, view):
        return self.orderings.get(request.query_params.get("sort", ""), self.ordering)


@extend_schema(
    parameters=[
        OpenApiParameter("org", int, description="只列出该组织的党员"),
        OpenApiParameter("descendants", bool, description="含下级组织（默认是）"),
        *[
            OpenApiParameter(name, str)
            for name in ("q", "standing", "membership", "category", "gender", "age", "education")
        ],
        OpenApiParameter("joined_year", int),
    ]
)
class MemberViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = MemberSerializer
    pagination_class = RosterPagination

    def get_queryset(self):
        members = Member.objects.for_user(self.request.user)
        if self.action != "list":
            return members
        params = self.request.query_params
        query = roster_query(
            self.request.user,
            {**params.dict(), "descendants": params.get("descendants", "true")},
        )
        if query.errors:
            raise ValidationError(query.errors)
        if query.org_hidden:
            return members.none()
        data = query.data
        if params.get("descendants", "true").lower() in ("false", "0", "no"):
            data["descendants"] = False
        return filter_roster(members, data, query.anchor, timezone.localdate())

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update"):
            return MemberWriteSerializer
        return MemberSerializer

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("version", None)
        member = translate_errors(lambda: services.create_member(request.user, data))
        return Response(MemberSerializer(member).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        member = self.get_object()
        serializer = self.get_serializer(member, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = data.pop("version", None)
        if version is None:
            raise ValidationError({"version": "请提供读取时的 version，以免覆盖他人的修改。"})
        if "organization" in data and data["organization"].pk == member.organization_id:
            data.pop("organization")
        member = translate_errors(
            lambda: services.update_member(request.user, member, data, version)
        )
        return Response(MemberSerializer(member).data)

    @extend_schema(responses=HistorySerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        """The member's change history (ID and phone numbers masked in it)."""
        member = self.get_object()
        return Response(HistorySerializer(services.history(member)[:200], many=True).data)

    @extend_schema(request=None, responses={200: dict})
    @action(detail=True, methods=["post"])
    def reveal(self, request, pk=None):
        """The full ID number, for roles allowed to see it; every call is audited."""
        member = self.get_object()
        number = translate_errors(lambda: services.reveal_id_number(request.user, member))
        return Response({"id_number": number})


class ImportBatchSerializer(serializers.ModelSerializer):
    class Meta:
        model = ImportBatch
        fields = [
            "id",
            "filename",
            "created_at",
            "status",
            "total_rows",
            "processed_rows",
            "error_rows",
            "new_count",
            "update_count",
            "unchanged_count",
            "preview",
            "valid_rows_only",
            "applied_at",
            "message",
        ]
        read_only_fields = fields


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField()


class ImportConfirmSerializer(serializers.Serializer):
    valid_rows_only = serializers.BooleanField(default=False)


class MemberImportViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Roster import: upload a workbook (checked into a preview), then confirm it.

    A batch is visible only to the user who uploaded it.
    """

    serializer_class = ImportBatchSerializer
    parser_classes = [MultiPartParser, JSONParser]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI schema's dry run
            return ImportBatch.objects.none()
        import_batches.require_import(self.request.user)
        return ImportBatch.objects.filter(created_by=self.request.user).defer("content")

    @extend_schema(request={"multipart/form-data": ImportUploadSerializer})
    def create(self, request):
        serializer = ImportUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        try:
            batch = translate_errors(
                lambda: import_batches.receive(request.user, upload.name, upload.size, upload.read)
            )
        except importing.ImportRefused as refused:
            raise ValidationError({"file": [refused.message]}) from refused
        batch.refresh_from_db()
        return Response(ImportBatchSerializer(batch).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ImportConfirmSerializer, responses=ImportBatchSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        batch = self.get_object()
        serializer = ImportConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            batch, queued = import_batches.confirm(
                batch, request.user, serializer.validated_data["valid_rows_only"]
            )
        except importing.ImportRefused as refused:
            raise ValidationError({"detail": refused.message}) from refused
        batch.refresh_from_db()
        code = status.HTTP_202_ACCEPTED if queued else status.HTTP_200_OK
        return Response(ImportBatchSerializer(batch).data, status=code)
