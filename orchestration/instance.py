"""Make sure $DAGSTER_HOME exists and its dagster.yaml turns telemetry off.

Run history (runs, events, asset materializations) lives there, under data/ by default,
so it survives between `make run`s and shows in `make ui`.
"""

from __future__ import annotations

import os
from pathlib import Path

from warehouse.settings import Settings

DAGSTER_YAML = """# Written by orchestration/instance.py. Nothing leaves this machine.
telemetry:
  enabled: false
# Retries, throttling pauses and rejects logged by the project's own modules show in the
# run's event log beside Dagster's.
python_logs:
  python_log_level: INFO
  managed_python_loggers: [extractors, warehouse, expectations, sampleworld]
"""


def instance_settings() -> dict:
    """The same settings as a dict, for an ephemeral instance (tests)."""
    import yaml

    return yaml.safe_load(DAGSTER_YAML)


def ensure_dagster_home() -> Path:
    home = Path(os.environ.get("DAGSTER_HOME") or Settings.from_env().data_dir / "dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    cfg = home / "dagster.yaml"
    if not cfg.exists() or cfg.read_text() != DAGSTER_YAML:
        cfg.write_text(DAGSTER_YAML)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


if __name__ == "__main__":
    print(f"DAGSTER_HOME={ensure_dagster_home()}")
