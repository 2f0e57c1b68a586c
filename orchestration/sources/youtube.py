"""YouTube Data API v3 and Analytics API v2: channels, videos, daily analytics, audience."""

from typing import ClassVar

from pydantic import Field, SecretStr

from extractors import youtube
from extractors.youtube import (
    DEFAULT_CHANNEL_METRICS,
    DEFAULT_COUNTRY_METRICS,
    DEFAULT_DEMOGRAPHIC_METRICS,
    DEFAULT_VIDEO_METRICS,
    YouTubeClient,
)
from orchestration.assets.streams import stream_asset
from orchestration.resources import Ids, SourceEnvironment, SourceResource, SourceSettings

RESOURCE_KEY = "youtube"


class YouTubeSettings(SourceSettings):
    SOURCE: ClassVar[str] = RESOURCE_KEY

    base_url: str = Field(alias="YOUTUBE_BASE_URL", description="Data API root, e.g. https://www.googleapis.com")
    analytics_base_url: str = Field(
        default="",
        alias="YOUTUBE_ANALYTICS_BASE_URL",
        description="Analytics API root, e.g. https://youtubeanalytics.googleapis.com; unset: YOUTUBE_BASE_URL",
    )
    access_token: SecretStr = Field(alias="YOUTUBE_ACCESS_TOKEN")
    channel_ids: Ids = Field(alias="YOUTUBE_CHANNEL_IDS", description="comma-separated channel ids")


class YouTubeResource(SourceResource):
    """YouTube Data and Analytics APIs (settings: YouTubeSettings)."""

    SETTINGS: ClassVar[type[SourceSettings]] = YouTubeSettings
    video_metrics: list[str] = Field(
        default=list(DEFAULT_VIDEO_METRICS),
        description="Analytics metrics per video and day. A retired metric fails the report: remove it here.",
    )
    channel_metrics: list[str] = Field(
        default=list(DEFAULT_CHANNEL_METRICS), description="Analytics metrics per channel and day."
    )
    country_metrics: list[str] = Field(
        default=list(DEFAULT_COUNTRY_METRICS), description="Analytics metrics by country (audience snapshot)."
    )
    demographic_metrics: list[str] = Field(
        default=list(DEFAULT_DEMOGRAPHIC_METRICS), description="Analytics metrics by age group and gender."
    )
    demographics_window_days: int = Field(
        default=28, description="Days up to the snapshot day the audience snapshots cover"
    )
    report_page_size: int = Field(default=200, description="Rows per Analytics report page")

    def make_client(self, s: YouTubeSettings) -> YouTubeClient:
        return YouTubeClient(
            s.base_url,
            s.access_token.get_secret_value(),
            analytics_base_url=s.analytics_base_url,
            channel_ids=list(s.channel_ids),
            video_metrics=self.video_metrics,
            channel_metrics=self.channel_metrics,
            country_metrics=self.country_metrics,
            demographic_metrics=self.demographic_metrics,
            demographics_window_days=self.demographics_window_days,
            report_page_size=self.report_page_size,
            retry=self.retry_policy(),
        )


def resource(environment: SourceEnvironment) -> YouTubeResource:
    return YouTubeResource(environment=environment)


ASSETS = [stream_asset(s, RESOURCE_KEY) for s in youtube.STREAMS]
CHECKS: list = []
