"""The dues pages through real requests: an organization's month with quick recording, the
member's ledger and its forms, the member's own dues, the collection statistics by child,
the monthly sheet as Excel — each within the user's scope. Dates are relative to today."""

from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from dangjian.accounts.roles import Role
from dangjian.dues import services, statistics
from dangjian.dues.models import DuesBase, DuesPayment, PaymentKind, SpecialContribution
from dangjian.members.choices import ON_ROSTER
from dangjian.members.models import Member
from dangjian.organizations.models import Organization
from dangjian.organizations.services import add_months

from .factories import UserFactory, grant, make_member

D = Decimal
CITATION = "中组发〔2008〕3号"


def this_month() -> date:
    return timezone.localdate().replace(day=1)


def ym(month: date) -> str:
    return f"{month:%Y-%m}"


@pytest.fixture
def admin(district):
    """Sets up bases and payments for the fixtures (a committee administrator of the district)."""
    user = UserFactory(full_name="区党费管理员")
    grant(user, district.root, Role.COMMITTEE_ADMIN)
    return user


def base(actor, member, income="4000", start=None, category="in_service", **data):
    start = start or add_months(this_month(), -12)
    return services.set_base(
        actor,
        member,
        {"category": category, "monthly_income": income, "effective_from": start, **data},
    )


def pay(actor, member, month=None, amount=None, paid_on=None, **kwargs):
    month = month or this_month()
    amount = amount if amount is not None else services.monthly_due(member, month)
    return services.record_payment(
        actor, member, month, amount, paid_on or timezone.localdate(), **kwargs
    )


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# ---- an organization's month ----


def test_the_month_lists_every_owing_member_with_base_due_and_payment(district, login, admin):
    client = login(Role.SECRETARY, district.branch_a)
    paid = make_member(district.branch_a, "李已交")
    unpaid = make_member(district.branch_a, "王未交")
    make_member(district.branch_a, "赵无基数")
    make_member(district.branch_a, "钱新党员", joined_on=timezone.localdate())  # owes next month
    other = make_member(district.branch_b, "孙二支部")
    base(admin, paid, "4000")
    base(admin, unpaid, "12000")
    base(admin, other, "4000")
    pay(admin, paid)

    html = page(client.get(f"/dues/org/{district.branch_a.pk}/?month={ym(this_month())}"))

    assert "李已交" in html and "王未交" in html and "赵无基数" in html
    assert "钱新党员" not in html  # not owing yet: from the month after joining
    assert "孙二支部" not in html  # another branch
    assert "240.00" in html  # 2% of 12000, due and unpaid
    assert "区党费管理员" in html  # who recorded the payment
    assert "按月交纳" in html and "未定基数" in html
    # the month's totals: 3 owing, 1 paid, 40 + 240 due
    assert ">3<" in html and "280.00" in html and "40.00" in html
    # month navigation
    assert f"?month={ym(add_months(this_month(), -1))}" in html
    assert f"?month={ym(add_months(this_month(), 1))}" in html


def test_quick_recording_a_payment_returns_the_members_row(district, login, admin):
    client = login(Role.CLERK, district.branch_a, full_name="刘党务")
    member = make_member(district.branch_a, "李明")
    base(admin, member, "8000")  # 1.5% → 120.00
    month = this_month()
    html = page(client.get(f"/dues/org/{district.branch_a.pk}/?month={ym(month)}"))
    assert f'name="m{member.pk}-amount"' in html and 'value="120.00"' in html

    response = client.post(
        f"/dues/member/{member.pk}/pay/",
        {
            f"m{member.pk}-month": ym(month),
            f"m{member.pk}-amount": "120.00",
            f"m{member.pk}-paid_on": timezone.localdate().isoformat(),
            "org": district.branch_a.pk,
        },
        HTTP_HX_REQUEST="true",
    )

    row = page(response)
    assert f'id="dues-{member.pk}"' in row and "已交" in row and "刘党务" in row
    payment = DuesPayment.objects.get(member=member, month=month)
    assert payment.kind == PaymentKind.ON_TIME
    assert payment.amount_paid == D("120.00")
    assert payment.recorded_by == client.user


