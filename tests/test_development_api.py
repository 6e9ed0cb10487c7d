"""The member development API over HTTP: records walked step by step, refusals with their
citations, scope, the pipeline, and the schema."""

from datetime import date

import pytest
import yaml
from rest_framework.test import APIClient

from dangjian.accounts.roles import Role
from dangjian.core.flags import FLAGS
from dangjian.development import rules, services, steps
from dangjian.development.models import DevelopmentRecord
from dangjian.members.models import Member

from .factories import (
    api_client_for,
    freeze_localdate,
    make_member,
    valid_id_number,
)
from .test_development import application, happy_path

TODAY = date(2026, 11, 24)
RECORDS = "/api/development/records/"


@pytest.fixture(autouse=True)
def no_second_factor(settings):
    settings.OTP_REQUIRED_ROLES = []


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    """Today is 24 November 2026 for the API and the services alike."""
    return freeze_localdate(monkeypatch, TODAY)


client_for = api_client_for


@pytest.fixture
def clerk(district):
    return client_for(Role.CLERK, district.branch_a)


@pytest.fixture
def committee(district):
    """The higher committee (和平社区党委): files, pre-reviews and approves for branch A."""
    return client_for(Role.COMMITTEE_ADMIN, district.community)


@pytest.fixture
def voters(district):
    return [make_member(district.branch_a, f"党员{i}") for i in range(9)]


def as_json(data: dict) -> dict:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in data.items()}


def url(record_id, what="") -> str:
    return f"{RECORDS}{record_id}/" + (f"{what}/" if what else "")


def cites(response, rule) -> str:
    """A refusal for ``rule``: 400, the message ending with the rule's citation."""
    assert response.status_code == 400, response.content
    body = response.json()
    # the same shape as the other APIs' refusals by a rule: the message and its citation
    assert body["code"] == "rule" and body["citation"] == str(rule.citation), body
    assert "依据" in body["detail"]
    return body["detail"]


class Walker:
    """Posts the happy path's steps, each by whoever may record it, checking the version."""

    def __init__(self, record_id, path, clerk, committee):
        self.id, self.path, self.clerk, self.committee = record_id, path, clerk, committee
        self.version = 1

    def client(self, number):
        return self.committee if steps.BY_NUMBER[number].by_higher_committee else self.clerk

    def post(self, number, **changes):
        data = {**as_json(self.path[number]), **changes, "number": number}
        data.setdefault("version", self.version)
        return self.client(number).post(url(self.id, "steps"), data, format="json")

    def step(self, number, **changes):
        response = self.post(number, **changes)
        assert response.status_code == 201, (number, response.content)
        body = response.json()
        assert body["step"] == number and body["version"] == self.version + 1
        self.version = body["version"]
        return body

    def through(self, last):
        body = None
        while self.version < last:  # version n+1 after step n+1 (none but steps change it)
            body = self.step(self.version + 1)
        return body


