"""Snapshot streams (lifetime values as they stand now: X's users and post metrics, LinkedIn's
follower counts, ...) are read only for the day a reading made now is dated, so a backfill of
past days writes no snapshot row under a past date (warehouse/engine.py `reads`)."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import TEST_SPEC
from dagster import DagsterInstance

from extractors.x import POST_METRICS, USERS
from orchestration.instance import instance_settings
from sampleworld.serve import fake_env
from warehouse import engine
from warehouse.loader import connect

JUNE = [date(2026, 6, d) for d in range(1, 8)]
SNAPSHOT_TABLES = ("raw.x__users", "raw.x__post_metrics")


def test_reads_put_a_snapshot_on_its_reading_day_only():
    as_of = JUNE[-1]
    assert [r.days for r in engine.reads(USERS, JUNE[1:3], as_of)] == []  # a past range: nothing
    assert [r.days for r in engine.reads(USERS, JUNE, as_of)] == [(as_of,)]  # the range holds it: that day
    assert [r.days for r in engine.reads(USERS, [as_of], as_of)] == [(as_of,)]
    assert [r.days for r in engine.reads(USERS, JUNE[1:3])] == [(JUNE[2],)]  # no reading day given: the last
    assert [r.days for r in engine.reads(POST_METRICS, JUNE[:2], as_of)] == []


@pytest.fixture
def x_only(fakes, world, tmp_path, monkeypatch):
    """Definitions with X only, on the test world's fakes (the session's), a warehouse of their own."""
    from orchestration.definitions import build_definitions
    from warehouse.settings import Settings

    for k, v in fake_env({"x": fakes["x"]}).items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("SKW_SOURCES", "x")
    monkeypatch.setenv("SKW_WAREHOUSE_PATH", str(tmp_path / "w.duckdb"))
    monkeypatch.setenv("SKW_LANDING_DIR", str(tmp_path / "landing"))
    for k, v in {
        "SKW_SAMPLE_START": TEST_SPEC.start,
        "SKW_SAMPLE_END": TEST_SPEC.end,
        "SKW_SAMPLE_SEED": TEST_SPEC.seed,
        "SKW_SAMPLE_SCALE": TEST_SPEC.scale,
    }.items():
        monkeypatch.setenv(k, str(v))
    return build_definitions(Settings.from_env()), tmp_path / "w.duckdb"


def snapshot_days(warehouse) -> dict[str, set[str]]:
    with connect(warehouse, read_only=True) as con:
        return {
            t: {d for (d,) in con.execute(f"select distinct cast(snapshot_date as varchar) from {t}").fetchall()}
            for t in SNAPSHOT_TABLES
            if con.execute(
                "select count(*) from information_schema.tables where table_schema || '.' || table_name = ?", [t]
            ).fetchall()[0][0]
        }


def test_backfilling_a_past_day_writes_no_snapshot_row_dated_that_day(x_only):
    defs, warehouse = x_only
    job = defs.resolve_job_def("ingest_x")
    instance = DagsterInstance.ephemeral(settings=instance_settings())
    past = job.execute_in_process(instance=instance, partition_key="2026-06-03")
    assert past.success
    assert snapshot_days(warehouse) == {}  # nothing dated 2026-06-03 with today's lifetime values
    mats = {
        m.asset_key.to_user_string(): m.metadata
        for m in past.get_asset_materialization_events()
        for m in [m.step_materialization_data.materialization]
    }
    assert "2026-06-03" in mats["raw/x/users"]["snapshot_not_read"].value  # said, not silent
    with connect(warehouse, read_only=True) as con:  # the day's dated streams were loaded
        assert con.execute("select count(*) from raw.x__mentions where created_date = '2026-06-03'").fetchall()[0][0]

    today = job.execute_in_process(instance=instance, partition_key=TEST_SPEC.end.isoformat())
    assert today.success
    assert snapshot_days(warehouse) == {t: {TEST_SPEC.end.isoformat()} for t in SNAPSHOT_TABLES}
