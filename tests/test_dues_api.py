"""The dues API: payments (list, filter, record), bases and collection statistics, scoped to
the user's dues subtrees like the pages; a rule of the regulations refused with its citation."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from dangjian.accounts.roles import Role
from dangjian.dues import services
from dangjian.dues.models import DuesBase, DuesPayment, PaymentKind, SpecialContribution
from dangjian.organizations.models import Organization
from dangjian.organizations.services import add_months

from .factories import UserFactory, api_client_for, grant, make_member
from .test_dues_pages import collection_data, expected_collection, expected_collection_of  # noqa: F401

D = Decimal
CITATION = "中组发〔2008〕3号"


@pytest.fixture(autouse=True)
def no_second_factor(settings):
    settings.OTP_REQUIRED_ROLES = []


client_for = api_client_for


def this_month() -> date:
    return timezone.localdate().replace(day=1)


def ym(month: date) -> str:
    return f"{month:%Y-%m}"


@pytest.fixture
def admin(district):
    user = UserFactory(full_name="区党费管理员")
    grant(user, district.root, Role.COMMITTEE_ADMIN)
    return user


def in_service(actor, member, income, start=None):
    return services.set_base(
        actor,
        member,
        {
            "category": "in_service",
            "monthly_income": income,
            "effective_from": start or add_months(this_month(), -12),
        },
    )


@pytest.fixture
def ledger(district, admin):
    """Members with bases in both community branches and in the organs' branch, and their
    payments for this month and last month."""
    month, last = this_month(), add_months(this_month(), -1)
    people = {
        "li": make_member(district.branch_a, "李明"),
        "wang": make_member(district.branch_a, "王芳"),
        "chen": make_member(district.branch_b, "陈刚"),
        "zhou": make_member(district.organ_branch, "周机关"),
    }
    for member, income in zip(people.values(), ["8000", "3000", "4000", "6000"], strict=True):
        in_service(admin, member, income)
    today = timezone.localdate()
    for member in people.values():
        services.record_payment(admin, member, month, services.monthly_due(member, month), today)
    services.record_payment(admin, people["li"], last, "120", today)
    return people


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return sorted(row["member_name"] for row in response.json()["results"])


# ---- payments ----


def test_payments_are_listed_within_the_scope_and_filtered(district, ledger):
    community = client_for(Role.CLERK, district.community)
    assert names(community.get("/api/dues/payments/")) == ["李明", "李明", "王芳", "陈刚"]
    assert names(community.get(f"/api/dues/payments/?organization={district.branch_a.pk}")) == [
        "李明",
        "李明",
        "王芳",
    ]
    month = ym(this_month())
    assert names(community.get(f"/api/dues/payments/?month={month}")) == ["李明", "王芳", "陈刚"]
    li = ledger["li"].pk
    rows = community.get(f"/api/dues/payments/?member={li}").json()["results"]
    assert [row["month"] for row in rows] == [month, ym(add_months(this_month(), -1))]
    assert {row["kind"] for row in rows} == {PaymentKind.ON_TIME, PaymentKind.BACK_PAID}
    assert rows[0]["amount_due"] == "120.00" and rows[0]["recorded_by_name"] == "区党费管理员"
    assert rows[0]["organization_name"] == district.branch_a.name
    assert names(community.get("/api/dues/payments/?kind=back_paid")) == ["李明"]
    # by year: this month's three in the scope, and last month's when it is the same year
    paid = [("李明", this_month()), ("王芳", this_month()), ("陈刚", this_month())]
    paid.append(("李明", add_months(this_month(), -1)))
    for year in {month.year for _, month in paid}:
        expected = sorted(name for name, month in paid if month.year == year)
        assert names(community.get(f"/api/dues/payments/?year={year}")) == expected
    assert names(community.get(f"/api/dues/payments/?year={this_month().year - 5}")) == []
    # an organization outside the scope: nothing, not an error
    assert names(community.get(f"/api/dues/payments/?organization={district.organs.pk}")) == []
    zhou = DuesPayment.objects.get(member=ledger["zhou"])
    assert community.get(f"/api/dues/payments/{zhou.pk}/").status_code == 404
    assert community.get("/api/dues/payments/?month=May").status_code == 400
    # a plain member sees no one's payments
    member = client_for(Role.MEMBER, district.branch_a)
    assert names(member.get("/api/dues/payments/")) == []


def test_recording_a_payment_goes_through_the_service(district, admin):
    member = make_member(district.branch_a, "李明")
    in_service(admin, member, "8000")
    clerk = client_for(Role.CLERK, district.branch_a)
    response = clerk.post(
        "/api/dues/payments/",
        {
            "member": member.pk,
            "month": ym(this_month()),
            "amount": "1120.00",
            "paid_on": timezone.localdate().isoformat(),
            "note": "随党费交纳",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "on_time" and body["amount_due"] == "120.00"
    assert body["amount_paid"] == "120.00"  # the 1000 beyond is recorded separately
    assert [s["amount"] for s in body["special_contributions"]] == ["1000.00"]
    assert body["recorded_by"] == clerk.user.pk
    assert SpecialContribution.objects.get(member=member).amount == D("1000")
    # the same month twice
    again = clerk.post(
        "/api/dues/payments/",
        {
            "member": member.pk,
            "month": ym(this_month()),
            "amount": "120",
            "paid_on": timezone.localdate().isoformat(),
        },
        format="json",
    )
    assert again.status_code == 400 and "已登记" in str(again.json())


def test_a_payment_dated_after_today_or_without_a_base_is_a_400(district, admin):
    member = make_member(district.branch_a, "李明")
    clerk = client_for(Role.CLERK, district.branch_a)
    today = timezone.localdate()
    data = {"member": member.pk, "month": ym(this_month()), "amount": "40"}
    # no base yet: nothing is known to be due (not 0.00 due, nor 1000 of it a special)
    for amount in ("40", "1040"):
        response = clerk.post(
            "/api/dues/payments/",
            {**data, "amount": amount, "paid_on": today.isoformat()},
            format="json",
        )
        assert response.status_code == 400
        assert "请先设定党费交纳基数" in str(response.json())
    assert not SpecialContribution.objects.exists()
    in_service(admin, member, "4000")
    tomorrow = today + timedelta(days=1)
    response = clerk.post(
        "/api/dues/payments/", {**data, "paid_on": tomorrow.isoformat()}, format="json"
    )
    assert response.status_code == 400
    assert "交纳日期不能晚于今天" in str(response.json())
    assert not DuesPayment.objects.exists()
    response = clerk.post(
        "/api/dues/payments/", {**data, "paid_on": today.isoformat()}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["paid_on"] == today.isoformat()


def test_a_back_payment_beyond_the_limit_is_a_400_with_the_citation(district, admin):
    member = make_member(district.branch_a)
    in_service(admin, member, "4000", start=add_months(this_month(), -24))
    clerk = client_for(Role.CLERK, district.branch_a)
    old = add_months(this_month(), -7)
    data = {
        "member": member.pk,
        "month": ym(old),
        "amount": "40",
        "paid_on": timezone.localdate().isoformat(),
    }
    refused = clerk.post("/api/dues/payments/", data, format="json")
    assert refused.status_code == 400
    body = refused.json()
    assert body["code"] == "rule"
    assert CITATION in body["citation"]
    assert "补交党费一般不超过6个月" in body["detail"]
    assert not DuesPayment.objects.filter(member=member).exists()

    no_reason = clerk.post("/api/dues/payments/", {**data, "approved": True}, format="json")
    assert no_reason.status_code == 400 and "批准理由" in str(no_reason.json())

    approved = clerk.post(
        "/api/dues/payments/",
        {**data, "approved": True, "reason": "支部委员会研究同意"},
        format="json",
    )
    assert approved.status_code == 201, approved.content
    assert approved.json()["kind"] == "back_paid"
    assert approved.json()["approved_reason"] == "支部委员会研究同意"
    # six months back is within the limit: no approval needed
    six = clerk.post(
        "/api/dues/payments/",
        {**data, "month": ym(add_months(this_month(), -6))},
        format="json",
    )
    assert six.status_code == 201, six.content


def test_payments_cannot_be_recorded_outside_the_scope(district, admin):
    member = make_member(district.branch_a)
    in_service(admin, member, "4000")
    data = {
        "member": member.pk,
        "month": ym(this_month()),
        "amount": "40",
        "paid_on": timezone.localdate().isoformat(),
    }
    for client in (
        client_for(Role.CLERK, district.branch_b),
        client_for(Role.MEMBER, district.branch_a),
    ):
        response = client.post("/api/dues/payments/", data, format="json")
        assert response.status_code == 400  # the member cannot even be named
        assert "member" in response.json()
    assert APIClient().post("/api/dues/payments/", data, format="json").status_code == 401
    assert not DuesPayment.objects.exists()


# ---- bases ----


def test_bases_are_listed_with_their_monthly_due_and_set_through_the_service(district, admin):
    li = make_member(district.branch_a, "李明")
    year = this_month().year
    in_service(admin, li, "4000", start=date(year - 1, 1, 1))
    in_service(admin, li, "8000", start=date(year, 3, 1))
    in_service(admin, li, "12000", start=date(year, 9, 1))
    farmer = make_member(district.branch_a, "张农", occupation="farmer")
    make_member(district.organ_branch, "周机关")
    clerk = client_for(Role.CLERK, district.branch_a)

    rows = clerk.get(f"/api/dues/bases/?member={li.pk}").json()["results"]
    assert [(r["effective_from"], r["monthly_due"]) for r in rows] == [
        (f"{year - 1}-01", "40.00"),
        (f"{year}-03", "120.00"),
        (f"{year}-09", "240.00"),
    ]
    # in force during last year: only the first
    rows = clerk.get(f"/api/dues/bases/?year={year - 1}").json()["results"]
    assert [r["effective_from"] for r in rows] == [f"{year - 1}-01"]
    rows = clerk.get(f"/api/dues/bases/?year={year}").json()["results"]
    assert [r["effective_from"] for r in rows] == [f"{year - 1}-01", f"{year}-03", f"{year}-09"]

    response = clerk.post(
        "/api/dues/bases/",
        {"member": farmer.pk, "category": "farmer", "fixed_amount": "1.50"},
        format="json",
    )
    assert response.status_code == 400
    assert CITATION in response.json()["citation"]
    response = clerk.post(
        "/api/dues/bases/",
        {
            "member": farmer.pk,
            "category": "farmer",
            "fixed_amount": "0.80",
            "effective_from": f"{year}-01",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["monthly_due"] == "0.80"
    assert response.json()["category_label"].startswith("农民党员")
    assert DuesBase.objects.get(member=farmer).entered_by == clerk.user
    response = clerk.post(
        "/api/dues/bases/", {"member": farmer.pk, "category": "retired"}, format="json"
    )
    assert response.status_code == 400 and "不是离退休人员" in str(response.json())
    # out of scope
    other = client_for(Role.CLERK, district.branch_b)
    assert other.get(f"/api/dues/bases/?member={li.pk}").json()["results"] == []
    assert other.get(f"/api/dues/bases/?organization={district.branch_a.pk}").json()["count"] == 0


# ---- collection statistics ----


def test_collection_statistics_per_child_equal_the_sums_member_by_member(
    district,
    collection_data,  # noqa: F811
):
    month = collection_data
    client = client_for(Role.COMMITTEE_ADMIN, district.root)
    response = client.get(
        f"/api/dues/collection/?organization={district.root.pk}&month={ym(month)}"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["month"] == ym(month)
    rows = {row["id"]: row for row in body["results"]}
    assert set(rows) == {district.root.pk, district.street.pk, district.organs.pk}
    assert rows[district.root.pk]["is_self"]

    def numbers(row):
        return (
            row["members_owing"],
            row["members_paid"],
            row["members_without_base"],
            D(row["due"]),
            D(row["paid"]),
        )

    assert numbers(rows[district.street.pk]) == expected_collection(district.street, month)
    assert numbers(rows[district.organs.pk]) == expected_collection(district.organs, month)
    own = Organization.objects.filter(pk=district.root.pk)
    assert numbers(rows[district.root.pk]) == expected_collection_of(own, month)
    assert numbers(body["total"]) == expected_collection(district.root, month)
    total = body["total"]
    assert D(total["rate"]) == (D(total["paid"]) / D(total["due"])).quantize(D("0.0001"))
    assert total["members_unpaid"] == total["members_owing"] - total["members_paid"]

    # a clerk of the community asks about the street: not found
    community = client_for(Role.CLERK, district.community)
    response = community.get(f"/api/dues/collection/?organization={district.street.pk}")
    assert response.status_code == 404
    response = community.get(f"/api/dues/collection/?organization={district.community.pk}")
    assert response.status_code == 200
    assert response.json()["month"] == ym(this_month())
    assert community.get("/api/dues/collection/").status_code == 400
