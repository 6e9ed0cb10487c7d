"""The compliance pages through real requests: year at a glance, matrix, export, settings."""

from datetime import date
from io import BytesIO
from unittest import mock

import pytest
from openpyxl import load_workbook

from dangjian.accounts.roles import Role
from dangjian.orglife.choices import MeetingKind, MeetingStatus
from dangjian.orglife.models import Meeting, RequirementSetting

TODAY = date(2026, 4, 15)


@pytest.fixture(autouse=True)
def frozen_today():
    with mock.patch("django.utils.timezone.localdate", return_value=TODAY):
        yield


def held(org, kind, day):
    return Meeting.objects.create(
        organization=org,
        kind=kind,
        status=MeetingStatus.HELD,
        date=day,
        topic="学习",
        expected_count=3,
        present_count=3,
    )


def test_a_branch_sees_its_year_month_by_month_with_the_rule_behind_each_cell(district, login):
    client = login(Role.SECRETARY, district.branch_a)
    held(district.branch_a, MeetingKind.THEME_DAY, date(2026, 1, 10))
    held(district.branch_a, MeetingKind.THEME_DAY, date(2026, 3, 10))

    page = client.get(f"/life/org/{district.branch_a.pk}/year/?year=2026").content.decode()

    assert "主题党日" in page
    assert "2026年2月：逾期未完成" in page
    assert "2026年1月：已完成，符合要求的主题党日1次" in page
    assert "第十六条" in page
    assert "2/4" in page  # January and March met; four months owed so far
    # Its 党小组 is on the page too, with its own monthly meeting.
    assert district.group_a.name in page


def test_a_committee_sees_only_its_subtree_in_the_matrix(district, login):
    client = login(Role.COMMITTEE_ADMIN, district.street)
    held(district.branch_a, MeetingKind.THEME_DAY, date(2026, 1, 10))
    held(district.organ_branch, MeetingKind.THEME_DAY, date(2026, 1, 10))

    page = client.get(f"/life/org/{district.street.pk}/compliance/?year=2026").content.decode()

    assert district.community.name in page
    # Two branches owe 主题党日 in the street's subtree; the organs' branch is not counted.
    assert "逾期 2/2" in page
    assert client.get(f"/life/org/{district.root.pk}/compliance/").status_code == 404
    assert client.get(f"/life/org/{district.organ_branch.pk}/year/").status_code == 404
    assert client.get(f"/life/org/{district.root.pk}/compliance/?format=xlsx").status_code == 404
    # The district's administrator, for comparison, sees both parts and all three branches.
    top = login(Role.COMMITTEE_ADMIN, district.root)
    page = top.get(f"/life/org/{district.root.pk}/compliance/?year=2026").content.decode()
    assert district.organs.name in page and "逾期 3/3" in page


def test_drilling_down_reaches_each_branch(district, login):
    client = login(Role.COMMITTEE_ADMIN, district.root)
    page = client.get(f"/life/org/{district.community.pk}/compliance/").content.decode()
    assert f"/life/org/{district.branch_a.pk}/year/" in page
    assert f"/life/org/{district.branch_b.pk}/year/" in page
    top = client.get(f"/life/org/{district.root.pk}/compliance/").content.decode()
    assert f"/life/org/{district.street.pk}/compliance/" in top


def test_the_matrix_counts_organizations_with_something_overdue(district, login):
    client = login(Role.COMMITTEE_ADMIN, district.root)
    for month in (1, 2, 3):
        held(district.branch_a, MeetingKind.THEME_DAY, date(2026, month, 10))
    response = client.get(f"/life/org/{district.community.pk}/compliance/?year=2026&quarter=1")
    page = response.content.decode()
    # Of the two branches only the second missed 主题党日 in the first quarter.
    assert "逾期 1/2" in page


def test_the_matrix_exports_to_excel_with_the_citations(district, login):
    client = login(Role.COMMITTEE_ADMIN, district.street)
    held(district.branch_a, MeetingKind.THEME_DAY, date(2026, 1, 10))

    response = client.get(f"/life/org/{district.street.pk}/compliance/?year=2026&format=xlsx")

    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(BytesIO(response.content)).active
    rows = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    header, citations = rows[1], rows[2]
    theme = header.index(next(h for h in header if h and h.startswith("主题党日")))
    assert "第十六条" in citations[theme]
    by_name = {row[0].strip("　"): row for row in rows[3:]}
    assert by_name[district.branch_a.name][theme] == "1/4"
    assert by_name[district.branch_a.name][theme + 1] == "2月、3月"
    assert by_name[district.branch_b.name][theme] == "0/4"
    assert district.organ_branch.name not in by_name


def test_a_member_without_a_grant_sees_no_compliance(district, login):
    client = login(Role.MEMBER, district.branch_a)
    assert client.get(f"/life/org/{district.branch_a.pk}/year/").status_code == 404


def test_the_top_administrator_sets_lecture_quarterly_on_the_requirements_page(district, login):
    client = login(Role.COMMITTEE_ADMIN, district.root)
    response = client.post(
        "/life/requirements/",
        {
            "kind": MeetingKind.LECTURE,
            "period": "quarter",
            "minimum": "1",
            "quorum_percent": "0",
            "org_types": ["branch", "joint_branch"],
            "enabled": "on",
        },
    )
    assert response.status_code == 302
    setting = RequirementSetting.objects.get(root=district.root, kind=MeetingKind.LECTURE)
    assert (setting.period, setting.org_types) == ("quarter", ["branch", "joint_branch"])
    page = client.get("/life/requirements/").content.decode()
    assert "每季度至少1次" in page and "已按本地调整" in page


def test_a_bad_requirement_keeps_what_was_typed_and_says_why(district, login):
    client = login(Role.COMMITTEE_ADMIN, district.root)
    response = client.post(
        "/life/requirements/",
        {"kind": MeetingKind.LECTURE, "period": "quarter", "minimum": "40", "quorum_percent": "0"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "每周期次数应为1到31之间的整数" in page
    assert 'value="40"' in page
    assert not RequirementSetting.objects.exists()


def test_a_branch_secretary_cannot_change_requirements(district, login):
    client = login(Role.SECRETARY, district.branch_a)
    response = client.post(
        "/life/requirements/",
        {"kind": MeetingKind.LECTURE, "period": "quarter", "minimum": "1", "quorum_percent": "0"},
    )
    assert response.status_code == 403
    assert not RequirementSetting.objects.exists()


def test_the_member_record_shows_the_group_and_the_last_organizational_life(district, login):
    from .factories import make_member

    client = login(Role.SECRETARY, district.branch_a)
    member = make_member(
        district.branch_a, party_group=district.group_a, last_participated_on=date(2026, 3, 10)
    )
    page = client.get(member.get_absolute_url()).content.decode()
    assert district.group_a.name in page
    assert "2026-03-10" in page
