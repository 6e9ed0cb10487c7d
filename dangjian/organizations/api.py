"""REST endpoints for organizations: same scoping, same services as the pages."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from dangjian.accounts.roles import Perm

from . import services
from .models import Organization


class OrganizationSerializer(serializers.ModelSerializer):
    parent = serializers.SerializerMethodField()

    class Meta:
        model = Organization
        fields = [
            "id",
            "name",
            "code",
            "org_type",
            "sector",
            "unit_name",
            "address",
            "founded_on",
            "dissolved_on",
            "parent",
            "depth",
            "numchild",
            "term_started_on",
            "term_years",
            "term_adjust_months",
            "term_adjust_reason",
            "term_due_on",
            "premises_area",
            "has_venue",
            "has_facilities",
            "has_sign",
            "has_flag",
            "has_books",
            "has_rules",
            "version",
        ]
        read_only_fields = ["dissolved_on", "depth", "numchild", "term_due_on", "version"]

    def get_parent(self, obj) -> int | None:
        """The parent's id, or None at the top of the tree or of the caller's scope."""
        parents = self.context.get("parent_ids")
        if parents is not None:
            return parents.get(obj.parent_path)
        if obj.depth == 1:
            return None
        request = self.context.get("request")
        visible = Organization.objects.for_user(request.user) if request else Organization.objects
        return visible.filter(path=obj.parent_path).values_list("id", flat=True).first()


class OrganizationCreateSerializer(OrganizationSerializer):
    parent_id = serializers.IntegerField(write_only=True)

    class Meta(OrganizationSerializer.Meta):
        fields = [*OrganizationSerializer.Meta.fields, "parent_id"]


class OrganizationUpdateSerializer(OrganizationSerializer):
    version = serializers.IntegerField()

    class Meta(OrganizationSerializer.Meta):
        read_only_fields = ["dissolved_on", "depth", "numchild", "term_due_on"]


class MoveSerializer(serializers.Serializer):
    parent_id = serializers.IntegerField()


def translate_errors(call):
    try:
        return call()
    except DjangoPermissionDenied as error:
        raise PermissionDenied(str(error)) from error
    except services.StaleEdit as error:
        raise ValidationError(
            {
                "version": "保存前已有其他人修改了该组织。",
                "changes": [
                    {"field": f, "before": b, "after": a, "by": who}
                    for f, b, a, who in error.changes
                ],
            }
        ) from error
    except services.RuleViolation as error:
        # A rule of the regulations: the message and, apart, the citation it rests on.
        raise ValidationError(
            {"detail": error.messages[0], "citation": error.citation, "code": "rule"}
        ) from error
    except DjangoValidationError as error:
        detail = error.message_dict if hasattr(error, "error_dict") else error.messages
        raise ValidationError(detail) from error


@extend_schema(
    parameters=[
        OpenApiParameter("within", int, description="只列出该组织（含）以下的组织"),
        OpenApiParameter("org_type", str),
        OpenApiParameter("sector", str),
        OpenApiParameter("q", str, description="按名称搜索"),
        OpenApiParameter("include_dissolved", bool),
    ]
)
class OrganizationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = OrganizationSerializer

    def get_queryset(self):
        qs = Organization.objects.for_user(self.request.user)
        params = self.request.query_params
        if self.action == "list":
            if not params.get("include_dissolved"):
                qs = qs.active()
            if within := params.get("within"):
                anchor = None
                if within.isdigit():
                    anchor = Organization.objects.for_user(self.request.user).filter(pk=within)
                    anchor = anchor.first()
                qs = qs.within(anchor) if anchor else qs.none()
            if org_type := params.get("org_type"):
                qs = qs.filter(org_type=org_type)
            if sector := params.get("sector"):
                qs = qs.filter(sector=sector)
            if query := params.get("q"):
                qs = qs.filter(Q(name__icontains=query) | Q(code=query))
        return qs

    def get_serializer_class(self):
        if self.action == "create":
            return OrganizationCreateSerializer
        if self.action in ("update", "partial_update"):
            return OrganizationUpdateSerializer
        if self.action == "move":
            return MoveSerializer
        return OrganizationSerializer

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        parent_paths = {o.parent_path for o in page if o.depth > 1}
        ids = dict(
            Organization.objects.for_user(request.user)
            .filter(path__in=parent_paths)
            .values_list("path", "id")
        )
        serializer = OrganizationSerializer(page, many=True, context={"parent_ids": ids})
        return self.get_paginated_response(serializer.data)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        parent = self._scoped(data.pop("parent_id"))
        organization = translate_errors(
            lambda: services.create_organization(request.user, parent, data)
        )
        return Response(
            OrganizationSerializer(organization, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    def update(self, request, *args, **kwargs):
        organization = self.get_object()
        partial = kwargs.pop("partial", False)
        serializer = self.get_serializer(organization, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = data.pop("version", None)
        if version is None:
            raise ValidationError({"version": "请提供读取时的 version，以免覆盖他人的修改。"})
        organization = translate_errors(
            lambda: services.update_organization(request.user, organization, data, version)
        )
        return Response(
            OrganizationSerializer(organization, context=self.get_serializer_context()).data
        )

    @extend_schema(request=MoveSerializer, responses=OrganizationSerializer)
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        organization = self.get_object()
        serializer = MoveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        new_parent = self._scoped(serializer.validated_data["parent_id"], Perm.MANAGE_STRUCTURE)
        organization = translate_errors(
            lambda: services.move_organization(request.user, organization, new_parent)
        )
        return Response(
            OrganizationSerializer(organization, context=self.get_serializer_context()).data
        )

    def _scoped(self, pk, permission=None) -> Organization:
        organization = (
            Organization.objects.for_user(self.request.user, permission).filter(pk=pk).first()
        )
        if organization is None:
            raise ValidationError({"parent_id": "上级组织不存在或不在您的权限范围内。"})
        return organization
