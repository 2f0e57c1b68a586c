"""The KPI report: one self-contained HTML file a marketer opens after each run.

    python -m warehouse.report            # write <SKW_DATA_DIR>/report/kpi-report.html, print its path
    python -m warehouse.report path       # the last run's report (written now if there is none), its path
    python -m warehouse.report docs       # dbt's docs as one static page, <SKW_DATA_DIR>/docs/index.html

The report holds the scorecard (marts.fct_scorecard: the latest week and the goals) and a chart
per trend (reach, engagement, followers, spend and CPA, sentiment with crises marked, share of
voice, funnel, attribution, care response time). Under each chart:

- its definition: the descriptions of the mart columns it shows, read from dbt's manifest
  (written once, in the marts' YAML);
- the data's freshness: the latest day the mart holds, and when the raw tables it is built
  from were last loaded (their `_loaded_at`, found through dbt's lineage);
- its quality status: the latest results in `quality.check_results` (Great Expectations
  suites) of those raw tables and of the mart itself, when the warehouse holds any.

Charts are Plotly figures with plotly.js inlined once (in the first figure; the others use it),
so the page renders with no network: no CDN, no font or script from elsewhere. The file is
written beside its final name and moved into place, so a reader never opens half a report.
No Dagster import: orchestration/assets/report.py is the asset that writes it after each run.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from warehouse.metrics import DBT_DIR, MetricsError, connect_read_only
from warehouse.settings import WAREHOUSE_PATH_VAR, Settings

MANIFEST = DBT_DIR / "target" / "manifest.json"
REPORT_NAME = "kpi-report.html"
QUALITY_TABLE = "quality.check_results"

PLATFORM_COLORS = {
    "facebook": "#1877f2",
    "instagram": "#c13584",
    "x": "#333333",
    "linkedin": "#0a66c2",
    "youtube": "#ff0000",
    "meta": "#7b61ff",
    "meta_ads": "#7b61ff",
    "google_ads": "#34a853",
    "linkedin_ads": "#0a66c2",
}


def report_path(settings: Settings | None = None) -> Path:
    return (settings or Settings.from_env()).data_dir / "report" / REPORT_NAME


def docs_dir(settings: Settings | None = None) -> Path:
    return (settings or Settings.from_env()).data_dir / "docs"


class ReportError(RuntimeError):
    """The report cannot be written: the message names what is missing."""


# -- what dbt knows: column descriptions and lineage ------------------------------------------


class Manifest:
    """Column descriptions and lineage of the marts, from dbt's manifest.json."""

    def __init__(self, path: Path = MANIFEST) -> None:
        path = Path(path)
        if not path.exists():
            raise ReportError(f"{path}: no dbt manifest; write it with `python -m orchestration.assets.dbt parse`")
        data = json.loads(path.read_text())
        self._nodes = {**data["nodes"], **data["sources"]}
        self._parents = data.get("parent_map", {})
        self._models = {n["name"]: uid for uid, n in data["nodes"].items() if n["resource_type"] == "model"}

    def _model(self, model: str) -> dict:
        if model not in self._models:
            raise ReportError(f"dbt manifest has no model {model!r}")
        return self._nodes[self._models[model]]

    def column(self, model: str, column: str) -> str:
        """The description of `model.column`, as its YAML gives it."""
        col = self._model(model)["columns"].get(column)
        if not col or not col.get("description"):
            raise ReportError(f"{model}.{column} has no description in the marts' YAML")
        return " ".join(col["description"].split())

    def raw_tables(self, model: str) -> list[str]:
        """The raw tables (schema.table) the model is built from, through every layer."""
        seen, todo, out = set(), [self._models[model]], set()
        while todo:
            uid = todo.pop()
            if uid in seen:
                continue
            seen.add(uid)
            node = self._nodes.get(uid)
            if node is not None and node["resource_type"] == "source":
                out.add(f"{node['schema']}.{node.get('identifier') or node['name']}")
            todo.extend(self._parents.get(uid, []))
        return sorted(out)


# -- the data behind each section ---------------------------------------------------------------


def _rows(con, sql: str, params: Sequence = ()) -> list[tuple]:
    return con.execute(sql, list(params)).fetchall()


def _has_table(con, qualified: str) -> bool:
    schema, table = qualified.split(".", 1)
    return bool(
        _rows(
            con,
            "select 1 from information_schema.tables where table_schema = ? and table_name = ?",
            (schema, table),
        )
    )


