"""Property-based tests (hypothesis, issue 17 item 5) of the parsers and the loader: for any
input of the right kind, not only the examples someone thought of.

- `parse_json` gives what the standard library gives for every JSON document, and refuses
  (never alters) what no warehouse type keeps;
- a record landed and read back is the record;
- UTC day helpers: a day's bounds are one day long, and every millisecond in them maps back to it;
- the paging loop guard never refuses a walk that moves on, and always refuses one that goes round;
- the loader: for any batch of records (valid, keyless, badly typed, repeated), the counts
  reconcile, every invalid record is in the rejects, and each valid key is loaded once with
  its last copy.
"""

from __future__ import annotations

import gzip
import json
import math
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from extractors.days import epoch_ms, epoch_s, utc_day_bounds, utc_day_of_ms, utc_midnight
from extractors.http import FatalError, LoopGuard, NotJson, parse_json
from warehouse.landing import land_pages
from warehouse.loader import REJECTS_TABLE, RawTable, connect, load

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# JSON text: any Unicode scalar value (no lone surrogates: those are not text)
text = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),  # beyond 64 bits too
    st.floats(allow_nan=False, allow_infinity=False),
)
json_values = st.recursive(
    st.none() | st.booleans() | numbers | text,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(text, children, max_size=5),
    max_leaves=25,
)


@FAST
@given(value=json_values, ascii_only=st.booleans())
def test_parse_json_equals_the_standard_library_for_any_document(value, ascii_only):
    body = json.dumps(value, ensure_ascii=ascii_only).encode()
    got, want = parse_json(body), json.loads(body)
    assert got == want and repr(got) == repr(want)


@FAST
@given(mantissa=st.integers(1, 9), exponent=st.integers(309, 5000), sign=st.sampled_from(["", "-"]))
def test_a_number_beyond_a_double_is_refused_never_read_as_infinity(mantissa, exponent, sign):
    with pytest.raises(NotJson, match="beyond a double's range"):
        parse_json(f'{{"data": [{{"reach": {sign}{mantissa}e{exponent}}}]}}'.encode())


@FAST
@given(prefix=text, unit=st.integers(0xD800, 0xDFFF), suffix=text)
def test_an_unpaired_surrogate_is_refused_naming_the_field(prefix, unit, suffix):
    body = '{"data": [{"text": "' + json.dumps(prefix)[1:-1] + f"\\u{unit:04x}" + json.dumps(suffix)[1:-1] + '"}]}'
    with pytest.raises(NotJson, match=r"surrogate in data\[0\]\.text"):
        parse_json(body.encode())


@settings(max_examples=60, deadline=None)
@given(record=st.dictionaries(text, json_values, max_size=6))
def test_a_landed_record_reads_back_as_the_record(record):
    with tempfile.TemporaryDirectory() as tmp:
        landed = land_pages(Path(tmp), "src", "things", "2026-06-01", [[record, record]])
        with gzip.open(landed.path, "rb") as f:
            back = [parse_json(line) for line in f.read().splitlines()]
    assert back == [record, record]


days = st.dates(min_value=date(1971, 1, 1), max_value=date(2200, 12, 31))


@FAST
@given(first=days, span=st.integers(0, 400), ms=st.integers(0, 86_400_000 - 1))
def test_utc_day_bounds_cover_whole_days_and_map_back(first, span, ms):
    last = first + timedelta(days=span)
    start, end = utc_day_bounds(first, last)
    assert start == datetime(first.year, first.month, first.day, tzinfo=UTC) == utc_midnight(first)
    assert end - start == timedelta(days=span + 1)
    assert epoch_s(end) - epoch_s(start) == 86_400 * (span + 1)
    assert utc_day_of_ms(epoch_ms(utc_midnight(last)) + ms) == last.isoformat()
    assert utc_day_of_ms(epoch_ms(end)) == (last + timedelta(days=1)).isoformat()  # the end is exclusive


@FAST
@given(positions=st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=40, unique=True))
def test_the_loop_guard_lets_every_walk_that_moves_on_through(positions):
    guard = LoopGuard("src")
    assert [guard.check(p) for p in positions] == [False] * len(positions)


@FAST
@given(
    positions=st.lists(st.text(min_size=1, max_size=8), min_size=2, max_size=20, unique=True),
    back=st.integers(0, 19),
    repeats=st.integers(1, 8),
)
def test_the_loop_guard_refuses_every_walk_that_goes_round(positions, back, repeats):
    guard = LoopGuard("src", max_repeats=3)
    for p in positions:
        guard.check(p)
    earlier = positions[back % (len(positions) - 1)]  # any position but the last: a loop at once
    with pytest.raises(FatalError, match="refusing to loop"):
        guard.check(earlier)
    guard = LoopGuard("src", max_repeats=3)
    for p in positions:
        guard.check(p)
    same = [guard.check(positions[-1]) for _ in range(min(repeats, 3))]  # a page served again: asked again
    assert same == [True] * len(same)
    if repeats > 3:
        with pytest.raises(FatalError, match="in a row"):
            guard.check(positions[-1])


TABLE = RawTable(
    source="src",
    stream="things",
    columns={"id": "VARCHAR", "day": "DATE", "n": "BIGINT", "label": "VARCHAR"},
    key=("day", "id"),
    partition_column="day",
)
records = st.lists(
    st.fixed_dictionaries(
        {
            "id": st.sampled_from(["a", "b", "c", "d", None, ""]),
            "day": st.sampled_from(["2026-06-01", "2026-06-01", "2026-06-01", "2099-01-01", "not a day"]),
            "n": st.one_of(st.integers(-(2**63), 2**63 - 1), st.sampled_from(["12", "x", "1e30", None])),
            "label": st.sampled_from(["same", "same", "other", "O'Brien; --"]),
        }
    ),
    max_size=12,
)


def _valid(r: dict) -> bool:
    n_ok = r["n"] is None or isinstance(r["n"], int) or r["n"] == "12"
    return bool(r["id"]) and r["day"] == "2026-06-01" and n_ok


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=records.filter(bool))
def test_the_loader_reconciles_rejects_every_invalid_record_and_keeps_each_keys_last_copy(batch):
    with tempfile.TemporaryDirectory() as tmp, connect(Path(tmp) / "w.duckdb") as con:
        result = load(con, TABLE, land_pages(Path(tmp), "src", "things", "2026-06-01", [batch]))
        rejected = {
            line for (line,) in con.execute(f"select line from {REJECTS_TABLE} where kind = 'invalid'").fetchall()
        }
        loaded = dict(con.execute("select id, label from raw.src__things").fetchall())
    assert result.reconciles(), result
    assert result.received == len(batch)
    assert rejected == {i + 1 for i, r in enumerate(batch) if not _valid(r)}
    last = {}
    for r in batch:
        if _valid(r):
            last[r["id"]] = r["label"]
    assert loaded == last
    assert result.rows_in_table == len(last)
    assert not any(isinstance(v, float) and not math.isfinite(v) for v in loaded.values())
