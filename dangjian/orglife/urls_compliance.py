from django.urls import path

from . import views_compliance as views

urlpatterns = [
    path("", views.overview, name="overview"),
    path("org/<int:pk>/year/", views.year_view, name="year"),
    path("org/<int:pk>/compliance/", views.matrix_view, name="matrix"),
    path("requirements/", views.requirement_list, name="requirements"),
]
