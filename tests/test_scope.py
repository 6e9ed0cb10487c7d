"""A role covers the subtree of the organization it is granted on, and nothing else.

Out of scope is answered with 404 everywhere, so nobody learns what exists outside their
subtrees.
"""

import pytest

from dangjian.accounts.roles import Role
from dangjian.organizations.models import Organization


def test_secretary_sees_own_branch_and_its_group(district, secretary_a):
    assert secretary_a.get(f"/orgs/{district.branch_a.pk}/").status_code == 200
    assert secretary_a.get(f"/orgs/{district.group_a.pk}/").status_code == 200


def test_secretary_gets_404_on_sibling_branch_page_and_api(district, secretary_a):
    sibling = district.branch_b
    assert secretary_a.get(f"/orgs/{sibling.pk}/").status_code == 404
    assert secretary_a.get(f"/orgs/{sibling.pk}/children/").status_code == 404
    assert secretary_a.get(f"/api/organizations/{sibling.pk}/").status_code == 404


def test_secretary_gets_404_on_the_committee_above(district, secretary_a):
    assert secretary_a.get(f"/orgs/{district.community.pk}/").status_code == 404
    assert secretary_a.get(f"/api/organizations/{district.community.pk}/").status_code == 404


def test_committee_admin_sees_whole_subtree_and_nothing_above(district, committee_admin):
    below = [district.street, district.community, district.branch_a, district.branch_b]
    for organization in [*below, district.group_a]:
        assert committee_admin.get(f"/orgs/{organization.pk}/").status_code == 200
    for organization in [district.root, district.organs, district.organ_branch]:
        assert committee_admin.get(f"/orgs/{organization.pk}/").status_code == 404
        assert committee_admin.get(f"/api/organizations/{organization.pk}/").status_code == 404

    listed = {
        row["id"] for row in committee_admin.get("/api/organizations/?limit=500").json()["results"]
    }
    assert listed == {o.pk for o in [*below, district.group_a]}


def test_tree_and_search_show_only_the_subtree(district, committee_admin):
    tree = committee_admin.get("/orgs/tree/").content.decode()
    assert district.street.name in tree
    assert district.root.name not in tree

    found = committee_admin.get("/orgs/search/?q=党支部").content.decode()
    assert district.branch_a.name in found
    assert district.organ_branch.name not in found


def test_breadcrumbs_do_not_link_to_organizations_above_the_scope(district, secretary_a):
    page = secretary_a.get(f"/orgs/{district.group_a.pk}/").content.decode()
    assert f'href="/orgs/{district.branch_a.pk}/"' in page
    assert f'href="/orgs/{district.community.pk}/"' not in page


def test_a_user_with_two_grants_sees_both_subtrees(district, login):
    client = login(Role.CLERK, district.branch_a)
    from tests.factories import grant

    grant(client.user, district.organ_branch, Role.CLERK)
    assert client.get(f"/orgs/{district.organ_branch.pk}/").status_code == 200
    assert client.get(f"/orgs/{district.branch_b.pk}/").status_code == 404


def test_a_user_without_grants_sees_nothing(district, login):
    client = login()
    assert client.get(f"/orgs/{district.root.pk}/").status_code == 404
    assert client.get("/api/organizations/").json()["results"] == []


def test_grants_on_a_dissolved_organization_give_no_access(district, login):
    client = login(Role.SECRETARY, district.branch_b)
    Organization.objects.filter(pk=district.branch_b.pk).update(dissolved_on="2026-01-02")
    assert client.get(f"/orgs/{district.branch_b.pk}/").status_code == 404


@pytest.mark.parametrize("url", ["/", "/orgs/tree/", "/api/organizations/"])
def test_anonymous_users_are_sent_to_login(client, district, url):
    response = client.get(url)
    assert response.status_code in (302, 401, 403)
    if response.status_code == 302:
        assert response["Location"].startswith("/accounts/login/")


def test_flag_list_of_another_subtree_is_404(district, secretary_a):
    assert secretary_a.get(f"/flags/term_unrecorded/{district.root.pk}/").status_code == 404
    assert secretary_a.get(f"/flags/term_unrecorded/{district.branch_a.pk}/").status_code == 200
