"""Extract, land and load one declared stream: the rules every run of a stream follows, in one
place, with no Dagster (the raw assets in orchestration/assets/streams.py, the benchmark and
the tests all call this).

The rules:
- a stream is read in *reads*: an undated stream in one read of everything; a dated one a day
  at a time, except that a *snapshot* stream (lifetime values as they stand now) is read only
  for the day the reading is dated (`as_of`: yesterday, or the sample world's last day;
  orchestration/partitions.py `reading_day`), and only by a run whose days include that day:
  the API cannot say what a lifetime value was on a past day, so a backfill of past days
  writes no snapshot (such history comes only from the daily readings of the days themselves);
  a *range_read* stream reads a range of days in one pass (one client, one landing file a day);
- each read lands its records as received (warehouse/landing.py), one file per day;
- a day the platform can no longer serve in full (`DayUnavailable`) lands nothing, so its
  stored rows are kept, and the run goes on (one line per stream says which days);
- a day read with no records at all is counted and named (`days_without_records`), so a run
  over days a source has no data for says so instead of succeeding silently;
- the days landed are loaded into the raw table in one transaction (a DuckDB load costs tens
  of milliseconds however little it carries), under the caller's lock: DuckDB has one writer;
  a lock held by another process is waited for, a bounded time (warehouse/locks.py).
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from extractors.client import as_configured
from extractors.streams import DayUnavailable, Stream
from warehouse import landing
from warehouse.deletions import load_logged
from warehouse.landing import LandedFile
from warehouse.loader import LoadResult, RawTable, connect
from warehouse.locks import holder_of

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

# The stream (`source/stream`) a thread is running, so a line logged inside it (an HTTP retry, a
# throttling pause) can say which stream it is about (orchestration/progress.py); carried into
# the threads that read a stream's days.
current_stream: contextvars.ContextVar[str | None] = contextvars.ContextVar("current_stream", default=None)
# ... and the logger its lines go to (the caller's: in a Dagster step, the step's log).
_stream_logger: contextvars.ContextVar[object | None] = contextvars.ContextVar("stream_logger", default=None)


class _ToStreamLogger(logging.Handler):
    """On the root logger while a stream runs: a record of the project's modules (an HTTP retry)
    that reached the root without Dagster's handler having taken it is passed to the running
    stream's logger. Dagster captures the managed loggers (`python_logs`) only while a step's code
    runs, not while it handles what the step yielded, so a retry logged by another stream's
    thread in that moment would otherwise be printed bare by Python's last-resort handler. Only
    for a Dagster step's log (which has `_dagster_handler`): a plain logger already sees them."""

    def emit(self, record: logging.LogRecord) -> None:
        target = _stream_logger.get()
        if hasattr(record, "dagster_meta"):
            return  # Dagster's handler took it (it marks the record)
        if (
            target is not None
            and getattr(target, "_dagster_handler", None) is not None
            and record.name.startswith(("extractors", "warehouse"))
        ):
            target.log(record.levelno, record.getMessage())
        elif logging.getLogger().handlers == [self] and logging.lastResort is not None:
            # what Python would have done without this handler: print it on stderr (WARNING and up)
            if record.levelno >= logging.lastResort.level:
                logging.lastResort.handle(record)


_forwarder = _ToStreamLogger()
_forwarding = [0, threading.Lock()]


@contextmanager
def forwarding(logger) -> Iterator[None]:
    """Within the block (and the threads started with a copy of its context), the project's log
    records that no Dagster handler took go to `logger` (see `_ToStreamLogger`)."""
    token = _stream_logger.set(logger)
    with _forwarding[1]:
        _forwarding[0] += 1
        if _forwarding[0] == 1:
            logging.getLogger().addHandler(_forwarder)
    try:
        yield
    finally:
        with _forwarding[1]:
            _forwarding[0] -= 1
            if _forwarding[0] == 0:
                logging.getLogger().removeHandler(_forwarder)
        _stream_logger.reset(token)


