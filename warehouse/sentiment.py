"""Sentiment of the warehouse's free texts: every comment, direct message, mention and survey
comment in raw gets a score in [-1, 1] and a label, written to `enrichment.text_sentiment`
(one row per text source and text id; no text, no author). dbt reads it as the source
`enrichment.text_sentiment`. No Dagster here: orchestration/assets/enrichment.py calls
`score_new_texts`, and `python -m warehouse.sentiment` does the same from a shell.

Everything runs offline: VADER (vaderSentiment) ships its lexicons in its wheel, py3langid its
language-identification model (NLTK's copy of VADER downloads its lexicon at run time).

The scorer is behind a small interface (`Scorer`), so another can replace VADER: rows carry the
scorer's name and version, and a text is scored again when its text or the scorer changes.

What a run reads. The loader stamps every raw row it inserts or rewrites with its load's time
(`_loaded_at`), so a run reads only the ids of rows stamped after the last run's mark (one row
per source in `enrichment.text_sentiment_marks`): a day at SF1 reads its 2.3k texts, not 0.75 M
(0.34 s instead of 2.9 s; 0.05 s instead of 0.9 s with nothing new). Texts gone from raw are found by counting (raw's rows stamped
at or before the mark, then its texts against the table's rows), and every text is checked as
before when the counts cannot vouch for the mark (`_plan`), or with `full=True` (`--full`). The
one case the counts miss: rows stamped before the mark (a clock set back) and, between the same
two runs, the same number of rows gone from raw; run `--full` after setting a clock back. The
language model is kept uncompressed in the venv (`.venv/cache/`, `LanguageDetector`): ~0.1 s to
read instead of ~0.9 s.

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
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Protocol, runtime_checkable

import duckdb
import pyarrow as pa

LOG = logging.getLogger(__name__)

SCHEMA = "enrichment"
TABLE = f"{SCHEMA}.text_sentiment"
# Which raw rows each source's texts were last read up to (`Mark`), and the raw column that says when a row was loaded.
MARKS = f"{SCHEMA}.text_sentiment_marks"
STAMP = "_loaded_at"

# Texts are read, scored and written BATCH at a time, and at most CACHE_SIZE distinct texts
# keep their score for the rest of the run: memory stays flat however many texts a run scores
# (a year at SF10 is 7.4 million; read whole, the step's peak was 4.9 GiB).
BATCH = 100_000
PART = 500_000
CACHE_SIZE = 200_000
# Batches of at most this many rows are written without pyarrow (`_write`).
SMALL_WRITE = 20_000

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
    """py3langid with normalised probabilities, restricted to `languages`.

    py3langid ships its model LZMA-compressed: reading it takes ~0.9 s, most of a daily run's
    sentiment step. The model restricted to `languages` is kept in `cache_dir` uncompressed
    after its first read (47 MB, `py3langid-<version>-<key>.bin`; read back in ~0.1 s). By
    default that is `cache/` in the Python environment (the venv) py3langid is installed in:
    one copy for every warehouse and test of that environment, gone when the venv is rebuilt.
    The key changes with py3langid's version, its model file and `languages`; a cache that
    cannot be read or written is ignored (the model is read from the wheel); None: no cache."""

    CACHE_FORMAT = 2

    def __init__(
        self, languages: tuple[str, ...] = CANDIDATE_LANGUAGES, cache_dir: Path | None = Path(sys.prefix) / "cache"
    ):
        self.languages = languages
        self.version = installed_version("py3langid")
        self.cache_dir = cache_dir

    @cached_property
    def _identifier(self):
        # Loaded on first use, like the scorer's lexicons.
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        cached = self._cache_path()
        if cached is not None and cached.exists():
            try:
                return self._read_cache(cached)
            except Exception as exc:  # a damaged or foreign file: read the wheel's model instead
                LOG.warning(f"sentiment: language model cache {cached} not read ({exc}); reading the wheel's")
        identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        identifier.set_languages(list(self.languages))
        if cached is not None:
            try:
                self._write_cache(identifier, cached)
            except Exception as exc:  # a read-only or full disk: the next run reads the wheel again
                LOG.info(f"sentiment: language model cache {cached} not written ({exc})")
        return identifier

    def _cache_path(self) -> Path | None:
        if self.cache_dir is None:
            return None
        import hashlib

        from py3langid.langid import MODEL_DIR, MODEL_FILE

        model = (MODEL_DIR / MODEL_FILE).stat()
        key = hashlib.sha256(
            repr((self.CACHE_FORMAT, self.version, model.st_size, model.st_mtime_ns, self.languages)).encode()
        ).hexdigest()[:16]
        return Path(self.cache_dir) / f"py3langid-{self.version}-{key}.bin"

    @staticmethod
    def _write_cache(identifier, path: Path) -> None:
        """The identifier's arrays, raw, after a JSON header saying what they are: read back with
        one read each, straight into the arrays py3langid walks."""
        import json
        import os

        import numpy as np

        ptc = np.ascontiguousarray(identifier.nb_ptc)
        pc = np.ascontiguousarray(identifier.nb_pc)
        output = np.asarray(identifier.tk_output, dtype=np.int64)
        header = json.dumps(
            {
                "classes": list(identifier.nb_classes),
                "ptc": [str(ptc.dtype), list(ptc.shape)],
                "pc": [str(pc.dtype), list(pc.shape)],
                "nextmove": [identifier.tk_nextmove.typecode, len(identifier.tk_nextmove)],
                "row": [identifier.tk_row.typecode, len(identifier.tk_row)],
                "output": len(output),
            }
        ).encode()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "wb") as f:
                f.write(len(header).to_bytes(8, "little") + header)
                for part in (ptc.tobytes(), pc.tobytes(), identifier.tk_nextmove, identifier.tk_row, output.tobytes()):
                    f.write(part)
            os.replace(tmp, path)  # whole or not at all: a reader never sees half a file
        finally:
            tmp.unlink(missing_ok=True)

    @staticmethod
    def _read_cache(path: Path):
        import json
        from array import array

        import numpy as np
        from py3langid.langid import LanguageIdentifier

        def numbers(f, dtype, shape):
            dtype, count = np.dtype(dtype), int(np.prod(shape))
            data = f.read(dtype.itemsize * count)
            if len(data) != dtype.itemsize * count:
                raise EOFError("truncated")
            return np.frombuffer(data, dtype=dtype).reshape(shape)

        with open(path, "rb") as f:
            header = json.loads(f.read(int.from_bytes(f.read(8), "little")))
            ptc = numbers(f, *header["ptc"])
            pc = numbers(f, *header["pc"])
            nextmove, row = array(header["nextmove"][0]), array(header["row"][0])
            nextmove.fromfile(f, header["nextmove"][1])  # EOFError when the file is short
            row.fromfile(f, header["row"][1])
            output = numbers(f, "int64", (header["output"],)).tolist()
            if f.read(1):
                raise ValueError("longer than its header says")
        return LanguageIdentifier(ptc, pc, header["classes"], nextmove, output, norm_probs=True, tk_row=row)

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
# the same columns' types in DuckDB (the table's DDL below)
SQL_TYPES = ("varchar", "varchar", "varchar", "varchar", "double", "varchar", "varchar", "varchar", "timestamp")

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
);
create table if not exists {MARKS} (
    text_source varchar not null,
    scorer varchar not null,
    scorer_version varchar not null,
    loaded_through timestamptz not null,
    rows_through bigint not null,
    texts bigint not null,
    marked_at timestamp not null
)"""


