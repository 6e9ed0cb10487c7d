from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("org/<int:pk>/statistics/", views.statistics_view, name="statistics"),
    path("org/<int:pk>/organizations/", views.organization_list, name="organizations"),
    path("org/<int:pk>/dashboard/", views.dashboard_view, name="dashboard"),
    path("org/<int:pk>/dashboard/<slug:key>/", views.panel, name="panel"),
    path("org/<int:pk>/bigscreen/", views.bigscreen, name="bigscreen"),
    path("org/<int:pk>/draft/", views.draft, name="draft"),
    path("templates/", views.template_list, name="templates"),
    path("templates/new/", views.template_edit, name="template_new"),
    path("templates/<int:pk>/", views.template_edit, name="template_edit"),
]
