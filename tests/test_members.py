"""The member roster: ID numbers per GB 11643, kept encrypted and masked; the record's rules;
scope; paging; no lost updates; the member flags."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from dangjian.accounts.roles import Role
from dangjian.audit.models import AuditEvent
from dangjian.core.flags import FLAGS, FlagContext
from dangjian.members import idnumber
from dangjian.members.models import Member
from dangjian.organizations.models import CommitteeMember, Organization
from dangjian.rules.registry import RuleBook

from .factories import UserFactory, grant, make_member, valid_id_number

# Examples printed in GB 11643-1999 and widely used test numbers.
GOOD = ["11010519491231002X", "11010519491231002x"]
BAD = {
    "110105194912310021": "checksum",  # last character wrong
    "11010519491331002X": "birth_date",  # month 13
    "99010519491231002X": "region",  # no such province
    "1101051949123100": "length",
    "1101051949123100AX": "format",
}


@pytest.mark.parametrize("number", GOOD)
def test_known_good_numbers_pass_and_x_is_stored_upper_case(number):
    parsed = idnumber.parse(number)
    assert parsed.value == number.upper()
    assert parsed.value.endswith(number[-1].upper())


def test_the_number_gives_birth_date_and_gender():
    parsed = idnumber.parse("11010519491231002X")
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.gender == "female"  # the 17th digit, 2, is even


def test_the_standards_second_example_checks_but_its_1880_birth_is_implausible():
    assert idnumber.check_character("44052418800101001") == "4"
    with pytest.raises(ValidationError) as raised:
        idnumber.parse("440524188001010014")
    assert raised.value.code == "birth_date"


@pytest.mark.parametrize(("number", "code"), BAD.items())
def test_known_bad_numbers_are_refused_with_a_reason(number, code):
    with pytest.raises(ValidationError) as raised:
        idnumber.parse(number)
    assert raised.value.code == code


def test_a_birth_date_in_the_future_is_refused():
    first17 = "11010520991231001"
    with pytest.raises(ValidationError):
        idnumber.parse(first17 + idnumber.check_character(first17), today=date(2026, 11, 24))


def test_masking():
    assert idnumber.mask("11010519491231002X") == "110105********002X"
    assert idnumber.mask_phone("13812345678") == "138****5678"


def form_data(organization, **changes):
    birth = changes.pop("birth_date", date(1985, 3, 8))
    data = {
        "organization": organization.pk,
        "name": "李红",
        "gender": "female",
        "ethnicity": "汉族",
        "id_number": valid_id_number(birth, male=False),
        "birth_date": birth.isoformat(),
        "education": "bachelor",
        "occupation": "civil_servant",
        "joined_on": "2010-06-30",
        "full_member_on": "2011-06-30",
        "membership": "full",
        "standing": "normal",
        "category": "in_service",
        "phone": "13900001111",
    }
    data.update(changes)
    return data


def test_a_clerk_registers_a_member_and_the_number_is_encrypted_at_rest(district, login):
    clerk = login(Role.CLERK, district.branch_a)
    data = form_data(district.branch_a)
    response = clerk.post("/members/add/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    member = Member.objects.get(name="李红")
    assert member.id_number == data["id_number"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, id_hash FROM members_member WHERE id = %s", [member.pk])
        stored, hashed = cursor.fetchone()
    assert data["id_number"] not in stored
    assert hashed == idnumber.lookup_hash(data["id_number"])
    # The history keeps the number masked.
    event = AuditEvent.objects.get(object_type="members.member", action="create")
    assert event.after["id_number"] == idnumber.mask(data["id_number"])
    assert data["id_number"] not in str(event.after)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"birth_date": date(1985, 3, 8), "gender": "male"}, "gender", "性别与身份证号不一致"),
        ({"joined_on": "2001-01-01"}, "joined_on", "入党时未满十八周岁"),
        ({"full_member_on": "2009-01-01"}, "full_member_on", "转正日期不能早于入党日期"),
        ({"membership": "probationary"}, "full_member_on", "预备党员尚未转正"),
        ({"standing": "floating"}, "floating_destination", "请填写外出流向"),
    ],
)
def test_the_record_follows_the_rules(district, login, changes, field, message):
    clerk = login(Role.CLERK, district.branch_a)
    response = clerk.post("/members/add/", form_data(district.branch_a, **changes))
    page = response.content.decode()
    assert response.status_code == 200
    assert message in page
    assert 'value="李红"' in page  # what was typed stays in the form
    assert not Member.objects.exists()


def test_birth_date_must_agree_with_the_number(district, login):
    clerk = login(Role.CLERK, district.branch_a)
    data = form_data(district.branch_a)
    data["birth_date"] = "1985-03-09"
    assert "出生日期与身份证号不一致" in clerk.post("/members/add/", data).content.decode()


def test_an_id_number_is_registered_once(district, login):
    clerk = login(Role.CLERK, district.branch_a)
    data = form_data(district.branch_a)
    clerk.post("/members/add/", data)
    lower = {**data, "name": "李红二", "id_number": data["id_number"].lower()}
    response = clerk.post("/members/add/", lower)
    assert "该身份证号已登记" in response.content.decode()
    assert Member.objects.count() == 1


def test_the_roster_is_scoped_and_masked(district, login):
    own = make_member(district.branch_a, "本支部党员", phone="13700001234")
    other = make_member(district.branch_b, "兄弟支部党员")
    clerk = login(Role.CLERK, district.branch_a)
    page = clerk.get("/members/").content.decode()
    assert "本支部党员" in page and "兄弟支部党员" not in page
    assert own.id_number not in page and own.masked_id_number in page
    assert "137****1234" in page
    assert clerk.get(f"/members/{other.pk}/").status_code == 404
    assert clerk.get(f"/members/?org={district.branch_b.pk}").status_code == 404
    assert clerk.get(f"/api/members/{other.pk}/").status_code == 404
    rows = clerk.get("/api/members/").json()["results"]
    assert [r["name"] for r in rows] == ["本支部党员"]
    assert rows[0]["id_number_masked"] == own.masked_id_number
    assert "id_number" not in rows[0]


def test_a_plain_member_sees_only_their_own_record(district, login):
    client = login(Role.MEMBER, district.branch_a)
    me = make_member(district.branch_a, "我自己", user=client.user)
    make_member(district.branch_a, "同支部的人")
    assert client.get("/members/").status_code == 302  # sent to their own record
    page = client.get("/members/me/").content.decode()
    assert "我自己" in page and me.id_number not in page and me.masked_id_number in page
    # Their own number in clear on request, audited like anyone's.
    assert me.id_number in client.post(f"/members/{me.pk}/reveal/").content.decode()
    assert AuditEvent.objects.filter(action="read", object_id=str(me.pk)).count() == 1
    assert client.get(f"/members/{me.pk}/").status_code == 404  # not through the roster
    assert client.get("/api/members/").json()["results"] == []


def test_revealing_a_number_is_audited_and_limited(district, login):
    member = make_member(district.branch_a)
    secretary = login(Role.SECRETARY, district.branch_a)
    response = secretary.post(f"/members/{member.pk}/reveal/")
    assert member.id_number in response.content.decode()
    event = AuditEvent.objects.get(action="read")
    assert (event.actor, event.object_id) == (secretary.user, str(member.pk))

    auditor = login(Role.AUDIT_ADMIN, district.root)  # sees organizations, not members
    assert auditor.post(f"/members/{member.pk}/reveal/").status_code == 404


def test_the_edit_form_never_carries_the_number_in_clear(district, login):
    member = make_member(district.branch_a)
    clerk = login(Role.CLERK, district.branch_a)
    page = clerk.get(f"/members/{member.pk}/edit/").content.decode()
    assert member.id_number not in page
    assert member.masked_id_number in page


def edit_form(client, member, **changes):
    from dangjian.members.forms import MemberEditForm

    form = MemberEditForm(instance=member, initial={"version": member.version})
    data = {}
    for name in form.fields:
        value = changes.get(name, form[name].value())
        if value not in (None, False):
            data[name] = value.isoformat() if isinstance(value, date) else str(value)
    return data


def test_an_edit_keeps_the_number_and_records_the_change(district, login):
    member = make_member(district.branch_a, address="旧地址")
    clerk = login(Role.CLERK, district.branch_a)
    response = clerk.post(f"/members/{member.pk}/edit/", edit_form(clerk, member, address="新地址"))
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.address == "新地址" and member.version == 2
    assert idnumber.parse(member.id_number)  # unchanged and still valid
    page = clerk.get(f"/members/{member.pk}/").content.decode()
    assert "旧地址" in page and "新地址" in page  # the history


def test_a_second_save_on_a_stale_form_is_refused_and_keeps_what_was_typed(district, login):
    member = make_member(district.branch_a)
    first, second = login(Role.CLERK, district.branch_a), login(Role.SECRETARY, district.branch_a)
    first_data = edit_form(first, member, work_unit="区财政局")
    second_data = edit_form(second, member, work_unit="区税务局")
    assert first.post(f"/members/{member.pk}/edit/", first_data).status_code == 302
    response = second.post(f"/members/{member.pk}/edit/", second_data)
    page = response.content.decode()
    assert "保存前已有其他人修改了这条记录" in page
    assert "区财政局" in page and 'value="区税务局"' in page
    member.refresh_from_db()
    assert member.work_unit == "区财政局"


def test_filters(district, login):
    make_member(district.branch_a, "甲", birth_date=date(1990, 1, 1), gender="female")
    make_member(district.branch_a, "乙")
    make_member(
        district.branch_b,
        "丙",
        joined_on=date(2019, 7, 1),
        full_member_on=None,
        membership="probationary",
    )
    make_member(district.branch_b, "丁", standing="left")
    admin = login(Role.COMMITTEE_ADMIN, district.street)

    def names(query):
        rows = admin.get(f"/api/members/?{query}").json()["results"]
        return sorted(r["name"] for r in rows)

    assert names("") == ["丙", "乙", "甲"]  # those who left are off the roster
    assert names("standing=left") == ["丁"]
    assert names("gender=female") == ["甲"]
    assert names("age=31-40") == ["甲"]  # born 1990: 36 in 2026
    assert names("joined_year=2019") == ["丙"]
    assert names("membership=probationary") == ["丙"]
    assert names(f"org={district.community.pk}&descendants=false") == []
    assert names(f"org={district.community.pk}") == ["丙", "乙", "甲"]
    page = admin.get("/members/?gender=female").content.decode()
    assert "甲" in page and "丙" not in page
    assert admin.get("/members/count/?gender=female").content.decode() == "共 1 人"


def test_keyset_pages_cover_the_roster_once(district, login):
    for i in range(120):
        make_member(district.branch_a, f"党员{i:03d}")
    clerk = login(Role.CLERK, district.branch_a)
    seen, url = [], "/members/?sort=name"
    while url:
        response = clerk.get(url)
        page = response.context["page"]
        seen += [m.name for m in page.rows]
        url = f"/members/?sort=name&after={page.next_cursor}" if page.next_cursor else None
    assert seen == [f"党员{i:03d}" for i in range(120)]


def test_an_organization_with_members_cannot_be_dissolved(district, login):
    make_member(district.branch_b)
    admin = login(Role.COMMITTEE_ADMIN, district.street)
    response = admin.post(
        f"/orgs/{district.branch_b.pk}/dissolve/", {"dissolved_on": "2026-03-01", "reason": "调整"}
    )
    assert "该组织还有1名党员" in response.content.decode()
    assert Organization.objects.get(pk=district.branch_b.pk).dissolved_on is None


def flagged(key, root, today=date(2026, 11, 24)):
    ctx = FlagContext(Organization.objects.within(root), RuleBook(), today)
    return list(FLAGS[key].queryset(ctx))


def test_branch_over_fifty_members(district):
    for _ in range(51):
        make_member(district.branch_a)
    for _ in range(50):
        make_member(district.branch_b)
    make_member(district.branch_b, standing="left")  # off the roster: not counted
    assert [o.pk for o in flagged("oversized_branch", district.root)] == [district.branch_a.pk]


def test_branch_with_seven_full_members_needs_a_committee(district):
    for _ in range(7):
        make_member(district.branch_a)
    for _ in range(6):
        make_member(district.branch_b)
    make_member(district.branch_b, membership="probationary", full_member_on=None)
    assert [o.pk for o in flagged("branch_without_committee", district.root)] == [
        district.branch_a.pk
    ]
    for post in ("organization", "propaganda", "discipline"):
        CommitteeMember.objects.create(organization=district.branch_a, post=post, name="委员")
    assert flagged("branch_without_committee", district.root) == []


def test_lost_contact_for_six_months_is_flagged(district):
    make_member(district.branch_a, "六个月", lost_contact_since=date(2026, 5, 24))
    make_member(district.branch_a, "五个月", lost_contact_since=date(2026, 6, 25))
    make_member(
        district.branch_a,
        "已认定失联",
        standing="lost_contact",
        lost_contact_since=date(2025, 1, 1),
    )
    make_member(district.branch_a, "出党者", standing="left", lost_contact_since=date(2020, 1, 1))
    assert sorted(m.name for m in flagged("lost_contact_member", district.root)) == [
        "六个月",
        "已认定失联",
    ]


def test_floating_members_are_flagged(district):
    make_member(district.branch_a, "外出务工", standing="floating", floating_destination="深圳")
    make_member(district.branch_a, "在家")
    assert [m.name for m in flagged("floating_member", district.root)] == ["外出务工"]


def test_the_members_api_creates_and_updates_with_the_same_rules(district):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    user = UserFactory()
    grant(user, district.branch_a, Role.CLERK)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    data = form_data(district.branch_a)
    bad = api.post("/api/members/", {**data, "joined_on": "2001-01-01"}, format="json")
    assert bad.status_code == 400 and "joined_on" in bad.json()
    created = api.post("/api/members/", data, format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["id_number_masked"] == idnumber.mask(data["id_number"])
    updated = api.patch(f"/api/members/{pk}/", {"address": "新址", "version": 1}, format="json")
    assert updated.status_code == 200 and updated.json()["version"] == 2
    moved = api.patch(
        f"/api/members/{pk}/", {"organization": district.branch_b.pk, "version": 2}, format="json"
    )
    assert moved.status_code == 400  # outside the scope, and a move is a transfer anyway
    assert api.post(f"/api/members/{pk}/reveal/").json()["id_number"] == data["id_number"]


def test_abandoned_uploads_are_purged(district):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    from dangjian.members.models import ImportBatch

    user = UserFactory()
    old = ImportBatch.objects.create(created_by=user, filename="旧.xlsx", content=b"x", sha256="a")
    fresh = ImportBatch.objects.create(
        created_by=user, filename="新.xlsx", content=b"x", sha256="b"
    )
    done = ImportBatch.objects.create(
        created_by=user, filename="已导入.xlsx", content=b"", sha256="c", status="applied"
    )
    ImportBatch.objects.filter(pk__in=[old.pk, done.pk]).update(
        updated_at=timezone.now() - timedelta(days=8)
    )
    call_command("purge_imports", days=7)
    assert set(ImportBatch.objects.values_list("pk", flat=True)) == {fresh.pk, done.pk}


def test_posts_rewards_family_hardship_and_travel_are_kept_on_the_record(district, login):
    member = make_member(district.branch_a, "记录齐全")
    clerk = login(Role.CLERK, district.branch_a)
    entries = {
        "posts": {
            "organization_name": "和平社区党委",
            "post": "组织委员",
            "started_on": "2021-01-01",
        },
        "rewards": {"kind": "reward", "title": "优秀共产党员", "decided_on": "2021-06-30"},
        "family": {"relation": "配偶", "name": "张某", "political_status": "群众"},
        "hardships": {"kind": "大病", "since": "2025-03-01"},
        "travels": {"destination": "新加坡", "reason": "探亲", "left_on": "2024-02-01"},
    }
    for kind, data in entries.items():
        response = clerk.post(f"/members/{member.pk}/{kind}/add/", data)
        assert response.status_code == 302, (kind, response.content.decode()[:1500])
    page = clerk.get(f"/members/{member.pk}/").content.decode()
    for text in ("组织委员", "优秀共产党员", "配偶", "大病", "新加坡"):
        assert text in page
    # A required field missing keeps the form with its message and what was typed.
    response = clerk.post(f"/members/{member.pk}/travels/add/", {"destination": "日本"})
    assert response.status_code == 200 and 'value="日本"' in response.content.decode()

    row = member.travels.get()
    clerk.post(f"/members/{member.pk}/travels/{row.pk}/remove/")
    assert not member.travels.exists()
    assert AuditEvent.objects.filter(object_id=str(member.pk), action="delete").exists()

    other = login(Role.CLERK, district.branch_b)
    assert other.post(f"/members/{member.pk}/posts/add/", entries["posts"]).status_code == 404
    assert other.get(f"/members/{member.pk}/unknown/add/").status_code == 404


def test_a_bad_filter_value_drops_only_itself(district, login):
    make_member(district.branch_a, "甲")
    make_member(district.branch_b, "乙")
    admin = login(Role.COMMITTEE_ADMIN, district.street)
    count = admin.get(f"/members/count/?org={district.branch_a.pk}&joined_year=abc&age=x")
    assert count.content.decode() == "共 1 人"
    assert admin.get("/members/?org=abc").status_code == 404
    export = admin.get(f"/members/export.xlsx?org={district.branch_a.pk}&joined_year=abc")
    assert export.status_code == 200
    from dangjian.members.api import MemberViewSet  # noqa: F401  (the API refuses instead)

    api = admin.get(f"/api/members/?org={district.branch_a.pk}&age=bogus")
    assert api.status_code == 400


def test_a_duplicate_number_outside_the_scope_does_not_name_the_organization(district, login):
    elsewhere = make_member(district.organ_branch, "机关党员")
    clerk = login(Role.CLERK, district.branch_a)
    data = form_data(district.branch_a, id_number=elsewhere.id_number)
    data["birth_date"] = elsewhere.birth_date.isoformat()
    data["gender"] = elsewhere.gender
    page = clerk.post("/members/add/", data).content.decode()
    assert "该身份证号已在系统内登记" in page
    assert district.organ_branch.name not in page


def test_after_a_stale_refusal_the_reviewed_form_saves(district, login):
    member = make_member(district.branch_a)
    first, second = login(Role.CLERK, district.branch_a), login(Role.SECRETARY, district.branch_a)
    stale_form = edit_form(second, member, work_unit="区税务局")
    first.post(f"/members/{member.pk}/edit/", edit_form(first, member, work_unit="区财政局"))
    refused = second.post(f"/members/{member.pk}/edit/", stale_form)
    assert refused.context["form"]["version"].value() == "2"
    resubmitted = {**stale_form, "version": "2"}
    assert second.post(f"/members/{member.pk}/edit/", resubmitted).status_code == 302
    member.refresh_from_db()
    assert member.work_unit == "区税务局"


def test_the_api_sorts_and_shows_history(district, login):
    make_member(
        district.branch_a, "早", joined_on=date(2001, 1, 1), full_member_on=date(2002, 1, 1)
    )
    make_member(
        district.branch_a, "晚", joined_on=date(2020, 1, 1), full_member_on=date(2021, 1, 1)
    )
    clerk = login(Role.CLERK, district.branch_a)
    rows = clerk.get("/api/members/?sort=-joined_on").json()["results"]
    assert [r["name"] for r in rows] == ["晚", "早"]
    member = Member.objects.get(name="晚")
    clerk.post(f"/members/{member.pk}/edit/", edit_form(clerk, member, address="新地址"))
    history = clerk.get(f"/api/members/{member.pk}/history/").json()
    assert history[0]["action"] == "update" and history[0]["after"]["address"] == "新地址"
