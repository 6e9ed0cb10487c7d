"""Time the pages of the product on the city-scale data.

Usage (from the repository root, with the database chosen by DATABASE_URL as usual):

    python benchmarks/pages.py --seed-city          # seed a fresh city and time it
    python benchmarks/pages.py --runs 15             # time the pages on existing data
    python benchmarks/pages.py --only dues --only home   # only the pages whose name has one

Each page is requested through Django's full stack (middleware, session, templates) by the
test client, signed in as the committee administrator of the root; the time is wall-clock
server time for the whole response (a file download is read to its end), and the number of
SQL queries is counted. Results go to
``benchmarks/results/<vendor>.json`` and are printed as a Markdown table for
``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangjian.settings")
# The benchmark measures pages, not sign-in: the second factor is not asked for here.
os.environ["OTP_REQUIRED_ROLES"] = "none"


def seed_city(seed: int) -> float:
    """Migrate and seed a fresh database in a subprocess; return the seeding time."""
    env = dict(os.environ)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "manage.py", "seed_demo", "--scale", "city", "--seed", str(seed)],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def measure(client, url: str, runs: int) -> dict:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    def get():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        # A download (FileResponse) is streamed: read it, as the browser would.
        body = b"".join(response.streaming_content) if response.streaming else response.content
        return body

    get()  # warm caches and the connection once
    times = []
    queries = 0
    for _ in range(runs):
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            body = get()
            times.append(time.perf_counter() - started)
        queries = len(captured)
    return {
        "url": url,
        "median_ms": round(statistics.median(times) * 1000, 1),
        "min_ms": round(min(times) * 1000, 1),
        "max_ms": round(max(times) * 1000, 1),
        "queries": queries,
        "bytes": len(body),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed-city", action="store_true", help="migrate and seed a city first")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--only", action="append", default=[], help="time only pages whose name contains this"
    )
    args = parser.parse_args()

    seed_seconds = seed_city(args.seed) if args.seed_city else None

    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    from dangjian.accounts.models import RoleGrant
    from dangjian.development.models import DevelopmentRecord
    from dangjian.members.models import Member
    from dangjian.organizations.models import Organization

    root = Organization.objects.filter(depth=1).order_by("path").first()
    grant = RoleGrant.objects.filter(organization=root, role="committee_admin").first()
    if root is None or grant is None:
        sys.exit("No seeded data: run with --seed-city first.")
    client = Client()
    client.force_login(grant.user)
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
    pages = {
        "home page (root scope, counts and all flags)": "/",
        "tree root": "/orgs/tree/",
        "children of the root (htmx)": f"/orgs/{root.pk}/children/",
        "organization page of the root": f"/orgs/{root.pk}/",
        "organization page of a district": f"/orgs/{first_child.pk}/",
        "search by name": "/orgs/search/?q=%E7%AC%AC%E4%B8%80",
        "new organizations and coverage (root)": "/orgs/new-organizations/",
        "API: organizations, first page": "/api/organizations/",
        "roster, first page (whole city)": "/members/",
        "roster, filtered (women aged 31-40)": "/members/?gender=female&age=31-40",
        "roster, count on request (whole city)": "/members/count/",
        "API: members, first page": "/api/members/",
        "organizational life: matrix of the city": f"/life/org/{root.pk}/compliance/",
        "organizational life: matrix as Excel (every organization)": (
            f"/life/org/{root.pk}/compliance/?format=xlsx"
        ),
        "organizational life: a branch's year": f"/life/org/{branch.pk}/year/",
        "organizational life: meetings of the city, first page": f"/life/org/{root.pk}/meetings/",
        "API: compliance, rollup of the city": f"/api/compliance/?organization={root.pk}&rollup=1",
        "reminders: overview of the city's branches": f"/reminders/{root.pk}/",
        "development: pipeline of the city": f"/development/org/{root.pk}/",
        "development: pipeline of a street (党工委)": f"/development/org/{street.pk}/",
        "development: a record (25 steps)": f"/development/records/{record.pk}/",
        "development: 拟发展对象 as Excel (largest district)": (
            f"/development/org/{largest.pk}/candidates.xlsx"
        ),
        "development: 拟转正 as Excel (largest district)": (
            f"/development/org/{largest.pk}/conversions.xlsx"
        ),
        "development: 拟发展对象 as Excel (city)": f"/development/org/{root.pk}/candidates.xlsx",
        "development: 拟转正 as Excel (city)": f"/development/org/{root.pk}/conversions.xlsx",
        "dues: a branch's month": f"/dues/org/{branch.pk}/",
        "dues: statistics of the city": f"/dues/org/{root.pk}/statistics/",
        "dues: a member's ledger": f"/dues/member/{member.pk}/",
        "dues: collection sheet as Excel (largest district)": (
            f"/dues/org/{largest.pk}/export.xlsx"
        ),
    }
    if args.only:
        pages = {k: v for k, v in pages.items() if any(o in k for o in args.only)}
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM organizations_organization")
        organizations = cursor.fetchone()[0]
        cursor.execute("SELECT COUNT(*) FROM members_member")
        members = cursor.fetchone()[0]
    results = {
        "date": datetime.now().isoformat(timespec="seconds"),
        "database": connection.vendor,
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "organizations": organizations,
        "members": members,
        "seed_seconds": round(seed_seconds, 1) if seed_seconds is not None else None,
        "pages": {name: measure(client, url, args.runs) for name, url in pages.items()},
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    # A partial run (--only) does not overwrite the full results.
    (out / f"{connection.vendor}{'-partial' if args.only else ''}.json").write_text(
        json.dumps(results, ensure_ascii=False, indent=2)
    )

    print(
        f"\n{connection.vendor}, {organizations} organizations, {members} members, "
        f"{results['machine']}"
    )
    if seed_seconds is not None:
        print(f"seed_demo --scale city: {seed_seconds:.1f} s")
    print("\n| page | median ms | min ms | max ms | queries |\n|---|---:|---:|---:|---:|")
    for name, row in results["pages"].items():
        cells = [row["median_ms"], row["min_ms"], row["max_ms"], row["queries"]]
        print(f"| {name} | " + " | ".join(str(c) for c in cells) + " |")
    print(f"\npeak RSS of the measuring process: {results['peak_rss_mb']} MB")


if __name__ == "__main__":
    main()
