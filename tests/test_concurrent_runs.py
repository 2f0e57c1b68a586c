"""Runs that write the warehouse never collide (issue 14), through Dagster's own run machinery:
runs submitted to the instance's run queue (QueuedRunCoordinator), launched by the queue's daemon
(`QueuedRunCoordinatorDaemon`, what `dagster-daemon` and `make ui` run) into run processes of
their own through the code location's server, backfills turned into runs by the backfill daemon
(`execute_backfill_iteration`). The daemons' iterations run in this process so the test knows
when to stop; everything they start is Dagster's.

The home is a temporary DAGSTER_HOME written by orchestration/instance.py (`ensure_dagster_home`):
the project's run queue limit and warehouse pool are what keep the runs apart.

One module, one code server and one warehouse copy for both tests (each costs seconds): a copy
of the session's materialized warehouse (so dbt finds every raw table), three sources (x,
youtube, ga4: three-day windows) on the session's fakes.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import REPO, TEST_SPEC
from crash_harness import copy_db

from sampleworld.serve import fake_env
from warehouse.loader import connect

SOURCES = ("x", "youtube", "ga4")
BOUND_S = 240  # the whole of one test's runs; far above what they take here
FIRED = datetime(2026, 11, 1, 5, 0, tzinfo=UTC)
log = logging.getLogger("test_concurrent_runs")


def _env(root: Path, fakes) -> dict[str, str]:
    return {
        **fake_env({s: fakes[s] for s in SOURCES}),
        "SKW_SOURCES": ",".join(SOURCES),
        "SKW_DATA_DIR": str(root / "data"),
        "SKW_WAREHOUSE_PATH": str(root / "data" / "warehouse.duckdb"),
        "SKW_LANDING_DIR": str(root / "data" / "landing"),
        "DAGSTER_HOME": str(root / "home"),
        "SKW_SAMPLE_START": TEST_SPEC.start.isoformat(),
        "SKW_SAMPLE_END": TEST_SPEC.end.isoformat(),
        "SKW_SAMPLE_SEED": str(TEST_SPEC.seed),
        "SKW_SAMPLE_SCALE": str(TEST_SPEC.scale),
    }


@pytest.fixture(scope="module")
def machinery(materialized, fakes, tmp_path_factory):
    """The home instance, the code location's workspace (its server inherits this environment),
    and a serial twin: the same warehouse copy and definitions built here for in-process runs."""
    from dagster import DagsterInstance
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load_target import ModuleTarget

    from orchestration.instance import ensure_dagster_home
    from warehouse.settings import Settings

    base = tmp_path_factory.mktemp("concurrent")
    queued, serial = base / "queued", base / "serial"
    for root in (queued, serial):
        copy_db(Path(materialized["warehouse"]), root / "data" / "warehouse.duckdb")
    with pytest.MonkeyPatch.context() as mp:
        for k, v in _env(queued, fakes).items():
            mp.setenv(k, v)
        home = ensure_dagster_home(Settings.from_env())
        instance = DagsterInstance.from_config(str(home))
        target = ModuleTarget(
            module_name="orchestration.definitions",
            attribute=None,
            working_directory=str(REPO),
            location_name=None,
        )
        with WorkspaceProcessContext(instance, target) as context:  # starts the code server with this env
            for k, v in _env(serial, fakes).items():
                mp.setenv(k, v)
            from orchestration.definitions import build_definitions

            serial_defs = build_definitions(Settings.from_env())
            yield {
                "instance": instance,
                "context": context,
                "queued": queued,
                "serial": serial,
                "serial_defs": serial_defs,
            }
        instance.dispose()


def submit(context, job_name: str, tags: dict, run_config: dict | None = None) -> str:
    """Create a run of the code location's job and submit it to the instance's run coordinator
    (the queue): what `dagster job launch`, a schedule tick or the UI's Launch button do."""
    from dagster._cli.job import _create_run

    workspace = context.create_request_context()
    (location,) = [e.code_location for e in workspace.get_code_location_entries().values()]
    assert location is not None, workspace.get_code_location_entries()
    (repo,) = location.get_repositories().values()
    run = _create_run(
        instance=context.instance,
        code_location=location,
        remote_repo=repo,
        remote_job=repo.get_full_job(job_name),
        run_config=run_config or {},
        tags=tags,
        op_selection=None,
        run_id=None,
    )
    context.instance.submit_run(run.run_id, workspace)
    return run.run_id


