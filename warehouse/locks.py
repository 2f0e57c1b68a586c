"""Who holds a DuckDB file: DuckDB gives a file to one writing process or to reading processes,
never both, and a second process fails at once ("Could not set lock on file"). Before a run
writes to the warehouse it asks `holder_of(path)`, so it can stop with one message naming the
process instead of failing every stream on the lock.

DuckDB locks its file with `fcntl` (POSIX advisory locks), which Linux lists in /proc/locks by
device and inode with the holder's PID; the command line comes from /proc/<pid>/cmdline. Where
/proc/locks is absent, the file is opened once read-write and closed at once, and the PID is
read from DuckDB's lock error ("Conflicting lock is held in <program> (PID <n>)").

No Dagster import: the pipeline's pre-flight and any other caller use it alike.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

PROC = Path("/proc")
_DUCKDB_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)")
_CMDLINE_MAX = 500


class WarehouseBusy(RuntimeError):
    """Another process holds the warehouse file; the message names it and where to read instead."""


def holder_of(path: Path | str) -> str | None:
    """The processes other than this one holding a lock on the DuckDB file `path`, as
    `PID 1234 (python notebook.py)` (several joined with `; `), or None when nobody does (or the
    file does not exist)."""
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    pids = _pids_from_proc_locks(st.st_dev, st.st_ino)
    if pids is None:  # no /proc/locks here: ask DuckDB itself
        return _holder_from_duckdb(path)
    return "; ".join(_describe(pid) for pid in pids) or None


def ensure_free(warehouse_path: Path | str, serving_path: Path | str | None = None) -> None:
    """Raise `WarehouseBusy` naming the holder when another process holds `warehouse_path`."""
    holder = holder_of(warehouse_path)
    if holder is None:
        return
    where = (
        f" To read the marts while runs go on, open the serving copy instead: {serving_path} (read-only; "
        "published after each successful build, never locked by a run)."
        if serving_path
        else ""
    )
    raise WarehouseBusy(
        f"The warehouse {warehouse_path} is held open by another process: {holder}. DuckDB lets one process "
        "write a file or others read it, never both at once, so this run stops before extracting anything. "
        f"Close that connection (or end that process), then run again.{where}"
    )


def _pids_from_proc_locks(dev: int, ino: int) -> list[int] | None:
    """PIDs (not this process) holding a POSIX lock on the file (device, inode); None when
    /proc/locks cannot be read."""
    try:
        text = (PROC / "locks").read_text()
    except OSError:
        return None
    wanted = (os.major(dev), os.minor(dev), ino)
    pids: list[int] = []
    for line in text.splitlines():
        fields = line.split()
        if "->" in fields:  # a process waiting for the lock, not holding it
            continue
        # "1: POSIX  ADVISORY  WRITE 6991 fe:00:3073567 0 EOF": pid, then major:minor:inode (hex, hex, decimal)
        try:
            kind, pid, where = fields[1], int(fields[4]), fields[5]
            major, minor, inode = where.split(":")
            key = (int(major, 16), int(minor, 16), int(inode))
        except (IndexError, ValueError):
            continue
        if kind == "POSIX" and key == wanted and pid > 0 and pid != os.getpid() and pid not in pids:
            pids.append(pid)
    return pids


def _holder_from_duckdb(path: Path) -> str | None:
    import duckdb

    try:
        duckdb.connect(str(path)).close()
    except duckdb.IOException as exc:
        match = _DUCKDB_HOLDER.search(str(exc))
        if match:
            return _describe(int(match["pid"]), fallback=match["program"])
        if "lock" in str(exc).lower():
            return f"a process DuckDB does not name ({exc})"
        raise
    return None


def _describe(pid: int, fallback: str | None = None) -> str:
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
        command = " ".join(part.decode(errors="replace") for part in raw.split(b"\0") if part)
    except OSError:
        command = ""
    command = " ".join(command.split()) or fallback or "command line not readable"  # one line
    if len(command) > _CMDLINE_MAX:
        command = command[: _CMDLINE_MAX - 3] + "..."
    return f"PID {pid} ({command})"
