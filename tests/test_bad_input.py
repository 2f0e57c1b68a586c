"""Bad input, per source (issue 17, item 5): a corpus of malformed records built on each
platform's record shape (tests/fixtures/bad_input/<source>.json: a good record as the extractor
lands it, and cases that break it: wrong types, missing and null keys, nulls, absurd values,
encodings, huge strings, duplicate keys, future dates) is landed and loaded into the stream's
real raw table. Every bad record is in raw._rejects at its line with a reason naming the field
and the value, every good record is loaded intact, and the counts reconcile (received = loaded
+ rejected + duplicates + conflict copies). A body the records cannot even be read from (not
UTF-8, an unpaired surrogate, a number beyond a double) fails its request naming what and
where, instead of being retried as "cut short" or landing altered."""

from __future__ import annotations

import copy
import importlib
import json
from pathlib import Path

import pytest

from extractors.http import FatalError, HttpCore, RetryableError, RetryPolicy
from sampleworld.fakes.base import App, FakeServer, Response
from warehouse.engine import raw_table
from warehouse.landing import land_pages
from warehouse.loader import REJECTS_TABLE, column_spec, connect, load

CORPUS = Path(__file__).resolve().parent / "fixtures" / "bad_input"
SOURCES = sorted(p.stem for p in CORPUS.glob("*.json"))

HUGE = "x" * (2 * 1024 * 1024)
UNICODE = "Lumora ✨👩🏽‍🔬 \u05e9\u05dc\u05d5\u05dd e\u0301\u0301 \ufeffBOM a\u0000b \U0001f600"
HOSTILE = "O'Brien\"; DROP TABLE raw._rejects; -- \\ \u0430dmin \uff07or\uff07 1=1 /* */"
SPECIAL = {"@huge": HUGE, "@unicode": UNICODE, "@hostile": HOSTILE}


def _set(record: dict, dotted: str, value) -> None:
    *parents, last = dotted.split(".")
    for p in parents:
        record = record.setdefault(p, {})
    record[last] = value


def _get(record, dotted: str):
    for p in dotted.split("."):
        if not isinstance(record, dict) or p not in record:
            return None
        record = record[p]
    return record


def _drop(record: dict, dotted: str) -> None:
    *parents, last = dotted.split(".")
    for p in parents:
        record = record[p]
    record.pop(last, None)


def build(spec: dict) -> list[dict]:
    """The corpus's records, in line order: each case is the good record with its changes; a
    case that does not touch the key field `vary` gets a key of its own, so cases do not meet
    (but a `copy_of` case repeats that case's key on purpose)."""
    records = []
    for i, case in enumerate(spec["cases"]):
        base = records[case["copy_of"]] if "copy_of" in case else spec["record"]
        r = copy.deepcopy(base)
        touched = {*case.get("set", {}), *case.get("drop", [])}
        if "copy_of" not in case and spec["vary"] not in touched:
            orig = _get(r, spec["vary"])
            _set(r, spec["vary"], [f"{orig[0]}-{i}"] if isinstance(orig, list) else f"{orig}-{i}")
        for path, value in case.get("set", {}).items():
            _set(r, path, SPECIAL.get(value, value) if isinstance(value, str) else value)
        for path in case.get("drop", []):
            _drop(r, path)
        records.append(r)
    return records


def stream_of(spec: dict):
    module = importlib.import_module(f"extractors.{spec['module']}")
    (stream,) = [s for s in module.STREAMS if s.name == spec["stream"]]
    return stream


def test_the_corpus_covers_every_source_and_every_kind_of_bad_input():
    clients = {
        m.stem
        for m in (Path(__file__).resolve().parent.parent / "extractors").glob("*.py")
        if getattr(importlib.import_module(f"extractors.{m.stem}"), "STREAMS", None)
    }
    assert set(SOURCES) == clients  # a new client needs its corpus
    kinds = (
        "key missing",
        "key null",
        "wrong type",
        "absurd value",
        "null in",
        "encodings",
        "huge string",
        "identical copy",
    )
    for source in SOURCES:
        spec = json.loads((CORPUS / f"{source}.json").read_text())
        names = " | ".join(c["case"] for c in spec["cases"])
        assert all(k in names for k in kinds), (source, [k for k in kinds if k not in names])
        if stream_of(spec).disposition == "replace_partition":
            assert "future date" in names, source
        # small files: the huge string is made at test time
        assert (CORPUS / f"{source}.json").stat().st_size < 16_000


