"""The organizational-life API: meetings with attendance, and compliance — scoped like the pages."""

from datetime import date

import pytest
from rest_framework.test import APIClient

from dangjian.accounts.roles import Role
from dangjian.audit.models import AuditEvent
from dangjian.orglife import services
from dangjian.orglife.models import Attendance, Meeting

from .factories import api_client_for, freeze_localdate, make_member

TODAY = date(2026, 5, 15)


@pytest.fixture(autouse=True)
def no_second_factor(settings):
    settings.OTP_REQUIRED_ROLES = []


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    """Today is 15 May 2026 for the API and the services alike."""
    return freeze_localdate(monkeypatch, TODAY)


client_for = api_client_for


@pytest.fixture
def admin(district):
    """A committee administrator of the whole district (records meetings for the fixtures)."""
    return client_for(Role.COMMITTEE_ADMIN, district.root).user


@pytest.fixture
def people(district):
    """Two members expected in branch A, one lost (not expected), one in branch B."""
    return {
        "li": make_member(district.branch_a, "李明"),
        "wang": make_member(district.branch_a, "王芳", gender="female"),
        "lost": make_member(
            district.branch_a,
            "赵失联",
            standing="lost_contact",
            lost_contact_since=date(2025, 1, 1),
        ),
        "chen": make_member(district.branch_b, "陈刚"),
    }


def record(actor, organization, kind, day, topic="学习", **data):
    return services.create_meeting(
        actor, organization, {"kind": kind, "date": day, "topic": topic, **data}
    )


def topics(response) -> list[str]:
    assert response.status_code == 200, response.content
    return sorted(row["topic"] for row in response.json()["results"])


# ---- meetings ----


def test_meetings_are_listed_within_the_scope(district, admin, people):
    record(admin, district.branch_a, "theme_day", date(2026, 3, 5), "一支部主题党日")
    record(admin, district.group_a, "group_meeting", date(2026, 3, 6), "小组会")
    record(admin, district.branch_b, "theme_day", date(2026, 3, 7), "二支部主题党日")
    record(admin, district.organ_branch, "theme_day", date(2026, 3, 8), "机关主题党日")

    secretary = client_for(Role.SECRETARY, district.branch_a)
    assert topics(secretary.get("/api/meetings/")) == ["一支部主题党日", "小组会"]
    # Another branch's organization filter lists nothing; its record is not found.
    assert topics(secretary.get(f"/api/meetings/?organization={district.branch_b.pk}")) == []
    other = Meeting.objects.get(topic="二支部主题党日")
    assert secretary.get(f"/api/meetings/{other.pk}/").status_code == 404

    street = client_for(Role.COMMITTEE_ADMIN, district.street)
    assert topics(street.get("/api/meetings/")) == ["一支部主题党日", "二支部主题党日", "小组会"]
    # The organization filter takes the subtree below it.
    by_branch = street.get(f"/api/meetings/?organization={district.branch_a.pk}")
    assert topics(by_branch) == ["一支部主题党日", "小组会"]
    assert topics(street.get("/api/meetings/?kind=group_meeting")) == ["小组会"]
    assert topics(street.get("/api/meetings/?date_from=2026-03-06&date_to=2026-03-06")) == [
        "小组会"
    ]
    assert topics(street.get("/api/meetings/?year=2025")) == []
    assert topics(street.get("/api/meetings/?status=planned")) == []
    assert street.get("/api/meetings/?year=abc").status_code == 400
    backwards = street.get("/api/meetings/?date_from=2026-04-01&date_to=2026-03-01")
    assert backwards.status_code == 400 and "date_to" in backwards.json()

    # Newest first, in keyset pages.
    first = street.get("/api/meetings/?page_size=2").json()
    assert [r["topic"] for r in first["results"]] == ["二支部主题党日", "小组会"]
    second = street.get(first["next"]).json()
    assert [r["topic"] for r in second["results"]] == ["一支部主题党日"]

    # A member (no organizational-life permission) sees no records.
    member = client_for(Role.MEMBER, district.branch_a)
    assert topics(member.get("/api/meetings/")) == []


