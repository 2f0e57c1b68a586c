"""The sentiment step (warehouse/sentiment.py) and its Dagster asset.

- The scorer on labelled examples: English positives, negatives and neutrals; German and
  Persian texts come back with their language and no score (VADER alone says 0.0: a false
  neutral); empty text and short texts by the documented rule.
- Incremental scoring on a small warehouse of its own: a second call scores nothing, an edited
  text and a new scorer version are scored again, a text gone from raw leaves the table, bad
  input is logged and stored with a null score.
- In the session warehouse (`materialized`), the asset scored every text of raw with the
  scorer's name and version on each row, and dbt reads the table under the asset's key.
"""

from __future__ import annotations

import logging
import subprocess
import sys

import duckdb
import pytest
from conftest import TEST_SPEC

from warehouse.loader import connect
from warehouse.sentiment import (
    MIN_LETTERS,
    NEGATIVE_THRESHOLD,
    POSITIVE_THRESHOLD,
    TABLE,
    TEXT_SOURCES,
    BadText,
    LanguageDetector,
    Scorer,
    VaderScorer,
    analyse,
    label_of,
    score_new_texts,
)


@pytest.fixture(scope="module")
def scorer() -> VaderScorer:
    return VaderScorer()


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector()


POSITIVE = [
    "I love this serum, it works wonders!",
    "Great service, thank you so much 😍",
    "Absolutely amazing quality, best purchase this year.",
    "Holy grail product for me ❤️",
]
NEGATIVE = [
    "This is the worst purchase I have ever made.",
    "Terrible support, I am very disappointed.",
    "The cream burned my skin, awful product.",
]
NEUTRAL = [
    "The parcel arrived on Tuesday.",
    "Where can I buy the Night Cream in Austria?",
    "I ordered the Glow Serum last week.",
]


@pytest.mark.parametrize(
    "text,label",
    [*((t, "positive") for t in POSITIVE), *((t, "negative") for t in NEGATIVE), *((t, "neutral") for t in NEUTRAL)],
)
def test_english_texts_get_vaders_label(text, label, scorer, detector):
    result = analyse(text, scorer, detector)
    assert (result.language, result.label) == ("en", label), result
    assert -1 <= result.score <= 1 and label_of(result.score) == label


def test_labels_follow_vaders_thresholds():
    assert (POSITIVE_THRESHOLD, NEGATIVE_THRESHOLD) == (0.05, -0.05)
    assert [label_of(s) for s in (0.05, 0.0499, 0.0, -0.0499, -0.05, None)] == [
        "positive",
        "neutral",
        "neutral",
        "neutral",
        "negative",
        None,
    ]


@pytest.mark.parametrize(
    "text,language",
    [
        ("Das Produkt ist wirklich schlecht, ich bin sehr enttäuscht.", "de"),
        ("Dieses Produkt ist großartig, ich liebe es!", "de"),
        ("این محصول واقعا عالی است و من خیلی راضی هستم", "fa"),
        ("C'est vraiment nul, je suis très déçue.", "fr"),
    ],
)
def test_a_language_the_scorer_does_not_read_gets_its_language_and_no_score(text, language, scorer, detector):
    assert scorer.score(text) == 0.0  # what VADER alone would store: a false neutral
    result = analyse(text, scorer, detector)
    assert (result.language, result.score, result.label) == (language, None, None)


@pytest.mark.parametrize("text", [None, "", "   \n"])
def test_empty_text_has_no_language_and_no_score(text, scorer, detector):
    result = analyse(text, scorer, detector)
    assert (result.language, result.score, result.label) == (None, None, None)


def test_a_non_string_is_refused_by_name(scorer, detector):
    with pytest.raises(BadText, match="expected a string, got int"):
        analyse(42, scorer, detector)