@dataclass
class Freshness:
    latest_day: date | None
    loaded_at: datetime | None

    def text(self) -> str:
        day = self.latest_day.isoformat() if self.latest_day else "no data"
        loaded = self.loaded_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if self.loaded_at else "unknown"
        return f"Latest day in the data: {day}; sources last loaded: {loaded}"


@dataclass
class Quality:
    checks: int = 0
    failed_errors: list[str] = field(default_factory=list)
    failed_warnings: list[str] = field(default_factory=list)
    available: bool = True

    @property
    def status(self) -> str:
        if not self.available or not self.checks:
            return "unknown"
        if self.failed_errors:
            return "failed"
        return "warning" if self.failed_warnings else "passed"

    def text(self) -> str:
        if not self.available:
            return "Quality: no check results in this warehouse (quality.check_results is absent)"
        if not self.checks:
            return "Quality: no check results for this chart's mart or source tables"
        parts = [f"Quality: {self.status}, {self.checks} latest checks of its mart and source tables"]
        if self.failed_errors:
            parts.append("errors in " + ", ".join(self.failed_errors))
        if self.failed_warnings:
            parts.append("warnings in " + ", ".join(self.failed_warnings))
        return "; ".join(parts)


def freshness(con, model: str, day_column: str, raw_tables: Sequence[str]) -> Freshness:
    latest = _rows(con, f'select max("{day_column}") from marts.{model}')[0][0]
    loaded = []
    for t in raw_tables:
        schema, table = t.split(".", 1)
        if _rows(
            con,
            "select 1 from information_schema.columns where table_schema = ? and table_name = ? "
            "and column_name = '_loaded_at'",
            (schema, table),
        ):
            loaded.append(f'select max(_loaded_at) as t from "{schema}"."{table}"')
    loaded_at = _rows(con, "select max(t) from (" + " union all ".join(loaded) + ")")[0][0] if loaded else None
    if isinstance(latest, datetime):
        latest = latest.date()
    return Freshness(latest, loaded_at)


def quality(con, raw_tables: Sequence[str], has_results: bool) -> Quality:
    if not has_results or not raw_tables:
        return Quality(available=has_results)
    marks = ", ".join("?" for _ in raw_tables)
    rows = _rows(
        con,
        f"""select "table", severity, passed from {QUALITY_TABLE}
            where "table" in ({marks})
            qualify rank() over (partition by "table", severity order by checked_at desc) = 1""",
        raw_tables,
    )
    q = Quality(checks=len(rows))
    q.failed_errors = sorted({t for t, sev, ok in rows if not ok and sev == "error"})
    q.failed_warnings = sorted({t for t, sev, ok in rows if not ok and sev != "error"})
    return q


# -- charts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    model: str  # the mart its freshness and lineage come from
    day_column: str
    columns: tuple[tuple[str, str], ...]  # (mart, column) whose descriptions define it
    figure: Callable  # (con) -> plotly Figure, or None when the mart has no rows
    note: str = ""


def _go():
    import plotly.graph_objects as go

    return go


def _layout(fig, title: str, y: str, y2: str | None = None):
    fig.update_layout(
        title=None,
        height=380,
        margin={"l": 60, "r": 60 if y2 else 20, "t": 20, "b": 40},
        legend={"orientation": "h", "y": -0.15},
        yaxis_title=y,
        template="plotly_white",
    )
    if y2:
        fig.update_layout(yaxis2={"title": y2, "overlaying": "y", "side": "right", "showgrid": False})
    return fig


def _lines(con, sql: str, y_title: str, mode: str = "lines+markers", dash_by: dict | None = None):
    """One line per series from rows (series, x, y)."""
    go = _go()
    rows = _rows(con, sql)
    if not rows:
        return None
    fig = go.Figure()
    series: dict[str, list] = {}
    for s, x, y in rows:
        series.setdefault(str(s), []).append((x, y))
    for s, points in series.items():
        fig.add_trace(
            go.Scatter(
                x=[p[0] for p in points],
                y=[float(p[1]) if p[1] is not None else None for p in points],
                name=s,
                mode=mode,
                line={"color": PLATFORM_COLORS.get(s.split(" ")[0]), "dash": (dash_by or {}).get(s)},
            )
        )
    return _layout(fig, "", y_title)


