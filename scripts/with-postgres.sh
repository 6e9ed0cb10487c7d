#!/usr/bin/env bash
# Run a command against a throw-away PostgreSQL 15 started from the machine's own binaries.
#
#   scripts/with-postgres.sh make test
#   scripts/with-postgres.sh python benchmarks/pages.py --seed-city
#
# initdb in a temporary directory as an unprivileged OS user, listening on 127.0.0.1 only;
# DATABASE_URL points the command at a database "dangjian" owned by a role that may create
# databases (pytest-django makes test_dangjian). The server and its files are removed after.
# Exits with the command's status, or 1 if the server could not be set up.
set -uo pipefail

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
PG_PORT_START="${PG_PORT:-55432}"

as_root() { [ "$(id -u)" -eq 0 ]; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }

PG_TMP=""
PG_STARTED=0
PG_OS_USER=""

run_pg() {  # run a PostgreSQL binary as the unprivileged OS user
    # From inside the temp dir: the OS user may not be able to read the clone's directory.
    if [ "$(id -un)" = "$PG_OS_USER" ]; then
        (cd "$PG_TMP" && "$@")
    else
        (cd "$PG_TMP" && runuser -u "$PG_OS_USER" -- "$@")
    fi
}

cleanup() {
    if [ "$PG_STARTED" -eq 1 ]; then
        run_pg "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    if [ -n "$PG_TMP" ]; then rm -rf "$PG_TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_free() {
    python3 - "$1" <<'PY'
import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()
PY
}

setup_pg() {
    if [ ! -x "$PG_BIN/initdb" ]; then
        if as_root; then
            warn "$PG_BIN/initdb missing; trying apt-get install postgresql-15"
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null 2>&1 || true
        fi
        [ -x "$PG_BIN/initdb" ] || { echo "no PostgreSQL 15 binaries at $PG_BIN" >&2; return 1; }
    fi

    if as_root; then
        PG_OS_USER=postgres
        if ! id "$PG_OS_USER" >/dev/null 2>&1; then
            useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_OS_USER" || return 1
        fi
    else
        PG_OS_USER="$(id -un)"
    fi

    PG_TMP="$(mktemp -d /tmp/dangjian-pg.XXXXXX)" || return 1
    chmod 755 "$PG_TMP"
    mkdir "$PG_TMP/data" "$PG_TMP/socket"
    chown "$PG_OS_USER" "$PG_TMP/data" "$PG_TMP/socket"
    touch "$PG_TMP/postgres.log"
    chown "$PG_OS_USER" "$PG_TMP/postgres.log"

    PG_PORT="$PG_PORT_START"
    while ! port_free "$PG_PORT"; do
        PG_PORT=$((PG_PORT + 1))
        if [ "$PG_PORT" -gt $((PG_PORT_START + 100)) ]; then
            echo "no free port near $PG_PORT_START" >&2
            return 1
        fi
    done

    run_pg "$PG_BIN/initdb" -D "$PG_TMP/data" -U postgres --auth=trust \
        --encoding=UTF8 --locale=C.UTF-8 >"$PG_TMP/initdb.log" 2>&1 \
        || run_pg "$PG_BIN/initdb" -D "$PG_TMP/data" -U postgres --auth=trust \
            --encoding=UTF8 --locale=C >"$PG_TMP/initdb.log" 2>&1 \
        || { cat "$PG_TMP/initdb.log" >&2; return 1; }

    # Durability is pointless for a throw-away test server: turn it off for speed.
    if ! run_pg "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/postgres.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_TMP/socket -c fsync=off \
-c synchronous_commit=off -c full_page_writes=off" start >/dev/null; then
        cat "$PG_TMP/postgres.log" >&2
        return 1
    fi
    PG_STARTED=1

    local psql=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres)
    "${psql[@]}" -c "CREATE ROLE dangjian LOGIN CREATEDB" \
        && "${psql[@]}" -c "CREATE DATABASE dangjian OWNER dangjian" || return 1
    "${psql[@]}" -tA -c "SELECT version()"
    echo "PostgreSQL on 127.0.0.1:$PG_PORT (data in $PG_TMP)"
}


if [ "$#" -eq 0 ]; then
    echo "usage: $0 COMMAND [ARG...]" >&2
    exit 2
fi
setup_pg || { echo "PostgreSQL set-up failed" >&2; exit 1; }
DATABASE_URL="postgres://dangjian@127.0.0.1:$PG_PORT/dangjian" "$@"
