"""What an organization records: committee, village income, regional links, rules, coverage."""

from decimal import Decimal

from dangjian.accounts.roles import Role
from dangjian.organizations.coverage import coverage_table
from dangjian.organizations.models import (
    CommitteeMember,
    NewOrganization,
    RegionalLink,
    VillageIncome,
)
from dangjian.rules.models import RuleOverride
from dangjian.rules.registry import RuleBook

from .factories import NewOrganizationFactory, make_org


def test_committee_members_are_added_with_htmx_and_ended(district, secretary_a):
    url = f"/orgs/{district.branch_a.pk}/committee/"
    response = secretary_a.post(
        url,
        {"post": "organization", "name": "李组织", "full_time": "", "started_on": "2026-01-05"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "李组织" in response.content.decode()
    member = CommitteeMember.objects.get(name="李组织")
    assert member.organization == district.branch_a

    response = secretary_a.post(url, {"post": "", "name": ""}, HTTP_HX_REQUEST="true")
    assert "该字段是必填项" in response.content.decode()

    secretary_a.post(f"/orgs/{district.branch_a.pk}/committee/{member.pk}/end/")
    member.refresh_from_db()
    assert member.ended_on is not None


def test_committee_of_another_branch_cannot_be_changed(district, secretary_a):
    secretary = CommitteeMember.objects.get(organization=district.branch_b)
    response = secretary_a.post(f"/orgs/{district.branch_b.pk}/committee/{secretary.pk}/end/")
    assert response.status_code == 404
    # nor through its own branch's address with a foreign member id
    response = secretary_a.post(f"/orgs/{district.branch_a.pk}/committee/{secretary.pk}/end/")
    assert response.status_code == 404
    secretary.refresh_from_db()
    assert secretary.ended_on is None


def test_village_income_is_recorded_per_year(district, login):
    town = make_org(district.root, "某镇党委", "committee")
    village = make_org(town, "某村党支部", "branch", "village")
    clerk = login(Role.CLERK, village)
    clerk.post(f"/orgs/{village.pk}/income/", {"year": 2025, "amount": "42000"})
    clerk.post(f"/orgs/{village.pk}/income/", {"year": 2025, "amount": "52000"})
    assert list(
        VillageIncome.objects.filter(organization=village).values_list("year", "amount")
    ) == [(2025, Decimal("52000.00"))]
    page = clerk.get(f"/orgs/{village.pk}/").content.decode()
    assert "52000" in page


def test_regional_link_with_part_time_member(district, login):
    admin = login(Role.COMMITTEE_ADMIN, district.street)
    response = admin.post(
        f"/orgs/{district.community.pk}/links/add/",
        {
            "unit_name": "区供电公司",
            "leader_name": "王经理",
            "part_time_member": "on",
            "joined_on": "2026-02-01",
        },
    )
    assert response.status_code == 302
    link = RegionalLink.objects.get()
    assert link.hub == district.community and link.part_time_member
    assert "区供电公司" in admin.get(f"/orgs/{district.community.pk}/").content.decode()

    # A unit already inside the community's own subtree is no stationed unit.
    response = admin.post(
        f"/orgs/{district.community.pk}/links/add/",
        {"unit_organization": district.branch_a.pk, "joined_on": "2026-02-01"},
    )
    assert "下级组织本已隶属于该组织" in response.content.decode()
    # An organization outside the user's scope cannot be picked.
    response = admin.post(
        f"/orgs/{district.community.pk}/links/add/",
        {"unit_organization": district.organ_branch.pk, "joined_on": "2026-02-01"},
    )
    assert "请选择您权限范围内的有效组织" in response.content.decode()
    assert RegionalLink.objects.count() == 1


def test_configurable_rules_are_set_by_the_top_admin_only(district, login):
    top = login(Role.COMMITTEE_ADMIN, district.root)
    response = top.post("/rules/", {"key": "term.warning_months", "value": "8"})
    assert response.status_code == 302
    assert RuleBook.for_root(district.root)["term.warning_months"] == 8

    page = top.get("/rules/").content.decode()
    assert "关于党的基层组织任期的意见" in page  # every rule shows its source

    top.post("/rules/", {"key": "term.warning_months", "value": "30"})
    assert RuleBook.for_root(district.root)["term.warning_months"] == 8  # out of bounds
    top.post("/rules/", {"key": "term.max_adjust_months", "value": "24"})
    assert not RuleOverride.objects.filter(key="term.max_adjust_months").exists()  # fixed rule

    street_admin = login(Role.COMMITTEE_ADMIN, district.street)
    assert (
        street_admin.post("/rules/", {"key": "term.warning_months", "value": "3"}).status_code
        == 403
    )


def test_coverage_rates_per_area_and_category_against_targets(district):
    street, organs = district.street, district.organs
    for coverage in ["standalone", "joint", "instructor", "uncovered"]:
        NewOrganizationFactory(area=street, category="non_public_enterprise", coverage=coverage)
    NewOrganizationFactory(area=district.community, category="small_business", coverage="uncovered")
    NewOrganizationFactory(
        area=district.community, category="small_business", coverage="mass_org_first"
    )
    NewOrganizationFactory(area=organs, category="social_organization", coverage="standalone")

    rows, total = coverage_table(district.root, RuleBook())
    by_area = {row.label: row for row in rows}
    street_npe = by_area[street.name].cells["non_public_enterprise"]
    assert (street_npe.total, street_npe.organization_covered, street_npe.work_covered) == (4, 2, 1)
    assert street_npe.rate == Decimal("75.0")
    small = by_area[street.name].cells["small_business"]  # the community lies in the street
    assert (small.total, small.covered, small.rate, small.target) == (2, 1, Decimal("50.0"), 50)
    # The target is for 党组织覆盖率: a 群团组织先建 entry is work coverage only.
    assert small.organization_rate == Decimal("0.0")
    assert not small.meets_target
    assert by_area[organs.name].cells["social_organization"].rate == Decimal("100.0")
    assert total.cells["non_public_enterprise"].total == 4
    assert total.cells["non_public_enterprise"].organization_rate == Decimal("50.0")
    assert not total.cells["non_public_enterprise"].meets_target  # 50% < 90%


def test_coverage_page_is_scoped(district, login):
    NewOrganizationFactory(name="街道内企业", area=district.community)
    NewOrganizationFactory(name="机关口企业", area=district.organs)
    clerk = login(Role.CLERK, district.street)
    page = clerk.get("/orgs/new-organizations/").content.decode()
    assert "街道内企业" in page and "机关口企业" not in page
    assert clerk.get(f"/orgs/new-organizations/?org={district.organs.pk}").status_code == 404


def test_registering_a_new_organization_checks_scope_and_coverage(district, login):
    clerk = login(Role.CLERK, district.street)
    data = {
        "name": "某网络科技有限公司",
        "category": "non_public_enterprise",
        "area": district.community.pk,
        "employee_count": 40,
        "member_count": 4,
        "coverage": "standalone",
    }
    response = clerk.post("/orgs/new-organizations/add/", data)
    assert "单独组建或联合组建的，请选择所建党组织" in response.content.decode()
    response = clerk.post(
        "/orgs/new-organizations/add/",
        {**data, "area": district.organs.pk, "coverage": "uncovered"},
    )
    assert "请选择您权限范围内的有效组织" in response.content.decode()
    response = clerk.post(
        "/orgs/new-organizations/add/", {**data, "party_organization": district.branch_a.pk}
    )
    assert response.status_code == 302
    entry = NewOrganization.objects.get(name="某网络科技有限公司")
    assert (entry.area, entry.party_organization) == (district.community, district.branch_a)