# How long a load waits for the warehouse while another process holds DuckDB's file lock (runs
# in Dagster take turns before they get here, through the warehouse's pool; what can still hold
# it is something outside Dagster: a notebook, a BI tool), and how often it looks.
LOCK_WAIT_SECONDS = 120.0
LOCK_POLL_SECONDS = 0.5
LOCK_ERROR = "Could not set lock on file"


class WarehouseLocked(RuntimeError):
    """The warehouse stayed locked by another process for longer than a load waits."""


@contextmanager
def connect_waiting(
    path: Path,
    *,
    timeout_s: float = LOCK_WAIT_SECONDS,
    poll_s: float = LOCK_POLL_SECONDS,
    logger=log,
    open_connection: Callable[[Path], object] = connect,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection to the warehouse, waiting while another process holds its lock,
    up to `timeout_s`; then `WarehouseLocked`, one message naming the holder (warehouse/locks.py
    `holder_of`: PID and command line). Any other error is raised at once."""
    started, told = time.monotonic(), False
    while True:
        cm = open_connection(path)
        try:
            con = cm.__enter__()
            break
        except duckdb.IOException as exc:
            if LOCK_ERROR not in str(exc):
                raise
            waited = time.monotonic() - started
            holder = holder_of(path) or str(exc).split(": ", 1)[-1].split(". See also")[0]
            if waited >= timeout_s:
                raise WarehouseLocked(
                    f"warehouse {path} is held by {holder}; waited {waited:.0f} s for it. DuckDB lets one process "
                    "write the file: close that program (or let it finish), then run again."
                ) from None
            if not told:
                logger.info(f"warehouse {path} is held by {holder}: waiting up to {timeout_s:.0f} s")
                told = True
            time.sleep(poll_s)
    try:
        yield con
    except BaseException as exc:
        if not cm.__exit__(type(exc), exc, exc.__traceback__):
            raise
    else:
        cm.__exit__(None, None, None)


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


def snapshot_days(days: list[date], as_of: date | None) -> list[date]:
    """The days a snapshot stream is read for in a run over `days`: `as_of` (the day a reading
    made now is dated) when the run covers it, else none; without `as_of`, the run's last day
    (the caller says the run ends on the reading day: the benchmark, tests of a client)."""
    if as_of is None:
        return days[-1:]
    return [as_of] if days and days[0] <= as_of <= days[-1] else []


def reads(stream: Stream, days: list[date] | None, as_of: date | None = None) -> list[Read]:
    """The reads that cover `days` (None: an undated stream, read whole). A snapshot stream is
    read for `snapshot_days(days, as_of)` only: possibly none."""
    if not stream.dated or days is None:
        return [Read(stream)]
    if stream.snapshot:
        days = snapshot_days(days, as_of)
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
    stream: Stream,
    new_client: Callable[[], object],
    landing_root: Path,
    days: list[date] | None,
    workers: int,
    as_of: date | None = None,
) -> Iterator[Landed]:
    """Every read of `stream` over `days`, `workers` at a time (a client each: nothing is shared
    between threads), in day order."""
    planned = reads(stream, days, as_of)
    if not planned:
        return
    if len(planned) == 1:
        yield land(planned[0], new_client(), landing_root)
        return
    contexts = [contextvars.copy_context() for _ in planned]  # each thread knows its stream
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=stream.source) as pool:
        yield from pool.map(
            lambda rc: rc[1].run(lambda: land(rc[0], new_client(), landing_root)), zip(planned, contexts, strict=True)
        )


def load_files(con: duckdb.DuckDBPyConnection, stream: Stream, files: list[LandedFile]) -> LoadResult:
    """Load a stream's landing files into its raw table in one transaction; the deletions it makes
    (and the source's deletion rules) are logged in raw._deletions (warehouse/deletions.py)."""
    return load_logged(con, raw_table(stream), files)


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
            "days_without_records": 0,
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


def run_stream(stream: Stream, *args, **kwargs) -> dict:
    """`_run_stream` with `current_stream` set to the stream in this thread, and the project's
    log lines of its threads sure to reach `logger` (`forwarding`)."""
    token = current_stream.set(stream.key)
    try:
        with forwarding(kwargs.get("logger", log)):
            return _run_stream(stream, *args, **kwargs)
    finally:
        current_stream.reset(token)


def _run_stream(
    stream: Stream,
    new_client: Callable[[], object],
    *,
    landing_root: Path,
    warehouse_path: Path,
    days: list[date] | None,
    workers: int = 4,
    write_lock: threading.Lock | None = None,
    logger=log,
    as_of: date | None = None,
    lock_wait_s: float = LOCK_WAIT_SECONDS,
) -> dict:
    """Extract, land and load `stream` for `days` (None: undated); the counts of the run
    (records received, loaded, rejected, ..., pages, requests, days unavailable, days without
    records, seconds). A snapshot stream is read for `as_of` only (see `reads`).

    Every day is extracted and landed first (progress per day), then all are loaded in one
    transaction; a warehouse locked by another process is waited for up to `lock_wait_s`."""
    started = time.monotonic()
    totals, result = Totals(), None
    extra: dict = {}
    if days is not None and stream.dated and stream.snapshot:
        wanted_days = snapshot_days(days, as_of)
        if not wanted_days:
            why = (
                f"{stream.key} is a snapshot of values as they stand now, dated {as_of}: a run over "
                f"{days[0]} .. {days[-1]} cannot date it, so nothing is read or written for it "
                "(a past day's values come only from the reading made on that day)"
            )
            logger.info(why)
            extra["snapshot_not_read"] = why
        elif len(days) > 1:
            logger.info(
                f"{stream.key} is a snapshot of values as they stand now: reading {wanted_days[0]} only, "
                f"not the {len(days)} days of the run"
            )
    wanted = len(reads(stream, days, as_of)) if days is not None and stream.dated and not stream.range_read else 1
    if days is not None and stream.dated and stream.range_read:
        wanted = len(days)
    files: list[LandedFile] = []
    unavailable: list[date] = []
    empty: list[date] = []
    table_stream = stream
    n = 0
    for landed in extract(stream, new_client, landing_root, days, workers, as_of):
        totals.add_extraction(landed)
        table_stream = as_configured(stream, landed.client)  # ... and the raw table it lands in
        for day, gone in landed.unavailable:
            n += 1
            unavailable.append(day)
            logger.debug(f"{stream.key} {day} ({n}/{wanted}) skipped, stored rows kept: {gone}")
        for day, f in landed.files:
            n += 1
            files.append(f)
            if day is not None:
                if f.records == 0:
                    empty.append(day)
                logger.debug(f"{stream.key} {day} ({n}/{wanted}): {f.records} records, {f.pages} pages")
    if unavailable:
        # the platform's horizon, not a fault: one line, not one per day
        logger.info(
            f"{stream.key}: {len(unavailable)} day(s) the platform can no longer serve in full were not read, "
            f"stored rows kept ({_days(unavailable)}): {gone}"
        )
    totals.values["days_without_records"] = len(empty)
    if empty:
        extra["days_without_records_list"] = _days(empty)
        if len(empty) == n and n > 0:
            logger.warning(
                f"{stream.key}: no records for any of the {n} day(s) read ({_days(empty)}): "
                "does the source have data for these days?"
            )
        else:
            logger.info(f"{stream.key}: no records for {len(empty)} of {n} day(s) read ({_days(empty)})")
    if files:
        with (
            write_lock or threading.Lock(),
            connect_waiting(warehouse_path, timeout_s=lock_wait_s, logger=logger) as con,
        ):
            result = load_files(con, table_stream, files)
        totals.add_load(result)
        label = "all" if days is None or not stream.dated else f"{result.partition} ({len(files)} days)"
        _log_load(logger, stream, label, result, totals.values["pages"])
    return {
        **totals.values,
        **extra,
        "rows_in_table": result.rows_in_table if result else 0,
        "seconds": round(time.monotonic() - started, 2),
    }


def _days(days: list[date]) -> str:
    """Days as a short list: every one up to 5, else the first and last and how many."""
    days = sorted(days)
    if len(days) <= 5:
        return ", ".join(d.isoformat() for d in days)
    return f"{days[0]} .. {days[-1]}, {len(days)} days"
