"""The Great Expectations suites of every raw table and mart (expectations/), run in DuckDB
through GX's SQL path, on copies of the session warehouse (the main job over the 7-day test
world; the `materialized` fixture, never modified):

- on the clean warehouse every suite of every raw table and mart passes, each table validated
  on the run's days only;
- each kind of bad data, written straight into a copy, fails the matching check with a message
  naming the table, the column and the value: a negative spend (raw and mart), a key repeated
  with different values, an unknown currency, a broken UTM, a day with 90% fewer rows; a
  warning (a badly tagged GA4 campaign) fails without blocking;
- only the run's days are read: bad data on another day passes; a snapshot stream is read on
  the last day of a range;
- no offending value from a column that holds people's data is ever shown or recorded;
- results go to quality.check_results, one row per table and severity; GX's Data Docs are
  written; the registry lists every raw table and mart with each check's severity.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from datetime import timedelta

import duckdb
import pytest

from expectations import runner
from expectations.rules import ERROR, WARNING, where
from expectations.runner import record_results, validate_table, validate_tables
from expectations.suites import MASK, declarations, registry, suite

RUN = "test-run"


@pytest.fixture(scope="module")
def clean(materialized, tmp_path_factory):
    """A read-only copy of the session warehouse and the days the session's run loaded."""
    path = _copy(materialized["warehouse"], tmp_path_factory.mktemp("clean") / "warehouse.duckdb")
    with duckdb.connect(str(path), read_only=True) as con:
        first, last = con.execute("select min(date_start), max(date_start) from raw.meta_ads__ads_insights").fetchone()
    days = [first + timedelta(d) for d in range((last - first).days + 1)]
    return {"path": path, "days": days}


@pytest.fixture
def copy(clean, tmp_path):
    """A writable copy of the clean warehouse for one test's bad data."""
    return _copy(clean["path"], tmp_path / "warehouse.duckdb")


def _copy(source, target):
    shutil.copyfile(source, target)
    wal = source.with_name(source.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, target.with_name(target.name + ".wal"))
    return target


def write(path, sql: str, params=None) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute(sql, params or [])


def failures(result, severity: str | None = None) -> dict[str, dict]:
    return {f["check"]: f for f in result.failed if severity in (None, f["severity"])}


# -- clean data --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clean_results(clean):
    return validate_tables(clean["path"], None, clean["days"], RUN)


def test_every_suite_passes_on_clean_data(clean, clean_results):
    with duckdb.connect(str(clean["path"]), read_only=True) as con:
        tables = {
            f"{s}.{t}"
            for s, t in con.execute(
                "select table_schema, table_name from information_schema.tables where table_schema in ('raw', 'marts')"
            ).fetchall()
        }
    assert {r.suite for r in clean_results} == tables
    messages = [m for r in clean_results for m in r.messages()]
    assert messages == [], "\n".join(messages)
    assert all(r.evaluated >= 1 for r in clean_results) and sum(r.evaluated for r in clean_results) > 500
    # each dated table was read on the run's days only, the others whole
    by_table = {r.suite: r for r in clean_results}
    first, last = clean["days"][0].isoformat(), clean["days"][-1].isoformat()
    assert by_table["raw.meta_ads__ads_insights"].partition == f"{first}..{last}"
    assert by_table["raw.facebook__page_followers"].partition == last  # a snapshot: the last day
    assert by_table["raw.team_config__campaigns"].partition is None  # no day column
    assert by_table["marts.fct_campaign_performance_daily"].partition == f"{first}..{last}"
    assert by_table["raw.meta_ads__ads_insights"].rows > 0


def test_the_registry_lists_every_raw_table_and_mart_with_severities(clean):
    with duckdb.connect(str(clean["path"]), read_only=True) as con:
        reg = registry(con)
        raw_tables = {
            f"raw.{t}"
            for (t,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'raw'"
            ).fetchall()
        }
    marts = {t for t in declarations() if t.startswith("marts.")}
    assert raw_tables <= set(reg) and marts <= set(reg) and len(marts) >= 30
    assert all(set(checks.values()) <= {ERROR, WARNING} for checks in reg.values())
    insights = reg["raw.meta_ads__ads_insights"]
    assert insights["key_unique"] == ERROR and insights["spend_not_negative"] == ERROR
    assert insights["account_currency_iso_4217"] == ERROR and insights["rows_against_previous_days"] == ERROR
    assert reg["marts.fct_campaign_performance_daily"]["rows_against_previous_days"] == WARNING
    assert reg["raw.ga4__analytics_report"]["utm_campaign_format"] == WARNING
    assert reg["raw.team_config__campaigns"]["utm_campaign_format"] == ERROR


