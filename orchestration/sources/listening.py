"""Social listening: queries and the mentions they matched."""

from typing import ClassVar

from pydantic import Field

from extractors import listening
from extractors.listening import DEFAULT_MENTION_FIELDS, ListeningClient
from orchestration.assets.streams import stream_asset
from orchestration.resources import SourceResource

RESOURCE_KEY = "listening"


class ListeningResource(SourceResource):
    """Listening API: LISTENING_BASE_URL, LISTENING_TOKEN, LISTENING_QUERY_IDS."""

    BASE_URL_VAR: ClassVar[str] = "LISTENING_BASE_URL"
    mention_fields: list[str] = Field(default=list(DEFAULT_MENTION_FIELDS),
                                      description="Fields every mention must carry. A field the platform "
                                                  "retires fails the run: remove it here.")
    page_size: int = Field(default=1000, description="Mentions per page (1-1000)")

    def client(self) -> ListeningClient:
        s = self.settings("LISTENING_BASE_URL", "LISTENING_TOKEN", "LISTENING_QUERY_IDS")
        return ListeningClient(s["LISTENING_BASE_URL"], s["LISTENING_TOKEN"],
                               query_ids=self.ids(s["LISTENING_QUERY_IDS"]),
                               mention_fields=self.mention_fields, page_size=self.page_size)


def resource(fakes) -> ListeningResource:
    return ListeningResource(fakes=fakes)


ASSETS = [stream_asset(s, RESOURCE_KEY) for s in listening.STREAMS]
CHECKS: list = []
