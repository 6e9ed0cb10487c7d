"""Time the pages of the product on the city-scale data, and each query-shaped page's floor.

Usage (from the repository root, with the database chosen by DATABASE_URL as usual):

    python benchmarks/pages.py --seed-city          # seed a fresh city (timed), then time
    python benchmarks/pages.py --runs 15             # time the pages on existing data
    python benchmarks/pages.py --only dues --only home   # only the pages whose name has one
    python benchmarks/pages.py --check-floors        # only check that the floors are honest

Each page is requested through Django's full stack (middleware, session, templates) by the
test client, signed in as the committee administrator of the root; the time is wall-clock
server time for the whole response (a file download is read to its end), and the number of
SQL queries is counted. A page that has a floor (``benchmarks/floors.py``: one hand-written
SQL statement returning the numbers the page shows) has it checked against the product's
own functions before anything is timed — a disagreement stops the run — and timed right
after the page on a plain cursor; the ratio is page time / floor time.

Results go to ``benchmarks/results/<vendor>.json`` and are printed as a Markdown table for
``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangjian.settings")
# The benchmark measures pages, not sign-in: the second factor is not asked for here.
os.environ["OTP_REQUIRED_ROLES"] = "none"


SLOW_SECONDS = 1.0


@dataclass
class Page:
    name: str
    url: str
    floor: object = None  # a zero-argument function returning a floors.Floor (or None: to write)
    floor_name: str = ""  # pages sharing a floor time it once
    also: tuple[str, ...] = ()  # requests the page makes as it loads (htmx), timed with it


def timings(times: list[float], digits: int = 1) -> dict:
    return {
        "median_ms": round(statistics.median(times) * 1000, digits),
        "min_ms": round(min(times) * 1000, digits),
        "max_ms": round(max(times) * 1000, digits),
        "median_s": statistics.median(times),  # unrounded, for the ratio
    }


def measure(
    client, url: str, runs: int, also: tuple[str, ...] = (), slow_runs: int | None = None
) -> dict:
    """The page at ``url`` and the requests it makes as it loads (``also``), one after the
    other: their total time, queries and bytes. A page whose warm-up took over a second is
    timed ``slow_runs`` times instead of ``runs``."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    def get():
        body = b""
        for one in (url, *also):
            response = client.get(one)
            if response.status_code != 200:
                raise SystemExit(f"{one} answered {response.status_code}, not 200")
            # A download (FileResponse) is streamed: read it, as the browser would.
            streamed = response.streaming
            body += b"".join(response.streaming_content) if streamed else response.content
        return body

    started = time.perf_counter()
    get()  # warm caches and the connection once
    if slow_runs and time.perf_counter() - started > SLOW_SECONDS:
        runs = min(runs, slow_runs)
    times = []
    queries = 0
    for _ in range(runs):
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            body = get()
            times.append(time.perf_counter() - started)
        queries = len(captured)
    row = {"url": url, **timings(times), "runs": runs, "queries": queries, "bytes": len(body)}
    if also:
        row["also"] = list(also)
    return row


def measure_floor(floor, runs: int) -> dict:
    """The floor on a plain cursor after a warm-up; on PostgreSQL also with JIT compilation
    off (the server's default, on, compiles any statement estimated above 100,000, which a
    statement over the city's members always is)."""
    from django.db import connection

    def timed() -> dict:
        floor.run()  # warm-up
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            floor.run()
            times.append(time.perf_counter() - started)
        return timings(times, digits=2)

    result = timed()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET jit = off")
        try:
            result["without_jit"] = timed()
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET jit")
    return result


