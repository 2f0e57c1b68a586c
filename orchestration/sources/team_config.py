"""The marketing team's configuration files (goals, KPI registry, competitor set, rosters,
campaign-to-UTM mapping, FX rates, A/B experiments): a folder of CSV files, SKW_CONFIG_DIR
(in sample mode, the sample world's config/ folder)."""

from pathlib import Path
from typing import ClassVar

from pydantic import Field

from extractors import team_config
from extractors.team_config import CONFIG_DIR_VAR, TeamConfigClient
from orchestration.assets.streams import stream_asset
from orchestration.resources import SourceEnvironment, SourceResource, SourceSettings

RESOURCE_KEY = "team_config"


class TeamConfigSettings(SourceSettings):
    SOURCE: ClassVar[str] = RESOURCE_KEY
    ENDPOINT_FIELD: ClassVar[str] = "config_dir"
    SAMPLE_WORLD_FOLDER: ClassVar[str | None] = "config"

    config_dir: str = Field(alias=CONFIG_DIR_VAR, description="folder of the team's CSV files")


class TeamConfigResource(SourceResource):
    """The team's CSV files (settings: TeamConfigSettings); no API, so no fake is started for them."""

    SETTINGS: ClassVar[type[SourceSettings]] = TeamConfigSettings

    def make_client(self, s: TeamConfigSettings) -> TeamConfigClient:
        return TeamConfigClient(Path(s.config_dir))


def resource(environment: SourceEnvironment) -> TeamConfigResource:
    return TeamConfigResource(environment=environment)


ASSETS = [stream_asset(s, RESOURCE_KEY) for s in team_config.STREAMS]
CHECKS: list = []
