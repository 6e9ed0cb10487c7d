# Dangjian 党建 — everyday commands. GNU make or any POSIX make.
#   make demo    set up .venv, migrate, seed demo data, serve on http://127.0.0.1:8000/
#   make test    set up .venv with the test extras and run pytest (PYTEST_ARGS="-k foo -x")
#   make lint    ruff check + ruff format --check
#   make assets  refresh dangjian/static/vendor/ from the npm registry (pinned, checked)
#   make clean-db  delete the development SQLite database under var/
#   make bench   seed the city-scale data and time the pages against their SQL floors, the
#                compliance matrix and the roster import, on SQLite then PostgreSQL 15

PYTHON ?= python3
VENV = .venv
VPY = $(VENV)/bin/python
PIP_FLAGS = --quiet --disable-pip-version-check
PYTEST_ARGS ?=
HOST = 127.0.0.1
PORT = 8000

.PHONY: demo test lint assets clean-db venv bench

venv: $(VPY)

$(VPY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || \
		{ echo "Dangjian needs Python >= 3.11; set PYTHON=/path/to/python3.11" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

# Reinstall only when pyproject.toml changed since the last install.
$(VENV)/.installed: pyproject.toml $(VPY)
	$(VPY) -m pip install $(PIP_FLAGS) -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VPY)
	$(VPY) -m pip install $(PIP_FLAGS) -e '.[test]'
	touch $@

# The task worker (large roster imports) runs in the background while runserver runs, and
# is stopped when runserver exits.
demo: $(VENV)/.installed
	$(VPY) manage.py migrate --noinput
	$(VPY) manage.py seed_demo --scale demo --if-empty
	@echo ""
	@echo "Dangjian is starting at http://$(HOST):$(PORT)/  (Ctrl-C to stop)"
	$(VPY) manage.py db_worker --no-reload & WORKER=$$!; \
		trap 'kill $$WORKER 2>/dev/null' EXIT INT TERM; \
		$(VPY) manage.py runserver $(HOST):$(PORT)

# pytest exits 1 on failures and 5 when it collected no test: both fail the target.
test: $(VENV)/.installed-test
	$(VPY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

assets:
	bash scripts/vendor-assets.sh

clean-db:
	rm -f var/dangjian.sqlite3 var/dangjian.sqlite3-*

# The benchmark suite on the city-scale data (docs/benchmarks.md, scripts/bench.sh): a fresh
# SQLite file, then a throw-away PostgreSQL 15; on each, the seeding, the pages with their SQL
# floors (checked equal first), the compliance engine and the 100,000-row import. Results land
# in benchmarks/results/; the Markdown tables for the docs are printed at the end.
bench: $(VENV)/.installed-test
	PY=$(CURDIR)/$(VPY) bash scripts/bench.sh
