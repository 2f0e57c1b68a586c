"""Data quality as a gate (issue 15), through Dagster: bad data injected through the fakes makes
the matching asset check fail with a message naming the table, the column and the value; an
error blocks everything downstream in the run (no mart is rebuilt with the bad data) and fails
the run; a warning shows and blocks nothing. On clean data every check passes.

Bounded: one copy of the session warehouse (the `materialized` main-job run over the 7-day test
world, never modified) and two runs of a few streams and the dbt models downstream of them:
- a *warning* run (Meta's insights with one key sent twice with different clicks, GA4 with a
  campaign tagged "Summer Launch 2026!"), which rebuilds the downstream marts;
- an *error* run (Meta's insights with a negative spend, an unknown currency and a day served
  with 90% of its rows missing; every survey response with an unreadable timestamp), which
  must leave the marts as the warning run left them.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime, timedelta

import duckdb
import pytest

from sampleworld.fakes.base import FakeServer, FaultConfig
from sampleworld.serve import fake_modules

START, END = date(2026, 6, 1), date(2026, 6, 7)
INSIGHTS, GA4, SURVEY = "raw/meta_ads/ads_insights", "raw/ga4/analytics_report", "raw/survey/responses"
NEGATIVE_DAY, CURRENCY_DAY, SHORT_DAY, CONFLICT_DAY = "2026-06-03", "2026-06-04", "2026-06-07", "2026-06-02"
BROKEN_UTM = "Summer Launch 2026!"
LAYERS = {"raw", "enrichment", "staging", "intermediate", "marts"}
MARTS = ("fct_paid_performance_daily", "fct_campaign_performance_daily", "fct_web_traffic_daily", "fct_csat")


def _first_of_day(records: list[dict], day: str) -> str | None:
    """The ad id a tamper picks on a day: the smallest in the page (the same on every retry)."""
    ids = sorted(r["ad_id"] for r in records if r.get("date_start") == day and "ad_id" in r)
    return ids[0] if ids else None


def tamper_warning(app: str, records: list[dict]) -> list[dict]:
    if app == "meta_ads":
        victim = _first_of_day(records, CONFLICT_DAY)
        extra = [
            {**r, "clicks": str(int(r["clicks"]) + 7)}
            for r in records
            if r.get("date_start") == CONFLICT_DAY and r.get("ad_id") == victim
        ]
        return records + extra
    if app == "ga4":
        return [
            {
                **r,
                "dimensionValues": [
                    {**v, "value": BROKEN_UTM} if v.get("value") == "summer_launch_2026" else v
                    for v in r.get("dimensionValues", [])
                ],
            }
            for r in records
        ]
    return records


def tamper_error(app: str, records: list[dict]) -> list[dict]:
    if app == "meta_ads":
        negative, odd = _first_of_day(records, NEGATIVE_DAY), _first_of_day(records, CURRENCY_DAY)
        kept = sorted(r["ad_id"] for r in records if r.get("date_start") == SHORT_DAY)[:1]
        out = []
        for r in records:
            if r.get("date_start") == SHORT_DAY and r.get("ad_id") not in kept:
                continue  # the day served with most of its rows missing
            if r.get("date_start") == NEGATIVE_DAY and r.get("ad_id") == negative:
                r = {**r, "spend": "-12.34"}
            if r.get("date_start") == CURRENCY_DAY and r.get("ad_id") == odd:
                r = {**r, "account_currency": "XYZ"}
            out.append(r)
        return out
    if app == "survey":
        return [{**r, "submitted_at": "yesterday-ish"} for r in records]
    return records


def _copy(source, target):
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    wal = source.with_name(source.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, target.with_name(target.name + ".wal"))
    return target


def mart_digest(path) -> dict[str, tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {m: con.execute(f"select count(*), sum(hash(t)) from marts.{m} as t").fetchone() for m in MARTS}


@pytest.fixture(scope="module")
def gate(materialized, world, tmp_path_factory):
    """The two runs on a copy of the session warehouse: {"warning"|"error": (result, quality rows)}."""
    from dagster import AssetKey, AssetSelection, DagsterInstance, Definitions, define_asset_job, in_process_executor

    from orchestration.definitions import build_definitions
    from orchestration.instance import instance_settings
    from orchestration.partitions import daily_partitions

    data = tmp_path_factory.mktemp("gate") / "data"
    warehouse = _copy(materialized["warehouse"], data / "warehouse.duckdb")
    mode = {"tamper": tamper_warning}
    faults = FaultConfig(tamper=lambda app, records: mode["tamper"](app, records))
    mods = {m.NAME: m for m in fake_modules()}
    servers = {n: FakeServer(mods[n].make_app(world), faults).start() for n in ("meta_ads", "ga4", "survey")}
    mp = pytest.MonkeyPatch()
    try:
        mp.setenv("SKW_DATA_DIR", str(data))
        mp.setenv("SKW_WAREHOUSE_PATH", str(warehouse))
        for n, srv in servers.items():
            for k, v in mods[n].env(srv.url, srv.app).items():
                mp.setenv(k, v)
        defs = build_definitions()
        graph = defs.resolve_asset_graph()
        instance = DagsterInstance.ephemeral(settings=instance_settings())
        tags = {
            "dagster/asset_partition_range_start": START.isoformat(),
            "dagster/asset_partition_range_end": END.isoformat(),
        }
        out = {"warehouse": warehouse, "data": data, "digest": {}, "graph": graph}
        for name, tamper, streams in (
            ("warning", tamper_warning, (INSIGHTS, GA4)),
            ("error", tamper_error, (INSIGHTS, GA4, SURVEY)),
        ):
            mode["tamper"] = tamper
            raw = [AssetKey(s.split("/")) for s in streams]
            # the raw streams and the models built from them (not what publishes or reports on them)
            keys = {k for k in AssetSelection.assets(*raw).downstream().resolve(graph) if k.path[0] in LAYERS}
            job = define_asset_job(
                f"gate_{name}",
                selection=AssetSelection.assets(*keys),
                partitions_def=daily_partitions,
                executor_def=in_process_executor,
            )
            result = (
                Definitions.merge(defs, Definitions(jobs=[job]))
                .resolve_job_def(f"gate_{name}")
                .execute_in_process(instance=instance, tags=tags, raise_on_error=False)
            )
            with duckdb.connect(str(warehouse), read_only=True) as con:
                rows = con.execute(
                    """select "check", asset, severity, passed, failed_expectations, observed
                       from quality.check_results where run_id = ?""",
                    [result.run_id],
                ).fetchall()
            out[name] = (result, rows)
            out["digest"][name] = mart_digest(warehouse)
        yield out
    finally:
        mp.undo()
        for srv in servers.values():
            srv.stop()


def evaluation(result, asset: str, check: str):
    found = [
        e
        for e in result.get_asset_check_evaluations()
        if (e.asset_key.to_user_string(), e.check_name) == (asset, check)
    ]
    assert found, f"no evaluation of {asset}:{check}"
    return found[0]


def failed_messages(ev) -> list[str]:
    return [f["message"] for f in ev.metadata["failed_expectations"].value]


# -- errors: each named, the run fails, nothing downstream rebuilt -----------------------------


def test_a_negative_spend_fails_the_raw_suite_naming_table_column_and_value(gate):
    result, _ = gate["error"]
    ev = evaluation(result, INSIGHTS, "gx_errors")
    assert not ev.passed and ev.severity.value == "ERROR"
    msg = next(m for m in failed_messages(ev) if "spend_not_negative" in m)
    assert msg.startswith("raw.meta_ads__ads_insights.spend:") and '"-12.34"' in msg


def test_an_unknown_currency_fails_the_raw_suite_naming_table_column_and_value(gate):
    ev = evaluation(gate["error"][0], INSIGHTS, "gx_errors")
    msg = next(m for m in failed_messages(ev) if "account_currency_iso_4217" in m)
    assert msg.startswith("raw.meta_ads__ads_insights.account_currency:") and '"XYZ"' in msg


def test_a_day_with_90_percent_fewer_rows_fails_the_raw_suite_naming_the_day(gate):
    ev = evaluation(gate["error"][0], INSIGHTS, "gx_errors")
    msg = next(m for m in failed_messages(ev) if "rows_against_previous_days" in m)
    assert msg.startswith("raw.meta_ads__ads_insights") and "date_start" in msg and SHORT_DAY in msg


def test_every_row_of_a_stream_rejected_fails_its_load_check_naming_field_and_value(gate):
    ev = evaluation(gate["error"][0], SURVEY, "reject_share")
    assert not ev.passed and ev.severity.value == "ERROR"
    (msg,) = failed_messages(ev)
    assert msg.startswith("raw.survey__responses ") and "records rejected (share 100.00%" in msg
    assert "submitted_at" in msg and "yesterday-ish" in msg
    assert ev.metadata["offending_rows"].value  # the rejected lines and their reasons


def test_an_error_fails_the_run_and_no_mart_is_rebuilt_with_the_bad_data(gate):
    result, _ = gate["error"]
    assert not result.success
    built = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert INSIGHTS in built  # raw is loaded (the bad rows are kept, visible) ...
    assert not [k for k in built if not k.startswith("raw/")]  # ... and nothing downstream ran
    assert gate["digest"]["error"] == gate["digest"]["warning"]
    with duckdb.connect(str(gate["warehouse"]), read_only=True) as con:
        assert con.execute("select count(*) from raw.meta_ads__ads_insights where spend = '-12.34'").fetchone()[0] >= 1
        assert con.execute("select min(spend) from marts.fct_paid_performance_daily").fetchone()[0] >= 0
        assert (
            con.execute("select count(*) from marts.fct_paid_performance_daily where currency = 'XYZ'").fetchone()[0]
            == 0
        )


def test_error_results_are_recorded_in_the_quality_schema_and_the_data_docs(gate):
    result, rows = gate["error"]
    site = gate["data"] / "quality" / "data_docs" / "validations"
    assert ("raw", "meta_ads__ads_insights", result.run_id) in {
        p.relative_to(site).parts[:3] for p in site.rglob("*.html")
    }
    failed = {(check, asset): (severity, json.loads(f)) for check, asset, severity, passed, f, _ in rows if not passed}
    assert set(failed) >= {("gx_errors", INSIGHTS), ("reject_share", SURVEY)}
    assert failed[("reject_share", SURVEY)][0] == "error"
    assert any("XYZ" in f["message"] for f in failed[("gx_errors", INSIGHTS)][1])


# -- warnings: shown, nothing blocked ----------------------------------------------------------


def test_a_key_sent_twice_with_different_values_is_a_conflict_naming_the_column_and_values(gate):
    result, _ = gate["warning"]
    ev = evaluation(result, INSIGHTS, "conflicts")
    assert not ev.passed and ev.severity.value == "WARN"
    (msg,) = failed_messages(ev)
    # a key per Meta account (a report page each), each named with the field that differs
    assert msg.startswith("raw.meta_ads__ads_insights ") and "key(s) came in more than one version" in msg
    assert ev.metadata["observed"].value["conflicts"] >= 1
    assert f"date_start={CONFLICT_DAY}" in msg and "clicks " in msg and " vs " in msg


def test_a_broken_utm_is_a_warning_naming_table_column_and_value(gate):
    ev = evaluation(gate["warning"][0], GA4, "gx_warnings")
    assert not ev.passed and ev.severity.value == "WARN"
    msg = next(m for m in failed_messages(ev) if "utm_campaign_format" in m)
    assert msg.startswith("raw.ga4__analytics_report.sessionCampaignName:") and BROKEN_UTM in msg


def test_warnings_block_nothing_the_marts_are_rebuilt_and_the_run_succeeds(gate):
    result, rows = gate["warning"]
    assert result.success
    built = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert {"marts/fct_paid_performance_daily", "marts/fct_web_traffic_daily"} <= built
    errors = [(c, a) for c, a, severity, passed, *_ in rows if not passed and severity == "error"]
    assert errors == []


def test_a_source_not_materialized_shows_as_stale_in_the_results(gate):
    """The warning run's instance has materialized two sources only: the rest are recorded as
    never materialized (freshness unknown), the two as fresh."""
    _, rows = gate["warning"]
    fresh = {
        asset: (passed, json.loads(obs)["state"]) for check, asset, _, passed, _, obs in rows if check == "freshness"
    }
    assert fresh[INSIGHTS] == (True, "PASS") and fresh[GA4] == (True, "PASS")
    assert fresh["raw/hubspot/contacts"] == (False, "UNKNOWN")


# -- freshness ----------------------------------------------------------------------------------


def test_every_source_asset_declares_a_freshness_policy(gate):
    from orchestration.checks import SOURCE_FRESHNESS

    graph = gate["graph"]
    raw = [k for k in graph.get_all_asset_keys() if k.path[0] == "raw"]
    assert len(raw) >= 50
    assert all(graph.get(k).freshness_policy == SOURCE_FRESHNESS for k in raw)


def test_freshness_follows_the_policy_windows():
    from dagster import AssetKey, AssetMaterialization, DagsterInstance

    from orchestration.checks import freshness_rows

    instance = DagsterInstance.ephemeral()
    fresh, never = AssetKey(["raw", "a", "b"]), AssetKey(["raw", "c", "d"])
    instance.report_runless_asset_event(AssetMaterialization(fresh))
    now = datetime.now(UTC)
    states = {
        hours: {
            r.asset: (r.observed["state"], r.severity, r.passed)
            for r in freshness_rows(instance, [fresh, never], "r", now + timedelta(hours=hours))
        }
        for hours in (1, 30, 60)
    }
    assert states[1]["raw/a/b"] == ("PASS", "warning", True)
    assert states[30]["raw/a/b"] == ("WARN", "warning", False)
    assert states[60]["raw/a/b"] == ("FAIL", "error", False)
    assert states[1]["raw/c/d"] == ("UNKNOWN", "warning", False)
