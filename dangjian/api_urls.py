from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from dangjian.development.api import PipelineView, RecordViewSet
from dangjian.dues.api import BaseViewSet, CollectionView, PaymentViewSet
from dangjian.members.api import MemberImportViewSet, MemberViewSet
from dangjian.organizations.api import OrganizationViewSet
from dangjian.orglife.api import ComplianceView, MeetingViewSet

router = DefaultRouter()
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("members", MemberViewSet, basename="member")
router.register("member-imports", MemberImportViewSet, basename="member-import")
router.register("meetings", MeetingViewSet, basename="meeting")
router.register("dues/payments", PaymentViewSet, basename="dues-payment")
router.register("dues/bases", BaseViewSet, basename="dues-base")
router.register("development/records", RecordViewSet, basename="development-record")

urlpatterns = [
    path("", include(router.urls)),
    path("compliance/", ComplianceView.as_view(), name="compliance"),
    path("dues/collection/", CollectionView.as_view(), name="dues-collection"),
    path("development/pipeline/", PipelineView.as_view(), name="development-pipeline"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]
