"""Meta Graph API: Facebook Pages and Instagram accounts (raw/facebook/*, raw/instagram/*)."""

from typing import ClassVar

from pydantic import Field, SecretStr

from extractors import meta_graph
from extractors.meta_graph import MetaGraphClient
from orchestration.assets.streams import stream_asset
from orchestration.resources import Ids, SourceEnvironment, SourceResource, SourceSettings

RESOURCE_KEY = "meta_graph"


class MetaGraphSettings(SourceSettings):
    SOURCE: ClassVar[str] = RESOURCE_KEY

    base_url: str = Field(alias="META_GRAPH_BASE_URL", description="e.g. https://graph.facebook.com")
    page_token: SecretStr = Field(
        alias="META_PAGE_TOKEN", description="a user or system-user token; swapped for each Page's own token"
    )
    page_ids: Ids = Field(alias="FACEBOOK_PAGE_IDS", description="comma-separated Facebook Page ids")
    ig_user_ids: Ids = Field(
        alias="INSTAGRAM_USER_IDS", description="comma-separated Instagram professional account ids"
    )


class MetaGraphResource(SourceResource):
    """Meta Graph API: Facebook Pages and Instagram accounts (settings: MetaGraphSettings)."""

    SETTINGS: ClassVar[type[SourceSettings]] = MetaGraphSettings
    post_metrics: list[str] = Field(
        default=list(meta_graph.DEFAULT_POST_METRICS),
        description="Lifetime post insights metrics. A retired metric fails the request: remove or rename it here.",
    )
    page_metrics: list[str] = Field(
        default=list(meta_graph.DEFAULT_PAGE_METRICS), description="Page insights metrics (period=day)."
    )
    media_metrics: dict[str, list[str]] = Field(
        default={k: list(v) for k, v in meta_graph.DEFAULT_MEDIA_METRICS.items()},
        description="Instagram media insights metrics per kind of media, keyed MEDIA_TYPE/MEDIA_PRODUCT_TYPE "
        "(IMAGE/FEED, CAROUSEL_ALBUM/FEED, VIDEO/FEED, VIDEO/REELS) or a product type alone (STORY): "
        "one metric a kind does not support fails the whole request, so each is asked only its own.",
    )
    account_day_metrics: list[str] = Field(
        default=list(meta_graph.DEFAULT_ACCOUNT_DAY_METRICS),
        description="Instagram account insights read as a daily time series.",
    )
    account_total_metrics: list[str] = Field(
        default=list(meta_graph.DEFAULT_ACCOUNT_TOTAL_METRICS),
        description="Instagram account insights read with metric_type=total_value, one day at a time.",
    )
    demographic_breakdowns: list[str] = Field(
        default=list(meta_graph.DEFAULT_DEMOGRAPHIC_BREAKDOWNS), description="follower_demographics breakdowns."
    )
    lookback_days: int = Field(
        default=meta_graph.DEFAULT_LOOKBACK_DAYS,
        description="Posts and media younger than this get daily insight snapshots and have their comments read.",
    )
    page_size: int = 100
    swap_page_token: bool = Field(default=True, description="Swap META_PAGE_TOKEN for each Page's own token.")

    def make_client(self, s: MetaGraphSettings) -> MetaGraphClient:
        return MetaGraphClient(
            s.base_url,
            s.page_token.get_secret_value(),
            page_ids=list(s.page_ids),
            ig_user_ids=list(s.ig_user_ids),
            post_metrics=self.post_metrics,
            page_metrics=self.page_metrics,
            media_metrics=self.media_metrics,
            account_day_metrics=self.account_day_metrics,
            account_total_metrics=self.account_total_metrics,
            demographic_breakdowns=self.demographic_breakdowns,
            lookback_days=self.lookback_days,
            page_size=self.page_size,
            swap_page_token=self.swap_page_token,
            retry=self.retry_policy(),
        )


def resource(environment: SourceEnvironment) -> MetaGraphResource:
    return MetaGraphResource(environment=environment)


ASSETS = [stream_asset(s, RESOURCE_KEY) for s in meta_graph.STREAMS]
CHECKS: list = []