def open_via_api(client, organization, **changes) -> dict:
    data = as_json(application(**changes))
    response = client.post(RECORDS, {**data, "organization": organization.pk}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_a_record_is_walked_through_all_steps_over_http(district, clerk, committee, voters):
    path = happy_path(voters, district)
    id_number = application()["id_number"]
    response = clerk.post(
        RECORDS,
        {**as_json(application(id_number=id_number)), "organization": district.branch_a.pk},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["stage"], body["step"], body["version"]) == ("applicant", 1, 1)
    # the ID number is written in clear and only ever read back masked
    assert id_number not in response.content.decode()
    assert "id_number" not in body
    assert body["id_number_masked"] == id_number[:6] + "********" + id_number[-4:]
    assert body["next_step"]["number"] == 2 and body["next_step"]["due_on"] == "2023-04-01"
    assert str(rules.TALK_WITHIN_MONTHS.citation) == body["next_step"]["citation"]
    walker = Walker(body["id"], path, clerk, committee)

    # 2: the talk later than a month after the application is refused, with the citation
    late = walker.post(2, date="2023-04-02")
    message = cites(late, rules.TALK_WITHIN_MONTHS)
    assert "2023-04-01" in message
    # a stale version is a conflict; nothing was recorded
    assert walker.post(2, version=7).status_code == 409
    assert walker.post(3).status_code == 400  # steps go in order
    walker.through(3)

    # 4 is the higher committee's: the branch's clerk is refused
    refused = clerk.post(
        url(walker.id, "steps"),
        {**as_json(path[4]), "number": 4, "version": walker.version},
        format="json",
    )
    assert refused.status_code == 403
    assert "上级党委" in refused.json()["detail"]
    walker.through(6)

    # 7 needs an assessment every half year: the second one is added first
    cites(walker.post(7), rules.ASSESSMENT_INTERVAL_MONTHS)
    added = clerk.post(
        url(walker.id, "assessments"),
        {"date": "2024-05-10", "summary": "第二次半年考察：合格"},
        format="json",
    )
    assert added.status_code == 201, added.content
    assert [a["stage"] for a in added.json()["assessments"]] == ["activist", "activist"]
    walker.through(10)
    cites(walker.post(11, training_days="2", training_hours="16"), rules.TRAINING_MINIMUM_DAYS)
    walker.through(14)
    cites(walker.post(15, present=4, in_favour=4), rules.QUORUM)
    body = walker.through(16)
    assert body["next_step"]["number"] == 17
    assert body["next_step"]["due_on"] == "2024-12-01"  # three months after 1 Sept
    assert body["next_step"]["by_higher_committee"] is True

    # 17: three months and a day after the branch meeting, only with the special reason
    message = cites(walker.post(17, date="2024-12-02"), rules.APPROVAL_MONTHS)
    assert "2024-09-01" in message
    body = walker.step(17, date="2024-12-02", delay_reason="基层党委换届")
    assert body["stage"] == "probationary" and body["approved_on"] == "2024-12-02"
    member = Member.objects.get(pk=body["member"])
    assert (member.organization, member.membership) == (district.branch_a, "probationary")

    # 18–25: placed in the branch's group, through to full membership
    for number, day in ((18, 3), (19, 4), (20, 5)):
        walker.path[number] = {**path[number], "date": date(2024, 12, day)}
    walker.through(22)
    cites(walker.post(23, date="2025-08-20"), rules.PROBATION_MONTHS)
    body = walker.through(25)
    assert (body["stage"], body["outcome"], body["next_step"]) == ("full", "completed", None)

    detail = clerk.get(url(walker.id))
    assert detail.status_code == 200
    body = detail.json()
    assert id_number not in detail.content.decode()
    by_number = {s["number"]: s for s in body["steps"]}
    assert sorted(by_number) == list(range(1, 26))
    assert by_number[5]["label"] == "指定培养联系人"
    assert [(p["role"], p["member"]) for p in by_number[5]["people"]] == [
        ("contact", voters[0].pk),
        ("contact", voters[1].pk),
    ]
    assert [p["name"] for p in by_number[2]["people"]] == ["王组织委员"]
    assert (by_number[15]["entitled"], by_number[15]["present"], by_number[15]["in_favour"]) == (
        9,
        6,
        5,
    )
    assert by_number[11]["training_days"] == "3.0"
    assert (by_number[13]["notice_start"], by_number[13]["notice_end"]) == (
        "2024-08-02",
        "2024-08-08",
    )
    assert by_number[10]["passed"] is True and by_number[12]["passed"] is None
    assert by_number[17]["delay_reason"] == "基层党委换届"
    assert by_number[17]["recorded_by_name"] == str(committee.user)
    kinds = {d["kind"] for d in body["documents"]}
    assert {"application", "political_review", "training_certificate", "volunteer_form"} <= kinds
    assert len(body["assessments"]) == 3
    member.refresh_from_db()
    assert member.membership == "full" and member.party_group == district.group_a


def test_create_is_checked_by_the_service(district, clerk, committee):
    outside = clerk.post(
        RECORDS, {**as_json(application()), "organization": district.branch_b.pk}, format="json"
    )
    assert outside.status_code == 400 and "organization" in outside.json()
    young = date(2010, 1, 1)
    minor = clerk.post(
        RECORDS,
        {
            **as_json(application(birth_date=young, id_number=valid_id_number(young, False))),
            "organization": district.branch_a.pk,
        },
        format="json",
    )
    cites(minor, rules.MINIMUM_AGE)
    valid = application()["id_number"]
    wrong_check = valid[:-1] + ("1" if valid[-1] == "0" else "0")
    bad_id = clerk.post(
        RECORDS,
        {
            **as_json(application(id_number=wrong_check)),
            "organization": district.branch_a.pk,
        },
        format="json",
    )
    assert bad_id.status_code == 400 and "id_number" in bad_id.json()
    not_a_branch = committee.post(
        RECORDS, {**as_json(application()), "organization": district.community.pk}, format="json"
    )
    assert not_a_branch.status_code == 400 and "不是发展党员的党支部" in not_a_branch.json()[0]
    # a member may see the branch but not record development
    member = client_for(Role.MEMBER, district.branch_a)
    assert (
        member.post(
            RECORDS, {**as_json(application()), "organization": district.branch_a.pk}, format="json"
        ).status_code
        == 400  # the branch is not in a member's development scope at all
    )
    assert not DevelopmentRecord.objects.exists()


def test_scope_other_branches_and_roles(district, clerk, committee, voters):
    record = open_via_api(clerk, district.branch_a)
    other = client_for(Role.CLERK, district.branch_b)
    open_via_api(other, district.branch_b, name="二支部申请人")

    def names(client, query=""):
        response = client.get(RECORDS + query)
        assert response.status_code == 200, response.content
        return sorted(r["name"] for r in response.json()["results"])

    assert names(clerk) == ["李申请"]
    assert names(other) == ["二支部申请人"]
    assert names(committee) == ["二支部申请人", "李申请"]
    assert names(other, f"?organization={district.branch_a.pk}") == []
    assert names(client_for(Role.MEMBER, district.branch_a)) == []

    # another branch's clerk does not find the record, to read or to write
    assert other.get(url(record["id"])).status_code == 404
    step2 = {"number": 2, "date": "2023-03-20", "people": ["王"], "version": 1}
    assert other.post(url(record["id"], "steps"), step2, format="json").status_code == 404
    for what, data in (
        ("assessments", {"date": "2023-05-01", "summary": "x"}),
        ("documents", {"kind": "other", "date": "2023-05-01"}),
        ("extend", {"months": 6, "date": "2025-09-05", "reason": "x"}),
        ("close", {"date": "2023-05-01", "reason": "x"}),
    ):
        assert other.post(url(record["id"], what), data, format="json").status_code == 404

    # the clerk's branch is under the community: its steps are the clerk's, not the filing
    assert clerk.post(url(record["id"], "steps"), step2, format="json").status_code == 201
    step3 = {"number": 3, "date": "2023-05-10", "version": 2}
    assert clerk.post(url(record["id"], "steps"), step3, format="json").status_code == 201
    step4 = {"number": 4, "date": "2023-05-20", "version": 3}
    assert clerk.post(url(record["id"], "steps"), step4, format="json").status_code == 403
    assert committee.post(url(record["id"], "steps"), step4, format="json").status_code == 201

    anonymous = APIClient()
    assert anonymous.get(RECORDS).status_code == 401
    assert anonymous.get(url(record["id"])).status_code == 401


def test_list_filters(district, clerk, committee, voters):
    path = happy_path(voters, district)
    applicant = services.open_record(clerk.user, district.branch_a, application(), TODAY)
    activist = services.open_record(clerk.user, district.branch_a, application(name="甲"), TODAY)
    for number in (2, 3):
        services.record_step(clerk.user, activist, number, path[number], TODAY)
    # applied last week: the talk is not due before 20 December
    fresh = services.open_record(
        clerk.user, district.branch_a, application(name="乙", date=date(2026, 11, 20)), TODAY
    )
    stopped = services.open_record(clerk.user, district.branch_a, application(name="丙"), TODAY)
    services.close_record(clerk.user, stopped, date(2023, 4, 1), "本人申请撤回")
    other = client_for(Role.CLERK, district.branch_b)
    services.open_record(other.user, district.branch_b, application(name="丁"), TODAY)

    def ids(query):
        response = committee.get(RECORDS + query)
        assert response.status_code == 200, response.content
        return {r["id"] for r in response.json()["results"]}

    everyone = ids("")
    assert len(everyone) == 5
    branch_a = ids(f"?organization={district.branch_a.pk}")
    assert branch_a == {applicant.pk, activist.pk, fresh.pk, stopped.pk}
    assert ids(f"?organization={district.community.pk}") == everyone
    assert ids(f"?organization={district.organ_branch.pk}") == set()
    assert ids("?stage=activist") == {activist.pk}
    assert ids("?outcome=stopped") == {stopped.pk}
    assert ids(f"?organization={district.branch_a.pk}&stage=applicant&outcome=open") == {
        applicant.pk,
        fresh.pk,
    }
    # overdue: the old applicants' talks (due 1 April 2023), the activist's assessment
    overdue = ids(f"?organization={district.branch_a.pk}&overdue=true")
    assert overdue == {applicant.pk, activist.pk}
    assert ids(f"?organization={district.branch_a.pk}&overdue=false") == {fresh.pk, stopped.pk}
    assert len(ids("?overdue=true")) == 3  # with branch B's applicant
    assert committee.get(RECORDS + "?stage=nobody").status_code == 400
    assert committee.get(RECORDS + "?overdue=maybe").status_code == 400

    row = next(
        r for r in committee.get(RECORDS + "?stage=activist").json()["results"]
    )  # the list carries the next step and its due date too
    assert row["next_step"]["number"] == 4 and row["next_step"]["due_on"] is None
    assert row["stage_label"] == "入党积极分子" and row["step_label"] == "3. 推荐和确定入党积极分子"


def test_assessments_documents_extension_and_closing(district, clerk, committee, voters):
    path = happy_path(voters, district)
    applicant = services.open_record(clerk.user, district.branch_a, application(), TODAY)
    # an applicant is not assessed yet
    early = clerk.post(
        url(applicant.pk, "assessments"), {"date": "2023-04-01", "summary": "x"}, format="json"
    )
    assert early.status_code == 400
    document = clerk.post(
        url(applicant.pk, "documents"),
        {"kind": "thought_report", "date": "2023-04-01", "title": "第一季度思想汇报"},
        format="json",
    )
    assert document.status_code == 201, document.content
    assert [(d["kind"], d["title"]) for d in document.json()["documents"]] == [
        ("application", ""),
        ("thought_report", "第一季度思想汇报"),
    ]
    unknown_kind = {"kind": "x", "date": "2023-04-01"}
    assert clerk.post(url(applicant.pk, "documents"), unknown_kind).status_code == 400
    closed = clerk.post(
        url(applicant.pk, "close"), {"date": "2023-04-01", "reason": "本人撤回"}, format="json"
    )
    assert closed.status_code == 200, closed.content
    assert (closed.json()["outcome"], closed.json()["next_step"]) == ("stopped", None)

    record = services.open_record(clerk.user, district.branch_a, application(name="乙"), TODAY)
    for number in range(2, 23):
        if number == steps.CANDIDATE:
            services.add_assessment(clerk.user, record, date(2024, 5, 10), "第二次考察")
        actor = committee.user if steps.BY_NUMBER[number].by_higher_committee else clerk.user
        services.record_step(actor, record, number, path[number], TODAY)
        record.refresh_from_db()
    extend = url(record.pk, "extend")
    decision = {"months": 6, "date": "2025-09-05", "reason": "需继续考察"}
    assert clerk.post(extend, decision, format="json").status_code == 403
    cites(
        committee.post(extend, {**decision, "months": 5}, format="json"),
        rules.EXTENSION_MINIMUM_MONTHS,
    )
    extended = committee.post(extend, decision, format="json")
    assert extended.status_code == 200, extended.content
    body = extended.json()
    assert (body["probation_ends_on"], body["extension_months"]) == ("2026-03-01", 6)
    assert body["next_step"]["number"] == 23 and body["next_step"]["due_on"] == "2026-03-01"
    cites(committee.post(extend, decision, format="json"), rules.EXTENSION_MAXIMUM_MONTHS)

    close = url(record.pk, "close")
    assert (
        clerk.post(close, {"date": "2026-03-05", "reason": "x"}, format="json").status_code == 403
    )
    disqualified = committee.post(
        close, {"date": "2026-03-05", "reason": "不具备党员条件"}, format="json"
    )
    assert disqualified.status_code == 200
    assert disqualified.json()["outcome"] == "disqualified"
    assert Member.objects.get(pk=record.member_id).standing == "left"
    again = clerk.post(
        url(record.pk, "steps"),
        {
            "number": 23,
            "date": "2026-03-06",
            "entitled": 9,
            "present": 9,
            "in_favour": 9,
            "version": disqualified.json()["version"],
        },
        format="json",
    )
    assert again.status_code == 400 and "不能再登记" in again.json()[0]


def test_the_pipeline(district, clerk, committee, voters):
    path = happy_path(voters, district)
    applicant = services.open_record(clerk.user, district.branch_a, application(), TODAY)
    activist = services.open_record(clerk.user, district.branch_a, application(name="甲"), TODAY)
    for number in (2, 3):
        services.record_step(clerk.user, activist, number, path[number], TODAY)
    second = services.open_record(
        clerk.user, district.branch_a, application(name="乙", date=date(2025, 3, 1)), TODAY
    )
    later = {
        2: {"date": date(2025, 3, 20), "people": ["王组织委员"]},
        3: {"date": date(2025, 5, 10)},
        4: {"date": date(2025, 5, 20)},
    }
    for number in (2, 3, 4):
        actor = committee.user if number == 4 else clerk.user
        services.record_step(actor, second, number, later[number], TODAY)
    other = client_for(Role.CLERK, district.branch_b)
    services.open_record(other.user, district.branch_b, application(name="丙"), TODAY)

    response = committee.get(f"/api/development/pipeline/?organization={district.community.pk}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["organization"]["id"] == district.community.pk
    assert body["today"] == "2026-11-24"
    assert body["stages"]["applicant"] == "入党申请人"
    rows = {row["organization"]["id"]: row for row in body["rows"]}
    assert rows[district.branch_a.pk]["by_stage"] == {
        "applicant": 1,
        "activist": 2,
        "candidate": 0,
        "probationary": 0,
    }
    assert rows[district.branch_a.pk]["total"] == 3
    assert rows[district.branch_b.pk]["by_stage"]["applicant"] == 1
    assert body["totals"]["total"] == 4 and body["totals"]["by_stage"]["activist"] == 2
    # overdue: both applicants' talks, both activists' half-yearly assessments (the second
    # activist's was due 10 November 2025)
    overdue = {(item["record"]["id"], item["label"]) for item in body["overdue"]}
    talk = str(FLAGS["development_talk_due"].label)
    assessment = str(FLAGS["development_assessment_due"].label)
    assert (applicant.pk, talk) in overdue
    assert (activist.pk, assessment) in overdue
    assert (second.pk, assessment) in overdue
    assert rows[district.branch_a.pk]["overdue"] == 3
    assert rows[district.branch_b.pk]["overdue"] == 1
    assert body["totals"]["overdue"] == 4
    first = body["overdue"][0]
    assert first["due_on"] == "2023-04-01"
    assert first["citation"] == str(rules.TALK_WITHIN_MONTHS.citation)
    assert first["record"]["organization_name"] == district.branch_a.name

    # from the district, the branches are summed into the street
    above = committee.get(f"/api/development/pipeline/?organization={district.root.pk}")
    assert above.status_code == 404  # the community's committee does not see the district
    root = client_for(Role.COMMITTEE_ADMIN, district.root)
    body = root.get(f"/api/development/pipeline/?organization={district.root.pk}").json()
    rows = {row["organization"]["id"]: row for row in body["rows"]}
    assert rows[district.street.pk]["total"] == 4 and rows[district.organs.pk]["total"] == 0

    assert (
        clerk.get(f"/api/development/pipeline/?organization={district.branch_b.pk}").status_code
        == 404
    )
    assert clerk.get("/api/development/pipeline/").status_code == 400
    assert (
        client_for(Role.MEMBER, district.branch_a)
        .get(f"/api/development/pipeline/?organization={district.branch_a.pk}")
        .status_code
        == 404
    )


def test_reads_take_a_fixed_number_of_queries(
    district, clerk, committee, voters, django_assert_max_num_queries
):
    path = happy_path(voters, district)
    for name in ("甲", "乙", "丙"):
        record = services.open_record(clerk.user, district.branch_a, application(name=name), TODAY)
        for number in (2, 3):
            services.record_step(clerk.user, record, number, path[number], TODAY)
    # Authentication, scope, the page; the detail's steps, people, assessments and papers.
    with django_assert_max_num_queries(4):
        assert committee.get(RECORDS).status_code == 200
    with django_assert_max_num_queries(8):
        assert committee.get(url(record.pk)).status_code == 200
    # the overdue filter asks the five step reminders
    with django_assert_max_num_queries(9):
        assert committee.get(RECORDS + "?overdue=true").status_code == 200


def test_the_schema_documents_the_development_endpoints(db, tmp_path):
    from django.core.management import call_command

    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    paths = schema["paths"]
    for path in (
        "/api/development/records/",
        "/api/development/records/{id}/",
        "/api/development/records/{id}/steps/",
        "/api/development/records/{id}/assessments/",
        "/api/development/records/{id}/documents/",
        "/api/development/records/{id}/extend/",
        "/api/development/records/{id}/close/",
        "/api/development/pipeline/",
    ):
        assert path in paths, path
    components = schema["components"]["schemas"]
    assert components["RecordWrite"]["properties"]["id_number"]["writeOnly"] is True
    assert "id_number" not in components["RecordDetail"]["properties"]
    assert "DevelopmentStageEnum" in components and "KindEnum" in components
    assert set(paths["/api/development/records/{id}/steps/"]["post"]["responses"]) >= {
        "201",
        "400",
        "409",
    }


def test_an_unknown_party_group_is_refused_not_a_crash(district, clerk, committee, voters):
    """Step 19 given a group id that does not exist: a 400 over HTTP (the serializer), and a
    ValidationError from the service itself (it used to fail on ``None.name``)."""
    from django.core.exceptions import ValidationError

    from .test_development import walk

    path = happy_path(voters, district)
    record = services.open_record(clerk.user, district.branch_a, application(), TODAY)
    walk(record, path, clerk.user, committee.user, until=18)
    step19 = {**as_json(path[19]), "number": 19, "version": record.version}
    response = clerk.post(url(record.pk, "steps"), {**step19, "party_group": 99999}, format="json")
    assert response.status_code == 400 and "party_group" in response.json()
    for unknown in (99999, "abc"):
        with pytest.raises(ValidationError, match="党小组"):
            services.record_step(
                clerk.user, record, 19, {**path[19], "party_group": unknown}, today=TODAY
            )
    assert clerk.post(url(record.pk, "steps"), step19, format="json").status_code == 201
