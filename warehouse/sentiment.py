"""Sentiment of the warehouse's free texts: every comment, direct message, mention and survey
comment in raw gets a score in [-1, 1] and a label, written to `enrichment.text_sentiment`
(one row per text source and text id; no text, no author). dbt reads it as the source
`enrichment.text_sentiment`. No Dagster here: orchestration/assets/enrichment.py calls
`score_new_texts`, and `python -m warehouse.sentiment` does the same from a shell.

Everything runs offline: VADER (vaderSentiment) ships its lexicons in its wheel, py3langid its
language-identification model (NLTK's copy of VADER downloads its lexicon at run time).

The scorer is behind a small interface (`Scorer`), so another can replace VADER: rows carry the
scorer's name and version, and a text is scored again when its text or the scorer changes.

Language first. VADER reads English only: a German sentence comes out 0.0, which would count
as neutral. So the language is identified first and a text in a language the scorer does not
read gets a null score and label (and its language), never a false 0. The rule
(`language_of`):
- handles, hashtags, links and digits are not language: they are removed before identification;
- py3langid is restricted to `CANDIDATE_LANGUAGES` (ISO 639-1 codes of widely written
  languages): unrestricted, its 140 labels include ISO 639-3 ones (`ext`, `bcl`, `pcm`) and it
  calls short English texts Latvian or Tagalog;
- a text of `MIN_LETTERS` letters or more takes py3langid's answer;
- a shorter text takes it only when py3langid is sure (normalised probability at least
  `SHORT_TEXT_MIN_CONFIDENCE`): on "ok", "Nice" or "Thanks, Tim!" it is not (measured on the
  sample world: 0.04-0.4), and on "Sehr gut!" or "Okay, thanks." it is (0.85, 0.99);
- otherwise a short text is read as the scorer's language when the scorer knows one of its words
  ("ok", "nice", "thanks" are in VADER's lexicon: VADER has something to score), and its
  language is unknown (null, no score) when it knows none ("Danke!", "Noted.");
- a text without letters (emoji only) has no language; it is scored when the scorer reads one
  of its symbols (VADER reads emoji by their English description: "😡" is negative).
"""

from __future__ import annotations

import argparse
import logging
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from importlib.metadata import version as installed_version
from typing import Protocol, runtime_checkable

import duckdb
import pyarrow as pa

LOG = logging.getLogger(__name__)

SCHEMA = "enrichment"
TABLE = f"{SCHEMA}.text_sentiment"

# Texts are read, scored and written BATCH at a time, and at most CACHE_SIZE distinct texts
# keep their score for the rest of the run: memory stays flat however many texts a run scores
# (a year at SF10 is 7.4 million; read whole, the step's peak was 4.9 GiB).
BATCH = 100_000
PART = 500_000
CACHE_SIZE = 200_000

# VADER's documented thresholds on the compound score (vaderSentiment README, "About the
# Scoring"): positive >= 0.05, negative <= -0.05, neutral in between.
POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05

# Language identification (see the module docstring for the rule).
CANDIDATE_LANGUAGES = (
    "en",
    "de",
    "fr",
    "es",
    "it",
    "pt",
    "nl",
    "pl",
    "sv",
    "da",
    "no",
    "fi",
    "cs",
    "sk",
    "hu",
    "ro",
    "el",
    "bg",
    "ru",
    "uk",
    "tr",
    "ar",
    "fa",
    "he",
    "hi",
    "ur",
    "zh",
    "ja",
    "ko",
    "id",
    "ms",
    "vi",
    "th",
)
MIN_LETTERS = 15
SHORT_TEXT_MIN_CONFIDENCE = 0.5
# Not language: links, @handles, #hashtags (brand and product names, order numbers) and digits.
_NOT_LANGUAGE = re.compile(r"https?://\S+|www\.\S+|[@#][\w.\-]+|\d+")
_WORD = re.compile(r"[^\W\d_]+")
_EMOJI_PRESENTATION = "\ufe0f"


@runtime_checkable
class Scorer(Protocol):
    """A sentiment scorer: what `score_new_texts` needs of one."""

    name: str
    version: str
    # ISO 639-1 codes of the languages it reads; the first is the one a short text of unsure
    # language is read as when the scorer knows one of its words.
    languages: tuple[str, ...]

    def score(self, text: str) -> float:
        """The text's sentiment in [-1, 1]."""

    def recognises(self, token: str) -> bool:
        """Whether the scorer has a value for this word (lower case) or symbol (an emoji)."""


