"""What keeps the voice models cheap in a one-day run, each shown doing what it says on a copy of
the session warehouse (its own dbt target folder):

- int_texts_scored, int_mentions_daily and fct_ugc_vs_brand_daily write the days of the run's
  window only (and the UGC mart every day's owned posts, whose lifetime totals keep growing):
  rows of a day outside the window are left as they were;
- a text rescored outside the window (a new scorer version), or scored after it was written,
  reaches int_texts_scored on the next windowed run, which then equals a full refresh;
- fct_crises joins the brand's replies to the negative texts by key: no join condition of its
  plan is a disjunction (one on `parent or conversation` paired texts by platform alone: every
  negative text of a crisis with every brand text after it, 14 s at SF10 for a year).
"""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from test_marts_build import dbt

from orchestration.assets.dbt import DBT_DIR
from warehouse.loader import connect

pytestmark = pytest.mark.slow

VOICE = ["int_texts_scored", "int_mentions_daily", "fct_ugc_vs_brand_daily"]


@pytest.fixture(scope="module")
def copy(materialized, tmp_path_factory):
    base = tmp_path_factory.mktemp("voice_run_costs")
    wh = base / "w.duckdb"
    shutil.copy(materialized["warehouse"], wh)
    target = base / "target"
    shutil.copytree(DBT_DIR / "target", target, ignore=shutil.ignore_patterns("dbt_models-*"))
    return wh, target


def _rows(wh: Path, relation: str, where: str = "true") -> list[tuple]:
    with connect(wh, read_only=True) as con:
        return sorted(con.execute(f"select * from {relation} where {where}").fetchall(), key=repr)


def _days(wh: Path) -> tuple:
    with connect(wh, read_only=True) as con:
        return con.execute(
            "select min(occurred_date), max(occurred_date) from intermediate.int_texts_scored"
        ).fetchone()


def _one_day(wh: Path, target: Path, day, select: list[str]) -> None:
    dbt(["run", "--select", *select], wh, target, SKW_DBT_START_DATE=day.isoformat(), SKW_DBT_END_DATE=day.isoformat())


def test_a_one_day_run_writes_its_days_only(copy):
    wh, target = copy
    dbt(["run", "--select", *VOICE, "--full-refresh"], wh, target)
    first, last = _days(wh)
    assert last - first > timedelta(days=2), "the test world is too short to leave a day outside the window"
    tables = {
        "intermediate.int_texts_scored": "occurred_date",
        "intermediate.int_mentions_daily": "date_day",
        "marts.fct_ugc_vs_brand_daily": "date_day",
    }
    before = {t: _rows(wh, t, f"{day} <> '{first}'") for t, day in tables.items()}
    with connect(wh) as con:  # marks on the first day's rows: a run that writes the day again erases them
        con.execute(f"update intermediate.int_texts_scored set engagements = -1 where occurred_date = '{first}'")
        con.execute(f"update intermediate.int_mentions_daily set mentions = -1 where date_day = '{first}'")
        con.execute(f"update marts.fct_ugc_vs_brand_daily set items = -1 where date_day = '{first}'")
    _one_day(wh, target, last, VOICE)
    with connect(wh, read_only=True) as con:

        def marked(sql):
            return con.execute(sql).fetchone()[0]

        assert (
            marked(
                f"select count(*) from intermediate.int_texts_scored where occurred_date = '{first}' and engagements = -1"
            )
            > 0
        )
        assert (
            marked(
                f"select count(*) from intermediate.int_texts_scored where occurred_date = '{first}' and engagements <> -1"
            )
            == 0
        )
        assert marked(f"select min(mentions) from intermediate.int_mentions_daily where date_day = '{first}'") == -1
        assert (
            marked(f"""select min(items) from marts.fct_ugc_vs_brand_daily
                          where date_day = '{first}' and content_source = 'listening_mention'""")
            == -1
        )
        # the owned posts of every day are written again: their lifetime totals keep growing
        assert (
            marked(f"""select min(items) from marts.fct_ugc_vs_brand_daily
                          where date_day = '{first}' and content_source = 'owned_post'""")
            > 0
        )
    # every other day is as before: the window's days written again equal what was there
    for t, day in tables.items():
        assert _rows(wh, t, f"{day} <> '{first}'") == before[t], t
    dbt(["run", "--select", *VOICE, "--full-refresh"], wh, target)  # put the tables back


