"""Google Ads API: ad group and account metrics by day, customers and campaigns (searchStream, GAQL)."""

from typing import ClassVar

from pydantic import Field

from extractors import google_ads
from extractors.google_ads import (DEFAULT_AD_GROUP_FIELDS, DEFAULT_CAMPAIGN_FIELDS, DEFAULT_CUSTOMER_DAILY_FIELDS,
                                   DEFAULT_CUSTOMER_FIELDS, GoogleAdsClient)
from orchestration.assets.streams import stream_asset
from orchestration.resources import SourceResource

RESOURCE_KEY = "google_ads"


class GoogleAdsResource(SourceResource):
    """Google Ads API: GOOGLE_ADS_BASE_URL, GOOGLE_ADS_TOKEN, GOOGLE_ADS_DEVELOPER_TOKEN,
    GOOGLE_ADS_LOGIN_CUSTOMER_ID (the manager), GOOGLE_ADS_CUSTOMER_IDS."""

    BASE_URL_VAR: ClassVar[str] = "GOOGLE_ADS_BASE_URL"
    ad_group_fields: list[str] = Field(default=list(DEFAULT_AD_GROUP_FIELDS),
                                       description="GAQL fields of the ad group daily report (FROM ad_group). "
                                                   "A retired field fails the query: remove it here.")
    customer_daily_fields: list[str] = Field(default=list(DEFAULT_CUSTOMER_DAILY_FIELDS),
                                             description="GAQL fields of the account daily totals (FROM customer).")
    customer_fields: list[str] = Field(default=list(DEFAULT_CUSTOMER_FIELDS),
                                       description="GAQL fields of the customers stream (FROM customer).")
    campaign_fields: list[str] = Field(default=list(DEFAULT_CAMPAIGN_FIELDS),
                                       description="GAQL fields of the campaigns stream (FROM campaign).")
    api_version: str = Field(default=google_ads.API_VERSION, description="Google Ads API version, e.g. v23")

    def client(self) -> GoogleAdsClient:
        s = self.settings("GOOGLE_ADS_BASE_URL", "GOOGLE_ADS_TOKEN", "GOOGLE_ADS_DEVELOPER_TOKEN",
                          "GOOGLE_ADS_LOGIN_CUSTOMER_ID", "GOOGLE_ADS_CUSTOMER_IDS")
        return GoogleAdsClient(s["GOOGLE_ADS_BASE_URL"], s["GOOGLE_ADS_TOKEN"], s["GOOGLE_ADS_DEVELOPER_TOKEN"],
                               login_customer_id=s["GOOGLE_ADS_LOGIN_CUSTOMER_ID"],
                               customer_ids=self.ids(s["GOOGLE_ADS_CUSTOMER_IDS"]), api_version=self.api_version,
                               ad_group_fields=self.ad_group_fields, customer_daily_fields=self.customer_daily_fields,
                               customer_fields=self.customer_fields,
                               campaign_fields=self.campaign_fields)


def resource(fakes) -> GoogleAdsResource:
    return GoogleAdsResource(fakes=fakes)


ASSETS = [stream_asset(s, RESOURCE_KEY) for s in google_ads.STREAMS]
CHECKS: list = []
