#!/usr/bin/env bash
# The benchmark suite (docs/benchmarks.md), what `make bench` runs:
#
#   scripts/bench.sh              SQLite, then PostgreSQL 15, then the combined report
#   scripts/bench.sh sqlite       only SQLite (a fresh var/bench.sqlite3)
#   scripts/bench.sh postgresql   only PostgreSQL (a throw-away server, scripts/with-postgres.sh)
#   scripts/bench.sh suite        the suite on whatever DATABASE_URL points at (a fresh database)
#
# On each database: migrate and seed the city (timed), the pages with their floors (the floors
# are checked against the pages first), the compliance engine against its floor, then the
# 100,000-row roster import (last: it adds members). Results: benchmarks/results/*.json; the
# Markdown tables for docs/benchmarks.md are printed at the end (benchmarks/report.py).
# Stops at the first failure, with its status.
set -euo pipefail

SELF="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$SELF")/.."
PY="${PY:-$PWD/.venv/bin/python}"
export PY
SEED="${BENCH_SEED:-2026}"
RESULTS=benchmarks/results

step() { printf '\n=== %s (%s)\n' "$*" "$(date '+%H:%M:%S')"; }

suite() {
    step "pages and their floors (seeding the city first)"
    "$PY" benchmarks/pages.py --seed-city --seed "$SEED"
    step "compliance engine against its floor"
    "$PY" benchmarks/compliance.py
    step "roster import, 100,000 rows"
    "$PY" benchmarks/import_roster.py
}

sqlite() {
    mkdir -p var
    rm -f var/bench.sqlite3 var/bench.sqlite3-*
    step "SQLite: var/bench.sqlite3"
    DATABASE_URL="sqlite:///$PWD/var/bench.sqlite3" bash "$SELF" suite
}

postgresql() {
    step "PostgreSQL: a throw-away server"
    bash scripts/with-postgres.sh bash "$SELF" suite
}

clear_results() {  # results of an earlier run must not pass for this one's
    mkdir -p "$RESULTS"
    rm -f "$RESULTS"/{sqlite,postgresql,compliance-*,import-*,seed-*}.json "$RESULTS"/seed-*.log
    rm -f "$RESULTS"/sqlite-partial.json "$RESULTS"/postgresql-partial.json
}

case "${1:-all}" in
    suite) suite ;;
    sqlite) sqlite ;;
    postgresql) postgresql ;;
    all)
        clear_results
        sqlite
        postgresql
        step "report (for docs/benchmarks.md)"
        "$PY" benchmarks/report.py
        ;;
    *)
        echo "usage: $0 [all|sqlite|postgresql|suite]" >&2
        exit 2
        ;;
esac