@dataclass(frozen=True)
class Mark:
    """How far the last run of a scorer over a source got (a row of `MARKS`): every text of a raw
    row stamped (`_loaded_at`) at or before `loaded_through` is scored by it; raw held
    `rows_through` rows so stamped, and the table `texts` rows of the source, when it ended."""

    scorer: str
    scorer_version: str
    loaded_through: datetime
    rows_through: int
    texts: int


@dataclass(frozen=True)
class Stamps:
    """What a raw table's `_loaded_at` says, read in one pass of that one column."""

    stamped: int  # rows with a stamp
    latest: datetime | None  # the latest stamp
    through_mark: int  # rows stamped at or before the source's mark (0 without one)


@dataclass
class SourceResult:
    texts: int = 0  # texts in raw
    scored: int = 0  # scored in this call (new, edited, or scored by another scorer)
    unscored: int = 0  # of those, with a null score (empty, unsupported or unknown language)
    bad: int = 0  # of those, not a string or the scorer failed on them
    removed: int = 0  # rows of texts no longer in raw
    languages: Counter = field(default_factory=Counter)
    checked: str = "new rows"  # "new rows" (since the mark) or why every text was checked


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
        full = [name for name, s in self.sources.items() if s.checked != "new rows"]
        if full:
            out["every_text_checked"] = ", ".join(full)
        if self.skipped:
            out["sources_missing"] = ", ".join(self.skipped)
        return out


