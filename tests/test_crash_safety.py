"""Crash safety (issue 17, item 1): `python -m orchestration.run` (what `make run` runs) killed
with SIGKILL, with everything it started (dbt, the fakes process), at chosen points of extract,
land, load, dbt build and publish, then run again: the warehouse ends equal to an uninterrupted
run's, row for row; no half-written landing file is ever taken for a complete one; the serving
database stays the previous good publish, byte for byte, until a run publishes.

The points are found from outside, by watching the run's state on disk (no test hook in the
code): a `.partial` landing file (extracting), landed files (landing), the run holding DuckDB's
lock on the warehouse (loading), a dbt process holding it (building), the serving file's
temporary copy (publishing). One chain instead of one rerun per point: each killed run starts
from what the one before it left, and only the last run goes to the end (~35 s a run here).
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb
from crash_harness import base as crash_base
from crash_harness import (
    incomplete_landing_files,
    kill_group,
    lock_holders,
    log_of,
    reference,
    run_to_end,
    scenario,
    sha256,
    start_run,
    table_differences,
)

KILL_BOUND_S = 180  # a run reaches its last point (publish) in ~35 s here


def _landing(root: Path) -> Path:
    return root / "data" / "landing"


def _holds_warehouse(root: Path, pgid: int) -> bool:
    """The run (its process group) holds the warehouse's lock: loading, or building with dbt,
    which runs inside the run's process (warehouse/dbt_runner.py)."""
    from crash_harness import group_pids

    ours = set(group_pids(pgid))
    return any(pid in ours for pid in lock_holders(root / "data" / "warehouse.duckdb"))


def _dbt_building(root: Path, point: str) -> bool:
    """dbt has started building nodes: its `START sql` lines are in the run's log."""
    log = root / f"killed-at-{point.replace(' ', '-')}.log"
    return log.exists() and "START sql" in log.read_text(errors="replace")


# Each point: a test of the run's state on disk, and how long it must have held before the kill.
POINTS = {
    "extract": (lambda root, pgid: any(_landing(root).rglob("*.partial")), 0.0),
    "land": (lambda root, pgid: len(list(_landing(root).rglob("*.jsonl.gz"))) >= 3, 0.0),
    "load": (lambda root, pgid: _holds_warehouse(root, pgid) and not _dbt_building(root, "load"), 0.0),
    # well into the build: 3 s after its first node started, the warehouse held all along
    "dbt build": (lambda root, pgid: _holds_warehouse(root, pgid) and _dbt_building(root, "dbt build"), 3.0),
    "publish": (lambda root, pgid: any((root / "data").glob(".serving.duckdb.*.tmp")), 0.0),
}


def _kill_at(root: Path, fakes, world, point: str) -> str:
    """Start a run, SIGKILL its process group once `point` is reached; what was seen."""
    reached, hold = POINTS[point]
    proc = start_run(root, fakes, world, log_name=f"killed-at-{point.replace(' ', '-')}")
    since = None
    deadline = time.monotonic() + KILL_BOUND_S
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(
                    f"the run ended (exit {proc.returncode}) before reaching {point}:\n"
                    + log_of(root, f"killed-at-{point.replace(' ', '-')}")[-3000:]
                )
            if reached(root, proc.pid):
                since = since or time.monotonic()
                if time.monotonic() - since >= hold:
                    return f"killed at {point} after {time.monotonic() - deadline + KILL_BOUND_S:.1f} s"
            else:
                since = None
            time.sleep(0.005)
        raise AssertionError(f"{point} not reached within {KILL_BOUND_S} s")
    finally:
        kill_group(proc)


def _published_run(serving: Path) -> str:
    with duckdb.connect(str(serving), read_only=True) as con:
        return con.execute("select run_id from meta.published").fetchall()[0][0]


def test_killed_anywhere_then_rerun_equals_an_uninterrupted_run(materialized, fakes, world, tmp_path_factory):
    ref = reference(materialized, fakes, world, tmp_path_factory)
    root = scenario(crash_base(materialized, tmp_path_factory), tmp_path_factory.mktemp("crash-chain"))
    serving = root / "data" / "serving.duckdb"
    good = sha256(serving)
    seen = []
    for point in POINTS:
        seen.append(_kill_at(root, fakes, world, point))
        # the previous good publish, untouched and readable, whatever the killed run was doing
        assert sha256(serving) == good, f"serving.duckdb changed by a run killed at {point}"
        assert _published_run(serving) == "base"
        # a landing file under its final name is whole and read-only; a half-written one is `.partial`
        assert incomplete_landing_files(_landing(root)) == [], point
    partials = sorted(p.name for p in _landing(root).rglob("*.partial"))
    assert partials, "no run was killed while a landing file was half written: the extract point did not hit"

    rc = run_to_end(root, fakes, world, log_name="rerun")
    assert rc == 0, log_of(root, "rerun")[-4000:]
    wh = root / "data" / "warehouse.duckdb"
    assert table_differences(ref / "data" / "warehouse.duckdb", wh) == {}, seen
    with duckdb.connect(str(wh), read_only=True) as con:
        sources = {
            f
            for (t,) in con.execute(
                """select table_name from information_schema.columns
                   where table_schema = 'raw' and column_name = '_source_file'"""
            ).fetchall()
            for (f,) in con.execute(f'select distinct _source_file from raw."{t}"').fetchall()
        }
    # every raw row of this folder's runs came from a whole landing file, none from a `.partial` one
    ours = {f for f in sources if f and f.startswith(str(_landing(root)))}
    assert ours and not [f for f in ours if not f.endswith(".jsonl.gz") or not Path(f).exists()]
    assert incomplete_landing_files(_landing(root)) == []
    # the rerun published: a new serving file with the warehouse's marts; the killed publish's temporary file is gone
    assert sha256(serving) != good and _published_run(serving) != "base"
    assert not list((root / "data").glob(".serving.duckdb.*.tmp"))
    with duckdb.connect() as con:
        con.execute(f"attach '{serving}' as s (read_only)")
        con.execute(f"attach '{wh}' as w (read_only)")
        for (t,) in con.execute(
            "select table_name from information_schema.tables where table_catalog = 's' and table_schema = 'marts'"
        ).fetchall():
            diff = con.execute(
                f'select count(*) from (select * from s.marts."{t}" except all select * from w.marts."{t}")'
            ).fetchall()[0][0]
            assert diff == 0, t
