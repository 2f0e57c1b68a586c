"""Data quality as a gate: the project's checks as Dagster asset checks (dbt's tests arrive
through dagster-dbt). Glue only: the checks themselves are expectations/ (Great Expectations
suites), warehouse/load_checks.py and warehouse/reconcile.py, which know nothing of Dagster.

- **Raw tables**, in the raw multi-assets' own step (orchestration/assets/streams.py), after the
  run's loads: per stream `load_reconciles`, `reject_share`, `conflicts` (from the load's
  counts) and `gx_errors` / `gx_warnings` (the table's suite on the run's days). Every spec is
  `blocking`: a result of severity ERROR fails the step once all its results are out, so Dagster
  runs nothing downstream of it in that run (Dagster 1.13 `execute_step`: a failed blocking
  check of ERROR severity raises `DagsterAssetCheckFailedError` after the step's events). A
  WARN result shows and blocks nothing. dbt's models are one step: an error on any raw table of
  the run stops the whole dbt build of that run (no mart is rebuilt), the raw data stays loaded.
- **After dbt** (`quality_after_dbt`, one step over the marts and staging models): each mart's
  suite on the run's days, and the reconciliations across layers; error-level ones are blocking
  too (whatever reads the marts, serving included, waits for them; a failure fails the run).
  The same step evaluates every source asset's `FreshnessPolicy` (`SOURCE_FRESHNESS`) against
  its last materialization, as Dagster's freshness daemon does for the UI, and logs and records
  a stale one.
- **Results**: every result goes to `quality.check_results` (expectations/runner.py
  `record_checks`) with the run id, and GX's Data Docs of the run are written to
  `<SKW_DATA_DIR>/quality/data_docs` after each step that validated.

Each result's metadata carries the failed expectations (messages naming table, column and
values) and a few offending rows, personal data masked (expectations/runner.py `is_pii`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from dagster import (
    AssetCheckKey,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    FreshnessPolicy,
    MetadataValue,
    multi_asset_check,
)

from expectations.rules import ERROR, WARNING

LOAD_CHECKS = ("load_reconciles", "reject_share", "conflicts")
LOAD_CHECK_TEXT = {
    "load_reconciles": "The load's counts add up: received = loaded + rejected + duplicates + conflicting copies.",
    "reject_share": "The share of the load's records rejected (raw._rejects) is within the stream's threshold "
    "(SKW_REJECT_THRESHOLD, SKW_REJECT_THRESHOLDS).",
    "conflicts": "No key came in two versions with different values (a warning; an error over the threshold).",
}
GX_TEXT = {
    ERROR: "Great Expectations suite of {table}, error-level expectations, on the run's days: a failure "
    "blocks what is built from it in the run.",
    WARNING: "Great Expectations suite of {table}, warning-level expectations, on the run's days: shown, "
    "never blocking.",
}
RECONCILE_TEXT = {
    "staging_equals_raw": "The staging model has one row per key of its raw table (raw after deduplication).",
    "mart_spend_equals_staging": "Spend per platform, day and currency equals staging's spend.",
    "web_sessions_equal_ga4": "Sessions per property and day equal GA4's report rows in raw.",
    "conversions_counted_once": "Each new customer and lead is counted once across platforms in the CPA mart.",
}

# Sources are read by a daily schedule (orchestration/schedules.py, 05:00 UTC): a source whose
# last materialization is over 26 hours old missed a run (warning); over 50 hours, two (failure).
SOURCE_FRESHNESS = FreshnessPolicy.time_window(fail_window=timedelta(hours=50), warn_window=timedelta(hours=26))

SEVERITY = {ERROR: AssetCheckSeverity.ERROR, WARNING: AssetCheckSeverity.WARN}
# How many failed expectations and offending rows a result's metadata shows.
SHOWN = 10


# -- specs --------------------------------------------------------------------------------------


def gx_check_names(table: str, severities: Iterable[str]) -> list[tuple[str, str]]:
    """(check name, severity) of a table's suite in Dagster: one check per severity it has."""
    from expectations.runner import CHECK_NAMES

    return [(CHECK_NAMES[s], s) for s in (ERROR, WARNING) if s in set(severities)]


