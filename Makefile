# social-kpi-warehouse: every target sets itself up from the lock files; nothing is installed by hand.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The repository on the path. Every other setting (data folder, warehouse, DAGSTER_HOME,
# telemetry off) is the code's: warehouse/settings.py, applied where each program starts.
export PYTHONPATH := $(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))
export PYTHONDONTWRITEBYTECODE ?=
# `make run` and `make ui` work on the sample world (its fakes stand in for the platforms);
# SKW_SAMPLE_MODE=0 in the environment turns that off for them.
SAMPLE_MODE = SKW_SAMPLE_MODE="$${SKW_SAMPLE_MODE:-1}"

.PHONY: setup run test lint format bench ui serve-fakes lock clean help report docs serve-info
help:
	@echo "make run    set up, generate the sample world, start the fakes, materialize everything, print a summary (sample mode)"
	@echo "make test   set up, lint (ruff) and run the test suite"
	@echo "make lint   ruff: lint, import order and format check (make format rewrites)"
	@echo "make bench  set up and run the benchmark (scale factors 1 and 10 over a year; long)"
	@echo "make ui     start the Dagster UI on http://127.0.0.1:3000 (run history lives in \$$DAGSTER_HOME)"
	@echo "make serve-fakes   serve the local fake APIs on 127.0.0.1 (ports printed)"
	@echo "make report open the KPI report of the last run (data/report/kpi-report.html; the path when there is no display)"
	@echo "make docs   write dbt's docs as one static page (data/docs/index.html) and open it (or print its path)"
	@echo "make serve-info   the serving database BI tools and analysts read: where, when published, how to connect"
	@echo "make lock   re-resolve requirements.in into requirements.lock (needs the package index)"

# One venv per lock: re-created only when a lock file changes.
$(STAMP): requirements.lock requirements-bootstrap.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required, found " + sys.version.split()[0])'
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r requirements-bootstrap.txt
	$(BIN)/uv pip sync --quiet --python $(BIN)/python --compile-bytecode requirements.lock
	touch $(STAMP)

# The repository on the venv's path (an editable install without a build step), so every
# program of the venv finds the project's modules: `dagster dev` and the Dagster instance load
# orchestration.storage (the event log storage named in $$DAGSTER_HOME/dagster.yaml).
PTH := $(VENV)/lib/python3.11/site-packages/social_kpi_warehouse.pth
$(PTH): $(STAMP) Makefile
	echo "$(CURDIR)" > $(PTH)

setup: $(STAMP) $(PTH)

# dbt's manifest is built once per change of the dbt project, not at every run.
MANIFEST := dbt_project/target/manifest.json
$(MANIFEST): $(STAMP) $(shell find dbt_project -path dbt_project/target -prune -o -type f \( -name '*.sql' -o -name '*.yml' \) -print 2>/dev/null)
	$(BIN)/python -m orchestration.assets.dbt parse
	@touch $(MANIFEST)

run: $(STAMP) $(PTH) $(MANIFEST)
	$(SAMPLE_MODE) $(BIN)/python -m orchestration.run

# Lint, import order and formatting (pyproject.toml [tool.ruff]): first, so a slip fails in seconds.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: $(STAMP) $(PTH) $(MANIFEST) lint
	$(BIN)/python -m pytest

# The full benchmark: scale factors 1 and 10 over a year (see benchmarks/bench.py). Not in CI.
BENCH_ARGS ?= --scales 1,10 --days 365 --repeat 3
bench: $(STAMP) $(PTH) $(MANIFEST)
	$(BIN)/python -m benchmarks.bench $(BENCH_ARGS)

# dagster.yaml gets the project's settings merged in (orchestration/instance.py); in sample mode the
# partitions are the sample world's days.
ui: $(STAMP) $(PTH) $(MANIFEST)
	home="$$($(BIN)/python -m orchestration.instance)" && echo "DAGSTER_HOME=$$home" && \
	days="$$($(SAMPLE_MODE) $(BIN)/python -m orchestration.partitions)" && eval "$$days" && \
	DAGSTER_HOME="$$home" $(SAMPLE_MODE) $(BIN)/dagster dev -h 127.0.0.1 -p 3000 -m orchestration.definitions

# Open a file in the desktop's browser, or print its path when there is no display (a server, CI).
OPEN_OR_PRINT = open_or_print() { if [ "$$(uname)" = Darwin ]; then open "$$1"; \
	elif { [ -n "$${DISPLAY:-}" ] || [ -n "$${WAYLAND_DISPLAY:-}" ]; } && command -v xdg-open >/dev/null; then \
	xdg-open "$$1" >/dev/null 2>&1 & echo "$$1"; else echo "$$1"; fi; }; open_or_print

# The KPI report every run writes (written now from the warehouse if there is none yet).
report: $(STAMP) $(PTH) $(MANIFEST)
	@path="$$($(BIN)/python -m warehouse.report path)" && $(OPEN_OR_PRINT) "$$path"

# dbt's docs as one static page, with the warehouse's catalog (column types, rows); offline.
docs: $(STAMP) $(PTH) $(MANIFEST)
	@path="$$($(BIN)/python -m warehouse.report docs)" && $(OPEN_OR_PRINT) "$$path"

# The serving database (warehouse/serving.py): path, last publish, tables, how to connect.
serve-info: $(STAMP) $(PTH)
	$(BIN)/python -m warehouse.serving info

serve-fakes: $(STAMP)
	$(BIN)/python -m sampleworld serve

lock:
	$(BIN)/uv pip compile requirements.in --python-version 3.11 --python-platform x86_64-unknown-linux-gnu --generate-hashes --no-header -o requirements.lock

clean:
	rm -rf $(VENV) .venv-compat .venv-compat.lock data dbt_project/target dbt_project/logs
