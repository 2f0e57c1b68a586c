# social-kpi-warehouse: every target sets itself up from the lock files; nothing is installed by hand.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The project's own run-time policy (also set in code, so it holds outside make too).
export PYTHONPATH := $(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))
export SKW_DATA_DIR ?= $(CURDIR)/data
export DAGSTER_HOME ?= $(SKW_DATA_DIR)/dagster_home
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1
export DAGSTER_DISABLE_TELEMETRY := 1
export GX_ANALYTICS_ENABLED := false
export PYTHONDONTWRITEBYTECODE ?=

.PHONY: setup run test bench ui serve-fakes lock clean help
help:
	@echo "make run    set up, generate the sample world, start the fakes, materialize everything, print a summary"
	@echo "make test   set up and run the test suite"
	@echo "make bench  set up and run the benchmark (scale factors 1 and 10 over a year; long)"
	@echo "make ui     start the Dagster UI on http://127.0.0.1:3000 (run history lives in \$$DAGSTER_HOME)"
	@echo "make serve-fakes   serve the local fake APIs on 127.0.0.1 (ports printed)"
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
	cd dbt_project && ../$(BIN)/dbt parse --quiet --profiles-dir . --target-path target
	@touch $(MANIFEST)

run: $(STAMP) $(PTH) $(MANIFEST)
	$(BIN)/python -m orchestration.run

test: $(STAMP) $(PTH) $(MANIFEST)
	$(BIN)/python -m pytest

# The full benchmark: scale factors 1 and 10 over a year (see benchmarks/bench.py). Not in CI.
BENCH_ARGS ?= --scales 1,10 --days 365 --repeat 3
bench: $(STAMP) $(PTH) $(MANIFEST)
	$(BIN)/python -m benchmarks.bench $(BENCH_ARGS)

ui: $(STAMP) $(PTH) $(MANIFEST)
	@mkdir -p $(DAGSTER_HOME)
	$(BIN)/python -m orchestration.instance
	SKW_PII_SALT="$${SKW_PII_SALT:-sample-world-salt-not-a-secret}" $(BIN)/dagster dev -h 127.0.0.1 -p 3000 -m orchestration.definitions

serve-fakes: $(STAMP)
	$(BIN)/python -m sampleworld serve

lock:
	$(BIN)/uv pip compile requirements.in --python-version 3.11 --python-platform x86_64-unknown-linux-gnu --generate-hashes --no-header -o requirements.lock

clean:
	rm -rf $(VENV) data dbt_project/target dbt_project/logs