def raw_check_specs(key: AssetKey, table: str, severities: Iterable[str]) -> list[AssetCheckSpec]:
    """A raw asset's checks: its load checks and its suite's, all blocking (an ERROR result
    blocks, a WARN one does not)."""
    specs = [AssetCheckSpec(name, asset=key, blocking=True, description=LOAD_CHECK_TEXT[name]) for name in LOAD_CHECKS]
    specs += [
        AssetCheckSpec(name, asset=key, blocking=True, description=GX_TEXT[sev].format(table=table))
        for name, sev in gx_check_names(table, severities)
    ]
    return specs


def raw_severities() -> dict[str, set[str]]:
    """Each declared raw table's suite severities ({"raw.x__y": {"error", "warning"}})."""
    from expectations.declarations import raw_declarations
    from expectations.suites import suite

    any_day = [date(2026, 1, 1)]  # which checks a suite has does not depend on the day
    return {t: set(suite(d, any_day).severities().values()) for t, d in raw_declarations().items()}


def to_key(relation_or_asset: str) -> AssetKey:
    """`marts.fct_x` or `marts/fct_x` (a relation or an asset path) as an asset key."""
    return AssetKey(relation_or_asset.replace(".", "/").split("/"))


# -- results ------------------------------------------------------------------------------------


def check_result(row, key: AssetKey, messages: list[str] | None = None) -> AssetCheckResult:
    """A row of quality.check_results (expectations/runner.py `CheckResult`) as Dagster's result:
    severity, the failed expectations with their messages and offending rows (PII masked) as
    metadata, the first messages as its description."""
    failed = list(row.failed_expectations)
    messages = messages if messages is not None else [f.get("message") or "" for f in failed]
    metadata: dict[str, Any] = {
        "table": row.table,
        "partition": row.partition or "every row",
        "run_id": row.run_id,
        "failed_expectations": MetadataValue.json(failed[:SHOWN]),
        "offending_rows": MetadataValue.json([s for f in failed for s in (f.get("sample") or [])][:SHOWN]),
        "observed": MetadataValue.json(_plain(row.observed)),
    }
    if messages:
        metadata["messages"] = MetadataValue.md("\n".join(f"- {m}" for m in messages[:SHOWN]))
    return AssetCheckResult(
        asset_key=key,
        check_name=row.check,
        passed=row.passed,
        severity=SEVERITY[row.severity],
        metadata=metadata,
        description="; ".join(messages[:3])[:2000] if messages else None,
    )


def _plain(value):
    import json

    return json.loads(json.dumps(value, default=str))


def merged(rows: list) -> list:
    """Outcomes of one check on one asset (a reconciliation per platform, say) as one row: passed
    when all passed, error when any failed error, every failure kept."""
    from expectations.runner import CheckResult

    by: dict[tuple[str, str], list] = {}
    for r in rows:
        by.setdefault((r.asset, r.check), []).append(r)
    out = []
    for group in by.values():
        if len(group) == 1:
            out.append(group[0])
            continue
        failed = [r for r in group if not r.passed]
        severity = ERROR if any(r.severity == ERROR for r in (failed or group)) else WARNING
        first = group[0]
        out.append(
            CheckResult(
                check=first.check,
                asset=first.asset,
                table=", ".join(dict.fromkeys(r.table for r in group)),
                partition=first.partition,
                run_id=first.run_id,
                severity=severity,
                passed=not failed,
                observed={r.table: r.observed for r in group},
                failed_expectations=[f for r in failed for f in r.failed_expectations],
                checked_at=first.checked_at,
            )
        )
    return out


# -- the run's days -----------------------------------------------------------------------------

RANGE_START, RANGE_END, PARTITION = (
    "dagster/asset_partition_range_start",
    "dagster/asset_partition_range_end",
    "dagster/partition",
)


