"""Resources shared by every source: the warehouse, where the sources' settings come from, and
the base classes of the one-resource-per-external-system classes in orchestration/sources/.

A source declares its settings once, as a `SourceSettings` class: one field per environment
variable (the variable is the field's alias), typed, required unless it has a default. They
are read once per run, from the process environment (`SourceEnvironment`); tokens only ever
from there, never from run config, so they cannot reach Dagster's event log or UI. A source
missing any required variable fails before its first request, naming every one it misses
(and `build_definitions` refuses to load at all, outside sample mode). Only in sample mode
(orchestration/sample_mode.py) do the values come from the embedded fakes instead.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, ClassVar

from dagster import ConfigurableResource
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, ValidationError

from extractors.http import RetryPolicy
from warehouse.loader import connect
from warehouse.settings import SAMPLE_MODE_VAR, SOURCES_VAR, Settings


class WarehouseResource(ConfigurableResource):
    """The DuckDB warehouse file and the landing area beside it (`build_definitions` sets both
    from `Settings`, the same values dbt is given)."""

    warehouse_path: str = Field(
        default="", description="DuckDB file; default $SKW_WAREHOUSE_PATH or data/warehouse.duckdb"
    )
    landing_dir: str = Field(default="", description="Landing area; default $SKW_LANDING_DIR or data/landing")

    @classmethod
    def from_settings(cls, settings: Settings) -> WarehouseResource:
        return cls(warehouse_path=str(settings.warehouse_path), landing_dir=str(settings.landing_dir))

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


def _ids(value):
    """A comma-separated list of ids, as the environment holds it."""
    return tuple(v.strip() for v in value.split(",") if v.strip()) if isinstance(value, str) else value


Ids = Annotated[tuple[str, ...], BeforeValidator(_ids), Field(min_length=1)]


class MissingSettings(RuntimeError):
    """A source's settings are missing or unreadable; the message names each variable."""

    def __init__(self, problems: Mapping[str, list[str]]):
        self.problems = dict(problems)
        lines = [f"[{source}] missing {', '.join(names)}" for source, names in self.problems.items()]
        super().__init__(
            "; ".join(lines) + f". Set them in the environment (.env.example lists each), leave the source out "
            f"with {SOURCES_VAR} (a comma-separated list of the sources to run), or run on the sample world "
            f"with {SAMPLE_MODE_VAR}=1."
        )


class SourceSettings(BaseModel):
    """One external system's settings: each field is read from the environment variable named
    by its alias. An empty variable counts as unset."""

    model_config = ConfigDict(frozen=True, extra="ignore", hide_input_in_errors=True)

    SOURCE: ClassVar[str] = ""
    # The field whose variable says where the system is (its base URL, or a folder): in sample
    # mode, a source whose endpoint is set reads the environment, the others the fakes.
    ENDPOINT_FIELD: ClassVar[str] = "base_url"
    # A source of files rather than an API: the sample world's folder that holds them.
    SAMPLE_WORLD_FOLDER: ClassVar[str | None] = None

    @classmethod
    def variables(cls) -> dict[str, bool]:
        """Every variable of the source, and whether it is required."""
        return {f.alias: f.is_required() for f in cls.model_fields.values()}

    @classmethod
    def endpoint_variable(cls) -> str:
        return cls.model_fields[cls.ENDPOINT_FIELD].alias

    @classmethod
    def missing(cls, env: Mapping[str, str]) -> list[str]:
        return [name for name, required in cls.variables().items() if required and not (env.get(name) or "").strip()]

    @classmethod
    def read(cls, env: Mapping[str, str]) -> SourceSettings:
        """The settings from `env`; fails naming every variable missing or unreadable."""
        missing = cls.missing(env)
        if missing:
            raise MissingSettings({cls.SOURCE: missing})
        values = {name: env[name] for name in cls.variables() if (env.get(name) or "").strip()}
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            names = [str(e["loc"][0]) for e in exc.errors()]
            raise MissingSettings({cls.SOURCE: [f"{n} (unreadable)" for n in names]}) from None


class SourceEnvironment(ConfigurableResource):
    """Where the sources read their settings: the process environment. (In sample mode,
    orchestration/sample_mode.py puts the embedded fakes here instead.)"""

    def values_for(self, settings: type[SourceSettings]) -> Mapping[str, str]:
        return os.environ


class SourceResource(ConfigurableResource):
    """One external system: its settings (`SETTINGS`, from `environment`) and its client's
    configuration (the fields: metric and field lists, page sizes; never a secret)."""

    environment: SourceEnvironment
    parallel_days: int = Field(default=4, description="Days extracted at once")
    max_attempts: int | None = Field(
        default=None,
        ge=1,
        description="HTTP attempts per request before the source gives up on it (a failed stream, the "
        "others go on); default $SKW_HTTP_MAX_ATTEMPTS or 6",
    )
    backoff_max_s: float | None = Field(
        default=None,
        gt=0,
        description="Longest backoff between two attempts, seconds (a server's Retry-After is honoured "
        "whatever this says); default $SKW_HTTP_BACKOFF_MAX_S or 60",
    )

    SETTINGS: ClassVar[type[SourceSettings]]

    _settings: SourceSettings | None = PrivateAttr(default=None)

    def settings(self) -> SourceSettings:
        """Read once (for a run, the run's copy of the resource), before the first request."""
        if self._settings is None:
            self._settings = self.SETTINGS.read(self.environment.values_for(self.SETTINGS))
        return self._settings

    def client(self):
        return self.make_client(self.settings())

    def retry_policy(self) -> RetryPolicy:
        """The source's retry budget: this resource's fields, else the project's settings."""
        settings = Settings.from_env()
        return RetryPolicy(
            max_attempts=self.max_attempts or settings.http_max_attempts,
            backoff_max_s=self.backoff_max_s or settings.http_backoff_max_s,
        )

    def make_client(self, settings):
        """The API client for `settings` (subclasses)."""
        raise NotImplementedError

    @classmethod
    def client_from(cls, env: Mapping[str, str], **config):
        """A client from a mapping of the source's variables (tests, scripts)."""
        return cls(environment=SourceEnvironment(), **config).make_client(cls.SETTINGS.read(env))
