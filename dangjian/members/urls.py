from django.urls import include, path

from . import views, views_import

app_name = "members"
urlpatterns = [
    path("", views.roster, name="roster"),
    path("count/", views.roster_count, name="count"),
    path("export.xlsx", views_import.export, name="export"),
    path("me/", views.me, name="me"),
    path("add/", views.create, name="create"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/reveal/", views.reveal, name="reveal"),
    path("<int:pk>/<slug:kind>/add/", views.record_add, name="record_add"),
    path("<int:pk>/<slug:kind>/<int:row_id>/remove/", views.record_remove, name="record_remove"),
    path("import/", include("dangjian.members.urls_import")),
    path("transfers/", include("dangjian.members.urls_transfers")),
]