def fig_reach(con):
    rows = _rows(
        con,
        """select platform, date_day, sum(impressions), sum(reach) from marts.fct_channel_performance_daily
           group by all order by platform, date_day""",
    )
    if not rows:
        return None
    go = _go()
    fig = go.Figure()
    for p in sorted({r[0] for r in rows}):
        pts = [r for r in rows if r[0] == p]
        color = PLATFORM_COLORS.get(p)
        fig.add_trace(
            go.Scatter(x=[r[1] for r in pts], y=[r[2] for r in pts], name=f"{p} impressions", line={"color": color})
        )
        if any(r[3] is not None for r in pts):
            fig.add_trace(
                go.Scatter(
                    x=[r[1] for r in pts],
                    y=[r[3] for r in pts],
                    name=f"{p} reach",
                    line={"color": color, "dash": "dot"},
                )
            )
    return _layout(fig, "", "per day")


def fig_engagement(con):
    return _lines(
        con,
        """select platform, date_day, sum(engagements) / nullif(sum(impressions), 0)
           from marts.fct_channel_performance_daily
           where not is_paid and engagements is not null
           group by all order by platform, date_day""",
        "engagements / impressions",
    )


def fig_followers(con):
    return _lines(
        con,
        """select platform, date_day, sum(followers) from marts.fct_channel_performance_daily
           where not is_paid and followers is not null group by all order by platform, date_day""",
        "followers",
    )


def fig_spend_cpa(con):
    rows = _rows(
        con,
        """select date_trunc('week', date_day)::date as week, platform, sum(spend_reporting), sum(new_customers)
           from marts.fct_campaign_roi_daily group by all order by week, platform""",
    )
    if not rows:
        return None
    go = _go()
    fig = go.Figure()
    for p in sorted({r[1] for r in rows}):
        pts = [r for r in rows if r[1] == p]
        fig.add_trace(
            go.Bar(
                x=[r[0] for r in pts],
                y=[float(r[2]) for r in pts],
                name=f"{p} spend",
                marker_color=PLATFORM_COLORS.get(p),
            )
        )
    weeks = sorted({r[0] for r in rows})
    cpa = []
    for w in weeks:
        spend = sum(float(r[2]) for r in rows if r[0] == w)
        customers = sum(r[3] for r in rows if r[0] == w)
        cpa.append(spend / customers if customers else None)
    fig.add_trace(go.Scatter(x=weeks, y=cpa, name="CPA (all platforms)", yaxis="y2", line={"color": "#000"}))
    fig.update_layout(barmode="stack")
    fig.update_xaxes(title="week starting")
    return _layout(fig, "", "spend (reporting currency)", "CPA")


def fig_sentiment(con):
    rows = _rows(
        con,
        """select date_day, (sum(positive_texts) - sum(negative_texts)) / nullif(sum(scored_texts), 0)
           from marts.fct_sentiment_daily where subject = 'brand' group by all order by date_day""",
    )
    if not rows:
        return None
    go = _go()
    fig = go.Figure(go.Scatter(x=[r[0] for r in rows], y=[r[1] for r in rows], name="net sentiment (brand)"))
    last_day = rows[-1][0]
    for start, peak, end, peak_n in _rows(
        con,
        """select start_date, peak_date, end_date, peak_negative_mentions from marts.fct_crises
           where subject = 'brand' order by start_date""",
    ):
        fig.add_vrect(
            x0=start,
            x1=end or last_day,
            fillcolor="#d62728",
            opacity=0.15,
            line_width=0,
            annotation_text=f"crisis (peak {peak}: {peak_n} negative mentions)",
            annotation_position="top left",
        )
    fig.add_hline(y=0, line_color="#999", line_width=1)
    return _layout(fig, "", "net sentiment, -1 to 1")


def fig_share_of_voice(con):
    rows = _rows(
        con,
        """select subject_name || case when is_brand then ' (brand)' else '' end, date_trunc('week', date_day)::date,
                  sum(mentions) / nullif(sum(total_mentions), 0)
           from marts.fct_share_of_voice_daily group by all order by 1, 2""",
    )
    if not rows:
        return None
    go = _go()
    fig = go.Figure()
    for s in sorted({r[0] for r in rows}):
        pts = [r for r in rows if r[0] == s]
        fig.add_trace(go.Scatter(x=[r[1] for r in pts], y=[r[2] for r in pts], name=s, stackgroup="sov"))
    fig.update_xaxes(title="week starting")
    return _layout(fig, "", "share of mentions")


