"""The member development pages through real requests: a clerk opens an application and
records the first steps, the higher committee records its own, a bad date comes back with its
citation and what was typed, scope hides other subtrees, the pipeline's numbers, the Excel
summaries."""

from datetime import date
from io import BytesIO

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from dangjian.accounts.roles import Role
from dangjian.development import rules, services
from dangjian.development.models import DevelopmentRecord, Outcome, Participant
from dangjian.development.steps import Stage

from .factories import UserFactory, grant, make_member, valid_id_number
from .test_development import BIRTH, application, happy_path, walk


@pytest.fixture
def voters(district):
    """Nine full members on branch A's roster: contacts, sponsors and the meeting's voters."""
    return [make_member(district.branch_a, f"党员{i}") for i in range(9)]


@pytest.fixture
def clerk(district, login):
    return login(Role.CLERK, district.branch_a)


@pytest.fixture
def committee(district, login):
    """The higher committee (和平社区党委) that files, pre-reviews and approves."""
    return login(Role.COMMITTEE_ADMIN, district.community)


@pytest.fixture
def actors(district):
    """Users for building records through the services directly."""
    clerk, committee = UserFactory(), UserFactory()
    grant(clerk, district.branch_a, Role.CLERK)
    grant(committee, district.community, Role.COMMITTEE_ADMIN)
    return clerk, committee


def applied(actors, district, **changes):
    return services.open_record(actors[0], district.branch_a, application(**changes))


def walked(actors, district, voters, until, **changes):
    record = applied(actors, district, **changes)
    return walk(record, happy_path(voters, district), *actors, until=until)


def form_data(**fields) -> dict:
    return {key: "" if value is None else str(value) for key, value in fields.items()}


def post_step(client, record, number, **fields):
    record.refresh_from_db()
    data = form_data(number=number, version=record.version, **fields)
    return client.post(f"/development/records/{record.pk}/step/", data)


def page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_a_clerk_opens_an_application_and_records_steps_2_to_5(district, clerk, committee, voters):
    assert 'href="/development/"' in page(clerk, "/")  # the menu entry
    assert "登记入党申请" in page(clerk, f"/development/org/{district.branch_a.pk}/")
    page(clerk, f"/development/org/{district.branch_a.pk}/records/new/")
    response = clerk.post(
        f"/development/org/{district.branch_a.pk}/records/new/",
        form_data(
            name="李申请",
            gender="female",
            ethnicity="汉族",
            id_number=valid_id_number(BIRTH, male=False),
            birth_date="",  # taken from the ID number
            education="bachelor",
            occupation="enterprise_staff",
            work_unit="某某科技公司",
            phone="13812345678",
            date="2023-03-01",
        ),
    )
    record = DevelopmentRecord.objects.get(name="李申请")
    assert response.status_code == 302 and response["Location"] == record.get_absolute_url()
    assert (record.step, record.stage, record.birth_date) == (1, Stage.APPLICANT, BIRTH)

    html = page(clerk, record.get_absolute_url())
    assert "下一步：2. 党组织派人谈话" in html
    assert "********" in html and record.id_number not in html  # the ID number masked
    assert "谈话人" in html and 'name="entitled"' not in html  # only the talk's fields

    # 2: the talk, with the talkers' names
    response = post_step(clerk, record, 2, date="2023-03-20", people="王组织委员、赵委员")
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.step == 2 and record.talked_on == date(2023, 3, 20)
    assert list(Participant.objects.filter(record=record).values_list("name", flat=True)) == [
        "王组织委员",
        "赵委员",
    ]
    # 3: the branch committee decides on the activist
    assert post_step(clerk, record, 3, date="2023-05-10", note="支委会研究确定").status_code == 302

    # 4 is the higher committee's: the clerk sees who is to do it, and may not do it
    html = page(clerk, record.get_absolute_url())
    assert "待上级党委办理" in html and 'name="number"' not in html
    assert post_step(clerk, record, 4, date="2023-05-20").status_code == 403
    html = page(committee, record.get_absolute_url())
    assert 'name="number" value="4"' in html
    assert post_step(committee, record, 4, date="2023-05-20").status_code == 302

    # 5: contacts picked from the roster
    html = page(clerk, record.get_absolute_url())
    assert 'name="people_1"' in html and 'name="people_2"' in html and voters[0].name in html
    response = post_step(
        clerk, record, 5, date="2023-05-20", people_1=voters[0].pk, people_2=voters[1].pk
    )
    assert response.status_code == 302
    record.refresh_from_db()
    assert (record.step, record.stage) == (5, Stage.ACTIVIST)
    contacts = Participant.objects.filter(record=record, role="contact")
    assert {p.member for p in contacts} == {voters[0], voters[1]}

    html = page(clerk, record.get_absolute_url())
    assert "下一步：6. 培养教育考察" in html
    assert "2023-03-20" in html and "王组织委员、赵委员" in html  # the timeline
    assert f"培养联系人：{voters[0].name}、{voters[1].name}" in html
    assert "考察意见" in html  # step 6 records the first assessment


