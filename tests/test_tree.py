"""The tree follows the Party's organizational rules, and a refused change changes nothing."""

from datetime import date

from dangjian.accounts.roles import Role
from dangjian.audit.models import AuditEvent
from dangjian.organizations.models import Organization, OrgType, Sector

from .conftest import refresh
from .factories import edit_data


def tree_snapshot():
    return list(Organization.objects.values_list("pk", "path", "depth", "numchild", "org_type"))


def create(client, parent, **data):
    form = {"name": "新组织", "org_type": OrgType.BRANCH, "sector": Sector.COMMUNITY}
    form.update(data)
    return client.post(f"/orgs/{parent.pk}/add/", form)


def test_group_only_under_a_branch(district, committee_admin):
    before = tree_snapshot()
    response = create(committee_admin, district.community, name="错误的党小组", org_type="group")
    assert response.status_code == 200
    assert (
        "党小组不能设在党委之下，只能设在党支部、联合党支部、临时党支部之下"
        in response.content.decode()
    )
    assert "依据" in response.content.decode()
    assert tree_snapshot() == before

    response = create(committee_admin, district.branch_a, name="2号楼党小组", org_type="group")
    assert response.status_code == 302
    assert Organization.objects.get(name="2号楼党小组").path.startswith(district.branch_a.path)


def test_a_branch_cannot_contain_a_committee(district, committee_admin):
    before = tree_snapshot()
    response = create(committee_admin, district.branch_a, name="某党委", org_type="committee")
    assert "党委不能设在党支部之下" in response.content.decode()
    assert tree_snapshot() == before


def test_a_general_branch_sits_under_a_committee(district, committee_admin):
    response = create(
        committee_admin, district.community, name="社区党总支", org_type="general_branch"
    )
    assert response.status_code == 302
    response = create(
        committee_admin, district.branch_a, name="错误党总支", org_type="general_branch"
    )
    assert "党总支不能设在党支部之下" in response.content.decode()


def test_cannot_move_into_own_subtree(district, login):
    admin = login(Role.COMMITTEE_ADMIN, district.root)
    before = tree_snapshot()
    response = admin.post(
        f"/orgs/{district.street.pk}/move/", {"new_parent": district.community.pk}
    )
    assert "不能把组织调整到它自身或其下级组织之下" in response.content.decode()
    assert tree_snapshot() == before


def test_move_refused_by_type_rule_changes_nothing(district, login):
    admin = login(Role.COMMITTEE_ADMIN, district.root)
    before = tree_snapshot()
    response = admin.post(f"/orgs/{district.group_a.pk}/move/", {"new_parent": district.organs.pk})
    assert "党小组不能设在党工委之下" in response.content.decode()
    assert tree_snapshot() == before
    assert not AuditEvent.objects.filter(action="move").exists()


def test_moving_moves_the_whole_subtree(district, login):
    admin = login(Role.COMMITTEE_ADMIN, district.root)
    response = admin.post(f"/orgs/{district.branch_a.pk}/move/", {"new_parent": district.organs.pk})
    assert response.status_code == 302
    branch, group = refresh(district.branch_a), refresh(district.group_a)
    organs = refresh(district.organs)
    assert branch.path.startswith(organs.path) and branch.depth == organs.depth + 1
    assert group.path.startswith(branch.path) and group.depth == branch.depth + 1
    assert refresh(district.community).numchild == 1
    assert organs.numchild == 2
    assert Organization.objects.find_problems() == ([], [], [], [], [])


def test_moving_needs_rights_over_the_new_parent_and_the_old(district, committee_admin):
    # The street's admin cannot move a branch into the organs' working committee, outside
    # the street: the target is not a valid choice for them, and nothing changes.
    before = tree_snapshot()
    response = committee_admin.post(
        f"/orgs/{district.branch_a.pk}/move/", {"new_parent": district.organs.pk}
    )
    assert "请选择您权限范围内的有效组织" in response.content.decode()
    assert tree_snapshot() == before
    # ...and cannot move its own top organization at all.
    assert committee_admin.get(f"/orgs/{district.street.pk}/move/").status_code == 403


def test_dissolving_an_organization_with_children_is_refused(district, committee_admin):
    response = committee_admin.post(
        f"/orgs/{district.branch_a.pk}/dissolve/",
        {"dissolved_on": "2026-03-01", "reason": "网格调整"},
    )
    assert "该组织下还有1个下级组织" in response.content.decode()
    assert refresh(district.branch_a).dissolved_on is None