def _value(con: duckdb.DuckDBPyConnection, sql: str, params=None):
    """The one value a statement returns (fetched to the end: DuckDB keeps a result open until
    then, and refuses to register a frame beside it)."""
    return con.execute(sql, params).fetchall()[0][0]


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    """The table's column names; empty when there is no such table."""
    schema, name = table.split(".")
    rows = con.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
        [schema, name],
    ).fetchall()
    return {r[0] for r in rows}


def _texts_sql(src: TextSource, since: bool = False) -> str:
    """One text per id (min: deterministic if two rows of an id ever disagreed). With `since`,
    only the ids with a row stamped after `$since` (or not stamped): every row of such an id
    is still read, so its text is the same as in a read of every id."""
    scope = (
        f" and {src.id_sql} in (select {src.id_sql} from {src.table} where {STAMP} > $since or {STAMP} is null)"
        if since
        else ""
    )
    return f"""select cast({src.id_sql} as varchar) as text_id, min({src.text_sql}) as text
               from {src.table} where {src.id_sql} is not null and ({src.where_sql}){scope} group by 1"""


def _needs_scoring() -> str:
    """SQL true for a text not scored yet, or whose text or scorer changed since."""
    return """(stored.text_id is null
               or stored.text_sha256 is distinct from sha256(cast(texts.text as varchar))
               or stored.scorer <> $scorer or stored.scorer_version <> $version)"""


def _counts(con, src: TextSource, scorer: Scorer) -> tuple[int, int]:
    """(texts, texts to score) of a source, in one pass over every text. The parts `_to_score`
    reads are sized by the second: a run with a few texts to score reads them in one query
    instead of scanning every text once per part (at SF10, 12 scans of 5.7 M mentions: 58 s)."""
    return tuple(
        con.execute(
            f"""
            with texts as ({_texts_sql(src)})
            select count(*), count(*) filter (where {_needs_scoring()})
            from texts left join {TABLE} as stored on stored.text_source = $source and stored.text_id = texts.text_id""",
            {"scorer": scorer.name, "version": scorer.version, "source": src.name},
        ).fetchall()[0]
    )


