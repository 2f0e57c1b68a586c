"""dbt run inside this process (dbt's programmatic `dbtRunner`) instead of a `dbt` child process.

A child process pays, on every materialization, a Python start and the import of dbt (~2.5 s
here) before dbt does anything, and dbt then formats every event it fires as a JSON line on its
stdout, debug events included, for the parent to parse back (measured on a one-day build at SF1:
11.9 s as a child process, 8.2 s in a process that has run dbt before with the same logging,
7.3 s with dbt's file log off too: warehouse/settings.py). `InProcessDbt` runs the
same command through `dbtRunner` on a thread of its own and gives back what the child process
gave: dbt's structured events of level info and above as JSON lines on `stdout`, and an exit code
(0 success, 1 a node failed, 2 dbt could not run). So dagster-dbt reads it exactly as it reads a
`dbt` process (orchestration/assets/dbt.py), and the bench runs the same thing.

dbt keeps its flags, its event manager and its adapters in process-wide state: one invocation
runs at a time in a process (`_one_at_a_time`); a second waits for the first to end. The
command's environment (the window, the warehouse path, dagster-dbt's DBT_* variables) is put
in `os.environ` for the length of the command, then put back: dbt reads `env_var()` while it
compiles each node, not only at start.

Two things dbt's own process never needed are set for the command's length (measured on a
one-day build at SF1 in a process that had run dbt before: 6.6 s before them, ~5.9 s after):
- `_collector_for_dbt`: Python's cyclic garbage collector. dbt allocates millions of small
  objects (a context of every macro per node, Jinja templates, events), and at the default
  thresholds the collector ran 2-8 full collections a build, each walking every object of the
  process (the run's own: Dagster's, the manifest's), 0.2-0.3 s each.
- `_EventsWanted`: dbt's event manager, dropping an event below the lowest level anyone reads
  before dbt builds its message. dbt builds a protobuf message for each of its debug events
  (4,541 in a build of the project's 236 nodes at SF1: every SQL statement, connection, cache
  action) before asking its loggers whether they want it; here nobody does (stdout is
  `--log-level none`, the callback reads info and above, the file log is off unless
  DBT_LOG_LEVEL_FILE asks for it).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

# dbt's process-wide state allows one invocation at a time
_one_at_a_time = threading.Lock()
_END = object()
# what dbt prints on stdout at its default log level: the events dagster-dbt reads
_LEVELS = {"info", "warn", "error"}
# while a command runs: collect the youngest generation every 5,000 net allocations (Python's
# default: 700), the next after 20 of those, the oldest after 20 of those (10 and 10 by default)
_DBT_GC_THRESHOLDS = (5_000, 20, 20)


class _Lines:
    """The JSON lines of a running command, as a binary stream that ends when the command does."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self.closed = False

    def put(self, line: bytes | object) -> None:
        self._queue.put(line)

    def __iter__(self) -> Iterator[bytes]:
        while True:
            line = self._queue.get()
            if line is _END:
                return
            yield line

    def __enter__(self) -> _Lines:
        return self

    def __exit__(self, *exc) -> None:
        self.closed = True

    def close(self) -> None:
        self.closed = True


