"""Incremental runs, on schedules that are off until turned on (Dagster's default: in the UI,
Automation, or `dagster schedule start <name>`).

Every day each source's `ingest_<source>_daily` re-reads its restatement window (the recent
days the platform still revises: Meta 28, Google Ads 14, GA4 3, LinkedIn Ads 30, ...), up to
the newest complete day: yesterday (UTC), or in sample mode the sample world's last day, so a
scheduled run there asks for days the sample has. The sources start five minutes apart from
05:00 UTC (in the order of orchestration/sources/), and `transform_daily` rebuilds the marts
over the widest window after them. Runs that write the warehouse take turns anyway (the run
queue and the warehouse's pool, orchestration/instance.py); the stagger only keeps the queue
short. Each run replaces the days it re-read, so nothing is ever duplicated, and a request
carries a run key per schedule and day, so a day is requested once."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from dagster import (
    AssetSelection,
    RunRequest,
    ScheduleEvaluationContext,
    define_asset_job,
    in_process_executor,
    schedule,
)

from orchestration.partitions import daily_partitions, reading_day, sample_days
from warehouse.settings import Settings

FIRST_HOUR = 5  # UTC: the first source's schedule
STAGGER_MINUTES = 5  # between two sources' schedules


def lookback_range(today: date, window_days: int, newest: date | None = None) -> tuple[date, date]:
    """The days a run on `today` re-reads: the newest complete day (`newest`, default yesterday)
    and the `window_days - 1` days before it (that day alone for a window of 0 or 1)."""
    end = newest or today - timedelta(days=1)
    return end - timedelta(days=max(window_days, 1) - 1), end


def window_of(assets) -> int:
    """The widest restatement window among a source's stream assets."""
    return max((a.stream.restatement_days for a in assets), default=0)


def requested_range(now: datetime, window_days: int, settings: Settings | None = None) -> tuple[date, date]:
    """The days a schedule firing at `now` asks for: the window up to the newest complete day
    (orchestration/partitions.py `reading_day`), never before the first partition."""
    settings = settings or Settings.from_env()
    start, end = lookback_range(now.date(), window_days, reading_day(settings, today=now.date()))
    first = sample_days()[0] if settings.sample_mode else settings.partitions_start
    return max(start, first), end


def range_request(context: ScheduleEvaluationContext, window_days: int, key: str) -> RunRequest:
    now = context.scheduled_execution_time or datetime.now()
    start, end = requested_range(now, window_days)
    return RunRequest(
        run_key=f"{key}-{now:%Y-%m-%d}",
        tags={
            "dagster/asset_partition_range_start": start.isoformat(),
            "dagster/asset_partition_range_end": end.isoformat(),
        },
    )


def cron_at(minutes_after_first: int) -> str:
    """A daily cron `minutes_after_first` minutes after FIRST_HOUR:00 UTC."""
    hour, minute = divmod(FIRST_HOUR * 60 + minutes_after_first, 60)
    return f"{minute} {hour % 24} * * *"


def source_job_and_schedule(name: str, assets, slot: int = 0):
    """`ingest_<name>`: the source's raw assets over its own restatement window, daily, at the
    `slot`-th stagger after FIRST_HOUR."""
    window = window_of(assets)
    job = define_asset_job(
        f"ingest_{name}",
        selection=AssetSelection.assets(*(a.key for a in assets)),
        partitions_def=daily_partitions,
        executor_def=in_process_executor,
        description=f"Extract {name} and re-read its last {max(window, 1)} day(s) (restatement window).",
    )

    @schedule(
        job=job,
        cron_schedule=cron_at(slot * STAGGER_MINUTES),
        name=f"ingest_{name}_daily",
        execution_timezone="UTC",
        description=f"Daily: {name}'s last {max(window, 1)} day(s), up to the newest complete day.",
    )
    def _schedule(context: ScheduleEvaluationContext):
        return range_request(context, window, f"ingest_{name}")

    return job, _schedule


def transform_job_and_schedule(dbt_assets, window: int, after_slots: int = 12, upstream=(), downstream=()):
    """`transform`: staging and marts over the widest window, after the sources have run
    (`after_slots` staggers after FIRST_HOUR), with the `upstream` steps the models read
    (enrichment: the sentiment of the texts loaded since) and the `downstream` steps that follow
    the build (publishing the serving database)."""
    job = define_asset_job(
        "transform",
        selection=AssetSelection.assets(*upstream, dbt_assets, *downstream),
        partitions_def=daily_partitions,
        executor_def=in_process_executor,
        description=f"Score new texts, build staging and marts for the last {window} days.",
    )

    @schedule(
        job=job,
        cron_schedule=cron_at(after_slots * STAGGER_MINUTES),
        name="transform_daily",
        execution_timezone="UTC",
        description=f"Daily, after the sources: staging and marts over the last {window} days.",
    )
    def _schedule(context: ScheduleEvaluationContext):
        return range_request(context, window, "transform")

    return job, _schedule
