"""The code location loads (in sample mode, which conftest turns on); asset keys, checks, jobs
and schedules are as reviewed (a rename shows up here); the project's own configuration turns
telemetry off where each process starts."""

from __future__ import annotations

import json
import os
from datetime import datetime

import yaml

from orchestration.assets.dbt import DBT_DIR, dbt_env, dbt_window, environment
from orchestration.definitions import defs
from orchestration.instance import ensure_dagster_home
from warehouse.settings import TELEMETRY_OFF, Settings


def _keys(source: str, *streams: str) -> set[str]:
    return {f"raw/{source}/{s}" for s in streams}


def _models(layer: str, *names: str) -> set[str]:
    return {f"{layer}/{n}" for n in names}


# A snapshot: an asset renamed or lost by accident shows up here in review.
EXPECTED_ASSETS = {
    # staging: one model per raw table
    *_models(
        "staging",
        "stg_meta_ads__ads_insights",
        "stg_meta_ads__ad_accounts",
        *(
            f"stg_facebook__{n}"
            for n in (
                "comments",
                "conversations",
                "messages",
                "page_followers",
                "page_insights",
                "post_insights",
                "posts",
            )
        ),
        *(
            f"stg_instagram__{n}"
            for n in (
                "account_followers",
                "account_insights",
                "conversations",
                "follower_demographics",
                "media",
                "media_insights",
                "messages",
            )
        ),
        "stg_ga4__report_rows",
        *(f"stg_google_ads__{n}" for n in ("ad_group_daily", "campaigns", "customer_daily", "customers")),
        *(f"stg_hubspot__{n}" for n in ("contacts", "deal_contacts", "deals")),
        *(
            f"stg_linkedin__{n}"
            for n in ("follower_demographics", "follower_gains", "network_sizes", "share_statistics")
        ),
        *(f"stg_linkedin_ads__{n}" for n in ("ad_accounts", "ad_analytics_by_campaign", "ad_campaigns")),
        "stg_listening__mentions",
        "stg_listening__queries",
        "stg_survey__responses",
        *(
            f"stg_team_config__{n}"
            for n in (
                "campaigns",
                "competitors",
                "employees",
                "experiments",
                "fx_rates",
                "goals",
                "influencers",
                "kpi_registry",
            )
        ),
        "stg_enrichment__text_sentiments",
        *(f"stg_x__{n}" for n in ("mention_counts", "mentions", "post_metrics", "posts", "users")),
        *(
            f"stg_youtube__{n}"
            for n in (
                "audience_age_gender",
                "audience_countries",
                "channel_analytics_daily",
                "channels",
                "video_analytics_daily",
                "videos",
            )
        ),
    ),
    *_models(
        "intermediate",
        "int_account_metrics_daily",
        "int_ad_performance_daily",
        "int_audience_demographics_daily",
        "int_campaigns_mapped",
        "int_crm_contacts",
        "int_crm_deals",
        "int_followers_daily",
        "int_fx_rates_daily",
        "int_post_metrics_daily",
        "int_post_metrics_lifetime",
        "int_post_snapshots_unioned",
        "int_post_topic_tags",
        "int_posts_unioned",
        "int_touchpoints",
        "int_web_sessions_daily",
        # issue 12: voice, care, experiments, partners, scorecard
        "int_texts_scored",
        "int_mentions_daily",
        "int_brand_negative_mentions_daily",
        "int_care_inbound_items",
        "int_feedback_texts",
        "int_feedback_themes",
        "int_experiment_variants_daily",
        "int_partner_activity_daily",
        "int_kpi_mappings",
        "int_kpi_values_daily",
    ),
    *_models(
        "marts",
        "fct_attribution_by_channel",
        "fct_attribution_credits",
        "fct_audience_demographics_daily",
        "fct_campaign_performance_daily",
        "fct_campaign_roi_daily",
        "fct_channel_performance_daily",
        "fct_clv_by_channel",
        "fct_content_performance",
        "fct_customer_retention_cohorts",
        "fct_funnel_daily",
        "fct_leads_daily",
        "fct_paid_performance_daily",
        "fct_post_performance",
        "fct_social_traffic_daily",
        "fct_utm_hygiene_by_campaign",
        "fct_utm_hygiene_daily",
        "fct_web_traffic_daily",
        # issue 12
        "fct_sentiment_daily",
        "fct_negative_mentions_daily",
        "fct_crises",
        "fct_share_of_voice_daily",
        "fct_competitor_benchmark",
        "fct_care_responses",
        "fct_care_weekly",
        "fct_care_unanswered_queue",
        "fct_csat",
        "fct_feedback_daily",
        "fct_feedback_themes",
        "fct_negative_feedback_queue",
        "fct_ab_test_results",
        "fct_influencer_impact",
        "fct_employee_advocacy",
        "fct_ugc_vs_brand_daily",
        "fct_scorecard",
        "fct_scorecard_contributions",
    ),
    # the sentiment step between raw and dbt
    "enrichment/text_sentiment",
    *_keys("meta_ads", "ads_insights", "ad_accounts"),
    *_keys(
        "facebook", "posts", "post_insights", "page_insights", "page_followers", "comments", "conversations", "messages"
    ),
    *_keys(
        "instagram",
        "media",
        "media_insights",
        "account_insights",
        "account_followers",
        "follower_demographics",
        "conversations",
        "messages",
    ),
    *_keys("google_ads", "ad_group_daily", "customer_daily", "customers", "campaigns"),
    *_keys(
        "linkedin",
        "share_statistics",
        "follower_gains",
        "follower_demographics",
        "network_size",
        "ad_accounts",
        "ad_campaigns",
        "ad_analytics_by_campaign",
    ),
    *_keys("ga4", "analytics_report"),
    *_keys("hubspot", "contacts", "deals", "deal_contacts"),
    *_keys("x", "posts", "post_metrics", "users", "mentions", "mention_counts"),
    *_keys(
        "youtube",
        "channels",
        "videos",
        "video_analytics_daily",
        "channel_analytics_daily",
        "audience_age_gender",
        "audience_country",
    ),
    *_keys("listening", "queries", "mentions"),
    *_keys("survey", "responses"),
    *_keys(
        "team_config",
        "goals",
        "kpi_registry",
        "competitors",
        "influencers",
        "employees",
        "campaigns",
        "fx_rates",
        "experiments",
    ),
}
# The serving database, published whole after each build (tests/test_serving.py).
EXPECTED_ASSETS.add("serving/publish")
# The semantic layer's time spine (dbt_project/models/semantic/) and the KPI report after the marts.
EXPECTED_ASSETS |= {"semantic/metricflow_time_spine", "serving/kpi_report"}
# Entities and rosters, read whole on every run, and the serving database; everything else is daily-partitioned.
UNPARTITIONED = {
    "serving/publish",
    *_keys("meta_ads", "ad_accounts"),
    *_keys("facebook", "conversations"),
    *_keys("instagram", "conversations"),
    *_keys("google_ads", "customers", "campaigns"),
    *_keys("linkedin", "ad_accounts", "ad_campaigns"),
    *_keys("x", "posts"),
    *_keys("youtube", "videos"),
    *_keys("listening", "queries"),
    *(a for a in EXPECTED_ASSETS if a.startswith("raw/team_config/")),
}


