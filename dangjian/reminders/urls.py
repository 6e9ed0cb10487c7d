from django.urls import path

from . import views

app_name = "reminders"
urlpatterns = [
    path("<int:org_pk>/", views.reminder_list, name="list"),
    path("<int:org_pk>/regenerate/", views.regenerate, name="regenerate"),
    path("items/<int:pk>/done/", views.mark_done, name="done"),
]
