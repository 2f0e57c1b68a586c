"""Runs whose process died (SIGKILL, out of memory, power loss) without ending: found, marked
failed, and their pool slots given back, before a new run starts.

A run killed while one of its steps held the warehouse pool's slot (`duckdb_warehouse`, limit 1)
never gives it back, and its status stays STARTED. Run monitoring frees slots only of runs that
*ended*, and only while the daemon runs (`make ui`); `make run` has no daemon. Without this, the
next `make run` waits for the slot for ever, its in-process executor spinning on one core
(tests/test_crash_safety.py found it). A run is dead when the process that started it (the pid
on its RUN_START event) is gone from this machine, or a later process now has that pid.

`make run` calls `reclaim_dead_runs` before it starts (orchestration/run.py); a run of another
process that is still alive (a second `make run`, a run launched by `make ui`) is never touched.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

PROC = Path("/proc")


def _process_started_at(pid: int) -> float | None:
    """When the process `pid` started (epoch seconds), from /proc; None when unknown."""
    try:
        fields = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[19])  # starttime: clock ticks after boot
        btime = next(
            int(line.split()[1]) for line in (PROC / "stat").read_text().splitlines() if line.startswith("btime ")
        )
    except (OSError, ValueError, IndexError, StopIteration):
        return None
    return btime + ticks / os.sysconf("SC_CLK_TCK")


def process_alive(pid: int, since: float | None = None) -> bool:
    """Whether `pid` is a live process that was already running at `since` (epoch seconds): a
    process started later only reused the pid."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    if since is not None:
        started = _process_started_at(pid)
        if started is not None and started > since + 2:  # 2 s: /proc's start time is rounded to a tick
            return False
    return True


def reclaim_dead_runs(instance) -> list[str]:
    """Mark every unfinished run whose process is gone as failed and free its pool slots; the
    run ids reclaimed (each logged with the pid it had)."""
    from dagster import DagsterEventType
    from dagster._core.storage.dagster_run import IN_PROGRESS_RUN_STATUSES, RunsFilter

    reclaimed = []
    for record in instance.get_run_records(filters=RunsFilter(statuses=IN_PROGRESS_RUN_STATUSES)):
        run = record.dagster_run
        starts = instance.all_logs(run.run_id, of_type=DagsterEventType.RUN_START)
        if not starts:
            continue  # queued or starting: no process yet (the daemon's run monitoring sees to those)
        start = starts[-1]
        pid = start.dagster_event.pid if start.dagster_event else None
        if not pid or process_alive(pid, since=start.timestamp):
            continue
        message = (
            f"the process of this run (PID {pid}) is gone without ending it (killed: SIGKILL, out of memory, "
            "power loss?); marked failed, and its pool slots freed, before a new run started"
        )
        instance.report_run_failed(run, message=message)
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        log.warning(f"run {run.run_id}: {message}")
        reclaimed.append(run.run_id)
    return reclaimed