@pytest.mark.parametrize("source", SOURCES)
def test_every_bad_record_is_rejected_with_its_reason_and_every_good_one_loaded(source, tmp_path):
    spec = json.loads((CORPUS / f"{source}.json").read_text())
    stream, records, cases = stream_of(spec), build(spec), spec["cases"]
    table = raw_table(stream)
    landed = land_pages(tmp_path / "landing", stream.source, stream.name, spec["partition"], [records])
    with connect(tmp_path / "w.duckdb") as con:
        result = load(con, table, landed)
        rejects = {
            line: (kind, reason, record)
            for line, kind, reason, record in con.execute(
                f"select line, kind, reason, record from {REJECTS_TABLE} order by line"
            ).fetchall()
        }
        raw = [json.loads(r) for (r,) in con.execute(f"select _record::varchar from {table.name}").fetchall()]
        # the huge, Unicode and hostile strings arrive in their typed column as sent, not only in
        # `_record` (a column read through a JSON path could be cut or re-escaped)
        intact = []
        for i, case in enumerate(cases):
            if "intact" in case:
                paths = (case["intact"], "$." + case["intact"])
                (col,) = [c for c, s in table.columns.items() if column_spec(c, s)[1] in paths]
                got = con.execute(f"select {col} from {table.name} where _line = ?", [i + 1]).fetchone()
                intact.append((case["case"], got == (_get(records[i], case["intact"]),)))
        again = load(
            con, table, land_pages(tmp_path / "landing", stream.source, stream.name, spec["partition"], [records])
        )

    want = {e: [i + 1 for i, c in enumerate(cases) if c["expect"] == e] for e in ("loaded", "rejected", "duplicate")}
    conflicts = [i + 1 for i, c in enumerate(cases) if c["expect"] == "conflict"]
    conflict_source = {cases[i - 1]["copy_of"] + 1 for i in conflicts}
    problems = []
    # every bad record at its line, with its reason (naming field and value) and the record itself
    for line in want["rejected"]:
        case = cases[line - 1]
        kind, reason, record = rejects.get(line, (None, "", None))
        if kind != "invalid" or case["reason"] not in reason:
            problems.append(
                f"line {line} {case['case']!r}: want rejected for {case['reason']!r}, got {kind} {reason!r}"
            )
        elif json.loads(record) != records[line - 1]:
            problems.append(f"line {line} {case['case']!r}: the rejects hold another record")
    # a key that came in two versions: every copy in the rejects as a conflict, the last one loaded
    for line in sorted(conflict_source | set(conflicts)):
        kind, reason, _ = rejects.get(line, (None, "", None))
        if kind != "conflict" or "versions with different values" not in reason:
            problems.append(f"line {line}: want a conflict, got {kind} {reason!r}")
    # every good record loaded, whole and intact (the huge string, every code point)
    # (a record whose key comes again later with other values is a conflict: its last copy is loaded)
    loaded_lines = [x for x in want["loaded"] if x not in conflict_source]
    loaded_lines += [i + 1 for i, c in enumerate(cases) if c.get("loaded")]
    for line in loaded_lines:
        case = cases[line - 1]
        if records[line - 1] not in raw:
            problems.append(f"line {line} {case['case']!r}: not loaded whole and unaltered")
        if line in rejects and line not in conflict_source | set(conflicts):
            problems.append(f"line {line} {case['case']!r}: loaded and rejected")
    # nothing rejected that should not be, nothing loaded twice or dropped
    unexpected = set(rejects) - set(want["rejected"]) - set(conflicts) - conflict_source
    problems += [f"line {x} {cases[x - 1]['case']!r} rejected: {rejects[x][1]!r}" for x in sorted(unexpected)]
    assert problems == [], "\n".join(problems)
    assert len(intact) == 3 and all(ok for _, ok in intact), intact

    n_conflict_keys = 1 if conflicts else 0
    assert result.reconciles(), result
    assert result.received == len(records)
    assert result.rejected == len(want["rejected"])
    assert result.duplicates == len(want["duplicate"])
    assert (result.conflicts, result.conflict_copies) == (n_conflict_keys, len(conflicts))
    assert result.loaded == len(loaded_lines) == result.rows_in_table
    # loading the same records again changes nothing and adds nothing (a record dated outside its
    # partition used to be inserted once more on every reload)
    assert again.reconciles() and (again.inserted, again.updated, again.deleted) == (0, 0, 0)
    assert again.rows_in_table == result.rows_in_table


# -- bodies the records cannot be read from -------------------------------------------------------


class Scripted(App):
    """Answers each request with the next scripted body (200, JSON); counts the requests."""

    name = "scripted"

    def __init__(self, *bodies: bytes):
        self.script, self.calls = list(bodies), 0

    def handle(self, req):
        self.calls += 1
        return Response(
            200, self.script.pop(0) if len(self.script) > 1 else self.script[0], {"Content-Type": "application/json"}
        )


def _core(url: str, sleeps: list) -> HttpCore:
    return HttpCore("testsrc", url, retry=RetryPolicy(max_attempts=3, backoff_initial_s=0), sleep=sleeps.append)


@pytest.mark.parametrize(
    "body,says",
    [
        (b'{"data": [{"id": "1", "text": "caf\xe9"}]}', r"not UTF-8.*b'\\xe9' at offset 34"),
        (b'{"data": [{"id": "1", "text": "x\\ud800y"}]}', r"unpaired UTF-16 surrogate in data\[0\]\.text"),
        (b'{"data": [{"id": "1", "reach": 1e400}]}', r"the number 1e400 \(beyond a double's range\)"),
    ],
)
def test_a_body_no_record_can_be_kept_from_fails_at_once_naming_what_and_where(body, says):
    """Not retried (asking again gives the same bytes), and never landed altered: before, the
    byte that is not UTF-8 was retried as a body "cut short in transit", the surrogate crashed
    the landing writer with a bare UnicodeEncodeError, and 1e400 landed as null."""
    sleeps: list = []
    with FakeServer(app := Scripted(body)) as srv:
        with pytest.raises(FatalError, match=r"\[testsrc\] HTTP 200: response body .*" + says) as exc:
            _core(srv.url, sleeps).get_json("x")
        assert f"{srv.url}/x" in str(exc.value)
    assert sleeps == [] and app.calls == 1


def test_a_body_cut_mid_character_is_still_retried_as_cut_short():
    body = '{"data": [{"id": "1", "text": "✨"}]}'.encode()
    sleeps: list = []
    with FakeServer(Scripted(body[:33], body)) as srv:
        assert _core(srv.url, sleeps).get_json("x") == {"data": [{"id": "1", "text": "✨"}]}
    assert len(sleeps) == 1
    with FakeServer(Scripted(body[:33])) as srv:
        with pytest.raises(RetryableError, match="cut short in transit"):
            _core(srv.url, []).get_json("x")
