"""Statistics, report drafts and their agreement.

The statistics are checked against counts computed here, in plain Python, from the people
and meetings the test itself creates; the drafts are checked against the statistics page,
figure by figure, through real HTTP requests, a real .xlsx and a real .docx.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from html import unescape

import pytest
from docx import Document
from openpyxl import load_workbook

from dangjian.accounts.roles import Role
from dangjian.development.models import DevelopmentRecord, Outcome
from dangjian.development.steps import Stage
from dangjian.dues.models import DuesPayment, SpecialContribution
from dangjian.organizations.models import OrgType
from dangjian.orglife.choices import MeetingKind, MeetingStatus
from dangjian.orglife.models import Meeting
from dangjian.reports.models import ReportTemplate
from dangjian.reports.statistics import SECTIONS, catalogue

from .factories import freeze_localdate, make_member, valid_id_number

TODAY = date(2026, 11, 25)


@dataclass(frozen=True)
class Person:
    """What the test knows about each member it puts on the roster."""

    where: str  # attribute of the district fixture
    gender: str = "male"
    birth: date = date(1980, 5, 1)
    ethnicity: str = "汉族"
    education: str = "bachelor"
    occupation: str = "worker"
    membership: str = "full"
    full_on: date | None = date(2006, 7, 1)
    standing: str = "normal"
    category: str = "resident"


PEOPLE = [
    Person("branch_a", "female", date(1999, 3, 1), "回族", "college", "student"),
    Person("branch_a", "female", date(1996, 11, 25), education="postgraduate"),  # 30 today
    Person("branch_a", "male", date(1996, 11, 26), "壮族", "high_school", "farmer"),  # 29
    Person("branch_a", membership="probationary", full_on=None, birth=date(2000, 1, 1)),
    Person("branch_a", "female", date(1950, 1, 1), occupation="retired", category="retired"),
    Person("branch_a", standing="floating", category="floating", full_on=date(2021, 11, 25)),
    Person("branch_b", "female", date(1985, 6, 1), "回族", "junior_high_or_below"),
    Person("branch_b", full_on=date(2021, 11, 26), education="secondary_vocational"),
    Person("branch_b", standing="lost_contact", full_on=date(1975, 7, 1), birth=date(1940, 1, 1)),
    Person("organ_branch", "female", occupation="civil_servant", category="in_service"),
    Person("organ_branch", occupation="civil_servant", category="in_service", full_on=None),
    Person("community", "male", date(1970, 1, 1), occupation="enterprise_staff"),
    # off the roster: counted nowhere
    Person("branch_a", standing="left"),
    Person("organ_branch", standing="transferred_out"),
]
ON_ROSTER = {"normal", "floating", "lost_contact"}


def years(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def expected_members(people, under) -> dict[str, int]:
    """The member figures of the subtree of ``under`` (names of district attributes)."""
    roster = [p for p in people if p.standing in ON_ROSTER and p.where in under]
    full = [p for p in roster if p.membership == "full"]

    def count(test, among=roster):
        return sum(1 for p in among if test(p))

    def party_age(p):  # from conversion; a full member recorded without it: from joining
        return years(p.full_on or date(2026, 3, 1), TODAY)

    return {
        "gender.total": len(roster),
        "gender.female": count(lambda p: p.gender == "female"),
        "gender.male": count(lambda p: p.gender == "male"),
        "age.age-30": count(lambda p: years(p.birth, TODAY) <= 30),
        "age.age31-40": count(lambda p: 31 <= years(p.birth, TODAY) <= 40),
        "age.age41-50": count(lambda p: 41 <= years(p.birth, TODAY) <= 50),
        "age.age71-": count(lambda p: years(p.birth, TODAY) >= 71),
        "ethnicity.minority": count(lambda p: p.ethnicity != "汉族"),
        "ethnicity.han": count(lambda p: p.ethnicity == "汉族"),
        "minorities.回族": count(lambda p: p.ethnicity == "回族"),
        "minorities.壮族": count(lambda p: p.ethnicity == "壮族"),
        "education.college_or_above": count(
            lambda p: p.education in ("postgraduate", "bachelor", "college")
        ),
        "education.junior_high_or_below": count(lambda p: p.education == "junior_high_or_below"),
        "occupation.civil_servant": count(lambda p: p.occupation == "civil_servant"),
        "occupation.retired": count(lambda p: p.occupation == "retired"),
        "party_age.y-5": count(lambda p: party_age(p) <= 5, full),
        "party_age.y6-10": count(lambda p: 6 <= party_age(p) <= 10, full),
        "party_age.y11-20": count(lambda p: 11 <= party_age(p) <= 20, full),
        "party_age.y51-": count(lambda p: party_age(p) >= 51, full),
        "party_age.probationary": count(lambda p: p.membership == "probationary"),
        "category.in_service": count(lambda p: p.category == "in_service"),
        "category.retired": count(lambda p: p.category == "retired"),
        "status.full": len(full),
        "status.probationary": count(lambda p: p.membership == "probationary"),
        "status.floating": count(lambda p: p.standing == "floating"),
        "status.lost_contact": count(lambda p: p.standing == "lost_contact"),
    }


@pytest.fixture
def city(district, monkeypatch):
    """The district with the people above, meetings, development records and dues."""
    freeze_localdate(monkeypatch, TODAY)
    members = []
    for person in PEOPLE:
        members.append(
            make_member(
                getattr(district, person.where),
                gender=person.gender,
                birth_date=person.birth,
                id_number=valid_id_number(person.birth, person.gender == "male"),
                ethnicity=person.ethnicity,
                education=person.education,
                occupation=person.occupation,
                membership=person.membership,
                joined_on=date(2005, 7, 1) if person.full_on else date(2026, 3, 1),
                full_member_on=person.full_on,
                standing=person.standing,
                category=person.category,
            )
        )
    # Meetings: held in the first half of 2026, one planned (not counted), one in 2025.
    meetings = [
        ("branch_a", MeetingKind.GENERAL_MEETING, date(2026, 3, 20), MeetingStatus.HELD),
        ("branch_a", MeetingKind.LECTURE, date(2026, 6, 30), MeetingStatus.HELD),
        ("branch_a", MeetingKind.THEME_DAY, date(2026, 1, 1), MeetingStatus.HELD),
        ("branch_b", MeetingKind.THEME_DAY, date(2026, 2, 5), MeetingStatus.HELD),
        ("group_a", MeetingKind.GROUP_MEETING, date(2026, 4, 9), MeetingStatus.HELD),
        ("organ_branch", MeetingKind.COMMITTEE_MEETING, date(2026, 5, 6), MeetingStatus.HELD),
        ("organ_branch", MeetingKind.THEME_DAY, date(2026, 7, 1), MeetingStatus.HELD),  # H2
        ("branch_b", MeetingKind.LECTURE, date(2026, 6, 1), MeetingStatus.PLANNED),
        ("branch_a", MeetingKind.LECTURE, date(2025, 12, 31), MeetingStatus.HELD),
    ]
    for where, kind, day, status in meetings:
        Meeting.objects.create(
            organization=getattr(district, where),
            kind=kind,
            status=status,
            date=day,
            topic=str(kind.label),
            expected_count=3,
            present_count=3,
        )
    # Development: admitted in H1 (two), in H2 (one), an activist, a converted member.
    records = [
        ("branch_a", Stage.PROBATIONARY, {"admitted_on": date(2026, 2, 1)}),
        ("branch_b", Stage.PROBATIONARY, {"admitted_on": date(2026, 6, 30)}),
        ("organ_branch", Stage.PROBATIONARY, {"admitted_on": date(2026, 7, 1)}),
        (
            "branch_a",
            Stage.ACTIVIST,
            {"applied_on": date(2026, 1, 5), "activist_on": date(2026, 3, 1)},
        ),
        ("branch_b", Stage.FULL, {"converted_on": date(2026, 5, 1)}),
    ]
    for where, stage, dates in records:
        DevelopmentRecord.objects.create(
            organization=getattr(district, where),
            name="申请人",
            gender="male",
            ethnicity="汉族",
            id_number=valid_id_number(date(2000, 1, 1)),
            birth_date=date(2000, 1, 1),
            education="bachelor",
            occupation="worker",
            stage=stage,
            outcome=Outcome.OPEN,
            **dates,
        )
    # Dues: months of 2026 paid by two members of branch_a and one of organ_branch.
    paid = [
        (members[0], date(2026, 1, 1), "1.50"),
        (members[0], date(2026, 6, 1), "1.50"),
        (members[1], date(2026, 3, 1), "12.25"),
        (members[9], date(2026, 10, 1), "30.00"),
        (members[9], date(2025, 12, 1), "30.00"),  # not in 2026
    ]
    for member, month, amount in paid:
        DuesPayment.objects.create(
            member=member,
            month=month,
            amount_due=Decimal(amount),
            amount_paid=Decimal(amount),
            kind="on_time",
            paid_on=month,
        )
    SpecialContribution.objects.create(
        member=members[9], amount=Decimal("2000.00"), date=date(2026, 4, 1)
    )
    return district


FIGURE = re.compile(r'data-figure="([^"]+)">(?:<a href="[^"]*">)?([^<]*)(?:</a>)?</td>')


def page_figures(client, organization, section: str, year: int = 2026, part: str = "year"):
    response = client.get(
        f"/reports/org/{organization.pk}/statistics/",
        {"section": section, "year": year, "part": part},
    )
    assert response.status_code == 200
    return {name: unescape(value) for name, value in FIGURE.findall(response.content.decode())}


def all_page_figures(client, organization, year=2026, part="year"):
    values = {}
    for section in SECTIONS:
        values.update(page_figures(client, organization, section.key, year, part))
    return values


@pytest.fixture
def admin(city, login):
    return login(Role.COMMITTEE_ADMIN, city.root)


# ---- the statistics against counts made here ----


def test_member_statistics_of_the_whole_district_match_the_people_created(admin, city):
    shown = page_figures(admin, city.root, "members")
    everyone = {"branch_a", "branch_b", "organ_branch", "community"}
    expected = expected_members(PEOPLE, everyone)
    assert {name: shown[name] for name in expected} == {k: str(v) for k, v in expected.items()}
    # shares are of the roster, to one decimal place
    assert shown["gender.female.pct"] == "41.7"  # 5 of 12
    assert shown["ethnicity.minority.pct"] == "25.0"  # 3 of 12


def test_member_statistics_of_a_subtree_count_only_its_members(admin, city):
    shown = page_figures(admin, city.community, "members")
    expected = expected_members(PEOPLE, {"branch_a", "branch_b", "community"})
    assert {name: shown[name] for name in expected} == {k: str(v) for k, v in expected.items()}


def test_each_child_row_sums_its_subtree_and_the_rows_add_up_to_the_total(admin, city):
    response = admin.get(f"/reports/org/{city.root.pk}/statistics/", {"section": "members"})
    html = response.content.decode()
    gender = html[html.index('id="table-gender"') : html.index('id="table-age"')]
    rows = re.findall(r'<td class="name">(.*?)</td>\s*<td class="num">(?:<a[^>]*>)?(\d+)', gender)
    totals = {re.sub("<[^>]+>", "", name).strip(): int(n) for name, n in rows}
    # 9 in the two branches + the community's own; the organs' third has transferred out
    assert totals == {"东城街道党工委": 10, "区直机关工委": 2}
    shown = page_figures(admin, city.root, "members")
    assert sum(totals.values()) == int(shown["gender.total"])


def test_organization_statistics_count_types_sectors_and_terms(admin, city):
    shown = page_figures(admin, city.root, "organizations")
    # 区委, 2 党工委, 社区党委, 3 党支部; the 党小组 is shown apart and not in the total
    assert shown["org_types.total"] == "7"
    assert shown["org_types.committee"] == "2"
    assert shown["org_types.working_committee"] == "2"
    assert shown["org_types.branch"] == "3"
    assert shown["org_types.group"] == "1"
    assert shown["sectors.community"] == "3"
    assert shown["terms.elected"] == "5"  # 2 党委 + 3 党支部


def test_meetings_held_are_counted_by_kind_within_the_period(admin, city):
    first_half = page_figures(admin, city.root, "life", 2026, "h1")
    assert first_half["meetings.total"] == "6"  # the planned one and 2025's are not counted
    assert first_half["meetings.theme_day"] == "2"
    assert first_half["meetings.lecture"] == "1"
    assert first_half["meetings.group_meeting"] == "1"
    whole_year = page_figures(admin, city.root, "life", 2026, "year")
    assert whole_year["meetings.total"] == "7"
    assert whole_year["meetings.theme_day"] == "3"
    branch_b = page_figures(admin, city.branch_b, "life", 2026, "h1")
    assert branch_b["meetings.total"] == "1"


def test_compliance_counts_only_ended_periods_and_its_rate_is_met_over_owed(admin, city):
    shown = page_figures(admin, city.root, "life", 2026, "h1")
    owed, met, missed = (int(shown[f"compliance.{k}"]) for k in ("owed", "met", "missed"))
    assert owed == met + missed and owed > 0
    assert shown["compliance.met.pct"] == str(
        (Decimal(met) * 100 / owed).quantize(Decimal("0.1"), rounding="ROUND_HALF_UP")
    )
    # branch_b held one theme day (February) in the half year: of its six monthly theme
    # days it met one
    branch_b = page_figures(admin, city.branch_b, "life", 2026, "h1")
    assert int(branch_b["compliance.met"]) >= 1


def test_development_counts_people_by_the_dates_of_their_steps(admin, city):
    first_half = page_figures(admin, city.root, "development", 2026, "h1")
    assert first_half["development.admitted"] == "2"
    assert first_half["development.converted"] == "1"
    assert first_half["development.applied"] == "1"
    assert first_half["development.activists"] == "1"
    assert first_half["development.open_probationary"] == "3"  # open now, whatever the period
    assert first_half["development.open_activist"] == "1"
    assert page_figures(admin, city.root, "development", 2026, "h2")["development.admitted"] == "1"


def test_dues_collected_are_summed_by_the_months_of_the_period(admin, city):
    year = page_figures(admin, city.root, "dues", 2026, "year")
    assert year["dues.collected"] == "45.25"  # 1.50 + 1.50 + 12.25 + 30.00
    assert year["dues.payments"] == "4"
    assert year["dues.members"] == "3"
    assert year["dues.special"] == "2000.00"
    first_half = page_figures(admin, city.root, "dues", 2026, "h1")
    assert first_half["dues.collected"] == "15.25"
    assert first_half["dues.special_count"] == "1"


def test_flag_counts_are_the_home_pages(admin, city):
    from dangjian.core.flags import FLAGS, FlagContext
    from dangjian.organizations.models import Organization
    from dangjian.organizations.services import rulebook_for

    shown = page_figures(admin, city.root, "flags")
    ctx = FlagContext(Organization.objects.within(city.root), rulebook_for(city.root), TODAY)
    counts = {key: flag.queryset(ctx).count() for key, flag in FLAGS.items()}
    assert {key: shown[f"flags.{key}"] for key in counts} == {k: str(v) for k, v in counts.items()}
    assert shown["flags.total"] == str(sum(counts.values()))


# ---- links: every count opens the list behind it ----


def test_member_counts_link_to_the_roster_with_the_same_members(admin, city):
    response = admin.get(f"/reports/org/{city.root.pk}/statistics/", {"section": "members"})
    html = unescape(response.content.decode())
    links = dict(re.findall(r'data-figure="([^"]+)"><a href="([^"]+)"', html))
    shown = page_figures(admin, city.root, "members")
    for name in (
        "gender.female",
        "ethnicity.minority",
        "education.college_or_above",
        "party_age.y6-10",
        "occupation.civil_servant",
        "status.floating",
        "age.age-30",
    ):
        query = links[name].split("?", 1)[1]
        count = admin.get(f"/members/count/?{query}").content.decode()
        assert re.search(rf"\b{shown[name]}\b", count), (name, count)


def test_an_organization_count_links_to_the_organizations_counted(admin, city):
    response = admin.get(
        f"/reports/org/{city.root.pk}/organizations/", {"org_type": OrgType.BRANCH}
    )
    names = re.findall(r'<td><a href="/orgs/\d+/">([^<]+)</a>', response.content.decode())
    assert sorted(names) == sorted([city.branch_a.name, city.branch_b.name, city.organ_branch.name])


# ---- Excel ----


def test_the_excel_export_has_the_pages_figures(admin, city):
    response = admin.get(
        f"/reports/org/{city.root.pk}/statistics/", {"section": "members", "format": "xlsx"}
    )
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(response.content), read_only=True)
    sheet = workbook["党员性别构成"]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    header = rows[2]
    total = next(r for r in rows if r[0] == "合计")
    by_header = dict(zip(header, total, strict=False))
    shown = page_figures(admin, city.root, "members")
    assert by_header["党员总数"] == int(shown["gender.total"])
    assert by_header["女"] == int(shown["gender.female"])
    assert str(by_header["女占比（%）"]) == shown["gender.female.pct"]
    child_rows = {r[0]: r[1] for r in rows[3:] if r[0] not in ("合计", None)}
    assert child_rows["东城街道党工委"] == 10


# ---- drafts ----


def every_figure_template(owner=None) -> ReportTemplate:
    names = sorted(catalogue(TODAY))
    body = "# 全部统计数\n" + "\n".join(f"{name}={{{name}}}" for name in names)
    return ReportTemplate.objects.create(name="全部统计数", body=body, organization=owner)


def draft_values(response) -> dict[str, str]:
    document = Document(io.BytesIO(response.content))
    values = {}
    for paragraph in document.paragraphs:
        name, sep, value = paragraph.text.partition("=")
        if sep:
            values[name] = value
    return values


@pytest.mark.parametrize("part", ["h1", "year"])
def test_every_figure_of_a_draft_is_the_figure_on_the_statistics_page(admin, city, part):
    template = every_figure_template()
    response = admin.get(
        f"/reports/org/{city.community.pk}/draft/",
        {"template": template.pk, "year": 2026, "part": part},
    )
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    drafted = draft_values(response)
    shown = all_page_figures(admin, city.community, 2026, part)
    from dangjian.reports.statistics import ALIASES

    compared = 0
    for name, value in drafted.items():
        if name in ("organization", "period", "year", "date"):
            continue
        page_name = ALIASES.get(name, name)
        if page_name.startswith("minorities.") and page_name not in shown:
            assert value == "0", name  # the page lists only the ethnicities present
            continue
        assert shown[page_name] == value, name
        compared += 1
    assert compared > 150  # every table's every column, not a sample
    assert drafted["organization"] == city.community.name
    assert drafted["period"] == ("2026年上半年" if part == "h1" else "2026年全年")


def test_the_shipped_templates_fill_every_placeholder(admin, city):
    shipped = ReportTemplate.objects.filter(organization=None)
    assert set(shipped.values_list("name", flat=True)) >= {
        "党支部半年工作总结",
        "党委年度基层党建工作报告",
    }
    for template in shipped:
        response = admin.get(
            f"/reports/org/{city.branch_a.pk}/draft/",
            {"template": template.pk, "year": 2026, "part": template.default_part},
        )
        text = "\n".join(p.text for p in Document(io.BytesIO(response.content)).paragraphs)
        assert "{" not in text and "}" not in text, template.name
        assert city.branch_a.name in text
    summary = shipped.get(name="党支部半年工作总结")
    response = admin.get(
        f"/reports/org/{city.branch_a.pk}/draft/",
        {"template": summary.pk, "year": 2026, "part": "h1"},
    )
    text = "\n".join(p.text for p in Document(io.BytesIO(response.content)).paragraphs)
    shown = page_figures(admin, city.branch_a, "members")
    assert f"支部共有党员{shown['gender.total']}人" in text
    assert f"女党员{shown['gender.female']}人，占{shown['gender.female.pct']}%" in text


def test_a_draft_asked_for_a_future_year_is_refused_with_a_message(admin, city):
    template = ReportTemplate.objects.filter(organization=None).first()
    response = admin.get(
        f"/reports/org/{city.root.pk}/draft/",
        {"template": template.pk, "year": 2030, "part": "year"},
    )
    assert response.status_code == 200
    assert "统计年度不能晚于今年" in response.content.decode()


# ---- templates: editing ----


def test_an_unknown_placeholder_is_refused_and_the_text_kept(admin, city):
    template = ReportTemplate.objects.get(name="党支部半年工作总结")
    body = template.body + "\n另有{党员人数}名。"
    response = admin.post(
        f"/reports/templates/{template.pk}/",
        {"name": template.name, "default_part": "h1", "body": body, "version": template.version},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "以下占位符没有对应的统计数：{党员人数}" in html
    assert "另有{党员人数}名。" in unescape(html)
    template.refresh_from_db()
    assert "党员人数" not in template.body


def test_a_committee_keeps_its_own_template_for_its_subtree(login, city):
    admin = login(Role.COMMITTEE_ADMIN, city.community)
    response = admin.post(
        f"/reports/templates/new/?org={city.community.pk}",
        {
            "name": "社区党委季度小结",
            "default_part": "q1",
            "body": "# {organization}\n党员{members.total}人。",
            "org": city.community.pk,
        },
    )
    assert response.status_code == 302
    own = ReportTemplate.objects.get(name="社区党委季度小结")
    assert own.organization == city.community
    from dangjian.audit.models import AuditEvent

    assert AuditEvent.objects.filter(object_id=str(own.pk), action="create").exists()
    # a branch below sees it; a branch elsewhere does not
    secretary_a = login(Role.SECRETARY, city.branch_a)
    assert (
        "社区党委季度小结"
        in secretary_a.get(f"/reports/org/{city.branch_a.pk}/draft/").content.decode()
    )
    organs = login(Role.SECRETARY, city.organ_branch)
    page = organs.get(f"/reports/org/{city.organ_branch.pk}/draft/").content.decode()
    assert "社区党委季度小结" not in page
    assert "党支部半年工作总结" in page
    # the community's admin may not edit the shipped templates; a secretary edits none
    shipped = ReportTemplate.objects.get(name="党支部半年工作总结")
    assert admin.get(f"/reports/templates/{shipped.pk}/").status_code == 403
    assert secretary_a.get(f"/reports/templates/{own.pk}/").status_code == 403


def test_the_top_committee_edits_a_shipped_template_with_a_version_check(admin, city):
    shipped = ReportTemplate.objects.get(name="党支部半年工作总结")
    data = {
        "name": shipped.name,
        "default_part": "h1",
        "body": "# {organization}",
        "version": shipped.version,
    }
    assert admin.post(f"/reports/templates/{shipped.pk}/", data).status_code == 302
    shipped.refresh_from_db()
    assert shipped.body == "# {organization}" and shipped.version == 2
    # a second save from the form opened before the first is refused, the text kept
    data["body"] = "# {period}"
    response = admin.post(f"/reports/templates/{shipped.pk}/", data)
    assert response.status_code == 200
    assert "保存前已有其他人修改了这条记录" in response.content.decode()
    shipped.refresh_from_db()
    assert shipped.body == "# {organization}"


# ---- scope ----


def test_statistics_outside_the_users_subtree_are_not_found(login, city):
    secretary = login(Role.SECRETARY, city.branch_a)
    root = f"/reports/org/{city.root.pk}"
    for url in (
        "/statistics/",
        "/statistics/?format=xlsx",
        "/organizations/",
        "/dashboard/",
        "/dashboard/members/",
        "/bigscreen/",
        "/draft/",
    ):
        assert secretary.get(root + url).status_code == 404, url
    assert secretary.get(f"/reports/org/{city.branch_a.pk}/statistics/").status_code == 200
    member = login(Role.MEMBER, city.branch_a)
    assert member.get(f"/reports/org/{city.branch_a.pk}/statistics/").status_code == 404
    assert member.get(f"/reports/org/{city.branch_a.pk}/dashboard/").status_code == 404
    assert member.get("/reports/").status_code == 404
    assert member.get("/reports/templates/").status_code == 404


def test_the_dashboard_panels_carry_the_statistics_figures(admin, city):
    import json

    response = admin.get(f"/reports/org/{city.root.pk}/dashboard/")
    assert response.status_code == 200
    html = response.content.decode()
    for section in ("members", "organizations", "life", "development", "dues", "flags"):
        assert f"/reports/org/{city.root.pk}/dashboard/{section}/" in html
    panel = admin.get(f"/reports/org/{city.root.pk}/dashboard/members/").content.decode()
    option = json.loads(
        unescape(re.search(r'id="chart-gender-data"[^>]*>(.*?)</script>', panel).group(1))
    )
    data = {d["name"]: d["value"] for d in option["series"][0]["data"]}
    shown = page_figures(admin, city.root, "members")
    assert data == {"男": int(shown["gender.male"]), "女": int(shown["gender.female"])}
    urls = [d["url"] for d in option["series"][0]["data"]]
    assert all(u.startswith("/members/?") for u in urls)
    assert admin.get(f"/reports/org/{city.root.pk}/bigscreen/").status_code == 200


def test_the_dues_panel_shows_the_months_collection_of_the_statistics_page(admin, city):
    panel = admin.get(
        f"/reports/org/{city.root.pk}/dashboard/dues/", {"year": 2026, "part": "year"}
    ).content.decode()
    kpis = dict(re.findall(r'data-kpi="dues-(\d)">([^<]*)</b>', panel))
    shown = page_figures(admin, city.root, "dues", 2026, "year")
    owing, paid = int(shown["dues_month.owing"]), int(shown["dues_month.paid_members"])
    assert owing > 0
    assert kpis == {
        "1": shown["dues_month.rate"] + "%",
        "2": shown["dues_month.paid"],
        "3": str(owing - paid),
    }
