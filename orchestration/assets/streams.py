"""The raw layer: one asset per declared stream, `raw/<source>/<stream>`.

All dated streams are the assets of one daily-partitioned multi-asset, all undated ones
(accounts, rosters, configuration) of one unpartitioned multi-asset. Both can be subset, so
any stream or source materializes alone (the per-source ingest jobs do), and within a run
the streams go side by side on threads: sources in parallel, and within a stream a few days
at a time (one client per day, nothing shared between threads). Waiting on the network,
on report jobs and on Retry-After is most of an extraction, so threads pay off in one
process where a process per step would pay Dagster's and dbt's import cost each time.
DuckDB has one writer: loads are serialized, each in its own transaction.

What a stream's run does (snapshot streams, range reads, days a platform can no longer
serve, one load for the run's days) is warehouse/engine.py's: this module only wires it to
Dagster's partitions, resources and metadata.

A stream that fails does not stop the others: their results are recorded, then the step
fails naming every stream that failed.

Quality gate (orchestration/checks.py): once the step's loads are done, each loaded stream gets
its load checks (from the engine's counts) and its Great Expectations suite on the run's days,
as asset checks of the multi-asset, all `blocking`: an ERROR result fails the step after every
result is out, so nothing downstream runs; a WARN result shows only. Each stream asset declares
`SOURCE_FRESHNESS`, the FreshnessPolicy Dagster's UI shows it against.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from dagster import AssetExecutionContext, AssetKey, AssetSpec, BackfillPolicy, Failure, MaterializeResult, multi_asset

from extractors.streams import Stream
from orchestration.assets.serving import preflight
from orchestration.checks import (
    SOURCE_FRESHNESS,
    Loaded,
    has_step_after_dbt,
    raw_check_specs,
    raw_checks,
    raw_severities,
)
from orchestration.partitions import WAREHOUSE_POOL, daily_partitions, reading_day
from orchestration.resources import WarehouseResource
from warehouse import engine
from warehouse.engine import raw_table

__all__ = ["StreamAsset", "asset_key", "raw_assets", "raw_table", "stream_asset"]

# Streams extracted at once in a run (each may run `parallel_days` days at once).
STREAM_WORKERS = 6


def asset_key(stream: Stream) -> AssetKey:
    return AssetKey(["raw", stream.source, stream.name])


@dataclass(frozen=True)
class StreamAsset:
    """A stream and the resource that reads it: one asset of the raw multi-assets."""

    stream: Stream
    resource_key: str

    @property
    def key(self) -> AssetKey:
        return asset_key(self.stream)

    def spec(self) -> AssetSpec:
        s, table = self.stream, raw_table(self.stream)
        return AssetSpec(
            self.key,
            group_name=s.source,
            kinds={"duckdb", "python"},
            description=f"{s.description} Table {table.name}; key ({', '.join(s.primary_key)})"
            + (f"; re-read for {s.restatement_days} days" if s.restatement_days else ""),
            metadata={
                "table": table.name,
                "primary_key": ", ".join(s.primary_key),
                "restatement_days": s.restatement_days,
                "disposition": s.disposition,
            },
            freshness_policy=SOURCE_FRESHNESS,
        )


def stream_asset(stream: Stream, resource_key: str) -> StreamAsset:
    return StreamAsset(stream, resource_key)


def days_in(context: AssetExecutionContext) -> list[date]:
    """The days a run covers: one partition, or a range in a single-run backfill."""
    window = context.partition_time_window
    first, end = window.start.date(), window.end.date()
    return [first + timedelta(days=i) for i in range((end - first).days)]


def run_stream(context, item: StreamAsset, days: list[date] | None, write_lock: threading.Lock) -> dict:
    """One stream for `days` (None: undated) with its resource and the warehouse; its asset metadata."""
    source = getattr(context.resources, item.resource_key)
    warehouse: WarehouseResource = context.resources.warehouse
    source.settings()  # every missing setting named before the first request
    return engine.run_stream(
        item.stream,
        source.client,
        landing_root=warehouse.landing,
        warehouse_path=warehouse.path,
        days=days,
        workers=source.parallel_days,
        write_lock=write_lock,
        logger=context.log,
        as_of=reading_day() if item.stream.snapshot else None,  # the day a snapshot read now is dated
    )


def _raw_multi_asset(items: list[StreamAsset], name: str, dated: bool):
    by_key = {i.key: i for i in items}
    severities = raw_severities()
    check_specs = [
        spec
        for i in items
        for spec in raw_check_specs(i.key, raw_table(i.stream).name, severities.get(raw_table(i.stream).name, ()))
    ]

    @multi_asset(
        name=name,
        specs=[i.spec() for i in items],
        check_specs=check_specs,
        can_subset=True,
        required_resource_keys={"warehouse", *(i.resource_key for i in items)},
        partitions_def=daily_partitions if dated else None,
        backfill_policy=BackfillPolicy.single_run() if dated else None,
        pool=WAREHOUSE_POOL,  # one writer of the warehouse at a time, across runs
    )
    def _raw(context: AssetExecutionContext):
        preflight(context.resources.warehouse)  # another process holding the warehouse: one message, nothing extracted
        selected = [by_key[k] for k in sorted(context.selected_asset_keys, key=lambda k: k.to_user_string())]
        days = days_in(context) if dated else None
        lock = threading.Lock()
        failures, loaded = [], []
        started = datetime.now(UTC)
        if context.selected_asset_check_keys:
            threading.Thread(target=_prepare_gx, daemon=True).start()  # GX's import, while streams extract
        with ThreadPoolExecutor(max_workers=STREAM_WORKERS, thread_name_prefix="stream") as pool:
            futures = {pool.submit(run_stream, context, item, days, lock): item for item in selected}
            for future in as_completed(futures):
                item = futures[future]
                try:
                    metadata = future.result()
                except Exception as exc:  # the other streams go on; the step fails at the end
                    context.log.error(f"{item.stream.key} failed: {exc}")
                    failures.append(f"{item.stream.key}: {exc}")
                    continue
                loaded.append(Loaded(item.key, raw_table(item.stream).name, metadata))
                yield MaterializeResult(asset_key=item.key, metadata=metadata)
                # progress in the UI's run log too (orchestration/progress.py prints it in the terminal)
                context.log.info(
                    f"{len(loaded) + len(failures)}/{len(selected)} streams done, "
                    f"{sum(i.counts.get('loaded', 0) for i in loaded):,} rows loaded"
                )
        if loaded and context.selected_asset_check_keys:
            yield from _check_loads(context, loaded, days, started, streams_failed=bool(failures))
        if failures:
            raise Failure(description=f"{len(failures)} stream(s) failed:\n" + "\n".join(failures))

    return _raw


def _prepare_gx() -> None:
    from expectations.runner import prepare

    try:
        prepare()
    except Exception:  # noqa: BLE001 - the validation after the loads raises it, with its step
        pass


def _check_loads(context, loaded: list[Loaded], days: list[date] | None, started: datetime, streams_failed: bool):
    """The load checks and suites of the step's loaded streams (orchestration/checks.py), their
    results recorded, then GX's Data Docs of the run written."""
    from expectations.runner import data_docs_dir, write_data_docs

    clock = time.monotonic()
    warehouse: WarehouseResource = context.resources.warehouse
    with warehouse.connect() as con:
        results, rows = raw_checks(
            con=con,
            loaded=sorted(loaded, key=lambda i: i.key.to_user_string()),
            selected=set(context.selected_asset_check_keys),
            days=days,
            run_id=context.run_id,
            since=started,
            log=context.log,
        )
    checked = time.monotonic() - clock
    # the run's Data Docs: written by the step after dbt when the run has one and gets there, else here
    blocked = streams_failed or any(not r.passed and r.severity == "error" for r in rows)
    if any(r.check.startswith("gx_") for r in rows) and (blocked or not has_step_after_dbt(context.job_def)):
        index = write_data_docs(data_docs_dir(), context.run_id)
        context.log.info(f"Data Docs of run {context.run_id}: {index}")
    failed = [f"{r.asset}:{r.check}" for r in rows if not r.passed]
    context.log.info(
        f"{len(rows)} check results in quality.check_results"
        + (f"; failed: {', '.join(failed)}" if failed else "; every check passed")
    )
    yield from results
    context.log.info(
        f"quality checks of the step's loads took {time.monotonic() - clock:.2f} s ({checked:.2f} s checking, "
        "the rest recording their results in Dagster)"
    )


def raw_assets(items: list[StreamAsset]) -> list:
    """The two raw multi-assets (dated, undated) for every declared stream."""
    out = []
    dated = [i for i in items if i.stream.dated]
    undated = [i for i in items if not i.stream.dated]
    if dated:
        out.append(_raw_multi_asset(dated, "raw_daily", dated=True))
    if undated:
        out.append(_raw_multi_asset(undated, "raw_current", dated=False))
    return out