def _scored(wh: Path, where: str) -> tuple[int, int]:
    """(texts, texts with a scorer) of int_texts_scored where `where`."""
    with connect(wh, read_only=True) as con:
        return con.execute(f"""select count(*), count(scorer) from intermediate.int_texts_scored
                               where {where}""").fetchone()


def test_texts_rescored_outside_the_window_reach_int_texts_scored(copy):
    wh, target = copy
    dbt(["run", "--select", "int_texts_scored", "--full-refresh"], wh, target)
    first, last = _days(wh)
    second = first + timedelta(days=1)

    def keys(day):
        return f"""exists (select 1 from intermediate.int_texts_scored as texts
                                   where texts.occurred_date = '{day}' and texts.text_source = scores.text_source
                                     and texts.text_id = scores.text_id)"""

    # the second day's texts were written before the sentiment step had scored them
    with connect(wh) as con:
        con.execute(
            f"create table main.held_scores as select * from enrichment.text_sentiment as scores where {keys(second)}"
        )
        con.execute(f"delete from enrichment.text_sentiment as scores where {keys(second)}")
    dbt(["run", "--select", "int_texts_scored", "--full-refresh"], wh, target)
    texts, scored = _scored(wh, f"occurred_date = '{second}'")
    assert texts > 0 and scored == 0
    # the step scores them (same scorer): the next run, over the last day only, takes them
    with connect(wh) as con:
        con.execute("insert into enrichment.text_sentiment select * from main.held_scores")
        con.execute("drop table main.held_scores")
    _one_day(wh, target, last, ["int_texts_scored"])
    assert _scored(wh, f"occurred_date = '{second}'") == (texts, texts)
    # a new scorer version rescores every text (the first day's differently): the next run,
    # over the last day only, takes them all, and equals a full refresh
    negative_before = _scored(wh, f"occurred_date = '{first}' and sentiment_label = 'negative'")[0]
    positive_before = _scored(wh, f"occurred_date = '{first}' and sentiment_label = 'positive'")[0]
    assert positive_before != negative_before
    with connect(wh) as con:
        con.execute(f"""update enrichment.text_sentiment as scores set
                            scorer_version = 'test-2',
                            scored_at = scored_at + interval 1 day,
                            sentiment_score = case when {keys(first)} then -sentiment_score else sentiment_score end,
                            sentiment_label = case when not {keys(first)} then sentiment_label
                                                   when sentiment_label = 'positive' then 'negative'
                                                   when sentiment_label = 'negative' then 'positive'
                                                   else sentiment_label end""")
    _one_day(wh, target, last, ["int_texts_scored"])
    assert _scored(wh, "scorer_version is distinct from 'test-2'") == (0, 0)
    assert _scored(wh, f"occurred_date = '{first}' and sentiment_label = 'negative'")[0] == positive_before
    windowed = _rows(wh, "intermediate.int_texts_scored")
    dbt(["run", "--select", "int_texts_scored", "--full-refresh"], wh, target)
    assert windowed == _rows(wh, "intermediate.int_texts_scored"), (
        "a windowed run after the rescoring differs from a full refresh"
    )


def _join_conditions(plan) -> list[str]:
    out = []
    for node in plan if isinstance(plan, list) else [plan]:
        if "JOIN" in node.get("name", ""):
            conditions = node.get("extra_info", {}).get("Conditions", [])
            out += [conditions] if isinstance(conditions, str) else conditions
        out += _join_conditions(node.get("children", []))
    return out


def test_crises_join_replies_by_key(copy):
    wh, target = copy
    dbt(["compile", "--select", "fct_crises"], wh, target)
    manifest = json.loads((target / "manifest.json").read_text())
    node = next(n for n in manifest["nodes"].values() if n["name"] == "fct_crises")
    sql = (target / "compiled" / node["package_name"] / node["original_file_path"]).read_text()
    with connect(wh, read_only=True) as con:
        plan = json.loads(con.execute(f"explain (format json) {sql}").fetchall()[0][1])
    conditions = _join_conditions(plan)
    assert any("parent_id" in c for c in conditions) and any("conversation_id" in c for c in conditions), conditions
    assert not [c for c in conditions if " OR " in c.upper()], conditions