class VaderScorer:
    """VADER (Hutto & Gilbert 2014), a lexicon and rules tuned for social media text: the
    compound score, normalised to [-1, 1]. English only."""

    name = "vader"
    languages = ("en",)

    def __init__(self):
        self.version = installed_version("vaderSentiment")

    @cached_property
    def _analyzer(self):
        # Loaded on first use (~0.3 s): a run with nothing new to score never reads the lexicons.
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        return SentimentIntensityAnalyzer()

    def score(self, text: str) -> float:
        # VADER's emoji lexicon holds the text-style code points: "❤️" (with the emoji variation
        # selector U+FE0F, as phones send it) would score 0.0 where "❤" scores 0.64.
        return float(self._analyzer.polarity_scores(text.replace(_EMOJI_PRESENTATION, ""))["compound"])

    def recognises(self, token: str) -> bool:
        return token in self._analyzer.lexicon or token in self._analyzer.emojis


class LanguageDetector:
    """py3langid with normalised probabilities, restricted to `languages`."""

    def __init__(self, languages: tuple[str, ...] = CANDIDATE_LANGUAGES):
        self.languages = languages
        self.version = installed_version("py3langid")

    @cached_property
    def _identifier(self):
        # Loaded on first use (~1 s: the model is decompressed), like the scorer's lexicons.
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        identifier.set_languages(list(self.languages))
        return identifier

    def classify(self, text: str) -> tuple[str, float]:
        language, confidence = self._identifier.classify(text)
        return language, float(confidence)


def label_of(score: float | None) -> str | None:
    if score is None:
        return None
    if score >= POSITIVE_THRESHOLD:
        return "positive"
    if score <= NEGATIVE_THRESHOLD:
        return "negative"
    return "neutral"


def language_of(text: str, scorer: Scorer, detector: LanguageDetector) -> str | None:
    """The text's ISO 639-1 language by the rule of the module docstring; None when unknown."""
    cleaned = _NOT_LANGUAGE.sub(" ", text)
    words = _WORD.findall(cleaned)
    letters = sum(len(w) for w in words)
    if letters == 0:
        return None
    language, confidence = detector.classify(cleaned)
    if letters >= MIN_LETTERS or confidence >= SHORT_TEXT_MIN_CONFIDENCE:
        return language
    if any(scorer.recognises(w.lower()) for w in words):
        return scorer.languages[0]
    return None


@dataclass(frozen=True)
class Sentiment:
    language: str | None
    score: float | None
    label: str | None


NO_SENTIMENT = Sentiment(None, None, None)


class BadText(ValueError):
    """A text that is not a string (the step logs it and stores a null score)."""


def analyse(text, scorer: Scorer, detector: LanguageDetector) -> Sentiment:
    """Language, score and label of one text. Empty text: all null. A language the scorer does
    not read: the language, a null score and label. Raises BadText for a non-string."""
    if text is None:
        return NO_SENTIMENT
    if not isinstance(text, str):
        raise BadText(f"expected a string, got {type(text).__name__}")
    if not text.strip():
        return NO_SENTIMENT
    language = language_of(text, scorer, detector)
    if language is None:
        readable = not _WORD.search(_NOT_LANGUAGE.sub(" ", text)) and any(scorer.recognises(ch) for ch in text)
    else:
        readable = language in scorer.languages
    if not readable:
        return Sentiment(language, None, None)
    score = max(-1.0, min(1.0, scorer.score(text)))
    return Sentiment(language, score, label_of(score))


# -- the warehouse step ------------------------------------------------------------------------


@dataclass(frozen=True)
class TextSource:
    """A raw table holding texts: its id expression (the id its staging model keys on) and text
    column, and which of its rows are texts."""

    name: str  # the raw table without its schema; `text_source` in the rows
    id_sql: str
    text_sql: str
    where_sql: str = "true"

    @property
    def table(self) -> str:
        return f"raw.{self.name}"


TEXT_SOURCES = (
    TextSource("facebook__comments", "id", "message"),
    TextSource("facebook__messages", "id", "message"),
    TextSource("instagram__messages", "id", "message"),
    # A post found by two queries is one row per query in raw, with the same id and text.
    TextSource("listening__mentions", "id", "text"),
    TextSource("x__mentions", "id", "text"),
    # stg_survey__responses keys on this id; a response without a comment is not a text.
    TextSource(
        "survey__responses",
        "coalesce(nullif(trim(response_id), ''), token)",
        "csat_comment",
        "nullif(trim(csat_comment), '') is not null",
    ),
)

COLUMNS = pa.schema(
    [
        ("text_source", pa.string()),
        ("text_id", pa.string()),
        ("text_sha256", pa.string()),
        ("language", pa.string()),
        ("sentiment_score", pa.float64()),
        ("sentiment_label", pa.string()),
        ("scorer", pa.string()),
        ("scorer_version", pa.string()),
        ("scored_at", pa.timestamp("us")),
    ]
)

