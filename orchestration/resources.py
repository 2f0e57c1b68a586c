"""Resources shared by every source: the warehouse, the embedded fakes, and the base class
of the one-resource-per-external-system classes in orchestration/sources/."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

from dagster import ConfigurableResource, InitResourceContext
from pydantic import Field, PrivateAttr

from warehouse.loader import connect
from warehouse.settings import Settings


class WarehouseResource(ConfigurableResource):
    """The DuckDB warehouse file and the landing area beside it (paths from SKW_* variables)."""

    warehouse_path: str = Field(default="", description="DuckDB file; default $SKW_WAREHOUSE_PATH or data/warehouse.duckdb")
    landing_dir: str = Field(default="", description="Landing area; default $SKW_LANDING_DIR or data/landing")

    @property
    def path(self) -> Path:
        return Path(self.warehouse_path or Settings.from_env().warehouse_path)

    @property
    def landing(self) -> Path:
        return Path(self.landing_dir or Settings.from_env().landing_dir)

    @contextmanager
    def connect(self, read_only: bool = False):
        with connect(self.path, read_only=read_only) as con:
            yield con


class _FakesProcess:
    """One fakes process per run, shared by every source (Dagster hands each source resource
    its own copy of the nested `fakes` resource, so the sharing lives here), started on first
    use and stopped when the last resource using it is torn down."""

    def __init__(self):
        self.lock = threading.Lock()
        self.proc = None
        self.env: dict[str, str] = {}
        self.users = 0

    def acquire(self) -> None:
        with self.lock:
            self.users += 1

    def release(self) -> None:
        with self.lock:
            self.users -= 1
            if self.users > 0 or self.proc is None:
                return
            proc, self.proc, self.env = self.proc, None, {}
        proc.stdin.close()   # the fakes stop when their standard input closes
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()

    def get_env(self, faults_on: bool, log, timeout_s: float) -> dict[str, str]:
        with self.lock:
            if self.proc is None:
                self.proc, self.env = self._start(faults_on, log, timeout_s)
            return dict(self.env)

    @staticmethod
    def _start(on: bool, log, timeout_s: float):
        repo = str(Path(__file__).resolve().parent.parent)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [repo, os.environ.get("PYTHONPATH")]))}
        proc = subprocess.Popen([sys.executable, "-m", "sampleworld", "serve", "--faults", "on" if on else "off",
                                 "--env-json", "--stop-on-eof"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                text=True, env=env, cwd=repo)
        deadline = time.monotonic() + timeout_s
        for line in proc.stdout:   # the world is generated first if it is not there yet
            if line.startswith("SKW_FAKES_ENV "):
                found = json.loads(line.split(" ", 1)[1])
                if log:
                    log.info(f"embedded default: fake APIs on 127.0.0.1 (pid {proc.pid}) serving the "
                             f"sample world {Path(found['world']).name} (faults {'on' if on else 'off'})")
                return proc, found["env"]
            if time.monotonic() > deadline:
                break
        proc.kill()
        raise RuntimeError(f"the embedded fakes did not start (exit code {proc.poll()}); "
                           f"run `python -m sampleworld serve` to see why")


_FAKES = _FakesProcess()


class EmbeddedFakesResource(ConfigurableResource):
    """The embedded default: local fakes of every platform API serving the sample world on
    127.0.0.1. Started on first use in a run (only when a source has no endpoint in the
    environment), in a process of their own so that serving and extracting use both cores
    rather than one interpreter, and stopped when the run ends."""

    faults: str = Field(default="", description="on|off; default $SKW_FAKE_FAULTS, else on")
    start_timeout_s: float = 600.0

    _log: object = PrivateAttr(default=None)

    @contextmanager
    def yield_for_execution(self, context: InitResourceContext) -> Iterator["EmbeddedFakesResource"]:
        self._log = context.log
        _FAKES.acquire()
        try:
            yield self
        finally:
            _FAKES.release()

    def env(self) -> dict[str, str]:
        """The variables that point the extractors at the fakes (starting them if needed)."""
        on = (self.faults or os.environ.get("SKW_FAKE_FAULTS", "on")) == "on"
        return _FAKES.get_env(on, self._log, self.start_timeout_s)


class SourceResource(ConfigurableResource):
    """One external system. Its settings come from the environment (tokens only ever from
    there, never from run config, so they cannot reach Dagster's event log or UI); when the
    system's base-URL variable is unset, every setting comes from the embedded fakes."""

    fakes: EmbeddedFakesResource
    parallel_days: int = Field(default=4, description="Days extracted at once")

    BASE_URL_VAR: ClassVar[str] = ""  # set by subclasses

    def settings(self, *names: str) -> dict[str, str]:
        source = os.environ if os.environ.get(self.BASE_URL_VAR) else self.fakes.env()
        return {n: source.get(n, "") for n in names}

    @staticmethod
    def ids(value: str) -> list[str]:
        return [v.strip() for v in value.split(",") if v.strip()]
