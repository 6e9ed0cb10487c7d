from django.urls import include, path

urlpatterns = [
    path("", include("dangjian.core.urls")),
    path("accounts/", include("dangjian.accounts.urls")),
    path("orgs/", include("dangjian.organizations.urls")),
    path("members/", include("dangjian.members.urls")),
    path("life/", include("dangjian.orglife.urls")),
    path("dues/", include("dangjian.dues.urls")),
    path("development/", include("dangjian.development.urls")),
    path("audit/", include("dangjian.audit.urls")),
    path("rules/", include("dangjian.rules.urls")),
    path("reminders/", include("dangjian.reminders.urls")),
    path("reports/", include("dangjian.reports.urls")),
    path("api/", include("dangjian.api_urls")),
]
