"""LinkedIn: organization page statistics and followers, LinkedIn Ads accounts, campaigns and analytics."""

from typing import ClassVar

from pydantic import Field

from extractors import linkedin
from extractors.linkedin import DEFAULT_ANALYTICS_FIELDS, MAX_FIELDS_PER_REQUEST, LinkedInClient
from orchestration.assets.streams import stream_asset
from orchestration.resources import SourceResource

RESOURCE_KEY = "linkedin"


class LinkedInResource(SourceResource):
    """LinkedIn Marketing API: LINKEDIN_BASE_URL, LINKEDIN_TOKEN, LINKEDIN_VERSION (YYYYMM),
    LINKEDIN_ORGANIZATION_IDS, LINKEDIN_AD_ACCOUNT_IDS."""

    BASE_URL_VAR: ClassVar[str] = "LINKEDIN_BASE_URL"
    analytics_fields: list[str] = Field(default=list(DEFAULT_ANALYTICS_FIELDS),
                                        description="adAnalytics metrics to request (asked for in chunks). "
                                                    "An invalid one fails the request: remove it here.")
    fields_per_request: int = Field(default=MAX_FIELDS_PER_REQUEST,
                                    description="Fields per adAnalytics request, dateRange and pivotValues "
                                                "included (LinkedIn allows 20)")
    page_size: int = Field(default=100, description="count for start/count paged lists")

    def client(self) -> LinkedInClient:
        s = self.settings("LINKEDIN_BASE_URL", "LINKEDIN_TOKEN", "LINKEDIN_VERSION", "LINKEDIN_ORGANIZATION_IDS",
                          "LINKEDIN_AD_ACCOUNT_IDS")
        return LinkedInClient(s["LINKEDIN_BASE_URL"], s["LINKEDIN_TOKEN"],
                              version=s["LINKEDIN_VERSION"] or linkedin.API_VERSION,
                              organization_ids=self.ids(s["LINKEDIN_ORGANIZATION_IDS"]),
                              ad_account_ids=self.ids(s["LINKEDIN_AD_ACCOUNT_IDS"]),
                              analytics_fields=self.analytics_fields, fields_per_request=self.fields_per_request,
                              page_size=self.page_size)


def resource(fakes) -> LinkedInResource:
    return LinkedInResource(fakes=fakes)


ASSETS = [stream_asset(s, RESOURCE_KEY) for s in linkedin.STREAMS]
CHECKS: list = []
