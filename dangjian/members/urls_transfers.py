"""/members/transfers/: names in the ``members`` namespace."""

from django.urls import path

from . import views_transfers as views

urlpatterns = [
    path("", views.transfer_list, name="transfers"),
    path("new/", views.transfer_new, name="transfer_new"),
    path("new/destinations/", views.transfer_destinations, name="transfer_destinations"),
    path("incoming/new/", views.transfer_incoming, name="transfer_incoming"),
    path("<int:pk>/", views.transfer_detail, name="transfer_detail"),
    path("<int:pk>/accept/", views.transfer_accept, name="transfer_accept"),
    path("<int:pk>/return/", views.transfer_return, name="transfer_return"),
    path("<int:pk>/cancel/", views.transfer_cancel, name="transfer_cancel"),
    path("<int:pk>/complete/", views.transfer_complete, name="transfer_complete"),
    path("<int:pk>/letter/", views.transfer_letter, name="transfer_letter"),
    path("<int:pk>/receipt/", views.transfer_receipt, name="transfer_receipt"),
]
