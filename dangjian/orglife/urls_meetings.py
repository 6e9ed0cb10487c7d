from django.urls import path

from . import views_meetings as views

urlpatterns = [
    path("org/<int:pk>/meetings/", views.meeting_list, name="meetings"),
    path("org/<int:pk>/meetings/new/", views.meeting_new, name="meeting_new"),
    path("meetings/<int:pk>/", views.meeting_detail, name="meeting"),
    path("meetings/<int:pk>/edit/", views.meeting_edit, name="meeting_edit"),
    path("meetings/<int:pk>/delete/", views.meeting_delete, name="meeting_delete"),
    path("meetings/<int:pk>/attendance/", views.attendance_save, name="attendance_save"),
    path("meetings/<int:pk>/attendees/add/", views.attendee_add, name="attendee_add"),
    path("meetings/<int:pk>/attendees/remove/", views.attendee_remove, name="attendee_remove"),
    path("meetings/<int:pk>/checkin/open/", views.checkin_open, name="checkin_open"),
    path("meetings/<int:pk>/checkin/close/", views.checkin_close, name="checkin_close"),
    path("meetings/<int:pk>/checkin/", views.checkin_panel, name="checkin_panel"),
    path(
        "meetings/<int:pk>/appraisal/<int:result_pk>/",
        views.appraisal_save,
        name="appraisal_save",
    ),
    path(
        "meetings/<int:pk>/appraisal/advance/",
        views.appraisal_advance,
        name="appraisal_advance",
    ),
    path("meetings/<int:pk>/attachments/", views.attachment_add, name="attachment_add"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment"),
    path("attachments/<int:pk>/delete/", views.attachment_delete, name="attachment_delete"),
    path("checkin/", views.checkin, name="checkin"),
    path("checkin/done/<int:pk>/", views.checkin_done, name="checkin_done"),
    path("my/", views.my_life, name="my"),
]
