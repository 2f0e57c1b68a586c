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
"""

import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import date, timedelta

from dagster import AssetExecutionContext, AssetKey, AssetSpec, BackfillPolicy, Failure, MaterializeResult, multi_asset

from extractors.streams import Stream
from orchestration.partitions import daily_partitions
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
    )


def _raw_multi_asset(items: list[StreamAsset], name: str, dated: bool):
    by_key = {i.key: i for i in items}

    @multi_asset(
        name=name,
        specs=[i.spec() for i in items],
        can_subset=True,
        required_resource_keys={"warehouse", *(i.resource_key for i in items)},
        partitions_def=daily_partitions if dated else None,
        backfill_policy=BackfillPolicy.single_run() if dated else None,
    )
    def _raw(context: AssetExecutionContext):
        selected = [by_key[k] for k in sorted(context.selected_asset_keys, key=lambda k: k.to_user_string())]
        days = days_in(context) if dated else None
        lock = threading.Lock()
        failures = []
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
                yield MaterializeResult(asset_key=item.key, metadata=metadata)
        if failures:
            raise Failure(description=f"{len(failures)} stream(s) failed:\n" + "\n".join(failures))

    return _raw


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
