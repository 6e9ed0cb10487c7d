"""In a real browser on a phone-sized window: a branch's year at a glance and a committee's
matrix with drill-down, on the demo data's meeting history."""

from __future__ import annotations

import pytest

from .test_smoke import (  # noqa: F401
    browser,
    fits_the_screen,
    page,
    screenshot,
    server,
    sign_in,
    totp_now,
)

pytestmark = pytest.mark.browser


def test_a_secretary_sees_the_branch_year_without_the_page_scrolling_sideways(page, server):  # noqa: F811
    sign_in(page, server, "branch_secretary")
    page.wait_for_url(f"{server}/")
    page.goto(f"{server}/life/")
    page.wait_for_url("**/year/**")
    assert "组织生活一览" in page.locator("h1").inner_text()
    cells = page.locator("table.compliance td.st")
    assert cells.count() > 12
    # The table scrolls inside its frame; the page itself stays phone-wide.
    assert fits_the_screen(page)
    first = page.locator("table.compliance td.st").first
    assert "依据" not in first.inner_text()  # the rule sits in the tooltip…
    assert "条例" in (first.get_attribute("title") or "")  # …with its citation
    screenshot(page, "browser-compliance-year.png")


def test_a_committee_drills_down_its_matrix(page, server):  # noqa: F811
    sign_in(page, server, "quwei_admin")
    page.wait_for_url("**/accounts/otp/setup/**")
    secret = page.locator("code").first.inner_text().strip()
    page.fill("input[name=token]", totp_now(secret))
    page.click("form.stack button[type=submit]")
    page.wait_for_url(f"{server}/")

    page.goto(f"{server}/life/")
    page.wait_for_url("**/compliance/**")
    assert "达标情况" in page.locator("h1").inner_text()
    assert fits_the_screen(page)
    screenshot(page, "browser-compliance-matrix.png")

    link = page.locator("table.compliance tbody td.name a").first
    name = link.inner_text()
    link.click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith(name)
    with page.expect_download() as download:
        page.click("text=导出Excel")
    assert download.value.suggested_filename.endswith(".xlsx")
