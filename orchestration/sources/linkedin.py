"""LinkedIn: organization page statistics and followers, LinkedIn Ads accounts, campaigns and analytics."""

from typing import ClassVar

from pydantic import Field, SecretStr

from extractors import linkedin
from extractors.linkedin import DEFAULT_ANALYTICS_FIELDS, MAX_FIELDS_PER_REQUEST, LinkedInClient
from orchestration.assets.streams import stream_asset
from orchestration.resources import Ids, SourceEnvironment, SourceResource, SourceSettings

RESOURCE_KEY = "linkedin"


class LinkedInSettings(SourceSettings):
    SOURCE: ClassVar[str] = RESOURCE_KEY

    base_url: str = Field(alias="LINKEDIN_BASE_URL", description="e.g. https://api.linkedin.com")
    token: SecretStr = Field(alias="LINKEDIN_TOKEN")
    version: str = Field(
        default=linkedin.API_VERSION,
        alias="LINKEDIN_VERSION",
        description="LinkedIn-Version (YYYYMM); LinkedIn serves each for about a year",
    )
    organization_ids: Ids = Field(alias="LINKEDIN_ORGANIZATION_IDS", description="comma-separated organization ids")
    ad_account_ids: Ids = Field(alias="LINKEDIN_AD_ACCOUNT_IDS", description="comma-separated ad account ids")


class LinkedInResource(SourceResource):
    """LinkedIn Marketing API (settings: LinkedInSettings)."""

    SETTINGS: ClassVar[type[SourceSettings]] = LinkedInSettings
    analytics_fields: list[str] = Field(
        default=list(DEFAULT_ANALYTICS_FIELDS),
        description="adAnalytics metrics to request (asked for in chunks). "
        "An invalid one fails the request: remove it here.",
    )
    fields_per_request: int = Field(
        default=MAX_FIELDS_PER_REQUEST,
        description="Fields per adAnalytics request, dateRange and pivotValues included (LinkedIn allows 20)",
    )
    page_size: int = Field(default=100, description="count for start/count paged lists")

    def make_client(self, s: LinkedInSettings) -> LinkedInClient:
        return LinkedInClient(
            s.base_url,
            s.token.get_secret_value(),
            version=s.version,
            organization_ids=list(s.organization_ids),
            ad_account_ids=list(s.ad_account_ids),
            analytics_fields=self.analytics_fields,
            fields_per_request=self.fields_per_request,
            page_size=self.page_size,
            retry=self.retry_policy(),
        )


def resource(environment: SourceEnvironment) -> LinkedInResource:
    return LinkedInResource(environment=environment)


ASSETS = [stream_asset(s, RESOURCE_KEY) for s in linkedin.STREAMS]
CHECKS: list = []
