"""Reconciliation across layers (warehouse/reconcile.py) on a copy of the session's warehouse: clean,
every check passes; with one row changed (in a mart table, or in raw under a staging view), the
matching check fails naming the platform or property, the day and both values. The session's
warehouse itself is never opened for writing."""

from __future__ import annotations

import shutil
from decimal import Decimal

import duckdb
import pytest
from conftest import TEST_SPEC

from warehouse.reconcile import (
    RESHAPED,
    conversions_counted_once,
    mart_spend_equals_staging,
    reconcile,
    staging_equals_raw,
    staging_pairs,
    web_sessions_equal_ga4,
)

START, END = TEST_SPEC.start, TEST_SPEC.end
WINDOW = f"{START}..{END}"


@pytest.fixture
def warehouse(materialized, tmp_path):
    """A writable copy of the session's warehouse."""
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(materialized["warehouse"], copy)
    con = duckdb.connect(str(copy))
    yield con
    con.close()


def failed(outcomes):
    return [o for o in outcomes if not o.passed]


def one(con, sql, params=None):
    return con.execute(sql, params or []).fetchall()[0]


def test_staging_pairs_come_from_the_manifest():
    """A staging model's only source is its raw table; of one that joins lookups, the source table
    it is named after; one that joins several tables none of which it is named after has no pair."""

    def source(name, table):
        return {"name": table, "schema": "raw", "identifier": f"{name}__{table}"}

    def model(name, *sources, layer="staging"):
        return {
            "resource_type": "model",
            "fqn": ["p", layer, name],
            "name": name,
            "schema": layer,
            "alias": name,
            "depends_on": {"nodes": [f"source.p.{s}" for s in sources] + ["model.p.other"]},
        }

    manifest = {
        "sources": {
            "source.p.fb.comments": source("facebook", "comments"),
            "source.p.fb.posts": source("facebook", "posts"),
            "source.p.x.users": source("x", "users"),
            "source.p.x.people": source("x", "people"),
        },
        "nodes": {
            "a": model("stg_facebook__comments", "fb.comments", "fb.posts"),
            "b": model("stg_facebook__page", "fb.posts"),
            "c": model("stg_x__mixed", "x.users", "x.people"),
            "d": model("fct_things", "fb.posts", layer="marts"),
        },
    }
    assert [(p.model, p.relation, p.raw) for p in staging_pairs(manifest)] == [
        ("stg_facebook__comments", "staging.stg_facebook__comments", "raw.facebook__comments"),
        ("stg_facebook__page", "staging.stg_facebook__page", "raw.facebook__posts"),
    ]


def test_the_session_warehouse_reconciles_across_layers(warehouse):
    outcomes = reconcile(warehouse, START, END)
    assert failed(outcomes) == []
    checked = {(o.check, o.asset) for o in outcomes if o.observed.get("checked", True)}
    for mart_check in [
        ("mart_spend_equals_staging", "marts.fct_campaign_performance_daily"),
        ("mart_spend_equals_staging", "marts.fct_paid_performance_daily"),
        ("mart_spend_equals_staging", "marts.fct_campaign_roi_daily"),
        ("web_sessions_equal_ga4", "marts.fct_web_traffic_daily"),
        ("web_sessions_equal_ga4", "marts.fct_social_traffic_daily"),
        ("conversions_counted_once", "marts.fct_campaign_roi_daily"),
    ]:
        assert mart_check in checked
    staged = {o.asset for o in outcomes if o.check == "staging_equals_raw" and o.observed.get("checked", True)}
    # single-source models, a model that joins lookups, and pivots compared at their grain
    assert {
        "staging.stg_meta_ads__ads_insights",
        "staging.stg_ga4__report_rows",
        "staging.stg_facebook__comments",
        "staging.stg_linkedin_ads__ad_analytics_by_campaign",
        "staging.stg_facebook__page_insights",
    } <= staged
    assert len(staged) >= 40
    unnested = [o for o in outcomes if o.asset == "staging.stg_linkedin__follower_demographics"]
    assert (
        unnested[0].observed["checked"] is False
        and RESHAPED["stg_linkedin__follower_demographics"].why in unnested[0].message
    )