DDL = f"""
create schema if not exists {SCHEMA};
create table if not exists {TABLE} (
    text_source varchar not null,
    text_id varchar not null,
    text_sha256 varchar,
    language varchar,
    sentiment_score double,
    sentiment_label varchar,
    scorer varchar not null,
    scorer_version varchar not null,
    scored_at timestamp not null
)"""


@dataclass
class SourceResult:
    texts: int = 0  # texts in raw
    scored: int = 0  # scored in this call (new, edited, or scored by another scorer)
    unscored: int = 0  # of those, with a null score (empty, unsupported or unknown language)
    bad: int = 0  # of those, not a string or the scorer failed on them
    removed: int = 0  # rows of texts no longer in raw
    languages: Counter = field(default_factory=Counter)


@dataclass
class ScoringResult:
    scorer: str
    scorer_version: str
    sources: dict[str, SourceResult]
    skipped: list[str]  # sources whose raw table is not in the warehouse
    seconds: float

    @property
    def scored(self) -> int:
        return sum(s.scored for s in self.sources.values())

    @property
    def rows(self) -> int:
        return sum(s.texts for s in self.sources.values())

    def as_metadata(self) -> dict:
        out = {
            "scorer": self.scorer,
            "scorer_version": self.scorer_version,
            "texts": self.rows,
            "scored": self.scored,
            "seconds": round(self.seconds, 2),
        }
        for name, s in self.sources.items():
            out[f"scored_{name}"] = s.scored
        if self.skipped:
            out["sources_missing"] = ", ".join(self.skipped)
        return out


def _value(con: duckdb.DuckDBPyConnection, sql: str, params=None):
    """The one value a statement returns (fetched to the end: DuckDB keeps a result open until
    then, and refuses to register a frame beside it)."""
    return con.execute(sql, params).fetchall()[0][0]


def _table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    schema, name = table.split(".")
    return (
        _value(
            con,
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, name],
        )
        > 0
    )


def _texts_sql(src: TextSource) -> str:
    # One text per id (min: deterministic if two rows of an id ever disagreed).
    return f"""select cast({src.id_sql} as varchar) as text_id, min({src.text_sql}) as text
               from {src.table} where {src.id_sql} is not null and ({src.where_sql}) group by 1"""


def _needs_scoring() -> str:
    """SQL true for a text not scored yet, or whose text or scorer changed since."""
    return """(stored.text_id is null
               or stored.text_sha256 is distinct from sha256(cast(texts.text as varchar))
               or stored.scorer <> ? or stored.scorer_version <> ?)"""


def _counts(con, src: TextSource, scorer: Scorer) -> tuple[int, int]:
    """(texts, texts to score) of a source, in one pass. The parts `_to_score` reads are sized
    by the second: a daily run with a few new texts reads them in one query instead of
    scanning every text once per part (at SF10, 12 scans of 5.7 M mentions: 58 s a day)."""
    return tuple(
        con.execute(
            f"""
            with texts as ({_texts_sql(src)})
            select count(*), count(*) filter (where {_needs_scoring()})
            from texts left join {TABLE} as stored on stored.text_source = ? and stored.text_id = texts.text_id""",
            [scorer.name, scorer.version, src.name],
        ).fetchall()[0]
    )