def test_a_back_payment_beyond_six_months_is_refused_with_the_citation_then_approved(
    district, login, admin
):
    client = login(Role.CLERK, district.branch_a)
    member = make_member(district.branch_a, "陈补交")
    base(admin, member, "4000", start=add_months(this_month(), -12))
    old = add_months(this_month(), -8)
    prefix = f"m{member.pk}"
    typed = {
        f"{prefix}-month": ym(old),
        f"{prefix}-amount": "40.00",
        f"{prefix}-paid_on": timezone.localdate().isoformat(),
        f"{prefix}-note": "本人外出务工",
    }

    refused = page(client.post(f"/dues/member/{member.pk}/pay/", typed, HTTP_HX_REQUEST="true"))
    assert "补交党费一般不超过6个月" in refused and CITATION in refused
    assert 'value="本人外出务工"' in refused  # what was typed is kept
    assert not DuesPayment.objects.filter(member=member).exists()

    # without htmx: the form page again, with the error, the citation and the typed values
    response = client.post(f"/dues/member/{member.pk}/pay/", typed)
    assert response.status_code == 400
    html = response.content.decode()
    assert CITATION in html and 'value="本人外出务工"' in html

    # approval without a reason is not enough
    approved = {**typed, f"{prefix}-approved": "on"}
    html = page(client.post(f"/dues/member/{member.pk}/pay/", approved, HTTP_HX_REQUEST="true"))
    assert "超期补交须写明批准理由" in html
    assert not DuesPayment.objects.filter(member=member).exists()

    approved[f"{prefix}-reason"] = "支部委员会研究同意"
    response = client.post(f"/dues/member/{member.pk}/pay/", approved)
    assert response.status_code == 302
    payment = DuesPayment.objects.get(member=member, month=old)
    assert payment.kind == PaymentKind.BACK_PAID
    assert payment.approved_reason == "支部委员会研究同意"
    assert payment.recorded_by == client.user


def test_the_pay_page_works_without_javascript(district, login, admin):
    client = login(Role.CLERK, district.branch_a)
    member = make_member(district.branch_a)
    base(admin, member, "3000")  # 0.5% → 15.00
    month = this_month()
    form = page(client.get(f"/dues/member/{member.pk}/pay/?month={ym(month)}"))
    assert 'value="15.00"' in form
    back = f"/dues/org/{district.branch_a.pk}/?month={ym(month)}"
    response = client.post(
        f"/dues/member/{member.pk}/pay/",
        {
            f"m{member.pk}-month": ym(month),
            f"m{member.pk}-amount": "15.00",
            f"m{member.pk}-paid_on": timezone.localdate().isoformat(),
            "next": back,
        },
    )
    assert response.status_code == 302 and response["Location"] == back
    assert "已登记" in page(client.get(back))
    # an address elsewhere is not followed
    other = make_member(district.branch_a)
    base(admin, other, "3000")
    response = client.post(
        f"/dues/member/{other.pk}/pay/",
        {
            f"m{other.pk}-month": ym(month),
            f"m{other.pk}-amount": "15.00",
            f"m{other.pk}-paid_on": timezone.localdate().isoformat(),
            "next": "https://evil.example/",
        },
    )
    assert response.status_code == 302 and response["Location"].startswith("/dues/org/")


# ---- the member's ledger ----


def ledger_rows(html: str) -> dict[int, str]:
    """The month-by-month table of a ledger page: month number → the row's HTML."""
    table = html.split("逐月交纳情况", 1)[1].split("</table>", 1)[0]
    rows = {}
    for row in table.split("<tr>")[2:]:
        month = int(row.split('<td class="nowrap">', 1)[1].split("月", 1)[0])
        rows[month] = row
    assert sorted(rows) == list(range(1, 13))
    return rows


