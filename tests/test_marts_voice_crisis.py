"""Crises, share of voice and the competitor benchmark against the sample world (KPI practices
14, 22 and 33): the planted crisis found within a day of its planted start and peak, in the
7-day test world (`materialized`: its crisis starts on day 4, so the rule works on a 3-day
baseline) and in the 28-day default world (`default_world`); the daily negative mentions
following the world's own daily count; share of voice equal to the world's mentions and
engagement per listening query; the benchmark's nulls where no source has a figure.

The marts count what the sentiment scorer labels negative (English only, VADER), the world
counts every mention it wrote as negative in any language, by UTC day, while the marts' days
are Europe/Berlin days (2 hours later in June). So the daily figures are compared by shape,
never equated: see `test_daily_negatives_follow_the_worlds_count` for the tolerances.
"""

from __future__ import annotations

import math
import statistics
from datetime import date, timedelta

import pytest

from warehouse.loader import connect


def query(warehouse, sql: str) -> list[tuple]:
    with connect(warehouse, read_only=True) as con:
        return con.execute(sql).fetchall()


def day(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def crises(warehouse) -> list[dict]:
    cols = (
        "start_date",
        "peak_date",
        "end_date",
        "peak_negative_mentions",
        "total_negative_mentions",
        "baseline_negative_mentions",
        "started_at",
        "first_reply_at",
        "first_response_at",
        "minutes_to_first_reply",
        "minutes_to_first_response",
        "recovered_date",
        "days_to_recover",
    )
    rows = query(warehouse, f"select {', '.join(cols)} from marts.fct_crises order by start_date")
    return [dict(zip(cols, r)) for r in rows]


def assert_planted_crisis_found(warehouse, planted: dict) -> dict:
    """Exactly one crisis, with start and peak within a day of the planted ones; returned."""
    found = crises(warehouse)
    assert len(found) == 1, f"expected the planted crisis only, found {found}"
    crisis = found[0]
    assert abs((crisis["start_date"] - day(planted["start"])).days) <= 1, (crisis, planted)
    assert abs((crisis["peak_date"] - day(planted["peak"])).days) <= 1, (crisis, planted)
    return crisis


# -- the test world (7 days, crisis from day 4) --------------------------------------------------
def test_test_world_crisis_found_on_a_short_baseline(materialized):
    """The test world's crisis starts on its 4th day (06-04, peak 06-06): the first anomalous
    day is judged on the few days before it (at least `crisis_min_baseline_days`, fewer than a
    week) and it is the only crisis."""
    warehouse, planted = materialized["warehouse"], materialized["truths"]["planted"]["crisis"]
    crisis = assert_planted_crisis_found(warehouse, planted)
    [(baseline_days, has_baseline)] = query(
        warehouse,
        f"select baseline_days, has_baseline from marts.fct_negative_mentions_daily "
        f"where date_day = date '{crisis['start_date']}'",
    )
    assert has_baseline and 3 <= baseline_days < 7, baseline_days
    assert crisis["peak_negative_mentions"] >= 2 * crisis["baseline_negative_mentions"]


def test_share_of_voice_is_the_worlds_mentions_per_query(materialized):
    """Per subject, the mart's mentions and engagements over the range are the world's per
    listening query (every author, a post naming two subjects counted for each), and the shares
    of every (day, platform) add up to 1."""
    warehouse, truths = materialized["warehouse"], materialized["truths"]["listening"]
    got = {
        s: (m, e)
        for s, m, e in query(
            warehouse,
            "select subject, sum(mentions), sum(engagements) from marts.fct_share_of_voice_daily group by subject",
        )
    }
    want = {entity: (q["mentions"], q["engagements"]) for entity, q in truths["per_query"].items()}
    assert got == want
    [(brand_share, brand_engagement_share)] = query(
        warehouse,
        "select sum(mentions) / sum(total_mentions), sum(engagements) / sum(total_engagements) "
        "from marts.fct_share_of_voice_daily where is_brand",
    )
    assert round(brand_share, 6) == truths["share_of_voice"]
    assert round(brand_engagement_share, 6) == truths["share_of_voice_by_engagement"]
    bad = query(
        warehouse,
        "select date_day, platform, sum(share_of_mentions) from marts.fct_share_of_voice_daily "
        "group by 1, 2 having abs(sum(share_of_mentions) - 1) > 1e-9",
    )
    assert bad == []
    # every subject has a row on every (day, platform): a subject nobody mentioned shows 0
    [(rows, pairs, subjects, zeros)] = query(
        warehouse,
        "select count(*), count(distinct (date_day, platform)), count(distinct subject), "
        "count(*) filter (where mentions = 0 and share_of_mentions = 0) from marts.fct_share_of_voice_daily",
    )
    assert rows == pairs * subjects == pairs * len(want) and zeros > 0


def test_competitor_benchmark_is_null_where_no_source_serves_it(materialized):
    """The world serves no competitor's followers or posts (its listening authors are
    customers, media, the brand, influencers and employees; X and the other platforms serve
    the brand's accounts): those columns are null for every competitor row, never 0, while
    their mentions are counted. The brand's posts per platform are the world's."""
    warehouse, truths = materialized["warehouse"], materialized["truths"]
    [(competitor_rows, with_figures, mentions)] = query(
        warehouse,
        "select count(*), count(followers) + count(posts) + count(engagement_per_post) + count(post_engagements), "
        "sum(mentions) from marts.fct_competitor_benchmark where not is_brand",
    )
    assert competitor_rows > 0 and with_figures == 0
    assert mentions == sum(q["mentions"] for e, q in truths["listening"]["per_query"].items() if e != "lumora")
    posts = dict(
        query(
            warehouse,
            "select platform, sum(posts) from marts.fct_competitor_benchmark "
            "where is_brand and posts is not null group by platform",
        )
    )
    ig = truths["instagram"]["media_by_product_type"]
    assert posts == {
        "facebook": truths["facebook"]["posts"],
        "x": truths["x"]["posts"],
        "youtube": truths["youtube"]["videos"],
        "instagram": ig["FEED"] + ig["REELS"],
    }
    [(brand_x_followers,)] = query(
        warehouse,
        "select max_by(followers, date_day) from marts.fct_competitor_benchmark "
        "where is_brand and platform = 'x' and followers is not null",
    )
    assert brand_x_followers == sum(truths["x"]["followers_end"].values())


# -- the default world (28 days) -----------------------------------------------------------------
@pytest.mark.slow
def test_default_world_crisis_found_with_response_and_recovery(default_world):
    """The default world's crisis (start 06-14, peak 06-16, back to normal by 06-21): found
    within a day, the brand's first reply after it started, and the recovery after the peak."""
    crisis = assert_planted_crisis_found(default_world["warehouse"], default_world["truths"]["planted"]["crisis"])
    assert crisis["started_at"] is not None and crisis["first_reply_at"] > crisis["started_at"]
    assert 0 < crisis["minutes_to_first_reply"] < 24 * 60
    assert crisis["minutes_to_first_response"] <= crisis["minutes_to_first_reply"]
    assert crisis["recovered_date"] is not None and crisis["recovered_date"] > crisis["peak_date"]
    assert crisis["recovered_date"] <= day(default_world["truths"]["planted"]["crisis"]["end"]) + timedelta(days=1)


@pytest.mark.slow
def test_daily_negatives_follow_the_worlds_count(default_world):
    """The mart's daily negatives against truths["listening"]["negative_brand_mentions_daily"].

    Not equal, by design: the scorer reads English only (62% of customers' mentions) and
    VADER misses many negatives ("Is it true @lumora is recalling ...?" scores neutral), and
    the world counts UTC days, the mart Berlin days (2 hours of each UTC day land on the next).
    Measured on seed 42: the mart finds 48% of the world's negatives on ordinary days and 29%
    on the crisis days (06-15..06-20), r = 0.98 between the two series. What must hold:
    - the same peak day (06-16: 749 vs 542 the next day in the world, a margin far beyond the
      1/12 of a day the time zone moves);
    - correlation >= 0.95 over the days both have (the scorer finds a steady share);
    - the anomalous days are the days the world has more than twice its median, give or take
      one day at the edges (the time-zone shift)."""
    warehouse, truths = default_world["warehouse"], default_world["truths"]
    world = {day(d): n for d, n in truths["listening"]["negative_brand_mentions_daily"].items()}
    rows = query(warehouse, "select date_day, negative_mentions, is_anomalous from marts.fct_negative_mentions_daily")
    mart = {d: n for d, n, _ in rows if d in world}
    flagged = {d for d, _, a in rows if a}
    assert set(mart) == set(world)
    assert max(mart, key=mart.get) == max(world, key=world.get)
    days = sorted(world)
    xs, ys = [world[d] for d in days], [mart[d] for d in days]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    r = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / math.sqrt(
        sum((x - mx) ** 2 for x in xs) * sum((y - my) ** 2 for y in ys)
    )
    assert r >= 0.95, r
    elevated = {d for d, n in world.items() if n > 2 * statistics.median(world.values())}
    assert len(flagged ^ elevated) <= 1, (sorted(flagged), sorted(elevated))
