from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from dangjian.members.api import MemberImportViewSet, MemberViewSet
from dangjian.organizations.api import OrganizationViewSet
from dangjian.orglife.api import ComplianceView, MeetingViewSet

router = DefaultRouter()
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("members", MemberViewSet, basename="member")
router.register("member-imports", MemberImportViewSet, basename="member-import")
router.register("meetings", MeetingViewSet, basename="meeting")

urlpatterns = [
    path("", include(router.urls)),
    path("compliance/", ComplianceView.as_view(), name="compliance"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]