def drive_queue(context, until, bound_s: float = BOUND_S, between=None) -> list[tuple[float, set[str]]]:
    """Run the queue daemon's iterations (and `between`, e.g. the backfill daemon's) until
    `until()`; returns the runs seen in progress at each look, to show how many ran at once."""
    from dagster._core.storage.dagster_run import IN_PROGRESS_RUN_STATUSES, RunsFilter
    from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import QueuedRunCoordinatorDaemon

    seen = []
    deadline = time.monotonic() + bound_s
    with QueuedRunCoordinatorDaemon(interval_seconds=1) as daemon:
        while not until():
            assert time.monotonic() < deadline, f"runs not done within {bound_s} s"
            if between:
                between()
            list(daemon.run_iteration(context))
            running = context.instance.get_runs(filters=RunsFilter(statuses=IN_PROGRESS_RUN_STATUSES))
            seen.append((time.monotonic(), {r.run_id for r in running}))
            time.sleep(0.5)
    return seen


def runs_done(instance, run_ids) -> bool:
    return all(instance.get_run_by_id(r).is_finished for r in run_ids)


def run_summary(instance, run_id) -> str:
    """The run's status, and its errors when it did not succeed."""
    from dagster import DagsterEventType

    run = instance.get_run_by_id(run_id)
    errors = [
        e.dagster_event.event_specific_data.error.message.strip()[:500]
        for e in instance.all_logs(run_id, of_type={DagsterEventType.STEP_FAILURE, DagsterEventType.RUN_FAILURE})
        if e.dagster_event.event_specific_data and getattr(e.dagster_event.event_specific_data, "error", None)
    ]
    return f"{run.job_name} {run.status.value} {errors}"


# Load metadata, run ids and times: different in any two runs, whatever they load.
VOLATILE = {"checked_at", "run_id", "published_at", "scored_at", "built_at", "loaded_at"}


def table_differences(a: Path, b: Path) -> dict:
    """Rows in one warehouse's tables but not the other's (both ways, with multiplicity), per
    table, leaving out load-metadata columns (`_load_id`, `_loaded_at`, ...) and run times: the
    count, the columns compared and a few of the rows."""
    import duckdb

    out: dict[str, int] = {}
    con = duckdb.connect()
    try:
        con.execute(f"attach '{a}' as a (read_only)")
        con.execute(f"attach '{b}' as b (read_only)")
        tables = lambda db: {  # noqa: E731
            (s, t)
            for s, t in con.execute(
                """select table_schema, table_name from information_schema.tables
                   where table_catalog = ? and table_type = 'BASE TABLE' and table_schema not in ('quality')""",
                [db],
            ).fetchall()
        }
        ta, tb = tables("a"), tables("b")
        for s, t in sorted(ta ^ tb):
            out[f"{s}.{t} (only in {'a' if (s, t) in ta else 'b'})"] = -1
        for s, t in sorted(ta & tb):
            typed = [
                (c, dtype)
                for c, dtype in con.execute(
                    """select column_name, data_type from information_schema.columns
                       where table_catalog = 'a' and table_schema = ? and table_name = ? order by ordinal_position""",
                    [s, t],
                ).fetchall()
                if not c.startswith("_") and c not in VOLATILE
            ]
            cols = [c for c, _ in typed]
            # a float sum's last digits depend on the order DuckDB's threads add in: 12 significant digits
            sel = ", ".join(
                f"printf('%.12g', \"{c}\")" if dtype in ("DOUBLE", "FLOAT", "REAL") else f'"{c}"' for c, dtype in typed
            )
            n = con.execute(
                f"""select (select count(*) from (select {sel} from a."{s}"."{t}" except all
                                                  select {sel} from b."{s}"."{t}"))
                         + (select count(*) from (select {sel} from b."{s}"."{t}" except all
                                                  select {sel} from a."{s}"."{t}"))"""
            ).fetchone()[0]
            if n:
                sample = con.execute(
                    f"""(select 'a' as side, * from (select {sel} from a."{s}"."{t}" except all
                                                      select {sel} from b."{s}"."{t}") limit 3)
                        union all
                        (select 'b', * from (select {sel} from b."{s}"."{t}" except all
                                              select {sel} from a."{s}"."{t}") limit 3)"""
                ).fetchall()
                out[f"{s}.{t}"] = (n, cols, sample)
    finally:
        con.close()
    return out


