"""GA4 Data API: the runReport stream (sessions, key events, revenue by source and landing page)."""

from typing import ClassVar

from pydantic import Field

from extractors import ga4
from extractors.ga4 import DEFAULT_DIMENSIONS, DEFAULT_METRICS, GA4Client
from orchestration.assets.streams import stream_asset
from orchestration.resources import SourceResource

RESOURCE_KEY = "ga4"


class GA4Resource(SourceResource):
    """GA4 Data API: GA4_BASE_URL, GA4_TOKEN, GA4_PROPERTY_IDS (comma-separated)."""

    BASE_URL_VAR: ClassVar[str] = "GA4_BASE_URL"
    dimensions: list[str] = Field(default=list(DEFAULT_DIMENSIONS),
                                  description="runReport dimensions; with the property they are the row's key.")
    metrics: list[str] = Field(default=list(DEFAULT_METRICS),
                               description="runReport metrics. A retired or renamed metric (conversions is now "
                                           "keyEvents) fails the request: change it here.")
    page_size: int = Field(default=100_000, description="Rows per runReport page (GA4 serves at most 250,000).")

    def client(self) -> GA4Client:
        s = self.settings("GA4_BASE_URL", "GA4_TOKEN", "GA4_PROPERTY_IDS")
        return GA4Client(s["GA4_BASE_URL"], s["GA4_TOKEN"], property_ids=self.ids(s["GA4_PROPERTY_IDS"]),
                         dimensions=self.dimensions, metrics=self.metrics, page_size=self.page_size)


def resource(fakes) -> GA4Resource:
    return GA4Resource(fakes=fakes)


ASSETS = [stream_asset(s, RESOURCE_KEY) for s in ga4.STREAMS]
CHECKS = []
