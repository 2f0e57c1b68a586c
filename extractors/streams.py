"""Declarative streams: what a connector reads, described in a few lines per endpoint.

A stream names its source and itself, where its records' key and cursor are, how many
recent days the platform still revises (re-read on every incremental run), how its raw
table is written, and which record fields become raw columns (values stay as the API sent
them; the whole record is kept beside them). The client of the source knows how to fetch a
stream's pages for a day (dated streams) or in full (undated ones).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from extractors.http import CallStats


@dataclass(frozen=True)
class Stream:
    source: str
    name: str
    primary_key: tuple[str, ...]
    columns: dict[str, str] = field(default_factory=dict)   # record field -> DuckDB type
    cursor_field: str | None = None    # the day a record belongs to; None: not dated
    restatement_days: int = 0          # recent days the platform still revises
    disposition: str = "replace_partition"   # or "merge" (upsert on the key), "replace" (whole table)
    description: str = ""
    # A reading of lifetime values as they stand now (post insights, follower counts): the
    # API cannot say what they were on a past day, so a run over a range reads only its
    # last day instead of writing today's values into every day of the range.
    snapshot: bool = False
    # The platform cannot give one day's records without walking everything newer (Meta's
    # conversations edge has no time filter): the client reads a range of days in one pass,
    # `pages_for_days(stream, days)`, instead of one walk per day.
    range_read: bool = False

    @property
    def dated(self) -> bool:
        return self.cursor_field is not None

    @property
    def key(self) -> str:
        return f"{self.source}/{self.name}"


class DayUnavailable(Exception):
    """The platform can no longer serve this day in full (X's recent search keeps 7 days):
    nothing is loaded for it, so what is stored stays as it is, and the run goes on."""


class SourceClient(Protocol):
    """What every API client offers the pipeline."""

    stats: CallStats

    def pages(self, stream: Stream, day: date | None) -> Iterator[list[dict]]:
        """Every page of `stream`'s records for `day` (or all of them for an undated stream)."""
        ...

    # Clients with `range_read` streams also offer
    #   pages_for_days(stream, days) -> Iterator[tuple[date, list[dict]]]
    # : (day, records) over a range of days read in one pass.
