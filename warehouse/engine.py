"""Extract, land and load one declared stream: the rules every run of a stream follows, in one
place, with no Dagster (the raw assets in orchestration/assets/streams.py, the benchmark and
the tests all call this).

The rules:
- a stream is read in *reads*: an undated stream in one read of everything; a dated one a day
  at a time, except that a *snapshot* stream (lifetime values as they stand now) reads only
  the last day of a range (the API cannot say what a lifetime value was on a past day), and a
  *range_read* stream reads a range of days in one pass (one client, one landing file a day);
- each read lands its records as received (warehouse/landing.py), one file per day;
- a day the platform can no longer serve in full (`DayUnavailable`) lands nothing, so its
  stored rows are kept, and the run goes on;
- the days landed are loaded into the raw table in one transaction (a DuckDB load costs tens
  of milliseconds however little it carries), under the caller's lock: DuckDB has one writer.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from extractors.client import as_configured
from extractors.streams import DayUnavailable, Stream
from warehouse import landing
from warehouse.landing import LandedFile
from warehouse.loader import LoadResult, RawTable, connect, load

# What a load counts, summed over a run's loads into the stream's metadata.
COUNTED = (
    "received",
    "loaded",
    "rejected",
    "duplicates",
    "conflicts",
    "conflict_copies",
    "inserted",
    "updated",
    "unchanged",
    "deleted",
)

log = logging.getLogger(__name__)


def raw_table(stream: Stream) -> RawTable:
    """The raw table a stream loads into: its columns, key, partition column and disposition."""
    return RawTable(
        source=stream.source,
        stream=stream.name,
        columns=dict(stream.columns),
        key=stream.primary_key,
        partition_column=stream.cursor_field,
        disposition=stream.disposition,
    )


@dataclass(frozen=True)
class Read:
    """One pass over a stream: everything (undated, `days` None), one day, or several days
    read at once (a range read)."""

    stream: Stream
    days: tuple[date, ...] | None = None


def reads(stream: Stream, days: list[date] | None) -> list[Read]:
    """The reads that cover `days` (None: an undated stream, read whole)."""
    if not stream.dated or days is None:
        return [Read(stream)]
    if stream.snapshot and len(days) > 1:
        days = days[-1:]
    if stream.range_read and len(days) > 1:
        return [Read(stream, tuple(days))]
    return [Read(stream, (day,)) for day in days]


@dataclass
class Landed:
    """What one read landed: a file per day read (in day order), the days the platform could
    no longer serve, and the client that read them (its request counts)."""

    read: Read
    client: object
    files: list[tuple[date | None, LandedFile]] = field(default_factory=list)
    unavailable: list[tuple[date, DayUnavailable]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def records(self) -> int:
        return sum(f.records for _, f in self.files)


def land(read: Read, client, landing_root: Path) -> Landed:
    """Extract one read with `client` and land it. A single day the platform can no longer serve
    is noted, not raised (nothing is landed for it)."""
    started = time.monotonic()
    s, out = as_configured(read.stream, client), Landed(read, client)  # the client's settings decide what is read
    if read.days is None:
        out.files.append((None, landing.land_pages(landing_root, s.source, s.name, "current", client.pages(s, None))))
    elif len(read.days) == 1:
        (day,) = read.days
        try:
            out.files.append(
                (day, landing.land_pages(landing_root, s.source, s.name, day.isoformat(), client.pages(s, day)))
            )
        except DayUnavailable as gone:
            out.unavailable.append((day, gone))
    else:
        days = list(read.days)
        landed = landing.land_days(landing_root, s.source, s.name, days, client.pages_for_days(s, days))
        out.files.extend((day, landed[day]) for day in days)
    out.seconds = time.monotonic() - started
    return out


def extract(
    stream: Stream, new_client: Callable[[], object], landing_root: Path, days: list[date] | None, workers: int
) -> Iterator[Landed]:
    """Every read of `stream` over `days`, `workers` at a time (a client each: nothing is shared
    between threads), in day order."""
    planned = reads(stream, days)
    if len(planned) == 1:
        yield land(planned[0], new_client(), landing_root)
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=stream.source) as pool:
        yield from pool.map(lambda r: land(r, new_client(), landing_root), planned)


def load_files(con: duckdb.DuckDBPyConnection, stream: Stream, files: list[LandedFile]) -> LoadResult:
    """Load a stream's landing files into its raw table in one transaction."""
    return load(con, raw_table(stream), files)