def test_asset_keys_snapshot():
    graph = defs.resolve_asset_graph()
    assert {k.to_user_string() for k in graph.get_all_asset_keys()} == EXPECTED_ASSETS


def test_lineage_runs_raw_to_staging_to_mart():
    graph = defs.resolve_asset_graph()
    mart = next(k for k in graph.get_all_asset_keys() if k.to_user_string() == "marts/fct_paid_performance_daily")
    parents = {p.to_user_string() for p in graph.get(mart).parent_keys}
    assert parents == {"staging/stg_meta_ads__ads_insights", "staging/stg_meta_ads__ad_accounts"}
    stg = next(k for k in graph.get_all_asset_keys() if k.to_user_string() == "staging/stg_meta_ads__ads_insights")
    assert {p.to_user_string() for p in graph.get(stg).parent_keys} == {"raw/meta_ads/ads_insights"}


def test_dated_assets_are_daily_partitioned_and_rosters_are_not():
    graph = defs.resolve_asset_graph()
    unpartitioned = {k.to_user_string() for k in graph.get_all_asset_keys() if graph.get(k).partitions_def is None}
    assert unpartitioned == UNPARTITIONED


def test_checks_cover_raw_and_mart():
    checks = {(k.asset_key.to_user_string(), k.name) for k in defs.resolve_asset_graph().asset_check_keys}
    for check in ("load_reconciles", "reject_share", "conflicts", "gx_errors", "gx_warnings"):
        assert ("raw/meta_ads/ads_insights", check) in checks
    assert {("marts/fct_paid_performance_daily", c) for c in ("gx_errors", "mart_spend_equals_staging")} <= checks
    mart_checks = {name for asset, name in checks if asset == "marts/fct_paid_performance_daily"}
    # dbt's rules of the model (one `rules` test), its GX suite and its reconciliation
    assert mart_checks == {"rules_fct_paid_performance_daily", "gx_errors", "gx_warnings", "mart_spend_equals_staging"}


def test_jobs_and_schedules():
    from orchestration import sources

    names = [m.RESOURCE_KEY for m in sources.modules()]
    assert "meta_ads" in names
    assert sorted(j.name for j in defs.jobs) == sorted(
        ["main", "transform", "load_inbox", *(f"ingest_{n}" for n in names)]
    )
    assert sorted(s.name for s in defs.schedules) == sorted(["transform_daily", *(f"ingest_{n}_daily" for n in names)])


