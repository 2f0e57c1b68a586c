"""The sentiment step reads only what was loaded since its last run (warehouse/sentiment.py, marks).

- On raw tables stamped like the loader stamps them (`_loaded_at`: a row inserted or rewritten
  carries its load's time; a gone row is deleted), a random run of loads, edits, removals,
  repeated ids, blanked survey comments, rows deleted from the table by hand and rows stamped
  before the mark leaves the table exactly as a full check of every text does after each load,
  scoring exactly the same texts; and it did read only the new rows on most of them.
- A day's run does not run the full check; a run with nothing new writes nothing, marks included.
- The language model is cached uncompressed and classifies exactly as the wheel's; a
  damaged cache is read from the wheel instead.
- Small batches are written without pyarrow (whose first table imports pandas) and equal the
  Arrow path's rows.
"""

from __future__ import annotations

import random
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta

import duckdb
import pytest

import warehouse.sentiment as sentiment
from warehouse.sentiment import MARKS, TABLE, LanguageDetector, score_new_texts

TEXTS = [
    "I love this serum!",
    "Worst order ever, totally broken.",
    "Where is my parcel?",
    "Das ist wirklich schlecht, ich bin enttäuscht.",
    "",
    None,
    "Thanks!",
    "😡",
    "ok",
    "Great service, thank you so much 😍",
    "The cream burned my skin, awful product.",
    "Sehr gut!",
]
T0 = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector()


class Raw:
    """Three raw tables, written as the loader writes them: each load stamps its rows with one
    time; a rewritten row is deleted and inserted again with the new stamp."""

    def __init__(self, path):
        self.con = duckdb.connect(str(path))
        self.con.execute("create schema raw")
        self.con.execute("create table raw.facebook__comments (id varchar, message varchar, _loaded_at timestamptz)")
        # a mention is one row per query it matched: the same id in several rows
        self.con.execute(
            "create table raw.listening__mentions (query_id varchar, id varchar, text varchar, _loaded_at timestamptz)"
        )
        self.con.execute(
            "create table raw.survey__responses (token varchar, response_id varchar, csat_comment varchar, "
            "_loaded_at timestamptz)"
        )

    def load(self, table: str, key: dict, values: dict, stamp: datetime) -> None:
        where = " and ".join(f"{k} = ?" for k in key)
        self.con.execute(f"delete from raw.{table} where {where}", list(key.values()))
        cols = [*key, *values, "_loaded_at"]
        self.con.execute(
            f"insert into raw.{table} ({', '.join(cols)}) values ({', '.join('?' for _ in cols)})",
            [*key.values(), *values.values(), stamp],
        )

    def gone(self, table: str, key: dict) -> None:
        self.con.execute(f"delete from raw.{table} where {' and '.join(f'{k} = ?' for k in key)}", list(key.values()))


def _table(con) -> dict:
    rows = con.execute(f"""select text_source, text_id, text_sha256, language, sentiment_score, sentiment_label,
                                  scorer, scorer_version from {TABLE}""").fetchall()
    assert len(rows) == len({r[:2] for r in rows})  # one row a text
    return {r[:2]: r[2:] for r in rows}


def _raw_texts(con) -> set:
    out = set()
    for src in sentiment.TEXT_SOURCES:
        if sentiment._columns(con, src.table):
            out |= {
                (src.name, r[0]) for r in con.execute(f"select text_id from ({sentiment._texts_sql(src)})").fetchall()
            }
    return out


