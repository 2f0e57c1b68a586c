"""`make run` as a user runs it, twice, into a fresh data folder: exit 0, the summary, the
mart's spend equal to the sample generator's total to the cent, the same row counts the
second time, and no connection beyond 127.0.0.1 from any process (audited)."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

from warehouse.loader import connect

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def two_runs(make_run_twice):
    return make_run_twice


def test_exits_zero_and_prints_the_summary(two_runs):
    data, runs = two_runs
    for proc, _ in runs:
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        out = proc.stdout
        assert re.search(r"^run +succeeded", out, re.M)
        assert re.search(r"^checks +\d+ passed, 0 failed", out, re.M)
        for layer in ("raw", "staging", "intermediate", "marts"):
            assert re.search(rf"^{layer} +[\d,]+ rows", out, re.M)
        # every mart named with its rows, and the headline KPIs equal to the sample world's
        marts = re.search(r"^marts .*$", out, re.M).group(0)
        for mart in (
            "fct_channel_performance_daily",
            "fct_campaign_performance_daily",
            "fct_web_traffic_daily",
            "fct_funnel_daily",
            "fct_campaign_roi_daily",
            "fct_attribution_credits",
            "fct_clv_by_channel",
        ):
            assert re.search(rf"\b{mart} [\d,]+", marts), mart
        for label in ("ad spend", "new customers", "CPA, ROAS", "social web"):
            line = re.search(rf"^{re.escape(label)} .*$", out, re.M)
            assert line and line.group(0).endswith("(equals the sample world's)"), label
        assert f"warehouse      {data / 'warehouse.duckdb'}" in out
        # the serving copy, the report and the quality results this run wrote, each where it says
        serving = re.search(r"^serving +(\S+) +\(published by this run", out, re.M)
        report = re.search(r"^report +(\S+) +\(written by this run", out, re.M)
        docs = re.search(r"^data docs +(\S+)", out, re.M)
        assert serving and report and docs, out[-3000:]
        assert all(Path(m.group(1)).is_file() for m in (serving, report, docs))
        assert re.search(r"^quality +[\d,]+ results, 0 failed", out, re.M)
        assert "make ui" in out and re.search(r"^wall time +[\d.]+ s", out, re.M)
    assert (data / "dagster_home" / "dagster.yaml").exists()  # run history lives under data/


def test_mart_spend_equals_generator_total_to_the_cent(two_runs):
    data, _ = two_runs
    truths = json.loads(next((data / "sample").glob("*/truths.json")).read_text())["meta_ads"]
    with connect(data / "warehouse.duckdb", read_only=True) as con:
        got = con.execute("select currency, sum(spend) from marts.fct_paid_performance_daily group by 1").fetchall()
    assert {c: Decimal(s).quantize(Decimal("0.01")) for c, s in got} == {
        c: Decimal(s) for c, s in truths["spend_by_currency"].items()
    }


def test_no_token_in_the_output(two_runs):
    from sampleworld.serve import fake_env, start_fakes

    data, runs = two_runs
    world = next(p for p in (data / "sample").iterdir() if p.is_dir())
    servers = start_fakes(world)
    try:
        tokens = [v for k, v in fake_env(servers, world).items() if k.endswith("TOKEN")]
    finally:
        for srv in servers.values():
            srv.stop()
    assert tokens
    for proc, _ in runs:
        for token in tokens:
            assert token not in proc.stdout and token not in proc.stderr


def test_second_run_same_row_counts(two_runs):
    _, runs = two_runs
    (_, first), (_, second) = runs
    assert first["raw"]["meta_ads__ads_insights"] > 0 and first["marts"]["fct_paid_performance_daily"] > 0
    assert first == second