def test_spend_changed_in_raw_under_a_staging_view_fails_naming_platform_day_and_values(warehouse):
    day, account, ad, currency = one(
        warehouse,
        """select date_start, account_id, ad_id, account_currency
        from raw.meta_ads__ads_insights where date_start between ? and ? and spend::decimal > 0
        order by date_start, ad_id limit 1""",
        [START, END],
    )
    (staged,) = one(
        warehouse,
        "select sum(spend) from staging.stg_meta_ads__ads_insights where date_day = ? and currency = ?",
        [day, currency],
    )
    assert not failed(mart_spend_equals_staging(warehouse, START, END))
    warehouse.execute(
        """update raw.meta_ads__ads_insights set spend = (spend::decimal(18, 2) + 1.25)::varchar
                         where date_start = ? and account_id = ? and ad_id = ?""",
        [day, account, ad],
    )
    bad = {o.asset: o for o in failed(mart_spend_equals_staging(warehouse, START, END))}
    assert set(bad) == {"marts.fct_campaign_performance_daily", "marts.fct_paid_performance_daily"}
    outcome = bad["marts.fct_campaign_performance_daily"]
    expected = staged + Decimal("1.25")
    assert outcome.rows == (
        {
            "platform": "meta_ads",
            "date_day": day.isoformat(),
            "currency": currency,
            "expected": float(expected),
            "got": float(staged),
        },
    )
    assert outcome.severity == "error" and outcome.partition == WINDOW
    assert (
        f"first: platform meta_ads, date_day {day}, currency {currency}: expected {float(expected)}, "
        f"got {float(staged)}"
    ) in outcome.message


def test_reporting_spend_changed_in_the_roi_mart_fails_naming_platform_and_day(warehouse):
    day, platform, campaign, spend = one(
        warehouse,
        """select date_day, platform, utm_campaign, spend_reporting
        from marts.fct_campaign_roi_daily where spend_reporting > 0 order by all limit 1""",
    )
    warehouse.execute(
        """update marts.fct_campaign_roi_daily set spend_reporting = spend_reporting + 10
                         where date_day = ? and platform = ? and utm_campaign = ?""",
        [day, platform, campaign],
    )
    (outcome,) = failed(mart_spend_equals_staging(warehouse, START, END))
    assert outcome.asset == "marts.fct_campaign_roi_daily" and len(outcome.rows) == 1
    row = outcome.rows[0]
    assert (row["platform"], row["date_day"]) == (platform, day.isoformat())
    assert row["got"] - row["expected"] == pytest.approx(10)
    assert f"platform {platform}, date_day {day}" in outcome.message


def test_sessions_changed_in_raw_ga4_fail_the_web_mart_naming_property_and_day(warehouse):
    prop, raw_day = one(
        warehouse,
        """select property_id, date from raw.ga4__analytics_report
        where sessions > 0 order by all limit 1""",
    )
    (total,) = one(
        warehouse,
        "select sum(sessions) from raw.ga4__analytics_report where property_id = ? and date = ?",
        [prop, raw_day],
    )
    warehouse.execute(
        """update raw.ga4__analytics_report set sessions = sessions + 7
        where rowid = (select min(rowid) from raw.ga4__analytics_report where property_id = ? and date = ?)""",
        [prop, raw_day],
    )
    (outcome,) = failed(web_sessions_equal_ga4(warehouse, START, END))
    day = f"{raw_day[:4]}-{raw_day[4:6]}-{raw_day[6:]}"
    assert outcome.asset == "marts.fct_web_traffic_daily"
    assert outcome.rows == ({"property_id": prop, "date_day": day, "expected": int(total) + 7, "got": int(total)},)
    assert f"first: property_id {prop}, date_day {day}: expected {int(total) + 7}, got {int(total)}" in outcome.message