def _random_step(rng: random.Random, raws: list[Raw], step: int, state: dict) -> str:
    """One load (or a change by hand) applied alike to every warehouse of `raws`; its name."""
    stamp = T0 + timedelta(minutes=step)
    op = rng.choice(["new", "new", "rewrite", "edit", "gone", "second_query", "survey", "by_hand", "backdated"])
    ops = []
    if op in ("new", "backdated"):
        when = stamp if op == "new" else T0 - timedelta(minutes=1)  # a clock set back: older than any mark
        for _ in range(rng.randint(1, 4)):
            state["n"] += 1
            i = state["n"]
            ops.append(("facebook__comments", {"id": f"c{i}"}, {"message": rng.choice(TEXTS)}, when))
            ops.append(("listening__mentions", {"query_id": "q1", "id": f"m{i}"}, {"text": rng.choice(TEXTS)}, when))
            ops.append(
                (
                    "survey__responses",
                    {"token": f"t{i}"},
                    {"response_id": rng.choice([f"r{i}", "", None]), "csat_comment": rng.choice(TEXTS)},
                    when,
                )
            )
    elif op in ("rewrite", "edit", "gone", "second_query"):
        table, key, text = {
            "rewrite": ("facebook__comments", "id", "message"),
            "edit": ("facebook__comments", "id", "message"),
            "gone": (rng.choice(["facebook__comments", "listening__mentions"]), None, None),
            "second_query": ("listening__mentions", "id", "text"),
        }[op]
        con = raws[0].con
        if op == "gone":
            cols = "query_id, id" if table == "listening__mentions" else "id"
            rows = con.execute(f"select {cols} from raw.{table} order by all").fetchall()
            for row in rng.sample(rows, min(len(rows), rng.randint(1, 2))):
                keys = dict(zip(cols.split(", "), row, strict=True))
                for raw in raws:
                    raw.gone(table, keys)
            return op
        rows = con.execute(f"select {key}, {text} from raw.{table} order by all").fetchall()
        for rid, old in rng.sample(rows, min(len(rows), rng.randint(1, 3))):
            if op == "second_query":  # the same post matched by another query: same text, or not
                ops.append(
                    (table, {"query_id": "q2", "id": rid}, {"text": rng.choice([old, rng.choice(TEXTS)])}, stamp)
                )
            else:  # rewritten by the loader: same text (another column changed), or an edited one
                ops.append((table, {"id": rid}, {"message": old if op == "rewrite" else rng.choice(TEXTS)}, stamp))
    elif op == "survey":  # a comment blanked: the response is no longer a text
        rows = raws[0].con.execute("select token, response_id from raw.survey__responses order by all").fetchall()
        for token, rid in rng.sample(rows, min(len(rows), 2)):
            ops.append(("survey__responses", {"token": token}, {"response_id": rid, "csat_comment": "  "}, stamp))
    elif op == "by_hand":  # rows of the table deleted outside the step
        for raw in raws:
            raw.con.execute(f"delete from {TABLE} where text_id in (select text_id from {TABLE} order by all limit 2)")
    for raw in raws:
        for args in ops:
            raw.load(*args)
    return op


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_reading_the_new_rows_leaves_the_table_a_full_check_leaves(tmp_path, detector, seed):
    rng = random.Random(seed)
    marked, full = Raw(tmp_path / "marked.duckdb"), Raw(tmp_path / "full.duckdb")
    state = {"n": 0}
    checked = Counter()
    for step in range(40):
        op = _random_step(rng, [marked, full], step, state) if step else "first"
        a = score_new_texts(marked.con, detector=detector)
        b = score_new_texts(full.con, detector=detector, full=True)
        assert _table(marked.con) == _table(full.con), (seed, step, op)
        assert set(_table(marked.con)) == _raw_texts(marked.con), (seed, step, op)
        for name, res in b.sources.items():
            got = a.sources[name]
            assert (got.scored, got.removed, got.texts) == (res.scored, res.removed, res.texts), (seed, step, op, name)
        checked[a.sources["facebook__comments"].checked.split(" ", 1)[-1]] += 1
    # most steps read the new rows only; a row stamped before the mark (a clock set back) or
    # rows deleted from the table by hand make a full check (and nothing else did)
    assert checked["rows"] >= 20
    assert set(checked) <= {
        "rows",  # new rows
        "mark yet",  # no mark yet: the first run, and while the table is empty
        "rows stamped at or before the mark appeared",
        "table's rows are not the ones the mark counted",
    }, checked


def test_a_day_does_not_check_every_text(tmp_path, detector, monkeypatch):
    raw = Raw(tmp_path / "w.duckdb")
    for i in range(5):
        raw.load("facebook__comments", {"id": f"c{i}"}, {"message": TEXTS[i]}, T0)
    first = score_new_texts(raw.con, detector=detector)
    assert first.sources["facebook__comments"].checked == "no mark yet"
    full_checks = []
    real = sentiment._counts
    monkeypatch.setattr(sentiment, "_counts", lambda *a: (full_checks.append(a[1].name), real(*a))[1])
    raw.load("facebook__comments", {"id": "c9"}, {"message": "I love this serum!"}, T0 + timedelta(days=1))
    raw.load("facebook__comments", {"id": "c1"}, {"message": "I hate this serum, it is awful."}, T0 + timedelta(days=1))
    day = score_new_texts(raw.con, detector=detector)
    # (the empty tables have no mark: checked whole, which costs nothing)
    assert "facebook__comments" not in full_checks and day.sources["facebook__comments"].scored == 2
    assert day.sources["facebook__comments"].checked == "new rows"
    assert day.sources["facebook__comments"].texts == 6
    assert _table(raw.con)[("facebook__comments", "c1")][3] == "negative"
    assert raw.con.execute(f"select loaded_through from {MARKS}").fetchall() == [(T0 + timedelta(days=1),)]


