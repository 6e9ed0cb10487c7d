"""Database settings read from the environment (a fresh interpreter for each)."""

import json
import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
POSTGRES = "postgres://dangjian@127.0.0.1:5432/dangjian"


def database_options(**env) -> dict:
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_JIT_OFF"}
    environment.update(env, DJANGO_SETTINGS_MODULE="dangjian.settings")
    code = (
        "import django, json; django.setup(); from django.conf import settings; "
        "print(json.dumps(settings.DATABASES['default'].get('OPTIONS', {})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_postgresql_connections_run_without_jit():
    assert database_options(DATABASE_URL=POSTGRES)["options"] == "-c jit=off"


def test_a_url_with_its_own_options_keeps_them():
    url = POSTGRES + "?options=-c%20jit%3Don"
    assert database_options(DATABASE_URL=url)["options"] == "-c jit=on"


def test_behind_a_pooler_the_option_can_be_left_out():
    assert "options" not in database_options(DATABASE_URL=POSTGRES, DATABASE_JIT_OFF="0")


def test_sqlite_is_not_given_the_option(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    assert "options" not in database_options(DATABASE_URL=url)
