"""The KPI report (warehouse/report.py, asset serving/kpi_report): written by every run, one
self-contained page with plotly.js inlined once, each chart with its definition from dbt's
manifest, its freshness and quality status; rendered in headless Chromium with the network
off, with no console error (tests/browser.py)."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import browser
import duckdb
import pytest

from warehouse.report import CHARTS, MANIFEST, Manifest, quality
from warehouse.settings import Settings

PLOTLY_BANNER = re.compile(r"\* plotly\.js v\d+\.\d+\.\d+")
CHARTS_RENDERED = """(() => {
  const s = [...document.querySelectorAll('section.chart')];
  return document.readyState === 'complete' && s.length > 0 && s.every(x => x.querySelector('.main-svg .cartesianlayer, .main-svg .funnellayer')
                                      && x.querySelectorAll('.main-svg .trace, .main-svg .point').length > 0)
         && s.length;
})()"""


@pytest.fixture(scope="module")
def report(default_world) -> Path:
    """The report `make run` wrote (its data folder is the warehouse's)."""
    return default_world["warehouse"].parent / "report" / "kpi-report.html"


def test_every_run_writes_a_self_contained_report(report, default_world):
    assert report.exists(), "make run wrote no report"
    page = report.read_text()
    assert len(PLOTLY_BANNER.findall(page)) == 1  # plotly.js inlined once for every chart
    assert not re.search(r"<script[^>]+src=", page) and not re.search(r"<link[^>]+href=\"?https?:", page)
    manifest = Manifest(MANIFEST)
    for chart in CHARTS:
        section = re.search(rf'<section class="chart" id="chart-{chart.key}".*?</section>', page, re.S)
        assert section, chart.key
        text = section.group(0)
        assert f'id="fig-{chart.key}"' in text, f"{chart.key}: no figure"
        for model, column in chart.columns:
            desc = manifest.column(model, column)
            assert html.escape(desc) in text, (chart.key, column)  # the YAML's words, once
        with duckdb.connect(str(default_world["warehouse"]), read_only=True) as con:
            latest = con.execute(f"select max({chart.day_column}) from marts.{chart.model}").fetchone()[0]
        assert f"Latest day in the data: {latest.isoformat()};" in text, chart.key
        assert re.search(r'<p class="quality (passed|failed|warning|unknown)">Quality: ', text), chart.key
    with duckdb.connect(str(default_world["warehouse"]), read_only=True) as con:
        n = con.execute("select count(*) from marts.fct_scorecard where period_type = 'goal'").fetchone()[0]
    assert page.count("<td>2026-Q2</td>") == n > 0
    # beside it, dbt's docs as one static page, written by the same run
    docs = report.parent.parent / "docs" / "index.html"
    assert docs.exists() and docs.stat().st_mtime >= report.stat().st_mtime, (
        "make run wrote no dbt docs page after the report"
    )
    assert "fct_paid_performance_daily" in docs.read_text()


def test_quality_status_is_the_latest_result_of_the_charts_source_tables():
    con = duckdb.connect()
    con.execute("create schema quality")
    con.execute(
        'create table quality.check_results ("check" varchar, asset varchar, "table" varchar, "partition" varchar,'
        " run_id varchar, severity varchar, passed boolean, observed json, failed_expectations json,"
        " checked_at timestamptz)"
    )
    t0, t1 = datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 6, 2, tzinfo=UTC)
    rows = [
        ("raw.a", "error", False, t0),  # failed, then passed: passed
        ("raw.a", "error", True, t1),
        ("raw.b", "error", False, t1),  # failing now
        ("raw.b", "warning", False, t1),
        ("raw.c", "error", False, t1),  # not a source of this chart
    ]
    for table, sev, ok, at in rows:
        con.execute(
            "insert into quality.check_results values ('gx', 'a', ?, null, 'r', ?, ?, '{}', '[]', ?)",
            [table, sev, ok, at],
        )
    q = quality(con, ["raw.a", "raw.b"], True)
    assert (q.status, q.checks, q.failed_errors, q.failed_warnings) == ("failed", 3, ["raw.b"], ["raw.b"])
    assert "errors in raw.b" in q.text()
    assert quality(con, ["raw.a"], True).status == "passed"
    assert quality(con, ["raw.a"], False).status == "unknown"


