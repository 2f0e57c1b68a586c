"""One raw asset per stream, built from the stream's declaration.

Dated streams are daily-partitioned with single-run backfills: a run covering a range
extracts its days a few at a time on threads (one client per day, nothing shared between
threads), lands each day in an immutable file and loads the files one by one (DuckDB has a
single writer). Undated streams (accounts, rosters) are read whole on every run.
"""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

from dagster import (AssetExecutionContext, AssetKey, AssetsDefinition, BackfillPolicy, MaterializeResult,
                     asset)

from extractors.http import CallStats
from extractors.streams import Stream
from orchestration.partitions import daily_partitions
from orchestration.resources import WarehouseResource
from warehouse.landing import LandedFile, land_pages
from warehouse.loader import LoadResult, RawTable, load

COUNTED = ("received", "loaded", "rejected", "duplicates", "inserted", "updated", "unchanged", "deleted")


def raw_table(stream: Stream) -> RawTable:
    return RawTable(source=stream.source, stream=stream.name, columns=dict(stream.columns),
                    key=stream.primary_key, partition_column=stream.cursor_field, disposition=stream.disposition)


def asset_key(stream: Stream) -> AssetKey:
    return AssetKey(["raw", stream.source, stream.name])


def days_in(context: AssetExecutionContext) -> list[date]:
    """The days a run covers: one partition, or a range in a single-run backfill."""
    window = context.partition_time_window
    first, end = window.start.date(), window.end.date()
    return [first + timedelta(days=i) for i in range((end - first).days)]


def land_days(resource, stream: Stream, landing_root, days: list[date],
              workers: int) -> Iterator[tuple[date, LandedFile, CallStats]]:
    """Extract and land each day on a pool of threads; yield them in day order."""
    def one_day(day: date) -> tuple[date, LandedFile, CallStats]:
        client = resource.client()
        landed = land_pages(landing_root, stream.source, stream.name, day.isoformat(), client.pages(stream, day))
        return day, landed, client.stats

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=stream.source) as pool:
        yield from pool.map(one_day, days)


def _log_load(context, stream: Stream, label: str, result: LoadResult, pages: int) -> None:
    context.log.info(f"{stream.key} {label}: {result.received} received, {result.loaded} loaded "
                     f"({result.inserted} new, {result.updated} changed, {result.unchanged} unchanged, "
                     f"{result.deleted} gone), {result.rejected} rejected, {pages} pages")
    if result.rejected:
        context.log.warning(f"{stream.key} {label}: {result.rejected} record(s) rejected; "
                            f"raw._rejects has each line and reason")


def stream_asset(stream: Stream, resource_key: str) -> AssetsDefinition:
    """The raw asset `raw/<source>/<stream>` for a declared stream, fed by `resource_key`."""
    table = raw_table(stream)

    @asset(key=asset_key(stream), group_name=stream.source, kinds={"duckdb", "python"},
           description=f"{stream.description} Table {table.name}; key ({', '.join(stream.primary_key)})"
                       + (f"; re-read for {stream.restatement_days} days" if stream.restatement_days else ""),
           required_resource_keys={resource_key, "warehouse"},
           partitions_def=daily_partitions if stream.dated else None,
           backfill_policy=BackfillPolicy.single_run() if stream.dated else None,
           metadata={"table": table.name, "primary_key": ", ".join(stream.primary_key),
                     "restatement_days": stream.restatement_days, "disposition": stream.disposition})
    def _asset(context: AssetExecutionContext) -> MaterializeResult:
        import time
        started = time.monotonic()
        source = getattr(context.resources, resource_key)
        warehouse: WarehouseResource = context.resources.warehouse
        totals = {**{k: 0 for k in COUNTED}, "pages": 0, "requests": 0, "retries": 0}

        def add(result: LoadResult, landed: LandedFile, stats: CallStats) -> None:
            for k in COUNTED:
                totals[k] += getattr(result, k)
            totals["pages"] += landed.pages
            totals["requests"] += stats.requests
            totals["retries"] += stats.retries

        if stream.dated:
            days = days_in(context)
            for n, (day, landed, stats) in enumerate(
                    land_days(source, stream, warehouse.landing, days, source.parallel_days), 1):
                with warehouse.connect() as con:
                    result = load(con, table, landed)
                add(result, landed, stats)
                _log_load(context, stream, f"{day} ({n}/{len(days)})", result, landed.pages)
        else:
            client = source.client()
            landed = land_pages(warehouse.landing, stream.source, stream.name, "current", client.pages(stream, None))
            with warehouse.connect() as con:
                result = load(con, table, landed)
            add(result, landed, client.stats)
            _log_load(context, stream, "all", result, landed.pages)
        return MaterializeResult(metadata={**totals, "rows_in_table": result.rows_in_table,
                                           "seconds": round(time.monotonic() - started, 2)})

    return _asset
