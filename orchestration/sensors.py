"""Sensors (off until turned on, like the schedules):

- `inbox_sensor` looks into the inbox folder (`$SKW_DATA_DIR/inbox`) every 30 s and asks for
  one `load_inbox` run per file dropped there (run key: the file's name, size and time, so a
  file is loaded once); the run lands, loads and moves the file aside, or rejects it with its
  reason (warehouse/inbox.py does the work).
- `record_run_failure` writes each failed run of this code location into
  quality.check_results (check `run_failed`, the job, the run, what failed), where the quality
  results and the KPI report read, so a failed night run is seen beside the checks.
- `build_without_failed_sources` follows a run of `main` whose raw step failed on some sources
  (down past their retry budget, or an ERROR check on what they loaded) with a run of what does
  not need them: the marts of the other sources, the serving copy and the report
  (orchestration/recovery.py; `make run` does the same in its own process).
"""

from datetime import UTC, datetime
from pathlib import Path

from dagster import (
    AssetKey,
    AssetMaterialization,
    Config,
    DefaultSensorStatus,
    Failure,
    OpExecutionContext,
    RunFailureSensorContext,
    RunRequest,
    SensorEvaluationContext,
    SkipReason,
    job,
    op,
    run_failure_sensor,
    sensor,
)

from orchestration.partitions import WAREHOUSE_POOL
from orchestration.resources import WarehouseResource
from warehouse.settings import Settings

INBOX_JOB = "load_inbox"
FAILURE_CHECK = "run_failed"


def inbox_dir(settings: Settings | None = None) -> Path:
    return (settings or Settings.from_env()).data_dir / "inbox"


class InboxFileConfig(Config):
    path: str


def declared_streams() -> dict:
    """Every declared stream of every source, by `source/stream`."""
    from orchestration import sources

    return {a.stream.key: a.stream for m in sources.modules() for a in m.ASSETS}


@op(pool=WAREHOUSE_POOL, description="Land, load and move aside one file of the inbox (warehouse/inbox.py).")
def load_inbox_file(context: OpExecutionContext, config: InboxFileConfig, warehouse: WarehouseResource):
    from warehouse.inbox import LOADED, process_file

    settings = Settings.from_env()
    path = Path(config.path)
    if not path.exists():
        context.log.info(f"inbox: {path.name} is gone (loaded or removed since it was seen)")
        return
    result = process_file(
        path,
        declared_streams(),
        landing_root=warehouse.landing,
        warehouse_path=warehouse.path,
        first_day=settings.partitions_start,
        last_day=settings.partitions_end,
        logger=context.log,
    )
    if result.outcome != LOADED:
        raise Failure(description=f"inbox file rejected: {result.reason}", metadata={"moved_to": str(result.moved_to)})
    source, stream = result.stream.split("/")
    context.log_event(
        AssetMaterialization(
            asset_key=AssetKey(["raw", source, stream]),
            description=f"from the inbox file {result.file}",
            metadata={**result.counts, "day": result.day, "file": result.file, "moved_to": str(result.moved_to)},
        )
    )


@job(name=INBOX_JOB, description="Load one file dropped into the inbox folder (run by inbox_sensor).")
def load_inbox():
    load_inbox_file()


@sensor(
    job=load_inbox,
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.STOPPED,
    description="Files dropped into $SKW_DATA_DIR/inbox: one load_inbox run each.",
)
def inbox_sensor(context: SensorEvaluationContext):
    from warehouse.inbox import pending

    folder = inbox_dir()
    files = pending(folder)
    if not files:
        yield SkipReason(f"no file in {folder}")
        return
    for f in files:
        st = f.stat()
        yield RunRequest(
            run_key=f"{f.name}:{st.st_size}:{st.st_mtime_ns}",
            run_config={"ops": {"load_inbox_file": {"config": {"path": str(f)}}}},
            tags={"skw/inbox_file": f.name},
        )


def failure_row(run, message: str, failed_steps: list[str], at: datetime | None = None):
    """The quality.check_results row of a failed run (expectations/runner.py `CheckResult`)."""
    from expectations.runner import CheckResult

    tags = run.tags or {}
    start = tags.get("dagster/asset_partition_range_start") or tags.get("dagster/partition")
    end = tags.get("dagster/asset_partition_range_end") or start
    partition = None if start is None else (start if start == end else f"{start}..{end}")
    return CheckResult(
        check=FAILURE_CHECK,
        asset=f"job/{run.job_name}",
        table="",
        partition=partition,
        run_id=run.run_id,
        severity="ERROR",
        passed=False,
        observed={"failed_steps": failed_steps, "message": message[:2000]},
        failed_expectations=[{"expectation": FAILURE_CHECK, "message": message[:2000]}],
        checked_at=at or datetime.now(UTC),
    )


def record_failure(warehouse_path: Path, row, logger=None) -> None:
    from expectations.runner import record_checks
    from warehouse.engine import connect_waiting

    with connect_waiting(Path(warehouse_path), timeout_s=45, **({"logger": logger} if logger else {})) as con:
        record_checks(con, [row])


@run_failure_sensor(
    name="record_run_failure",
    default_status=DefaultSensorStatus.STOPPED,
    description="Each failed run, into quality.check_results (check run_failed) where the quality results show it.",
)
def record_run_failure(context: RunFailureSensorContext):
    steps = [e.step_key for e in context.get_step_failure_events() if e.step_key]
    message = context.failure_event.message or "the run failed"
    for e in context.get_step_failure_events():
        error = e.event_specific_data.error if e.event_specific_data else None
        if error is not None:
            message += f"\n{e.step_key}: {error.message.strip()}"
    record_failure(Settings.from_env().warehouse_path, failure_row(context.dagster_run, message, steps), context.log)


def build_without_failed_sources(main_job):
    """The run_failure_sensor that asks for the rest of a failed run of `main_job` (orchestration/recovery.py)."""

    @run_failure_sensor(
        name="build_without_failed_sources",
        monitored_jobs=[main_job],
        request_job=main_job,
        default_status=DefaultSensorStatus.STOPPED,
        description="A run of main whose raw step failed on some sources: one run of what does not need "
        "them (the other marts, the serving copy, the report).",
    )
    def _build_without_failed_sources(context: RunFailureSensorContext):
        from orchestration.recovery import remainder_of_run

        run = context.dagster_run
        graph = context.repository_def.asset_graph if context.repository_def is not None else None
        rest = remainder_of_run(context.instance, run.run_id, graph) if graph is not None else None
        if rest is None:
            return SkipReason(
                f"run {run.run_id}: nothing to build without a source (another step failed, or none loaded)"
            )
        context.log.info(f"run {run.run_id}: {rest.describe()}")
        return RunRequest(
            run_key=f"without-failed-sources:{run.run_id}",
            asset_selection=list(rest.to_build),
            tags=rest.tags(),
        )

    return _build_without_failed_sources


sensors = [inbox_sensor, record_run_failure]
