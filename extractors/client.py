"""The base every API client is built on: what the pipeline asks of a client, done once.

A client holds its streams as configured (`streams`: the module's declarations with the
client's settings applied) and counts its calls in one `stats`, whichever of its HTTP cores
(one per token or host) made them. The pipeline asks it for `pages(stream, day)` (and, for a
`range_read` stream, `pages_for_days(stream, days)`); the base

- finds the client's own declaration of the stream and refuses one whose raw schema is not
  its own: a table built from the module's default declaration while the settings ask for
  something else would reject every row and the run would still succeed;
- refuses a dated stream without a day, and a stream whose ids (accounts, properties,
  channels...) are not configured, naming the setting, before any request;
- hands the stream to the client's way of reading it, `read_<stream.reader>(stream, day)`
  (`range_<reader>(stream, days)` for a range). The default, `read_walk`, pages the declared
  path once per configured id with the declared paginator: a stream of that shape needs no
  code at all.

Clients supply `SOURCE` (the name their errors carry), `IDS` (what each `per` means) and, where
requests need more than the declaration holds, `request_params` and `http_for`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date
from typing import Any, ClassVar

from extractors.http import CallStats, FatalError, HttpCore
from extractors.streams import Stream


class SourceClient:
    SOURCE: ClassVar[str] = ""
    # `per` of a stream -> (the attribute holding the configured ids, what they are, the setting
    # that configures them): "no ad accounts configured: set META_AD_ACCOUNT_IDS".
    IDS: ClassVar[Mapping[str, tuple[str, str, str]]] = {}
    version: str = ""  # fills `{version}` in declared paths

    def __init__(self, streams: Iterable[Stream]):
        self.stats = CallStats()
        self.streams: tuple[Stream, ...] = tuple(streams)
        self._declared = {s.key: s for s in self.streams}
        for s in self.streams:
            if not callable(getattr(self, f"read_{s.reader}", None)):
                raise TypeError(f"{type(self).__name__} cannot read {s.key}: no method read_{s.reader}")
            if s.range_read and not callable(getattr(self, f"range_{s.reader}", None)):
                raise TypeError(f"{type(self).__name__} cannot read {s.key} by ranges: no method range_{s.reader}")
            if s.per and s.per not in self.IDS:
                raise TypeError(f"{type(self).__name__} does not know which ids {s.key} is read per ({s.per!r})")

    def http_core(self, base_url: str, **kwargs: Any) -> HttpCore:
        """An HTTP core counting its calls in this client's `stats`."""
        return HttpCore(self.SOURCE, base_url, stats=self.stats, **kwargs)

    # -- the streams as configured ---------------------------------------------------------------
    def stream(self, name: str) -> Stream:
        """This client's declaration of a stream, by key (`source/name`) or by name."""
        if name in self._declared:
            return self._declared[name]
        found = [s for s in self.streams if s.name == name]
        if len(found) != 1:
            raise ValueError(f"[{self.SOURCE}] no stream {name!r} (it has {', '.join(self._declared)})")
        return found[0]

    def declared(self, stream: Stream) -> Stream:
        """This client's own declaration of `stream`. One whose raw schema differs is refused:
        its table would not hold what this client's settings make the records hold."""
        own = self._declared.get(stream.key)
        if own is None:
            raise ValueError(f"[{self.SOURCE}] has no stream {stream.key!r}")
        if own.schema != stream.schema:
            raise FatalError(
                self.SOURCE,
                f"{stream.key}: the raw table asked for (key {', '.join(stream.primary_key)}; "
                f"columns {', '.join(stream.columns)}) is not the one this client's settings "
                f"make (key {', '.join(own.primary_key)}; columns {', '.join(own.columns)}): every "
                f"row would be rejected. Load it with the client's declaration, "
                f"client.stream({stream.name!r})" + (f" (it follows `{own.setting}`)" if own.setting else ""),
            )
        return own

    def ids(self, stream: Stream) -> list:
        """The configured ids `stream` is read for (none: it is read once); FatalError naming
        the setting when there are none."""
        if not stream.per:
            return []
        attr, what, setting = self.IDS[stream.per]
        ids = list(getattr(self, attr))
        if not ids:
            raise FatalError(self.SOURCE, f"no {what} configured: set {setting}")
        return ids

    # -- what the pipeline calls -------------------------------------------------------------------
    def pages(self, stream: Stream, day: date | None = None) -> Iterator[list[dict]]:
        """Every page of `stream`'s records for `day` (or all of them for an undated stream)."""
        own = self.declared(stream)
        if own.dated and day is None:
            raise ValueError(f"{own.key} is dated: give a day")
        self.ids(own)
        yield from getattr(self, f"read_{own.reader}")(own, day)

    def pages_for_days(self, stream: Stream, days: Sequence[date]) -> Iterator[tuple[date, list[dict]]]:
        """(day, records) over a range of days read in one pass, for a `range_read` stream."""
        own = self.declared(stream)
        if not own.range_read:
            raise ValueError(f"{own.key} is read one day at a time: use pages()")
        self.ids(own)
        if days:
            yield from getattr(self, f"range_{own.reader}")(own, list(days))

    # -- the declared read -------------------------------------------------------------------------
    def http_for(self, stream: Stream, id: Any = None) -> HttpCore:
        """The core that reads `stream` for `id` (a client with one core: that core)."""
        return self.http

    def request_params(self, stream: Stream, day: date | None) -> dict[str, Any]:
        """What a request of `stream` carries beyond its declared `params` (page size, fields)."""
        return {}

    def path(self, stream: Stream, **values: Any) -> str:
        return stream.path.format(version=self.version, **values)

    def walk(
        self,
        stream: Stream,
        *,
        id: Any = None,
        params: Mapping[str, Any] | None = None,
        http: HttpCore | None = None,
        **values: Any,
    ) -> Iterator[list[dict]]:
        """Every page of records of the declared path (for `id`), with the declared paginator."""
        yield from (http or self.http_for(stream, id)).paginate(
            self.path(stream, id=id, **values),
            stream.paginator() if stream.paginator else None,
            params={**stream.params, **(params or {})},
            records_at=stream.records_at,
            size_param=stream.size_param,
        )

    def read_walk(self, stream: Stream, day: date | None) -> Iterator[list[dict]]:
        """The declared read: the path walked once per configured id (or once)."""
        params = self.request_params(stream, day)
        for id in self.ids(stream) or [None]:
            yield from self.walk(stream, id=id, params=params)

    def read_nodes(self, stream: Stream, day: date | None) -> Iterator[list[dict]]:
        """One object per configured id (an account, a Page), as one page; a snapshot's records
        get the day they were read on as `snapshot_date`."""
        params = {**self.request_params(stream, day), **stream.params}
        rows = []
        for id in self.ids(stream):
            node = self.http_for(stream, id).get_json(self.path(stream, id=id), params=params)
            rows.append({**node, "snapshot_date": day.isoformat()} if stream.snapshot else node)
        yield rows


def as_configured(stream: Stream, client: object) -> Stream:
    """`stream` as `client` reads it: the client's own declaration, its settings applied (GA4's
    dimensions decide the raw table's columns and key), or `stream` itself for a client that
    keeps no declarations. A caller holding the module's declaration (an asset, the benchmark)
    reads with this one and loads what was landed into this one's raw table."""
    return client.stream(stream.key) if isinstance(client, SourceClient) else stream


def group_by_day(records: Iterable[dict], day_of: Callable[[dict], date | None]) -> Iterator[tuple[date, list[dict]]]:
    """(day, records) for the records of a page read over a range, in the order days first
    appear; a record `day_of` gives no day for is left out (a day the caller did not ask for)."""
    by_day: dict[date, list[dict]] = {}
    for r in records:
        day = day_of(r)
        if day is not None:
            by_day.setdefault(day, []).append(r)
    yield from by_day.items()