# -- bad data ----------------------------------------------------------------------------------


def test_negative_spend_fails_naming_table_column_and_value(clean, copy):
    day = clean["days"][2]
    write(
        copy,
        "update raw.meta_ads__ads_insights set spend = '-12.50' "
        "where ad_id = (select min(ad_id) from raw.meta_ads__ads_insights where date_start = ?) "
        "and date_start = ?",
        [day, day],
    )
    result = validate_table(copy, "raw.meta_ads__ads_insights", clean["days"], RUN)
    assert result.blocking
    failed = failures(result)
    assert set(failed) == {"spend_not_negative"}, result.messages()
    message = failed["spend_not_negative"]["message"]
    assert "raw.meta_ads__ads_insights.spend" in message and "-12.50" in message and "1 unexpected" in message


def test_negative_spend_in_a_mart_fails(clean, copy):
    write(
        copy,
        "update marts.fct_campaign_performance_daily set spend = -3.25 "
        "where rowid = (select min(rowid) from marts.fct_campaign_performance_daily)",
    )
    result = validate_table(copy, "marts.fct_campaign_performance_daily", clean["days"], RUN)
    message = failures(result)["spend_not_negative"]["message"]
    assert "marts.fct_campaign_performance_daily.spend" in message and "-3.25" in message
    assert result.blocking


def test_a_key_repeated_with_different_values_fails(clean, copy):
    day = clean["days"][1]
    with duckdb.connect(str(copy)) as con:
        ad = con.execute("select min(ad_id) from raw.meta_ads__ads_insights where date_start = ?", [day]).fetchone()[0]
        con.execute(
            """insert into raw.meta_ads__ads_insights select * replace ('99.99' as spend)
                       from raw.meta_ads__ads_insights where date_start = ? and ad_id = ?""",
            [day, ad],
        )
    result = validate_table(copy, "raw.meta_ads__ads_insights", clean["days"], RUN)
    failed = failures(result)
    assert set(failed) == {"key_unique"}, result.messages()
    message = failed["key_unique"]["message"]
    assert "raw.meta_ads__ads_insights (date_start, account_id, ad_id)" in message
    assert ad in message and day.isoformat() in message and '"rows_with_key": 2' in message


def test_an_unknown_currency_fails(clean, copy):
    write(
        copy, "update raw.meta_ads__ads_insights set account_currency = 'XYZ' where date_start = ?", [clean["days"][0]]
    )
    result = validate_table(copy, "raw.meta_ads__ads_insights", clean["days"], RUN)
    message = failures(result)["account_currency_iso_4217"]["message"]
    assert "raw.meta_ads__ads_insights.account_currency" in message and '"XYZ"' in message
    assert set(failures(result)) == {"account_currency_iso_4217"}


def test_a_broken_utm_in_the_campaign_list_fails(clean, copy):
    write(
        copy,
        "update raw.team_config__campaigns set utm_campaign = 'Summer Launch 2026' "
        "where campaign_key = (select min(campaign_key) from raw.team_config__campaigns)",
    )
    result = validate_table(copy, "raw.team_config__campaigns", None, RUN)
    failed = failures(result)
    assert set(failed) == {"utm_campaign_format"} and failed["utm_campaign_format"]["severity"] == ERROR
    message = failed["utm_campaign_format"]["message"]
    assert "raw.team_config__campaigns.utm_campaign" in message and "Summer Launch 2026" in message
    assert result.blocking


def test_a_badly_tagged_visit_in_ga4_is_a_warning_that_does_not_block(clean, copy):
    write(
        copy,
        """update raw.ga4__analytics_report set "sessionCampaignName" = 'Summer Launch ' || "sessionCampaignName"
                   where report_date = ? and "sessionCampaignName" not like '(%'""",
        [clean["days"][3]],
    )
    result = validate_table(copy, "raw.ga4__analytics_report", clean["days"], RUN)
    assert set(failures(result)) == {"utm_campaign_format"}
    assert set(failures(result, WARNING)) == {"utm_campaign_format"} and not result.blocking
    assert "raw.ga4__analytics_report.sessionCampaignName" in failures(result)["utm_campaign_format"]["message"]
    assert "Summer Launch" in failures(result)["utm_campaign_format"]["message"]


