"""The marketing team's configuration files (goals, KPI registry, competitor set, rosters,
campaign-to-UTM mapping, FX rates, A/B experiments): read from SKW_CONFIG_DIR, else from the
sample world."""

import os
from pathlib import Path
from typing import ClassVar

from pydantic import Field

from extractors import team_config
from extractors.team_config import CONFIG_DIR_VAR, TeamConfigClient
from orchestration.assets.streams import stream_asset
from orchestration.resources import SourceResource

RESOURCE_KEY = "team_config"


class TeamConfigResource(SourceResource):
    """A folder of CSV files: $SKW_CONFIG_DIR, else the sample world's config/ folder (the
    embedded default; no fake API is started for it)."""

    BASE_URL_VAR: ClassVar[str] = CONFIG_DIR_VAR
    config_dir: str = Field(default="", description="Folder of the team's CSV files; default $SKW_CONFIG_DIR, "
                                                    "else the sample world's config/")

    def folder(self) -> Path:
        chosen = self.config_dir or os.environ.get(CONFIG_DIR_VAR)
        if chosen:
            return Path(chosen)
        from sampleworld.world import WorldSpec, generate
        from warehouse.settings import Settings
        return generate(WorldSpec.from_env(), Settings.from_env().sample_dir) / "config"

    def client(self) -> TeamConfigClient:
        return TeamConfigClient(self.folder())


def resource(fakes) -> TeamConfigResource:
    return TeamConfigResource(fakes=fakes)


ASSETS = [stream_asset(s, RESOURCE_KEY) for s in team_config.STREAMS]
CHECKS: list = []