def test_the_ledger_shows_the_year_with_bases_reductions_and_special_contributions(
    district, login, admin
):
    client = login(Role.SECRETARY, district.branch_a)
    member = make_member(district.branch_a, "周党员")
    year = timezone.localdate().year - 1  # a whole past year
    base(admin, member, "4000", start=date(year, 1, 1))  # 40.00
    july = base(admin, member, "12000", start=date(year, 7, 1))  # 240.00
    services.approve_reduction(admin, july, amount="100", reason="家庭困难")
    pay(admin, member, date(year, 2, 1), "40", date(year, 2, 10))
    pay(admin, member, date(year, 8, 1), "1100", date(year, 8, 10))  # 1000 beyond: special

    html = page(client.get(f"/dues/member/{member.pk}/?year={year}"))

    assert f"{year}-07" in html and "12000.00" in html and "4000.00" in html
    assert "减交" in html and "家庭困难" in html
    assert "特殊党费" in html and "1000.00" in html
    assert "按月交纳" in html
    assert "区党费管理员" in html
    # month by month: Feb paid 40 on time, Mar unpaid 40, Aug paid the reduced 100 (the 1000
    # beyond it is the special contribution), Sep unpaid 100
    months = ledger_rows(html)
    assert "40.00" in months[2] and "已交" in months[2] and "按月交纳" in months[2]
    assert "40.00" in months[3] and "未交" in months[3]
    assert "100.00" in months[8] and "已交" in months[8] and "补交" not in months[8]
    assert "100.00" in months[9] and "未交" in months[9]
    # the member's detail page links here
    detail = page(client.get(f"/members/{member.pk}/"))
    assert f"/dues/member/{member.pk}/" in detail


