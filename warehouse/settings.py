"""The project's own settings, each read from one environment variable, in this one place.

Every variable below is named once and read by `Settings.from_env()` only; the rest of the
project takes a `Settings` (or a value from one) instead of reading os.environ. The defaults
sit under the git-ignored `data/`. What each source reads (endpoints, tokens, ids) is declared
beside the source (`orchestration/sources/<source>.py`); the sample world's own variables
(`SKW_SAMPLE_START`, ... `SKW_FAKE_*`) are read by `sampleworld/`, in sample mode only.

The run-time policy is set here once and applied where a process starts, never on import:
- telemetry off (`TELEMETRY_OFF`): `orchestration/run.py` (`make run`) and the code location
  Dagster loads (`orchestration/definitions.py`, `make ui`) put it in their environment, and
  every dbt process gets it in `dbt_env()`; Dagster's instance turns it off in its
  `dagster.yaml` too (orchestration/instance.py);
- the warehouse path and DuckDB's memory limit reach dbt in `dbt_env()` only: dbt's profile
  has no default of its own, so raw and marts cannot land in different files;
- `DAGSTER_HOME` is `dagster_home` (orchestration/instance.py writes its dagster.yaml).

`python -m warehouse.settings` prints the `export` line that lets dbt run by hand on the same
warehouse (`eval "$(python -m warehouse.settings)"; cd dbt_project; dbt build`).
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

# The names other parts of the project (dbt's profile and models, the Makefile) read or set.
WAREHOUSE_PATH_VAR = "SKW_WAREHOUSE_PATH"
MEMORY_LIMIT_VAR = "SKW_DUCKDB_MEMORY_LIMIT"
PII_SALT_VAR = "SKW_PII_SALT"
SAMPLE_MODE_VAR = "SKW_SAMPLE_MODE"
SOURCES_VAR = "SKW_SOURCES"
SERVING_PATH_VAR = "SKW_SERVING_PATH"

DEFAULT_MEMORY_LIMIT = "1GB"
DEFAULT_PARTITIONS_START = "2026-01-01"
# The sample world's people are made up; staging still hashes them, with this salt when the
# environment sets none. Only in sample mode: a real warehouse sets its own secret.
SAMPLE_PII_SALT = "sample-world-salt-not-a-secret"

# No usage telemetry from Dagster, dbt or Great Expectations, whatever the user's shell says.
TELEMETRY_OFF = {
    "DAGSTER_DISABLE_TELEMETRY": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DO_NOT_TRACK": "1",
    "GX_ANALYTICS_ENABLED": "false",
}

_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"", "0", "false", "no", "off"}


REJECT_THRESHOLD_VAR = "SKW_REJECT_THRESHOLD"
REJECT_THRESHOLDS_VAR = "SKW_REJECT_THRESHOLDS"
# Each API source's retry budget (extractors/http.py RetryPolicy): attempts per request before a
# source gives up on it, and the longest backoff between two of them (a server's Retry-After
# is honoured whatever this says).
HTTP_MAX_ATTEMPTS_VAR = "SKW_HTTP_MAX_ATTEMPTS"
HTTP_BACKOFF_MAX_VAR = "SKW_HTTP_BACKOFF_MAX_S"
DEFAULT_HTTP_MAX_ATTEMPTS = 6
DEFAULT_HTTP_BACKOFF_MAX_S = 60.0
# dbt's own log file (dbt.log in each run's dbt target folder). Off by default: every event of
# level info and above (each node's start, result and error) is in the run's logs already, and
# dbt formats a file line for every event it fires, debug ones included, whatever the file's
# level (measured: 0.6-1.8 s of a 7-8 s one-day build). dbt's own variable: `debug` for the full log.
DBT_LOG_LEVEL_FILE_VAR = "DBT_LOG_LEVEL_FILE"
DEFAULT_DBT_LOG_LEVEL_FILE = "none"
_DBT_LOG_LEVELS = ("debug", "info", "warn", "error", "none")


class SettingsError(ValueError):
    """A setting that cannot be read: the message names the variable."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path  # SKW_DATA_DIR: where everything below lives by default
    warehouse_path: Path  # SKW_WAREHOUSE_PATH: the DuckDB warehouse (dbt's profile reads it from dbt_env())
    landing_dir: Path  # SKW_LANDING_DIR: immutable landing files
    sample_dir: Path  # SKW_SAMPLE_DIR: generated sample worlds
    dagster_home: Path  # DAGSTER_HOME: Dagster's run history
    duckdb_memory_limit: str  # SKW_DUCKDB_MEMORY_LIMIT: DuckDB's cap for the loader's and dbt's connections
    sample_mode: bool  # SKW_SAMPLE_MODE: sources read the embedded fakes of the sample world
    partitions_start: date  # SKW_PARTITIONS_START: the first daily partition
    partitions_end: date | None  # SKW_PARTITIONS_END: the last daily partition; unset: yesterday (UTC)
    sources: tuple[str, ...] | None  # SKW_SOURCES: the sources to run (comma-separated); unset: every one
    pii_salt: str | None  # SKW_PII_SALT: salt of staging's PII hashes (sample mode: a fixed sample salt)
    reject_threshold: str  # SKW_REJECT_THRESHOLD: reject share over which a load is an error (warehouse/load_checks.py)
    reject_thresholds: str  # SKW_REJECT_THRESHOLDS: per stream, `source/stream=share,...`
    # SKW_SERVING_PATH: the copy of the marts BI tools and analysts read (warehouse/serving.py);
    # default serving.duckdb beside the warehouse
    serving_path: Path
    http_max_attempts: int = DEFAULT_HTTP_MAX_ATTEMPTS  # SKW_HTTP_MAX_ATTEMPTS: attempts per request (>= 1)
    http_backoff_max_s: float = DEFAULT_HTTP_BACKOFF_MAX_S  # SKW_HTTP_BACKOFF_MAX_S: longest backoff, seconds
    dbt_log_level_file: str = DEFAULT_DBT_LOG_LEVEL_FILE  # DBT_LOG_LEVEL_FILE: dbt.log's level (none: no file)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        data = Path(env.get("SKW_DATA_DIR") or REPO_ROOT / "data").resolve()
        sample_mode = _flag(env, SAMPLE_MODE_VAR)
        return cls(
            data_dir=data,
            warehouse_path=Path(env.get(WAREHOUSE_PATH_VAR) or data / "warehouse.duckdb").resolve(),
            landing_dir=Path(env.get("SKW_LANDING_DIR") or data / "landing").resolve(),
            sample_dir=Path(env.get("SKW_SAMPLE_DIR") or data / "sample").resolve(),
            dagster_home=Path(env.get("DAGSTER_HOME") or data / "dagster_home").resolve(),
            duckdb_memory_limit=env.get(MEMORY_LIMIT_VAR) or DEFAULT_MEMORY_LIMIT,
            sample_mode=sample_mode,
            partitions_start=_date(env, "SKW_PARTITIONS_START", DEFAULT_PARTITIONS_START),
            partitions_end=_date(env, "SKW_PARTITIONS_END", "") if env.get("SKW_PARTITIONS_END") else None,
            sources=_names(env.get(SOURCES_VAR)),
            pii_salt=env.get(PII_SALT_VAR) or (SAMPLE_PII_SALT if sample_mode else None),
            reject_threshold=env.get(REJECT_THRESHOLD_VAR, "").strip(),
            reject_thresholds=env.get(REJECT_THRESHOLDS_VAR, "").strip(),
            serving_path=serving_path_for(env.get(WAREHOUSE_PATH_VAR) or data / "warehouse.duckdb", env),
            http_max_attempts=int(_number(env, HTTP_MAX_ATTEMPTS_VAR, DEFAULT_HTTP_MAX_ATTEMPTS, integer=True)),
            http_backoff_max_s=_number(env, HTTP_BACKOFF_MAX_VAR, DEFAULT_HTTP_BACKOFF_MAX_S),
            dbt_log_level_file=_choice(env, DBT_LOG_LEVEL_FILE_VAR, _DBT_LOG_LEVELS, DEFAULT_DBT_LOG_LEVEL_FILE),
        )

    def dbt_env(self) -> dict[str, str]:
        """What every dbt process is given: telemetry off, this warehouse and memory limit (dbt's
        profile reads them, with no default of its own), dbt's file log level, and the PII salt
        when there is one (without it dbt refuses to build, naming the variable)."""
        env = {
            "DBT_SEND_ANONYMOUS_USAGE_STATS": TELEMETRY_OFF["DBT_SEND_ANONYMOUS_USAGE_STATS"],
            "DO_NOT_TRACK": TELEMETRY_OFF["DO_NOT_TRACK"],
            DBT_LOG_LEVEL_FILE_VAR: self.dbt_log_level_file,
            WAREHOUSE_PATH_VAR: str(self.warehouse_path),
            MEMORY_LIMIT_VAR: self.duckdb_memory_limit,
        }
        if self.pii_salt:
            env[PII_SALT_VAR] = self.pii_salt
        return env


