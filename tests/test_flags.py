"""Each flag fires on the data built to trigger it, and not otherwise.

Flags are computed for a whole subtree in one query each; these tests build a tree, compute
the flags for it, and compare the organizations flagged with the ones that break the rule.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dangjian.core.flags import FLAGS, FlagContext, all_flags
from dangjian.organizations.models import (
    CommitteeMember,
    Organization,
    OrgType,
    Sector,
    VillageIncome,
)
from dangjian.rules.models import RuleOverride
from dangjian.rules.registry import RuleBook

from .factories import NewOrganizationFactory, make_org

TODAY = date(2026, 11, 24)
SIX_HAVES = dict.fromkeys(
    ["has_venue", "has_facilities", "has_sign", "has_flag", "has_books", "has_rules"], True
)


@pytest.fixture
def root(db):
    return make_org(
        None, "中共某区委员会", OrgType.COMMITTEE, term_started_on=date(2024, 1, 1), **SIX_HAVES
    )


def flagged(key, root, rules=None, today=TODAY):
    ctx = FlagContext(Organization.objects.within(root), rules or RuleBook(), today)
    return {getattr(obj, "name", str(obj)) for obj in FLAGS[key].queryset(ctx)}


def org(parent, name, org_type=OrgType.BRANCH, sector=Sector.GOVERNMENT_ORGAN, **fields):
    fields = {**SIX_HAVES, "term_started_on": date(2025, 1, 1), **fields}
    return make_org(parent, name, org_type, sector, **fields)


def test_term_overdue(root):
    org(root, "已届满支部", term_started_on=date(2023, 11, 23))  # due 2026-11-23
    org(root, "今天届满支部", term_started_on=date(2023, 11, 24))  # due today: not yet overdue
    org(
        root,
        "延期中支部",
        term_started_on=date(2023, 6, 1),
        term_adjust_months=12,
        term_adjust_reason="批复",
    )
    assert flagged("term_overdue", root) == {"已届满支部"}


def test_term_due_within_six_months(root):
    org(root, "五个月后届满", term_started_on=date(2024, 4, 24))  # due 2027-04-24
    org(root, "七个月后届满", term_started_on=date(2024, 6, 24))  # due 2027-06-24
    org(root, "已届满", term_started_on=date(2023, 1, 1))
    assert flagged("term_due_soon", root) == {"五个月后届满"}


def test_term_warning_period_is_configurable(root):
    org(root, "七个月后届满", term_started_on=date(2024, 6, 24))
    RuleOverride.objects.create(root=root, key="term.warning_months", value=8)
    assert flagged("term_due_soon", root, RuleBook.for_root(root)) == {"七个月后届满"}


def test_term_unrecorded_only_for_elected_organizations(root):
    branch = org(root, "未登记任期支部", term_started_on=None)
    org(branch, "党小组", OrgType.GROUP, term_started_on=None)
    org(root, "某街道党工委", OrgType.WORKING_COMMITTEE, term_started_on=None)
    assert flagged("term_unrecorded", root) == {"未登记任期支部"}


def test_secretary_missing(root):
    org(root, "无书记支部", secretary=False)
    left = org(root, "书记已离任支部")
    CommitteeMember.objects.filter(organization=left).update(ended_on=date(2026, 6, 1))
    with_one = org(root, "有书记支部")
    org(with_one, "党小组", OrgType.GROUP)
    assert flagged("secretary_missing", root) == {"无书记支部", "书记已离任支部"}


def test_community_premises_below_the_configured_area(root):
    street = org(root, "某街道党工委", OrgType.WORKING_COMMITTEE)
    small = org(street, "小社区党委", OrgType.COMMITTEE, Sector.COMMUNITY, premises_area=800)
    org(street, "大社区党委", OrgType.COMMITTEE, Sector.COMMUNITY, premises_area=1200)
    org(street, "未登记社区党委", OrgType.COMMITTEE, Sector.COMMUNITY)
    # A grid branch inside a community is not itself a community: no flag for it.
    org(small, "网格党支部", OrgType.BRANCH, Sector.COMMUNITY, premises_area=0)
    assert flagged("community_premises_below", root) == {"小社区党委", "未登记社区党委"}

    RuleOverride.objects.create(root=root, key="community.premises_min_area", value=1500)
    assert "大社区党委" in flagged("community_premises_below", root, RuleBook.for_root(root))


def test_hollow_village(root):
    town = org(root, "某镇党委", OrgType.COMMITTEE)
    poor = org(town, "穷村党支部", OrgType.BRANCH, Sector.VILLAGE)
    rich = org(town, "富村党委", OrgType.COMMITTEE, Sector.VILLAGE)
    org(rich, "富村第一党支部", OrgType.BRANCH, Sector.VILLAGE)
    org(town, "未登记村党支部", OrgType.BRANCH, Sector.VILLAGE)
    VillageIncome.objects.create(organization=poor, year=2025, amount=Decimal("30000"))
    VillageIncome.objects.create(organization=poor, year=2024, amount=Decimal("90000"))
    VillageIncome.objects.create(organization=rich, year=2025, amount=Decimal("260000"))
    assert flagged("hollow_village", root) == {"穷村党支部", "未登记村党支部"}


def test_uncovered_new_organization_with_three_members(root):
    street = org(root, "某街道党工委", OrgType.WORKING_COMMITTEE)
    NewOrganizationFactory(name="三名党员公司", area=street, member_count=3)
    NewOrganizationFactory(name="两名党员公司", area=street, member_count=2)
    NewOrganizationFactory(name="已建支部公司", area=street, member_count=5, coverage="standalone")
    elsewhere = make_org(None, "另一区委", OrgType.COMMITTEE)
    NewOrganizationFactory(name="区外公司", area=elsewhere, member_count=9)
    assert flagged("uncovered_new_organization", root) == {"三名党员公司"}


def test_six_haves_incomplete(root):
    org(root, "缺党旗的支部", has_flag=False)
    with_group = org(root, "齐全的支部")
    org(with_group, "党小组", OrgType.GROUP, has_books=False)  # groups keep no premises
    org(root, "机关党委", OrgType.COMMITTEE, has_rules=False)  # a leading body, not a 阵地
    street = org(root, "某街道党工委", OrgType.WORKING_COMMITTEE)
    org(street, "缺书报的社区党委", OrgType.COMMITTEE, Sector.COMMUNITY, has_books=False)
    assert flagged("six_haves_incomplete", root) == {"缺党旗的支部", "缺书报的社区党委"}


def test_dissolved_organizations_raise_no_flags(root):
    gone = org(root, "已撤销支部", secretary=False, term_started_on=None)
    Organization.objects.filter(pk=gone.pk).update(dissolved_on=date(2026, 1, 1))
    for flag in all_flags():
        assert "已撤销支部" not in flagged(flag.key, root)


def test_each_flag_is_one_query_whatever_the_size_of_the_tree(root):
    for i in range(30):
        org(root, f"支部{i}", secretary=False, term_started_on=None)
    ctx = FlagContext(Organization.objects.within(root), RuleBook(), TODAY)
    for flag in all_flags():
        with CaptureQueriesContext(connection) as queries:
            list(flag.queryset(ctx))
        assert len(queries) == 1, flag.key


def test_home_page_lists_flags_with_their_citation(db, login, root):
    from dangjian.accounts.roles import Role

    org(root, "无书记支部", secretary=False)
    client = login(Role.SECRETARY, root)
    page = client.get("/").content.decode()
    assert "班子不健全：未配备书记" in page
    assert "无书记支部" in page
    assert "《中国共产党支部工作条例（试行）》" in page


def test_every_flag_through_its_page(db, login, root):
    """One trigger and one near miss for each flag, read back from the flag pages over HTTP."""
    from dangjian.accounts.roles import Role

    org(root, "甲·已届满", term_started_on=date(2022, 1, 1))  # 3 years: due 2025
    org(root, "乙·五个月后届满", term_started_on=date(2024, 4, 24))
    org(root, "丙·七个月后届满", term_started_on=date(2024, 6, 24))
    org(root, "丁·未登记任期", term_started_on=None)
    org(root, "戊·无书记", secretary=False)
    street = org(root, "某街道党工委", OrgType.WORKING_COMMITTEE)
    org(street, "己·小社区", OrgType.COMMITTEE, Sector.COMMUNITY, premises_area=500)
    org(street, "庚·大社区", OrgType.COMMITTEE, Sector.COMMUNITY, premises_area=1500)
    village = org(street, "辛·穷村", OrgType.BRANCH, Sector.VILLAGE)
    VillageIncome.objects.create(organization=village, year=2025, amount=Decimal("1000"))
    NewOrganizationFactory(name="壬·三名党员公司", area=street, member_count=3)
    NewOrganizationFactory(name="癸·指导员公司", area=street, member_count=4, coverage="instructor")
    NewOrganizationFactory(name="子·两名党员公司", area=street, member_count=2)
    org(root, "丑·缺制度支部", has_rules=False)

    expected = {
        "term_overdue": ({"甲·已届满"}, {"乙·五个月后届满"}),
        "term_due_soon": ({"乙·五个月后届满"}, {"丙·七个月后届满"}),
        "term_unrecorded": ({"丁·未登记任期"}, {"甲·已届满"}),
        "secretary_missing": ({"戊·无书记"}, {"甲·已届满"}),
        "community_premises_below": ({"己·小社区"}, {"庚·大社区"}),
        "hollow_village": ({"辛·穷村"}, {"庚·大社区"}),
        "uncovered_new_organization": ({"壬·三名党员公司", "癸·指导员公司"}, {"子·两名党员公司"}),
        "six_haves_incomplete": ({"丑·缺制度支部"}, {"甲·已届满"}),
    }
    client = login(Role.COMMITTEE_ADMIN, root)
    for key, (present, absent) in expected.items():
        page = client.get(f"/flags/{key}/{root.pk}/").content.decode()
        for name in present:
            assert name in page, (key, name)
        for name in absent:
            assert name not in page, (key, name)


def test_the_home_pages_count_and_first_hits_are_the_flags_own(db):
    """The home page takes each flag's count and first hits together (in one query when the
    flag's query groups); on the demo data, with many flags raised more often than the hits
    shown, they are the flag's own count and first rows, whatever shape its query has."""
    from io import StringIO

    from django.core.management import call_command

    call_command(
        "seed_demo", "--scale", "tiny", "--seed", "7", "--today", TODAY.isoformat(),
        stdout=StringIO(),
    )  # fmt: skip
    top = Organization.objects.filter(depth=1).first()

    class SmallBranches(RuleBook):  # branches of over 5 are "oversized": a grouped flag's hits
        def __getitem__(self, key):
            return 5 if key == "branch.max_members" else super().__getitem__(key)

    ctx = FlagContext(Organization.objects.within(top), SmallBranches(), TODAY)
    many, grouped = 0, 0
    for flag in all_flags():
        count, hits = flag.count_and_hits(ctx, 2)
        assert count == flag.queryset(ctx).count(), flag.key
        expected = flag.hits(ctx, 2)
        assert [(h.obj.pk, h.detail) for h in hits] == [(h.obj.pk, h.detail) for h in expected]
        many += count > 2
        grouped += count > 2 and flag.queryset(ctx).query.group_by is not None
    assert many >= 5
    assert grouped  # the one-query path was taken
