"""In a real browser: a committee's statistics. The dashboard's panels load side by side
(htmx) and ECharts draws every chart on a 390-px phone; a bar opens the list behind it; the
statistics tables scroll inside their frames; the big screen draws in the dark theme on a wide
screen; a report draft downloads as a .docx. Same set-up as test_smoke: Debian's Chromium
driven by Playwright against ``manage.py runserver`` on its own SQLite database with the tiny
demo data.

The committee admin signs in without the second factor (``OTP_REQUIRED_ROLES=none`` for this
server only): enrolling it is test_smoke's business, and a TOTP code cannot be used twice in
the same 30 seconds, which several sign-ins in a row would need.
"""

from __future__ import annotations

import re

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
docx = pytest.importorskip("docx")

USER = "quwei_admin"  # the demo committee admin, at the top of the demo tree
PANELS = {"members", "organizations", "life", "development", "dues", "flags"}

PREPARE = f"""
from dangjian.accounts.models import RoleGrant
grant = RoleGrant.objects.select_related("organization").get(user__username="{USER}")
print(grant.organization_id, grant.organization.name)
"""

# Every panel has replaced its "正在统计……" placeholder, and every chart in it has been drawn
# (an ECharts instance with its canvas) and has finished its entry animation.
DRAWN = """() => {
  const panels = [...document.querySelectorAll("section.panel")];
  if (!window.echarts || !panels.length || !panels.every(p => p.querySelector(".kpis"))) {
    return false;
  }
  return [...document.querySelectorAll("section.panel [data-chart]")].every(el => {
    const chart = echarts.getInstanceByDom(el);
    return chart && el.querySelector("canvas") && chart.getZr().animation.isFinished();
  });
}"""

CHARTS = """() => [...document.querySelectorAll("[data-chart]")].map(el => {
  const chart = echarts.getInstanceByDom(el);
  const option = chart ? chart.getOption() : null;
  return {
    id: el.id,
    panel: el.closest("section.panel").id,
    canvas: !!el.querySelector("canvas"),
    instance: !!chart,
    dark: el.dataset.dark,
    type: option ? option.series[0].type : null,
    background: option ? option.backgroundColor : null,
    text: option && option.textStyle ? option.textStyle.color || null : null,
  };
})"""

# Where to click the data item ``index`` (the largest when null) of a bar chart: the middle of
# its bar, in pixels from the chart element's top left, with what the item carries.
BAR = """([id, index]) => {
  const el = document.getElementById(id);
  const chart = echarts.getInstanceByDom(el);
  const option = chart.getOption();
  const vertical = option.xAxis[0].type === "category";
  const labels = (vertical ? option.xAxis[0] : option.yAxis[0]).data;
  const data = option.series[0].data;
  if (index === null) {
    index = 0;
    data.forEach((item, i) => { if (item.value > data[index].value) index = i; });
  }
  const item = data[index];
  const at = value =>
    chart.convertToPixel({seriesIndex: 0}, vertical ? [index, value] : [value, index]);
  const end = at(item.value), base = at(0);
  return {
    label: labels[index], value: item.value, url: item.url,
    x: (end[0] + base[0]) / 2, y: (end[1] + base[1]) / 2,
    length: vertical ? base[1] - end[1] : end[0] - base[0],
  };
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The product with the tiny demo data, no second factor; the top organization."""
    with demo_server(tmp_path_factory, PREPARE, OTP_REQUIRED_ROLES="none") as (url, printed):
        pk, name = printed.strip().splitlines()[-1].split(maxsplit=1)
        yield url, int(pk), name


def signed_in(page, url):  # noqa: F811
    sign_in(page, url, USER)
    page.wait_for_url(f"{url}/")


def watch(page):  # noqa: F811
    """Script errors and failed requests of the page, collected as they happen."""
    problems = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on(
        "response",
        lambda response: (
            response.status >= 400
            and "favicon" not in response.url
            and problems.append(f"{response.status} {response.url}")
        ),
    )
    return problems


def wait_until_drawn(page):  # noqa: F811
    page.wait_for_function(DRAWN, timeout=30000)


def click_bar(page, chart_id, index=None):  # noqa: F811
    """Click a bar where a person would (ECharts draws on a canvas: no element to click);
    returns what the bar's data item carries."""
    chart = page.locator(f"#{chart_id}")
    chart.scroll_into_view_if_needed()
    bar = page.evaluate(BAR, [chart_id, index])
    assert bar["length"] >= 4, f"the bar of {bar['label']} is not drawn: {bar}"
    box = chart.bounding_box()
    page.mouse.click(box["x"] + bar["x"], box["y"] + bar["y"])
    return bar


