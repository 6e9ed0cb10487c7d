"""In a real browser on a phone-sized window: a branch clerk opens the development pipeline,
follows an overdue person to their record, and records the next step from the record page.
The records are made by the ``prepare`` hook (through the services), so the test does not
depend on what the demo data holds."""

from __future__ import annotations

import pytest

from .test_smoke import (  # noqa: F401
    browser,
    demo_server,
    fits_the_screen,
    page,
    screenshot,
    sign_in,
)

pytestmark = pytest.mark.browser

# An applicant whose talk is overdue, and a candidate walked through steps 1-11 of the demo
# branch, contacts and sponsors being full members of the branch's parent subtree.
PREPARE = """
from datetime import date
from dangjian.accounts.models import RoleGrant, User
from dangjian.development import services
from dangjian.members.idnumber import check_character
from dangjian.members.models import Member

grant = RoleGrant.objects.get(user__username="branch_clerk")
branch, clerk = grant.organization, grant.user
committee = User.objects.get(username="quwei_admin")


def person(name, birth, sequence):
    first17 = f"110105{birth:%Y%m%d}{sequence:03d}"
    return {
        "name": name, "gender": "female", "ethnicity": "汉族",
        "id_number": first17 + check_character(first17), "birth_date": birth,
        "education": "bachelor", "occupation": "enterprise_staff", "work_unit": "某某科技公司",
    }


applicant = person("浏览器申请", date(2000, 3, 15), 802)
applicant["date"] = date(date.today().year - 1, 1, 5)
services.open_record(clerk, branch, applicant)
record = services.open_record(
    clerk, branch, {**person("浏览器对象", date(1998, 6, 1), 804), "date": date(2023, 3, 1)}
)
full = Member.objects.within(services.approver_organization(record)).filter(
    membership="full", standing="normal", full_member_on__lte=date(2023, 1, 1)
).order_by("organization_id", "pk")
pair = [m.pk for m in full[:2]]
path = {
    2: {"date": date(2023, 3, 20), "people": ["王组织委员"]},
    3: {"date": date(2023, 5, 10), "note": "党员推荐、支委会研究确定"},
    4: {"date": date(2023, 5, 20)},
    5: {"date": date(2023, 5, 20), "people": pair},
    6: {"date": date(2023, 11, 10), "note": "第一次半年考察：表现积极"},
    7: {"date": date(2024, 6, 1)},
    8: {"date": date(2024, 6, 10)},
    9: {"date": date(2024, 6, 15), "people": pair},
    10: {"date": date(2024, 7, 1), "passed": True},
    11: {"date": date(2024, 7, 10), "training_days": 3, "training_hours": 24},
}
for number, data in path.items():
    if number == 7:
        services.add_assessment(clerk, record, date(2024, 5, 10), "第二次半年考察：合格")
    services.record_step(committee if number in (4, 8) else clerk, record, number, data)
    record.refresh_from_db()
print(branch.pk, record.pk)
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The product with the tiny demo data; the demo branch and the prepared candidate."""
    with demo_server(tmp_path_factory, PREPARE) as (url, printed):
        branch, record = printed.strip().splitlines()[-1].split()
        yield url, int(branch), int(record)


def test_a_clerk_follows_the_pipeline_to_a_record_and_records_the_next_step(page, server):  # noqa: F811
    url, branch, record = server
    sign_in(page, url, "branch_clerk")
    page.wait_for_url(f"{url}/")
    page.click("nav.main >> text=发展党员")
    page.wait_for_url(f"**/development/org/{branch}/")
    assert "发展党员" in page.locator("h1").inner_text()
    assert page.locator("table.pipeline tbody tr").count() >= 2  # totals and the branch
    overdue = page.locator("#overdue")
    assert "浏览器申请" in overdue.inner_text() and "第七条" in overdue.inner_text()
    # The table scrolls inside its frame; the page itself stays phone-wide.
    assert fits_the_screen(page)
    screenshot(page, "browser-development-pipeline.png")

    page.goto(f"{url}/development/records/{record}/")
    assert page.locator("h1").inner_text().startswith("浏览器对象")
    assert "下一步：12. 支部委员会审查" in page.locator("#next-step").inner_text()
    assert page.locator("#timeline li.done").count() == 11
    assert page.locator("#timeline li.next").inner_text().startswith("12")
    assert fits_the_screen(page)
    screenshot(page, "browser-development-record.png")

    page.fill("#next-step textarea[name=note]", "支委会审查同意")
    page.click("#next-step button[type=submit]")
    page.wait_for_load_state()
    assert "已登记“12. 支部委员会审查”" in page.locator(".messages").inner_text()
    assert page.locator("#timeline li.done").count() == 12
    # 13 is the higher committee's (the pre-review and public notice)
    assert "待上级党委办理" in page.locator("#next-step").inner_text()
    assert fits_the_screen(page)
