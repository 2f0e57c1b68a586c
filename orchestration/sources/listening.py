"""Social listening: queries and the mentions they matched."""

from typing import ClassVar

from pydantic import Field, SecretStr

from extractors import listening
from extractors.listening import DEFAULT_MENTION_FIELDS, ListeningClient
from orchestration.assets.streams import stream_asset
from orchestration.resources import Ids, SourceEnvironment, SourceResource, SourceSettings

RESOURCE_KEY = "listening"


class ListeningSettings(SourceSettings):
    SOURCE: ClassVar[str] = RESOURCE_KEY

    base_url: str = Field(alias="LISTENING_BASE_URL")
    token: SecretStr = Field(alias="LISTENING_TOKEN")
    query_ids: Ids = Field(alias="LISTENING_QUERY_IDS", description="comma-separated listening query ids")


class ListeningResource(SourceResource):
    """Listening API (settings: ListeningSettings)."""

    SETTINGS: ClassVar[type[SourceSettings]] = ListeningSettings
    mention_fields: list[str] = Field(
        default=list(DEFAULT_MENTION_FIELDS),
        description="Fields every mention must carry. A field the platform retires fails the run: remove it here.",
    )
    page_size: int = Field(default=1000, description="Mentions per page (1-1000)")

    def make_client(self, s: ListeningSettings) -> ListeningClient:
        return ListeningClient(
            s.base_url,
            s.token.get_secret_value(),
            query_ids=list(s.query_ids),
            mention_fields=self.mention_fields,
            page_size=self.page_size,
            retry=self.retry_policy(),
        )


def resource(environment: SourceEnvironment) -> ListeningResource:
    return ListeningResource(environment=environment)


ASSETS = [stream_asset(s, RESOURCE_KEY) for s in listening.STREAMS]
CHECKS: list = []
