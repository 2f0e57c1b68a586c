"""Incremental runs: every day, each source re-reads its restatement window (the recent days
the platform still revises: Meta 28, Google Ads 14, GA4 3, LinkedIn Ads 30, ...) and the
marts are rebuilt over the widest window. Sources have a job each, so their runs go side by
side; each run replaces the days it re-read, so nothing is ever duplicated."""

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

from orchestration.partitions import daily_partitions


def lookback_range(today: date, window_days: int) -> tuple[date, date]:
    """The days a run on `today` re-reads: yesterday and the `window_days - 1` days before it
    (yesterday alone for a window of 0 or 1; today is never complete)."""
    end = today - timedelta(days=1)
    return end - timedelta(days=max(window_days, 1) - 1), end


def window_of(assets) -> int:
    """The widest restatement window among a source's stream assets."""
    return max((a.stream.restatement_days for a in assets), default=0)


def range_request(context: ScheduleEvaluationContext, window_days: int, key: str) -> RunRequest:
    now = context.scheduled_execution_time or datetime.now()
    start, end = lookback_range(now.date(), window_days)
    return RunRequest(
        run_key=f"{key}-{now:%Y-%m-%d}",
        tags={
            "dagster/asset_partition_range_start": start.isoformat(),
            "dagster/asset_partition_range_end": end.isoformat(),
        },
    )


def source_job_and_schedule(name: str, assets, hour: int = 5):
    """`ingest_<name>`: the source's raw assets over its own restatement window, daily."""
    window = window_of(assets)
    job = define_asset_job(
        f"ingest_{name}",
        selection=AssetSelection.assets(*(a.key for a in assets)),
        partitions_def=daily_partitions,
        executor_def=in_process_executor,
        description=f"Extract {name} and re-read its last {window} days (restatement window).",
    )

    @schedule(job=job, cron_schedule=f"0 {hour} * * *", name=f"ingest_{name}_daily", execution_timezone="UTC")
    def _schedule(context: ScheduleEvaluationContext):
        return range_request(context, window, f"ingest_{name}")

    return job, _schedule


def transform_job_and_schedule(dbt_assets, window: int, hour: int = 6, upstream=()):
    """`transform`: staging and marts over the widest window, after the sources have run, with
    the `upstream` steps the models read (enrichment: the sentiment of the texts loaded since)."""
    job = define_asset_job(
        "transform",
        selection=AssetSelection.assets(*upstream, dbt_assets),
        partitions_def=daily_partitions,
        executor_def=in_process_executor,
        description=f"Score new texts, build staging and marts for the last {window} days.",
    )

    @schedule(job=job, cron_schedule=f"0 {hour} * * *", name="transform_daily", execution_timezone="UTC")
    def _schedule(context: ScheduleEvaluationContext):
        return range_request(context, window, "transform")

    return job, _schedule