class Totals:
    """The counts of one stream's run, as its asset metadata shows them."""

    def __init__(self):
        self.values = {
            **dict.fromkeys(COUNTED, 0),
            "pages": 0,
            "requests": 0,
            "retries": 0,
            "partial_errors": 0,
            "days_unavailable": 0,
        }

    def add_load(self, result: LoadResult) -> None:
        for k in COUNTED:
            self.values[k] += getattr(result, k, 0)

    def add_extraction(self, landed: Landed) -> None:
        self.values["days_unavailable"] += len(landed.unavailable)
        if not landed.files:
            return
        self.values["pages"] += sum(f.pages for _, f in landed.files)
        self.values["requests"] += landed.client.stats.requests
        self.values["retries"] += landed.client.stats.retries
        # errors a platform reported beside the data it did send (X's `errors[]`)
        self.values["partial_errors"] += len(getattr(landed.client, "partial_errors", ()))


def _log_load(logger, stream: Stream, label: str, result: LoadResult, pages: int) -> None:
    logger.info(
        f"{stream.key} {label}: {result.received} received, {result.loaded} loaded "
        f"({result.inserted} new, {result.updated} changed, {result.unchanged} unchanged, "
        f"{result.deleted} gone), {result.rejected} rejected, {pages} pages"
    )
    if result.rejected:
        logger.warning(
            f"{stream.key} {label}: {result.rejected} record(s) rejected; raw._rejects has each line and reason"
        )


def run_stream(
    stream: Stream,
    new_client: Callable[[], object],
    *,
    landing_root: Path,
    warehouse_path: Path,
    days: list[date] | None,
    workers: int = 4,
    write_lock: threading.Lock | None = None,
    logger=log,
) -> dict:
    """Extract, land and load `stream` for `days` (None: undated); the counts of the run
    (records received, loaded, rejected, ..., pages, requests, days unavailable, seconds).

    Every day is extracted and landed first (progress per day), then all are loaded in one
    transaction."""
    started = time.monotonic()
    totals, result = Totals(), None
    if days is not None and stream.dated and stream.snapshot and len(days) > 1:
        logger.info(
            f"{stream.key} is a snapshot of values as they stand now: reading {days[-1]} only, "
            f"not the {len(days)} days of the run"
        )
    wanted = len(days[-1:] if stream.snapshot else days) if days is not None and stream.dated else 1
    files: list[LandedFile] = []
    n = 0
    for landed in extract(stream, new_client, landing_root, days, workers):
        totals.add_extraction(landed)
        table_stream = as_configured(stream, landed.client)  # ... and the raw table it lands in
        for day, gone in landed.unavailable:
            n += 1
            logger.warning(f"{stream.key} {day} ({n}/{wanted}) skipped, stored rows kept: {gone}")
        for day, f in landed.files:
            n += 1
            files.append(f)
            if day is not None:
                logger.debug(f"{stream.key} {day} ({n}/{wanted}): {f.records} records, {f.pages} pages")
    if files:
        with write_lock or threading.Lock(), connect(warehouse_path) as con:
            result = load_files(con, table_stream, files)
        totals.add_load(result)
        label = "all" if days is None or not stream.dated else f"{result.partition} ({len(files)} days)"
        _log_load(logger, stream, label, result, totals.values["pages"])
    return {
        **totals.values,
        "rows_in_table": result.rows_in_table if result else 0,
        "seconds": round(time.monotonic() - started, 2),
    }
