"""The ads marts against the sample world's truths, on the session warehouse (the main job over
the 7-day test world, every source, faults on):

- spend per platform and account currency is the world's spend to the cent;
- spend in the reporting currency (EUR) per paid channel is the planted total per channel, to
  the cent, under the rounding rule the YAML states (rows rounded once each, so a sum of
  rounded rows lies within half a cent per row of the exact total; the exact total, from
  `spend_micros` and `fx_rate`, rounds to the truth);
- impressions and clicks per platform are the world's;
- the FX rate of every row is the team's rate of its day (or the latest earlier one), its
  date never after the row's day, and 1 for the reporting currency;
- every campaign is mapped to the team's utm_campaign; no key is duplicated.
"""

from __future__ import annotations

import csv
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest

from warehouse.loader import connect

MART = "marts.fct_campaign_performance_daily"
PERFORMANCE = "intermediate.int_ad_performance_daily"
FX = "intermediate.int_fx_rates_daily"
CENT = Decimal("0.01")
HALF_CENT = Decimal("0.005")
# Each ad platform is one paid channel of the sample world (sampleworld/gen/*.py CHANNEL).
CHANNEL_OF_PLATFORM = {"meta_ads": "meta_paid", "google_ads": "google_cpc", "linkedin_ads": "linkedin_paid"}


def query(materialized, sql: str, params=None) -> list[tuple]:
    with connect(materialized["warehouse"], read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def cents(x) -> Decimal:
    return Decimal(repr(x) if isinstance(x, float) else str(x)).quantize(CENT, rounding=ROUND_HALF_UP)


def test_spend_per_platform_and_currency_is_the_worlds(materialized):
    truths = materialized["truths"]
    rows = query(
        materialized,
        f"""
        select platform, currency, sum(spend), sum(spend_micros), count(*),
               bool_and(spend_micros % 10000 = 0)
        from {MART} group by 1, 2""",
    )
    got = {(p, c): (Decimal(str(s)), m, n, whole_cents) for p, c, s, m, n, whole_cents in rows}
    expected = {(p, c): Decimal(v) for p in CHANNEL_OF_PLATFORM for c, v in truths[p]["spend_by_currency"].items()}
    assert set(got) == set(expected)
    for key, truth in expected.items():
        spend, micros, n, whole_cents = got[key]
        # the exact amount, rounded once, is the world's spend to the cent
        assert cents(Decimal(micros) / Decimal(1_000_000)) == truth, key
        # the rounded rows: exact where every row is whole cents (Meta, LinkedIn), else within
        # the YAML's rounding rule (half a cent per row: Google's micros)
        if whole_cents:
            assert spend == truth, key
        else:
            assert abs(spend - truth) <= HALF_CENT * n, (key, spend, truth)


def test_spend_in_eur_per_channel_is_the_planted_total(materialized):
    planted = materialized["truths"]["planted"]["totals_per_channel"]
    rows = query(
        materialized,
        f"""
        select platform, sum(spend_reporting), sum(spend_micros / 1000000.0 / fx_rate), count(*),
               min(reporting_currency), max(reporting_currency)
        from {MART} group by 1""",
    )
    assert {r[0] for r in rows} == set(CHANNEL_OF_PLATFORM)
    for platform, spend_reporting, exact, n, cur_min, cur_max in rows:
        truth = Decimal(planted[CHANNEL_OF_PLATFORM[platform]]["spend_eur"])
        assert cur_min == cur_max == "EUR"
        assert cents(exact) == truth, platform
        assert abs(Decimal(str(spend_reporting)) - truth) <= HALF_CENT * n, (platform, spend_reporting, truth)


def test_impressions_and_clicks_per_platform_are_the_worlds(materialized):
    truths = materialized["truths"]
    rows = query(materialized, f"select platform, sum(impressions), sum(clicks) from {MART} group by 1")
    assert {p: (i, c) for p, i, c in rows} == {
        p: (truths[p]["impressions"], truths[p]["clicks"]) for p in CHANNEL_OF_PLATFORM
    }


def test_fx_rate_is_the_teams_rate_of_the_day(materialized, world):
    with open(world / "config" / "fx_rates.csv", newline="") as f:
        team = {
            (date.fromisoformat(r["date"]), r["currency"]): float(r["rate"])
            for r in csv.DictReader(f)
            if r["base"] == "EUR"
        }
    rows = query(materialized, f"select date_day, currency, fx_rate, fx_rate_date from {MART}")
    assert rows
    for day, currency, rate, rate_date in rows:
        assert rate_date <= day
        if currency == "EUR":
            assert rate == 1.0 and rate_date == day
        else:
            assert rate_date == max(d for d, c in team if c == currency and d <= day)
            assert rate == pytest.approx(team[(rate_date, currency)], rel=1e-12)


def test_fx_days_without_a_quote_carry_the_latest_earlier_rate(materialized):
    """Past the team's last quote every day keeps that quote and its date (never a later one)."""
    rows = query(
        materialized,
        f"""
        with last_quote as (
            select currency, max(rate_date) as last_date from {FX} where currency <> 'EUR' group by 1
        )
        select fx.currency, count(*) filter (where fx.date_day > last_quote.last_date),
               count(*) filter (where fx.date_day > last_quote.last_date and fx.rate_date <> last_quote.last_date),
               count(*) filter (where fx.rate_date > fx.date_day)
        from {FX} as fx join last_quote using (currency) group by 1""",
    )
    assert rows
    for currency, days_after, wrong_date, future in rows:
        assert days_after > 0, currency  # the spine runs past the last quote (to today)
        assert wrong_date == 0 and future == 0, currency


def test_every_campaign_is_mapped_to_the_teams_utm_campaign(materialized):
    utms = set(materialized["truths"]["config"]["utm_campaigns"])
    rows = query(materialized, f"select distinct platform, campaign_id, utm_campaign from {MART}")
    assert rows and all(utm in utms for _, _, utm in rows), rows


@pytest.mark.parametrize(
    "relation, key",
    [
        (MART, "date_day, platform, account_id, campaign_id"),
        (PERFORMANCE, "date_day, platform, account_id, campaign_id"),
        (FX, "date_day, currency"),
    ],
)
def test_no_duplicate_keys(materialized, relation, key):
    ((total, distinct),) = query(materialized, f"select count(*), count(distinct ({key})) from {relation}")
    assert total > 0 and total == distinct


def test_mart_columns_are_typed_for_a_bi_tool(materialized):
    types = dict(
        query(
            materialized,
            """
        select column_name, data_type from information_schema.columns
        where table_schema = 'marts' and table_name = 'fct_campaign_performance_daily'""",
        )
    )
    for col in ("impressions", "clicks", "reach", "spend_micros", "platform_leads", "response_base"):
        assert types[col] == "BIGINT", col
    for col in ("spend", "spend_reporting", "platform_conversion_value", "platform_conversion_value_reporting"):
        assert types[col] == "DECIMAL(18,2)", col
    for col in ("fx_rate", "platform_conversions", "ctr", "cpc", "platform_cpa", "platform_roas", "response_rate"):
        assert types[col] == "DOUBLE", col