# From sessions on: impressions and clicks are two and one orders of magnitude larger and would
# flatten every later step (they are in the channel charts).
FUNNEL_STEPS = ("sessions", "leads", "mqls", "sqls", "new_customers")


def fig_funnel(con):
    row = _rows(con, "select " + ", ".join(f"sum({s})" for s in FUNNEL_STEPS) + " from marts.fct_funnel_daily")[0]
    if row[0] is None:
        return None
    go = _go()
    fig = go.Figure(go.Funnel(y=list(FUNNEL_STEPS), x=[int(v or 0) for v in row], textinfo="value+percent previous"))
    return _layout(fig, "", "")


def fig_attribution(con):
    rows = _rows(
        con,
        """select attribution_model, channel_group, sum(attributed_conversions) from marts.fct_attribution_by_channel
           group by all order by 1, 2""",
    )
    if not rows:
        return None
    go = _go()
    fig = go.Figure()
    for m in sorted({r[0] for r in rows}):
        pts = [r for r in rows if r[0] == m]
        fig.add_trace(go.Bar(x=[r[1] for r in pts], y=[float(r[2]) for r in pts], name=m))
    fig.update_layout(barmode="group")
    return _layout(fig, "", "attributed conversions")


def fig_care(con):
    return _lines(
        con,
        """select platform || ' ' || item_kind, week_start, median(median_minutes_to_first_reply)
           from marts.fct_care_weekly where median_minutes_to_first_reply is not null
           group by all order by 1, 2""",
        "median minutes to first reply",
    )


CHARTS: tuple[Chart, ...] = (
    Chart(
        "reach",
        "Reach and impressions",
        "fct_channel_performance_daily",
        "date_day",
        (("fct_channel_performance_daily", "impressions"), ("fct_channel_performance_daily", "reach")),
        fig_reach,
        "Per platform and day (solid: impressions; dotted: reach, where the platform reports it).",
    ),
    Chart(
        "engagement",
        "Engagement rate",
        "fct_channel_performance_daily",
        "date_day",
        (
            ("fct_channel_performance_daily", "engagement_rate"),
            ("fct_channel_performance_daily", "engagements"),
        ),
        fig_engagement,
        "Organic rows per platform and day: sum(engagements) / sum(impressions).",
    ),
    Chart(
        "followers",
        "Followers",
        "fct_channel_performance_daily",
        "date_day",
        (("fct_channel_performance_daily", "followers"), ("fct_channel_performance_daily", "net_adds")),
        fig_followers,
        "Per platform at the end of each day with a reading.",
    ),
    Chart(
        "spend_cpa",
        "Spend and CPA",
        "fct_campaign_roi_daily",
        "date_day",
        (
            ("fct_campaign_roi_daily", "spend_reporting"),
            ("fct_campaign_roi_daily", "new_customers"),
            ("fct_campaign_roi_daily", "cpa"),
        ),
        fig_spend_cpa,
        "Per week: spend per ad platform (bars) and CPA of all platforms, sum(spend) / sum(new customers) (line).",
    ),
    Chart(
        "sentiment",
        "Sentiment, crises marked",
        "fct_sentiment_daily",
        "date_day",
        (("fct_sentiment_daily", "net_sentiment"), ("fct_crises", "start_date"), ("fct_crises", "end_date")),
        fig_sentiment,
        "The brand's net sentiment per day over every platform; shaded: crises (marts.fct_crises).",
    ),
    Chart(
        "share_of_voice",
        "Share of voice",
        "fct_share_of_voice_daily",
        "date_day",
        (("fct_share_of_voice_daily", "share_of_mentions"),),
        fig_share_of_voice,
        "Per week and subject: sum(mentions) / sum(total_mentions).",
    ),
    Chart(
        "funnel",
        "Funnel",
        "fct_funnel_daily",
        "date_day",
        tuple(("fct_funnel_daily", s) for s in FUNNEL_STEPS),
        fig_funnel,
        "Every channel over the whole period, sessions to new customers; each step counted on the day it happened.",
    ),
    Chart(
        "attribution",
        "Attribution by channel",
        "fct_attribution_by_channel",
        "conversion_date",
        (
            ("fct_attribution_by_channel", "attribution_model"),
            ("fct_attribution_by_channel", "attributed_conversions"),
        ),
        fig_attribution,
        "Conversions each channel group earns under each attribution model, over the whole period.",
    ),
    Chart(
        "care",
        "Care response time",
        "fct_care_weekly",
        "week_start",
        (("fct_care_weekly", "median_minutes_to_first_reply"),),
        fig_care,
        "Per week, platform and kind of item (the median of the accounts' medians when a platform has several).",
    ),
)