def test_a_day_with_90_percent_fewer_rows_fails(clean, copy):
    day = clean["days"][-2]
    with duckdb.connect(str(copy)) as con:
        before = con.execute("select count(*) from raw.listening__mentions where published_date = ?", [day]).fetchone()[
            0
        ]
        con.execute(
            """delete from raw.listening__mentions where published_date = ? and id not in
                       (select id from raw.listening__mentions where published_date = ? order by id
                        limit ?)""",
            [day, day, before // 20],
        )
    assert before >= 200
    result = validate_table(copy, "raw.listening__mentions", clean["days"], RUN)
    failed = failures(result)
    assert set(failed) == {"rows_against_previous_days", "reach_daily_total_in_range"}, result.messages()
    assert failed["rows_against_previous_days"]["severity"] == ERROR and result.blocking
    message = failed["rows_against_previous_days"]["message"]
    assert "raw.listening__mentions.published_date" in message and day.isoformat() in message
    assert f'"day_rows": {before // 20}' in message
    assert failed["reach_daily_total_in_range"]["severity"] == WARNING


def test_an_empty_day_fails_and_a_quiet_stream_does_not(clean, copy):
    """A day a stream delivered nothing (every row rejected) is a 100% drop; a stream with a
    handful of rows a day is not judged (its median is below the minimum)."""
    day = clean["days"][-1]
    write(copy, "delete from raw.ga4__analytics_report where report_date = ?", [day])
    result = validate_table(copy, "raw.ga4__analytics_report", clean["days"], RUN)
    assert '"day_rows": 0' in failures(result)["rows_against_previous_days"]["message"]
    with duckdb.connect(str(copy), read_only=True) as con:
        small = con.execute(
            "select max(n) from (select count(*) n from raw.linkedin__follower_gains group by date)"
        ).fetchone()[0]
    assert small < 10
    write(copy, "delete from raw.linkedin__follower_gains where date = ?", [day])
    assert validate_table(copy, "raw.linkedin__follower_gains", clean["days"], RUN).success


def test_only_the_runs_days_are_read(clean, copy):
    bad, other = clean["days"][0], clean["days"][-1]
    write(copy, "update raw.meta_ads__ads_insights set spend = '-1' where date_start = ?", [bad])
    assert validate_table(copy, "raw.meta_ads__ads_insights", [other], RUN).success
    result = validate_table(copy, "raw.meta_ads__ads_insights", [bad], RUN)
    assert set(failures(result)) == {"spend_not_negative"} and result.partition == bad.isoformat()


def test_offending_values_of_personal_data_are_masked(clean, copy):
    """A failure on a table holding people's data shows the columns it names, never the
    values of the columns that hold a person (tests/test_staging_pii.py)."""
    with duckdb.connect(str(copy), read_only=True) as con:
        decl = declarations(con)["raw.hubspot__contacts"]
    probe = where(
        "probe",
        "lifecyclestage",
        "email is not null",
        "a probe that fails on every contact",
        show=("id", "email", "lifecyclestage", "properties"),
    )
    s = suite(decl, None)
    s = dataclasses.replace(s, rules=(*s.rules, probe))
    with duckdb.connect(str(copy), read_only=True) as con:
        session = runner.Session(con, RUN)
        try:
            result = session.validate(s)
        finally:
            session.close()
    failed = failures(result)["probe"]
    assert failed["sample"] and all(item["email"] == MASK and item["properties"] == MASK for item in failed["sample"])
    assert all(item["lifecyclestage"] and item["id"] for item in failed["sample"])
    assert "@" not in json.dumps(result.failed) and "@" not in json.dumps(
        [c.failed_expectations for c in result.checks()]
    )


def test_a_rule_that_reads_a_missing_column_fails_naming_it(clean):
    with duckdb.connect(str(clean["path"]), read_only=True) as con:
        decl = declarations(con)["marts.fct_csat"]
        s = suite(decl, None)
        s = dataclasses.replace(
            s, rules=(*s.rules, where("renamed", "csat_score", "csat_score > 1", "csat_score <= 1"))
        )
        session = runner.Session(con, RUN)
        try:
            result = session.validate(s)
        finally:
            session.close()
    assert set(failures(result)) == {"renamed"}
    assert (
        "csat_score" in failures(result)["renamed"]["message"]
        and "marts.fct_csat" in failures(result)["renamed"]["message"]
    )


def test_a_column_missing_from_a_mart_fails_the_declaration_check(clean, copy):
    write(copy, "alter table marts.fct_csat rename column csat to csat_share")
    result = validate_table(copy, "marts.fct_csat", None, RUN)
    failed = failures(result)
    assert set(failed) == {"columns_as_declared", "csat_in_0_1"} and result.blocking
    assert '"column_name": "csat"' in failed["columns_as_declared"]["message"]
    assert '"actual_type": null' in failed["columns_as_declared"]["message"]
    assert "reads column(s) ['csat'], which marts.fct_csat does not have" in failed["csat_in_0_1"]["message"]


# -- results kept ------------------------------------------------------------------------------


def test_results_go_to_the_quality_schema(clean, copy):
    write(
        copy, "update raw.meta_ads__ads_insights set account_currency = 'XYZ' where date_start = ?", [clean["days"][0]]
    )
    results = validate_tables(copy, ["raw.meta_ads__ads_insights", "marts.fct_csat"], clean["days"], "run-42")
    with duckdb.connect(str(copy)) as con:
        assert record_results(con, results) == 3  # meta: errors and warnings; csat: errors only
        rows = con.execute("""select "check", asset, "table", "partition", run_id, severity, passed, observed,
                                     failed_expectations, checked_at from quality.check_results
                              where run_id = 'run-42'  -- the copied warehouse keeps its own run's results
                              order by "table", severity""").fetchall()
    by = {(r[2], r[5]): r for r in rows}
    err = by[("raw.meta_ads__ads_insights", ERROR)]
    assert err[0] == "gx_errors" and err[1] == "raw/meta_ads/ads_insights" and err[4] == "run-42" and not err[6]
    assert err[3] == f"{clean['days'][0].isoformat()}..{clean['days'][-1].isoformat()}"
    observed, failed = json.loads(err[7]), json.loads(err[8])
    assert observed["account_currency_iso_4217"] > 0 and observed["rows"] > 0
    assert [f["check"] for f in failed] == ["account_currency_iso_4217"] and "XYZ" in failed[0]["message"]
    assert by[("raw.meta_ads__ads_insights", WARNING)][6] and by[("marts.fct_csat", ERROR)][6]
    assert by[("marts.fct_csat", ERROR)][3] is None and err[9] is not None


def test_data_docs_are_written_for_the_run_in_place_of_the_last(clean, tmp_path):
    site = tmp_path / "data_docs"
    validate_tables(clean["path"], ["raw.meta_ads__ads_insights"], clean["days"], "docs-run-1", data_docs=site)
    validate_tables(
        clean["path"], ["raw.meta_ads__ads_insights", "marts.fct_csat"], clean["days"], "docs-run-2", keep_for_docs=True
    )
    index = runner.write_data_docs(site, "docs-run-2")
    assert index == site / "index.html" and index.exists()
    pages = list((site / "validations").rglob("*.html"))
    assert {p.relative_to(site / "validations").parts[:3] for p in pages} == {
        ("raw", "meta_ads__ads_insights", "docs-run-2"),
        ("marts", "fct_csat", "docs-run-2"),
    }
    assert "raw.meta_ads__ads_insights" in index.read_text()
    with pytest.raises(LookupError, match="docs-run-1"):  # an earlier run's results are let go
        runner.write_data_docs(site, "docs-run-1")
    # a later step of the same run adds its tables: the site shows all of the run
    validate_tables(clean["path"], ["raw.meta_ads__ad_accounts"], None, "docs-run-2", keep_for_docs=True)
    runner.write_data_docs(site, "docs-run-2")
    pages = list((site / "validations").rglob("*.html"))
    assert {p.relative_to(site / "validations").parts[:2] for p in pages} == {
        ("raw", "meta_ads__ads_insights"),
        ("marts", "fct_csat"),
        ("raw", "meta_ads__ad_accounts"),
    }
    validate_tables(clean["path"], ["marts.fct_csat"], clean["days"], "docs-run-3", data_docs=site)
    assert {p.relative_to(site / "validations").parts[:3] for p in (site / "validations").rglob("*.html")} == {
        ("marts", "fct_csat", "docs-run-3")
    }
