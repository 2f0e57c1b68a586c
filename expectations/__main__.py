"""Validate a warehouse by hand: every raw table and mart (or some), on a range of days.

    python -m expectations --warehouse data/warehouse.duckdb --start 2026-06-01 --end 2026-06-28 \\
        [--tables raw.meta_ads__ads_insights,marts.fct_csat] [--data-docs [DIR]] [--record]

Prints each failed check and a summary with the seconds spent; exits 1 when an error-level
check failed. `--record` appends the results to quality.check_results (the warehouse is then
opened read-write); without it the warehouse is only read.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from expectations.runner import data_docs_dir, prepare, record_results, validate_tables


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m expectations", description=__doc__.split("\n\n")[0])
    p.add_argument("--warehouse", required=True, help="the DuckDB warehouse file")
    p.add_argument("--start", type=date.fromisoformat, help="first day of the run (default: every day)")
    p.add_argument("--end", type=date.fromisoformat, help="last day of the run (default: --start)")
    p.add_argument("--tables", help="comma-separated schema.table names (default: every raw table and mart)")
    p.add_argument("--run-id", default=None)
    p.add_argument(
        "--data-docs",
        nargs="?",
        const="",
        default=None,
        help="write GX's Data Docs of the run to this folder (default: <SKW_DATA_DIR>/quality/data_docs)",
    )
    p.add_argument("--record", action="store_true", help="append the results to quality.check_results")
    a = p.parse_args(argv)
    if a.end and not a.start:
        p.error("--end needs --start")
    days = None
    if a.start:
        end = a.end or a.start
        if end < a.start:
            p.error(f"--end {end} is before --start {a.start}")
        days = [a.start + timedelta(d) for d in range((end - a.start).days + 1)]
    tables = a.tables.split(",") if a.tables else None
    docs = None if a.data_docs is None else (Path(a.data_docs) if a.data_docs else data_docs_dir())

    started = time.monotonic()
    prepare()
    imported = time.monotonic()
    if a.record:
        from warehouse.loader import connect

        with connect(a.warehouse) as con:
            results = validate_tables(con, tables, days, a.run_id, data_docs=docs)
            record_results(con, results)
    else:
        results = validate_tables(a.warehouse, tables, days, a.run_id, data_docs=docs)
    done = time.monotonic()

    for r in results:
        for o in r.outcomes:
            if not o.passed:
                print(f"{o.severity.upper():8} {o.message}")
    failed = {
        s: sum(not o.passed and o.severity == s for r in results for o in r.outcomes) for s in ("error", "warning")
    }
    print(
        f"{len(results)} suites, {sum(r.evaluated for r in results)} checks: {failed['error']} errors and "
        f"{failed['warning']} warnings failed; validated in {done - imported:.1f} s (GX import {imported - started:.1f} s)"
        + (f"; Data Docs: {docs / 'index.html'}" if docs else "")
    )
    return 1 if failed["error"] else 0


if __name__ == "__main__":
    sys.exit(main())
