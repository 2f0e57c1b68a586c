"""Run a declared stream the way the pipeline does (extract -> land -> load into raw) on a
temporary warehouse, and read back what the raw table and the rejects table hold.

Extractor tests use it to compare the loaded records with what the fake serves now."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from extractors.client import as_configured
from extractors.streams import Stream
from orchestration.assets.streams import raw_table
from sampleworld.fakes.base import EXTRA_FIELD
from warehouse.landing import land_pages
from warehouse.loader import LoadResult, connect, load


@dataclass
class StreamRun:
    records: list[dict]  # the `_record` of every raw row, extra fake field removed
    rejects: list[tuple[str, str]]  # (record text, reason)
    results: list[LoadResult] = field(default_factory=list)


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def run_stream(client, stream: Stream, tmp: Path, day_list: list[date] | None = None) -> StreamRun:
    """Extract `stream` with `client` for each day (or once if undated) into `tmp/w.duckdb`; as
    the pipeline does, with the client's declaration of it (its settings decide the raw table)."""
    stream = as_configured(stream, client)
    table = raw_table(stream)
    results = []
    with connect(tmp / "w.duckdb") as con:
        for day in (day_list or [None]) if stream.dated else [None]:
            partition = day.isoformat() if day else "current"
            landed = land_pages(tmp / "landing", stream.source, stream.name, partition, client.pages(stream, day))
            results.append(load(con, table, landed))
        records = [json.loads(r) for (r,) in con.execute(f"select _record from {table.name}").fetchall()]
        rejects = con.execute(
            "select record, reason from raw._rejects where source = ? and stream = ?", [stream.source, stream.name]
        ).fetchall()
    for r in records:
        r.pop(EXTRA_FIELD, None)
    return StreamRun(records, rejects, results)


def by_key(records: list[dict], key: tuple[str, ...]) -> dict[tuple, dict]:
    out = {}
    for r in records:
        k = tuple(str(r.get(f)) for f in key)
        assert k not in out, f"duplicate key {k}"
        out[k] = r
    return out


def land_each_on_its_day(landing_root: Path, stream: Stream, records: list[dict]) -> list:
    """Land `records` as the pipeline would have read them: one file per day of the stream's
    partition column, each as the answer to a read of that day (a published body that spans
    several days came from a query over a range; the pipeline reads one day at a time, and the
    loader rejects a record filed under another day than its own)."""
    from warehouse.loader import column_spec

    table = raw_table(stream)
    _, path = column_spec(table.partition_column, table.columns[table.partition_column])
    by_day: dict[str, list[dict]] = {}
    for record in records:
        value = record
        for part in path.removeprefix("$.").split("."):
            value = value[part]
        by_day.setdefault(str(value)[:10], []).append(record)
    return [land_pages(landing_root, stream.source, stream.name, day, [recs]) for day, recs in sorted(by_day.items())]
