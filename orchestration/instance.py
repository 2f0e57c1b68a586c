"""Make sure Dagster's home (`DAGSTER_HOME`, warehouse/settings.py) exists and its
dagster.yaml turns telemetry off.

Run history (runs, events, asset materializations) lives there, under data/ by default,
so it survives between `make run`s and shows in `make ui`. Nothing here writes the process's
environment: `make run` opens the instance from the folder (`instance()`), and `make ui` hands
`dagster dev` the path this module prints (`python -m orchestration.instance`).
"""

from __future__ import annotations

from pathlib import Path

from warehouse.settings import Settings

TELEMETRY_AND_LOGS = """# Written by orchestration/instance.py. Nothing leaves this machine.
telemetry:
  enabled: false
# Retries, throttling pauses and rejects logged by the project's own modules show in the
# run's event log beside Dagster's.
python_logs:
  python_log_level: INFO
  managed_python_loggers: [extractors, warehouse, expectations, sampleworld]
"""

# Dagster's SQLite storages in Dagster's default places under $DAGSTER_HOME, with one change:
# the event log keeps its database connections open (orchestration/storage.py says why).
STORAGE = """run_storage:
  module: dagster._core.storage.runs
  class: SqliteRunStorage
  config:
    base_dir: {home}/history/
event_log_storage:
  module: orchestration.storage
  class: PooledSqliteEventLogStorage
  config:
    base_dir: {home}/history/runs/
schedule_storage:
  module: dagster._core.storage.schedules
  class: SqliteScheduleStorage
  config:
    base_dir: {home}/schedules/
"""


def dagster_yaml(home: Path) -> str:
    return TELEMETRY_AND_LOGS + STORAGE.format(home=home)


def instance_settings() -> dict:
    """Telemetry and logging as a dict, for an ephemeral (in-memory) instance (tests)."""
    import yaml

    return yaml.safe_load(TELEMETRY_AND_LOGS)


def ensure_dagster_home(settings: Settings | None = None) -> Path:
    """The home folder, created with the project's dagster.yaml if it is not there yet."""
    home = (settings or Settings.from_env()).dagster_home
    home.mkdir(parents=True, exist_ok=True)
    cfg = home / "dagster.yaml"
    wanted = dagster_yaml(home)
    if not cfg.exists() or cfg.read_text() != wanted:
        cfg.write_text(wanted)
    return home


def instance(settings: Settings | None = None):
    """The persistent Dagster instance of that home (what `make run` records into)."""
    from dagster import DagsterInstance

    return DagsterInstance.from_config(str(ensure_dagster_home(settings)))


if __name__ == "__main__":
    print(ensure_dagster_home())