def test_social_sessions_changed_in_the_social_mart_fail_naming_network_and_day(warehouse):
    day, prop, network = one(
        warehouse,
        """select date_day, property_id, social_platform
        from marts.fct_social_traffic_daily where social_sessions > 0 order by all limit 1""",
    )
    warehouse.execute(
        """update marts.fct_social_traffic_daily set social_sessions = social_sessions - 1
                         where date_day = ? and property_id = ? and social_platform = ?""",
        [day, prop, network],
    )
    (outcome,) = failed(web_sessions_equal_ga4(warehouse, START, END))
    assert outcome.asset == "marts.fct_social_traffic_daily"
    row = outcome.rows[0]
    assert (row["property_id"], row["social_platform"], row["date_day"]) == (prop, network, day.isoformat())
    assert row["expected"] - row["got"] == 1


def test_a_new_customer_counted_for_two_platforms_fails_naming_the_day(warehouse):
    """The deduplicated CPA counts each new customer once: a second count of one customer under
    another platform makes the day's sum exceed the distinct customers behind it."""
    day, platform, campaign = one(
        warehouse,
        """select date_day, platform, utm_campaign
        from marts.fct_campaign_roi_daily where new_customers > 0 order by all limit 1""",
    )
    (customers,) = one(
        warehouse, "select sum(new_customers) from marts.fct_campaign_roi_daily where date_day = ?", [day]
    )
    assert not failed(conversions_counted_once(warehouse, START, END))
    other = next(p for p in ("meta_ads", "google_ads", "linkedin_ads") if p != platform)
    warehouse.execute(
        """insert into marts.fct_campaign_roi_daily by name
        select * replace (? as platform, 1::bigint as new_customers, 0::bigint as leads)
        from marts.fct_campaign_roi_daily where date_day = ? and platform = ? and utm_campaign = ?""",
        [other, day, platform, campaign],
    )
    (outcome,) = failed(conversions_counted_once(warehouse, START, END))
    assert outcome.rows == (
        {
            "measure": "new_customers",
            "date_day": day.isoformat(),
            "expected": int(customers),
            "got": int(customers) + 1,
        },
    )
    assert (
        f"first: measure new_customers, date_day {day}: expected {int(customers)}, got {int(customers) + 1}"
        in outcome.message
    )


def test_a_raw_row_twice_under_a_staging_view_fails_naming_the_model(warehouse):
    """Raw holds one row per key; a second copy of a key (a load bug, a hand edit) reaches the
    staging view twice, which no longer equals raw after deduplication."""
    (rows,) = one(warehouse, "select count(*) from raw.meta_ads__ads_insights")
    warehouse.execute("insert into raw.meta_ads__ads_insights select * from raw.meta_ads__ads_insights limit 1")
    bad = failed(staging_equals_raw(warehouse))
    assert [o.asset for o in bad] == ["staging.stg_meta_ads__ads_insights"]
    assert bad[0].rows == (
        {"model": "stg_meta_ads__ads_insights", "raw": "raw.meta_ads__ads_insights", "expected": rows, "got": rows + 1},
    )
    assert "raw.meta_ads__ads_insights's distinct (date_start, account_id, ad_id)" in bad[0].message


def test_a_mart_the_warehouse_lacks_is_reported_as_not_checked(warehouse):
    warehouse.execute("drop table marts.fct_paid_performance_daily")
    outcomes = {o.asset: o for o in mart_spend_equals_staging(warehouse, START, END)}
    paid = outcomes["marts.fct_paid_performance_daily"]
    assert paid.observed == {"checked": False, "missing": ["marts.fct_paid_performance_daily"]}
    assert "not checked, the warehouse has no marts.fct_paid_performance_daily" in paid.message
    assert outcomes["marts.fct_campaign_performance_daily"].passed


def test_a_key_the_raw_table_lacks_is_a_warning_that_names_the_column(warehouse):
    """A stream declaration whose key is not the raw table's columns (a configured GA4 report,
    say) cannot be counted: a warning naming the column, not a pass."""
    outcomes = {o.asset: o for o in staging_equals_raw(warehouse, keys={"raw.x__posts": ("id", "no_such_column")})}
    posts = outcomes["staging.stg_x__posts"]
    assert not posts.passed and posts.severity == "warning" and posts.observed["checked"] is False
    assert "raw.x__posts cannot be counted by its key: no column no_such_column" in posts.message