@pytest.mark.parametrize(
    "text,language,label",
    [
        # py3langid is unsure of these (normalised probability < 0.5; unrestricted it calls "ok"
        # Afrikaans): read as English because VADER knows one of their words.
        ("ok", "en", "positive"),
        ("Nice", "en", "positive"),
        ("Thanks, Tim!", "en", "positive"),
        # ... and of these, whose words VADER does not know: unknown language, no score.
        ("Danke!", None, None),
        ("Noted.", None, None),
        ("First!", None, None),
        # sure enough of these short texts: their language, and no score for German or French.
        ("Sehr gut!", "de", None),
        ("Merci beaucoup", "fr", None),
        ("Okay, thanks.", "en", "positive"),
        # no letters: no language; scored when VADER reads the emoji.
        ("😍", None, "positive"),
        ("😞", None, "negative"),
        ("👀", None, "neutral"),
        ("...", None, None),
        # handles, tags and numbers are not language: this is a short text
        ("@lumora #LM-485578 ok", "en", "positive"),
    ],
)
def test_short_texts_follow_the_documented_rule(text, language, label, scorer, detector):
    result = analyse(text, scorer, detector)
    assert (result.language, result.label) == (language, label), result
    assert (result.score is None) == (label is None)


def test_a_long_text_takes_the_detected_language_even_when_unsure(scorer, detector):
    text = "Is the Vitamin C Serum vegan?"  # py3langid: en, but at 0.18 (product names)
    assert len([c for c in text if c.isalpha()]) >= MIN_LETTERS
    assert detector.classify(text)[1] < 0.5
    assert analyse(text, scorer, detector).language == "en"


def test_vader_satisfies_the_scorer_interface(scorer):
    assert isinstance(scorer, Scorer)
    assert (scorer.name, scorer.languages) == ("vader", ("en",))
    from importlib.metadata import version

    assert scorer.version == version("vaderSentiment") == "3.3.2"


