"""In a real browser: sign in (with the second factor where the role needs it), open the tree,
expand a node, and see the home page's flags. Debian's Chromium driven by Playwright, against
the product served by ``manage.py runserver`` on its own SQLite database with demo data.
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PASSWORD = "Dangjian@2026"

if CHROMIUM is None:
    pytest.skip(
        "Debian's chromium is not installed (apt-get install chromium); "
        ".ci/run installs it so CI runs this test",
        allow_module_level=True,
    )
playwright = pytest.importorskip("playwright.sync_api")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def demo_server(tmp_path_factory, prepare: str | None = None, **extra_env):
    """The product on a fresh SQLite database seeded with the tiny demo data set, served by
    ``runserver``; ``prepare`` is run in ``manage.py shell`` first. Yields (address, what
    ``prepare`` printed)."""
    var = tmp_path_factory.mktemp("var")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{var / 'browser.sqlite3'}",
        "DANGJIAN_VAR_DIR": str(var),
        "DJANGO_SETTINGS_MODULE": "dangjian.settings",
        **{key: value.format(var=var) for key, value in extra_env.items()},
    }
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, check=True, cwd=ROOT)
    subprocess.run(
        [*manage, "seed_demo", "--scale", "tiny"],
        env=env,
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    printed = ""
    if prepare:
        printed = subprocess.run(
            [*manage, "shell", "-c", prepare],
            env=env,
            check=True,
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout
    port = free_port()
    process = subprocess.Popen(
        [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{url}/accounts/login/", timeout=2)
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("the server did not start") from None
            time.sleep(0.3)
    try:
        yield url, printed
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with demo_server(tmp_path_factory) as (url, _printed):
        yield url


def fits_the_screen(page) -> bool:
    """Nothing makes the whole page scroll sideways (wide tables scroll inside their box)."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    # A phone-sized window: every page must work on a phone.
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


def sign_in(page, server, username):
    page.goto(f"{server}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def screenshot(page, name: str) -> None:
    """Kept under var/ (ignored by git) for a person to look at."""
    folder = ROOT / "var"
    folder.mkdir(exist_ok=True)
    page.screenshot(path=str(folder / name), full_page=True)


def totp_now(secret: str) -> str:
    from django_otp.oath import totp

    return f"{totp(base64.b32decode(secret)):06d}"


def test_secretary_signs_in_and_expands_the_tree(page, server):
    sign_in(page, server, "branch_secretary")
    page.wait_for_url(f"{server}/")
    assert page.locator("h1").inner_text().startswith("您好")

    page.goto(f"{server}/orgs/tree/")
    first = page.locator("#tree > li").first
    toggle = first.locator("button.toggle").first
    if toggle.count():
        toggle.click()
        first.locator("ul li").first.wait_for()
        assert first.locator("ul li").count() >= 1
    screenshot(page, "browser-tree.png")


def test_committee_admin_enrolls_a_second_factor_and_sees_the_district(page, server):
    sign_in(page, server, "quwei_admin")
    page.wait_for_url("**/accounts/otp/setup/**")
    secret = page.locator("code").first.inner_text().strip()
    page.fill("input[name=token]", totp_now(secret))
    page.click("form.stack button[type=submit]")
    page.wait_for_url(f"{server}/")
    assert page.locator("text=需要关注").count() == 1

    page.goto(f"{server}/orgs/tree/")
    root = page.locator("#tree > li").first
    root.locator("button.toggle").first.click()
    child = root.locator("ul li a").first
    child.wait_for()
    name = child.inner_text()
    child.click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith(name)
    screenshot(page, "browser-detail.png")


def test_secretary_browses_the_roster_and_reveals_a_number(page, server):
    sign_in(page, server, "branch_secretary")
    page.wait_for_url(f"{server}/")
    page.goto(f"{server}/members/")
    rows = page.locator("#roster-rows tbody tr")
    assert rows.count() >= 3
    masked = rows.first.locator("td").nth(3).inner_text()
    assert "********" in masked

    # Filtering goes through htmx without a page load.
    page.select_option("select[name=gender]", "female")
    page.wait_for_load_state("networkidle")
    assert "gender=female" in page.url
    genders = page.locator("#roster-rows tbody tr td:nth-child(2)").all_inner_texts()
    assert genders and set(genders) == {"女"}

    page.locator("#roster-rows tbody tr a").first.click()
    page.wait_for_load_state()
    page.on("dialog", lambda dialog: dialog.accept())  # "this will be audited"
    page.click("text=查看完整号码")
    revealed = page.locator(".revealed")
    revealed.wait_for()
    assert "*" not in revealed.inner_text() and len(revealed.inner_text()) == 18
    screenshot(page, "browser-member.png")