def test_every_schedules_request_started_at_once_all_succeed_and_equal_a_serial_run(machinery):
    from dagster import DagsterInstance, RunsFilter, build_schedule_context

    from orchestration.instance import instance_settings
    from warehouse.landing import new_load_id

    instance, context, defs = machinery["instance"], machinery["context"], machinery["serial_defs"]

    def minutes(s):
        minute, hour = s.cron_schedule.split()[:2]
        return int(hour) * 60 + int(minute)

    schedules = sorted(defs.schedules, key=minutes)  # the order they fire in: sources, then transform
    assert {s.name for s in schedules} == {*(f"ingest_{s}_daily" for s in SOURCES), "transform_daily"}
    requests = []
    for sched in schedules:
        (request,) = sched.evaluate_tick(build_schedule_context(scheduled_execution_time=FIRED)).run_requests
        requests.append((sched.job_name, dict(request.tags), request.run_config))

    since = new_load_id()  # load ids sort by time: this test's landing files sort after it
    # every request at once into the queue, as the scheduler would if they all fired together
    run_ids = [submit(context, job, tags, config) for job, tags, config in requests]
    seen = drive_queue(context, lambda: runs_done(instance, run_ids))
    summaries = [run_summary(instance, r) for r in run_ids]
    assert all(" SUCCESS " in s for s in summaries), summaries
    # one at a time: no look found two in progress, and the runs' own times do not overlap
    assert max(len(ids) for _, ids in seen) == 1, [ids for _, ids in seen if len(ids) > 1]
    records = sorted(instance.get_run_records(filters=RunsFilter(run_ids=run_ids)), key=lambda r: r.start_time)
    for before, after in zip(records, records[1:], strict=False):
        assert before.end_time <= after.start_time, (before.dagster_run.job_name, after.dagster_run.job_name)
    assert [r.dagster_run.run_id for r in records] == run_ids  # in the order they were requested

    # the same requests one after another, in process, on the twin copy
    serial_instance = DagsterInstance.ephemeral(settings=instance_settings())
    for job, tags, config in requests:
        result = defs.resolve_job_def(job).execute_in_process(
            instance=serial_instance, tags=tags, run_config=config or None, raise_on_error=False
        )
        assert result.success, job
    queued_wh = machinery["queued"] / "data" / "warehouse.duckdb"
    serial_wh = machinery["serial"] / "data" / "warehouse.duckdb"
    assert table_differences(queued_wh, serial_wh) == {}
    landed = {  # the runs did read: landing files of this test's loads, for every source
        src: [f for f in (machinery["queued"] / "data" / "landing" / src).rglob("*.jsonl.gz") if f.name >= since]
        for src in SOURCES
    }
    assert all(landed.values()), {k: len(v) for k, v in landed.items()}


def _location(context):
    workspace = context.create_request_context()
    (location,) = [e.code_location for e in workspace.get_code_location_entries().values()]
    (repo,) = location.get_repositories().values()
    return repo


def request_backfill(context, job_name: str, days: list[str]) -> str:
    """A partition backfill of `job_name` over `days`, as the UI's Backfill button (or `dagster
    job backfill`) records it: the backfill daemon turns it into one run per day, into the queue."""
    from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill
    from dagster._core.utils import make_new_backfill_id
    from dagster._time import get_current_timestamp

    repo = _location(context)
    (partition_set,) = [p for p in repo.get_partition_sets() if p.job_name == job_name]
    backfill = PartitionBackfill(
        backfill_id=make_new_backfill_id(),
        partition_set_origin=partition_set.get_remote_origin(),
        status=BulkActionStatus.REQUESTED,
        partition_names=days,
        from_failure=False,
        reexecution_steps=None,
        tags={},
        backfill_timestamp=get_current_timestamp(),
    )
    context.instance.add_backfill(backfill)
    return backfill.backfill_id