def test_the_step_imports_no_dagster_and_reaches_no_network():
    """Lexicons and the language model come from the wheels: scoring runs with every socket
    call refused (the session's network audit also watches this process)."""
    code = (
        "import socket, sys\n"
        "def refuse(*a, **k): raise OSError('network')\n"
        "socket.socket.connect = refuse; socket.create_connection = refuse; socket.getaddrinfo = refuse\n"
        "from warehouse.sentiment import VaderScorer, LanguageDetector, analyse\n"
        "r = analyse('I love it, thank you!', VaderScorer(), LanguageDetector())\n"
        "assert r.label == 'positive', r\n"
        "sys.exit('dagster imported' if any(m.startswith('dagster') for m in sys.modules) else 0)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- the warehouse step ------------------------------------------------------------------------


class NextVader(VaderScorer):
    """VADER under another version label: what an upgrade of the scorer looks like to the step."""

    def __init__(self):
        super().__init__()
        self.version = "99.0"


def _raw_warehouse(path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    con.execute("create schema raw")
    con.execute("create table raw.facebook__comments (id varchar, message varchar)")
    con.execute("""insert into raw.facebook__comments values
        ('c1', 'I love this serum!'), ('c2', 'Worst order ever, totally broken.'), ('c3', 'Where is my parcel?'),
        ('c4', 'Das ist wirklich schlecht, ich bin enttäuscht.'), ('c5', ''), ('c6', 'I love this serum!')""")
    con.execute("create table raw.survey__responses (token varchar, response_id varchar, csat_comment varchar)")
    con.execute("""insert into raw.survey__responses values
        ('t1', 'r1', 'Friendly and helpful.'), ('t2', '', 'Took days to get an answer, awful.'),
        ('t3', 'r3', null), ('t4', 'r4', '  ')""")
    return con


def _stored(con) -> dict[tuple[str, str], tuple]:
    rows = con.execute(f"""select text_source, text_id, language, sentiment_score, sentiment_label, scorer,
                                  scorer_version, text_sha256 from {TABLE}""").fetchall()
    return {(r[0], r[1]): r[2:] for r in rows}


def test_scoring_is_incremental(tmp_path):
    con = _raw_warehouse(tmp_path / "w.duckdb")
    first = score_new_texts(con)
    stored = _stored(con)
    # survey: keyed as stg_survey__responses keys it (response_id, else the token); responses
    # without a comment are not texts
    assert set(stored) == {("facebook__comments", f"c{i}") for i in range(1, 7)} | {
        ("survey__responses", "r1"),
        ("survey__responses", "t2"),
    }
    assert first.sources["facebook__comments"].scored == 6 and first.sources["survey__responses"].scored == 2
    assert stored[("facebook__comments", "c1")][:3] == ("en", stored[("facebook__comments", "c1")][1], "positive")
    assert stored[("facebook__comments", "c2")][2] == "negative"
    assert stored[("facebook__comments", "c3")][2] == "neutral"
    assert stored[("facebook__comments", "c4")][:3] == ("de", None, None)
    assert stored[("facebook__comments", "c5")][:3] == (None, None, None)
    assert stored[("survey__responses", "t2")][2] == "negative"
    assert {v[3:5] for v in stored.values()} == {("vader", "3.3.2")}

    again = score_new_texts(con)
    assert again.scored == 0 and _stored(con) == stored

    con.execute("update raw.facebook__comments set message = 'I hate this serum, it is awful.' where id = 'c1'")
    con.execute("delete from raw.facebook__comments where id = 'c6'")
    edited = score_new_texts(con)
    assert edited.sources["facebook__comments"].scored == 1 and edited.sources["survey__responses"].scored == 0
    assert edited.sources["facebook__comments"].removed == 1
    after = _stored(con)
    assert after[("facebook__comments", "c1")][2] == "negative"
    assert after[("facebook__comments", "c1")][5] != stored[("facebook__comments", "c1")][5]  # its hash
    assert ("facebook__comments", "c6") not in after
    assert {k: v for k, v in after.items() if k[1] != "c1"} == {
        k: v for k, v in stored.items() if k[1] not in ("c1", "c6")
    }

    upgraded = score_new_texts(con, scorer=NextVader())
    assert upgraded.scored == len(after) == con.execute(f"select count(*) from {TABLE}").fetchone()[0]
    assert {v[3:5] for v in _stored(con).values()} == {("vader", "99.0")}


def test_texts_are_read_scored_and_written_in_batches(tmp_path, monkeypatch):
    """Batches of 2 rows and a cache of 1 text: the same rows as one pass, and never more than
    a batch of scored rows held before they are written (memory stays flat at any scale)."""
    import warehouse.sentiment as sentiment

    whole = _raw_warehouse(tmp_path / "one.duckdb")
    score_new_texts(whole)
    expected = _stored(whole)
    batched = _raw_warehouse(tmp_path / "batched.duckdb")
    writes = []
    real_write = sentiment._write
    monkeypatch.setattr(sentiment, "BATCH", 2)
    monkeypatch.setattr(sentiment, "CACHE_SIZE", 1)
    monkeypatch.setattr(
        sentiment, "_write", lambda con, rows: (writes.append(len(rows["text_id"])), real_write(con, rows))
    )
    result = score_new_texts(batched)
    assert _stored(batched) == expected and result.scored == len(expected)
    assert max(writes) <= 2 and sum(writes) == len(expected)


def test_the_table_is_created_when_there_is_nothing_to_score(tmp_path):
    con = duckdb.connect(str(tmp_path / "empty.duckdb"))
    result = score_new_texts(con)
    assert result.scored == 0 and result.skipped == [s.name for s in TEXT_SOURCES]
    assert con.execute(f"select count(*) from {TABLE}").fetchone()[0] == 0
    cols = [r[0] for r in con.execute(f"describe {TABLE}").fetchall()]
    assert cols == [
        "text_source",
        "text_id",
        "text_sha256",
        "language",
        "sentiment_score",
        "sentiment_label",
        "scorer",
        "scorer_version",
        "scored_at",
    ]


def test_bad_input_is_logged_and_stored_without_a_score(tmp_path, caplog):
    con = duckdb.connect(str(tmp_path / "bad.duckdb"))
    con.execute("create schema raw")
    # a text column that is not text (an API that sent numbers, a schema drift)
    con.execute("create table raw.x__mentions (id varchar, text integer)")
    con.execute("insert into raw.x__mentions values ('m1', 7), ('m2', null)")
    with caplog.at_level(logging.WARNING):
        result = score_new_texts(con)
    assert result.sources["x__mentions"].bad == 1 and result.sources["x__mentions"].scored == 2
    assert "x__mentions m1 not scored (expected a string, got int)" in caplog.text
    assert _stored(con)[("x__mentions", "m1")][:3] == (None, None, None)


# -- in the session warehouse --------------------------------------------------------------------


@pytest.mark.slow
def test_the_asset_scored_every_text_with_the_scorers_name_and_version(materialized):
    from dagster import AssetKey

    with connect(materialized["warehouse"], read_only=True) as con:
        for src in TEXT_SOURCES:
            texts = con.execute(
                f"select count(distinct {src.id_sql}) from {src.table} where {src.where_sql}"
            ).fetchone()[0]
            rows = con.execute(
                f"select count(*), count(distinct text_id) from {TABLE} where text_source = ?", [src.name]
            ).fetchone()
            assert texts > 0 and rows == (texts, texts), src.name
        assert con.execute(f"select distinct scorer, scorer_version from {TABLE}").fetchall() == [("vader", "3.3.2")]
        # and dbt read it: every text of int_texts_scored has its score row
        assert con.execute("select count(*) from intermediate.int_texts_scored where scorer is null").fetchone()[0] == 0
    # one materialization per day of the run (a single-run backfill of daily partitions)
    events = [
        e
        for e in materialized["result"].get_asset_materialization_events()
        if e.asset_key == AssetKey(["enrichment", "text_sentiment"])
    ]
    assert len(events) == (TEST_SPEC.end - TEST_SPEC.start).days + 1
    for event in events:
        metadata = event.step_materialization_data.materialization.metadata
        assert metadata["scorer"].value == "vader" and metadata["scorer_version"].value == "3.3.2"


def test_dbt_reads_the_table_under_the_key_of_the_asset_that_writes_it():
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string(): k for k in graph.get_all_asset_keys()}
    assert not [k for k in keys if k.startswith("raw/enrichment")]
    stg = graph.get(keys["staging/stg_enrichment__text_sentiments"])
    assert {p.to_user_string() for p in stg.parent_keys} == {"enrichment/text_sentiment"}
    asset = graph.get(keys["enrichment/text_sentiment"])
    assert {p.to_user_string() for p in asset.parent_keys} == {
        f"raw/{s.name.replace('__', '/', 1)}" for s in TEXT_SOURCES
    }
    assert asset.partitions_def == graph.get(keys["marts/fct_sentiment_daily"]).partitions_def
    main = defs.resolve_job_def("main")
    assert keys["enrichment/text_sentiment"] in main.asset_layer.asset_graph.get_all_asset_keys()


def test_the_daily_transform_scores_new_texts_before_the_models():
    """The `transform` schedule rebuilds the models after the sources' daily loads: it must
    score what those loads brought, or the day's texts would show as unscored."""
    from dagster import AssetKey

    from orchestration.definitions import defs

    transform = defs.resolve_job_def("transform")
    selected = transform.asset_layer.asset_graph.get_all_asset_keys()
    executable = {k for k in selected if transform.asset_layer.asset_graph.get(k).is_executable}
    assert AssetKey(["enrichment", "text_sentiment"]) in executable
    assert AssetKey(["marts", "fct_sentiment_daily"]) in executable
    assert not [k for k in executable if k.path[0] == "raw"]
