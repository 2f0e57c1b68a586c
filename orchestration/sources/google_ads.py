"""Google Ads API: ad group and account metrics by day, customers and campaigns (searchStream, GAQL)."""

from typing import ClassVar

from pydantic import Field, SecretStr

from extractors import google_ads
from extractors.google_ads import (
    DEFAULT_AD_GROUP_FIELDS,
    DEFAULT_CAMPAIGN_FIELDS,
    DEFAULT_CUSTOMER_DAILY_FIELDS,
    DEFAULT_CUSTOMER_FIELDS,
    GoogleAdsClient,
)
from orchestration.assets.streams import stream_asset
from orchestration.resources import Ids, SourceEnvironment, SourceResource, SourceSettings

RESOURCE_KEY = "google_ads"


class GoogleAdsSettings(SourceSettings):
    SOURCE: ClassVar[str] = RESOURCE_KEY

    base_url: str = Field(alias="GOOGLE_ADS_BASE_URL", description="e.g. https://googleads.googleapis.com")
    token: SecretStr = Field(alias="GOOGLE_ADS_TOKEN", description="OAuth access token")
    developer_token: SecretStr = Field(alias="GOOGLE_ADS_DEVELOPER_TOKEN")
    login_customer_id: str = Field(
        default="",
        alias="GOOGLE_ADS_LOGIN_CUSTOMER_ID",
        description="the manager account the customers are reached through, if any",
    )
    customer_ids: Ids = Field(alias="GOOGLE_ADS_CUSTOMER_IDS", description="comma-separated customer ids")


class GoogleAdsResource(SourceResource):
    """Google Ads API (settings: GoogleAdsSettings)."""

    SETTINGS: ClassVar[type[SourceSettings]] = GoogleAdsSettings
    ad_group_fields: list[str] = Field(
        default=list(DEFAULT_AD_GROUP_FIELDS),
        description="GAQL fields of the ad group daily report (FROM ad_group). "
        "A retired field fails the query: remove it here.",
    )
    customer_daily_fields: list[str] = Field(
        default=list(DEFAULT_CUSTOMER_DAILY_FIELDS),
        description="GAQL fields of the account daily totals (FROM customer).",
    )
    customer_fields: list[str] = Field(
        default=list(DEFAULT_CUSTOMER_FIELDS), description="GAQL fields of the customers stream (FROM customer)."
    )
    campaign_fields: list[str] = Field(
        default=list(DEFAULT_CAMPAIGN_FIELDS), description="GAQL fields of the campaigns stream (FROM campaign)."
    )
    api_version: str = Field(default=google_ads.API_VERSION, description="Google Ads API version, e.g. v23")

    def make_client(self, s: GoogleAdsSettings) -> GoogleAdsClient:
        return GoogleAdsClient(
            s.base_url,
            s.token.get_secret_value(),
            s.developer_token.get_secret_value(),
            login_customer_id=s.login_customer_id,
            customer_ids=list(s.customer_ids),
            api_version=self.api_version,
            ad_group_fields=self.ad_group_fields,
            customer_daily_fields=self.customer_daily_fields,
            customer_fields=self.customer_fields,
            campaign_fields=self.campaign_fields,
            retry=self.retry_policy(),
        )


def resource(environment: SourceEnvironment) -> GoogleAdsResource:
    return GoogleAdsResource(environment=environment)


ASSETS = [stream_asset(s, RESOURCE_KEY) for s in google_ads.STREAMS]
CHECKS: list = []