def test_dissolving_a_leaf_keeps_it_on_record_but_out_of_the_tree(district, committee_admin):
    response = committee_admin.post(
        f"/orgs/{district.branch_b.pk}/dissolve/",
        {"dissolved_on": "2026-03-01", "reason": "网格调整，党员并入第一网格党支部"},
    )
    assert response.status_code == 302
    assert refresh(district.branch_b).dissolved_on == date(2026, 3, 1)
    children = committee_admin.get(f"/orgs/{district.community.pk}/children/").content.decode()
    assert district.branch_b.name not in children
    assert district.branch_a.name in children


def test_changing_a_type_must_fit_parent_and_children(district, committee_admin):
    branch = refresh(district.branch_a)
    response = committee_admin.post(
        f"/orgs/{branch.pk}/edit/", edit_data(branch, org_type="committee")
    )
    assert "该组织下设有党小组，不能改为党委" in response.content.decode()
    assert refresh(branch).org_type == OrgType.BRANCH


def test_a_second_save_on_a_stale_form_is_refused_and_keeps_what_was_typed(
    district, secretary_a, login
):
    other = login(Role.SECRETARY, district.branch_a)
    branch = refresh(district.branch_a)
    first = edit_data(branch, address="和平路1号")
    second = edit_data(branch, address="和平路2号")

    assert other.post(f"/orgs/{branch.pk}/edit/", first).status_code == 302
    response = secretary_a.post(f"/orgs/{branch.pk}/edit/", second)
    page = response.content.decode()
    assert response.status_code == 200
    assert "保存前已有其他人修改了这条记录" in page
    assert "和平路1号" in page  # what changed meanwhile
    assert 'value="和平路2号"' in page  # what this user typed is still in the form
    assert refresh(branch).address == "和平路1号"


def test_term_due_date_follows_the_2018_term_rules(district, committee_admin):
    create(
        committee_admin,
        district.community,
        name="第三网格党支部",
        org_type="branch",
        sector="community",
        term_started_on="2024-05-10",
    )
    community_branch = Organization.objects.get(name="第三网格党支部")
    assert community_branch.term_years == 5  # 村、社区党组织 5 years
    assert community_branch.term_due_on == date(2029, 5, 10)

    admin = committee_admin
    create(
        admin,
        district.community,
        name="社区党总支",
        org_type="general_branch",
        sector="other",
        term_started_on="2024-05-10",
    )
    general = Organization.objects.get(name="社区党总支")
    assert general.term_years == 3
    assert general.term_due_on == date(2027, 5, 10)


def test_term_extension_is_limited_to_a_year_and_needs_approval(district, committee_admin):
    branch = refresh(district.branch_a)
    response = committee_admin.post(
        f"/orgs/{branch.pk}/edit/",
        edit_data(branch, term_adjust_months=13, term_adjust_reason="区委组织部批复"),
    )
    assert "延期或提前换届一般不超过12个月" in response.content.decode()
    response = committee_admin.post(
        f"/orgs/{branch.pk}/edit/", edit_data(branch, term_adjust_months=6)
    )
    assert "须经上级党组织批准" in response.content.decode()
    response = committee_admin.post(
        f"/orgs/{branch.pk}/edit/",
        edit_data(branch, term_adjust_months=6, term_adjust_reason="区委组织部批复〔2026〕3号"),
    )
    assert response.status_code == 302
    assert refresh(branch).term_due_on == date(2031, 7, 1)  # 2026-01-01 + 5 years + 6 months


def test_a_secretary_cannot_change_the_type_or_prolong_the_term_of_their_own_branch(
    district, secretary_a
):
    branch = refresh(district.branch_a)
    for change in (
        {"org_type": "general_branch"},
        {"term_adjust_months": 12, "term_adjust_reason": "同意"},
        {"term_years": 4},
    ):
        response = secretary_a.post(f"/orgs/{branch.pk}/edit/", edit_data(branch, **change))
        assert response.status_code == 403
    after = refresh(branch)
    assert (after.org_type, after.term_due_on) == (branch.org_type, branch.term_due_on)
    # What is theirs to keep up to date, they can.
    response = secretary_a.post(f"/orgs/{branch.pk}/edit/", edit_data(branch, address="和平路3号"))
    assert response.status_code == 302


def test_only_structure_managers_create_children(district, login):
    admin = login(Role.COMMITTEE_ADMIN, district.root)
    clerk = login(Role.CLERK, district.branch_a)
    assert clerk.get(f"/orgs/{district.branch_a.pk}/add/").status_code == 403
    assert create(clerk, district.branch_a, name="小组", org_type="group").status_code == 403
    assert admin.get(f"/orgs/{district.branch_a.pk}/add/").status_code == 200
