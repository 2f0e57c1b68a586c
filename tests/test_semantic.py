"""The semantic layer (dbt_project/models/semantic/, warehouse/metrics.py): a metric queried by
dimension and time grain through MetricFlow returns the mart's own numbers, on `make run`'s
warehouse (the `default_world` fixture), and the analysts' command makes no network call."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from warehouse.metrics import MetricsError, SemanticLayer

REPO = Path(__file__).resolve().parent.parent


def _mart(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def _close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(b)))


def test_metrics_command_equals_the_mart_and_stays_offline(default_world, tmp_path):
    """`python -m warehouse.metrics query --metrics spend,cpa --group-by metric_time__week,channel`,
    as an analyst types it, in a process of its own under the network audit."""
    warehouse = default_world["warehouse"]
    audit = tmp_path / "netaudit.log"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "warehouse.metrics",
            "query",
            "--metrics",
            "spend,new_customers,cpa",
            "--group-by",
            "metric_time__week,channel",
            "--csv",
        ],
        cwd=REPO,
        # as an analyst runs it: on the serving copy `make run` published beside the warehouse
        env={
            **{k: v for k, v in os.environ.items() if k != "SKW_SERVING_PATH"},
            "SKW_WAREHOUSE_PATH": str(warehouse),
            "SKW_NETAUDIT_LOG": str(audit),
        },
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert not audit.exists() or not audit.read_text().strip(), audit.read_text()
    got = {
        (r["metric_time__week"][:10], r["ad_campaign__channel"]): r for r in csv.DictReader(io.StringIO(proc.stdout))
    }
    want = _mart(
        warehouse,
        """select date_trunc('week', date_day)::date, platform, sum(spend_reporting), sum(new_customers),
                  sum(spend_reporting) / nullif(sum(new_customers), 0)
           from marts.fct_campaign_roi_daily group by all""",
    )
    assert len(want) >= 8  # 4 weeks x 2-3 ad platforms
    assert set(got) == {(w.isoformat(), p) for w, p, *_ in want}
    for week, platform, spend, customers, cpa in want:
        row = got[(week.isoformat(), platform)]
        assert Decimal(row["spend"]) == spend, (week, platform)
        assert int(float(row["new_customers"])) == customers, (week, platform)
        assert _close(row["cpa"] or None, cpa), (week, platform, row["cpa"], cpa)


@pytest.fixture(scope="module")
def layer(default_world):
    with SemanticLayer(default_world["warehouse"]) as layer:
        yield layer


def test_rates_are_the_marts_formulas_over_any_grouping(layer, default_world):
    wh = default_world["warehouse"]
    res = layer.query(["engagement_rate", "ctr", "impressions"], ["platform"])
    got = {r[0]: r[1:] for r in res.rows}
    want = _mart(
        wh,
        """select platform,
                  sum(engagements) filter (where not is_paid) / nullif(sum(impressions) filter (where not is_paid), 0),
                  sum(link_clicks) / nullif(sum(impressions), 0), sum(impressions)
           from marts.fct_channel_performance_daily group by all""",
    )
    assert set(got) == {w[0] for w in want}
    for platform, er, ctr, impressions in want:
        assert _close(got[platform][0], er) and _close(got[platform][1], ctr), platform
        assert int(got[platform][2]) == impressions

    res = layer.query(["net_sentiment"], ["metric_time__week", "subject"])
    want = _mart(
        wh,
        """select date_trunc('week', date_day)::date, subject,
                  (sum(positive_texts) - sum(negative_texts)) / nullif(sum(scored_texts), 0)
           from marts.fct_sentiment_daily group by all""",
    )
    got = {(r[0].date() if hasattr(r[0], "date") else r[0], r[1]): r[2] for r in res.rows}
    assert len(got) == len(want) and all(_close(got[(w, s)], v) for w, s, v in want)

    res = layer.query(["share_of_mentions"], ["subject"], start=date(2026, 6, 8), end=date(2026, 6, 14))
    want = _mart(
        wh,
        """select subject, sum(mentions) / sum(total_mentions) from marts.fct_share_of_voice_daily
           where date_day between '2026-06-08' and '2026-06-14' group by all""",
    )
    assert {r[0]: round(r[1], 12) for r in res.rows} == {s: round(v, 12) for s, v in want}


def test_followers_are_never_summed_across_days(layer, default_world):
    res = layer.query(["followers"], ["metric_time__month", "platform"])
    want = _mart(
        default_world["warehouse"],
        """select platform, sum(followers) from marts.fct_channel_performance_daily
           where not is_paid and date_day = (select max(date_day) from marts.fct_channel_performance_daily)
           group by all""",
    )
    got = {r[1]: r[2] for r in res.rows if r[2] is not None}
    for platform, followers in want:
        if followers is not None:
            assert int(got[platform]) == followers, platform


def test_a_dimension_named_without_its_entity_and_an_unknown_metric(layer):
    bare = layer.query(["spend"], ["channel"])
    qualified = layer.query(["spend"], ["ad_campaign__channel"])
    assert bare.rows == qualified.rows and len(bare.rows) == 3
    with pytest.raises(MetricsError, match="spnd") as err:
        layer.query(["spnd"])
    assert "spend" in str(err.value)  # MetricFlow's suggestion


def test_the_audit_sees_what_the_mf_cli_would_do(tmp_path):
    """Why the command calls MetricFlow's Python API: the `mf` CLI runs this update check on every
    command, and the network audit that passes the command above records it (a hook stops the
    call before any packet leaves; a fresh TMPDIR means no cached answer)."""
    audit = tmp_path / "netaudit.log"
    code = (
        "import socket, sys\n"
        "def stop(event, args):\n"
        "    if event in ('socket.connect', 'socket.getaddrinfo'): raise PermissionError(event)\n"
        "sys.addaudithook(stop)\n"
        "from importlib.metadata import version\n"
        "from update_checker import UpdateChecker\n"
        "UpdateChecker().check('dbt-metricflow', version('dbt-metricflow'))\n"
    )
    env = {**os.environ, "SKW_NETAUDIT_LOG": str(audit), "TMPDIR": str(tmp_path)}
    subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, check=True, capture_output=True, timeout=60)
    assert "getaddrinfo 'pypi.org'" in audit.read_text()