@pytest.fixture(scope="module")
def chromium():
    if browser.CHROMIUM is None:
        pytest.skip("chromium is absent: apt-get install -y chromium (.ci/run installs it)")
    with browser.Browser() as b:
        yield b


def test_report_renders_every_chart_offline_without_console_errors(report, chromium):
    result = chromium.open(report.as_uri(), CHARTS_RENDERED, timeout=40)
    shot = chromium.screenshot(Settings.from_env().data_dir / "screenshots" / "kpi-report.png")
    assert result.errors == [], result.errors
    assert result.ready and result.value == len(CHARTS), (result.value, f"screenshot: {shot}")


def test_the_browser_check_fails_a_report_whose_charts_do_not_render(report, chromium, tmp_path):
    """The same check on the report without its inlined plotly.js: no chart, and the page's
    errors are seen (what a CDN-loaded report shows offline)."""
    page = report.read_text()
    start = page.index("<script>/**")  # plotly.js, inlined before the first figure
    broken = tmp_path / "broken.html"
    broken.write_text(page[:start] + page[page.index("</script>", start) + len("</script>") :])
    result = chromium.open(broken.as_uri(), CHARTS_RENDERED, timeout=5)
    assert not result.ready
    assert any("Plotly is not defined" in e for e in result.errors), result.errors


def test_the_browser_has_no_network(chromium):
    """Anything but loopback fails in the test browser (the proxy at 127.0.0.1:9 takes it)."""
    page = 'data:text/html,<script>fetch("http://example.com/").catch(e => console.error("blocked"))</script>'
    result = chromium.open(page, "document.readyState === 'complete'", settle=2)
    assert any("ERR_PROXY_CONNECTION_FAILED" in e or "ERR_NAME_NOT_RESOLVED" in e for e in result.errors), result.errors
    assert json.dumps(result.errors).count("blocked") == 1


HOSTILE = '</script><script>document.title="pwned"</script><img src=x onerror="document.title=\'pwned\'">'


def test_names_from_the_data_are_shown_as_text_never_run(materialized, tmp_path, request):
    """A competitor, a channel and a KPI named like markup (the team's config and the CRM's
    values reach the report's legends, axes and scorecard) stay text: the page holds no such
    markup, and in the browser nothing of it runs while the names show."""
    from crash_harness import copy_db

    from warehouse.report import build_report

    db = copy_db(Path(materialized["warehouse"]), tmp_path / "warehouse.duckdb")
    with duckdb.connect(str(db)) as con:
        n = con.execute(
            """update marts.fct_share_of_voice_daily set subject_name = ? || subject_name
               where not is_brand and subject_name = (select min(subject_name) from marts.fct_share_of_voice_daily
                                                      where not is_brand)""",
            [HOSTILE],
        ).fetchall()[0][0]
        m = con.execute(
            """update marts.fct_attribution_by_channel set channel_group = ? || channel_group
               where channel_group = (select min(channel_group) from marts.fct_attribution_by_channel)""",
            [HOSTILE],
        ).fetchall()[0][0]
        k = con.execute(
            "update marts.fct_scorecard set kpi_name = ? || kpi_name where period_type = 'goal'", [HOSTILE]
        ).fetchall()[0][0]
    assert n > 0 and m > 0 and k > 0
    page_path = build_report(db, tmp_path / "report" / "kpi-report.html")
    page = page_path.read_text()
    assert HOSTILE not in page
    assert "</script><script>document.title" not in page and '<img src=x onerror="' not in page
    assert html.escape(HOSTILE) in page  # the scorecard's cell shows the name, escaped
    if browser.CHROMIUM is None:
        pytest.skip("chromium is absent: apt-get install -y chromium (.ci/run installs it)")
    chromium = request.getfixturevalue("chromium")
    result = chromium.open(page_path.as_uri(), CHARTS_RENDERED, timeout=40)
    assert result.errors == [] and result.value == len(CHARTS), (result.errors, result.value)
    assert chromium.evaluate("document.title") != "pwned"
    assert chromium.evaluate(
        "document.querySelectorAll('script:not([type]), script[type=\"text/javascript\"]').length"
    ) == len(re.findall(r"<script(?:\s+type=\"text/javascript\")?>", page))
    shown = chromium.evaluate(
        "[...document.querySelectorAll('.legendtext, .xtick text, .ytick text, td')].map(t => t.textContent)"
    )
    assert sum(1 for t in shown if t.startswith("</script><script>")) >= 3, [t for t in shown if "script" in t]
