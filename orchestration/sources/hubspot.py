"""HubSpot CRM: contacts, deals (by modification day) and deal -> contact associations."""

from typing import ClassVar

from pydantic import Field

from extractors import hubspot
from extractors.hubspot import DEFAULT_CONTACT_PROPERTIES, DEFAULT_DEAL_PROPERTIES, HubSpotClient
from orchestration.assets.streams import stream_asset
from orchestration.resources import SourceResource

RESOURCE_KEY = "hubspot"


class HubSpotResource(SourceResource):
    """HubSpot CRM: HUBSPOT_BASE_URL, HUBSPOT_TOKEN (a private-app token with the contacts and
    deals read scopes)."""

    BASE_URL_VAR: ClassVar[str] = "HUBSPOT_BASE_URL"
    contact_properties: list[str] = Field(default=list(DEFAULT_CONTACT_PROPERTIES),
                                          description="Contact properties to request (unknown ones come back null).")
    deal_properties: list[str] = Field(default=list(DEFAULT_DEAL_PROPERTIES),
                                       description="Deal properties to request (unknown ones come back null).")
    page_size: int = Field(default=200, description="Search page size (HubSpot allows at most 200).")
    # HubSpot allows about 5 searches a second per portal: days in parallel would trip it.
    parallel_days: int = Field(default=1, description="Days extracted at once")

    def client(self) -> HubSpotClient:
        s = self.settings("HUBSPOT_BASE_URL", "HUBSPOT_TOKEN")
        return HubSpotClient(s["HUBSPOT_BASE_URL"], s["HUBSPOT_TOKEN"], contact_properties=self.contact_properties,
                             deal_properties=self.deal_properties, page_size=self.page_size)


def resource(fakes) -> HubSpotResource:
    return HubSpotResource(fakes=fakes)


ASSETS = [stream_asset(s, RESOURCE_KEY) for s in hubspot.STREAMS]
CHECKS = []
