"""Time the compliance engine on the city against a hand-written SQL floor.

Usage (from the repository root, with the database chosen by DATABASE_URL as usual):

    python benchmarks/compliance.py --seed-city     # seed a fresh city (with its meetings) first
    python benchmarks/compliance.py                 # on already seeded data
    bash scripts/with-postgres.sh .venv/bin/python benchmarks/compliance.py --seed-city

The engine is ``dangjian.orglife.compliance.compute`` for the city (the root, depth 1) over the
current year — some periods ended, one running, some to come — with the requirements in force
there; ``rollup`` (the matrix page's rows: the city's districts with their subtrees summed) is
timed on its own. The floor is one hand-written SQL statement, generated from the same
requirements (see ``floor_sql``), that returns for every organization owing a requirement the
numbers the engine reports: periods met, periods overdue, and whether the running period is
still due. Both must agree on every (organization, requirement) before anything is timed.
Then a warm-up and the median of ``--runs`` runs of each; the engine's queries are also
replayed on a plain cursor to split its time into SQL and Python. Results go to
``benchmarks/results/compliance-<vendor>.json`` and are printed as a Markdown table.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangjian.settings")


# --------------------------------------------------------------------------------------------
# The floor
# --------------------------------------------------------------------------------------------


def floor_sql(root, window, requirements) -> tuple[str, list]:
    """One statement: (organization id, kind, periods met, periods overdue, due 0/1) for every
    organization of the subtree of ``root`` and every requirement it owes in the window.

    Generated from the requirements, the same SQL for SQLite and PostgreSQL. One pass over the
    year's meetings counts each organization's qualifying meetings of each kind in each month
    (conditional counts, the quorums inlined). The organizations owing each requirement come
    from their types (a VALUES list); a period is owed when the organization had been founded
    by its first day, was not dissolved before its end and — for the 支委会 — had a committee
    (a 委员 seat) during it. Then, one SELECT a requirement (UNION ALL, the periods' bounds
    inlined), the months are added up into periods and compared with the minimum."""
    from dangjian.organizations.querysets import path_successor
    from dangjian.orglife.compliance import COMMITTEE_POSTS, FAR_FUTURE, FAR_PAST, month_start

    requirements = [r for r in requirements if r.enabled]
    params: list = []

    def param(value) -> str:
        params.append(value)
        return "%s"

    def literal(kind: str) -> str:
        assert kind.isidentifier(), kind  # a MeetingKind value
        return f"'{kind}'"

    year = window.year
    months = ",\n        ".join(
        f"SUM(CASE WHEN m.date >= {param(month_start(year, n))} "
        f"AND m.date < {param(month_start(year, n + 1))} THEN 1 ELSE 0 END) AS m{n}"
        for n in range(1, 13)
    )
    kinds = ", ".join(literal(r.kind) for r in requirements)
    first, last = param(date(year, 1, 1)), param(date(year + 1, 1, 1))
    quorum = "".join(
        f"\n        AND (m.kind <> {literal(r.kind)} "
        f"OR m.present_count * 100 > m.expected_count * {r.quorum_percent})"
        for r in requirements
        if r.quorum_percent
    )
    far_past, far_future = param(FAR_PAST), param(FAR_FUTURE)
    committee_posts = ", ".join(param(str(p)) for p in COMMITTEE_POSTS)
    req_type = ", ".join(
        f"({literal(r.kind)}, {param(str(t))})" for r in requirements for t in r.org_types
    )
    lower, upper = param(root.path), param(path_successor(root.path) or "~")
    window_start = param(month_start(year, window.first_month))

    def owed(r, slot) -> str:
        start = param(window.slot_start(r, slot))
        end = param(window.slot_end(r, slot))
        condition = (
            f"(owing.founded_on IS NULL OR owing.founded_on <= {start})"
            f" AND (owing.dissolved_on IS NULL OR owing.dissolved_on >= {end})"
        )
        if r.needs_committee:
            condition += f" AND owing.since < {param(window.slot_end(r, slot))}"
            condition += f" AND owing.until > {param(window.slot_start(r, slot))}"
        return f"({condition})"

    def reached(r, slot) -> str:
        first_month, last_month = r.slot_months(slot)
        total = " + ".join(f"COALESCE(held.m{n}, 0)" for n in range(first_month, last_month + 1))
        return f"{total} >= {r.minimum}"

    def select(r) -> str:
        """The numbers of the organizations owing ``r``: its periods inlined."""
        _in_window, elapsed, current = window.masks(r)
        slots = window.slots(r)
        met = " + ".join(
            f"CASE WHEN {owed(r, s)} AND {reached(r, s)} THEN 1 ELSE 0 END" for s in slots
        )
        overdue = " + ".join(
            f"CASE WHEN {owed(r, s)} AND NOT ({reached(r, s)}) THEN 1 ELSE 0 END"
            for s in slots
            if elapsed >> s & 1
        )
        due = (
            f"CASE WHEN {owed(r, current)} AND NOT ({reached(r, current)}) THEN 1 ELSE 0 END"
            if current is not None
            else "0"
        )
        owes_any = " OR ".join(owed(r, s) for s in slots)
        return f"""
