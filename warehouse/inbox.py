"""The inbox: files a person drops into a folder (a platform's CSV export, a survey tool's
export) are landed and loaded like an API read, then moved aside. No Dagster here: the inbox
sensor (orchestration/sensors.py) finds the files and runs `process_file` on each.

A file names what it holds: `<source>__<stream>__<YYYY-MM-DD>.<csv|jsonl>` for a dated stream
(the file is that whole day: the day's stored rows are replaced by the file's, as an API read
of the day would), `<source>__<stream>.<csv|jsonl>` for an undated one (merged on its key). A
CSV has one header line of the stream's record fields (a dotted header such as
`hidden.channel` is the nested field `{"hidden": {"channel": ...}}`); values stay strings and
the loader types them. A JSONL file holds one record a line, as the API would send it.

- A good file is landed (warehouse/landing.py: the records as read, with the file name), loaded
  into its raw table in one transaction, and moved to `<inbox>/loaded/`. A record the loader
  cannot take goes to raw._rejects with its line and reason, like any API record.
- A bad file (a name that says no declared stream or day, a day outside the partitions, not
  UTF-8, a line that is not JSON, a CSV without the stream's key columns, no record at all) is
  moved to `<inbox>/rejected/` beside a `<name>.reason.txt` saying why, and nothing is loaded.
Files whose name starts with `.` or ends in `.partial`/`.tmp` are still being written: left.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from extractors.streams import Stream
from warehouse import engine, landing

log = logging.getLogger(__name__)

LOADED, REJECTED = "loaded", "rejected"
_NAME = re.compile(
    r"^(?P<source>[a-z0-9_]+?)__(?P<stream>[a-z0-9_]+?)(?:__(?P<day>\d{4}-\d{2}-\d{2}))?\.(?P<ext>csv|jsonl)$"
)


class InboxError(ValueError):
    """Why a file cannot be loaded (the message names the file and, where it applies, the line
    and field)."""


@dataclass
class InboxResult:
    file: str  # the file's name as dropped
    outcome: str  # LOADED or REJECTED
    moved_to: Path
    stream: str | None = None  # source/stream
    day: str | None = None
    reason: str | None = None
    counts: dict = field(default_factory=dict)


def pending(inbox: Path) -> list[Path]:
    """The files waiting in `inbox` (not in its loaded/ or rejected/ folders), oldest first."""
    if not inbox.is_dir():
        return []
    files = [
        p
        for p in inbox.iterdir()
        if p.is_file() and not p.name.startswith(".") and not p.name.endswith((".partial", ".tmp"))
    ]
    return sorted(files, key=lambda p: (p.stat().st_mtime, p.name))


def parse_name(name: str, streams: Mapping[str, Stream]) -> tuple[Stream, date | None, str]:
    """(stream, day or None, format) a file's name says; InboxError when it says none."""
    m = _NAME.match(name)
    if not m:
        raise InboxError(
            f"{name}: name it <source>__<stream>__<YYYY-MM-DD>.csv (or .jsonl; no day for an undated stream)"
        )
    key = f"{m['source']}/{m['stream']}"
    stream = streams.get(key)
    if stream is None:
        raise InboxError(f"{name}: no declared stream {key}; known: {', '.join(sorted(streams))}")
    day = None
    if m["day"]:
        try:
            day = date.fromisoformat(m["day"])
        except ValueError:
            raise InboxError(f"{name}: {m['day']} is not a date") from None
    if stream.dated and day is None:
        raise InboxError(f"{name}: {key} is dated by {stream.cursor_field}: name the day the file holds (__YYYY-MM-DD)")
    if not stream.dated and day is not None:
        raise InboxError(f"{name}: {key} is not dated: drop the day from the name")
    return stream, day, m["ext"]


def _nested(header: str, value: str, into: dict) -> None:
    *parents, leaf = header.split(".")
    node = into
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value


def read_records(path: Path, fmt: str, stream: Stream) -> list[dict]:
    """The records of a file; InboxError naming the line (and field) that cannot be read."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InboxError(f"{path.name}: not UTF-8 (byte {exc.start})") from None
    records: list[dict] = []
    if fmt == "jsonl":
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InboxError(f"{path.name}: line {n} is not JSON ({exc.msg})") from None
            if not isinstance(rec, dict):
                raise InboxError(f"{path.name}: line {n} is not a JSON object")
            records.append(rec)
    else:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = reader.fieldnames or []
        fields = {h.split(".")[0] for h in header}
        wanted = [c for c in (*stream.primary_key, *filter(None, [stream.cursor_field])) if c in stream.columns]
        # a key column read from elsewhere in the record (`TYPE <- $.path`) needs that path's first field
        missing = [c for c in wanted if _first_field(stream, c) not in fields]
        if missing:
            raise InboxError(
                f"{path.name}: the header has no column for {', '.join(missing)} "
                f"(the key of {stream.key}); it has {', '.join(header) or 'nothing'}"
            )
        for n, row in enumerate(reader, start=2):
            if None in row:
                raise InboxError(f"{path.name}: line {n} has more cells than the header")
            rec: dict = {}
            for h, v in row.items():
                _nested(h, v if v != "" else None, rec)
            records.append(rec)
    if not records:
        raise InboxError(f"{path.name}: no record in the file")
    return records


def _first_field(stream: Stream, column: str) -> str:
    spec = stream.columns[column]
    if "<-" in spec:
        path = spec.split("<-", 1)[1].strip().removeprefix("$.")
        return path.split(".")[0]
    return column


def _move(path: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{path.name}"
    shutil.move(str(path), target)
    return target


def process_file(
    path: Path,
    streams: Mapping[str, Stream],
    *,
    landing_root: Path,
    warehouse_path: Path,
    first_day: date | None = None,
    last_day: date | None = None,
    logger=log,
) -> InboxResult:
    """Land, load and move aside one inbox file (or reject it with its reason)."""
    path = Path(path)
    inbox = path.parent
    try:
        stream, day, fmt = parse_name(path.name, streams)
        if day is not None and ((first_day and day < first_day) or (last_day and day > last_day)):
            raise InboxError(f"{path.name}: {day} is outside the partitions ({first_day} .. {last_day or 'yesterday'})")
        records = read_records(path, fmt, stream)
    except InboxError as exc:
        moved = _move(path, inbox / REJECTED)
        moved.with_name(moved.name + ".reason.txt").write_text(str(exc) + "\n")
        logger.error(f"inbox: {exc}; moved to {moved}")
        return InboxResult(path.name, REJECTED, moved, reason=str(exc))
    partition = day.isoformat() if day else "current"
    landed = landing.land_pages(landing_root, stream.source, stream.name, partition, [records])
    with engine.connect_waiting(warehouse_path, logger=logger) as con:
        result = engine.load_files(con, stream, [landed])
    moved = _move(path, inbox / LOADED)
    counts = {k: getattr(result, k, 0) for k in engine.COUNTED}
    logger.info(
        f"inbox: {path.name} -> raw {stream.key} {partition}: {result.received} received, {result.loaded} loaded, "
        f"{result.rejected} rejected (raw._rejects has each line and reason); moved to {moved}"
    )
    return InboxResult(path.name, LOADED, moved, stream=stream.key, day=partition, counts=counts)
