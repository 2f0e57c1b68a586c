"""The landing area: every extracted record is written here first, as it arrived, in one
gzip-compressed JSON-lines file per load, then never touched again. The raw tables are
built from these files, so any load can be replayed or audited.

The gzip is written by ISA-L (`isal`, Intel's assembly deflate): the same gzip format every
reader (DuckDB, `zcat`, Python's `gzip`) takes, at a quarter of zlib's CPU at level 1.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import orjson
from isal import igzip, isal_zlib


def new_load_id() -> str:
    """Sortable by time, unique across processes: 20260601T120000Z-1a2b3c4d."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:8]}"


@dataclass
class LandedFile:
    path: Path
    source: str
    stream: str
    partition: str
    load_id: str
    records: int = 0
    pages: int = 0


def landing_path(root: Path, source: str, stream: str, partition: str, load_id: str) -> Path:
    return Path(root) / source / stream / f"partition={partition}" / f"{load_id}.jsonl.gz"


# ISA-L level 1 (of 0-3): 0.5 us a 430-byte listening mention, where zlib's level 1 took 2.1
# (and level 5 3.9), for files about the size of zlib's level 1; DuckDB reads them at the same
# speed. On the peer benchmark's 457,827 mentions that is about 1 CPU second of the extraction.
COMPRESSLEVEL = 1


def _line(record) -> bytes:
    """One record as a JSON line, UTF-8, compact. orjson writes it in a third of the time of
    `json.dumps`; what orjson refuses (an integer beyond 64 bits, a key that is not a
    string) is written by `json.dumps`, which keeps it exactly. (A NaN, which orjson would
    write as null, never reaches here: the HTTP core refuses bodies that hold one.)"""
    try:
        return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)
    except TypeError:
        return (json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n").encode()


def land_pages(
    root: Path, source: str, stream: str, partition: str, pages: Iterable[list[dict]], *, load_id: str | None = None
) -> LandedFile:
    """Write every record of every page, as received, to a new landing file, atomically.

    Nothing is judged here: a bad record is landed like any other (so nothing is lost) and
    the loader routes it to the rejects table with its line number.
    """
    load_id = load_id or new_load_id()
    final = landing_path(root, source, stream, partition, load_id)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(final.name + ".partial")
    landed = LandedFile(final, source, stream, partition, load_id)
    try:
        with igzip.open(tmp, "wb", compresslevel=COMPRESSLEVEL) as out:
            for page in pages:
                page = page if isinstance(page, list) else list(page)
                landed.pages += 1
                landed.records += len(page)
                out.write(b"".join([_line(record) for record in page]))
    except BaseException:
        tmp.unlink(missing_ok=True)  # an extraction that failed half-way lands nothing
        raise
    os.chmod(tmp, 0o444)
    os.replace(tmp, final)
    return landed


def land_days(
    root: Path, source: str, stream: str, days: Iterable[date], dated_pages: Iterable[tuple[date, list[dict]]]
) -> dict[date, LandedFile]:
    """Land a range of days read in one pass: `dated_pages` yields (day, records) in any
    order; each day of `days` gets its own landing file (an empty one for a day with no
    records, so its partition is replaced by nothing). Each day's records are compressed as
    they come into that day's `.partial` file (one gzip stream per day, so a year of open
    days holds about 20 MiB, not the records); when the pass ends every file is
    closed, made read-only and renamed. If the pass fails, nothing is landed."""
    days = sorted(set(days))
    open_days = {d: _DayWriter(landing_path(root, source, stream, d.isoformat(), new_load_id())) for d in days}
    try:
        for day, records in dated_pages:
            writer = open_days.get(day)
            if writer is None:
                raise ValueError(f"{source}/{stream}: records for {day}, outside the days asked for")
            writer.write([_line(r) for r in records])
        for writer in open_days.values():
            writer.close()
    except BaseException:
        for writer in open_days.values():
            writer.discard()
        raise
    return {
        d: LandedFile(
            w.final, source, stream, d.isoformat(), w.final.name.split(".")[0], records=w.records, pages=w.pages
        )
        for d, w in open_days.items()
    }


class _DayWriter:
    """One day's landing file of a range read, written a page at a time: an ISA-L gzip
    stream, about 57 KiB of state a day (zlib's default took ~270 KiB)."""

    def __init__(self, final: Path):
        self.final = final
        self.tmp = final.with_name(final.name + ".partial")
        self.records = self.pages = 0
        self._z = isal_zlib.compressobj(COMPRESSLEVEL, isal_zlib.DEFLATED, 16 + isal_zlib.MAX_WBITS)

    def write(self, lines: list[bytes]) -> None:
        self.pages += 1
        self.records += len(lines)
        chunk = self._z.compress(b"".join(lines))
        if chunk or not self.tmp.exists():
            self.tmp.parent.mkdir(parents=True, exist_ok=True)
            with open(self.tmp, "ab") as out:
                out.write(chunk)

    def close(self) -> None:
        self.tmp.parent.mkdir(parents=True, exist_ok=True)
        with open(self.tmp, "ab") as out:
            out.write(self._z.flush())
        os.chmod(self.tmp, 0o444)
        os.replace(self.tmp, self.final)

    def discard(self) -> None:
        self.tmp.unlink(missing_ok=True)