SELECT owing.org_id, owing.kind,
    {met} AS met,
    {overdue or "0"} AS overdue,
    {due} AS due
FROM owing
LEFT JOIN held ON held.kind = {literal(r.kind)} AND held.organization_id = owing.org_id
WHERE owing.kind = {literal(r.kind)} AND ({owes_any})"""

    sql = f"""
WITH held AS MATERIALIZED (
    SELECT m.organization_id, m.kind,
        {months}
    FROM orglife_meeting m
    WHERE m.kind IN ({kinds}) AND m.date >= {first} AND m.date < {last}
        AND m.status = 'held'{quorum}
    GROUP BY m.organization_id, m.kind
),
committee AS (
    SELECT organization_id,
        MIN(COALESCE(started_on, {far_past})) AS since,
        MAX(COALESCE(ended_on, {far_future})) AS until
    FROM organizations_committeemember
    WHERE post IN ({committee_posts})
    GROUP BY organization_id
),
req_type (kind, org_type) AS (VALUES {req_type}),
owing AS MATERIALIZED (
    SELECT o.id AS org_id, o.founded_on, o.dissolved_on, req_type.kind,
        committee.since, committee.until
    FROM organizations_organization o
    JOIN req_type ON req_type.org_type = o.org_type
    LEFT JOIN committee ON committee.organization_id = o.id
    WHERE o.path >= {lower} AND o.path < {upper}
        AND (o.dissolved_on IS NULL OR o.dissolved_on > {window_start})
)
{" UNION ALL ".join(select(r) for r in requirements)}
"""
    return sql, params


def run_floor(sql: str, params: list) -> dict[tuple[int, str], tuple[int, int, int]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {(org, kind): (met, overdue, due) for org, kind, met, overdue, due in cursor}


def engine_numbers(compliance) -> dict[tuple[int, str], tuple[int, int, int]]:
    return {
        (row.id, kind): (cell.met, cell.overdue, cell.due)
        for row in compliance.rows
        for kind, cell in row.cells.items()
    }


# --------------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------------


def timed(function, runs: int) -> tuple[dict, object]:
    result = function()  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return {
        "median_ms": round(statistics.median(times) * 1000, 1),
        "min_ms": round(min(times) * 1000, 1),
        "max_ms": round(max(times) * 1000, 1),
    }, result


def split_sql_python(function, runs: int) -> dict:
    """Where the engine's time goes: its queries are recorded, then replayed on a plain cursor
    (execute and fetch every row, no model or Python work); the median of ``runs`` replays is
    its time in the database and driver, the rest of the engine's median is Python."""
    from django.db import connection

    calls = []

    def record(execute, sql, params, many, context):
        calls.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        function()
    per_query = []
    for sql, params in calls:
        times = []
        for _ in range(runs + 1):
            with connection.cursor() as cursor:
                started = time.perf_counter()
                cursor.execute(sql, params)
                cursor.fetchall()
                times.append(time.perf_counter() - started)
        per_query.append(statistics.median(times[1:]))
    return {
        "queries": len(calls),
        "sql_ms": round(sum(per_query) * 1000, 1),
        "per_query_ms": [round(t * 1000, 1) for t in per_query],
    }