class InProcessDbt:
    """A dbt command run on a thread of this process, with `subprocess.Popen`'s face: `args`
    (the command line; `args[0]`, the dbt executable, is not run), `stdout` (dbt's events of
    level info and above, one JSON line each, as `dbt --log-format json` prints them),
    `wait()`, `poll()`, `returncode` and `send_signal()` (an interrupt: dbt stops as on Ctrl-C).

    `env` is the whole environment of the command (as Popen's). `cwd` is where a child process
    would have run: this process's working folder is left alone (other threads use it), and the
    relative paths dbt would have resolved against `cwd` (its project, profiles, target and log
    folders, from the command line or DBT_* variables) are made absolute against it instead."""

    def __init__(
        self,
        args: Sequence[str],
        stdout=None,
        stderr=None,
        env: Mapping[str, str] | None = None,
        cwd=None,
        **_ignored,
    ) -> None:
        self.args = list(args)
        self.returncode: int | None = None
        self.result = None  # dbtRunnerResult, once done
        self.stdout = _Lines()
        self._env = dict(env) if env is not None else None
        self._command = _absolute_paths(self.args[1:], self._env, cwd)
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dbt", daemon=True)
        self._thread.start()

    # -- Popen's face ---------------------------------------------------------------------------
    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if not self._done.wait(timeout):
            raise subprocess.TimeoutExpired(self.args, timeout)
        return self.returncode  # type: ignore[return-value]

    def send_signal(self, _signal=None) -> None:
        """Interrupt dbt as Ctrl-C does: KeyboardInterrupt raised in its thread (dbt then stops
        starting nodes and ends the command), and its running queries cancelled (as dbt does on
        Ctrl-C: a node waiting on a long query would otherwise hold the command until it ends)."""
        if self._done.is_set() or self._thread.ident is None:
            return
        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(self._thread.ident), ctypes.py_object(KeyboardInterrupt)
        )
        factory = sys.modules.get("dbt.adapters.factory")
        for adapter in list(getattr(getattr(factory, "FACTORY", None), "adapters", {}).values()):
            adapter.cancel_open_connections()

    terminate = kill = send_signal

    # -- the command ----------------------------------------------------------------------------
    def _event(self, msg) -> None:
        if msg.info.level in _LEVELS:
            from dbt_common.events.functions import msg_to_dict

            self.stdout.put(json.dumps(msg_to_dict(msg), default=str).encode() + b"\n")

    def _run(self) -> None:
        try:
            with _one_at_a_time, environment_as(self._env), _collector_for_dbt(), _events_wanted():
                from dbt.cli.main import dbtRunner

                # stdout quiet: the events reach `stdout` through the callback, formatted once
                result = dbtRunner(callbacks=[self._event]).invoke([*self._command, "--log-level", "none"])
            self.result = result
            if result.success:
                self.returncode = 0
            elif result.exception is None:
                self.returncode = 1  # dbt ran and a node failed (as `dbt` exits 1)
            else:
                self.returncode = 2
                self.stdout.put(_error_line(result.exception))
        except BaseException as exc:  # noqa: BLE001 - reported as dbt's exit code and error line
            self.returncode = 2
            self.stdout.put(_error_line(exc))
        finally:
            _release_duckdb()
            self._done.set()
            self.stdout.put(_END)