def test_a_run_with_nothing_new_writes_nothing(tmp_path, detector, monkeypatch):
    raw = Raw(tmp_path / "w.duckdb")
    for i in range(5):
        raw.load("facebook__comments", {"id": f"c{i}"}, {"message": TEXTS[i]}, T0)
        raw.load("survey__responses", {"token": f"t{i}"}, {"response_id": f"r{i}", "csat_comment": TEXTS[i]}, T0)
    score_new_texts(raw.con, detector=detector)
    before = _table(raw.con), raw.con.execute(f"select * from {MARKS} order by all").fetchall()
    writes = []
    for name in ("_write", "_write_mark"):
        monkeypatch.setattr(sentiment, name, lambda *a, name=name: writes.append(name))
    again = score_new_texts(raw.con, detector=detector)
    assert again.scored == 0 and writes == []
    assert (_table(raw.con), raw.con.execute(f"select * from {MARKS} order by all").fetchall()) == before


def test_the_language_model_is_cached_uncompressed(tmp_path, monkeypatch):
    from py3langid.langid import LanguageIdentifier

    texts = [t for t in TEXTS if t] + ["Je suis très content du service, merci beaucoup.", "Muy mal servicio", "🙂 ok"]
    wheel = LanguageDetector()
    first = LanguageDetector(cache_dir=tmp_path / "cache")
    assert [first.classify(t) for t in texts] == [wheel.classify(t) for t in texts]
    [cached] = (tmp_path / "cache").iterdir()
    # the next one reads the cache, not the wheel's compressed model, and answers the same
    monkeypatch.setattr(LanguageIdentifier, "from_model_file", None)
    second = LanguageDetector(cache_dir=tmp_path / "cache")
    assert [second.classify(t) for t in texts] == [wheel.classify(t) for t in texts]
    monkeypatch.undo()
    # a damaged cache: the wheel's model is read (and the cache written again)
    cached.write_bytes(cached.read_bytes()[:1000])
    third = LanguageDetector(cache_dir=tmp_path / "cache")
    assert [third.classify(t) for t in texts] == [wheel.classify(t) for t in texts]
    assert cached.stat().st_size > 1000
    # another set of languages is another file
    LanguageDetector(("en", "de"), cache_dir=tmp_path / "cache").classify("hello")
    assert len(list((tmp_path / "cache").iterdir())) == 2


def test_small_batches_are_written_without_pyarrow_and_equal_the_arrow_path(tmp_path, detector, monkeypatch):
    tables = []
    for small in (0, 20_000):
        monkeypatch.setattr(sentiment, "SMALL_WRITE", small)
        raw = Raw(tmp_path / f"w{small}.duckdb")
        for i, text in enumerate(TEXTS):
            raw.load("facebook__comments", {"id": f"c{i}"}, {"message": text}, T0)
        score_new_texts(raw.con, detector=detector)
        tables.append(
            raw.con.execute(f"select * exclude (scored_at), typeof(scored_at) from {TABLE} order by all").fetchall()
        )
        raw.con.close()
    assert tables[0] == tables[1] and len(tables[0]) == len(TEXTS)
    # a daily run in a process of its own does not import pandas (0.4 s) to write a few rows
    code = (
        "import sys, duckdb\n"
        "from warehouse.sentiment import score_new_texts\n"
        f"con = duckdb.connect({str(tmp_path / 'w0.duckdb')!r})\n"
        "con.execute(\"insert into raw.facebook__comments values ('c99', 'I love it', now())\")\n"
        "assert score_new_texts(con).scored == 1\n"
        "sys.exit('pandas imported' if 'pandas' in sys.modules else 0)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("small", [0, 20_000])
def test_a_batch_holding_a_text_twice_is_refused_and_nothing_written(tmp_path, small, monkeypatch):
    """The table's key is held by its writer (dbt tests no longer group the whole table): a
    batch with a key twice fails naming it, on both write paths, and leaves the table as it was."""
    monkeypatch.setattr(sentiment, "SMALL_WRITE", small)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute(sentiment.DDL)
    now = datetime(2026, 6, 1, 12)
    row = lambda text_id, score: {  # noqa: E731
        "text_source": "facebook__comments", "text_id": text_id, "text_sha256": None, "language": "en",
        "sentiment_score": score, "sentiment_label": "positive", "scorer": "vader", "scorer_version": "1",
        "scored_at": now,
    }  # fmt: skip
    batch = lambda *rs: {c: [r[c] for r in rs] for c in sentiment.COLUMNS.names}  # noqa: E731
    sentiment._write(con, batch(row("a", 0.5), row("b", 0.6)))
    with pytest.raises(sentiment.DuplicateTextError, match=r"facebook__comments/b \(2 rows\)"):
        sentiment._write(con, batch(row("b", 0.1), row("c", 0.2), row("b", 0.3)))
    assert con.execute(f"select text_id, sentiment_score from {TABLE} order by 1").fetchall() == [
        ("a", 0.5),
        ("b", 0.6),
    ]
    # a batch of distinct keys replaces the stored rows of its keys: still one row each
    sentiment._write(con, batch(row("b", 0.7), row("c", 0.2)))
    assert con.execute(f"select text_id, sentiment_score from {TABLE} order by 1").fetchall() == [
        ("a", 0.5),
        ("b", 0.7),
        ("c", 0.2),
    ]
