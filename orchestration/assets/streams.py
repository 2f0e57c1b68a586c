"""The raw layer: one asset per declared stream, `raw/<source>/<stream>`.

All dated streams are the assets of one daily-partitioned multi-asset, all undated ones
(accounts, rosters, configuration) of one unpartitioned multi-asset. Both can be subset, so
any stream or source materializes alone (the per-source ingest jobs do), and within a run
the streams go side by side on threads: sources in parallel, and within a stream a few days
at a time (one client per day, nothing shared between threads). Waiting on the network,
on report jobs and on Retry-After is most of an extraction, so threads pay off in one
process where a process per step would pay Dagster's and dbt's import cost each time.
DuckDB has one writer: loads are serialized, each in its own transaction.

A stream that fails does not stop the others: their results are recorded, then the step
fails naming every stream that failed.
"""

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import date, timedelta
from types import SimpleNamespace

from dagster import (AssetExecutionContext, AssetKey, AssetSpec, BackfillPolicy, Failure, MaterializeResult,
                     multi_asset)

from extractors.http import CallStats
from extractors.streams import DayUnavailable, Stream
from orchestration.partitions import daily_partitions
from orchestration.resources import WarehouseResource
from warehouse import landing
from warehouse.landing import LandedFile, land_pages
from warehouse.loader import LoadResult, RawTable, load

COUNTED = ("received", "loaded", "rejected", "duplicates", "inserted", "updated", "unchanged", "deleted")
# Streams extracted at once in a run (each may run `parallel_days` days at once).
STREAM_WORKERS = 6


def raw_table(stream: Stream) -> RawTable:
    return RawTable(source=stream.source, stream=stream.name, columns=dict(stream.columns),
                    key=stream.primary_key, partition_column=stream.cursor_field, disposition=stream.disposition)


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
        return AssetSpec(self.key, group_name=s.source, kinds={"duckdb", "python"},
                         description=f"{s.description} Table {table.name}; key ({', '.join(s.primary_key)})"
                                     + (f"; re-read for {s.restatement_days} days" if s.restatement_days else ""),
                         metadata={"table": table.name, "primary_key": ", ".join(s.primary_key),
                                   "restatement_days": s.restatement_days, "disposition": s.disposition})


def stream_asset(stream: Stream, resource_key: str) -> StreamAsset:
    return StreamAsset(stream, resource_key)


def days_in(context: AssetExecutionContext) -> list[date]:
    """The days a run covers: one partition, or a range in a single-run backfill."""
    window = context.partition_time_window
    first, end = window.start.date(), window.end.date()
    return [first + timedelta(days=i) for i in range((end - first).days)]


def land_days(resource, stream: Stream, landing_root, days: list[date],
              workers: int) -> Iterator[tuple[date, LandedFile, object]]:
    """Extract and land each day on a pool of threads; yield (day, landed file, client) in day order.
    A `range_read` stream is read in one pass for all the days (one client, its calls
    counted with the first day)."""
    if stream.range_read and len(days) > 1:
        client = resource.client()
        landed = landing.land_days(landing_root, stream.source, stream.name, days, client.pages_for_days(stream, days))
        for n, day in enumerate(days):
            yield day, landed[day], client if n == 0 else SimpleNamespace(stats=CallStats())
        return

    def one_day(day: date) -> tuple[date, LandedFile | DayUnavailable, object]:
        client = resource.client()
        try:
            landed = land_pages(landing_root, stream.source, stream.name, day.isoformat(), client.pages(stream, day))
        except DayUnavailable as gone:
            return day, gone, client
        return day, landed, client

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=stream.source) as pool:
        yield from pool.map(one_day, days)


class _Totals:
    def __init__(self):
        self.values = {**{k: 0 for k in COUNTED}, "pages": 0, "requests": 0, "retries": 0, "partial_errors": 0,
                       "days_unavailable": 0}

    def add_load(self, result: LoadResult) -> None:
        for k in COUNTED:
            self.values[k] += getattr(result, k)

    def add_extraction(self, landed: LandedFile, client) -> None:
        self.values["pages"] += landed.pages
        self.values["requests"] += client.stats.requests
        self.values["retries"] += client.stats.retries
        # errors a platform reported beside the data it did send (X's `errors[]`)
        self.values["partial_errors"] += len(getattr(client, "partial_errors", ()))


def _log_load(context, stream: Stream, label: str, result: LoadResult, pages: int) -> None:
    context.log.info(f"{stream.key} {label}: {result.received} received, {result.loaded} loaded "
                     f"({result.inserted} new, {result.updated} changed, {result.unchanged} unchanged, "
                     f"{result.deleted} gone), {result.rejected} rejected, {pages} pages")
    if result.rejected:
        context.log.warning(f"{stream.key} {label}: {result.rejected} record(s) rejected; "
                            f"raw._rejects has each line and reason")


def run_stream(context, item: StreamAsset, days: list[date] | None, write_lock: threading.Lock) -> dict:
    """Extract, land and load one stream for `days` (None: undated); its asset metadata."""
    started = time.monotonic()
    stream, table = item.stream, raw_table(item.stream)
    source = getattr(context.resources, item.resource_key)
    warehouse: WarehouseResource = context.resources.warehouse
    totals = _Totals()
    result = None
    if days and stream.snapshot and len(days) > 1:
        context.log.info(f"{stream.key} is a snapshot of values as they stand now: reading {days[-1]} only, "
                         f"not the {len(days)} days of the run")
        days = days[-1:]
    if days is not None:
        # Extract and land every day first (progress per day), then load them all in one
        # transaction: a DuckDB load has a fixed cost of tens of milliseconds, paid once.
        landed_days = []
        for n, (day, landed, client) in enumerate(
                land_days(source, stream, warehouse.landing, days, source.parallel_days), 1):
            if isinstance(landed, DayUnavailable):
                totals.values["days_unavailable"] += 1
                context.log.warning(f"{stream.key} {day} ({n}/{len(days)}) skipped, stored rows kept: {landed}")
                continue
            totals.add_extraction(landed, client)
            landed_days.append(landed)
            context.log.debug(f"{stream.key} {day} ({n}/{len(days)}): {landed.records} records, {landed.pages} pages")
        if landed_days:
            with write_lock, warehouse.connect() as con:
                result = load(con, table, landed_days)
            totals.add_load(result)
            _log_load(context, stream, f"{result.partition} ({len(landed_days)} days)", result, totals.values["pages"])
    else:
        client = source.client()
        landed = land_pages(warehouse.landing, stream.source, stream.name, "current", client.pages(stream, None))
        with write_lock, warehouse.connect() as con:
            result = load(con, table, landed)
        totals.add_extraction(landed, client)
        totals.add_load(result)
        _log_load(context, stream, "all", result, landed.pages)
    return {**totals.values, "rows_in_table": result.rows_in_table if result else 0,
            "seconds": round(time.monotonic() - started, 2)}


def _raw_multi_asset(items: list[StreamAsset], name: str, dated: bool):
    by_key = {i.key: i for i in items}

    @multi_asset(name=name, specs=[i.spec() for i in items], can_subset=True,
                 required_resource_keys={"warehouse", *(i.resource_key for i in items)},
                 partitions_def=daily_partitions if dated else None,
                 backfill_policy=BackfillPolicy.single_run() if dated else None)
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