def luminance(color: str) -> float:
    """Relative brightness (0 black, 1 white) of "#rrggbb", "#rgb" or "rgb(r, g, b)"."""
    if color.startswith("#"):
        digits = color[1:]
        if len(digits) == 3:
            digits = "".join(d * 2 for d in digits)
        rgb = [int(digits[i : i + 2], 16) for i in (0, 2, 4)]
    else:
        rgb = [int(n) for n in re.findall(r"\d+", color)[:3]]
    r, g, b = (n / 255 for n in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_the_dashboard_draws_every_panel_on_a_phone(page, server):  # noqa: F811
    url, pk, name = server
    problems = watch(page)
    signed_in(page, url)
    page.goto(f"{url}/reports/")
    page.wait_for_url(f"{url}/reports/org/{pk}/dashboard/")
    assert name in page.locator("h1").inner_text()

    wait_until_drawn(page)
    panels = page.locator("section.panel")
    ids = {panels.nth(i).get_attribute("id") for i in range(panels.count())}
    assert ids == {f"panel-{key}" for key in PANELS}
    assert page.locator("section.panel", has_text="正在统计").count() == 0

    charts = page.evaluate(CHARTS)
    assert len(charts) >= 12
    assert {c["panel"] for c in charts} == ids  # every panel has its charts
    for chart in charts:
        assert chart["canvas"] and chart["instance"], chart
        assert not chart["dark"] and chart["text"] is None, chart  # the light theme
    assert {"chart-age", "chart-gender", "chart-flags"} <= {c["id"] for c in charts}

    # Every panel's key figures, each a number (a share with its %) linking to its table.
    for key in PANELS:
        kpis = page.locator(f"#panel-{key} .kpi")
        assert kpis.count() >= 1, key
        for i in range(kpis.count()):
            value = kpis.nth(i).locator("b").inner_text().strip()
            assert re.fullmatch(r"\d+(\.\d+)?%?", value), (key, value)
            assert f"/reports/org/{pk}/statistics/?section=" in kpis.nth(i).get_attribute("href")
    members = page.locator("[data-kpi=members-1]").inner_text()
    assert int(members) > 0

    assert fits_the_screen(page)
    screenshot(page, "browser-dashboard.png")
    assert problems == []


def test_every_bar_chart_has_room_for_its_bars_on_a_phone(page, server):  # noqa: F811
    url, pk, _name = server
    signed_in(page, url)
    page.goto(f"{url}/reports/org/{pk}/dashboard/")
    wait_until_drawn(page)
    squeezed = []
    for chart in page.evaluate(CHARTS):
        if chart["type"] == "bar":
            bar = page.evaluate(BAR, [chart["id"], None])
            if bar["value"] and bar["length"] < 20:
                squeezed.append((chart["id"], bar["label"], round(bar["length"], 1)))
    assert squeezed == []


def test_a_bar_opens_the_roster_behind_it(page, server):  # noqa: F811
    url, pk, _name = server
    problems = watch(page)
    signed_in(page, url)
    page.goto(f"{url}/reports/org/{pk}/dashboard/")
    wait_until_drawn(page)

    bar = click_bar(page, "chart-age")
    assert bar["url"].startswith("/members/?") and f"org={pk}" in bar["url"]
    expected = f"{url}{bar['url']}"
    page.wait_for_url(lambda address: address == expected)

    # The roster opens filtered on that age band, the whole subtree, and counts the bar's
    # number of members.
    band = re.search(r"[?&]age=([^&]+)", bar["url"]).group(1)
    assert page.locator("#roster-filter select[name=age]").input_value() == band
    assert page.locator("#roster-filter input[name=descendants]").is_checked()
    assert page.locator("#roster-rows tbody tr").count() >= 1
    page.click("main div.actions button:has-text('统计人数')")
    counted = page.locator("main div.actions", has_text=re.compile(r"共 \d+ 人"))
    counted.wait_for()
    assert f"共 {int(bar['value'])} 人" in counted.inner_text()
    assert fits_the_screen(page)
    assert problems == []


def test_the_statistics_tables_scroll_inside_their_frames(page, server):  # noqa: F811
    url, pk, _name = server
    problems = watch(page)
    signed_in(page, url)
    page.goto(f"{url}/reports/org/{pk}/statistics/?section=members")
    assert page.locator("nav.tabs a.current").inner_text() == "党员队伍"
    assert page.locator("form.period-form").count() == 0  # members are counted as of today

    tables = page.locator("section.stat-table")
    assert tables.count() >= 8
    totals = page.locator("section.stat-table tr.total")
    assert totals.count() >= 8
    assert totals.first.locator("th").inner_text() == "合计"
    # Every member table counts the same roster: one total for all.
    counted = page.locator("tr.total td[data-figure$='.total']").all_inner_texts()
    assert len(counted) >= 8 and len(set(counted)) == 1 and int(counted[0]) > 0

    # Wide tables scroll inside their frame; the page stays phone-wide.
    assert fits_the_screen(page)
    wide = page.evaluate(
        """() => [...document.querySelectorAll(".table-wrap")]
            .filter(w => w.scrollWidth > w.clientWidth).length"""
    )
    assert wide >= 1
    screenshot(page, "browser-statistics.png")

    page.click("nav.tabs >> text=组织生活")
    page.wait_for_url(re.compile(r"[?&]section=life(&|$)"))
    assert page.locator("nav.tabs a.current").inner_text() == "组织生活"
    assert page.locator("form.period-form").count() == 1  # a period's meetings
    headings = page.locator("section.stat-table h2").all_inner_texts()
    assert headings and all("党员" not in h for h in headings)
    assert page.locator("section.stat-table tr.total").count() >= 1
    assert fits_the_screen(page)

    page.click("nav.tabs >> text=党员队伍")
    page.wait_for_url(re.compile(r"[?&]section=members(&|$)"))
    assert page.locator("section.stat-table tr.total").count() == totals.count()
    assert problems == []


def test_the_big_screen_draws_in_the_dark_on_a_wide_screen(browser, server):  # noqa: F811
    url, pk, name = server
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    try:
        page = context.new_page()
        problems = watch(page)
        signed_in(page, url)
        page.goto(f"{url}/reports/org/{pk}/bigscreen/")
        assert name in page.locator("h1").inner_text()
        wait_until_drawn(page)
        assert page.locator("section.panel").count() == len(PANELS)

        assert luminance(page.evaluate("getComputedStyle(document.body).backgroundColor")) < 0.2
        charts = page.evaluate(CHARTS)
        assert len(charts) >= 12
        for chart in charts:
            assert chart["canvas"] and chart["instance"], chart
            # ECharts' dark theme, on the page's own dark background
            assert chart["dark"] == "1" and chart["background"] == "transparent", chart
            assert chart["text"] and luminance(chart["text"]) > 0.5, chart

        # Three columns of panels, and nothing wider than the screen.
        columns = page.evaluate(
            'getComputedStyle(document.querySelector(".panels")).gridTemplateColumns'
        )
        assert len(columns.split()) == 3
        assert fits_the_screen(page)
        screenshot(page, "browser-bigscreen.png")

        # A horizontal bar (categories down the side) opens its flag list.
        bar = click_bar(page, "chart-flags")
        assert bar["url"].startswith("/flags/") and bar["url"].endswith(f"/{pk}/")
        expected = f"{url}{bar['url']}"
        page.wait_for_url(lambda address: address == expected)
        heading = page.locator("h1")
        assert heading.inner_text().startswith(bar["label"])
        assert heading.locator(".badge").inner_text() == str(int(bar["value"]))
        assert problems == []
    finally:
        context.close()


def test_a_report_draft_downloads_as_a_word_document(page, server, tmp_path):  # noqa: F811
    url, pk, name = server
    problems = watch(page)
    signed_in(page, url)
    page.goto(f"{url}/reports/org/{pk}/statistics/?section=members")
    members = page.locator("#table-gender tr.total td[data-figure='gender.total']").inner_text()

    page.goto(f"{url}/reports/org/{pk}/draft/")
    assert name in page.locator("h1").inner_text()
    assert fits_the_screen(page)
    first = page.locator("select[name=template] option").first
    template = first.inner_text().strip()
    page.select_option("select[name=template]", index=0)
    with page.expect_download() as info:
        page.click("main form button:has-text('下载初稿')")
    download = info.value
    assert download.failure() is None
    filename = download.suggested_filename
    assert filename.endswith("（初稿）.docx") and name in filename and template in filename
    saved = tmp_path / "draft.docx"
    download.save_as(saved)

    paragraphs = [p.text for p in docx.Document(str(saved)).paragraphs if p.text.strip()]
    assert paragraphs[0].startswith(name)  # the title
    assert any(name in p for p in paragraphs[1:])
    text = "\n".join(paragraphs)
    assert f"党员{members}人" in text  # the figure the statistics page shows
    assert not re.search(r"\{[^{}\s]+\}", text), "a placeholder was left unfilled"
    assert page.url.startswith(f"{url}/reports/org/{pk}/draft/")  # the page stays
    assert problems == []
