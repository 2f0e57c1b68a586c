"""Concurrency outside Dagster's run queue (issue 17, item 6): two `python -m orchestration.run`
processes (two `make run`s) started at once on one warehouse and one DAGSTER_HOME. Both end
within a bound; each either succeeds or fails with a message naming the other's process; the
warehouse after equals one uninterrupted run's, row for row (load metadata left out); and a
reader on the serving database in a third process queries it throughout without one error.

(tests/test_concurrent_runs.py covers runs that go through Dagster's queue and pool.)
"""

from __future__ import annotations

import re
import subprocess
import sys
import time

from crash_harness import (
    RUN_BOUND_S,
    group_pids,
    kill_group,
    log_of,
    reference,
    scenario,
    start_run,
    table_differences,
)
from crash_harness import base as crash_base

READER = r"""
import sys, time, duckdb
path, stop = sys.argv[1], sys.argv[2]
import os
ok = errors = 0
first = None
seen = set()
while not os.path.exists(stop):
    try:
        with duckdb.connect(path, read_only=True) as con:
            con.execute("select count(*) from marts.fct_paid_performance_daily").fetchall()
            seen.add(con.execute("select run_id from meta.published").fetchall()[0][0])
        ok += 1
    except Exception as exc:
        errors += 1
        first = first or repr(exc)
    time.sleep(0.02)
print(f"ok={ok} errors={errors} publishes={len(seen)} first={first}")
"""


def test_two_runs_at_once_end_clean_and_readers_are_never_blocked(materialized, fakes, world, tmp_path_factory):
    ref = reference(materialized, fakes, world, tmp_path_factory)
    root = scenario(crash_base(materialized, tmp_path_factory), tmp_path_factory.mktemp("two-runs"))
    serving = root / "data" / "serving.duckdb"
    stop = root / "stop-reader"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(serving), str(stop)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    first = start_run(root, fakes, world, log_name="first")
    second = start_run(root, fakes, world, log_name="second")
    procs = {"first": first, "second": second}
    members = {name: {p.pid} for name, p in procs.items()}  # each run's processes (dbt, fakes), seen while they run
    try:
        deadline = time.monotonic() + 2 * RUN_BOUND_S
        while any(p.poll() is None for p in procs.values()):
            assert time.monotonic() < deadline, "the two runs did not both end within the bound"
            for name, p in procs.items():
                members[name] |= set(group_pids(p.pid))
            time.sleep(0.2)
    finally:
        for p in procs.values():
            kill_group(p)
        stop.touch()
        out = reader.communicate(timeout=60)[0].decode()
    rcs = {name: p.returncode for name, p in procs.items()}
    assert 0 in rcs.values(), {name: log_of(root, name)[-3000:] for name in procs}
    for name, rc in rcs.items():
        if rc != 0:  # it failed clearly: its output names the other run's process (or a process it started)
            other = "second" if name == "first" else "first"
            text = log_of(root, name)
            assert "Traceback" not in text, f"{name} failed with a traceback, not a message:\n{text[-3000:]}"
            named = {int(pid) for pid in re.findall(r"PID (\d+)", text)}
            assert named & members[other], (
                f"{name} failed without naming the other run (its processes: {sorted(members[other])}; "
                f"named: {sorted(named)}):\n{text[-3000:]}"
            )
    wh = root / "data" / "warehouse.duckdb"
    assert table_differences(ref / "data" / "warehouse.duckdb", wh) == {}, rcs
    ok, errors, publishes = (int(n) for n in re.findall(r"ok=(\d+) errors=(\d+) publishes=(\d+)", out)[0])
    # it read throughout, the base's publish and the runs' new ones, and never failed
    assert errors == 0 and ok > 50 and publishes >= 2, out
