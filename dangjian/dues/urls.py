from django.urls import path

from . import views

app_name = "dues"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("my/", views.my_dues, name="my"),
    path("org/<int:pk>/", views.month_view, name="month"),
    path("org/<int:pk>/statistics/", views.statistics_view, name="statistics"),
    path("org/<int:pk>/export.xlsx", views.export, name="export"),
    path("member/<int:pk>/", views.ledger_view, name="ledger"),
    path("member/<int:pk>/pay/", views.pay, name="pay"),
]