def test_a_source_schedule_rereads_its_restatement_window():
    from datetime import date

    from dagster import build_schedule_context

    from orchestration.schedules import lookback_range

    assert lookback_range(date(2026, 6, 30), 28) == (date(2026, 6, 2), date(2026, 6, 29))
    assert lookback_range(date(2026, 6, 30), 0) == (date(2026, 6, 29), date(2026, 6, 29))
    sched = next(s for s in defs.schedules if s.name == "ingest_meta_ads_daily")
    ctx = build_schedule_context(scheduled_execution_time=datetime(2026, 6, 30, 5, 0))
    (request,) = sched.evaluate_tick(ctx).run_requests
    # sample mode (the session's): Meta's 28 days up to the sample world's last day (2026-06-28),
    # not the calendar's yesterday; outside it, up to yesterday (tests/test_schedules.py)
    assert request.tags["dagster/asset_partition_range_start"] == "2026-06-01"
    assert request.tags["dagster/asset_partition_range_end"] == "2026-06-28"


def test_dbt_window_is_inclusive_and_set_only_while_dbt_starts(monkeypatch):
    assert dbt_window(datetime(2026, 6, 1), datetime(2026, 6, 29)) == {
        "SKW_DBT_START_DATE": "2026-06-01",
        "SKW_DBT_END_DATE": "2026-06-28",
    }
    assert dbt_window(datetime(2026, 6, 3), datetime(2026, 6, 4)) == {
        "SKW_DBT_START_DATE": "2026-06-03",
        "SKW_DBT_END_DATE": "2026-06-03",
    }
    monkeypatch.setenv("SKW_DBT_START_DATE", "2000-01-01")
    monkeypatch.delenv("SKW_DBT_END_DATE", raising=False)
    with environment(dbt_window(datetime(2026, 6, 3), datetime(2026, 6, 4))):
        assert (os.environ["SKW_DBT_START_DATE"], os.environ["SKW_DBT_END_DATE"]) == ("2026-06-03", "2026-06-03")
    assert os.environ["SKW_DBT_START_DATE"] == "2000-01-01" and "SKW_DBT_END_DATE" not in os.environ


def test_telemetry_is_off_by_project_configuration(monkeypatch, tmp_path):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    home = ensure_dagster_home()
    assert home == tmp_path / "home"
    cfg = yaml.safe_load((home / "dagster.yaml").read_text())
    assert cfg["telemetry"] == {"enabled": False}
    flags = yaml.safe_load((DBT_DIR / "dbt_project.yml").read_text())["flags"]
    assert flags["send_anonymous_usage_stats"] is False and flags["version_check"] is False
    assert not (DBT_DIR / "packages.yml").exists() and not (DBT_DIR / "dependencies.yml").exists()
    # every dbt process is given it, with the warehouse it is to build
    env = Settings.from_env().dbt_env()
    assert env["DBT_SEND_ANONYMOUS_USAGE_STATS"] == "false" and env["DO_NOT_TRACK"] == "1"


def test_the_code_location_dagster_loads_turns_telemetry_off_in_its_process():
    """`dagster dev` and a run's worker load `code_location`: it applies the policy to its own
    process (the other entry point, `make run`, is tests/test_make_run.py's)."""
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in TELEMETRY_OFF}
    code = (
        "import os, json; from orchestration.definitions import code_location; d = code_location(); "
        f"print('POLICY ' + json.dumps({{k: os.environ.get(k) for k in {sorted(TELEMETRY_OFF)!r}}}), len(d.jobs))"
    )
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(x for x in proc.stdout.splitlines() if x.startswith("POLICY "))
    assert json.loads(line.split(" ", 1)[1].rsplit(" ", 1)[0]) == TELEMETRY_OFF


def test_dbt_reads_the_warehouse_of_the_run_and_has_no_default_of_its_own(tmp_path):
    """The warehouse path reaches dbt by one channel: the `warehouse` resource the raw layer was
    loaded with. Without it in its environment, dbt refuses to start, naming the variable,
    rather than build into a file of its own choosing."""
    import subprocess

    from orchestration.assets.dbt import DBT_EXECUTABLE, dbt_models

    assert "warehouse" in dbt_models().required_resource_keys
    env = {k: v for k, v in os.environ.items() if k not in ("SKW_WAREHOUSE_PATH", "SKW_DUCKDB_MEMORY_LIMIT")}
    proc = subprocess.run(
        [
            DBT_EXECUTABLE,
            "parse",
            "--profiles-dir",
            str(DBT_DIR),
            "--target-path",
            str(tmp_path / "target"),
            "--no-partial-parse",
        ],
        cwd=DBT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode != 0 and "SKW_WAREHOUSE_PATH" in proc.stdout + proc.stderr
    # what a run gives it: the resource's path, whatever the environment says
    assert dbt_env(Settings.from_env(), tmp_path / "w.duckdb")["SKW_WAREHOUSE_PATH"] == str(tmp_path / "w.duckdb")


def test_every_raw_table_has_a_staging_model():
    """Issue 11: staging for every raw table, so no source's data stops at raw."""
    graph = defs.resolve_asset_graph()
    raw = [k for k in graph.get_all_asset_keys() if k.to_user_string().startswith("raw/")]
    orphans = [
        k.to_user_string()
        for k in raw
        if not any(c.to_user_string().startswith("staging/") for c in graph.get(k).child_keys)
    ]
    assert orphans == []
