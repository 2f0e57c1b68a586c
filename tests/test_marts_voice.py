"""The sentiment mart and int_texts_scored against the sample world's truths (KPI practices 9,
21, 28; the crisis, share-of-voice and benchmark marts are in test_marts_voice_crisis.py).

Sentiment. The world's labels are what the generator meant each text to say; VADER is a model
that reads words, so its labels agree with them only so far. The tolerances below are the
measured disagreement on the default world (28 days, seed 42), with room, not zero:
- Facebook comments (truths `facebook.comments_by_label`, 9,228 customer comments): VADER's
  positive share 36.0% against the world's 34.2%; its negative share 19.6% against 26.3% (it
  misses complaints without sentiment words: "My order still hasn't arrived after two weeks.",
  "Heard about the recall. Not buying again until you explain." score 0.0); 3.8% unscored
  ("First!", "Noted.", "Tagging @mia.17": no language to tell).
- English listening mentions (the world's hidden `true_sentiment` per mention): 75.9% of the
  29,439 get the world's label.
The crisis (planted.crisis: a product recall rumour) raises the negative share of the brand's
mentions from 9.5% in the days before it to 21.6% during it, and the 7-day net sentiment of
the brand's mentions first breaks down at the peak.
"""

from __future__ import annotations

import csv
from datetime import date

import pytest

from warehouse.loader import connect

pytestmark = pytest.mark.slow


def _crisis(truths) -> dict[str, date]:
    return {k: date.fromisoformat(truths["planted"]["crisis"][k]) for k in ("start", "peak", "end")}


def test_facebook_comment_labels_agree_with_the_worlds_within_vaders_error(default_world):
    truths = default_world["truths"]["facebook"]
    with connect(default_world["warehouse"], read_only=True) as con:
        counts = dict(
            con.execute("""
            select coalesce(sentiment_label, 'unscored'), count(*) from intermediate.int_texts_scored
            where text_source = 'facebook__comments' and not is_brand_author group by 1""").fetchall()
        )
    total = sum(counts.values())
    assert total == truths["comments"]  # every customer comment has its row, scored or not
    world = {k: v / total for k, v in truths["comments_by_label"].items()}
    share = {k: v / total for k, v in counts.items()}
    assert abs(share["positive"] - world["positive"]) <= 0.04, (share, world)
    # VADER under-reads this world's complaints (measured 6.7 points below), never over
    assert world["negative"] - 0.10 <= share["negative"] <= world["negative"], (share, world)
    # the world's neutral comments and questions are VADER's neutral or unscored
    assert abs(share["neutral"] + share.get("unscored", 0) - world["neutral"] - world["question"]) <= 0.06
    assert share.get("unscored", 0) <= 0.05


def test_english_mentions_get_the_worlds_label_and_other_languages_none(default_world):
    """Per mention, against the world's hidden labels (listening/true_sentiment.csv, never
    served by the fake). The listening tool's language column is the world's too."""
    with open(default_world["world"] / "listening" / "true_sentiment.csv", newline="", encoding="utf-8") as f:
        truth = {(r["query_id"], r["id"]): r["true_sentiment"] for r in csv.DictReader(f)}
    with connect(default_world["warehouse"], read_only=True) as con:
        rows = con.execute("""
            select t.account_id, t.text_id, m.language, t.language, t.sentiment_label
            from intermediate.int_texts_scored as t
            join raw.listening__mentions as m on m.id = t.text_id and m.query_id = t.account_id
            where t.text_source = 'listening__mentions'""").fetchall()
    assert len(rows) == len(truth)
    english = [(truth[(q, i)], label, detected) for q, i, tool, detected, label in rows if tool == "en"]
    foreign = [(tool, detected, label) for q, i, tool, detected, label in rows if tool != "en"]
    assert len(english) > 10_000 and len(foreign) > 5_000
    assert sum(detected == "en" for _, _, detected in english) / len(english) >= 0.99
    accuracy = sum(t == label for t, label, _ in english) / len(english)
    assert accuracy >= 0.70, accuracy  # measured 0.759
    # German, French and Spanish: never a score (VADER would say 0.0, a false neutral)
    assert [f for f in foreign if f[2] is not None] == []
    assert sum(detected == tool for tool, detected, _ in foreign) / len(foreign) >= 0.95


def test_the_crisis_raises_the_negative_share_of_the_brands_mentions(default_world):
    crisis = _crisis(default_world["truths"])
    with connect(default_world["warehouse"], read_only=True) as con:

        def negative_share(where: str, params: list) -> float:
            neg, scored = con.execute(
                f"""
                select sum(negative_texts), sum(scored_texts) from marts.fct_sentiment_daily
                where subject = 'brand' and text_kind = 'mention' and {where}""",
                params,
            ).fetchone()
            return neg / scored

        during = negative_share("date_day between ? and ?", [crisis["start"], crisis["end"]])
        before = negative_share("date_day < ?", [crisis["start"]])
        worst_day = con.execute("""
            select date_day from marts.fct_sentiment_daily where subject = 'brand' and text_kind = 'mention'
            group by date_day order by sum(negative_texts) desc limit 1""").fetchone()[0]
    assert during >= 1.5 * before, (before, during)  # measured 0.095 -> 0.216
    assert abs((worst_day - crisis["peak"]).days) <= 1


def test_the_crisis_is_a_downward_change_point_of_the_brands_mentions(default_world):
    crisis = _crisis(default_world["truths"])
    with connect(default_world["warehouse"], read_only=True) as con:
        downs = [
            r[0]
            for r in con.execute("""
            select distinct date_day from marts.fct_sentiment_daily
            where subject = 'brand' and text_kind = 'mention' and change_direction = 'down'
            order by 1""").fetchall()
        ]
    assert downs, "no downward change point in the brand's mentions"
    assert crisis["start"] <= downs[0] <= crisis["end"], downs
    assert abs((downs[0] - crisis["peak"]).days) <= 1, downs