def _to_score(con, src: TextSource, scorer: Scorer, texts: int, since: datetime | None = None) -> Iterator[list[tuple]]:
    """(text_id, text, sha256) of the source's texts not scored yet, or whose text or scorer
    changed since: anti-joined on what is stored, in batches of at most BATCH rows; with
    `since`, only among the ids with a row stamped after it. DuckDB holds a query's whole
    result until it is read, so the texts are split by a hash of their id into parts of about
    PART texts (`texts` of them, or fewer, to score in all), one query each: at SF10 a year of
    mentions is millions of texts, never all in memory at once. Read on a cursor of its own
    (DuckDB: its own connection and snapshot), so the caller's writes in between neither
    disturb it nor are seen by it."""
    parts = max(1, -(-texts // PART))
    params = {"source": src.name, "scorer": scorer.name, "version": scorer.version}
    if since is not None:
        params["since"] = since
    # One part: no hash to compute (DuckDB would compute it on every stored row as well). With
    # `since`, the stored rows are looked up for the few ids read only: a join on every stored
    # row of the source (566k mentions at SF1) took 0.4 s for a day's 1.5k texts.
    in_part = "hash(texts.text_id) % $parts = $part and " if parts > 1 else ""
    stored = (
        f"(select * from {TABLE} where text_source = $source and text_id in (select text_id from texts))"
        if since is not None
        else TABLE
    )
    cur = con.cursor()
    try:
        for part in range(parts):
            cur.execute(
                f"""
                with texts as ({_texts_sql(src, since is not None)})
                select texts.text_id, texts.text, sha256(cast(texts.text as varchar)) as text_sha256
                from texts
                left join {stored} as stored
                    on stored.text_source = $source and stored.text_id = texts.text_id
                where {in_part}{_needs_scoring()}
            """,
                {**params, "parts": parts, "part": part} if parts > 1 else params,
            )
            while batch := cur.fetchmany(BATCH):
                yield batch
    finally:
        cur.close()


class DuplicateTextError(ValueError):
    """A batch of scores holds a text twice: nothing of it is written."""


def _one_row_per_text(con) -> None:
    """The table's key (text_source, text_id) holds because every write replaces the rows of
    its batch's keys with the batch (`_write`): so a batch must hold each key once. Checked here,
    on the batch, instead of on the whole table in every dbt build (a group-by over every score:
    1.2-1.6 s of a one-day build at SF10). The table's other rules (NOT NULL) are its DDL's."""
    dupes = con.execute(
        "select text_source, text_id, count(*) from scored_texts group by all having count(*) > 1 order by 1, 2 limit 5"
    ).fetchall()
    if dupes:
        named = ", ".join(f"{source}/{text_id} ({n} rows)" for source, text_id, n in dupes)
        raise DuplicateTextError(f"sentiment: {TABLE}: a text scored twice in one write: {named}; nothing written")


def _write(con, rows: dict[str, list]) -> None:
    """Upsert the scored rows gathered so far into the table (by text_source and text_id), then
    empty `rows`. A few rows (a day's texts) reach DuckDB as list parameters: pyarrow's first
    table imports pandas (~0.4 s in a fresh process), more than a day's texts take to score.
    More (a first run's hundred thousand a batch) go as an Arrow table, twice as fast."""
    n = len(rows["text_id"])
    if n:
        if n <= SMALL_WRITE:
            selects = ", ".join(f"unnest(${c}::{t}[]) as {c}" for c, t in zip(COLUMNS.names, SQL_TYPES, strict=True))
            con.execute(f"create or replace temp table scored_texts as select {selects}", rows)
        else:
            con.register("scored_texts", pa.Table.from_pydict(rows, schema=COLUMNS))
        con.execute("begin transaction")
        try:
            _one_row_per_text(con)
            con.execute(f"""delete from {TABLE} using scored_texts
                            where {TABLE}.text_source = scored_texts.text_source
                              and {TABLE}.text_id = scored_texts.text_id""")
            con.execute(f"insert into {TABLE} select * from scored_texts")
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        finally:
            if n <= SMALL_WRITE:
                con.execute("drop table scored_texts")
            else:
                con.unregister("scored_texts")
    for values in rows.values():
        values.clear()


# -- marks: which raw rows were read --------------------------------------------------------------


def _marks(con) -> dict[str, Mark]:
    rows = con.execute(
        f"select text_source, scorer, scorer_version, loaded_through, rows_through, texts from {MARKS}"
    ).fetchall()
    return {r[0]: Mark(*r[1:]) for r in rows}


def _stamps(con, src: TextSource, mark: Mark | None) -> Stamps:
    # one column of raw, min/max kept per row group: ~1 ms for a year of mentions at SF1
    return Stamps(
        *con.execute(
            f"select count({STAMP}), max({STAMP}), count(*) filter (where {STAMP} <= $through) from {src.table}",
            {"through": mark.loaded_through if mark else None},
        ).fetchall()[0]
    )


def _stored_texts(con, src: TextSource) -> int:
    return _value(con, f"select count(*) from {TABLE} where text_source = ?", [src.name])


def _raw_texts(con, src: TextSource) -> tuple[int, int]:
    """(texts, rows holding a text) in raw: more rows than texts when an id has several rows."""
    return tuple(
        con.execute(
            f"""select count(distinct cast({src.id_sql} as varchar)), count(*) from {src.table}
                where {src.id_sql} is not null and ({src.where_sql})"""
        ).fetchall()[0]
    )


def _plan(
    con, src: TextSource, scorer: Scorer, mark: Mark | None, stamps: Stamps | None, full: bool
) -> tuple[datetime | None, int | None, str]:
    """(since, texts in raw if counted, what is checked): `since` the mark's stamp when only the
    ids of rows stamped after it need reading, None when every text must be (the reason in the
    third). The loader stamps every row it inserts or rewrites with its load's time and deletes a
    row only when it is gone or rewritten, so since the last run:
    - a new or edited text has a row stamped after the mark;
    - a text can leave raw only if a row stamped at or before the mark left: then their count
      (`through_mark`) fell, and raw's texts are counted against the table's rows;
    - a count of such rows that grew means rows written with an older stamp (a clock set back):
      every text is checked. So is a source whose rows left when some id has several rows (its
      text, the least of its rows', may have changed with no row stamped after the mark), one
      whose table rows are not the mark's (changed by hand, or a run that stopped half way), a
      new scorer or version, no mark yet, and a raw table without stamps."""
    if stamps is None:
        return None, None, f"{src.table} has no {STAMP}"
    if full:
        return None, None, "a full check was asked for"
    if mark is None:
        return None, None, "no mark yet"
    if (mark.scorer, mark.scorer_version) != (scorer.name, scorer.version):
        return None, None, f"marked by {mark.scorer} {mark.scorer_version}"
    if _stored_texts(con, src) != mark.texts:
        return None, None, "the table's rows are not the ones the mark counted"
    if stamps.through_mark > mark.rows_through:
        return None, None, f"{stamps.through_mark - mark.rows_through} rows stamped at or before the mark appeared"
    if stamps.through_mark == mark.rows_through:
        return mark.loaded_through, None, "new rows"
    texts, rows = _raw_texts(con, src)
    if rows > texts:
        return None, None, "rows left raw and some ids have several rows"
    return mark.loaded_through, texts, "new rows"


def _write_mark(con, src: TextSource, mark: Mark) -> None:
    con.execute("begin transaction")
    try:
        con.execute(f"delete from {MARKS} where text_source = ?", [src.name])
        con.execute(
            f"insert into {MARKS} values (?, ?, ?, ?, ?, ?, ?)",
            [
                src.name,
                mark.scorer,
                mark.scorer_version,
                mark.loaded_through,
                mark.rows_through,
                mark.texts,
                datetime.now(UTC).replace(tzinfo=None),
            ],
        )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def score_new_texts(
    con: duckdb.DuckDBPyConnection,
    scorer: Scorer | None = None,
    detector: LanguageDetector | None = None,
    sources: tuple[TextSource, ...] = TEXT_SOURCES,
    log=None,
    full: bool = False,
) -> ScoringResult:
    """Score every text of `sources` not scored yet by this scorer and version (or whose text
    changed), upsert them into enrichment.text_sentiment, and drop the rows of texts no longer
    in raw. Creates the table even when there is nothing to score (dbt reads it). A text that
    is not a string, or that the scorer fails on, gets a null score and is logged; the run goes
    on. Each batch is written in a transaction of its own (one for the whole run held every
    row in memory until the commit: 2.8 GiB at SF10): a run that stops half way leaves whole
    rows of what it scored, and the next run scores the rest.

    Which texts to read: each source's mark (`MARKS`, written when the source is done) says up
    to which load stamp its rows were read; the next run reads only the ids of rows stamped
    after it (a day's texts, not the year's), and checks every text only when the counts say
    it must (`_plan`) or `full` asks for it. A run that changes nothing writes nothing, the
    marks included."""
    log = log or LOG
    started = time.monotonic()
    scorer = scorer or VaderScorer()
    detector = detector or LanguageDetector()
    scored_at = datetime.now(UTC).replace(tzinfo=None)
    results: dict[str, SourceResult] = {}
    skipped: list[str] = []
    rows: dict[str, list] = {name: [] for name in COLUMNS.names}
    cache: dict[str, Sentiment] = {}  # texts repeat (templates, "Thanks!"): score each once (up to CACHE_SIZE)

    def score(src: TextSource, res: SourceResult, batches: Iterator[list[tuple]]) -> None:
        for batch in batches:
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

    def score_all(src: TextSource, res: SourceResult) -> int:
        texts, pending = _counts(con, src, scorer)
        score(src, res, _to_score(con, src, scorer, pending) if pending else ())
        return texts

    con.execute(DDL)
    marks = _marks(con)
    for src in sources:
        columns = _columns(con, src.table)
        if not columns:
            skipped.append(src.name)
            log.info(f"sentiment: {src.table} is not in the warehouse (source not loaded): skipped")
            continue
        res = results[src.name] = SourceResult()
        mark = marks.get(src.name)
        stamps = _stamps(con, src, mark) if STAMP in columns else None
        since, texts, res.checked = _plan(con, src, scorer, mark, stamps, full)
        if since is None:
            texts = score_all(src, res)
        else:
            # rows stamped after the mark: at least as many as their texts (sizes the parts)
            new_rows = _value(con, f"select count(*) from {src.table} where {STAMP} > ? or {STAMP} is null", [since])
            score(src, res, _to_score(con, src, scorer, new_rows, since) if new_rows else ())
        stored = _stored_texts(con, src)
        if texts is not None and stored < texts:
            # the table lacks texts it should hold (the mark's counts could not tell)
            res.checked = f"the table held {stored} of raw's {texts} texts"
            log.warning(f"sentiment: {src.name}: {res.checked}: every text checked")
            texts = score_all(src, res)
            stored = _stored_texts(con, src)
        if texts is not None and stored > texts:
            res.removed = _value(
                con,
                f"""
                delete from {TABLE} where text_source = ?
                  and text_id not in (select text_id from ({_texts_sql(src)}))""",
                [src.name],
            )
            stored -= res.removed
        # no rows removed and none left unscored: the table holds raw's texts, one row each
        res.texts = texts if texts is not None else stored
        if stamps is not None:
            latest = max(
                (t for t in (stamps.latest, mark.loaded_through if mark else None) if t is not None), default=None
            )
            new_mark = Mark(scorer.name, scorer.version, latest, stamps.stamped, stored) if latest else None
            if new_mark is not None and new_mark != mark:
                _write_mark(con, src, new_mark)
    result = ScoringResult(scorer.name, scorer.version, results, skipped, time.monotonic() - started)
    for name, res in results.items():
        langs = ", ".join(f"{k or 'unknown'} {v}" for k, v in res.languages.most_common(5))
        log.info(
            f"sentiment: {name}: {res.texts} texts, {res.scored} scored now ({res.unscored} with no score"
            + (f", {res.bad} bad input" if res.bad else "")
            + f"), {res.removed} gone from raw; read "
            + ("the rows loaded since the last run" if res.checked == "new rows" else f"every text ({res.checked})")
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
    parser.add_argument(
        "--full", action="store_true", help="check every text of raw, not only the rows loaded since the last run"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with connect(args.warehouse or Settings.from_env().warehouse_path) as con:
        score_new_texts(con, full=args.full)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