def run_days(tags: Mapping[str, str]) -> list[date] | None:
    """The days of a run from its tags (a partition, or a single-run range); None: not partitioned."""
    if RANGE_START in tags and RANGE_END in tags:
        first, last = date.fromisoformat(tags[RANGE_START]), date.fromisoformat(tags[RANGE_END])
    elif PARTITION in tags:
        first = last = date.fromisoformat(tags[PARTITION])
    else:
        return None
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


# -- raw tables: the raw step's checks ----------------------------------------------------------


@dataclass(frozen=True)
class Loaded:
    """One stream's load in a raw step: its asset, raw table and the counts the engine returned."""

    key: AssetKey
    table: str
    counts: Mapping[str, Any]


def load_result(item: Loaded, partition: str, load_id: str):
    """The engine's counts of a stream's run as the loader's `LoadResult` the load checks read."""
    from warehouse.loader import LoadResult

    c = item.counts
    names = ("received", "loaded", "rejected", "duplicates", "inserted", "updated", "unchanged", "deleted")
    return LoadResult(
        item.table,
        partition,
        load_id,
        *(int(c.get(n, 0)) for n in names),
        rows_in_table=int(c.get("rows_in_table", 0)),
        conflicts=int(c.get("conflicts", 0)),
        conflict_copies=int(c.get("conflict_copies", 0)),
    )


def raw_checks(
    *,
    con,
    loaded: list[Loaded],
    selected: set[AssetCheckKey],
    days: list[date] | None,
    run_id: str,
    since: datetime,
    log,
) -> tuple[list[AssetCheckResult], list]:
    """The checks of a raw step's loads, on the step's read-write connection (every load is
    done): the load checks of each stream, then one GX session over the loaded tables on the
    run's days. Returns Dagster's results (of the selected checks) and the rows recorded."""
    from expectations.runner import is_pii, outcome_check, record_checks, validate_tables
    from warehouse.load_checks import RejectThresholds, check_load, load_samples

    thresholds = RejectThresholds.from_env()
    partition = "current" if days is None else (days[0].isoformat() if len(days) == 1 else f"{days[0]}..{days[-1]}")
    rows, results = [], []
    for item in loaded:
        if not any(AssetCheckKey(item.key, n) in selected for n in LOAD_CHECKS):
            continue
        offending = int(item.counts.get("rejected", 0)) + int(item.counts.get("conflicts", 0))
        samples = load_samples(con, item.table, since, masked=lambda f, t=item.table: is_pii(t, f)) if offending else {}
        for o in check_load(load_result(item, partition, run_id), thresholds.for_table(item.table), samples):
            row = outcome_check(o, item.key.to_user_string(), run_id)
            rows.append(row)
            if AssetCheckKey(item.key, o.check) in selected:
                results.append(check_result(row, item.key, [o.message] if not o.passed else []))
    present = {
        f"raw.{t}"
        for (t,) in con.execute("select table_name from duckdb_tables() where schema_name = 'raw'").fetchall()
    }
    gx = [
        i
        for i in loaded
        if i.table in present and any(k.asset_key == i.key and k.name.startswith("gx_") for k in selected)
    ]
    for i in loaded:
        if i.table not in present:
            log.warning(f"{i.table} does not exist (nothing was ever loaded): its suite did not run")
    if gx:
        suites = validate_tables(con, [i.table for i in gx], days, run_id, keep_for_docs=True)
        for item, s in zip(gx, suites):
            for row in s.checks():
                rows.append(row)
                if AssetCheckKey(item.key, row.check) in selected:
                    results.append(check_result(row, item.key))
    record_checks(con, rows)
    return results, rows


# -- after dbt: marts, reconciliation, freshness ------------------------------------------------