def test_create_derives_the_attendance_from_the_membership(district, people):
    secretary = client_for(Role.SECRETARY, district.branch_a)
    response = secretary.post(
        "/api/meetings/",
        {
            "organization": district.branch_a.pk,
            "kind": "general_meeting",
            "date": "2026-03-10",
            "topic": "第一季度党员大会",
            "host": people["li"].pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "held" and body["version"] == 1
    assert body["host"] == people["li"].pk
    assert [(a["name"], a["member"], a["presence"]) for a in body["attendance"]] == [
        ("李明", people["li"].pk, "unmarked"),
        ("王芳", people["wang"].pk, "unmarked"),
    ]
    assert (body["expected_count"], body["present_count"], body["has_quorum"]) == (2, 0, False)
    meeting = Meeting.objects.get(pk=body["id"])
    assert AuditEvent.objects.filter(object_id=str(meeting.pk), action="create").exists()

    detail = secretary.get(f"/api/meetings/{meeting.pk}/").json()
    assert {"minutes", "attendance", "organization_name"} <= set(detail)
    assert set(detail["attendance"][0]) == {
        "id",
        "member",
        "name",
        "presence",
        "presence_label",
        "leave_approved",
        "reason",
        "checked_in_at",
    }


def test_create_refusals_are_explained_in_chinese(district, people):
    secretary = client_for(Role.SECRETARY, district.branch_a)

    def post(**data):
        base = {"organization": district.branch_a.pk, "kind": "theme_day", "date": "2026-04-01"}
        return secretary.post("/api/meetings/", {**base, "topic": "主题", **data}, format="json")

    outside = post(organization=district.branch_b.pk)
    assert outside.status_code == 400 and "organization" in outside.json()
    # A member outside the scope cannot be named (nor probed by id).
    assert post(host=people["chen"].pk).status_code == 400
    wrong_kind = post(kind="group_meeting")
    assert wrong_kind.status_code == 400
    assert "党小组会只能由党小组召开" in wrong_kind.json()["detail"]
    assert wrong_kind.json()["citation"]
    future = post(date="2026-06-01")
    assert future.status_code == 400
    assert "计划召开" in future.json()["date"][0]
    assert post(date="2026-06-01", status="planned").status_code == 201
    assert Meeting.objects.count() == 1


def test_a_stale_update_is_a_conflict(district, admin, people):
    meeting = record(admin, district.branch_a, "theme_day", date(2026, 4, 2), "原主题")
    secretary = client_for(Role.SECRETARY, district.branch_a)
    url = f"/api/meetings/{meeting.pk}/"

    updated = secretary.patch(url, {"topic": "新主题", "version": 1}, format="json")
    assert updated.status_code == 200, updated.content
    assert (updated.json()["topic"], updated.json()["version"]) == ("新主题", 2)

    stale = secretary.patch(url, {"place": "会议室", "version": 1}, format="json")
    assert stale.status_code == 409
    assert stale.json()["changes"][0]["field"] == "topic"
    assert Meeting.objects.get(pk=meeting.pk).place == ""

    assert secretary.patch(url, {"topic": "无版本"}, format="json").status_code == 400
    kind = secretary.patch(url, {"kind": "lecture", "version": 2}, format="json")
    assert kind.status_code == 400 and "kind" in kind.json()

    other = client_for(Role.SECRETARY, district.branch_b)
    assert other.patch(url, {"topic": "越权", "version": 2}, format="json").status_code == 404


def test_marking_attendance(district, admin, people):
    meeting = record(admin, district.branch_a, "general_meeting", date(2026, 4, 20))
    rows = {a.member_id: a.pk for a in meeting.attendance.all()}
    li, wang = rows[people["li"].pk], rows[people["wang"].pk]
    secretary = client_for(Role.SECRETARY, district.branch_a)
    url = f"/api/meetings/{meeting.pk}/attendance/"

    response = secretary.post(
        url,
        {
            "marks": [
                {"attendance_id": li, "presence": "present"},
                {
                    "attendance_id": wang,
                    "presence": "leave",
                    "leave_approved": True,
                    "reason": "出差",
                },
            ]
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["expected_count"], body["present_count"], body["has_quorum"]) == (2, 1, False)
    by_id = {a["id"]: a for a in body["attendance"]}
    assert by_id[wang]["leave_approved"] and by_id[wang]["reason"] == "出差"

    no_reason = secretary.post(
        url, {"marks": [{"attendance_id": wang, "presence": "absent"}]}, format="json"
    )
    assert no_reason.status_code == 400
    assert "须注明原因" in no_reason.json()[0]

    # The meeting was held before today: changing a recorded presence is a correction.
    correction = {"marks": [{"attendance_id": wang, "presence": "present"}]}
    refused = secretary.post(url, correction, format="json")
    assert refused.status_code == 400 and "更正原因" in refused.json()[0]
    fixed = secretary.post(url, {**correction, "correction_reason": "补记"}, format="json")
    assert fixed.status_code == 200
    assert (fixed.json()["present_count"], fixed.json()["has_quorum"]) == (2, True)

    foreign = record(admin, district.branch_b, "theme_day", date(2026, 4, 21))
    foreign_row = foreign.attendance.get().pk
    mixed = secretary.post(
        url, {"marks": [{"attendance_id": foreign_row, "presence": "present"}]}, format="json"
    )
    assert mixed.status_code == 400
    assert Attendance.objects.get(pk=foreign_row).presence == "unmarked"
    assert (
        client_for(Role.SECRETARY, district.branch_b)
        .post(url, {"marks": [{"attendance_id": li, "presence": "absent", "reason": "x"}]})
        .status_code
        == 404
    )


def test_delete_needs_a_reason(district, admin, people):
    meeting = record(admin, district.branch_a, "theme_day", date(2026, 4, 2))
    secretary = client_for(Role.SECRETARY, district.branch_a)
    url = f"/api/meetings/{meeting.pk}/"
    refused = secretary.delete(url)
    assert refused.status_code == 400 and "reason" in refused.json()
    assert secretary.delete(url, {"reason": "重复登记"}, format="json").status_code == 204
    assert not Meeting.objects.filter(pk=meeting.pk).exists()
    event = AuditEvent.objects.get(object_id=str(meeting.pk), action="delete")
    assert event.reason == "重复登记"

    again = record(admin, district.branch_a, "theme_day", date(2026, 4, 3))
    assert secretary.delete(f"/api/meetings/{again.pk}/?reason=录错").status_code == 204


# ---- compliance ----


@pytest.fixture
def branch_a_life(district, admin, people):
    """Branch A held 主题党日 in January, February and April (not March), a 党员大会 in
    February, and a planned one in May; its group held nothing."""
    for month in (1, 2, 4):
        record(admin, district.branch_a, "theme_day", date(2026, month, 10))
    record(admin, district.branch_a, "general_meeting", date(2026, 2, 20))
    record(admin, district.branch_a, "general_meeting", date(2026, 5, 20), status="planned")
    record(admin, district.branch_b, "theme_day", date(2026, 1, 10))


def cells(row) -> dict:
    return {cell["kind"]: cell for cell in row["requirements"]}


def test_compliance_of_a_branch(district, branch_a_life):
    client = client_for(Role.SECRETARY, district.branch_a)
    response = client.get(f"/api/compliance/?organization={district.branch_a.pk}&year=2026")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["today"] == "2026-05-15"
    assert body["organization"]["id"] == district.branch_a.pk
    theme = next(r for r in body["requirements"] if r["kind"] == "theme_day")
    assert (theme["period"], theme["minimum"], theme["quorum_percent"]) == ("month", 1, 0)
    assert "支部工作条例" in theme["citation"] and theme["rule_text"]
    assert "branch" in theme["org_types"]

    assert body["count"] == 2
    rows = {row["name"]: row for row in body["results"]}
    assert set(rows) == {district.branch_a.name, district.group_a.name}
    branch = cells(rows[district.branch_a.name])
    # No branch committee (only a secretary): the 支委会 requirement is not owed.
    assert "committee_meeting" not in branch
    day = branch["theme_day"]
    assert (day["met"], day["overdue"], day["due"], day["owed"]) == (3, 1, 1, 5)
    assert day["status"] == "overdue"
    assert [(p["period"], p["status"], p["count"]) for p in day["periods"][:6]] == [
        ("1月", "met", 1),
        ("2月", "met", 1),
        ("3月", "overdue", 0),
        ("4月", "met", 1),
        ("5月", "due", 0),
        ("6月", "upcoming", 0),
    ]
    assert day["periods"][2]["status_label"] == "逾期未完成"
    general = branch["general_meeting"]  # quarterly; the planned May meeting does not count
    assert (general["met"], general["overdue"], general["due"], general["owed"]) == (1, 0, 1, 2)
    assert [p["status"] for p in general["periods"]] == ["met", "due", "upcoming", "upcoming"]
    group = cells(rows[district.group_a.name])
    assert set(group) == {"group_meeting"}
    assert (group["group_meeting"]["overdue"], group["group_meeting"]["due"]) == (4, 1)

    totals = {t["kind"]: t for t in body["totals"]}
    assert totals["theme_day"]["orgs_overdue"] == 1

    first_quarter = client.get(
        f"/api/compliance/?organization={district.branch_a.pk}&year=2026&month_from=1&month_to=3"
    ).json()
    day = cells(first_quarter["results"][0])["theme_day"]
    assert [p["period"] for p in day["periods"]] == ["1月", "2月", "3月"]
    assert (day["met"], day["overdue"], day["due"]) == (2, 1, 0)


def test_compliance_rollup_and_paging(district, branch_a_life):
    client = client_for(Role.COMMITTEE_ADMIN, district.street)
    base = f"/api/compliance/?organization={district.community.pk}&year=2026"

    page = client.get(base + "&limit=1").json()
    assert page["count"] == 3 and len(page["results"]) == 1 and page["next"]

    rollup = client.get(base + "&rollup=1").json()
    rows = {row["name"]: row for row in rollup["results"]}
    assert set(rows) == {district.branch_a.name, district.branch_b.name}
    branch_a = rows[district.branch_a.name]
    assert branch_a["is_self"] is False
    totals = {t["kind"]: t for t in branch_a["totals"]}
    # Branch A and its group are summed; the branch's own cells come along.
    assert (totals["theme_day"]["met"], totals["theme_day"]["overdue"]) == (3, 1)
    assert totals["group_meeting"]["orgs"] == 1
    assert {c["kind"] for c in branch_a["own"]} >= {"theme_day", "general_meeting"}
    branch_b = {t["kind"]: t for t in rows[district.branch_b.name]["totals"]}
    assert (branch_b["theme_day"]["met"], branch_b["theme_day"]["overdue"]) == (1, 3)


def test_compliance_outside_the_scope_is_not_found(district, branch_a_life):
    client = client_for(Role.SECRETARY, district.branch_a)
    assert (
        client.get(f"/api/compliance/?organization={district.branch_b.pk}&year=2026").status_code
        == 404
    )
    assert client.get("/api/compliance/?organization=999999&year=2026").status_code == 404
    assert client.get("/api/compliance/?year=2026").status_code == 400  # no organization
    this_year = client.get(f"/api/compliance/?organization={district.branch_a.pk}")
    assert this_year.status_code == 200 and this_year.json()["year"] == TODAY.year
    reversed_months = client.get(
        f"/api/compliance/?organization={district.branch_a.pk}&year=2026&month_from=5&month_to=2"
    )
    assert reversed_months.status_code == 400
    member = client_for(Role.MEMBER, district.branch_a)
    assert (
        member.get(f"/api/compliance/?organization={district.branch_a.pk}&year=2026").status_code
        == 404
    )


def test_login_is_required(district):
    anonymous = APIClient()
    assert anonymous.get("/api/meetings/").status_code == 401
    assert anonymous.post("/api/meetings/", {}, format="json").status_code == 401
    assert (
        anonymous.get(f"/api/compliance/?organization={district.root.pk}&year=2026").status_code
        == 401
    )


def test_the_schema_documents_the_endpoints(db):
    from django.core.management import call_command

    call_command("spectacular", "--fail-on-warn", "--file", "/dev/null")


def test_reads_take_a_fixed_number_of_queries(
    district, branch_a_life, django_assert_max_num_queries
):
    client = client_for(Role.COMMITTEE_ADMIN, district.street)
    base = f"/api/compliance/?organization={district.community.pk}&year=2026"
    # Authentication, scope, settings, organizations, one aggregate per requirement.
    for url in (base, base + "&rollup=1"):
        with django_assert_max_num_queries(16):
            assert client.get(url).status_code == 200
    with django_assert_max_num_queries(5):
        assert client.get("/api/meetings/").status_code == 200
    detail = f"/api/meetings/{Meeting.objects.first().pk}/"
    with django_assert_max_num_queries(5):
        assert client.get(detail).status_code == 200