def the_pages(root, user) -> list[Page]:
    from benchmarks import floors
    from dangjian.development.models import DevelopmentRecord
    from dangjian.members.models import Member
    from dangjian.organizations.models import Organization

    first_child = Organization.objects.get_children(root).first()
    branch = Organization.objects.within(root).filter(org_type="branch").order_by("path").first()
    # A street: a 党工委 under the first district (or the district itself).
    street = (
        Organization.objects.get_children(first_child)
        .filter(org_type="working_committee")
        .order_by("path")
        .first()
        or first_child
    )
    # The largest district by members on its roster: the exports' "large subtree".
    largest = max(
        Organization.objects.get_children(root),
        key=lambda o: Member.objects.filter(organization__path__startswith=o.path).count(),
    )
    # A converted member's record: all 25 steps, their people, papers and assessments.
    record = (
        DevelopmentRecord.objects.filter(organization__path__startswith=root.path, step=25)
        .order_by("pk")
        .first()
    )
    member = Member.objects.filter(organization=branch).order_by("pk").first()
    pk = root.pk
    return [
        Page("home page (root scope, counts and all flags)", "/", lambda: floors.home_floor(root)),
        Page("tree root", "/orgs/tree/", lambda: floors.tree_root_floor(user)),
        Page(
            "children of the root (htmx)",
            f"/orgs/{pk}/children/",
            lambda: floors.tree_children_floor(root),
        ),
        Page("organization page of the root", f"/orgs/{pk}/"),
        Page("organization page of a district", f"/orgs/{first_child.pk}/"),
        Page("search by name", "/orgs/search/?q=%E7%AC%AC%E4%B8%80"),
        Page("new organizations and coverage (root)", "/orgs/new-organizations/"),
        Page("API: organizations, first page", "/api/organizations/"),
        Page(
            "roster, first page (whole city)", "/members/", lambda: floors.roster_floor(root, user)
        ),
        Page("roster, filtered (women aged 31-40)", "/members/?gender=female&age=31-40"),
        Page("roster, count on request (whole city)", "/members/count/"),
        Page("API: members, first page", "/api/members/"),
        Page(
            "organizational life: matrix of the city",
            f"/life/org/{pk}/compliance/",
            lambda: floors.compliance_floor(root),
            floor_name="compliance",
        ),
        Page(
            "organizational life: matrix as Excel (every organization)",
            f"/life/org/{pk}/compliance/?format=xlsx",
        ),
        Page("organizational life: a branch's year", f"/life/org/{branch.pk}/year/"),
        Page("organizational life: meetings of the city, first page", f"/life/org/{pk}/meetings/"),
        Page(
            "API: compliance, rollup of the city",
            f"/api/compliance/?organization={pk}&rollup=1",
            lambda: floors.compliance_floor(root),
            floor_name="compliance",
        ),
        Page("reminders: overview of the city's branches", f"/reminders/{pk}/"),
        *reports_pages(root),
        Page("development: pipeline of the city", f"/development/org/{pk}/"),
        Page("development: pipeline of a street (党工委)", f"/development/org/{street.pk}/"),
        Page("development: a record (25 steps)", f"/development/records/{record.pk}/"),
        Page(
            "development: 拟发展对象 as Excel (largest district)",
            f"/development/org/{largest.pk}/candidates.xlsx",
        ),
        Page(
            "development: 拟转正 as Excel (largest district)",
            f"/development/org/{largest.pk}/conversions.xlsx",
        ),
        Page("development: 拟发展对象 as Excel (city)", f"/development/org/{pk}/candidates.xlsx"),
        Page("development: 拟转正 as Excel (city)", f"/development/org/{pk}/conversions.xlsx"),
        Page("dues: a branch's month", f"/dues/org/{branch.pk}/"),
        Page("dues: statistics of the city", f"/dues/org/{pk}/statistics/"),
        Page("dues: a member's ledger", f"/dues/member/{member.pk}/"),
        Page(
            "dues: collection sheet as Excel (largest district)",
            f"/dues/org/{largest.pk}/export.xlsx",
        ),
    ]


