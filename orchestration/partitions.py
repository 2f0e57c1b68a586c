"""Days are the unit of extraction and of restatement.

The first and last day are settings (`SKW_PARTITIONS_START`, default 2026-01-01, and
`SKW_PARTITIONS_END`, default none: up to yesterday, UTC), so a deployment with longer history
can backfill it. In sample mode `make ui` and `make run` set both to the sample world's days
(`python -m orchestration.partitions` prints them), the only days its fakes have data for. The
assets are declared with them, so they are read when this module is imported.

`reading_day()` is the day a reading of values "as they stand now" (a snapshot stream:
lifetime post metrics, follower counts) is dated: yesterday, or in sample mode the sample
world's last day. warehouse/engine.py reads a snapshot stream only in a run whose days
include it (`reads`).

`WAREHOUSE_POOL` is the one Dagster concurrency pool of every asset that writes the DuckDB
warehouse (DuckDB lets one process write the file): its limit of 1 (orchestration/instance.py)
makes the writing steps of runs take turns.
"""

from __future__ import annotations

import shlex
from datetime import UTC, date, datetime, timedelta

from dagster import DailyPartitionsDefinition

from warehouse.settings import Settings

WAREHOUSE_POOL = "duckdb_warehouse"


def sample_days() -> tuple[date, date]:
    """The sample world's first and last day (sample mode only: imports the sample world, so
    never on import of this module)."""
    from orchestration.sample_mode import world_days

    return world_days()


def make_daily_partitions(settings: Settings | None = None) -> DailyPartitionsDefinition:
    settings = settings or Settings.from_env()
    last = settings.partitions_end
    end = (last + timedelta(days=1)).isoformat() if last else None  # end_date is exclusive
    return DailyPartitionsDefinition(start_date=settings.partitions_start.isoformat(), end_date=end)


def reading_day(settings: Settings | None = None, today: date | None = None) -> date:
    """The day a snapshot read now is dated: the sample world's last day in sample mode,
    otherwise yesterday (UTC)."""
    settings = settings or Settings.from_env()
    if settings.sample_mode:
        return sample_days()[1]
    return (today or datetime.now(UTC).date()) - timedelta(days=1)


def sample_partitions_env() -> dict[str, str]:
    """In sample mode, the partition settings that make the partitions the sample world's days
    (what `make ui` and `make run` set); outside it, nothing."""
    if not Settings.from_env().sample_mode:
        return {}
    first, last = sample_days()
    return {"SKW_PARTITIONS_START": first.isoformat(), "SKW_PARTITIONS_END": last.isoformat()}


daily_partitions = make_daily_partitions()


if __name__ == "__main__":
    # `eval "$(python -m orchestration.partitions)"`: what `make ui` runs before `dagster dev`.
    values = sample_partitions_env()
    if values:
        print("export " + " ".join(f"{k}={shlex.quote(v)}" for k, v in values.items()))