def test_the_ledger_forms_go_through_the_services_and_keep_what_was_typed(district, login):
    client = login(Role.CLERK, district.branch_a)
    member = make_member(district.branch_a, "吴党员")
    year = timezone.localdate().year
    url = f"/dues/member/{member.pk}/?year={year}"

    # a base the roster contradicts: refused, the typed income kept
    response = client.post(
        url,
        {
            "action": "base",
            "base-effective_from": f"{year}-01",
            "base-category": "retired",
            "base-monthly_income": "6543.21",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "不是离退休人员" in html and 'value="6543.21"' in html
    assert not DuesBase.objects.filter(member=member).exists()

    response = client.post(
        url,
        {
            "action": "base",
            "base-effective_from": f"{year}-01",
            "base-category": "in_service",
            "base-monthly_income": "6000",
            "base-declared_by_member": "on",
        },
    )
    assert response.status_code == 302
    created = DuesBase.objects.get(member=member)
    assert created.monthly_income == D("6000") and created.declared_by_member
    assert services.monthly_due(member, date(year, 1, 1)) == D("90.00")

    exemption = {
        "action": "reduction",
        "reduction-base": created.pk,
        "reduction-exempt": "on",
        "reduction-reason": "重病住院",
        "reduction-approved_on": timezone.localdate().isoformat(),
    }
    # the branch's clerk studies it; approving it is the higher committee's: no form, a 403
    html = page(client.get(url))
    assert "减免须报上级党委批准" in html and 'value="reduction"' not in html
    assert client.post(url, exemption).status_code == 403
    assert services.monthly_due(member, date(year, 1, 1)) == D("90.00")

    committee = login(Role.COMMITTEE_ADMIN, district.community)
    html = page(committee.get(url))
    assert 'value="reduction"' in html and "减免须报上级党委批准" not in html
    response = committee.post(url, {**exemption, "reduction-reason": ""})
    assert response.status_code == 400  # a reason is required
    response = committee.post(url, exemption)
    assert response.status_code == 302
    assert services.monthly_due(member, date(year, 1, 1)) == D("0.00")

    response = client.post(
        url,
        {
            "action": "special",
            "special-amount": "500",
            "special-date": timezone.localdate().isoformat(),
        },
    )
    assert response.status_code == 400
    assert "1000" in response.content.decode() and CITATION in response.content.decode()
    response = client.post(
        url,
        {
            "action": "special",
            "special-amount": "2000",
            "special-date": timezone.localdate().isoformat(),
            "special-note": "抗洪救灾",
        },
    )
    assert response.status_code == 302
    assert SpecialContribution.objects.get(member=member).amount == D("2000")

    response = client.post(
        url,
        {
            "action": "payment",
            "payment-month": ym(this_month()),
            "payment-amount": "0",
            "payment-paid_on": timezone.localdate().isoformat(),
        },
    )
    assert response.status_code == 302
    assert DuesPayment.objects.get(member=member).amount_due == D("0.00")
    html = page(client.get(url))
    assert "免交" in html and "重病住院" in html and "抗洪救灾" in html


# ---- scope ----


def test_out_of_scope_organizations_and_members_are_not_found(district, login, admin):
    member = make_member(district.branch_a)
    base(admin, member)
    other_branch = login(Role.CLERK, district.branch_b)
    plain_member = login(Role.MEMBER, district.branch_a)
    month = ym(this_month())
    for client in (other_branch, plain_member):
        for url in (
            f"/dues/org/{district.branch_a.pk}/?month={month}",
            f"/dues/org/{district.community.pk}/statistics/",
            f"/dues/org/{district.branch_a.pk}/export.xlsx",
            f"/dues/member/{member.pk}/",
            f"/dues/member/{member.pk}/pay/",
        ):
            assert client.get(url).status_code == 404, url
        response = client.post(
            f"/dues/member/{member.pk}/pay/",
            {
                f"m{member.pk}-month": month,
                f"m{member.pk}-amount": "40",
                f"m{member.pk}-paid_on": timezone.localdate().isoformat(),
            },
        )
        assert response.status_code == 404
        response = client.post(
            f"/dues/member/{member.pk}/",
            {"action": "special", "special-amount": "2000", "special-date": "2026-01-05"},
        )
        assert response.status_code == 404
    assert not DuesPayment.objects.exists() and not SpecialContribution.objects.exists()
    # the branch's own clerk sees it
    assert login(Role.CLERK, district.branch_a).get(f"/dues/member/{member.pk}/").status_code == 200


def test_a_member_sees_their_own_dues_and_no_one_elses(district, login, admin):
    me = make_member(district.branch_a, "本人党员")
    neighbour = make_member(district.branch_a, "同支部党员")
    base(admin, me, "4000")
    base(admin, neighbour, "12000")
    pay(admin, me)
    pay(admin, neighbour)
    client = login(Role.MEMBER, district.branch_a)
    me.user = client.user
    me.save()

    html = page(client.get("/dues/my/"))
    assert "我的党费" in html and "40.00" in html and "按月交纳" in html
    assert "同支部党员" not in html and "240.00" not in html
    assert "/dues/member/" not in html  # no way into the clerks' pages
    assert 'name="action"' not in html  # read-only
    assert client.get(f"/dues/member/{neighbour.pk}/").status_code == 404
    assert client.get(f"/dues/org/{district.branch_a.pk}/").status_code == 404
    # the menu offers their own dues, not the dues pages
    home = page(client.get("/"))
    assert 'href="/dues/my/"' in home and 'href="/dues/"' not in home
    assert client.get("/dues/").url == "/dues/my/"
    # an account without a member record
    stranger = login(Role.MEMBER, district.branch_a)
    assert "没有关联党员信息" in page(stranger.get("/dues/my/"))


def test_where_the_dues_pages_start(district, login):
    secretary = login(Role.SECRETARY, district.branch_a)
    assert secretary.get("/dues/").url == f"/dues/org/{district.branch_a.pk}/"
    assert 'href="/dues/"' in page(secretary.get("/"))
    committee = login(Role.COMMITTEE_ADMIN, district.street)
    assert committee.get("/dues/").url == f"/dues/org/{district.street.pk}/statistics/"


# ---- collection statistics by child ----


def expected_collection(organization, month):
    """The collection of ``organization``'s subtree computed member by member, the slow way."""
    return expected_collection_of(Organization.objects.within(organization), month)


def expected_collection_of(organizations, month):
    """The collection of the members of ``organizations``, member by member: each one's own
    payment, or ``monthly_due`` from the base in force (not the set-based tally)."""
    owing = paid_count = without = 0
    due = paid = D("0.00")
    for member in Member.objects.filter(organization__in=organizations, standing__in=ON_ROSTER):
        if services.first_owed_month(member) > month:
            continue
        owing += 1
        payment = DuesPayment.objects.filter(member=member, month=month).first()
        if payment is not None:
            paid_count += 1
            due += payment.amount_due
            paid += payment.amount_paid
        elif services.base_for(member, month) is None:
            without += 1
        else:
            due += services.monthly_due(member, month)
    return owing, paid_count, without, due, paid


@pytest.fixture
def collection_data(district, admin):
    """Members across the district: every category, a reduction, an exemption, members
    without a base, payments including one with a special contribution, a member who left."""
    month = this_month()
    start = add_months(month, -3)
    people = []
    for organization, incomes in (
        (district.community, ["2500"]),
        (district.branch_a, ["3000.01", "5000", "10000.01", "12345.67"]),
        (district.branch_b, ["4999.99", "8000"]),
        (district.organ_branch, ["20000", "6000"]),
        (district.root, ["7000"]),
    ):
        for income in incomes:
            member = make_member(organization)
            base(admin, member, income, start=start)
            people.append(member)
    retiree = make_member(district.branch_b, occupation="retired", category="retired")
    base(admin, retiree, "5500", start=start, category="retired")
    farmer = make_member(district.branch_a, occupation="farmer")
    services.set_base(
        admin, farmer, {"category": "farmer", "fixed_amount": "0.60", "effective_from": start}
    )
    student = make_member(district.organ_branch, occupation="student")
    services.set_base(admin, student, {"category": "student", "effective_from": start})
    reduced = make_member(district.branch_b)
    services.approve_reduction(
        admin, base(admin, reduced, "9000", start=start), amount="20", reason="困难"
    )
    exempt = make_member(district.community)
    services.approve_reduction(
        admin, base(admin, exempt, "3000", start=start), exempt=True, reason="重病"
    )
    make_member(district.branch_a)  # no base
    make_member(district.organ_branch)  # no base
    make_member(district.branch_b, standing="left")  # off the roster
    make_member(district.branch_a, joined_on=timezone.localdate())  # owes from next month
    for member in [*people[::2], farmer, retiree]:
        pay(admin, member, month)
    # paid, then the income changes from this month: the month counts as it was paid
    changed = make_member(district.group_a)
    base(admin, changed, "4000", start=start)
    pay(admin, changed, month)
    base(admin, changed, "16000", start=month)
    pay(admin, people[1], month, services.monthly_due(people[1], month) + 1500)  # special
    return month


def test_statistics_by_child_equal_the_sums_member_by_member(district, collection_data):
    month = collection_data
    for organization in (district.root, district.street, district.community):
        with CaptureQueriesContext(connection) as queries:
            result = statistics.by_child(organization, month)
        # the rules in force, one aggregate, the children: never a query per child
        assert len(queries) <= 4, [q["sql"] for q in queries.captured_queries]
        for row in result.rows:
            c = row.collection
            if row.is_self:
                own = Organization.objects.filter(pk=organization.pk)
                expected = expected_collection_of(own, month)
            else:
                expected = expected_collection(row.organization, month)
            assert (
                c.members_owing,
                c.members_paid,
                c.members_without_base,
                c.due,
                c.paid,
            ) == expected, row.organization.name
        assert (
            result.total.members_owing,
            result.total.members_paid,
            result.total.members_without_base,
            result.total.due,
            result.total.paid,
        ) == expected_collection(organization, month)
        # the total is the sum of the rows, and equals collection() of the subtree
        assert sum(r.collection.due for r in result.rows) == result.total.due
        whole = services.collection(Organization.objects.within(organization), month)
        assert (whole.due, whole.paid, whole.members_owing) == (
            result.total.due,
            result.total.paid,
            result.total.members_owing,
        )
    root_rows = {r.organization.pk: r for r in statistics.by_child(district.root, month).rows}
    assert set(root_rows) == {district.root.pk, district.street.pk, district.organs.pk}
    assert root_rows[district.root.pk].is_self


def test_the_statistics_page_drills_down_within_the_scope(district, login, collection_data):
    month = collection_data
    client = login(Role.COMMITTEE_ADMIN, district.street)
    html = page(client.get(f"/dues/org/{district.street.pk}/statistics/?month={ym(month)}"))
    community = expected_collection(district.community, month)
    assert district.community.name in html
    assert f"{community[3]}" in html and f"{community[4]}" in html
    assert district.organs.name not in html  # outside the street
    assert f"/dues/org/{district.community.pk}/statistics/?month={ym(month)}" in html
    html = page(client.get(f"/dues/org/{district.community.pk}/statistics/?month={ym(month)}"))
    assert district.branch_a.name in html and "（本级）" in html
    assert f"/dues/org/{district.branch_a.pk}/?month={ym(month)}" in html
    assert f"{expected_collection(district.branch_a, month)[3]}" in html


# ---- the Excel sheet ----


def test_the_monthly_sheet_exports_to_excel_with_a_totals_row(district, login, admin):
    client = login(Role.SECRETARY, district.branch_a)
    li = make_member(district.branch_a, "李明")
    wang = make_member(district.branch_a, "王芳")
    make_member(district.branch_a, "赵无基数")
    make_member(district.branch_b, "孙二支部")
    base(admin, li, "8000")  # 120.00
    base(admin, wang, "3000")  # 15.00
    month = this_month()
    pay(admin, li, month, "120", note='=HYPERLINK("http://x")')

    response = client.get(f"/dues/org/{district.branch_a.pk}/export.xlsx?month={ym(month)}")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(BytesIO(b"".join(response.streaming_content)))
    sheet = workbook.active
    rows = list(sheet.iter_rows(values_only=True))
    assert district.branch_a.name in rows[0][0] and f"{month:%Y年%m月}" in rows[0][0]
    assert "党费收缴登记表" in rows[0][0]
    header = rows[2]
    for title in ("姓名", "交纳类别", "月收入基数（元）", "交纳比例", "应交金额（元）",
                  "实交金额（元）", "交纳方式", "交纳日期", "登记人", "备注"):  # fmt: skip
        assert title in header
    col = {name: header.index(name) for name in header}
    lines = {row[col["姓名"]]: row for row in rows[3:-1]}
    assert set(lines) == {"李明", "王芳", "赵无基数"}
    assert lines["李明"][col["应交金额（元）"]] == 120
    assert lines["李明"][col["实交金额（元）"]] == 120
    assert lines["李明"][col["交纳比例"]] == "1.5%"
    assert lines["李明"][col["月收入基数（元）"]] == 8000
    assert lines["李明"][col["交纳方式"]] == "按月交纳"
    assert lines["李明"][col["交纳日期"]].date() == timezone.localdate()
    assert lines["李明"][col["登记人"]] == "区党费管理员"
    assert lines["李明"][col["备注"]].startswith("'=")  # never a formula
    assert lines["王芳"][col["应交金额（元）"]] == 15
    assert lines["王芳"][col["实交金额（元）"]] is None
    assert lines["王芳"][col["交纳方式"]] == "未交"
    assert lines["赵无基数"][col["备注"]] == "未确定交纳基数"
    totals = rows[-1]
    assert totals[0] == "合计"
    assert totals[col["应交金额（元）"]] == 135
    assert totals[col["实交金额（元）"]] == 120
    assert "3" in totals[1]  # owing
