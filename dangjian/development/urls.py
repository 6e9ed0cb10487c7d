from django.urls import path

from . import views

app_name = "development"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("org/<int:pk>/", views.pipeline_view, name="pipeline"),
    path("org/<int:pk>/records/", views.record_list, name="list"),
    path("org/<int:pk>/records/new/", views.record_new, name="new"),
    path("org/<int:pk>/candidates.xlsx", views.export_candidates, name="export_candidates"),
    path("org/<int:pk>/conversions.xlsx", views.export_conversions, name="export_conversions"),
    path("records/<int:pk>/", views.record_detail, name="detail"),
    path("records/<int:pk>/step/", views.step_record, name="step"),
    path("records/<int:pk>/entitled/", views.entitled_hint, name="entitled"),
    path("records/<int:pk>/members/", views.member_search, name="member_search"),
    path("records/<int:pk>/assessments/", views.assessment_add, name="assessment_add"),
    path("records/<int:pk>/documents/", views.document_add, name="document_add"),
    path("records/<int:pk>/extend/", views.extend, name="extend"),
    path("records/<int:pk>/close/", views.close, name="close"),
]
