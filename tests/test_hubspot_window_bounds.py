"""The edges of HubSpot's search windows: a day is [00:00:00.000, next 00:00:00.000) UTC in
epoch ms, asked as `GTE lo` and `LT hi`, and a window split over the search cap is cut at a
millisecond that belongs to exactly one half. A record modified exactly on an edge is read
once, on the right day; `GT` instead of `GTE` (or `LTE` instead of `LT`) loses or doubles it."""

from __future__ import annotations

from datetime import date

import pytest
from stream_harness import run_stream
from test_extract_hubspot import MODIFIED, _modify, client, serve

from extractors.hubspot import CONTACTS, DEALS, day_bounds_ms
from sampleworld.fakes.base import FaultConfig

D4, D5, D6 = date(2026, 6, 4), date(2026, 6, 5), date(2026, 6, 6)


def _ids(run) -> list[str]:
    return sorted(r["id"] for r in run.records)


def _some(app, kind: str, day: str, n: int) -> list[str]:
    return [r["id"] for r in app.current_records(kind) if r["properties"][MODIFIED[kind]][:10] == day][:n]


def test_day_bounds_are_utc_midnights_in_ms():
    assert day_bounds_ms(D5) == (1780617600000, 1780704000000)


@pytest.mark.parametrize("stream", [CONTACTS, DEALS], ids=lambda s: s.name)
def test_a_record_modified_on_a_midnight_belongs_to_the_day_it_starts(world, tmp_path, stream):
    kind = stream.name
    with serve(world, faults=FaultConfig.off()) as srv:
        first, last = _some(srv.app, kind, "2026-06-03", 2)
        _modify(srv.app, kind, first, "2026-06-05T00:00:00.000Z")  # the first millisecond of D5
        _modify(srv.app, kind, last, "2026-06-05T23:59:59.999Z")  # the last millisecond of D5
        got = {d: _ids(run_stream(client(srv), stream, tmp_path / d.isoformat(), [d])) for d in (D4, D5, D6)}
    assert first in got[D5] and last in got[D5]
    assert first not in got[D4] and last not in got[D6]
    assert set(got[D4]).isdisjoint(got[D5]) and set(got[D5]).isdisjoint(got[D6])


def test_a_record_on_the_split_point_of_a_capped_window_is_read_once(world, tmp_path):
    """Over the cap, [lo, hi) is read as [lo, mid) and [mid, hi): the record at `mid` exactly
    is in the second half only."""
    lo, hi = day_bounds_ms(D5)
    mid = (lo + hi) // 2
    assert mid % 1000 == 0
    cap = 40
    with serve(world, faults=FaultConfig.off(), search_cap=cap) as srv:
        (rec_id,) = _some(srv.app, "contacts", "2026-06-03", 1)
        _modify(srv.app, "contacts", rec_id, "2026-06-05T12:00:00.000Z")
        on_d5 = [
            r for r in srv.app.current_records("contacts") if r["properties"]["lastmodifieddate"][:10] == "2026-06-05"
        ]
        assert len(on_d5) > cap  # the window must split
        c = client(srv, page_size=20, search_cap=cap)
        run = run_stream(c, CONTACTS, tmp_path, [D5])
    assert c.splits >= 1
    ids = [r["id"] for r in run.records]
    assert ids.count(rec_id) == 1 and sorted(ids) == sorted(r["id"] for r in on_d5)
