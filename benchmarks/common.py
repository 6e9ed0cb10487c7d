"""What the benchmark scripts share: seeding the city, the machine and versions, peak memory,
writing the results.

Import after ``sys.path`` holds the repository root (each script puts it there).
"""

from __future__ import annotations

import json
import os
import platform
import re
import resource
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"


def peak_rss_mb(children: bool = False) -> float:
    """Peak resident memory of this process (or of its largest finished child), in MB."""
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return round(resource.getrusage(who).ru_maxrss / 1024, 1)


def seed_city(seed: int) -> dict:
    """Migrate, then seed the city into the (fresh) database DATABASE_URL points at, in child
    processes. Returns the wall time of ``seed_demo``, its peak RSS, and the meeting-history
    time it reports; its output goes to ``benchmarks/results/seed-<vendor>.log``."""
    env = dict(os.environ)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    started = time.perf_counter()
    # ru_maxrss of the children is the largest of them: seed_demo outgrows migrate.
    result = subprocess.run(
        [sys.executable, "manage.py", "seed_demo", "--scale", "city", "--seed", str(seed)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    vendor = database_vendor()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"seed-{vendor}.log").write_text(result.stdout + result.stderr)
    if result.returncode:
        sys.stderr.write(result.stdout[-3000:] + result.stderr[-3000:])
        raise SystemExit(f"seed_demo failed with status {result.returncode}")
    history = re.search(r"组织生活记录.*?用时 ([\d.]+) 秒", result.stdout)
    return {
        "seconds": round(seconds, 1),
        "peak_rss_mb": peak_rss_mb(children=True),
        "history_seconds": float(history.group(1)) if history else None,
        "seed": seed,
    }


def database_vendor() -> str:
    """ "sqlite" or "postgresql", from DATABASE_URL (without setting Django up)."""
    url = os.environ.get("DATABASE_URL", "")
    return "postgresql" if url.startswith(("postgres", "pgsql")) else "sqlite"


def _first(path: str, pattern: str) -> str | None:
    try:
        text = Path(path).read_text()
    except OSError:
        return None
    found = re.search(pattern, text, re.MULTILINE)
    return found.group(1).strip() if found else None


def machine() -> dict:
    """CPU model, cores, memory, OS and the load when measured (others may share the host)."""
    memory_kb = _first("/proc/meminfo", r"^MemTotal:\s+(\d+)")
    os_name = _first("/etc/os-release", r'^PRETTY_NAME="?([^"\n]*)"?') or platform.system()
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "cpu": _first("/proc/cpuinfo", r"^model name\s*:\s*(.*)$") or platform.processor(),
        "cores": os.cpu_count(),
        "memory_gib": round(int(memory_kb) / 1024 / 1024, 1) if memory_kb else None,
        "os": f"{os_name}, {platform.system()} {platform.release()} {platform.machine()}",
        "host": platform.node(),
        "load_average": [round(x, 2) for x in load] if load else None,
    }


def versions() -> dict:
    """Python, Django, openpyxl and the database server (Django must be set up)."""
    import django
    import openpyxl
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            database = f"PostgreSQL {cursor.fetchone()[0]}"
            cursor.execute("SHOW jit")
            database += f" (jit {cursor.fetchone()[0]})"
        elif connection.vendor == "sqlite":
            cursor.execute("SELECT sqlite_version()")
            database = f"SQLite {cursor.fetchone()[0]}"
            cursor.execute("PRAGMA journal_mode")
            database += f" ({cursor.fetchone()[0]})"
        else:
            database = connection.vendor
    return {
        "python": platform.python_version(),
        "django": django.get_version(),
        "openpyxl": openpyxl.__version__,
        "database": database,
    }


def describe() -> dict:
    """The date, the machine and the versions, for the head of every results file."""
    from django.db import connection

    return {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "database": connection.vendor,
        "machine": machine(),
        "versions": versions(),
    }


def machine_line(results: dict) -> str:
    if "versions" not in results:  # written by an older version of the scripts
        return f"{results.get('machine')}; {results.get('date')}"
    m, v = results["machine"], results["versions"]
    load = ", ".join(str(x) for x in m["load_average"] or [])
    return (
        f"{m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, {m['os']}; Python {v['python']}, "
        f"Django {v['django']}, openpyxl {v['openpyxl']}, {v['database']}; load average "
        f"{load} at the start; {results['date']}"
    )


def data_counts() -> dict:
    from django.db import connection

    counts = {}
    with connection.cursor() as cursor:
        for name, table in (
            ("organizations", "organizations_organization"),
            ("members", "members_member"),
            ("meetings", "orglife_meeting"),
            ("dues_payments", "dues_duespayment"),
            ("development_records", "development_developmentrecord"),
        ):
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            counts[name] = cursor.fetchone()[0]
    return counts


def write(name: str, results: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(results, ensure_ascii=False, indent=2, default=str))
    return path
