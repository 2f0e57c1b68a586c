"""Meta Marketing API: ad insights and ad accounts."""

from typing import ClassVar

from pydantic import Field, SecretStr

from extractors import meta_ads
from extractors.meta_ads import DEFAULT_INSIGHTS_FIELDS, MetaAdsClient
from orchestration.assets.streams import stream_asset
from orchestration.resources import Ids, SourceEnvironment, SourceResource, SourceSettings

RESOURCE_KEY = "meta_ads"


class MetaAdsSettings(SourceSettings):
    SOURCE: ClassVar[str] = RESOURCE_KEY

    base_url: str = Field(alias="META_BASE_URL", description="Meta Graph API root, e.g. https://graph.facebook.com")
    access_token: SecretStr = Field(alias="META_ACCESS_TOKEN")
    ad_account_ids: Ids = Field(alias="META_AD_ACCOUNT_IDS", description="comma-separated ad account ids")


class MetaAdsResource(SourceResource):
    """Meta Marketing API (settings: MetaAdsSettings)."""

    SETTINGS: ClassVar[type[SourceSettings]] = MetaAdsSettings
    insights_fields: list[str] = Field(
        default=list(DEFAULT_INSIGHTS_FIELDS),
        description="Insights fields to request. A retired metric fails the request: remove it here.",
    )
    page_size: int = 500

    def make_client(self, s: MetaAdsSettings) -> MetaAdsClient:
        return MetaAdsClient(
            s.base_url,
            s.access_token.get_secret_value(),
            account_ids=list(s.ad_account_ids),
            insights_fields=self.insights_fields,
            page_size=self.page_size,
            retry=self.retry_policy(),
        )


def resource(environment: SourceEnvironment) -> MetaAdsResource:
    return MetaAdsResource(environment=environment)


ASSETS = [stream_asset(s, RESOURCE_KEY) for s in meta_ads.STREAMS]
CHECKS: list = []  # the raw checks are the raw multi-assets' own (orchestration/checks.py)
