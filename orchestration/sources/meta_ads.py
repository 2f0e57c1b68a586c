"""Meta Marketing API: ad insights and ad accounts."""

from typing import ClassVar

from pydantic import Field

from extractors import meta_marketing
from extractors.meta_marketing import DEFAULT_INSIGHTS_FIELDS, MetaMarketingClient
from orchestration.assets.streams import stream_asset
from orchestration.checks import gx_raw_ads_insights
from orchestration.resources import SourceResource

RESOURCE_KEY = "meta_ads"


class MetaAdsResource(SourceResource):
    """Meta Marketing API: META_BASE_URL, META_ACCESS_TOKEN, META_AD_ACCOUNT_IDS."""

    BASE_URL_VAR: ClassVar[str] = "META_BASE_URL"
    insights_fields: list[str] = Field(default=list(DEFAULT_INSIGHTS_FIELDS),
                                       description="Insights fields to request. A retired metric fails the "
                                                   "request: remove it here.")
    page_size: int = 500

    def client(self) -> MetaMarketingClient:
        s = self.settings("META_BASE_URL", "META_ACCESS_TOKEN", "META_AD_ACCOUNT_IDS")
        return MetaMarketingClient(s["META_BASE_URL"], s["META_ACCESS_TOKEN"], account_ids=self.ids(s["META_AD_ACCOUNT_IDS"]),
                                   insights_fields=self.insights_fields, page_size=self.page_size)


def resource(fakes) -> MetaAdsResource:
    return MetaAdsResource(fakes=fakes)


ASSETS = [stream_asset(s, RESOURCE_KEY) for s in meta_marketing.STREAMS]
CHECKS = [gx_raw_ads_insights]
