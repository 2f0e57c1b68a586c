"""HubSpot CRM: contacts, deals (by modification day) and deal -> contact associations."""

from typing import ClassVar

from pydantic import Field, SecretStr

from extractors import hubspot
from extractors.hubspot import DEFAULT_CONTACT_PROPERTIES, DEFAULT_DEAL_PROPERTIES, HubSpotClient
from orchestration.assets.streams import stream_asset
from orchestration.resources import SourceEnvironment, SourceResource, SourceSettings

RESOURCE_KEY = "hubspot"


class HubSpotSettings(SourceSettings):
    SOURCE: ClassVar[str] = RESOURCE_KEY

    base_url: str = Field(alias="HUBSPOT_BASE_URL", description="e.g. https://api.hubapi.com")
    token: SecretStr = Field(
        alias="HUBSPOT_TOKEN", description="a private-app token with the contacts and deals read scopes"
    )


class HubSpotResource(SourceResource):
    """HubSpot CRM (settings: HubSpotSettings)."""

    SETTINGS: ClassVar[type[SourceSettings]] = HubSpotSettings
    contact_properties: list[str] = Field(
        default=list(DEFAULT_CONTACT_PROPERTIES),
        description="Contact properties to request (unknown ones come back null).",
    )
    deal_properties: list[str] = Field(
        default=list(DEFAULT_DEAL_PROPERTIES), description="Deal properties to request (unknown ones come back null)."
    )
    page_size: int = Field(default=200, description="Search page size (HubSpot allows at most 200).")
    # HubSpot allows about 5 searches a second per portal: days in parallel would trip it.
    parallel_days: int = Field(default=1, description="Days extracted at once")

    def make_client(self, s: HubSpotSettings) -> HubSpotClient:
        return HubSpotClient(
            s.base_url,
            s.token.get_secret_value(),
            contact_properties=self.contact_properties,
            deal_properties=self.deal_properties,
            page_size=self.page_size,
            retry=self.retry_policy(),
        )


def resource(environment: SourceEnvironment) -> HubSpotResource:
    return HubSpotResource(environment=environment)


ASSETS = [stream_asset(s, RESOURCE_KEY) for s in hubspot.STREAMS]
CHECKS = []