def serving_path_for(warehouse_path: Path | str, environ: Mapping[str, str] | None = None) -> Path:
    """Where the serving copy of `warehouse_path` is published: `SKW_SERVING_PATH` if set, else
    serving.duckdb beside the warehouse."""
    env = os.environ if environ is None else environ
    return Path(env.get(SERVING_PATH_VAR) or Path(warehouse_path).resolve().parent / "serving.duckdb").resolve()


def _number(env: Mapping[str, str], name: str, default: float, integer: bool = False) -> float:
    """A positive number from `name` (an integer when `integer`), or `default` when unset."""
    value = (env.get(name) or "").strip()
    if not value:
        return default
    try:
        number = int(value) if integer else float(value)
    except ValueError:
        number = None
    if number is None or not number > 0 or number == float("inf"):
        kind = "a whole number" if integer else "a number of seconds"
        raise SettingsError(f"{name}={value!r}: expected {kind} above 0 (default {default:g})")
    return number


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    """One of `choices` from `name` (any case), or `default` when unset."""
    value = (env.get(name) or "").strip().lower()
    if not value:
        return default
    if value not in choices:
        raise SettingsError(f"{name}={env.get(name)!r}: expected one of {', '.join(choices)} (default {default})")
    return value


def _flag(env: Mapping[str, str], name: str) -> bool:
    value = (env.get(name) or "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingsError(f"{name}={env.get(name)!r}: expected 1 or 0 (on/off, true/false)")


def _date(env: Mapping[str, str], name: str, default: str) -> date:
    value = env.get(name) or default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise SettingsError(f"{name}={value!r}: expected a date, YYYY-MM-DD") from None


def _names(value: str | None) -> tuple[str, ...] | None:
    if value is None or not value.strip():
        return None
    return tuple(n.strip() for n in value.split(",") if n.strip())


if __name__ == "__main__":
    # Not the salt: it is a secret, and dbt reads it from the caller's own environment. Not the
    # file log's level: dbt by hand keeps its own default (a debug dbt.log), unless it is set.
    hidden = {PII_SALT_VAR} | (set() if os.environ.get(DBT_LOG_LEVEL_FILE_VAR) else {DBT_LOG_LEVEL_FILE_VAR})
    shown = {k: v for k, v in Settings.from_env().dbt_env().items() if k not in hidden}
    print("export " + " ".join(f"{k}={shlex.quote(v)}" for k, v in shown.items()))
