"""Sample mode (`SKW_SAMPLE_MODE=1`; `make run` and `make ui` turn it on): the sources read
the generated sample world, served by local fakes of every platform API on 127.0.0.1.

Only this module, and only when the mode is on, brings the sample world into the pipeline:
`build_definitions` imports it lazily and then puts `EmbeddedFakesResource` where the sources
read their settings. Outside sample mode nothing here is imported, no fake can start, and a
source without its settings fails naming them (orchestration/resources.py).

In sample mode a source whose endpoint variable is set (say `META_BASE_URL`, as the tests set
it to a fake of their own) reads the environment like a real run; every other one reads the
fakes, started on first use in a process of their own, and the team's configuration files are
the sample world's `config/` folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from dagster import InitResourceContext
from pydantic import Field, PrivateAttr

from orchestration.resources import SourceEnvironment, SourceSettings
from sampleworld.world import WorldSpec, generate
from warehouse.settings import Settings


def world_dir(settings: Settings | None = None) -> Path:
    """The sample world of the environment's spec (`SKW_SAMPLE_*`), generated if it is not there yet."""
    return generate(WorldSpec.from_env(), (settings or Settings.from_env()).sample_dir)


def world_days() -> tuple:
    """The first and last day of the environment's sample world (nothing generated)."""
    spec = WorldSpec.from_env()
    return spec.start, spec.end


class _FakesProcess:
    """One fakes process per run, shared by every source (Dagster hands each source resource
    its own copy of the nested resource, so the sharing lives here), started on first use and
    stopped when the last resource using it is torn down."""

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
        proc.stdin.close()  # the fakes stop when their standard input closes
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
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sampleworld",
                "serve",
                "--faults",
                "on" if on else "off",
                "--env-json",
                "--stop-on-eof",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=repo,
        )
        deadline = time.monotonic() + timeout_s
        for line in proc.stdout:  # the world is generated first if it is not there yet
            if line.startswith("SKW_FAKES_ENV "):
                found = json.loads(line.split(" ", 1)[1])
                if log:
                    log.info(
                        f"sample mode: fake APIs on 127.0.0.1 (pid {proc.pid}) serving the sample world "
                        f"{Path(found['world']).name} (faults {'on' if on else 'off'})"
                    )
                return proc, found["env"]
            if time.monotonic() > deadline:
                break
        proc.kill()
        raise RuntimeError(
            f"the embedded fakes did not start (exit code {proc.poll()}); run `python -m sampleworld serve` to see why"
        )


_FAKES = _FakesProcess()


class EmbeddedFakesResource(SourceEnvironment):
    """The sources' settings in sample mode: local fakes of every platform API serving the
    sample world on 127.0.0.1, started on first use in a run (only when a source has no
    endpoint in the environment), in a process of their own so that serving and extracting use
    both cores rather than one interpreter, and stopped when the run ends."""

    faults: str = Field(default="", description="on|off; default $SKW_FAKE_FAULTS, else on")
    start_timeout_s: float = 600.0

    _log: object = PrivateAttr(default=None)

    @contextmanager
    def yield_for_execution(self, context: InitResourceContext) -> Iterator[EmbeddedFakesResource]:
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

    def values_for(self, settings: type[SourceSettings]) -> Mapping[str, str]:
        endpoint = settings.endpoint_variable()
        if os.environ.get(endpoint):
            return os.environ
        if settings.SAMPLE_WORLD_FOLDER:  # files, not an API: no fake is started for them
            return {endpoint: str(world_dir() / settings.SAMPLE_WORLD_FOLDER)}
        return self.env()


def sources_from_environment(modules) -> list[str]:
    """The sources (of `modules`, orchestration/sources/) whose endpoint the environment sets:
    they read the environment, not the fakes."""
    from orchestration.sources import settings_of

    return [m.RESOURCE_KEY for m in modules if os.environ.get(settings_of(m).endpoint_variable())]


def fakes_started() -> bool:
    """Whether this process has a fakes process running (tests)."""
    return _FAKES.proc is not None


def social_sessions_served(world: Path) -> int:
    """Sessions of the social channels as the embedded GA4 fake served them to the run: the
    world's final counts, less what GA4 had not counted yet on the provisional last days."""
    from sampleworld.entities import CHANNEL_BY_KEY
    from sampleworld.fakes.ga4 import GA4App
    from sampleworld.gen.ga4 import channel_of

    app = GA4App(world)
    total = 0
    for (prop, day), rows in app.rows.items():
        for row in rows:
            dims, served, _ = app.served(prop, day, row)
            channel = channel_of(dims[1], dims[2])  # (date, sessionSource, sessionMedium, ...)
            if channel and CHANNEL_BY_KEY[channel].is_social:
                total += served[0]  # sessions
    return total