def freshness_rows(instance, keys: Iterable[AssetKey], run_id: str, now: datetime | None = None) -> list:
    """Each source asset's state under `SOURCE_FRESHNESS`, as Dagster's freshness daemon judges
    it (time since its last materialization against the warn and fail windows; UNKNOWN when
    never materialized), as rows of quality.check_results: check `freshness`, passed when PASS,
    a warning when WARN or UNKNOWN, an error when FAIL (never blocking)."""
    from expectations.runner import CheckResult

    now = now or datetime.now(UTC)
    keys = list(keys)
    latest = instance.get_latest_materialization_events(keys)
    fail = SOURCE_FRESHNESS.fail_window.to_timedelta()
    warn = SOURCE_FRESHNESS.warn_window.to_timedelta() if SOURCE_FRESHNESS.warn_window else None
    rows = []
    for key in keys:
        event = latest.get(key)
        name = key.to_user_string()
        if event is None:
            state, age, message = "UNKNOWN", None, f"{name} has never been materialized: its freshness is unknown"
        else:
            at = datetime.fromtimestamp(event.timestamp, UTC)
            age = now - at
            state = "FAIL" if age >= fail else ("WARN" if warn and age >= warn else "PASS")
            message = (
                f"{name} was last materialized {at:%Y-%m-%d %H:%M} UTC, {age.total_seconds() / 3600:.1f} hours ago "
                f"(warn after {_hours(warn)}, fail after {_hours(fail)}): {state}"
            )
        passed = state == "PASS"
        rows.append(
            CheckResult(
                check="freshness",
                asset=name,
                table="raw." + "__".join(key.path[1:]) if key.path[0] == "raw" else name,
                partition=None,
                run_id=run_id,
                severity=ERROR if state == "FAIL" else WARNING,
                passed=passed,
                observed={
                    "state": state,
                    "hours_since_materialization": None if age is None else round(age.total_seconds() / 3600, 2),
                    "message": message,
                },
                failed_expectations=[] if passed else [{"check": "freshness", "message": message}],
                checked_at=now,
            )
        )
    return rows


def _hours(delta: timedelta | None) -> str:
    return "never" if delta is None else f"{delta.total_seconds() / 3600:g} h"


def after_dbt_specs(manifest=None) -> list[AssetCheckSpec]:
    """The checks of the step after dbt: each mart's suite (one check per severity) and each
    reconciliation on the asset it is about."""
    from expectations.declarations import mart_declarations
    from expectations.suites import suite
    from warehouse.reconcile import check_targets

    specs = []
    for table, decl in sorted(mart_declarations(manifest).items()):
        severities = suite(decl, [date(2026, 1, 1)]).severities().values()
        for name, sev in gx_check_names(table, severities):
            specs.append(
                AssetCheckSpec(
                    name, asset=to_key(table), blocking=sev == ERROR, description=GX_TEXT[sev].format(table=table)
                )
            )
    for check, relation in check_targets(manifest):
        specs.append(AssetCheckSpec(check, asset=to_key(relation), blocking=True, description=RECONCILE_TEXT[check]))
    return specs


def quality_after_dbt(source_keys: list[AssetKey], manifest=None):
    """The step after dbt: the marts' suites and the reconciliations (Dagster checks), and the
    sources' freshness (recorded and logged); results to quality.check_results, Data Docs."""
    specs = after_dbt_specs(manifest)

    @multi_asset_check(
        name="quality_after_dbt",
        specs=specs,
        can_subset=True,
        required_resource_keys={"warehouse"},
        description="Great Expectations suites of the marts on the run's days, reconciliation across layers, "
        "and the sources' freshness; every result in quality.check_results, Data Docs under data/quality.",
    )
    def _quality_after_dbt(context) -> Iterator[AssetCheckResult]:
        yield from after_dbt(context, source_keys, manifest)

    return _quality_after_dbt


def has_step_after_dbt(job_def) -> bool:
    """Whether a run's job has the step after dbt (which writes the run's Data Docs last)."""
    return any(node.name == "quality_after_dbt" for node in job_def.nodes)


