"""Resources shared by every source: the warehouse, the embedded fakes, and the base class
of the one-resource-per-external-system classes in orchestration/sources/."""

from __future__ import annotations

import os
import threading
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


class EmbeddedFakesResource(ConfigurableResource):
    """The embedded default: local fakes of every platform API serving the sample world on
    127.0.0.1. Started on first use in a run (only when a source has no endpoint in the
    environment) and stopped when the run ends."""

    faults: str = Field(default="", description="on|off; default $SKW_FAKE_FAULTS, else on")

    _env: dict = PrivateAttr(default_factory=dict)
    _servers: dict = PrivateAttr(default_factory=dict)
    _lock: object = PrivateAttr(default_factory=threading.Lock)
    _log: object = PrivateAttr(default=None)

    @contextmanager
    def yield_for_execution(self, context: InitResourceContext) -> Iterator["EmbeddedFakesResource"]:
        self._log = context.log
        try:
            yield self
        finally:
            for srv in self._servers.values():
                srv.stop()
            self._servers, self._env = {}, {}

    def env(self) -> dict[str, str]:
        """The variables that point the extractors at the fakes (starting them if needed)."""
        with self._lock:
            if not self._servers:
                from sampleworld.fakes.base import FaultConfig
                from sampleworld.serve import fake_env, start_fakes
                from sampleworld.world import WorldSpec, generate

                spec = WorldSpec.from_env()
                world = generate(spec, Settings.from_env().sample_dir)
                on = (self.faults or os.environ.get("SKW_FAKE_FAULTS", "on")) == "on"
                self._servers = start_fakes(world, FaultConfig.default_on(spec.seed) if on else FaultConfig.off())
                self._env = fake_env(self._servers, world)
                if self._log:
                    self._log.info(f"embedded default: {len(self._servers)} fake APIs on 127.0.0.1 serving "
                                   f"the sample world {world.name} (faults {'on' if on else 'off'})")
            return dict(self._env)


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
