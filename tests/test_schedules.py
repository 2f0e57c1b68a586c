"""Schedules that fit the data: staggered, each re-reading its restatement window up to the
newest complete day, in sample mode the sample world's days (orchestration/schedules.py); and
a failed run's summary says what failed (orchestration/run.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from dagster import build_schedule_context, job, op

from orchestration.run import failed_steps
from orchestration.schedules import requested_range
from warehouse.settings import Settings

FIRED = datetime(2026, 11, 1, 5, 0, tzinfo=UTC)  # months after the sample world's last day


@pytest.fixture(scope="module")
def schedules():
    from orchestration.definitions import defs

    return {s.name: s for s in defs.schedules}


def test_in_sample_mode_a_schedule_asks_for_the_sample_worlds_days(schedules):
    """The conftest's environment: sample mode on, the default sample world (2026-06-01..28)."""
    for name, sched in schedules.items():
        (request,) = sched.evaluate_tick(build_schedule_context(scheduled_execution_time=FIRED)).run_requests
        start = date.fromisoformat(request.tags["dagster/asset_partition_range_start"])
        end = date.fromisoformat(request.tags["dagster/asset_partition_range_end"])
        assert end == date(2026, 6, 28), name  # the world's last day, not the calendar's yesterday
        assert date(2026, 6, 1) <= start <= end, name
    meta = schedules["ingest_meta_ads_daily"].evaluate_tick(build_schedule_context(scheduled_execution_time=FIRED))
    # Meta's 28-day window, up to the world's last day
    assert meta.run_requests[0].tags["dagster/asset_partition_range_start"] == "2026-06-01"


def test_outside_sample_mode_a_schedule_reads_its_window_up_to_yesterday():
    settings = Settings.from_env({"SKW_SAMPLE_MODE": "0"})
    assert requested_range(FIRED, 3, settings) == (date(2026, 10, 29), date(2026, 10, 31))
    assert requested_range(FIRED, 0, settings) == (date(2026, 10, 31), date(2026, 10, 31))
    early = Settings.from_env({"SKW_SAMPLE_MODE": "0", "SKW_PARTITIONS_START": "2026-10-30"})
    assert requested_range(FIRED, 28, early) == (date(2026, 10, 30), date(2026, 10, 31))  # not before the first


def test_the_sources_are_staggered_and_transform_comes_after_them(schedules):
    def minutes(cron: str) -> int:
        minute, hour = cron.split()[:2]
        return int(hour) * 60 + int(minute)

    ingest = {n: minutes(s.cron_schedule) for n, s in schedules.items() if n.startswith("ingest_")}
    assert len(set(ingest.values())) == len(ingest)  # no two at once
    assert minutes(schedules["transform_daily"].cron_schedule) > max(ingest.values())
    assert all(s.execution_timezone == "UTC" for s in schedules.values())


def test_a_failed_runs_summary_names_the_step_and_its_error():
    @op
    def extract():
        raise RuntimeError("warehouse /x is held by PID 42 (python notebook.py)")

    @op
    def build(upstream):
        return upstream

    @job
    def tiny():
        build(extract())

    result = tiny.execute_in_process(raise_on_error=False)
    assert failed_steps(result) == [("extract", "RuntimeError: warehouse /x is held by PID 42 (python notebook.py)")]