def profile(function, limit: int = 25) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    function()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(limit)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed-city", action="store_true", help="migrate and seed a city first")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--today", type=date.fromisoformat, default=None)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of compute()")
    args = parser.parse_args()

    from benchmarks import common

    seeding = common.seed_city(args.seed) if args.seed_city else None

    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from dangjian.organizations.models import Organization
    from dangjian.orglife.compliance import Window, compute, rollup
    from dangjian.orglife.models import Attendance, Meeting
    from dangjian.orglife.requirements import requirements_for

    head = common.describe()  # the load average before the timings
    root = Organization.objects.filter(depth=1).order_by("path").first()
    if root is None or not Meeting.objects.exists():
        sys.exit("No seeded meetings: run with --seed-city first.")
    today = args.today or timezone.localdate()  # the pages' today
    window = Window(today.year, today)
    requirements = requirements_for(root)
    organizations = Organization.objects.within(root)

    def engine():
        return compute(organizations, window, requirements)

    sql, params = floor_sql(root, window, requirements)

    def floor():
        return run_floor(sql, params)

    # The floor must give the engine's numbers for every (organization, requirement).
    compliance = engine()
    expected, got = engine_numbers(compliance), floor()
    if expected != got:
        missing = sorted(set(expected) - set(got))[:5]
        extra = sorted(set(got) - set(expected))[:5]
        wrong = [(k, expected[k], got[k]) for k in expected if k in got and expected[k] != got[k]]
        sys.exit(f"floor and engine disagree: missing {missing} extra {extra} wrong {wrong[:5]}")
    totals = compliance.totals()

    engine_time, compliance = timed(engine, args.runs)
    rollup_time, rows = timed(lambda: rollup(compliance, root), args.runs)
    both_time, _ = timed(lambda: rollup(engine(), root), args.runs)
    floor_time, _ = timed(floor, args.runs)
    split = split_sql_python(engine, args.runs)
    split["python_ms"] = round(engine_time["median_ms"] - split["sql_ms"], 1)

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM organizations_organization")
        organizations_count = cursor.fetchone()[0]
        cursor.execute("SELECT COUNT(*) FROM members_member")
        members_count = cursor.fetchone()[0]
    year_meetings = Meeting.objects.filter(date__year=today.year).count()
    results = {
        **head,
        "organizations": organizations_count,
        "members": members_count,
        "meetings": Meeting.objects.count(),
        "meetings_this_year": year_meetings,
        "attendance": Attendance.objects.count(),
        "seeding": seeding,
        "runs": args.runs,
        "year": today.year,
        "today": today.isoformat(),
        "cells": len(expected),
        "organizations_owing": sum(1 for row in compliance.rows if row.cells),
        "rollup_rows": len(rows),
        "overdue_periods": sum(t["overdue"] for t in totals.values()),
        "engine": engine_time,
        "rollup": rollup_time,
        "engine_and_rollup": both_time,
        "floor": floor_time,
        "ratio": round(engine_time["median_ms"] / floor_time["median_ms"], 2),
        "engine_split": split,
        "peak_rss_mb": common.peak_rss_mb(),
    }
    common.write(f"compliance-{connection.vendor}", results)

    print(
        f"\n{connection.vendor}, {organizations_count} organizations, {members_count} members, "
        f"{results['meetings']} meetings ({year_meetings} in {today.year}), "
        f"{results['attendance']} attendance rows; {common.machine_line(results)}"
    )
    if seeding:
        print(
            f"seed_demo --scale city: {seeding['seconds']} s "
            f"(meeting history {seeding['history_seconds']} s)"
        )
    print(
        f"{results['cells']} cells for {results['organizations_owing']} organizations, "
        f"{results['overdue_periods']} overdue periods; engine and floor agree on every cell"
    )
    print("\n| measurement | median ms | min ms | max ms |\n|---|---:|---:|---:|")
    for name, key in (
        ("compute() for the city, one year", "engine"),
        ("rollup() of it (the matrix rows)", "rollup"),
        ("compute() + rollup()", "engine_and_rollup"),
        ("floor: one hand-written SQL statement", "floor"),
    ):
        row = results[key]
        print(f"| {name} | {row['median_ms']} | {row['min_ms']} | {row['max_ms']} |")
    print(f"\nratio compute() / floor: {results['ratio']}")
    print(
        f"compute(): {split['queries']} queries taking {split['sql_ms']} ms replayed on a plain "
        f"cursor (per query: {split['per_query_ms']}); the other {split['python_ms']} ms of its "
        "median is Python"
    )
    if args.profile:
        print(profile(engine))


if __name__ == "__main__":
    main()
