"""Roster import pages, included at /members/import/ in the ``members`` namespace."""

from django.urls import path

from . import views_import

urlpatterns = [
    path("", views_import.index, name="import"),
    path("template.xlsx", views_import.template, name="import_template"),
    path("<int:pk>/", views_import.detail, name="import_detail"),
    path("<int:pk>/progress/", views_import.progress, name="import_progress"),
    path("<int:pk>/confirm/", views_import.confirm, name="import_confirm"),
]
