"""The services re-check the actor's rights themselves, whatever page or API called them.

These call the services directly as users whose rights stop short of the change, the way a
forged request that slipped past a page's own checks would reach them.
"""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from dangjian.accounts.roles import Role
from dangjian.organizations import services
from dangjian.organizations.models import Organization
from dangjian.rules import services as rule_services

from .conftest import refresh
from .factories import UserFactory, grant


@pytest.fixture
def street_admin(district):
    user = UserFactory()
    grant(user, district.street, Role.COMMITTEE_ADMIN)
    return user


@pytest.fixture
def secretary(district):
    user = UserFactory()
    grant(user, district.branch_a, Role.SECRETARY)
    return user


def test_update_outside_the_scope_is_refused(district, secretary):
    branch_b = refresh(district.branch_b)
    with pytest.raises(PermissionDenied):
        services.update_organization(secretary, branch_b, {"address": "越权"}, branch_b.version)
    assert refresh(branch_b).address == ""


def test_move_into_a_parent_outside_the_scope_is_refused(district, street_admin):
    with pytest.raises(PermissionDenied):
        services.move_organization(street_admin, district.branch_a, district.organs)
    assert refresh(district.branch_a).path.startswith(refresh(district.community).path)


def test_move_out_of_a_parent_outside_the_scope_is_refused(district, login):
    organs_admin = UserFactory()
    grant(organs_admin, district.organs, Role.COMMITTEE_ADMIN)
    with pytest.raises(PermissionDenied):
        services.move_organization(organs_admin, district.branch_a, district.organs)


def test_create_and_dissolve_need_structure_rights(district, secretary):
    with pytest.raises(PermissionDenied):
        services.create_organization(
            secretary,
            district.branch_a,
            {"name": "小组", "org_type": "group", "sector": "community"},
        )
    with pytest.raises(PermissionDenied):
        services.dissolve_organization(secretary, district.group_a, date(2026, 1, 2), "合并")


def test_committee_income_and_links_outside_the_scope_are_refused(district, secretary):
    with pytest.raises(PermissionDenied):
        services.add_committee_member(
            secretary, district.branch_b, {"post": "member", "name": "某"}
        )
    with pytest.raises(PermissionDenied):
        services.set_village_income(secretary, district.branch_b, 2025, 1000)
    with pytest.raises(PermissionDenied):
        services.add_regional_link(secretary, district.community, {"unit_name": "某单位"})


def test_rules_are_set_only_at_the_top(district, street_admin):
    with pytest.raises(PermissionDenied):
        rule_services.set_rule(street_admin, district.root, "term.warning_months", 3)


def test_dissolved_organizations_are_not_changed(district, street_admin):
    services.dissolve_organization(street_admin, district.group_a, date(2026, 1, 2), "楼栋拆迁")
    group = refresh(district.group_a)
    with pytest.raises(ValidationError, match="已撤销"):
        services.update_organization(street_admin, group, {"name": "新名"}, group.version)
    with pytest.raises(ValidationError, match="已撤销"):
        services.add_committee_member(street_admin, group, {"post": "group_leader", "name": "某"})


def test_regional_links_join_only_a_committee(district, street_admin):
    with pytest.raises(ValidationError, match="联建单位只能加入"):
        services.add_regional_link(street_admin, district.branch_a, {"unit_name": "某单位"})


def test_dissolving_ends_the_committee_and_checks_the_date(district, street_admin):
    with pytest.raises(ValidationError, match="不能晚于今天"):
        services.dissolve_organization(street_admin, district.branch_b, date(2099, 1, 1), "调整")
    services.dissolve_organization(street_admin, district.branch_b, date(2026, 1, 2), "调整")
    assert not refresh(district.branch_b).committee_members.filter(ended_on__isnull=True).exists()


def test_term_lengths_follow_a_rule_change(district, login):
    top = UserFactory()
    grant(top, district.root, Role.COMMITTEE_ADMIN)
    organ_branch = refresh(district.organ_branch)  # a 机关 branch: 3 years by default
    assert (organ_branch.term_years, organ_branch.term_due_on) == (3, date(2029, 1, 1))
    rule_services.set_rule(top, district.root, "term.years.branch", 4)
    assert (refresh(organ_branch).term_years, refresh(organ_branch).term_due_on) == (
        4,
        date(2030, 1, 1),
    )
    # ...and an explicitly set length stays as set.
    services.update_organization(
        top, organ_branch, {"term_years": 2}, refresh(organ_branch).version
    )
    rule_services.set_rule(top, district.root, "term.years.branch", 5)
    assert refresh(organ_branch).term_years == 2


@pytest.mark.parametrize("value", ["1e13", "Infinity", "NaN", "1e400", "abc"])
def test_a_bad_rule_value_is_refused_and_the_pages_keep_working(district, login, value):
    top = login(Role.COMMITTEE_ADMIN, district.root)
    response = top.post("/rules/", {"key": "village.hollow_income_threshold", "value": value})
    assert response.status_code == 200
    page = response.content.decode()
    assert f'value="{value}"' in page  # what was typed is kept
    assert "errorlist" in page
    assert top.get("/").status_code == 200
    assert Organization.objects.filter(rule_overrides__isnull=False).count() == 0