def after_dbt(context, source_keys: list[AssetKey], manifest=None) -> Iterator[AssetCheckResult]:
    from expectations.runner import data_docs_dir, outcome_check, record_checks, validate_tables, write_data_docs
    from warehouse.reconcile import reconcile

    clock = time.monotonic()
    selected = set(context.selected_asset_check_keys)
    run_id = context.run.run_id
    days = run_days(context.run.tags)
    warehouse = context.resources.warehouse
    rows, results = [], []
    with warehouse.connect() as con:
        present = {
            f"marts.{t}"
            for (t,) in con.execute("select table_name from duckdb_tables() where schema_name = 'marts'").fetchall()
        }
        marts = sorted({k.asset_key for k in selected if k.name.startswith("gx_")}, key=lambda k: k.to_user_string())
        tables = [".".join(k.path) for k in marts if ".".join(k.path) in present]
        for k in marts:
            if ".".join(k.path) not in present:
                context.log.warning(f"{'.'.join(k.path)} is not in the warehouse: its suite did not run")
        suites = validate_tables(con, tables, days, run_id, manifest=manifest, keep_for_docs=True) if tables else []
        phases = {"suites": time.monotonic() - clock}
        for s in suites:
            for row in s.checks():
                rows.append(row)
                if AssetCheckKey(to_key(s.suite), row.check) in selected:
                    results.append(check_result(row, to_key(s.suite)))
        if any(not k.name.startswith("gx_") for k in selected):
            first, last = (days[0], days[-1]) if days else (date(1970, 1, 1), date(9999, 12, 31))
            outcomes = [
                outcome_check(o, to_key(o.asset).to_user_string(), run_id)
                for o in reconcile(con, first, last, manifest=manifest)
            ]
            reconciled = merged(outcomes)
            rows += reconciled
            for row in reconciled:
                key = to_key(row.asset)
                if AssetCheckKey(key, row.check) in selected:
                    results.append(check_result(row, key))
        phases["reconciliation"] = time.monotonic() - clock - sum(phases.values())
        fresh = freshness_rows(context.instance, source_keys, run_id)
        for row in fresh:
            if not row.passed:
                context.log.warning(f"stale source: {row.observed['message']}")
        rows += fresh
        record_checks(con, rows)
    phases["freshness, recording"] = time.monotonic() - clock - sum(phases.values())
    try:  # the run's pages: the raw steps' suites and these
        index = write_data_docs(data_docs_dir(), run_id)
        context.log.info(f"Data Docs of run {run_id}: {index}")
    except LookupError:
        pass  # no suite ran in this process for the run
    phases["data docs"] = time.monotonic() - clock - sum(phases.values())
    context.log.info(f"{len(rows)} check results of run {run_id} in quality.check_results")
    yield from results
    phases["results to Dagster"] = time.monotonic() - clock - sum(phases.values())
    context.log.info(
        f"quality checks after dbt took {time.monotonic() - clock:.2f} s ("
        + ", ".join(f"{k} {v:.2f} s" for k, v in phases.items())
        + ")"
    )


def quality_summary(warehouse_path, run_id: str | list[str]) -> list[str]:
    """`make run`'s lines about the run's quality results (of each run, when a second one built
    what did not need a down source): how many, where they are, the Data Docs, and any stale source."""
    from expectations.runner import RESULTS_TABLE, data_docs_dir
    from warehouse.loader import connect

    run_ids = [run_id] if isinstance(run_id, str) else list(run_id)
    with connect(warehouse_path, read_only=True) as con:
        exists = con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'quality' and table_name = 'check_results'"
        ).fetchone()[0]
        rows = (
            con.execute(
                f"""select "check", asset, passed, observed->>'state' from {RESULTS_TABLE}
                    where list_contains(?, run_id)""",
                [run_ids],
            ).fetchall()
            if exists
            else []
        )
    failed = sum(1 for _, _, passed, _ in rows if not passed)
    stale = sorted(f"{asset} ({state})" for check, asset, passed, state in rows if check == "freshness" and not passed)
    index = data_docs_dir() / "index.html"
    lines = [
        f"quality        {len(rows):,} results, {failed} failed, in {RESULTS_TABLE} "
        + (f"(where run_id = '{run_ids[0]}')" if len(run_ids) == 1 else f"(where run_id in {tuple(run_ids)})"),
        f"data docs      {index}" + ("" if index.exists() else "  (not written: no suite ran)"),
    ]
    if stale:
        lines.append(f"stale sources  {', '.join(stale)}")
    return lines
