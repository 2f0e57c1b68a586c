"""YouTube Data API v3 and YouTube Analytics API v2: channels, videos and their daily numbers.

Streams
- `channels` (daily snapshots): each configured channel with its lifetime statistics
  (`GET /youtube/v3/channels?part=snippet,statistics,contentDetails&id=...`, 1 quota unit),
  as read on the snapshot day. `subscriberCount` is rounded to three significant figures
  by YouTube; exact daily gains and losses are in `channel_analytics_daily`.
- `videos` (merge on `id`): every upload, listed from the channel's uploads playlist
  (`playlistItems`, 1 unit a page, paged with `pageToken`) and read in batches of 50
  (`videos?id=...`, 1 unit), with statistics as YouTube sends them: strings. `search`
  (100 units a call) is never used.
- `video_analytics_daily`: `/v2/reports` with `dimensions=day,video` for one day per
  partition; re-read for 3 days (YouTube revises recent days).
- `channel_analytics_daily`: the same metrics with `dimensions=day`.
- `audience_age_gender` and `audience_country` (daily snapshots): `viewerPercentage` by
  `ageGroup,gender`, and views by `country`, over the `demographics_window_days` ending with
  the snapshot day (a fixed date range, so re-reading a recent snapshot is reproducible).

Analytics days are the API's reporting days (US Pacific time for every channel); there is no
currency (no revenue metrics are read). The metrics of each report are configuration, and the
report's declaration follows them (`report_stream`): one raw column per metric asked for. Report rows arrive positionally
(`columnHeaders` + `rows`); they are flattened into records named by their headers, with the
`channel_id` of the report (and `snapshot_date`/`start_date` for the demographic snapshots).

Errors are Google error bodies (`{"error":{"code","message","errors":[{"reason"}],"status"}}`):
an exhausted daily quota (403 `quotaExceeded`) is fatal with a message saying so (retrying
cannot help before the quota resets at midnight Pacific time); rate limits and backend errors
are retried; a bad token names YOUTUBE_ACCESS_TOKEN; an unknown metric names the setting.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import requests

from extractors.client import SourceClient
from extractors.http import (
    ApiError,
    AuthError,
    FatalError,
    HttpCore,
    LoopGuard,
    Paginator,
    RetryableError,
    RetryPolicy,
    retry_after_seconds,
)
from extractors.streams import Stream

log = logging.getLogger(__name__)

SOURCE = "youtube"
PLATFORM = "YouTube"

# What we ask for: configuration. A metric the Analytics API no longer knows fails the
# report with a 400; the error names the setting to change.
DEFAULT_VIDEO_METRICS: tuple[str, ...] = (
    "views",
    "likes",
    "comments",
    "estimatedMinutesWatched",
    "subscribersGained",
    "subscribersLost",
)
DEFAULT_CHANNEL_METRICS: tuple[str, ...] = DEFAULT_VIDEO_METRICS
DEFAULT_COUNTRY_METRICS: tuple[str, ...] = ("views", "estimatedMinutesWatched")
DEFAULT_DEMOGRAPHIC_METRICS: tuple[str, ...] = ("viewerPercentage",)
DEFAULT_VIDEO_PARTS: tuple[str, ...] = ("snippet", "statistics", "contentDetails")
DEFAULT_CHANNEL_PARTS: tuple[str, ...] = ("snippet", "statistics", "contentDetails")
MAX_IDS = 50  # videos?id= and channels?id= take at most 50 ids
MAX_TOKEN_REPEATS = 3

_metrics = {
    "views": "BIGINT",
    "likes": "BIGINT",
    "comments": "BIGINT",
    "estimatedMinutesWatched": "BIGINT",
    "subscribersGained": "BIGINT",
    "subscribersLost": "BIGINT",
}
# A metric no declaration types gets a column of its own name, DOUBLE: every number the
# Analytics API sends (counts, seconds, rates, percentages) converts to it.
OTHER_METRIC_TYPE = "DOUBLE"


@dataclass
class StartIndexPaginator(Paginator):
    """Analytics API paging: 1-based `startIndex` moved on by the rows received; a page shorter
    than `maxResults` is the last. A page that repeats the previous one exactly (a page served
    twice) is asked for again at the same `startIndex` rather than skipped past."""

    previous: list | None = None
    repeats: int = 0

    def next_params(self, body: Any, params: dict) -> dict | None:
        rows = body.get("rows") or []
        if rows and rows == self.previous and self.repeats < MAX_TOKEN_REPEATS:
            self.repeats += 1
            log.warning(
                "[%s] report page at startIndex=%s repeats the previous one; asking again",
                SOURCE,
                params.get("startIndex"),
            )
            return dict(params)
        if len(rows) < int(params.get("maxResults") or 0):
            return None
        self.previous, self.repeats = rows, 0
        return {**params, "startIndex": str(int(params.get("startIndex") or 1) + len(rows))}


# Analytics reports: `params` hold the report's dimensions and (default) metrics; records are
# whole result tables, flattened by `report_records`.
_REPORT = dict(path="v2/reports", records_at="", paginator=StartIndexPaginator, size_param="maxResults", per="channels")

CHANNELS = Stream(
    SOURCE,
    "channels",
    primary_key=("snapshot_date", "id"),
    cursor_field="snapshot_date",
    snapshot=True,
    # a snapshot is what YouTube said that day: re-reading it later would overwrite it
    restatement_days=0,
    disposition="replace_partition",
    path="youtube/v3/channels",
    records_at="items",
    per="channels",
    setting="channel_parts",
    reader="channels",
    columns={
        "snapshot_date": "DATE",
        "id": "VARCHAR",
        "etag": "VARCHAR",
        "title": "VARCHAR <- $.snippet.title",
        "country": "VARCHAR <- $.snippet.country",
        "uploads_playlist_id": "VARCHAR <- $.contentDetails.relatedPlaylists.uploads",
        "view_count": "VARCHAR <- $.statistics.viewCount",
        "subscriber_count": "VARCHAR <- $.statistics.subscriberCount",
        "hidden_subscriber_count": "BOOLEAN <- $.statistics.hiddenSubscriberCount",
        "video_count": "VARCHAR <- $.statistics.videoCount",
        "statistics": "JSON",
    },
    description="Daily snapshots of the YouTube channels and their lifetime statistics (strings, as sent).",
)
VIDEOS = Stream(
    SOURCE,
    "videos",
    primary_key=("id",),
    disposition="merge",
    path="youtube/v3/videos",
    records_at="items",
    per="channels",
    setting="video_parts",
    reader="videos",
    columns={
        "id": "VARCHAR",
        "etag": "VARCHAR",
        "channel_id": "VARCHAR <- $.snippet.channelId",
        "title": "VARCHAR <- $.snippet.title",
        "published_at": "TIMESTAMPTZ <- $.snippet.publishedAt",
        "duration": "VARCHAR <- $.contentDetails.duration",
        "view_count": "VARCHAR <- $.statistics.viewCount",
        "like_count": "VARCHAR <- $.statistics.likeCount",
        "comment_count": "VARCHAR <- $.statistics.commentCount",
        "snippet": "JSON",
        "statistics": "JSON",
        "content_details": "JSON <- $.contentDetails",
    },
    description="YouTube videos of the channels (uploads playlist) with their current statistics (strings, as sent).",
)
VIDEO_ANALYTICS = Stream(
    SOURCE,
    "video_analytics_daily",
    primary_key=("day", "channel_id", "video"),
    cursor_field="day",
    restatement_days=3,
    disposition="replace_partition",
    setting="video_metrics",
    reader="report",
    params={"dimensions": ("day", "video"), "metrics": DEFAULT_VIDEO_METRICS},
    **_REPORT,
    columns={"day": "DATE", "channel_id": "VARCHAR", "video": "VARCHAR", **_metrics},
    description="YouTube Analytics per video and day (dimensions day,video; Pacific-time days).",
)
CHANNEL_ANALYTICS = Stream(
    SOURCE,
    "channel_analytics_daily",
    primary_key=("day", "channel_id"),
    cursor_field="day",
    restatement_days=3,
    disposition="replace_partition",
    setting="channel_metrics",
    reader="report",
    params={"dimensions": ("day",), "metrics": DEFAULT_CHANNEL_METRICS},
    **_REPORT,
    columns={"day": "DATE", "channel_id": "VARCHAR", **_metrics},
    description="YouTube Analytics per channel and day (dimensions day; Pacific-time days).",
)
AGE_GENDER = Stream(
    SOURCE,
    "audience_age_gender",
    primary_key=("snapshot_date", "channel_id", "age_group", "gender"),
    cursor_field="snapshot_date",
    restatement_days=3,
    disposition="replace_partition",
    setting="demographic_metrics",
    reader="audience",
    params={"dimensions": ("ageGroup", "gender"), "metrics": DEFAULT_DEMOGRAPHIC_METRICS},
    **_REPORT,
    columns={
        "snapshot_date": "DATE",
        "start_date": "DATE",
        "channel_id": "VARCHAR",
        "age_group": "VARCHAR <- $.ageGroup",
        "gender": "VARCHAR",
        "viewer_percentage": "DOUBLE <- $.viewerPercentage",
    },
    description="Daily snapshots of a channel's audience by age group and gender (viewerPercentage over the "
    "window ending with the snapshot day).",
)
COUNTRY = Stream(
    SOURCE,
    "audience_country",
    primary_key=("snapshot_date", "channel_id", "country"),
    cursor_field="snapshot_date",
    restatement_days=3,
    disposition="replace_partition",
    setting="country_metrics",
    reader="audience",
    params={"dimensions": ("country",), "metrics": DEFAULT_COUNTRY_METRICS},
    **_REPORT,
    columns={
        "snapshot_date": "DATE",
        "start_date": "DATE",
        "channel_id": "VARCHAR",
        "country": "VARCHAR",
        "views": "BIGINT",
        "estimatedMinutesWatched": "BIGINT",
    },
    description="Daily snapshots of a channel's views by country over the window ending with the snapshot day.",
)
STREAMS = (CHANNELS, VIDEOS, VIDEO_ANALYTICS, CHANNEL_ANALYTICS, AGE_GENDER, COUNTRY)


def _source_field(column: str, spec: str) -> str:
    """The record field a column is read from (`viewerPercentage` for `"DOUBLE <- $.viewerPercentage"`)."""
    path = spec.partition("<-")[2].strip()
    return path.removeprefix("$.") if path else column


def report_stream(stream: Stream, metrics: Sequence[str]) -> Stream:
    """An Analytics report's declaration asking for `metrics`: a metric the declaration already
    has keeps its column (name and type), another gets one of its own name (`OTHER_METRIC_TYPE`),
    and a metric no longer asked for loses its column. A metric named like one of the report's
    other columns fails naming the setting."""
    metrics = tuple(metrics)
    if not metrics:
        raise FatalError(SOURCE, f"`{stream.setting}` is empty: the {stream.name} report needs at least one metric")
    declared = set(stream.params["metrics"])
    by_field = {_source_field(c, spec): (c, spec) for c, spec in stream.columns.items()}
    columns = {c: spec for c, spec in stream.columns.items() if _source_field(c, spec) not in declared}
    for m in metrics:
        column, spec = by_field.get(m, (m, OTHER_METRIC_TYPE)) if m in declared else (m, OTHER_METRIC_TYPE)
        if column in columns:
            raise FatalError(
                SOURCE,
                f"`{stream.setting}` names {m!r} twice or as one of the report's other columns "
                f"({', '.join(c for c in columns if c not in metrics)}): change it in the youtube "
                "resource configuration",
            )
        columns[column] = spec
    return stream.configured(columns=columns, params={**stream.params, "metrics": metrics})


# Google reasons that pass by themselves (throttling, a backend hiccup).
_RETRYABLE_REASONS = {
    "rateLimitExceeded",
    "userRateLimitExceeded",
    "backendError",
    "internalError",
    "serviceUnavailable",
}
_QUOTA_REASONS = {"quotaExceeded", "dailyLimitExceeded"}


def classify_google_error(
    resp: requests.Response, url: str, *, token_var: str = "YOUTUBE_ACCESS_TOKEN", metrics_setting: str | None = None
) -> ApiError | None:
    """Turn a Google error body into a retryable or fatal error with an actionable message."""
    try:
        body = resp.json()
    except ValueError:
        return None  # not a Google body (a proxy's page): the core decides
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        return None  # e.g. an OAuth endpoint's {"error": "invalid_grant"}: the core decides
    status = resp.status_code
    message = err.get("message") or resp.reason or "no message"
    reasons = {e.get("reason") for e in err.get("errors") or [] if isinstance(e, dict)}
    code = next(iter(sorted(r for r in reasons if r)), None) or err.get("status")
    kw = dict(status=status, code=code, url=url, retry_after=retry_after_seconds(resp))
    if reasons & _QUOTA_REASONS:
        return FatalError(
            SOURCE,
            f"{message}. The Google Cloud project's daily {PLATFORM} API quota is used up "
            "(10,000 units a day unless raised): retrying cannot help today; it resets at midnight "
            "Pacific time. Run again after the reset, read less, or ask Google for more quota",
            **kw,
        )
    if status == 401 or "authError" in reasons or err.get("status") == "UNAUTHENTICATED":
        return AuthError(
            SOURCE,
            f"{message}. The access token was refused: set a valid OAuth token in {token_var} "
            "(access tokens last an hour: refresh it)",
            **kw,
        )
    if reasons & _RETRYABLE_REASONS or status == 429 or status >= 500 or err.get("status") == "RESOURCE_EXHAUSTED":
        return RetryableError(SOURCE, message, **kw)
    if "insufficientPermissions" in reasons or err.get("status") == "PERMISSION_DENIED":
        return AuthError(
            SOURCE, f"{message}. The token in {token_var} lacks a scope (youtube.readonly, yt-analytics.readonly)", **kw
        )
    if status == 403:
        return FatalError(
            SOURCE,
            f"{message}. The token cannot read this channel: check YOUTUBE_CHANNEL_IDS and "
            f"that the token in {token_var} belongs to the channel's owner or manager",
            **kw,
        )
    m = re.search(r"Unknown identifier \(([^)]*)\) given in field parameters\.(metrics|dimensions)", message)
    if m:
        setting = metrics_setting if m.group(2) == "metrics" else "the report dimensions"
        return FatalError(
            SOURCE,
            f"{message} The {PLATFORM} Analytics API does not accept the {m.group(2)[:-1]} "
            f"{m.group(1)!r} (retired or misspelt): remove it from `{setting or 'the metric lists'}` "
            "in the youtube resource configuration",
            **kw,
        )
    return FatalError(SOURCE, message, **kw)


@dataclass
class PageTokenPaginator(Paginator):
    """Data API paging: `nextPageToken` in the body, `pageToken` in the next request. A page
    served again may hand back the token it was asked with; a token that keeps coming back loops."""

    guard: LoopGuard = field(
        default_factory=lambda: LoopGuard(SOURCE, "pageToken", max_repeats=MAX_TOKEN_REPEATS, in_a_row=False)
    )

    def next_params(self, body: Any, params: dict) -> dict | None:
        token = body.get("nextPageToken") if isinstance(body, dict) else None
        if not token:
            return None
        self.guard.check(token)
        return {**params, "pageToken": token}


def report_records(body: dict, **context: Any) -> list[dict]:
    """Flatten a result table: each row becomes a record named by the column headers, plus the
    report's context (its channel; the snapshot day of a demographic window)."""
    names = [h["name"] for h in body.get("columnHeaders") or []]
    out = []
    for row in body.get("rows") or []:
        if len(row) != len(names):
            raise FatalError(SOURCE, f"a report row has {len(row)} values for {len(names)} column headers")
        out.append({**dict(zip(names, row)), **context})
    return out


