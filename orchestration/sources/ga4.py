"""GA4 Data API: the runReport stream (sessions, key events, revenue by source and landing page)."""

from typing import ClassVar

from pydantic import Field, SecretStr

from extractors import ga4
from extractors.ga4 import DEFAULT_DIMENSIONS, DEFAULT_METRICS, GA4Client
from orchestration.assets.streams import stream_asset
from orchestration.resources import Ids, SourceEnvironment, SourceResource, SourceSettings

RESOURCE_KEY = "ga4"


class GA4Settings(SourceSettings):
    SOURCE: ClassVar[str] = RESOURCE_KEY

    base_url: str = Field(alias="GA4_BASE_URL", description="e.g. https://analyticsdata.googleapis.com")
    token: SecretStr = Field(alias="GA4_TOKEN")
    property_ids: Ids = Field(alias="GA4_PROPERTY_IDS", description="comma-separated GA4 property ids")


class GA4Resource(SourceResource):
    """GA4 Data API (settings: GA4Settings)."""

    SETTINGS: ClassVar[type[SourceSettings]] = GA4Settings
    dimensions: list[str] = Field(
        default=list(DEFAULT_DIMENSIONS), description="runReport dimensions; with the property they are the row's key."
    )
    metrics: list[str] = Field(
        default=list(DEFAULT_METRICS),
        description="runReport metrics. A retired or renamed metric (conversions is now "
        "keyEvents) fails the request: change it here.",
    )
    page_size: int = Field(default=100_000, description="Rows per runReport page (GA4 serves at most 250,000).")

    def make_client(self, s: GA4Settings) -> GA4Client:
        return GA4Client(
            s.base_url,
            s.token.get_secret_value(),
            property_ids=list(s.property_ids),
            dimensions=self.dimensions,
            metrics=self.metrics,
            page_size=self.page_size,
            retry=self.retry_policy(),
        )


def resource(environment: SourceEnvironment) -> GA4Resource:
    return GA4Resource(environment=environment)


ASSETS = [stream_asset(s, RESOURCE_KEY) for s in ga4.STREAMS]
CHECKS = []
