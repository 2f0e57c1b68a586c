"""The whole slice in Dagster, on the session's temporary warehouse, against the fake API
with faults on: raw, staging and mart equal the simulator's truths; checks pass; a re-run
of a partition changes nothing; the token appears nowhere in the run's records."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from decimal import Decimal

import pytest
from conftest import META_SECRET as SECRET  # noqa: E402
from conftest import TEST_SPEC
from dagster import materialize

from extractors import meta_ads
from orchestration.assets.dbt import DBT_DIR, dbt_models, dbt_resource
from orchestration.assets.streams import raw_assets, stream_asset
from orchestration.resources import SourceEnvironment, WarehouseResource
from orchestration.run import check_outcomes, layer_counts
from orchestration.sources.meta_ads import MetaAdsResource
from sampleworld.gen.meta_ads import PURCHASE
from warehouse.loader import connect
from warehouse.settings import Settings

pytestmark = pytest.mark.slow


def query(path, sql):
    with connect(path, read_only=True) as con:
        return con.execute(sql).fetchall()


def test_run_succeeds_with_every_check_passing(materialized):
    result = materialized["result"]
    assert result.success
    passed, failed = check_outcomes(result)
    assert failed == []
    # the quality gate (issue 15): load checks and the GX suite of every raw table, the marts'
    # suites and the reconciliations after dbt
    for check in ("load_reconciles", "reject_share", "conflicts", "gx_errors"):
        assert f"raw/meta_ads/ads_insights:{check}" in passed
    assert "marts/fct_paid_performance_daily:gx_errors" in passed
    assert "marts/fct_paid_performance_daily:mart_spend_equals_staging" in passed
    # dbt's data tests: one check per model holding all of its rules (dbt_project/macros/rules.sql)
    assert "marts/fct_paid_performance_daily:rules_fct_paid_performance_daily" in passed
    assert materialized["server"].faults_injected > 0  # the run really went through faults


def test_raw_has_every_simulated_row_once(materialized):
    truths = materialized["truths"]["meta_ads"]
    ((rows, distinct),) = query(
        materialized["warehouse"],
        "select count(*), count(distinct (date_start, account_id, ad_id)) from raw.meta_ads__ads_insights",
    )
    assert rows == distinct == truths["insight_rows"]


def test_every_injected_bad_record_is_in_rejects_with_its_reason(materialized):
    injected = materialized["server"].app.injected_bad
    assert injected, "the fixture's faults should have injected bad records"
    rejects = query(materialized["warehouse"], "select record, reason from raw._rejects where stream = 'ads_insights'")
    got = sorted(json.loads(r)["ad_id"] if "ad_id" in json.loads(r) else "(no ad_id)" for r, _ in rejects)
    want = sorted(b.get("ad_id", "(no ad_id)") for b in injected)
    assert got == want
    reasons = {reason for _, reason in rejects}
    assert reasons <= {"missing required field ad_id", "field date_start: not-a-valid-value is not a valid DATE"}


def test_schema_drift_is_kept_in_raw(materialized):
    ((n,),) = query(
        materialized["warehouse"],
        "select count(*) from raw.meta_ads__ads_insights where _record->>'x_fake_new_field' is not null",
    )
    assert n > 0  # a field the API added is loaded without breaking anything, and visible


def test_mart_spend_equals_the_simulator_to_the_cent(materialized):
    truths = materialized["truths"]["meta_ads"]
    got = query(
        materialized["warehouse"],
        "select currency, sum(spend) from marts.fct_paid_performance_daily group by 1 order by 1",
    )
    assert {c: Decimal(s).quantize(Decimal("0.01")) for c, s in got} == {
        c: Decimal(s) for c, s in truths["spend_by_currency"].items()
    }
    ((imps, clicks),) = query(
        materialized["warehouse"], "select sum(impressions), sum(clicks) from marts.fct_paid_performance_daily"
    )
    assert (imps, clicks) == (truths["impressions"], truths["clicks"])


def test_mart_conversions_equal_what_the_api_serves_now(materialized):
    """Recent conversions are provisional (restated): the mart holds the current values."""
    purchases, value = 0, {}
    for row in materialized["server"].app.current_rows():
        purchases += sum(int(a["value"]) for a in row.get("actions", []) if a["action_type"] == PURCHASE)
        for a in row.get("action_values", []):
            value[row["account_currency"]] = value.get(row["account_currency"], Decimal(0)) + Decimal(a["value"])
    ((convs,),) = query(materialized["warehouse"], "select sum(conversions) from marts.fct_paid_performance_daily")
    assert int(convs) == purchases > 0
    got = query(
        materialized["warehouse"],
        "select currency, sum(conversion_value) from marts.fct_paid_performance_daily group by 1",
    )
    assert {c: Decimal(v).quantize(Decimal("0.01")) for c, v in got} == value


def test_mart_rates_are_their_numerator_over_denominator(materialized):
    bad = query(
        materialized["warehouse"],
        """
        select count(*) from marts.fct_paid_performance_daily
        where abs(ctr - clicks / impressions) > 1e-12
           or abs(cpc - spend / nullif(clicks, 0)) > 1e-9
           or (conversions = 0 and cpa is not null)
           or (conversions > 0 and abs(cpa - spend / conversions) > 1e-9)
           or abs(roas - conversion_value / spend) > 1e-9""",
    )
    assert bad == [(0,)]
    tz = query(
        materialized["warehouse"],
        "select distinct currency, account_timezone from marts.fct_paid_performance_daily order by 1",
    )
    assert tz == [("EUR", "Europe/Berlin"), ("USD", "America/Los_Angeles")]


def test_rerunning_a_partition_changes_nothing(materialized, monkeypatch):
    # The fixture's fake adds a bad record to half its pages: on one day's 24 rows that is over the
    # default 5% reject share, which the quality gate would rightly stop at (tests/test_quality_gate.py).
    monkeypatch.setenv("SKW_REJECT_THRESHOLDS", "meta_ads/ads_insights=0.5")
    wh = materialized["warehouse"]
    before = layer_counts(wh), query(wh, "select sum(spend) from marts.fct_paid_performance_daily")
    day = (TEST_SPEC.start + timedelta(days=2)).isoformat()
    srv = materialized["server"]
    assert os.environ["META_BASE_URL"] == srv.url  # the fixture's fake, not the embedded one
    # Meta's settings from the environment (the fixture's fake), as a run outside sample mode reads them
    resources = {
        "meta_ads": MetaAdsResource(environment=SourceEnvironment()),
        "warehouse": WarehouseResource(),
        "dbt": dbt_resource(),
    }
    meta_raw = raw_assets([stream_asset(s, "meta_ads") for s in meta_ads.STREAMS])
    result = materialize(
        [*meta_raw, dbt_models()], partition_key=day, resources=resources, instance=materialized["instance"]
    )
    assert result.success
    after = layer_counts(wh), query(wh, "select sum(spend) from marts.fct_paid_performance_daily")
    for counts, _ in (before, after):  # the faulty fake injects other bad records this time
        counts["raw"].pop("_rejects")
    assert after == before
    meta = next(
        m.metadata
        for m in result.asset_materializations_for_node("raw_daily")
        if m.asset_key.to_user_string() == "raw/meta_ads/ads_insights"
    )
    # the same data again: everything read, nothing written
    assert meta["received"].value > 0 and meta["unchanged"].value == meta["loaded"].value
    assert (meta["inserted"].value, meta["updated"].value, meta["deleted"].value) == (0, 0, 0)
    # dbt starts from the state the previous run kept: it parses only what changed. (The
    # previous run of this warehouse's profile: another test's `make run` into another data
    # folder may have kept its own state in between, which makes the rerun above parse
    # everything; a second rerun must not.) dbt's parsing lines are in its debug log file, which
    # a run writes only when asked (DBT_LOG_LEVEL_FILE, warehouse/settings.py).
    monkeypatch.setenv("DBT_LOG_LEVEL_FILE", "debug")
    result = materialize(
        [*meta_raw, dbt_models()], partition_key=day, resources=resources, instance=materialized["instance"]
    )
    assert result.success
    (run_target,) = (DBT_DIR / "target").glob(f"dbt_models-{result.run_id[:7]}-*")
    # dbt rotates its debug log at 10 MB: the parsing lines are in the oldest file of the run
    log = "".join(p.read_text() for p in sorted(run_target.glob("dbt.log*")))
    assert "Partial parsing enabled" in log and "Unable to do partial parsing" not in log
    # a materialization's dbt writes no JSON artifacts (`dbt_build_args`): nothing reads them
    assert not (run_target / "run_results.json").exists() and not (run_target / "manifest.json").exists()


def test_landing_files_one_per_day_and_read_only(materialized):
    landing = Settings.from_env().landing_dir / "meta_ads" / "ads_insights"
    days = sorted(p.name for p in landing.iterdir())
    assert days[0] == f"partition={TEST_SPEC.start}" and days[-1] == f"partition={TEST_SPEC.end}"
    for f in landing.rglob("*.jsonl.gz"):
        assert not os.access(f, os.W_OK) or os.geteuid() == 0
        assert oct(f.stat().st_mode & 0o777) == "0o444"


def test_no_token_appears_in_any_event_record(materialized, fakes):
    """Every source's token (this test's Meta token and the embedded fakes' tokens of the
    other sources) is absent from the run's event log, metadata included."""
    from sampleworld.serve import fake_env

    tokens = {SECRET, *(v for k, v in fake_env(fakes).items() if k.endswith("TOKEN"))}
    assert len(tokens) >= 8
    instance, result = materialized["instance"], materialized["result"]
    records = instance.all_logs(result.run_id)
    assert len(records) > 20
    text = "\n".join(repr(r) for r in records)
    assert [t for t in tokens if t in text] == []
    assert "retry" in text  # retries were logged, with the token masked


def test_gx_check_fails_on_a_bad_raw_value(materialized, tmp_path):
    from expectations.runner import validate_table

    copy = tmp_path / "w.duckdb"
    copy.write_bytes(materialized["warehouse"].read_bytes())
    with connect(copy) as con:
        con.execute("update raw.meta_ads__ads_insights set spend = '12,50' where rowid = 3")
    days = [TEST_SPEC.start + timedelta(days=i) for i in range((TEST_SPEC.end - TEST_SPEC.start).days + 1)]
    result = validate_table(copy, "raw.meta_ads__ads_insights", days)
    assert result.success is False and result.blocking
    failure = next(f for f in result.failed if f["check"] == "spend_is_a_number")
    assert failure["column"] == "spend" and failure["sample"] == ["12,50"]
