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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from extractors.http import Paginator

DISPOSITIONS = ("replace_partition", "merge", "replace")


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
        missing = [c for c in (*self.primary_key, *filter(None, [self.cursor_field])) if c not in self.columns]
        if missing:
            raise ValueError(f"stream {self.key}: key or cursor field(s) {missing} are not among its columns")
        if self.disposition not in DISPOSITIONS:
            raise ValueError(f"stream {self.key}: disposition {self.disposition!r} is not one of {DISPOSITIONS}")
        if self.disposition == "replace_partition" and not self.dated:
            raise ValueError(f"stream {self.key}: replace_partition needs a cursor_field (the partition day)")
        if self.range_read and not self.dated:
            raise ValueError(f"stream {self.key}: only a dated stream can be read a range of days at a time")

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