def reports_pages(root) -> list[Page]:
    """The statistics page (each of its sections) and the dashboard (the page with the panels
    it loads, and each panel) of the root."""
    from benchmarks import floors
    from dangjian.reports.dashboard import PANELS
    from dangjian.reports.statistics import SECTIONS

    pk = root.pk
    sections = [section.key for section in SECTIONS]
    statistics = f"/reports/org/{pk}/statistics/"
    dashboard = f"/reports/org/{pk}/dashboard/"
    return [
        Page(
            f"statistics of the city ({sections[0]}, the first section)",
            statistics,
            lambda: floors.statistics_floor(root, sections[0]),
        ),
        *(
            Page(
                f"statistics of the city: {key}",
                f"{statistics}?section={key}",
                lambda key=key: floors.statistics_floor(root, key),
            )
            for key in sections[1:]
        ),
        Page(
            f"dashboard of the city (with its {len(PANELS)} panels)",
            dashboard,
            lambda: floors.dashboard_floor(root),
            also=tuple(f"{dashboard}{key}/" for key in PANELS),
        ),
        *(
            Page(
                f"dashboard panel: {key}",
                f"{dashboard}{key}/",
                lambda key=key: floors.dashboard_floor(root, key),
            )
            for key in PANELS
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed-city", action="store_true", help="migrate and seed a city first")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--slow-runs",
        type=int,
        default=5,
        help="runs for a page whose warm-up took over a second (default 5)",
    )
    parser.add_argument(
        "--only", action="append", default=[], help="time only pages whose name contains this"
    )
    parser.add_argument(
        "--check-floors", action="store_true", help="check the floors against the pages, no timing"
    )
    args = parser.parse_args()

    from benchmarks import common

    seeding = common.seed_city(args.seed) if args.seed_city else None
    if seeding:
        print(f"seed_demo --scale city: {seeding['seconds']} s", flush=True)

    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    from benchmarks.floors import FloorMismatch
    from dangjian.accounts.models import RoleGrant
    from dangjian.organizations.models import Organization

    head = common.describe()
    root = Organization.objects.filter(depth=1).order_by("path").first()
    grant = RoleGrant.objects.filter(organization=root, role="committee_admin").first()
    if root is None or grant is None:
        sys.exit("No seeded data: run with --seed-city first.")
    client = Client()
    client.force_login(grant.user)

    pages = the_pages(root, grant.user)
    if args.only:
        pages = [page for page in pages if any(o in page.name for o in args.only)]
    # Every floor must give the page's numbers before anything is timed.
    floors, no_floor = {}, {}
    for page in pages:
        if page.floor is None:
            continue
        key = page.floor_name or page.name
        if key not in floors:
            floor = page.floor()
            if floor is not None:
                started = time.perf_counter()
                try:
                    floor.check(page.name)
                except FloorMismatch as mismatch:
                    sys.exit(f"FLOOR CHECK FAILED\n{mismatch}")
                print(
                    f"floor of {page.name!r} agrees with the page "
                    f"({time.perf_counter() - started:.1f} s to check)",
                    flush=True,
                )
            floors[key] = floor
        if floors[key] is None:
            no_floor[page.name] = "floor to be written (benchmarks/floors.py)"
    if args.check_floors:
        return

    results = {
        **head,
        "data": common.data_counts(),
        "seeding": seeding,
        "runs": args.runs,
        "slow_runs": args.slow_runs,
        "pages": {},
    }
    floor_times: dict[str, dict] = {}
    for page in pages:
        row = measure(client, page.url, args.runs, page.also, args.slow_runs)
        key = page.floor_name or page.name
        floor = floors.get(key)
        if floor is not None:
            if key not in floor_times:
                floor_times[key] = measure_floor(floor, args.runs)
            row["floor"] = {**floor_times[key], "numbers": floor.summary}
            row["ratio"] = round(row["median_s"] / floor_times[key]["median_s"], 1)
            row["over_floor_ms"] = round(row["median_ms"] - floor_times[key]["median_ms"], 1)
            if "without_jit" in floor_times[key]:
                without_jit = floor_times[key]["without_jit"]["median_s"]
                row["ratio_without_jit"] = round(row["median_s"] / without_jit, 1)
        elif page.name in no_floor:
            row["floor"] = None
            row["no_floor"] = no_floor[page.name]
        results["pages"][page.name] = row
        shown = ""
        if row.get("floor"):
            shown = f", floor {row['floor']['median_ms']} ms, ratio {row['ratio']}"
        print(f"{page.name}: {row['median_ms']} ms{shown}", flush=True)
    results["peak_rss_mb"] = common.peak_rss_mb()

    # A partial run (--only) does not overwrite the full results.
    path = common.write(f"{connection.vendor}{'-partial' if args.only else ''}", results)
    print()
    print(markdown(results))
    print(f"\n(written to {path.relative_to(ROOT)})")


def markdown(results: dict) -> str:
    from benchmarks.common import machine_line

    data = results["data"]
    postgres = int(results["database"] == "postgresql")
    lines = [
        f"**{results['database']}**: {data['organizations']:,} organizations, "
        f"{data['members']:,} members, {data['meetings']:,} meetings, "
        f"{data['dues_payments']:,} dues payments, {data['development_records']:,} development "
        f"records. {machine_line(results)}.",
        "",
    ]
    seeding = results.get("seeding")
    if seeding:
        lines += [
            f"`seed_demo --scale city --seed {seeding['seed']}`: {seeding['seconds']} s "
            f"(peak RSS {seeding['peak_rss_mb']} MB).",
            "",
        ]
    lines += [
        f"Median of {results['runs']} requests ({results['slow_runs']} for a page over a "
        "second), fastest and slowest, milliseconds; queries of one request; floor: one "
        "hand-written statement (median); ratio: page / floor.",
        "",
        "| page | median ms | min ms | max ms | queries | floor ms | ratio |"
        + (" floor, JIT off |" if postgres else ""),
        "|---|---:|---:|---:|---:|---:|---:|" + ("---:|" if postgres else ""),
    ]
    for name, row in results["pages"].items():
        floor = row.get("floor")
        if floor:
            floor_cells = [f"{floor['median_ms']:,}", f"**{row['ratio']}**"]
            if postgres:
                floor_cells.append(f"{floor['without_jit']['median_ms']:,}")
        elif "no_floor" in row:
            floor_cells = ["(to write)", "—"] + [""] * postgres
        else:
            floor_cells = [""] * (2 + postgres)
        cells = [f"{row['median_ms']:,}", f"{row['min_ms']:,}", f"{row['max_ms']:,}"]
        cells += [str(row["queries"]), *floor_cells]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", f"Peak RSS of the measuring process: {results['peak_rss_mb']} MB."]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
