from django.urls import path

from . import views

app_name = "organizations"
urlpatterns = [
    path("tree/", views.tree, name="tree"),
    path("search/", views.search, name="search"),
    path("pick/", views.pick, name="pick"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/children/", views.children, name="children"),
    path("<int:parent_pk>/add/", views.create, name="create"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/move/", views.move, name="move"),
    path("<int:pk>/dissolve/", views.dissolve, name="dissolve"),
    path("<int:pk>/committee/", views.committee_add, name="committee_add"),
    path("<int:pk>/committee/<int:member_pk>/end/", views.committee_end, name="committee_end"),
    path("<int:pk>/income/", views.income_set, name="income_set"),
    path("<int:pk>/links/add/", views.link_add, name="link_add"),
    path("<int:pk>/links/<int:link_pk>/end/", views.link_end, name="link_end"),
    path("new-organizations/", views.new_organizations, name="new_organizations"),
    path("new-organizations/add/", views.new_organization_edit, name="neworg_add"),
    path("new-organizations/<int:pk>/", views.new_organization_edit, name="neworg_edit"),
]