def test_a_bad_date_is_refused_with_its_citation_and_what_was_typed_kept(district, clerk, actors):
    record = applied(actors, district)
    response = post_step(clerk, record, 2, date="2023-04-02", people="王组织委员")
    assert response.status_code == 200
    html = response.content.decode()
    assert str(rules.TALK_WITHIN_MONTHS.citation) in html
    assert "2023-04-01前" in html
    assert 'value="2023-04-02"' in html and 'value="王组织委员"' in html
    record.refresh_from_db()
    assert record.step == 1

    # an applicant under eighteen: the application form keeps what was typed
    birth = date(2008, 6, 1)
    response = clerk.post(
        f"/development/org/{district.branch_a.pk}/records/new/",
        form_data(
            name="王少年",
            gender="male",
            ethnicity="汉族",
            id_number=valid_id_number(birth),
            education="high_school",
            occupation="student",
            date="2026-05-31",
        ),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert str(rules.MINIMUM_AGE.citation) in html and 'value="王少年"' in html
    assert not DevelopmentRecord.objects.filter(name="王少年").exists()


def test_a_vote_offers_the_branch_full_members_and_placement_the_groups(
    district, clerk, committee, actors, voters
):
    record = walked(actors, district, voters, until=14)
    html = page(clerk, record.get_absolute_url())
    assert 'name="entitled"' in html and 'value="9"' in html  # nine full members today
    assert 'id="entitled-hint"' in html and "正式党员 9 名" in html
    # the hint follows the meeting's date (htmx): nobody was a full member in 2000
    hint = page(clerk, f"/development/records/{record.pk}/entitled/?date=2000-01-01")
    assert "正式党员 0 名" in hint

    # a vote short of a quorum comes back with its citation
    response = post_step(clerk, record, 15, date="2024-09-01", entitled=9, present=4, in_favour=4)
    assert response.status_code == 200
    assert str(rules.QUORUM.citation) in response.content.decode()
    record = walk(record, happy_path(voters, district), *actors, until=18)
    html = page(clerk, record.get_absolute_url())
    assert 'name="party_group"' in html and district.group_a.name in html
    response = post_step(clerk, record, 19, date="2024-11-25", party_group=district.group_a.pk)
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.member.party_group == district.group_a
    # the member's roster page links back to the record
    assert record.get_absolute_url() in page(clerk, f"/members/{record.member.pk}/")
    # the committee may extend the probation, the clerk may not
    assert "延长预备期" in page(committee, record.get_absolute_url())
    extend_url = f"/development/records/{record.pk}/extend/"
    assert extend_url in page(committee, record.get_absolute_url())
    assert extend_url not in page(clerk, record.get_absolute_url())


def test_the_branch_stops_an_applicant_and_adds_papers_and_assessments(
    district, clerk, actors, voters
):
    record = walked(actors, district, voters, until=6)
    response = clerk.post(
        f"/development/records/{record.pk}/assessments/",
        {"date": "2024-05-10", "summary": "第二次半年考察：合格"},
    )
    assert response.status_code == 302
    assert record.assessments.count() == 2
    response = clerk.post(
        f"/development/records/{record.pk}/documents/",
        {"kind": "thought_report", "date": "2024-05-01", "title": "第一季度思想汇报"},
    )
    assert response.status_code == 302
    html = page(clerk, record.get_absolute_url())
    assert "第二次半年考察：合格" in html and "第一季度思想汇报" in html
    # no reason: refused, the date kept
    response = clerk.post(f"/development/records/{record.pk}/close/", {"date": "2024-06-01"})
    assert response.status_code == 200 and 'value="2024-06-01"' in response.content.decode()
    response = clerk.post(
        f"/development/records/{record.pk}/close/", {"date": "2024-06-01", "reason": "本人申请"}
    )
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.outcome == Outcome.STOPPED


def test_records_and_pipelines_out_of_scope_are_404(district, login, actors):
    record = applied(actors, district)
    other = login(Role.CLERK, district.branch_b)
    for url in (
        record.get_absolute_url(),
        f"/development/records/{record.pk}/entitled/",
        f"/development/org/{district.branch_a.pk}/",
        f"/development/org/{district.community.pk}/",
        f"/development/org/{district.branch_a.pk}/records/",
        f"/development/org/{district.branch_a.pk}/records/new/",
        f"/development/org/{district.branch_a.pk}/candidates.xlsx",
        f"/development/org/{district.branch_a.pk}/conversions.xlsx",
    ):
        assert other.get(url).status_code == 404, url
    for url in ("step", "assessments", "documents", "extend", "close"):
        assert other.post(f"/development/records/{record.pk}/{url}/", {}).status_code == 404
    # the user's own pipeline is where "发展党员" leads
    response = other.get("/development/")
    assert response["Location"] == f"/development/org/{district.branch_b.pk}/"
    # a member sees no development pages at all
    member = login(Role.MEMBER, district.branch_a)
    assert member.get("/development/").status_code == 404
    assert member.get(record.get_absolute_url()).status_code == 404
    assert 'href="/development/"' not in page(member, "/")


def test_pipeline_numbers_drill_down_and_lists(district, login, actors, voters):
    applicant = applied(actors, district, name="甲申请")
    walked(actors, district, voters, until=3, name="乙积极")
    probationary = walked(actors, district, voters, until=20, name="丙预备")
    clerk_b = UserFactory()
    grant(clerk_b, district.branch_b, Role.CLERK)
    services.open_record(clerk_b, district.branch_b, application(name="丁申请"))
    DevelopmentRecord.objects.filter(pk=probationary.pk).update(admitted_on=timezone.localdate())
    top = login(Role.COMMITTEE_ADMIN, district.root)
    response = top.get("/development/")
    assert response["Location"] == f"/development/org/{district.root.pk}/"

    response = top.get(f"/development/org/{district.community.pk}/")
    rows = {row["org"]: row for row in response.context["rows"]}
    counts = [n for n, _url in rows[district.branch_a]["cells"]]
    assert counts == [1, 1, 0, 1] and rows[district.branch_a]["total"] == 3
    assert rows[district.branch_a]["admitted"] == 1
    assert [n for n, _url in rows[district.branch_b]["cells"]] == [1, 0, 0, 0]
    totals = response.context["totals"]
    assert totals["total"] == 4 and [n for n, _url in totals["cells"]] == [2, 1, 0, 1]
    html = response.content.decode()
    # each child drills down, each count opens its list
    assert f'href="/development/org/{district.branch_a.pk}/"' in html
    applicants_url = rows[district.branch_a]["cells"][0][1]
    assert f'href="{applicants_url.replace("&", "&amp;")}"' in html
    # the overdue: everyone's talk was due a month after applying in 2023
    overdue = {item.record for item in response.context["overdue"]}
    assert applicant in overdue
    assert str(rules.TALK_WITHIN_MONTHS.citation) in html and "甲申请" in html

    listed = page(top, applicants_url)
    assert "甲申请" in listed and "乙积极" not in listed and "丁申请" not in listed
    everyone = page(top, f"/development/org/{district.community.pk}/records/?outcome=open")
    assert all(name in everyone for name in ("甲申请", "乙积极", "丙预备", "丁申请"))
    found = page(top, f"/development/org/{district.community.pk}/records/?q=丙")
    assert "丙预备" in found and "甲申请" not in found

    # from the district, both branches are summed into the street
    response = top.get(f"/development/org/{district.root.pk}/")
    rows = {row["org"]: row for row in response.context["rows"]}
    assert rows[district.street]["total"] == 4 and rows[district.organs]["total"] == 0


def sheet_rows(response) -> list[tuple]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(BytesIO(b"".join(response.streaming_content)))
    return list(workbook.worksheets[0].iter_rows(values_only=True))


def test_excel_summaries_of_candidates_and_conversions(district, login, actors, voters):
    candidate = walked(actors, district, voters, until=11, name="甲对象")
    walked(actors, district, voters, until=3, name="乙积极")
    walked(actors, district, voters, until=20, name="丙预备")
    committee = login(Role.COMMITTEE_ADMIN, district.community)
    html = page(committee, f"/development/org/{district.community.pk}/")
    assert "candidates.xlsx" in html and "conversions.xlsx" in html

    rows = sheet_rows(committee.get(f"/development/org/{district.community.pk}/candidates.xlsx"))
    assert "拟发展对象" in rows[0][0]
    header, data = rows[1], rows[2:]
    assert header[:4] == ("序号", "姓名", "性别", "出生日期") and "入党介绍人" in header
    assert len(data) == 1
    line = dict(zip(header, data[0], strict=True))
    assert line["姓名"] == "甲对象" and line["性别"] == "女"
    assert line["出生日期"].date() == BIRTH
    assert line["确定为发展对象日期"].date() == candidate.candidate_on
    assert line["入党介绍人"] == f"{voters[0].name}、{voters[1].name}"
    assert line["政治审查"] == "合格（2024-07-01）"
    assert line["集中培训"] == "3天、24学时（2024-07-10）"
    assert line["所在党支部"] == district.branch_a.name

    url = f"/development/org/{district.community.pk}/conversions.xlsx"
    rows = sheet_rows(committee.get(url, {"until": "2025-12-31"}))
    header, data = rows[1], rows[2:]
    assert len(data) == 1
    line = dict(zip(header, data[0], strict=True))
    assert line["姓名"] == "丙预备"
    assert line["支部大会接收日期"].date() == date(2024, 9, 1)
    assert line["预备期满日期"].date() == date(2025, 9, 1)
    assert line["延长预备期"] == "否" and line["状态"] == "已期满，待支部大会讨论"
    # a window that closes before the probation ends leaves them out
    assert sheet_rows(committee.get(url, {"until": "2025-08-31"}))[2:] == []
    # a branch's export covers that branch only
    rows = sheet_rows(committee.get(f"/development/org/{district.branch_b.pk}/candidates.xlsx"))
    assert rows[2:] == []


def test_a_large_subtree_lists_the_branch_own_members_and_finds_the_others(
    district, clerk, actors, voters, monkeypatch
):
    from dangjian.development import forms

    monkeypatch.setattr(forms, "PICKER_LIMIT", 5)  # the community has more eligible members
    neighbour = make_member(district.branch_b, "邻支部党员")
    record = walked(actors, district, voters, until=4)
    html = page(clerk, record.get_absolute_url())
    assert voters[0].name in html and "邻支部党员" not in html
    assert f"/development/records/{record.pk}/members/?field=people_1" in html
    found = page(
        clerk,
        f"/development/records/{record.pk}/members/?field=people_1&q=邻支部&people_1={voters[0].pk}",
    )
    assert f'<option value="{neighbour.pk}">' in found
    assert f'<option value="{voters[0].pk}" selected>' in found
    # any eligible member of the parent subtree is accepted, listed or not
    response = post_step(
        clerk, record, 5, date="2023-05-20", people_1=neighbour.pk, people_2=voters[0].pk
    )
    assert response.status_code == 302
    assert {p.member for p in Participant.objects.filter(record=record, role="contact")} == {
        neighbour,
        voters[0],
    }
