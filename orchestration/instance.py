"""Make sure Dagster's home (`DAGSTER_HOME`, warehouse/settings.py) exists and its dagster.yaml
holds the settings the project needs, merged into what the user wrote there.

Run history (runs, events, asset materializations) lives there, under data/ by default, so it
survives between `make run`s and shows in `make ui`. Nothing here writes the process's
environment: `make run` opens the instance from the folder (`instance()`), and `make ui` hands
`dagster dev` the path this module prints (`python -m orchestration.instance`).

What the project needs (`PROJECT_SETTINGS`), each added only where the user's dagster.yaml does
not say otherwise (`merge_settings`: a key the user set keeps the user's value, at any depth;
the file is rewritten only when something is missing, and left byte for byte otherwise):
- telemetry off, and no community pop-up in the UI (`nux`);
- the project's own loggers (extractors, warehouse, expectations) in the run's event log;
- runs take turns on the warehouse: the run queue starts one run of this code location at a
  time (a tag concurrency limit on `dagster/code_location`, which Dagster sets on every run it
  launches: schedules, sensors, backfills, the UI), and every asset that writes the DuckDB file
  is in one concurrency pool (orchestration/partitions.py `WAREHOUSE_POOL`) whose default limit
  is 1, so even runs started outside the queue (`make run`, a script) write one at a time;
- a run that failed outside its steps (its process could not start or load the code, it stayed
  "starting" past run monitoring's start timeout, it ended unexpectedly) is retried, twice, from
  where it failed; a run that failed in a step is not: transient API errors are retried inside
  the step, a lock held outside Dagster is waited for, and bad data is kept in rejects and
  reported, so running again would fail the same way (no job sets a tag that changes this:
  tests/test_instance_settings.py);
- a pool slot is never held for ever: run monitoring frees the slots a finished run still holds
  (`free_slots_after_run_end_seconds`: a run killed with SIGKILL or out of memory never gives
  back the slot of the step it was in, and the pool's limit of 1 would then block every later
  writer) and fails a run stuck starting; Dagster's default run launcher cannot resume a run
  whose process died, so resuming is left to the run retries above (`max_resume_run_attempts`
  0);
- Dagster's SQLite storages in Dagster's default places, with one change: an event log that
  keeps its database connections open (orchestration/storage.py says why).
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

import yaml

from warehouse.settings import Settings

# The code location `make ui` serves (`dagster dev -m orchestration.definitions`): Dagster names
# it after the module and tags each of its runs with it.
CODE_LOCATION = "orchestration.definitions"
# Runs of the code location at once (each writes the warehouse; DuckDB has one writer).
WRITER_RUNS = 1
RUN_RETRIES = 2
# Seconds after a run ended before the monitoring daemon frees the pool slots it still holds.
FREE_SLOTS_AFTER_RUN_END_SECONDS = 300

HEADER = """# Dagster's instance settings. orchestration/instance.py adds the settings the project needs
# (telemetry off, no pop-up, runs taking turns on the warehouse, retries, storage) where this
# file does not set them, and never changes a value set here: edit freely.
"""

# What the project needs, without storage (an ephemeral instance in tests takes these).
PROJECT_SETTINGS: dict = {
    "telemetry": {"enabled": False},
    "nux": {"enabled": False},
    "python_logs": {
        "python_log_level": "INFO",
        # Retries, throttling pauses and rejects logged by the project's own modules show in the
        # run's event log beside Dagster's.
        "managed_python_loggers": ["extractors", "warehouse", "expectations", "sampleworld"],
    },
    "concurrency": {
        "pools": {"default_limit": 1},
        "runs": {
            "tag_concurrency_limits": [{"key": "dagster/code_location", "value": CODE_LOCATION, "limit": WRITER_RUNS}]
        },
    },
    "run_retries": {"enabled": True, "max_retries": RUN_RETRIES, "retry_on_asset_or_op_failure": False},
    "run_monitoring": {
        "enabled": True,
        "free_slots_after_run_end_seconds": FREE_SLOTS_AFTER_RUN_END_SECONDS,
        "max_resume_run_attempts": 0,
    },
}


def storage_settings(home: Path) -> dict:
    """Dagster's SQLite storages in Dagster's default places under `home`, with one change: the
    event log keeps its database connections open (orchestration/storage.py)."""
    return {
        "run_storage": {
            "module": "dagster._core.storage.runs",
            "class": "SqliteRunStorage",
            "config": {"base_dir": f"{home}/history/"},
        },
        "event_log_storage": {
            "module": "orchestration.storage",
            "class": "PooledSqliteEventLogStorage",
            "config": {"base_dir": f"{home}/history/runs/"},
        },
        "schedule_storage": {
            "module": "dagster._core.storage.schedules",
            "class": "SqliteScheduleStorage",
            "config": {"base_dir": f"{home}/schedules/"},
        },
    }


def wanted_settings(home: Path) -> dict:
    return {**copy.deepcopy(PROJECT_SETTINGS), **storage_settings(home)}


def merge_settings(user: dict, wanted: dict) -> dict:
    """`user`'s settings with what `wanted` adds: a key missing from `user` is added; where both
    hold a mapping, the same again inside it; anything else `user` set is kept as it is (a list,
    a value, even a `null`)."""
    out = copy.deepcopy(user)
    for key, value in wanted.items():
        if key not in out:
            out[key] = copy.deepcopy(value)
        elif isinstance(out[key], dict) and isinstance(value, dict):
            out[key] = merge_settings(out[key], value)
    return out


def dagster_yaml(home: Path, existing: str | None = None) -> str:
    """The dagster.yaml of `home`: `existing` (the user's file, if any) with the project's
    settings merged in; `existing` itself when nothing is missing from it."""
    user = yaml.safe_load(existing) if existing and existing.strip() else {}
    if user is None:
        user = {}
    if not isinstance(user, dict):
        raise ValueError(f"{home / 'dagster.yaml'} does not hold a mapping of settings: fix or remove it")
    merged = merge_settings(user, wanted_settings(home))
    if existing is not None and merged == user:
        return existing
    return HEADER + yaml.safe_dump(merged, sort_keys=False, default_flow_style=False)


def instance_settings() -> dict:
    """The project's settings as a dict, for an ephemeral (in-memory) instance (tests)."""
    return copy.deepcopy(PROJECT_SETTINGS)


def ensure_dagster_home(settings: Settings | None = None) -> Path:
    """The home folder, with the project's settings merged into its dagster.yaml (created if
    there is none); a file that already has them all is not touched."""
    home = (settings or Settings.from_env()).dagster_home
    home.mkdir(parents=True, exist_ok=True)
    cfg = home / "dagster.yaml"
    existing = cfg.read_text() if cfg.exists() else None
    wanted = dagster_yaml(home, existing)
    if wanted != existing:
        tmp = cfg.with_name(f".dagster.yaml.{os.getpid()}.tmp")  # two runs starting at once write their own
        tmp.write_text(wanted)
        tmp.replace(cfg)
    return home


@contextlib.contextmanager
def _home_lock(home: Path) -> Iterator[None]:
    """One process at a time sets up the home: on a fresh home, Dagster creates its SQLite
    storages (alembic migrations) when the instance first opens them, and two runs started at
    once both did, the second failing with `table alembic_version already exists`
    (tests/test_concurrent_processes.py)."""
    with open(home / ".instance.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def instance(settings: Settings | None = None):
    """The persistent Dagster instance of that home (what `make run` records into), its
    storages created under the home's lock."""
    from dagster import DagsterInstance

    home = (settings or Settings.from_env()).dagster_home
    home.mkdir(parents=True, exist_ok=True)
    with _home_lock(home):
        ensure_dagster_home(settings)
        inst = DagsterInstance.from_config(str(home))  # builds (and migrates) every storage
        inst.get_runs(limit=1)  # the run storage read once while the lock is held
    return inst


if __name__ == "__main__":
    print(ensure_dagster_home())