@contextlib.contextmanager
def _collector_for_dbt() -> Iterator[None]:
    """Python's garbage collector, for a dbt command: every object the process holds when the
    command starts frozen (`gc.freeze`: left out of every collection until the command ends, as
    they cannot become garbage of dbt's), and higher thresholds (`_DBT_GC_THRESHOLDS`). Both are
    process-wide and put back at the end; objects frozen by someone else stay frozen."""
    thresholds = gc.get_threshold()
    freeze = gc.get_freeze_count() == 0
    if freeze:
        gc.freeze()
    gc.set_threshold(*_DBT_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        if freeze:
            gc.unfreeze()


_LEVEL_RANK = {"debug": 0, "test": 0, "info": 1, "warn": 2, "error": 3}


@contextlib.contextmanager
def _events_wanted() -> Iterator[None]:
    """dbt's event manager for the command's length: one that drops an event below the lowest
    level a logger of dbt's writes and below info (what `InProcessDbt._event` reads), before dbt
    builds its message. Any other event, and every event dbt fires to raise a warning as an
    error, goes through dbt's own `fire_event`. dbt's public hook (dbt_common's
    `ctx_set_event_manager`); the manager in place before is put back at the end."""
    from dbt_common.events import event_manager_client as client
    from dbt_common.events.event_manager import EventManager

    class _EventsWanted(EventManager):
        def fire_event(self, e, level=None, node=None, force_warn_or_error_handling=False) -> None:
            if not force_warn_or_error_handling:
                rank = _LEVEL_RANK.get(str(getattr(level or e.level_tag(), "value", "")), 1)
                if rank < 1 and all(_LEVEL_RANK.get(logger.level.value, 0) > rank for logger in self.loggers):
                    return
            super().fire_event(e, level, node, force_warn_or_error_handling)

    before = client.get_event_manager()
    client.ctx_set_event_manager(_EventsWanted())
    try:
        yield
    finally:
        client.ctx_set_event_manager(before)


_PATH_FLAGS = ("--project-dir", "--profiles-dir", "--target-path", "--log-path")
_PATH_VARS = ("DBT_PROJECT_DIR", "DBT_PROFILES_DIR", "DBT_TARGET_PATH", "DBT_LOG_PATH")


def _absolute_paths(args: list[str], env: dict[str, str] | None, cwd) -> list[str]:
    """`args` with the relative paths of dbt's path flags made absolute against `cwd`, and the
    same for its path variables in `env` (in place); unchanged when there is no `cwd`."""
    if cwd is None:
        return list(args)
    base = Path(cwd)
    out = list(args)
    for i, arg in enumerate(out):
        flag, eq, value = arg.partition("=")
        if flag in _PATH_FLAGS:
            if eq and not Path(value).is_absolute():
                out[i] = f"{flag}={base / value}"
            elif not eq and i + 1 < len(out) and not Path(out[i + 1]).is_absolute():
                out[i + 1] = str(base / out[i + 1])
    for name in _PATH_VARS:
        if env is not None and env.get(name) and not Path(env[name]).is_absolute():
            env[name] = str(base / env[name])
    return out


def _release_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb opened. It keeps it open between invocations of a
    process (its profile setting `keep_open`), which would hold the warehouse's file lock for as
    long as the process lives: against the next step's connection with other settings in this
    process, and against every other process (a `make run` summary, a BI reader's refresh)."""
    connections = sys.modules.get("dbt.adapters.duckdb.connections")
    if connections is None:
        return
    manager = connections.DuckDBConnectionManager
    with manager._LOCK:
        env, manager._ENV = manager._ENV, None
    if env is not None:
        env.close()


def _error_line(exc: BaseException) -> bytes:
    """dbt's could-not-run error as the JSON line its CLI prints (level error: dagster-dbt
    collects it into the step's error)."""
    return (
        json.dumps(
            {
                "info": {"level": "error", "msg": f"{type(exc).__name__}: {exc}", "name": "MainEncounteredError"},
                "data": {},
            }
        ).encode()
        + b"\n"
    )


class environment_as:
    """`env` as this process's whole environment inside the block (None: left as it is), then
    the environment as it was: the keys it set put back, the keys it removed restored. Used
    for a dbt command here, and by the Dagster asset (orchestration/assets/dbt.py)."""

    def __init__(self, env: Mapping[str, str] | None) -> None:
        self._env = env
        self._saved: dict[str, str | None] = {}

    def __enter__(self) -> None:
        if self._env is None:
            return
        keys = set(self._env) | set(os.environ)
        self._saved = {k: os.environ.get(k) for k in keys if os.environ.get(k) != self._env.get(k)}
        for k in self._saved:
            if k in self._env:
                os.environ[k] = self._env[k]
            else:
                del os.environ[k]

    def __exit__(self, *exc) -> None:
        for k, v in self._saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_dbt(args: Sequence[str], env: Mapping[str, str] | None = None) -> InProcessDbt:
    """Run `dbt <args>` in this process and wait for it (the bench, scripts): the finished
    command, its `returncode` and `result` (dbtRunnerResult) set. Raises on a non-zero code,
    with dbt's error lines."""
    command = InProcessDbt(["dbt", *args], env=env)
    errors = []
    for line in command.stdout:
        event = json.loads(line)
        if event["info"]["level"] == "error":
            errors.append(event["info"]["msg"])
    if command.wait():
        raise RuntimeError(f"dbt {' '.join(args)} exited {command.returncode}: " + "\n".join(errors))
    return command
