from django.urls import path

from . import views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("flags/<slug:key>/<int:org_pk>/", views.flag_list, name="flag_list"),
]