def test_a_three_day_backfill_interrupted_and_resumed_loads_each_day_once(machinery):
    """`ingest_x` backfilled over three past days: the raw streams' backfill policy makes it one
    run of the range; interrupted (terminated, as from the UI) and resumed (re-executed "from
    asset failure", as from the UI: only the streams the interrupted run did not finish), every
    stream's every day is materialized once over the two runs, and raw holds each row once."""
    from dagster import DagsterEventType
    from dagster._core.execution.backfill import BULK_ACTION_TERMINAL_STATUSES
    from dagster._core.execution.plan.resume_retry import ReexecutionStrategy
    from dagster._core.storage.dagster_run import DagsterRunStatus, RunsFilter
    from dagster._daemon.backfill import execute_backfill_iteration

    from orchestration.sources import x as x_source
    from warehouse.engine import raw_table

    instance, context = machinery["instance"], machinery["context"]
    days = ["2026-06-02", "2026-06-03", "2026-06-04"]  # before the reading day: no snapshot is read
    dated = [a for a in x_source.ASSETS if a.stream.dated]

    def backfill_step():
        list(execute_backfill_iteration(context, log))

    def runs_of(backfill_id):
        return instance.get_runs(filters=RunsFilter.for_backfill(backfill_id))

    def steps_started(run_id):
        return instance.all_logs(run_id, of_type=DagsterEventType.STEP_START)

    backfill_id = request_backfill(context, "ingest_x", days)
    terminated = []

    def interrupt():  # the run terminated once its raw step has started, as from the UI's Terminate
        for run in runs_of(backfill_id):
            if not terminated and run.status == DagsterRunStatus.STARTED and steps_started(run.run_id):
                assert instance.run_launcher.terminate(run.run_id)
                terminated.append(run.run_id)
        backfill_step()

    seen = drive_queue(
        context,
        lambda: instance.get_backfill(backfill_id).status in BULK_ACTION_TERMINAL_STATUSES
        and runs_of(backfill_id)
        and all(r.is_finished for r in runs_of(backfill_id)),
        between=interrupt,
    )
    (first,) = runs_of(backfill_id)  # one run for the range (BackfillPolicy.single_run)
    assert (first.tags["dagster/asset_partition_range_start"], first.tags["dagster/asset_partition_range_end"]) == (
        days[0],
        days[-1],
    )
    assert terminated == [first.run_id] and first.status == DagsterRunStatus.CANCELED, run_summary(
        instance, first.run_id
    )

    # resumed: re-executed from asset failure (the streams materialized before the interruption are left out)
    repo = _location(context)
    workspace = context.create_request_context()
    (location,) = [e.code_location for e in workspace.get_code_location_entries().values()]
    resumed = instance.create_reexecuted_run(
        request_context=workspace,
        parent_run=first,
        code_location=location,
        remote_job=repo.get_full_job("ingest_x"),
        strategy=ReexecutionStrategy.FROM_ASSET_FAILURE,
        use_parent_run_tags=True,
    )
    instance.submit_run(resumed.run_id, workspace)
    seen += drive_queue(context, lambda: runs_done(instance, [resumed.run_id]))
    assert instance.get_run_by_id(resumed.run_id).status == DagsterRunStatus.SUCCESS, run_summary(
        instance, resumed.run_id
    )
    assert max(len(ids) for _, ids in seen) == 1  # one run at a time throughout

    # each stream's each day materialized once over the two runs
    count: dict[tuple[str, str], int] = {}
    for run_id in (first.run_id, resumed.run_id):
        for e in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION):
            key = (e.asset_materialization.asset_key.to_user_string(), e.asset_materialization.partition)
            count[key] = count.get(key, 0) + 1
    undated = [a for a in x_source.ASSETS if not a.stream.dated]  # X's posts: read whole, once a run
    assert count == {
        **{(a.key.to_user_string(), d): 1 for a in dated for d in days},
        **{(a.key.to_user_string(), None): 1 for a in undated},
    }
    # ... and raw holds each of those days' rows once, every day there
    with connect(machinery["queued"] / "data" / "warehouse.duckdb", read_only=True) as con:
        for a in dated:
            s = a.stream
            table = raw_table(s).name
            if s.snapshot:  # a lifetime value read now is never dated a past day
                dated_past = f"select count(*) from {table} where cast({s.cursor_field} as date) between ? and ?"
                assert con.execute(dated_past, [days[0], days[-1]]).fetchone()[0] == 0, table
                continue
            key = ", ".join(s.primary_key)
            per_day = dict(
                con.execute(
                    f"""select cast({s.cursor_field} as date)::varchar, count(*) - count(distinct ({key}))
                        from {table} where cast({s.cursor_field} as date) between ? and ? group by 1""",
                    [days[0], days[-1]],
                ).fetchall()
            )
            assert set(per_day) == set(days) and set(per_day.values()) == {0}, (table, per_day)