def items_of(body: dict) -> list[dict]:
    return list(body.get("items") or [])


def snapshot_records(items: list[dict], day: date) -> list[dict]:
    return [{**i, "snapshot_date": day.isoformat()} for i in items]


class YouTubeClient(SourceClient):
    """A client for channels, videos and Analytics reports. URLs and the token come from the caller.
    Its report streams are declared from its metric settings (see `report_stream`)."""

    SOURCE = SOURCE
    IDS = {"channels": ("channel_ids", "channels", "YOUTUBE_CHANNEL_IDS")}

    def __init__(
        self,
        base_url: str,
        access_token: str,
        *,
        analytics_base_url: str = "",
        channel_ids: Sequence[str] = (),
        video_metrics: Sequence[str] = DEFAULT_VIDEO_METRICS,
        channel_metrics: Sequence[str] = DEFAULT_CHANNEL_METRICS,
        country_metrics: Sequence[str] = DEFAULT_COUNTRY_METRICS,
        demographic_metrics: Sequence[str] = DEFAULT_DEMOGRAPHIC_METRICS,
        video_parts: Sequence[str] = DEFAULT_VIDEO_PARTS,
        channel_parts: Sequence[str] = DEFAULT_CHANNEL_PARTS,
        demographics_window_days: int = 28,
        report_page_size: int = 200,
        data_page_size: int = 50,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if not access_token:
            raise AuthError(SOURCE, "no access token: set YOUTUBE_ACCESS_TOKEN")
        self.channel_ids = list(channel_ids)
        self.video_metrics, self.channel_metrics = tuple(video_metrics), tuple(channel_metrics)
        self.country_metrics, self.demographic_metrics = tuple(country_metrics), tuple(demographic_metrics)
        self.video_parts, self.channel_parts = tuple(video_parts), tuple(channel_parts)
        self.window_days = demographics_window_days
        self.report_page_size, self.data_page_size = report_page_size, min(data_page_size, MAX_IDS)
        self._metrics_setting: str | None = None
        super().__init__(
            [report_stream(s, getattr(self, s.setting)) if s.reader in ("report", "audience") else s for s in STREAMS]
        )

        def core(url: str) -> HttpCore:
            return self.http_core(
                url,
                headers={"Authorization": f"Bearer {access_token}"},
                secrets=(access_token,),
                retry=retry,
                sleep=sleep,
                classify_error=lambda resp, u: classify_google_error(resp, u, metrics_setting=self._metrics_setting),
            )

        self.data = core(base_url)
        self.analytics = core(analytics_base_url or base_url)
        self.http = self.data

    def http_for(self, stream: Stream, id: Any = None) -> HttpCore:
        """Reports come from the Analytics API, everything else from the Data API."""
        return self.analytics if stream.reader in ("report", "audience") else self.data

    # -- the streams' readers ----------------------------------------------------------------------
    def read_channels(self, stream: Stream, day: date) -> Iterator[list[dict]]:
        yield snapshot_records(self.channels(self.channel_parts), day)

    def read_videos(self, stream: Stream, day: date | None) -> Iterator[list[dict]]:
        yield from self.video_pages()

    def read_report(self, stream: Stream, day: date) -> Iterator[list[dict]]:
        for ch in self.ids(stream):
            yield from self.report_pages(stream, ch, day, day)

    def read_audience(self, stream: Stream, day: date) -> Iterator[list[dict]]:
        """A report over the `demographics_window_days` ending with `day`, as read on `day`."""
        start = day - timedelta(days=self.window_days - 1)
        for ch in self.ids(stream):
            yield from self.report_pages(
                stream, ch, start, day, snapshot_date=day.isoformat(), start_date=start.isoformat()
            )

    # -- Data API ----------------------------------------------------------------------------------
    def channels(self, parts: Sequence[str]) -> list[dict]:
        out = []
        for i in range(0, len(self.channel_ids), MAX_IDS):
            ids = self.channel_ids[i : i + MAX_IDS]
            body = self.data.get_json(
                CHANNELS.path, params={"part": ",".join(parts), "id": ",".join(ids), "maxResults": str(MAX_IDS)}
            )
            self.data.stats.pages += 1
            items = items_of(body)
            missing = set(ids) - {c.get("id") for c in items}
            if missing:
                raise FatalError(
                    SOURCE,
                    f"channel(s) {', '.join(sorted(missing))} not found or not visible to the "
                    "token: check YOUTUBE_CHANNEL_IDS",
                )
            out += items
        return out

    def video_ids(self, uploads_playlist: str) -> list[str]:
        ids: dict[str, None] = {}
        for items in self.data.paginate(
            "youtube/v3/playlistItems",
            PageTokenPaginator(),
            params={"part": "contentDetails", "playlistId": uploads_playlist, "maxResults": str(self.data_page_size)},
            records_at="items",
            size_param="maxResults",
        ):
            for it in items:
                ids[(it.get("contentDetails") or {}).get("videoId") or it["snippet"]["resourceId"]["videoId"]] = None
        return list(ids)  # a page served twice repeats ids: each video is read once

    def video_pages(self) -> Iterator[list[dict]]:
        for channel in self.channels(("contentDetails",)):
            uploads = channel["contentDetails"]["relatedPlaylists"]["uploads"]
            ids = self.video_ids(uploads)
            for i in range(0, len(ids), MAX_IDS):
                body = self.data.get_json(
                    VIDEOS.path, params={"part": ",".join(self.video_parts), "id": ",".join(ids[i : i + MAX_IDS])}
                )
                self.data.stats.pages += 1
                yield items_of(body)

    # -- Analytics API -----------------------------------------------------------------------------
    def report_pages(
        self, stream: Stream, channel_id: str, start: date, end: date, **context: Any
    ) -> Iterator[list[dict]]:
        """Every page of one report of `stream` (its dimensions and metrics), flattened; errors
        about a metric name the stream's setting."""
        self._metrics_setting = stream.setting
        report = stream.params
        params = {
            "ids": f"channel=={channel_id}",
            "startDate": start.isoformat(),
            "endDate": end.isoformat(),
            "metrics": ",".join(report["metrics"]),
            "dimensions": ",".join(report["dimensions"]),
            "startIndex": "1",
            "maxResults": str(self.report_page_size),
        }
        # records_at="" hands over each whole body: its rows are positional, named by its headers
        for body in self.analytics.paginate(
            self.path(stream),
            stream.paginator(),
            params=params,
            records_at=stream.records_at,
            size_param=stream.size_param,
        ):
            yield report_records(body, channel_id=channel_id, **context)