# -- the page -------------------------------------------------------------------------------------


STATUS_CLASS = {"on track": "ok", "at risk": "risk", "off track": "bad"}


def _num(v, unit: str | None = None) -> str:
    if v is None:
        return ""
    v = float(v)
    if unit == "ratio":
        return f"{v:.1%}" if abs(v) < 10 else f"{v:.2f}"
    if unit == "EUR":
        return f"EUR {v:,.2f}"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.2f}"


def scorecard_html(con, manifest: Manifest) -> str:
    if not _has_table(con, "marts.fct_scorecard"):
        return "<p>No scorecard: marts.fct_scorecard is absent.</p>"
    latest = _rows(con, "select max(period) from marts.fct_scorecard where period_type = 'week'")[0][0]
    rows = _rows(
        con,
        """select period_type, period, kpi_name, unit, definition, actual, previous_actual, relative_change,
                  coalesce(target, benchmark), status, data_last_day
           from marts.fct_scorecard
           where (period_type = 'week' and period = ?) or period_type = 'goal'
           order by period_type desc, kpi_name""",
        (latest,),
    )
    head = (
        "<tr><th>period</th><th>KPI</th><th>actual</th><th>previous</th><th>change</th>"
        "<th>target or benchmark</th><th>status</th></tr>"
    )
    body = []
    for _ptype, period, name, unit, definition, actual, prev, rel, target, status, _ in rows:
        change = f"{float(rel):+.1%}" if rel is not None else ""
        body.append(
            f'<tr class="{STATUS_CLASS.get(status, "none")}"><td>{html.escape(str(period))}</td>'
            f'<td title="{html.escape(definition or "")}">{html.escape(name)}</td>'
            f"<td>{_num(actual, unit)}</td><td>{_num(prev, unit)}</td><td>{change}</td>"
            f"<td>{_num(target, unit)}</td><td>{html.escape(status or '')}</td></tr>"
        )
    defs = " ".join(
        f"<b>{c}</b>: {html.escape(manifest.column('fct_scorecard', c))}"
        for c in ("actual", "status", "relative_change")
    )
    return (
        f'<table class="scorecard"><thead>{head}</thead><tbody>{"".join(body)}</tbody></table>'
        f'<p class="definition">{defs}</p>'
    )


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1100px;padding:1rem;color:#222}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
table.scorecard{border-collapse:collapse;width:100%;font-size:.9rem}
table.scorecard td,table.scorecard th{border-bottom:1px solid #eee;padding:.25rem .5rem;text-align:right}
table.scorecard td:nth-child(-n+2),table.scorecard th:nth-child(-n+2){text-align:left}
tr.ok td:last-child{color:#1a7f37}tr.risk td:last-child{color:#b08800}tr.bad td:last-child{color:#cf222e}
.definition,.freshness,.quality,.note{font-size:.85rem;margin:.3rem 0}
.quality.failed{color:#cf222e}.quality.warning{color:#b08800}.quality.passed{color:#1a7f37}
.empty{padding:2rem;background:#f6f8fa}
"""


def render(con, manifest: Manifest, generated_at: datetime | None = None, source: str = "") -> str:
    """The whole page as a string."""
    import plotly.io as pio

    generated_at = generated_at or datetime.now(UTC)
    has_quality = _has_table(con, QUALITY_TABLE)
    sections = []
    js_included = False
    for chart in CHARTS:
        raw = manifest.raw_tables(chart.model)
        if not _has_table(con, f"marts.{chart.model}"):
            raise ReportError(f"marts.{chart.model} is absent from the warehouse: run the pipeline first")
        fig = chart.figure(con)
        if fig is None:
            figure_html = f'<div class="empty">No rows in marts.{chart.model} yet.</div>'
        else:
            figure_html = pio.to_html(
                fig,
                full_html=False,
                include_plotlyjs=not js_included,  # plotly.js once per file, inline
                div_id=f"fig-{chart.key}",
                config={"displaylogo": False, "responsive": True},
            )
            js_included = True
        fresh = freshness(con, chart.model, chart.day_column, raw)
        q = quality(con, [*raw, f"marts.{chart.model}"], has_quality)
        definition = " ".join(
            f"<b>{html.escape(c)}</b> ({html.escape(m)}): {html.escape(manifest.column(m, c))}"
            for m, c in chart.columns
        )
        sections.append(
            f'<section class="chart" id="chart-{chart.key}" data-status="{q.status}">'
            f"<h2>{html.escape(chart.title)}</h2>{figure_html}"
            f'<p class="note">{html.escape(chart.note)}</p>'
            f'<p class="definition">Definition: {definition}</p>'
            f'<p class="freshness">{html.escape(fresh.text())}</p>'
            f'<p class="quality {q.status}">{html.escape(q.text())}</p></section>'
        )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        # Nothing may load from elsewhere: the page carries its scripts and styles.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; img-src data: blob:; font-src data:\">"
        f"<title>KPI report</title><style>{CSS}</style></head><body>"
        f"<h1>KPI report</h1><p>Generated {generated_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
        f"{' from ' + html.escape(source) if source else ''}.</p>"
        f'<h2 id="scorecard">Scorecard</h2>{scorecard_html(con, manifest)}' + "".join(sections) + "</body></html>"
    )


def write_report(con, out: Path, manifest_path: Path = MANIFEST, source: str = "") -> Path:
    """Render the report from `con` and move it into place at `out` atomically."""
    page = render(con, Manifest(manifest_path), source=source)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(page)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


def build_report(database: Path | None = None, out: Path | None = None, manifest_path: Path = MANIFEST) -> Path:
    """The report of the marts in `database` (default: the warehouse, whose raw tables say when
    each chart's sources were last loaded), read-only. The pipeline writes it inside its run, in
    the warehouse's pool; `make report` outside a run."""
    database = Path(database or Settings.from_env().warehouse_path)
    con = connect_read_only(database)
    try:
        return write_report(con, out or report_path(), manifest_path, source=str(database))
    finally:
        con.close()


def build_docs(
    out_dir: Path | None = None, settings: Settings | None = None, warehouse_path: Path | None = None
) -> Path:
    """dbt's docs as one static page (`dbt docs generate --static`) at `<out_dir>/index.html`:
    descriptions, lineage and the warehouse's catalog (column types, rows), no network. From the
    manifest `make` prepared (`--no-compile`, its parse state reused): a run writes it beside the
    report in a few seconds, where compiling the project again took 0.5-2 minutes."""
    settings = settings or Settings.from_env()
    out_dir = Path(out_dir or docs_dir(settings))
    out_dir.mkdir(parents=True, exist_ok=True)
    dbt = str(Path(sys.executable).parent / "dbt")
    env = {**os.environ, **settings.dbt_env()}
    if warehouse_path is not None:
        env[WAREHOUSE_PATH_VAR] = str(warehouse_path)
    with tempfile.TemporaryDirectory(prefix="dbt-docs-") as target:
        prepared = DBT_DIR / "target"
        for name in ("manifest.json", "partial_parse.msgpack"):
            if (prepared / name).exists():
                shutil.copyfile(prepared / name, Path(target) / name)
        no_compile = ["--no-compile"] if (Path(target) / "manifest.json").exists() else []
        subprocess.run(
            [dbt, "docs", "generate", "--static", *no_compile, "--quiet", "--profiles-dir", str(DBT_DIR)]
            + ["--target-path", target],
            cwd=DBT_DIR,
            env=env,
            check=True,
        )
        page = Path(target) / "static_index.html"
        tmp = out_dir / ".index.html.tmp"
        tmp.write_bytes(page.read_bytes())
        os.replace(tmp, out_dir / "index.html")
    return out_dir / "index.html"


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] == ["docs"]:
            print(build_docs())
        elif argv[:1] == ["path"]:  # the last run's report, written now if there is none yet
            path = report_path()
            print(path if path.exists() else build_report(out=path))
        elif not argv:
            print(build_report())
        else:
            print("usage: python -m warehouse.report [path|docs]", file=sys.stderr)
            return 2
    except (ReportError, MetricsError, duckdb.Error) as e:
        print(f"warehouse.report: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
