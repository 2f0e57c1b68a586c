"""Declarative streams: what a connector reads, described in a few lines per endpoint.

A stream declares what it is and how it is read. What it is: its source and name, where its
records' key and cursor are, how many recent days the platform still revises (re-read on every
incremental run), how its raw table is written, and which record fields become raw columns
(values stay as the API sent them; the whole record is kept beside them). How it is read: the
endpoint's path, where a response holds the records, the paginator that walks its pages, the
fixed parts of the request, the configured ids it is read for, the client setting that lists
what is asked for, and which of its client's ways of reading applies (`reader`; most streams
of a source share one, so a new stream there is one declaration).

A client holds its streams as configured (`SourceClient.streams`): where a setting decides what
a record holds (GA4's dimensions and metrics, YouTube's report metrics), the configured
declaration's raw schema follows it, and the client refuses to read for a declaration whose
schema is not its own (see `extractors/client.py`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from extractors.http import Paginator

DISPOSITIONS = ("replace_partition", "merge", "replace")
# Names and paths a stream gives the SQL that builds and loads its raw table (issue 17, item 9).
# Some come from configuration (GA4's dimensions and metrics, YouTube's report metrics become
# columns), and the loader writes them into SQL as identifiers and JSON paths: only these shapes
# are accepted, so no setting can carry a quote, a semicolon or a comment into a statement.
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
JSON_PATH = re.compile(r"\$(?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])+")
COLUMN_TYPE = re.compile(r"[A-Z]+(?:\(\d+, ?\d+\))?")


@dataclass(frozen=True)
class Stream:
    source: str
    name: str
    primary_key: tuple[str, ...]
    columns: dict[str, str] = field(default_factory=dict)  # record field -> DuckDB type
    cursor_field: str | None = None  # the day a record belongs to; None: not dated
    restatement_days: int = 0  # recent days the platform still revises
    disposition: str = "replace_partition"  # or "merge" (upsert on the key), "replace" (whole table)
    description: str = ""
    # A reading of lifetime values as they stand now (post insights, follower counts): the
    # API cannot say what they were on a past day, so a run over a range reads only its
    # last day instead of writing today's values into every day of the range.
    snapshot: bool = False
    # The platform cannot give one day's records without walking everything newer (Meta's
    # conversations edge has no time filter): the client reads a range of days in one pass,
    # `pages_for_days(stream, days)`, instead of one walk per day.
    range_read: bool = False

    # -- how it is read ------------------------------------------------------------------------
    # The endpoint, relative to the API root; `{placeholders}` are filled by the client: `{id}`
    # the configured id being read (see `per`), `{version}` the client's API version.
    path: str = ""
    records_at: str = "data"  # where a response holds the records (dotted; "": the body)
    paginator: Callable[[], Paginator] | None = None  # a fresh one per walk; None: one page
    params: Mapping[str, Any] = field(default_factory=dict)  # fixed parts of every request
    size_param: str = "limit"  # the page-size parameter (halved when a page is too large)
    per: str = ""  # read once per configured id of this kind ("": once)
    setting: str = ""  # the client setting listing what is asked for (named in errors)
    reader: str = "walk"  # the client's way of reading it: its method `read_<reader>`

    def __post_init__(self):
        self._check_names()
        missing = [c for c in (*self.primary_key, *filter(None, [self.cursor_field])) if c not in self.columns]
        if missing:
            raise ValueError(f"stream {self.key}: key or cursor field(s) {missing} are not among its columns")
        if self.disposition not in DISPOSITIONS:
            raise ValueError(f"stream {self.key}: disposition {self.disposition!r} is not one of {DISPOSITIONS}")
        if self.disposition == "replace_partition" and not self.dated:
            raise ValueError(f"stream {self.key}: replace_partition needs a cursor_field (the partition day)")
        if self.range_read and not self.dated:
            raise ValueError(f"stream {self.key}: only a dated stream can be read a range of days at a time")

    def _check_names(self) -> None:
        """Every name and JSON path the raw table's SQL is built from has a plain shape."""
        for what, name in (("source", self.source), ("name", self.name)):
            if not IDENTIFIER.fullmatch(str(name)):
                raise ValueError(
                    f"stream {self.source}/{self.name}: its {what} {name!r} is not a plain name (A-Z, 0-9, _)"
                )
        for col, spec in self.columns.items():
            typ, _, path = str(spec).partition("<-")
            if not IDENTIFIER.fullmatch(str(col)):
                raise ValueError(
                    f"stream {self.key}: column {col!r} is not a plain name (letters, digits, _; not starting with "
                    "a digit)" + (f": change `{self.setting}` in the source's configuration" if self.setting else "")
                )
            if not COLUMN_TYPE.fullmatch(typ.strip().upper()):
                raise ValueError(f"stream {self.key}: column {col!r} has type {typ.strip()!r}, not a DuckDB type name")
            path = path.strip()
            if path and not (JSON_PATH.fullmatch(path) or IDENTIFIER.fullmatch(path)):
                raise ValueError(
                    f"stream {self.key}: column {col!r} reads {path!r}, not a JSON path like $.a.b or $.a[0]"
                )

    @property
    def dated(self) -> bool:
        return self.cursor_field is not None

    @property
    def key(self) -> str:
        return f"{self.source}/{self.name}"

    @property
    def schema(self) -> tuple:
        """What its raw table is built from: two declarations with the same schema load alike."""
        return self.primary_key, tuple(self.columns.items()), self.cursor_field, self.disposition

    @property
    def cursor_source(self) -> str | None:
        """The record field the cursor column is read from (`created_time` for
        `"created_date": "DATE <- $.created_time"`), or None for an undated stream."""
        if self.cursor_field is None:
            return None
        path = self.columns[self.cursor_field].partition("<-")[2].strip()
        return path.removeprefix("$.") if path else self.cursor_field

    def configured(self, **changes: Any) -> Stream:
        """This declaration with some fields changed (a client's settings applied)."""
        return dataclasses.replace(self, **changes)


class DayUnavailable(Exception):
    """The platform can no longer serve this day in full (X's recent search keeps 7 days):
    nothing is loaded for it, so what is stored stays as it is, and the run goes on."""
