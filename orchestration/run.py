"""`make run`: materialize every asset for the sample range in one in-process run, then print
a summary (rows per layer, checks, warehouse path, how to open the UI, wall time).

In-process on purpose: the multiprocess executor starts a Python per step, each importing
Dagster, dbt and GX (measured here: 35 s against 19 s for a 3-asset pipeline). The run is
recorded in $DAGSTER_HOME, so it shows in `make ui` with its logs and checks.

`make run` turns sample mode on (`SKW_SAMPLE_MODE=1`): the sample world is generated and the
sources read its fakes, and the headline figures are checked against the world's truths.
Without it, the sources read their settings from the environment and `--start`/`--end` are
required. `main` is where this process starts: it applies the run-time policy to it
(telemetry off, warehouse/settings.py `TELEMETRY_OFF`).

While it runs, every line is `time  asset  message` (orchestration/progress.py): Dagster's, the
project's (loads, retries, throttling pauses, checks) and dbt's, with `progress` lines (assets
done of the run's total, rows loaded).

Exit status: 0 when the run succeeded and every check passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from datetime import date
from decimal import Decimal

from orchestration.instance import ensure_dagster_home
from orchestration.instance import instance as home_instance
from warehouse import loader
from warehouse.loader import scalar
from warehouse.settings import SAMPLE_MODE_VAR, TELEMETRY_OFF, Settings

LAYERS = ("raw", "staging", "intermediate", "marts")


def connect(warehouse_path, read_only: bool = True):
    """A connection for the summary that waits (warehouse/engine.py `connect_waiting`, up to 120 s,
    then one error naming the holder) while another process holds the warehouse: a second
    `make run` started at the same time is still writing when this one prints its summary."""
    from warehouse.engine import connect_waiting

    return connect_waiting(warehouse_path, open_connection=lambda p: loader.connect(p, read_only=read_only))


def layer_counts(warehouse_path) -> dict[str, dict[str, int]]:
    """Rows per table, per layer schema."""
    counts: dict[str, dict[str, int]] = {layer: {} for layer in LAYERS}
    with connect(warehouse_path, read_only=True) as con:
        tables = con.execute("""select table_schema, table_name from information_schema.tables
                                where table_schema in ('raw', 'staging', 'intermediate', 'marts')
                                order by table_schema, table_name""").fetchall()
        for schema, name in tables:
            counts[schema][name] = scalar(con, f'select count(*) from "{schema}"."{name}"')
    return counts


def run(
    start: date,
    end: date,
    *,
    instance=None,
    defs=None,
    raise_on_error: bool = False,
    asset_selection=None,
    tags: dict[str, str] | None = None,
):
    """Execute the main job over [start, end] as one run (of `asset_selection` only, if given);
    returns the ExecuteInProcessResult."""
    from orchestration.definitions import build_definitions
    from orchestration.progress import formatted_stdout, progress_console

    instance = instance or home_instance()
    # one line format for every message, and progress lines (orchestration/progress.py)
    job = (defs or build_definitions()).resolve_job_def("main").with_logger_defs({"console": progress_console})
    tags = {
        **(tags or {}),
        "dagster/asset_partition_range_start": start.isoformat(),
        "dagster/asset_partition_range_end": end.isoformat(),
    }
    run_config = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
    with formatted_stdout():  # dbt's lines in the same format
        return job.execute_in_process(
            run_config=run_config,
            instance=instance,
            tags=tags,
            raise_on_error=raise_on_error,
            asset_selection=list(asset_selection) if asset_selection is not None else None,
        )


def run_the_rest(result, start: date, end: date, *, instance, defs):
    """After a run whose raw step failed on some sources (orchestration/recovery.py): a second
    run of what does not need them; (its Remainder, its result), or (None, None)."""
    from orchestration.recovery import remainder_of_run

    rest = remainder_of_run(instance, result.run_id, defs.resolve_asset_graph())
    if rest is None:
        return None, None
    print(f"{'':<14} {rest.describe()}", flush=True)
    return rest, run(start, end, instance=instance, defs=defs, asset_selection=rest.to_build, tags=rest.tags())


def mart_spend(warehouse_path) -> dict[str, Decimal]:
    with connect(warehouse_path, read_only=True) as con:
        rows = con.execute("""select currency, sum(spend) from marts.fct_paid_performance_daily
                              group by 1 order by 1""").fetchall()
    return {cur: Decimal(total).quantize(Decimal("0.01")) for cur, total in rows}


def headline_kpis(warehouse_path, world=None) -> list[tuple[str, str, bool | None]]:
    """(label, figures, equals the sample world's?) for the summary: ad spend in the reporting
    currency per platform, new customers, CPA and ROAS of the ad platforms, sessions from social.
    With `world` (the embedded default over the whole sample range) each is checked against the
    world's truths; otherwise only shown (None)."""
    truths = json.loads((world / "truths.json").read_text()) if world else None
    out: list[tuple[str, str, bool | None]] = []
    with connect(warehouse_path, read_only=True) as con:
        spend = dict(
            con.execute("""select platform, round(sum(spend_micros / 1e6 / fx_rate), 2)
                                    from marts.fct_campaign_performance_daily group by 1 order by 1""").fetchall()
        )
        currency = scalar(con, "select max(reporting_currency) from marts.fct_campaign_performance_daily")
        customers = dict(
            con.execute("""select acquisition_channel, sum(customers) from marts.fct_clv_by_channel
                                        group by 1 order by 2 desc""").fetchall()
        )
        roi_spend, roi_customers, roi_revenue = con.execute(
            """select sum(spend_reporting), sum(new_customers), sum(new_customer_revenue)
               from marts.fct_campaign_roi_daily"""
        ).fetchall()[0]
        social, organic, paid, influencer = con.execute(
            """select sum(social_sessions), sum(organic_sessions), sum(paid_sessions), sum(influencer_sessions)
               from marts.fct_social_traffic_daily"""
        ).fetchall()[0]
    # sums over no rows are null: a range with no ad spend, customer or session shows zeros
    roi_spend, roi_customers, roi_revenue = roi_spend or 0, roi_customers or 0, roi_revenue or 0
    social, organic, paid, influencer = (n or 0 for n in (social, organic, paid, influencer))
    spend = {k: Decimal(v).quantize(Decimal("0.01")) for k, v in spend.items()}
    total = sum(spend.values(), Decimal(0))
    ok = (
        None
        if truths is None
        else spend == {p: Decimal(truths[p]["spend_eur"]) for p in spend}
        and set(spend) == {"meta_ads", "google_ads", "linkedin_ads"}
    )
    out.append(("ad spend", f"{currency} {total:,.2f}: " + ", ".join(f"{p} {v:,.2f}" for p, v in spend.items()), ok))
    n_customers = int(sum(customers.values()))
    ok = None if truths is None else n_customers == truths["hubspot"]["first_deals"]
    out.append(("new customers", f"{n_customers:,}: " + ", ".join(f"{c} {int(n):,}" for c, n in customers.items()), ok))
    cpa = Decimal(roi_spend) / roi_customers if roi_customers else None
    roas = Decimal(roi_revenue) / Decimal(roi_spend) if roi_spend else None
    ok = None
    if truths is not None:
        per = truths["planted"]["totals_per_channel"]
        ad_channels = ("meta_paid", "google_cpc", "linkedin_paid")
        ok = int(roi_customers) == sum(per[c]["new_customers"] for c in ad_channels) and Decimal(roi_revenue).quantize(
            Decimal("0.01")
        ) == sum(Decimal(per[c]["revenue_eur"]) for c in ad_channels)
    shown_cpa = f"{currency} {cpa:,.2f}" if cpa is not None else "n/a (no new customer)"
    shown_roas = f"{roas:.2f}" if roas is not None else "n/a (no spend)"
    out.append(
        (
            "CPA, ROAS",
            f"{shown_cpa} a new customer, ROAS {shown_roas} (ad platforms: "
            f"{int(roi_customers):,} new customers, first purchases {currency} {Decimal(roi_revenue):,.2f})",
            ok,
        )
    )
    if world is not None:
        from orchestration.sample_mode import social_sessions_served
    ok = None if world is None else int(social) == social_sessions_served(world)
    out.append(
        (
            "social web",
            f"{int(social):,} sessions: organic {int(organic):,}, paid {int(paid):,}, influencer {int(influencer):,}",
            ok,
        )
    )
    return out


def failed_steps(result) -> list[tuple[str, str]]:
    """(step, the first line of its error, with the items of a list it announces) of every step
    that failed in the run, in order."""
    out = []
    for ev in result.all_events:
        if ev.event_type_value == "STEP_FAILURE":
            error = ev.event_specific_data.error if ev.event_specific_data else None
            while error is not None and error.cause is not None:  # Dagster's wrapper: the user's error inside
                error = error.cause
            message = error.message.strip() if error is not None else "failed"
            lines = message.splitlines() if message else ["failed"]
            # a list announced by its first line ("2 stream(s) failed:"): its items too, up to 10
            shown = lines[:11] if lines[0].endswith(":") else lines[:1]
            out.append((ev.step_key or "?", "\n".join(line[:300] for line in shown)))
    return out


def print_failed_steps(steps: list[tuple[str, str]]) -> None:
    """`failed_steps`' lines under the summary's `run` line, a message's further lines indented."""
    for step, message in steps:
        print(f"  FAILED       {step}: {message}".replace("\n", "\n" + " " * 17))


def check_outcomes(result) -> tuple[list[str], list[str]]:
    passed, failed = [], []
    for ev in result.get_asset_check_evaluations():
        name = f"{ev.asset_key.to_user_string()}:{ev.check_name}"
        (passed if ev.passed else failed).append(name)
    return passed, failed


def main(argv=None) -> int:
    os.environ.update(TELEMETRY_OFF)  # this process and every one it starts (dbt, the fakes)
    settings = Settings.from_env()
    spec = None
    if settings.sample_mode:
        from sampleworld.world import WorldSpec

        spec = WorldSpec.from_env()
    parser = argparse.ArgumentParser(prog="python -m orchestration.run", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--start",
        type=date.fromisoformat,
        default=spec.start if spec else None,
        required=spec is None,
        help="first day (default in sample mode: the sample world's)",
    )
    parser.add_argument(
        "--end",
        type=date.fromisoformat,
        default=spec.end if spec else None,
        required=spec is None,
        help="last day (default in sample mode: the sample world's)",
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    warnings.filterwarnings("ignore", message="This pattern is interpreted as a regular expression")

    from orchestration.definitions import build_definitions
    from orchestration.resources import MissingSettings

    try:
        defs = build_definitions(settings)
    except MissingSettings as exc:  # before anything starts: every missing variable, named
        print(f"cannot run: {exc}", file=sys.stderr)
        return 1
    from warehouse.locks import WarehouseBusy, ensure_free

    try:
        ensure_free(settings.warehouse_path, settings.serving_path)
    except WarehouseBusy as exc:  # before anything starts: the process holding the warehouse, named
        print(f"cannot run: {exc}", file=sys.stderr)
        return 1
    home = ensure_dagster_home(settings)
    world, embedded = None, False
    if settings.sample_mode:
        from orchestration.definitions import enabled_sources
        from orchestration.sample_mode import sources_from_environment, world_dir

        world = world_dir(settings)
        print(f"sample world   {world}")
        real = sources_from_environment(enabled_sources(settings))
        embedded = not real  # only then can the figures be checked against the world's
        where = "embedded fakes of the platform APIs on 127.0.0.1"
        if real:
            where += f", except {', '.join(real)} (from the environment)"
    else:
        where = f"the environment's settings (sample mode off: {SAMPLE_MODE_VAR}=1 turns it on)"
    print(f"sources        {where}")
    print(f"materializing  every asset for {args.start} .. {args.end} (one in-process run)", flush=True)

    instance = home_instance(settings)
    from orchestration.dead_runs import reclaim_dead_runs  # a killed run's pool slot would block this one

    for dead in reclaim_dead_runs(instance):
        print(f"reclaimed      run {dead}: its process was killed before the run ended; marked failed, pool slot freed")
    result = run(args.start, args.end, instance=instance, defs=defs)
    # a source down: the other sources are loaded; the marts that do not need it are built next
    rest, second = (
        (None, None) if result.success else run_the_rest(result, args.start, args.end, instance=instance, defs=defs)
    )
    results = [result, *([second] if second is not None else [])]
    counts = layer_counts(settings.warehouse_path)
    passed, failed = (sum(lists, []) for lists in zip(*(check_outcomes(r) for r in results)))
    wall = time.monotonic() - started

    print()
    print(f"run            {'succeeded' if result.success else 'FAILED'}  (run id {result.run_id})")
    if not result.success:
        # what failed, first; the counts below are what the warehouse holds now, not this run's output
        print_failed_steps(failed_steps(result) or [("run", "failed before any step (see the run's events)")])
        if second is not None:
            print(
                f"run            {'succeeded' if second.success else 'FAILED'}  (run id {second.run_id}: {rest.describe()})"
            )
            print_failed_steps(failed_steps(second))
        print(
            "in the warehouse now (this run failed: not all of it is this run's; nothing is compared with the sample world)"
        )
    for layer in LAYERS:
        tables = counts[layer]
        if layer == "raw":  # one line per source: <source>__<stream> tables
            by_source: dict[str, int] = {}
            for t, n in tables.items():
                by_source[t.split("__")[0]] = by_source.get(t.split("__")[0], 0) + n
            detail = f"in {len(tables)} tables: " + ", ".join(f"{src} {n:,}" for src, n in by_source.items())
        elif layer in ("staging", "intermediate"):  # one model per raw table, and their unions
            detail = f"in {len(tables)} models" if tables else "no models"
        else:  # every mart by name
            detail = ", ".join(f"{t} {n:,}" for t, n in tables.items()) or "no tables"
        print(f"{layer:<14} {sum(tables.values()):>8,} rows   {detail}")
    reconciled = True
    if counts["marts"].get("fct_paid_performance_daily"):
        spend = mart_spend(settings.warehouse_path)
        shown = ", ".join(f"{cur} {total:,.2f}" for cur, total in spend.items())
        if result.success and embedded and (args.start, args.end) == (spec.start, spec.end):
            truth = json.loads((world / "truths.json").read_text())["meta_ads"]["spend_by_currency"]
            reconciled = spend == {cur: Decimal(v) for cur, v in truth.items()}
            shown += (
                "  (equals the sample world's total)"
                if reconciled
                else f"  DIFFERS from the sample world's total {truth}"
            )
        print(f"paid spend     {shown}")
    if counts["marts"].get("fct_campaign_performance_daily") is not None:
        checked = result.success and embedded and (args.start, args.end) == (spec.start, spec.end)
        for label, figures, ok in headline_kpis(settings.warehouse_path, world if checked else None):
            note = (
                "" if ok is None else ("  (equals the sample world's)" if ok else "  DIFFERS from the sample world's")
            )
            print(f"{label:<14} {figures}{note}")
            reconciled = reconciled and ok is not False
    print(f"checks         {len(passed)} passed, {len(failed)} failed")
    for name in failed:
        print(f"  FAILED       {name}")
    from orchestration.checks import quality_summary  # every check's result, Data Docs, stale sources

    with connect(settings.warehouse_path):  # waits for a second run's hold on the file, like the counts above
        pass
    for line in quality_summary(settings.warehouse_path, [r.run_id for r in results]):
        print(line)
    print(f"warehouse      {settings.warehouse_path}")
    from orchestration.assets.serving import SERVING_KEY

    published = any(e.asset_key == SERVING_KEY for r in results for e in r.get_asset_materialization_events())
    note = "published by this run: BI tools and analysts read this copy" if published else "NOT published by this run"
    print(f"serving        {settings.serving_path}  ({note})")
    from orchestration.assets.report import kpi_report
    from warehouse.report import report_path

    reported = any(e.asset_key == kpi_report.key for r in results for e in r.get_asset_materialization_events())
    note = "written by this run: make report opens it" if reported else "NOT written by this run"
    print(f"report         {report_path(settings)}  ({note})")
    print(f"landing        {settings.landing_dir}")
    print(f"run history    {home}  (open it with: make ui, then http://127.0.0.1:3000)")
    print(
        f"query it       .venv/bin/python -c \"import duckdb; print(duckdb.connect('{settings.serving_path}', read_only=True).sql('from marts.fct_paid_performance_daily limit 5'))\""
    )
    print(f"wall time      {wall:.1f} s")
    return 0 if result.success and not failed and reconciled else 1


if __name__ == "__main__":
    sys.exit(main())
