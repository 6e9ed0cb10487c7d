"""In a real browser, on phones: a clerk records a meeting held today and opens sign-in; a
member enters the code on a 390-px-wide phone and sees 签到成功; the clerk's attendance form
saves through htmx and says what is missing. Same set-up as test_smoke: Debian's Chromium
driven by Playwright against ``manage.py runserver`` on its own SQLite database.
"""

from __future__ import annotations

import pytest

from .test_smoke import (  # noqa: F401
    browser,
    demo_server,
    fits_the_screen,
    screenshot,
    sign_in,
)

pytestmark = pytest.mark.browser
playwright = pytest.importorskip("playwright.sync_api")

# Make sure the demo member is someone a branch-wide meeting expects (on the roster, reachable).
PREPARE = """
from dangjian.accounts.models import RoleGrant
from dangjian.members.models import Member
grant = RoleGrant.objects.get(user__username="branch_clerk")
Member.objects.filter(user__username="member_demo").update(
    organization=grant.organization, standing="normal", joined_on="2000-07-01"
)
print(grant.organization_id)
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The product with the tiny demo data; and the demo branch."""
    with demo_server(tmp_path_factory, PREPARE, MEDIA_ROOT="{var}/media") as (url, printed):
        yield url, int(printed.strip().splitlines()[-1])


def phone(browser):  # noqa: F811
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    return context, context.new_page()


def test_a_member_signs_in_on_the_phone_with_the_code_the_clerk_shows(browser, server):  # noqa: F811
    url, branch = server
    clerk_context, clerk = phone(browser)
    member_context, member = phone(browser)
    try:
        sign_in(clerk, url, "branch_clerk")
        clerk.wait_for_url(f"{url}/")
        clerk.goto(f"{url}/life/org/{branch}/meetings/")
        clerk.click("text=登记会议")
        clerk.click("text=主题党日")
        clerk.fill("input[name=topic]", "重温入党誓词主题党日")
        clerk.fill("input[name=place]", "党群服务中心")
        clerk.click("form.card button[type=submit]")
        clerk.wait_for_url("**/life/meetings/*/")
        assert clerk.locator("h1").inner_text() == "重温入党誓词主题党日"
        assert fits_the_screen(clerk)

        clerk.click("#checkin button[type=submit]")
        clerk.wait_for_load_state()
        code = clerk.locator(".checkin-code").inner_text().strip()
        assert len(code) == 6 and code.isdigit()
        assert clerk.locator(".checkin-qr svg").count() == 1
        screenshot(clerk, "browser-checkin-open.png")

        sign_in(member, url, "member_demo")
        member.wait_for_url(f"{url}/")
        member.goto(f"{url}/life/checkin/")
        member.fill("input[name=code]", "000000" if code != "000000" else "111111")
        member.click("main form button[type=submit]")
        assert member.locator(".errorlist").inner_text().startswith("签到码无效")
        member.fill("input[name=code]", code)
        member.click("main form button[type=submit]")
        member.wait_for_url("**/life/checkin/done/*/")
        assert member.locator(".big-ok").inner_text().endswith("签到成功")
        assert "重温入党誓词主题党日" in member.locator("main").inner_text()
        assert fits_the_screen(member)
        screenshot(member, "browser-checkin-done.png")

        # The host's panel counts the sign-in by itself (htmx polling).
        clerk.locator("#checkin-panel .badge.ok", has_text="1 人").wait_for(timeout=12000)

        # Attendance is one htmx form: a refused save says why, without leaving the page.
        clerk.reload()
        meeting_url = clerk.url
        first = clerk.locator("#attendance-form select").first
        first.select_option("absent")
        clerk.click("text=保存出席情况")
        clerk.locator("#attendance-form .errorlist").wait_for()
        assert "须注明原因" in clerk.locator("#attendance-form .errorlist").inner_text()
        assert clerk.url == meeting_url
        screenshot(clerk, "browser-attendance.png")

        member.goto(f"{url}/life/my/")
        assert "重温入党誓词主题党日" in member.locator("main").inner_text()
        assert fits_the_screen(member)
        screenshot(member, "browser-my-life.png")
    finally:
        clerk_context.close()
        member_context.close()
