"""The Dagster instance `make run` and `make ui` use: $DAGSTER_HOME/dagster.yaml names the
pooled event log storage (orchestration/storage.py), and what it writes is Dagster's own
SQLite event log, read back by the stock storage."""

import threading
import time

import pytest
from dagster import AssetKey, AssetMaterialization, DagsterInstance
from dagster._core.events import DagsterEvent, DagsterEventType, StepMaterializationData
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log import SqliteEventLogStorage

from orchestration.instance import ensure_dagster_home
from orchestration.instance import instance as home_instance
from orchestration.storage import KEEP_RUN_SHARDS, PooledSqliteEventLogStorage


def materialization(run_id: str, asset: str, partition: str) -> EventLogEntry:
    event = DagsterEvent(
        DagsterEventType.ASSET_MATERIALIZATION.value,
        "job",
        event_specific_data=StepMaterializationData(
            AssetMaterialization(AssetKey(["marts", asset]), partition=partition)
        ),
    )
    return EventLogEntry(
        error_info=None,
        level=20,
        user_message="",
        run_id=run_id,
        timestamp=time.time(),
        dagster_event=event,
        job_name="job",
    )


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    return ensure_dagster_home()


def test_the_instance_of_make_run_uses_the_pooled_event_log(home):
    instance = home_instance()  # what `make run` opens, without writing DAGSTER_HOME anywhere
    try:
        assert isinstance(instance, DagsterInstance) and instance.root_directory == str(home)
        assert type(instance.event_log_storage) is PooledSqliteEventLogStorage
        assert instance.run_storage.__class__.__name__ == "SqliteRunStorage"
        # Dagster's default places: an existing run history keeps reading.
        assert (home / "history" / "runs" / "index.db").exists()
        assert (home / "history" / "runs.db").exists()
    finally:
        instance.dispose()


def test_events_written_from_threads_read_back_with_dagsters_own_storage(home):
    storage = PooledSqliteEventLogStorage(str(home / "history" / "runs"))
    days = [f"2026-06-{d:02d}" for d in range(1, 29)]

    def write(asset):
        for day in days:
            storage.store_event(materialization("run-a", asset, day))

    threads = [threading.Thread(target=write, args=(f"fct_{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    storage.dispose()

    stock = SqliteEventLogStorage(str(home / "history" / "runs"))
    logs = stock.get_logs_for_run("run-a")
    assert len(logs) == 4 * 28
    for i in range(4):
        key = AssetKey(["marts", f"fct_{i}"])
        assert stock.get_materialized_partitions(key) == set(days)
    stock.dispose()


def test_engines_stay_bounded_and_wipe_starts_afresh(home):
    storage = PooledSqliteEventLogStorage(str(home / "history" / "runs"))
    for n in range(KEEP_RUN_SHARDS + 5):
        storage.store_event(materialization(f"run-{n}", "fct_x", "2026-06-01"))
    # the index shard and the newest run shards only
    assert len(storage._engines) == KEEP_RUN_SHARDS + 1
    assert f"run-{KEEP_RUN_SHARDS + 4}" in storage._engines and "run-0" not in storage._engines
    # an evicted shard opens again when written to
    storage.store_event(materialization("run-0", "fct_x", "2026-06-02"))
    assert len(storage.get_logs_for_run("run-0")) == 2

    storage.wipe()
    assert storage.get_materialized_partitions(AssetKey(["marts", "fct_x"])) == set()
    storage.store_event(materialization("run-new", "fct_x", "2026-06-03"))
    assert storage.get_materialized_partitions(AssetKey(["marts", "fct_x"])) == {"2026-06-03"}
    storage.dispose()


def test_connections_write_ahead_with_normal_sync(home):
    storage = PooledSqliteEventLogStorage(str(home / "history" / "runs"))
    storage.store_event(materialization("run-w", "fct_x", "2026-06-01"))
    with storage.run_connection("run-w") as conn:
        assert conn.exec_driver_sql("pragma journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("pragma synchronous").scalar() == 1  # NORMAL
    storage.dispose()
