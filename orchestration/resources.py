"""One resource per external system: the Meta Marketing API and the DuckDB warehouse."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dagster import ConfigurableResource, InitResourceContext
from pydantic import Field, PrivateAttr

from extractors.meta_marketing import DEFAULT_INSIGHTS_FIELDS, MetaMarketingClient
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


class MetaAdsResource(ConfigurableResource):
    """Meta Marketing API. The access token is read from META_ACCESS_TOKEN only, never from
    run config, so it cannot end up in Dagster's event log or UI.

    With META_BASE_URL unset, the embedded default applies: the sample world is generated
    (once, cached) and a local fake of the API is served on 127.0.0.1 for the run.
    """

    base_url: str = Field(default="", description="API root; default $META_BASE_URL, else the embedded fake")
    ad_account_ids: str = Field(default="", description="Comma-separated ad account ids; default $META_AD_ACCOUNT_IDS")
    insights_fields: list[str] = Field(default=list(DEFAULT_INSIGHTS_FIELDS),
                                       description="Insights fields to request. A retired metric fails the request: remove it here.")
    page_size: int = 500
    parallel_days: int = Field(default=4, description="Days extracted at once (report runs in flight)")

    _base_url: str = PrivateAttr(default="")
    _token: str = PrivateAttr(default="")
    _accounts: list[str] = PrivateAttr(default_factory=list)

    @contextmanager
    def yield_for_execution(self, context: InitResourceContext) -> Iterator["MetaAdsResource"]:
        base_url = self.base_url or os.environ.get("META_BASE_URL", "")
        accounts = self.ad_account_ids or os.environ.get("META_AD_ACCOUNT_IDS", "")
        if base_url:
            self._base_url, self._token = base_url, os.environ.get("META_ACCESS_TOKEN", "")
            self._accounts = [a.strip() for a in accounts.split(",") if a.strip()]
            yield self
            return
        from sampleworld.serve import fake_env, start_fakes
        from sampleworld.fakes.base import FaultConfig
        from sampleworld.world import WorldSpec, generate

        spec = WorldSpec.from_env()
        world = generate(spec, Settings.from_env().sample_dir)
        faults = FaultConfig.default_on(spec.seed) if os.environ.get("SKW_FAKE_FAULTS", "on") == "on" \
            else FaultConfig.off()
        servers = start_fakes(world, faults)
        env = fake_env(servers, world)
        if context.log:
            context.log.info(f"embedded default: fake Meta Marketing API at {env['META_BASE_URL']} "
                             f"serving the sample world {world.name}")
        self._base_url, self._token = env["META_BASE_URL"], env["META_ACCESS_TOKEN"]
        self._accounts = [a for a in (accounts or env["META_AD_ACCOUNT_IDS"]).split(",") if a]
        try:
            yield self
        finally:
            for srv in servers.values():
                srv.stop()

    @property
    def accounts(self) -> list[str]:
        return list(self._accounts)

    def client(self) -> MetaMarketingClient:
        return MetaMarketingClient(self._base_url, self._token, account_ids=self._accounts,
                                   insights_fields=self.insights_fields, page_size=self.page_size)
