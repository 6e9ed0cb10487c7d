"""Time the roster import (党员花名册) on a large generated workbook.

Usage (from the repository root, with the database chosen by DATABASE_URL as usual):

    python benchmarks/import_roster.py --seed-city               # fresh city, 100,000 rows
    python benchmarks/import_roster.py --rows 20000              # on existing seeded data
    bash scripts/with-postgres.sh .venv/bin/python benchmarks/import_roster.py --seed-city

A child process writes a valid .xlsx in the template's layout (ID numbers with correct check
characters, spread over the branches of the seeded city, names unique within it); the measuring
process then runs the import the way the background task does: ``importing.check_batch`` (the
preview), ``importing.apply_batch`` (one transaction, with audit events), and a second check of
the same file (every row now matches an existing member and is unchanged). Wall-clock time per
step, rows per second, and the peak RSS of the measuring process (``ru_maxrss``) are printed as
a Markdown table and written to ``benchmarks/results/import-<vendor>.json``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangjian.settings")


def branch_names() -> list[str]:
    """Names of active branches that are unique in the whole tree (so a name is enough)."""
    from django.db.models import Count

    from dangjian.organizations.models import BRANCH_TYPES, Organization

    unique = Organization.objects.values("name").annotate(n=Count("id")).filter(n=1).values("name")
    return list(
        Organization.objects.active()
        .filter(org_type__in=BRANCH_TYPES, name__in=unique)
        .order_by("path")
        .values_list("name", flat=True)
    )


def generate(path: Path, rows: int) -> None:
    """Write ``rows`` valid roster rows to ``path`` (run in a child process)."""
    import django

    django.setup()
    from dangjian.members.idnumber import check_character
    from dangjian.members.template_xlsx import new_workbook, write_row

    names = branch_names()
    if not names:
        sys.exit("No branches: seed the data first (--seed-city).")
    workbook, sheet = new_workbook(write_only=True)
    start = date(1940, 1, 1)
    educations = ["研究生", "大学本科", "大学专科", "中等专科", "高中", "初中及以下"]
    occupations = ["工人", "农牧渔民", "企事业单位管理和专业技术人员", "离退休人员"]
    categories = ["居民党员（直管）", "在职党员（双管）", "离退休党员（协管）"]
    for i in range(rows):
        birth = start + timedelta(days=i % 16_000)  # born 1940-1983
        seq = i // 16_000
        first17 = f"{110101 + (i % 7):06d}{birth:%Y%m%d}{seq:03d}"
        id_number = first17 + check_character(first17)
        joined = birth + timedelta(days=365 * 25 + i % 700)
        probationary = i % 50 == 0
        write_row(
            sheet,
            [
                f"党员{i:06d}",
                "男" if seq % 2 else "女",
                "汉族" if i % 20 else "回族",
                id_number,
                birth,
                educations[i % len(educations)],
                occupations[i % len(occupations)],
                f"某某单位{i % 997} 职员",
                f"139{i:08d}",
                f"某某路{i % 500}号{i % 30}栋",
                joined,
                None if probationary else joined + timedelta(days=366),
                "预备党员" if probationary else "正式党员",
                "正常",
                categories[i % len(categories)],
                names[i % len(names)],
                "",
            ],
        )
    workbook.save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed-city", action="store_true", help="migrate and seed a city first")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--generate", metavar="PATH", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.generate:
        generate(Path(args.generate), args.rows)
        return
    from benchmarks import common

    seeding = common.seed_city(args.seed) if args.seed_city else None

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "roster.xlsx"
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, __file__, "--generate", str(path), "--rows", str(args.rows)],
            check=True,
        )
        generate_seconds = time.perf_counter() - started
        content = path.read_bytes()

    import django

    django.setup()
    from django.db import connection

    from dangjian.accounts.models import RoleGrant
    from dangjian.members import importing
    from dangjian.members.models import ImportBatch, Member
    from dangjian.organizations.models import Organization

    head = common.describe()  # the load average before the import
    root = Organization.objects.filter(depth=1).order_by("path").first()
    grant = RoleGrant.objects.filter(organization=root, role="committee_admin").first()
    if grant is None:
        sys.exit("No seeded data: run with --seed-city first.")
    actor = grant.user
    members_before = Member.objects.count()
    baseline_rss = common.peak_rss_mb()
    importing.inspect_upload("roster.xlsx", content)

    def new_batch() -> ImportBatch:
        return ImportBatch.objects.create(
            created_by=actor, filename="roster.xlsx", content=content, sha256="benchmark"
        )

    steps = []

    def timed(name: str, action) -> ImportBatch:
        started = time.perf_counter()
        batch = action()
        seconds = time.perf_counter() - started
        steps.append(
            {
                "step": name,
                "seconds": round(seconds, 1),
                "rows_per_second": round(args.rows / seconds),
                "peak_rss_mb": common.peak_rss_mb(),
            }
        )
        print(f"{name}: {seconds:.1f} s", flush=True)
        return batch

    batch = timed("check (all rows new)", lambda: importing.check_batch(new_batch()))
    assert batch.status == "checked", batch.message
    assert (batch.new_count, batch.error_rows) == (args.rows, 0), batch.preview["errors"][:5]
    batch = timed("apply (one transaction)", lambda: importing.apply_batch(batch, actor))
    assert batch.status == "applied"
    assert Member.objects.count() == members_before + args.rows
    again = timed("check again (all rows unchanged)", lambda: importing.check_batch(new_batch()))
    assert (again.unchanged_count, again.new_count, again.update_count) == (args.rows, 0, 0)

    results = {
        **head,
        "seeding": seeding,
        "members_before": members_before,
        "rows": args.rows,
        "file_mb": round(len(content) / 1024 / 1024, 1),
        "generate_seconds": round(generate_seconds, 1),
        "baseline_rss_mb": baseline_rss,
        "steps": steps,
        "peak_rss_mb": common.peak_rss_mb(),
    }
    common.write(f"import-{connection.vendor}", results)
    print(
        f"\n{connection.vendor}, {args.rows} rows ({results['file_mb']} MB .xlsx, generated in "
        f"{results['generate_seconds']} s); {common.machine_line(results)}"
    )
    print("\n| step | seconds | rows/s | peak RSS MB |\n|---|---:|---:|---:|")
    for step in steps:
        cells = [step["seconds"], step["rows_per_second"], step["peak_rss_mb"]]
        print(f"| {step['step']} | " + " | ".join(str(c) for c in cells) + " |")
    print(f"\npeak RSS after start-up, before the import: {baseline_rss} MB")


if __name__ == "__main__":
    main()