def _to_score(con, src: TextSource, scorer: Scorer, texts: int) -> Iterator[list[tuple]]:
    """(text_id, text, sha256) of the source's texts not scored yet, or whose text or scorer
    changed since: anti-joined on what is stored, in batches of at most BATCH rows. DuckDB
    holds a query's whole result until it is read, so the texts are split by a hash of their id
    into parts of about PART texts (`texts` of them to score in all), one query each: at SF10 a year of
    mentions is millions of texts, never all in memory at once. Read on a cursor of its own
    (DuckDB: its own connection and snapshot), so the caller's writes in between neither
    disturb it nor are seen by it."""
    parts = max(1, -(-texts // PART))
    cur = con.cursor()
    try:
        for part in range(parts):
            cur.execute(
                f"""
                with texts as ({_texts_sql(src)})
                select texts.text_id, texts.text, sha256(cast(texts.text as varchar)) as text_sha256
                from texts
                left join {TABLE} as stored
                    on stored.text_source = ? and stored.text_id = texts.text_id
                where hash(texts.text_id) % ? = ? and {_needs_scoring()}
            """,
                [src.name, parts, part, scorer.name, scorer.version],
            )
            while batch := cur.fetchmany(BATCH):
                yield batch
    finally:
        cur.close()


def _write(con, rows: dict[str, list]) -> None:
    """Upsert the scored rows gathered so far into the table (by text_source and text_id), then
    empty `rows`."""
    frame = pa.Table.from_pydict(rows, schema=COLUMNS)
    if frame.num_rows:
        con.register("scored_texts", frame)
        con.execute("begin transaction")
        try:
            con.execute(f"""delete from {TABLE} using scored_texts
                            where {TABLE}.text_source = scored_texts.text_source
                              and {TABLE}.text_id = scored_texts.text_id""")
            con.execute(f"insert into {TABLE} select * from scored_texts")
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        finally:
            con.unregister("scored_texts")
    for values in rows.values():
        values.clear()


def score_new_texts(
    con: duckdb.DuckDBPyConnection,
    scorer: Scorer | None = None,
    detector: LanguageDetector | None = None,
    sources: tuple[TextSource, ...] = TEXT_SOURCES,
    log=None,
) -> ScoringResult:
    """Score every text of `sources` not scored yet by this scorer and version (or whose text
    changed), upsert them into enrichment.text_sentiment, and drop the rows of texts no longer
    in raw. Creates the table even when there is nothing to score (dbt reads it). A text that
    is not a string, or that the scorer fails on, gets a null score and is logged; the run goes
    on. Each batch is written in a transaction of its own (one for the whole run held every
    row in memory until the commit: 2.8 GiB at SF10): a run that stops half way leaves whole
    rows of what it scored, and the next run scores the rest."""
    log = log or LOG
    started = time.monotonic()
    scorer = scorer or VaderScorer()
    detector = detector or LanguageDetector()
    scored_at = datetime.now(UTC).replace(tzinfo=None)
    results: dict[str, SourceResult] = {}
    skipped: list[str] = []
    rows: dict[str, list] = {name: [] for name in COLUMNS.names}
    cache: dict[str, Sentiment] = {}  # texts repeat (templates, "Thanks!"): score each once (up to CACHE_SIZE)

    con.execute(DDL)
    for src in sources:
        if not _table_exists(con, src.table):
            skipped.append(src.name)
            log.info(f"sentiment: {src.table} is not in the warehouse (source not loaded): skipped")
            continue
        res = results[src.name] = SourceResult()
        res.texts, pending = _counts(con, src, scorer)
        for batch in _to_score(con, src, scorer, pending) if pending else ():
            for text_id, text, sha in batch:
                try:
                    if isinstance(text, str) and text in cache:
                        sentiment = cache[text]
                    else:
                        sentiment = analyse(text, scorer, detector)
                        if isinstance(text, str) and len(cache) < CACHE_SIZE:
                            cache[text] = sentiment
                except Exception as exc:  # bad input must not stop the run: null, counted, logged
                    res.bad += 1
                    if res.bad <= 5:
                        log.warning(f"sentiment: {src.name} {text_id} not scored ({exc})")
                    sentiment = NO_SENTIMENT
                res.scored += 1
                res.unscored += sentiment.score is None
                res.languages[sentiment.language] += 1
                for name, value in zip(
                    COLUMNS.names,
                    (
                        src.name,
                        text_id,
                        sha,
                        sentiment.language,
                        sentiment.score,
                        sentiment.label,
                        scorer.name,
                        scorer.version,
                        scored_at,
                    ),
                ):
                    rows[name].append(value)
            _write(con, rows)
        res.removed = _value(
            con,
            f"""
            delete from {TABLE} where text_source = ?
              and text_id not in (select text_id from ({_texts_sql(src)}))""",
            [src.name],
        )
    result = ScoringResult(scorer.name, scorer.version, results, skipped, time.monotonic() - started)
    for name, res in results.items():
        langs = ", ".join(f"{k or 'unknown'} {v}" for k, v in res.languages.most_common(5))
        log.info(
            f"sentiment: {name}: {res.texts} texts, {res.scored} scored now ({res.unscored} with no score"
            + (f", {res.bad} bad input" if res.bad else "")
            + f"), {res.removed} gone from raw"
            + (f"; languages {langs}" if langs else "")
        )
    log.info(
        f"sentiment: {result.scored} texts scored by {scorer.name} {scorer.version} in {result.seconds:.1f} s"
        + (f" ({result.scored / result.seconds:.0f}/s)" if result.scored and result.seconds else "")
    )
    return result


def main(argv=None) -> int:
    from warehouse.loader import connect
    from warehouse.settings import Settings

    parser = argparse.ArgumentParser(description="Score the warehouse's new texts into enrichment.text_sentiment.")
    parser.add_argument("--warehouse", default=None, help="DuckDB file (default: $SKW_WAREHOUSE_PATH or data/)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with connect(args.warehouse or Settings.from_env().warehouse_path) as con:
        score_new_texts(con)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
