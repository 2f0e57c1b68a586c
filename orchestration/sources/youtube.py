"""YouTube Data API v3 and Analytics API v2: channels, videos, daily analytics, audience."""

from typing import ClassVar

from pydantic import Field

from extractors import youtube
from extractors.youtube import (DEFAULT_CHANNEL_METRICS, DEFAULT_COUNTRY_METRICS, DEFAULT_DEMOGRAPHIC_METRICS,
                                DEFAULT_VIDEO_METRICS, YouTubeClient)
from orchestration.assets.streams import stream_asset
from orchestration.resources import SourceResource

RESOURCE_KEY = "youtube"


class YouTubeResource(SourceResource):
    """YouTube: YOUTUBE_BASE_URL, YOUTUBE_ANALYTICS_BASE_URL, YOUTUBE_ACCESS_TOKEN, YOUTUBE_CHANNEL_IDS."""

    BASE_URL_VAR: ClassVar[str] = "YOUTUBE_BASE_URL"
    video_metrics: list[str] = Field(default=list(DEFAULT_VIDEO_METRICS),
                                     description="Analytics metrics per video and day. A retired metric fails the "
                                                 "report: remove it here.")
    channel_metrics: list[str] = Field(default=list(DEFAULT_CHANNEL_METRICS),
                                       description="Analytics metrics per channel and day.")
    country_metrics: list[str] = Field(default=list(DEFAULT_COUNTRY_METRICS),
                                       description="Analytics metrics by country (audience snapshot).")
    demographic_metrics: list[str] = Field(default=list(DEFAULT_DEMOGRAPHIC_METRICS),
                                           description="Analytics metrics by age group and gender.")
    demographics_window_days: int = Field(default=28, description="Days up to the snapshot day the audience "
                                                                  "snapshots cover")
    report_page_size: int = Field(default=200, description="Rows per Analytics report page")

    def client(self) -> YouTubeClient:
        s = self.settings("YOUTUBE_BASE_URL", "YOUTUBE_ANALYTICS_BASE_URL", "YOUTUBE_ACCESS_TOKEN",
                          "YOUTUBE_CHANNEL_IDS")
        return YouTubeClient(s["YOUTUBE_BASE_URL"], s["YOUTUBE_ACCESS_TOKEN"],
                             analytics_base_url=s["YOUTUBE_ANALYTICS_BASE_URL"],
                             channel_ids=self.ids(s["YOUTUBE_CHANNEL_IDS"]), video_metrics=self.video_metrics,
                             channel_metrics=self.channel_metrics, country_metrics=self.country_metrics,
                             demographic_metrics=self.demographic_metrics,
                             demographics_window_days=self.demographics_window_days,
                             report_page_size=self.report_page_size)


def resource(fakes) -> YouTubeResource:
    return YouTubeResource(fakes=fakes)


ASSETS = [stream_asset(s, RESOURCE_KEY) for s in youtube.STREAMS]
CHECKS: list = []
