"""Meta Graph API: Facebook Pages and Instagram business accounts (organic content).

Two sources from one client: `facebook` (Page posts, post insights, Page insights, Page
follower snapshots, comments and replies, Messenger conversations and messages) and
`instagram` (media, media insights, account insights, follower demographics, account
snapshots, Instagram Direct conversations and messages). Endpoints and metric names as in
docs/source-apis.md section 1; the error classifier and the usage-header reader are those of
`extractors.meta_ads`, wrapped where the Graph API needs a different word.

Record shapes. List endpoints (posts, comments, media, conversations, messages, nodes) land
as the API sent them. Insights arrive metric-major (`data[{name, period, values[{value,
end_time}]}]`): they are flattened to one record per owner, day and metric, keeping the item's
own fields and adding only what the flattening needs (the owner id, the day, `snapshot_date`).
Messages are a child stream of conversations and carry their `conversation_id`.

Days. Page and account insights belong to the Pacific day that `end_time` closes (Meta reports
Page insights on America/Los_Angeles days): that date is stored as `date`, with `end_time` and
`timezone` beside it. Posts, media, comments and messages belong to the UTC day of their own
timestamp (the API writes `+0000`). Lifetime metrics (post and media insights, follower counts,
demographics) are daily snapshots: the values as read for the partition day (`snapshot_date`),
from which daily deltas are derived later.

Metrics asked. Page insights are asked with `period=day` and only `day` entries are stored
(without a period Meta answers day, week and days_28 for the same days). Media insights are
asked per kind of media (`media_metrics`, keyed `MEDIA_TYPE/MEDIA_PRODUCT_TYPE`): one metric a
kind does not support fails the whole request.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit
from zoneinfo import ZoneInfo

import requests

from extractors.client import SourceClient, group_by_day
from extractors.days import epoch_s, utc_day_bounds
from extractors.http import ApiError, AuthError, FatalError, HttpCore, LoopGuard, PageTooLarge, Paginator, RetryPolicy
from extractors.meta_ads import classify_meta_error, read_meta_throttle
from extractors.streams import Stream

log = logging.getLogger(__name__)

PLATFORM = "meta_graph"  # the name errors and logs carry ("[meta_graph] ...")
FACEBOOK = "facebook"
INSTAGRAM = "instagram"
API_VERSION = "v23.0"
TOKEN_VAR = "META_PAGE_TOKEN"
REPORTING_TZ = "America/Los_Angeles"  # Page/account insights days end at Pacific midnight
_PACIFIC = ZoneInfo(REPORTING_TZ)

# -- configuration defaults (the resource exposes each; a retired name is a config change) ----
DEFAULT_POST_FIELDS: tuple[str, ...] = (
    "id",
    "created_time",
    "updated_time",
    "message",
    "permalink_url",
    "status_type",
    "full_picture",
    "is_published",
    "from",
    "shares",
    "reactions.summary(total_count).limit(0)",
    "comments.summary(total_count).limit(0)",
)
DEFAULT_POST_METRICS: tuple[str, ...] = (
    "post_reactions_by_type_total",
    "post_clicks",
    "post_clicks_by_type",
    "post_media_view",
    "post_total_media_view_unique",
)
DEFAULT_PAGE_METRICS: tuple[str, ...] = (
    "page_follows",
    "page_daily_follows_unique",
    "page_daily_unfollows_unique",
    "page_media_view",
    "page_post_engagements",
)
DEFAULT_PAGE_FIELDS: tuple[str, ...] = ("id", "name", "followers_count", "fan_count")
DEFAULT_COMMENT_FIELDS: tuple[str, ...] = (
    "id",
    "message",
    "created_time",
    "from{id,name}",
    "parent{id}",
    "comment_count",
    "like_count",
    "permalink_url",
    "is_hidden",
)
DEFAULT_MEDIA_FIELDS: tuple[str, ...] = (
    "id",
    "caption",
    "media_type",
    "media_product_type",
    "timestamp",
    "permalink",
    "shortcode",
    "like_count",
    "comments_count",
    "media_url",
    "thumbnail_url",
    "username",
    "owner",
    "is_comment_enabled",
    "children{id,media_type,media_url,permalink,shortcode,thumbnail_url,timestamp}",
)
# Media insights metrics per kind of media, keyed `MEDIA_TYPE/MEDIA_PRODUCT_TYPE` (a key of the
# product type alone, e.g. `STORY`, covers every media type of that product). One metric a
# kind of media does not support fails the whole request with (#100), so each kind is asked
# only what it answers. Meta's reference gives the product types per metric (likes, comments,
# saved: FEED and REELS; replies: STORY; profile_activity: FEED; views since v22); the API
# refuses more than it says, and these lists leave out what has been seen refused:
# - CAROUSEL_ALBUM/FEED: no `views` (Airbyte reverted `views`, airbytehq/airbyte#62902);
# - VIDEO/FEED (feed videos older than reels-for-every-video): reach and saved only, as
#   Airbyte asks (total_interactions, likes, comments refused: airbytehq/airbyte#33989; views:
#   #62902's failing request was reach,saved,views);
# - IMAGE/FEED: no `shares` (refused for image posts, exileum/meta-mcp#120); its shares still
#   count in total_interactions;
# - VIDEO/REELS: no profile_activity (a FEED metric);
# - STORY: stories are not on the /media edge this client walks; kept for a stories reader.
# Airbyte's own choice (source-instagram manifest, Graph v23) is the same split: REELS, then
# VIDEO+FEED, then CAROUSEL_ALBUM, then the rest.
DEFAULT_MEDIA_METRICS: dict[str, tuple[str, ...]] = {
    "IMAGE/FEED": ("reach", "views", "likes", "comments", "saved", "total_interactions", "profile_activity"),
    "CAROUSEL_ALBUM/FEED": ("reach", "likes", "comments", "saved", "shares", "total_interactions", "profile_activity"),
    "VIDEO/FEED": ("reach", "saved"),
    "VIDEO/REELS": ("reach", "views", "likes", "comments", "saved", "shares", "total_interactions"),
    "STORY": ("reach", "replies", "shares", "total_interactions"),
}
MEDIA_TYPES = ("IMAGE", "VIDEO", "CAROUSEL_ALBUM")
MEDIA_PRODUCT_TYPES = ("FEED", "REELS", "STORY", "AD")
DEFAULT_ACCOUNT_DAY_METRICS: tuple[str, ...] = ("reach", "follower_count")  # time series
DEFAULT_ACCOUNT_TOTAL_METRICS: tuple[str, ...] = ("views", "accounts_engaged", "total_interactions")
DEFAULT_DEMOGRAPHIC_BREAKDOWNS: tuple[str, ...] = ("country", "age", "gender")
DEFAULT_ACCOUNT_FIELDS: tuple[str, ...] = ("id", "username", "name", "followers_count", "follows_count", "media_count")
DEFAULT_CONVERSATION_FIELDS: tuple[str, ...] = (
    "id",
    "updated_time",
    "message_count",
    "participants",
    "senders",
    "snippet",
    "can_reply",
)
DEFAULT_MESSAGE_FIELDS: tuple[str, ...] = ("id", "created_time", "message", "from", "to")
DEFAULT_LOOKBACK_DAYS = 28

# Metrics Meta retired, and what replaced them (source-apis.md section 1), for the error text.
REPLACED_METRICS = {
    "page_fans": "page_follows",
    "post_impressions": "post_media_view",
    "page_impressions": "page_media_view",
    "post_impressions_unique": "post_total_media_view_unique",
    "page_impressions_unique": "page_total_media_view_unique",
    "page_engaged_users": None,
    "post_engaged_users": None,
    "impressions": "views",
    "plays": "views",
    "video_views": "views",
}


# -- paging ---------------------------------------------------------------------------------
def _get(body: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(body, dict):
            return None
        body = body.get(part)
    return body


@dataclass
class GraphCursorPaginator(Paginator):
    """Cursor paging (`paging.cursors.after`) while `paging.next` is there; an edge that pages
    by time instead (`next` with `since`/`until`/`__paging_token`, no cursors) is followed by
    the query of its `next` link (its access_token dropped: the token travels in the header).
    A page served again brings back a cursor already seen: it is asked for again, up to
    `max_repeats` times each over the walk, before refusing to loop."""

    max_repeats: int = 5
    guard: LoopGuard | None = None

    def next_params(self, body: Any, params: dict) -> dict | None:
        nxt = _get(body, "paging.next")
        if not nxt:
            return None
        cursor = _get(body, "paging.cursors.after")
        if cursor:
            new, mark = {**params, "after": cursor}, f"after={cursor}"
        else:
            query = [(k, v) for k, v in parse_qsl(urlsplit(nxt).query, keep_blank_values=True) if k != "access_token"]
            if not query:
                raise FatalError(PLATFORM, "the page has a paging.next link without a query or a cursor")
            new, mark = dict(query), urlencode(sorted(query))
        if self.guard is None:
            self.guard = LoopGuard(PLATFORM, "the next page", max_repeats=self.max_repeats, in_a_row=False)
        self.guard.check(mark)
        return new


# -- streams --------------------------------------------------------------------------------
# Facebook streams are read per Page (with the Page's own token), Instagram ones per account;
# Instagram Direct is read through the Page the account is linked to.
_INSIGHT_ITEM = {"name": "VARCHAR", "period": "VARCHAR", "value": "JSON"}
_NODE = dict(path="{version}/{id}", records_at="", reader="nodes")
_INSIGHTS = dict(path="{version}/{id}/insights")


def _listed(edge: str, **kw) -> dict:
    """How a list edge of an object is read: cursor-paged `data`, `limit` a page."""
    return dict(path="{version}/{id}/" + edge, paginator=GraphCursorPaginator, **kw)


PAGE_FOLLOWERS = Stream(
    FACEBOOK,
    "page_followers",
    primary_key=("page_id", "snapshot_date"),
    cursor_field="snapshot_date",
    snapshot=True,
    disposition="replace_partition",
    per="pages",
    setting="page_fields",
    **_NODE,
    columns={
        "page_id": "VARCHAR <- $.id",
        "snapshot_date": "DATE",
        "name": "VARCHAR",
        "followers_count": "BIGINT",
        "fan_count": "BIGINT",
    },
    description="Daily snapshot of each Facebook Page's followers_count and fan_count (GET /{page_id}).",
)
POSTS = Stream(
    FACEBOOK,
    "posts",
    primary_key=("id",),
    cursor_field="created_date",
    restatement_days=28,
    disposition="replace_partition",
    per="pages",
    **_listed("published_posts", setting="post_fields", reader="created"),
    columns={
        "id": "VARCHAR",
        "page_id": "VARCHAR <- $.from.id",
        "created_date": "DATE <- $.created_time",
        "created_time": "TIMESTAMPTZ",
        "updated_time": "TIMESTAMPTZ",
        "message": "VARCHAR",
        "permalink_url": "VARCHAR",
        "status_type": "VARCHAR",
        "is_published": "BOOLEAN",
        "shares_count": "BIGINT <- $.shares.count",
        "reactions_total": "BIGINT <- $.reactions.summary.total_count",
        "comments_total": "BIGINT <- $.comments.summary.total_count",
    },
    description="Facebook Page published posts by UTC day of created_time, with their live counts "
    "(re-read for 28 days).",
)
POST_INSIGHTS = Stream(
    FACEBOOK,
    "post_insights",
    primary_key=("post_id", "snapshot_date", "name", "period"),
    cursor_field="snapshot_date",
    snapshot=True,
    disposition="replace_partition",
    per="pages",
    setting="post_metrics",
    reader="post_insights",
    params={"period": "lifetime"},
    **_INSIGHTS,
    columns={"post_id": "VARCHAR", "page_id": "VARCHAR", "snapshot_date": "DATE", **_INSIGHT_ITEM},
    description="Daily snapshot of lifetime post insights for posts younger than the lookback, one row "
    "per post and metric.",
)
PAGE_INSIGHTS = Stream(
    FACEBOOK,
    "page_insights",
    primary_key=("page_id", "date", "name", "period"),
    cursor_field="date",
    restatement_days=28,
    disposition="replace_partition",
    per="pages",
    setting="page_metrics",
    reader="page_insights",
    params={"period": "day"},
    **_INSIGHTS,
    columns={"page_id": "VARCHAR", "date": "DATE", "end_time": "TIMESTAMPTZ", "timezone": "VARCHAR", **_INSIGHT_ITEM},
    description="Facebook Page insights by Pacific day (period=day), one row per Page, day and metric.",
)
COMMENTS = Stream(
    FACEBOOK,
    "comments",
    primary_key=("id",),
    cursor_field="created_date",
    restatement_days=3,
    disposition="replace_partition",
    range_read=True,
    per="pages",
    **_listed(
        "comments",
        params={"filter": "stream", "order": "chronological", "summary": "true"},
        setting="comment_fields",
        reader="comments",
    ),
    columns={
        "id": "VARCHAR",
        "created_date": "DATE <- $.created_time",
        "created_time": "TIMESTAMPTZ",
        "parent_id": "VARCHAR <- $.parent.id",
        "from_id": "VARCHAR <- $.from.id",
        "message": "VARCHAR",
        "comment_count": "BIGINT",
        "like_count": "BIGINT",
        "is_hidden": "BOOLEAN",
    },
    description="Comments and replies (filter=stream, flat; replies carry parent.id) on posts younger than "
    "the lookback, by UTC day of created_time.",
)
FB_CONVERSATIONS = Stream(
    FACEBOOK,
    "conversations",
    primary_key=("id",),
    disposition="merge",
    per="pages",
    **_listed("conversations", params={"platform": "messenger"}, setting="conversation_fields"),
    columns={
        "id": "VARCHAR",
        "updated_time": "TIMESTAMPTZ",
        "message_count": "BIGINT",
        "snippet": "VARCHAR",
        "can_reply": "BOOLEAN",
        "participants": "JSON <- $.participants.data",
    },
    description="Messenger conversations of the Page (platform=messenger), most recently updated first.",
)
FB_MESSAGES = Stream(
    FACEBOOK,
    "messages",
    primary_key=("id",),
    cursor_field="created_date",
    restatement_days=1,
    disposition="replace_partition",
    range_read=True,
    per="pages",
    **_listed("conversations", params={"platform": "messenger"}, setting="message_fields", reader="messages"),
    columns={
        "id": "VARCHAR",
        "conversation_id": "VARCHAR",
        "created_date": "DATE <- $.created_time",
        "created_time": "TIMESTAMPTZ",
        "from_id": "VARCHAR <- $.from.id",
        "message": "VARCHAR",
    },
    description="Messenger messages by UTC day of created_time, with their conversation_id.",
)

IG_ACCOUNT_FOLLOWERS = Stream(
    INSTAGRAM,
    "account_followers",
    primary_key=("ig_user_id", "snapshot_date"),
    cursor_field="snapshot_date",
    snapshot=True,
    disposition="replace_partition",
    per="ig_users",
    setting="account_fields",
    **_NODE,
    columns={
        "ig_user_id": "VARCHAR <- $.id",
        "snapshot_date": "DATE",
        "username": "VARCHAR",
        "followers_count": "BIGINT",
        "follows_count": "BIGINT",
        "media_count": "BIGINT",
    },
    description="Daily snapshot of each Instagram account's followers_count (GET /{ig_user_id}).",
)
MEDIA = Stream(
    INSTAGRAM,
    "media",
    primary_key=("id",),
    cursor_field="posted_date",
    restatement_days=28,
    disposition="replace_partition",
    per="ig_users",
    **_listed("media", setting="media_fields", reader="created"),
    columns={
        "id": "VARCHAR",
        "ig_user_id": "VARCHAR <- $.owner.id",
        "posted_date": "DATE <- $.timestamp",
        "timestamp": "TIMESTAMPTZ",
        "media_type": "VARCHAR",
        "media_product_type": "VARCHAR",
        "caption": "VARCHAR",
        "permalink": "VARCHAR",
        "like_count": "BIGINT",
        "comments_count": "BIGINT",
    },
    description="Instagram feed posts and reels by UTC day of timestamp, with their live counts (re-read for 28 days).",
)
MEDIA_INSIGHTS = Stream(
    INSTAGRAM,
    "media_insights",
    primary_key=("media_id", "snapshot_date", "name", "period"),
    cursor_field="snapshot_date",
    snapshot=True,
    disposition="replace_partition",
    per="ig_users",
    setting="media_metrics",
    reader="media_insights",
    params={"period": "lifetime"},
    **_INSIGHTS,
    columns={
        "media_id": "VARCHAR",
        "ig_user_id": "VARCHAR",
        "media_product_type": "VARCHAR",
        "snapshot_date": "DATE",
        **_INSIGHT_ITEM,
        "total_value": "JSON",
    },
    description="Daily snapshot of lifetime media insights for media younger than the lookback (metrics "
    "chosen per media type), one row per media and metric.",
)
ACCOUNT_INSIGHTS = Stream(
    INSTAGRAM,
    "account_insights",
    primary_key=("ig_user_id", "date", "name", "metric_type"),
    cursor_field="date",
    restatement_days=28,
    disposition="replace_partition",
    per="ig_users",
    reader="account_insights",
    params={"period": "day"},
    **_INSIGHTS,
    columns={
        "ig_user_id": "VARCHAR",
        "date": "DATE",
        "metric_type": "VARCHAR",
        "end_time": "TIMESTAMPTZ",
        "timezone": "VARCHAR",
        **_INSIGHT_ITEM,
        "total_value": "JSON",
    },
    description="Instagram account insights by Pacific day: time series (reach, follower_count) and "
    "metric_type=total_value metrics, one row per account, day and metric.",
)
FOLLOWER_DEMOGRAPHICS = Stream(
    INSTAGRAM,
    "follower_demographics",
    primary_key=("ig_user_id", "snapshot_date", "breakdown", "dimension_value"),
    cursor_field="snapshot_date",
    snapshot=True,
    disposition="replace_partition",
    per="ig_users",
    setting="demographic_breakdowns",
    reader="demographics",
    params={"period": "lifetime", "metric_type": "total_value"},
    **_INSIGHTS,
    columns={
        "ig_user_id": "VARCHAR",
        "snapshot_date": "DATE",
        "breakdown": "VARCHAR",
        "dimension_value": "VARCHAR",
        "value": "BIGINT",
    },
    description="Daily snapshot of Instagram follower demographics (lifetime), one row per breakdown value.",
)
IG_CONVERSATIONS = Stream(
    INSTAGRAM,
    "conversations",
    primary_key=("id",),
    disposition="merge",
    per="pages",
    **_listed("conversations", params={"platform": "instagram"}, setting="conversation_fields"),
    columns=dict(FB_CONVERSATIONS.columns),
    description="Instagram Direct conversations of the account linked to the Page (platform=instagram).",
)
IG_MESSAGES = Stream(
    INSTAGRAM,
    "messages",
    primary_key=("id",),
    cursor_field="created_date",
    restatement_days=1,
    disposition="replace_partition",
    columns=dict(FB_MESSAGES.columns),
    range_read=True,
    per="pages",
    **_listed("conversations", params={"platform": "instagram"}, setting="message_fields", reader="messages"),
    description="Instagram Direct messages by UTC day of created_time, with their conversation_id.",
)

FACEBOOK_STREAMS = (PAGE_FOLLOWERS, POSTS, POST_INSIGHTS, PAGE_INSIGHTS, COMMENTS, FB_CONVERSATIONS, FB_MESSAGES)
INSTAGRAM_STREAMS = (
    IG_ACCOUNT_FOLLOWERS,
    MEDIA,
    MEDIA_INSIGHTS,
    ACCOUNT_INSIGHTS,
    FOLLOWER_DEMOGRAPHICS,
    IG_CONVERSATIONS,
    IG_MESSAGES,
)
STREAMS = FACEBOOK_STREAMS + INSTAGRAM_STREAMS
SNAPSHOT_STREAMS = (PAGE_FOLLOWERS, POST_INSIGHTS, IG_ACCOUNT_FOLLOWERS, MEDIA_INSIGHTS, FOLLOWER_DEMOGRAPHICS)


# -- errors and throttling: meta_ads's, in Graph words ---------------------------------------
class MetricRefused(FatalError):
    """The API refused a requested insights metric (retired, misspelt or not for this media type)."""


class NotEligible(FatalError):
    """Media without insights (posted before the business conversion, subcode 2108006)."""


def classify_graph_error(resp: requests.Response, url: str) -> ApiError | None:
    """`classify_meta_error`'s decision (retryable or not), re-worded for the Graph API: the
    token error names META_PAGE_TOKEN, a refused metric is a `MetricRefused`, and the
    platform's own message (with `error_user_msg` when given) is kept."""
    base = classify_meta_error(resp, url, source=PLATFORM, token_var=TOKEN_VAR)
    if base is None:
        return None
    try:
        err = resp.json().get("error") or {}
    except (ValueError, AttributeError):
        return base
    message = err.get("message") or resp.reason or ""
    if err.get("error_user_msg") and err["error_user_msg"] not in message:
        message = f"{message} ({err.get('error_user_title') or 'detail'}: {err['error_user_msg']})"
    code, subcode = err.get("code"), err.get("error_subcode")
    kw = dict(status=base.status, code=code, url=url, retry_after=base.retry_after)
    if isinstance(base, AuthError):  # worded once, in meta_ads.token_error, naming TOKEN_VAR
        return base
    if code == 100 and ("valid insights metric" in message or refused_metrics(message)):
        return MetricRefused(PLATFORM, message, **kw)
    if code == 100 and subcode == 2108006:
        return NotEligible(PLATFORM, message, **kw)
    if isinstance(base, PageTooLarge):
        return PageTooLarge(PLATFORM, message, **kw)
    return type(base)(PLATFORM, message, **kw)


# How Meta words a metric refused for a kind of media; each names the metric(s).
_REFUSED_WORDINGS = (
    r"does not support the ([\w, ]+?) metrics? for this media",  # "(#100) The Media Insights API does not
    # support the views, replies metric for ..."
    r"Incompatible metrics? \(([\w, ]+)\) with the media",  # airbytehq/airbyte#33989
    r"The metrics? ([\w, ]+?) (?:is|are) not supported for this media",
)


def refused_metrics(message: str) -> list[str]:
    """The metrics a Graph error says the media does not support (empty when it names none)."""
    for pattern in _REFUSED_WORDINGS:
        found = re.search(pattern, message)
        if found:
            return [m.strip() for m in found.group(1).split(",") if m.strip()]
    return []


def read_graph_throttle(resp: requests.Response, *, threshold_pct: float = 95.0) -> float:
    """`read_meta_throttle` (x-business-use-case-usage, regain time in minutes) plus the Graph
    API's `X-App-Usage` (percentages of the app's hourly budget)."""
    pause = read_meta_throttle(resp, threshold_pct=threshold_pct)
    try:
        app = json.loads(resp.headers.get("x-app-usage") or "{}")
        if (
            max((float(app.get(k, 0)) for k in ("call_count", "total_cputime", "total_time")), default=0)
            >= threshold_pct
        ):
            pause = max(pause, 60.0)
    except (ValueError, TypeError, AttributeError):
        log.warning("[%s] could not read X-App-Usage; not pausing", PLATFORM)
    return pause


# -- record helpers (the parsing the published-sample tests feed real bodies through) ---------
def utc_day_span_s(first: date, last: date) -> tuple[int, int]:
    """`since` and `until` of the UTC days `first`..`last`: Unix seconds of `first` 00:00 UTC
    and of the midnight after `last`."""
    lo, hi = utc_day_bounds(first, last)
    return epoch_s(lo), epoch_s(hi)


def parse_graph_time(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")


def day_of_end_time(end_time: str) -> date:
    """The Pacific day a day-metric value belongs to: `end_time` is the midnight that ends it."""
    return (parse_graph_time(end_time).astimezone(_PACIFIC) - timedelta(seconds=1)).date()


def readable_day(timestamp) -> str | None:
    """The UTC day of a Graph timestamp, or None when it cannot be read. A record whose day
    cannot be read is kept wherever a day filter applies, so it lands and the loader rejects
    it naming the field, instead of being dropped here unseen."""
    try:
        return parse_graph_time(str(timestamp)).astimezone(UTC).date().isoformat()
    except (TypeError, ValueError):
        return None


def day_in(timestamp, first: str, last: str) -> bool:
    day = readable_day(timestamp)
    return day is None or first <= day <= last


def before(timestamp, start: str) -> bool:
    day = readable_day(timestamp)
    return day is not None and day < start


def flatten_insights(
    body: Mapping,
    owner: Mapping[str, Any],
    *,
    day: date | None = None,
    snapshot_date: date | None = None,
    metric_type: str | None = None,
    period: str | None = None,
) -> list[dict]:
    """Metric-major insights (`data[{name, period, values[{value, end_time}], total_value, ...}]`)
    as one record per metric and value: the item's fields with `values` unrolled into `value`
    (and `end_time`), plus `owner` and the day. Values with an `end_time` get the Pacific
    `date` they belong to (only `day`'s are kept when `day` is given); a `total_value` item
    keeps its `total_value` and takes its number as `value`. With `period`, only the items of
    that period are kept: a metric asked without one comes back once per period it has (day,
    week, days_28), each with values on the same days, and would be counted three times."""
    body = body.get("insights", body) if isinstance(body, Mapping) else body
    out: list[dict] = []
    items = body.get("data") or []
    if period is not None:
        other = sorted({str(i.get("period")) for i in items if i.get("period") != period})
        if other:
            log.debug("[%s] left out insights of period %s (only %s is stored)", PLATFORM, ", ".join(other), period)
        items = [i for i in items if i.get("period") == period]
    for item in items:
        base = {k: v for k, v in item.items() if k not in ("values",)}
        extra: dict[str, Any] = {**owner}
        if snapshot_date is not None:
            extra["snapshot_date"] = snapshot_date.isoformat()
        if metric_type is not None:
            extra["metric_type"] = metric_type
        values = item.get("values")
        if values is None and "total_value" in item:
            rec = {**extra, **base, "value": (item.get("total_value") or {}).get("value")}
            if day is not None:
                rec.update(date=day.isoformat(), timezone=REPORTING_TZ)
            out.append(rec)
            continue
        for v in values or []:
            rec = {**extra, **base, "value": v.get("value")}
            if "end_time" in v:
                belongs = day_of_end_time(v["end_time"])
                if day is not None and belongs != day:
                    continue
                rec.update(end_time=v["end_time"], date=belongs.isoformat(), timezone=REPORTING_TZ)
            elif day is not None:
                rec.update(date=day.isoformat(), timezone=REPORTING_TZ)
            out.append(rec)
    return out


def flatten_demographics(body: Mapping, ig_user_id: str, snapshot_date: date) -> list[dict]:
    """`follower_demographics` (total_value.breakdowns[].results[]) as one record per value."""
    out = []
    for item in body.get("data") or []:
        for bd in (item.get("total_value") or {}).get("breakdowns") or []:
            keys = bd.get("dimension_keys") or []
            for res in bd.get("results") or []:
                out.append(
                    {
                        "ig_user_id": ig_user_id,
                        "snapshot_date": snapshot_date.isoformat(),
                        "name": item.get("name"),
                        "breakdown": ",".join(keys),
                        "dimension_value": ",".join(str(x) for x in res.get("dimension_values") or []),
                        "value": res.get("value"),
                    }
                )
    return out


def media_key(media: Mapping) -> str:
    """A media's kind as `media_metrics` names it: `MEDIA_TYPE/MEDIA_PRODUCT_TYPE`."""
    return f"{media.get('media_type')}/{media.get('media_product_type')}"


def metrics_for_media(table: Mapping[str, Sequence[str]], media: Mapping) -> tuple[str, tuple[str, ...]]:
    """(the key of `table` that applies, its metrics) for a media: its `TYPE/PRODUCT` key, else
    its product type's; ("", ()) when the table has neither."""
    for key in (media_key(media), str(media.get("media_product_type"))):
        if key in table:
            return key, tuple(table[key])
    return "", ()


def check_media_metrics(table: Mapping[str, Sequence[str]]) -> None:
    """Each key of `media_metrics` names a kind of media the API has: `TYPE/PRODUCT` or `PRODUCT`."""
    for key in table:
        kind, _, product = key.rpartition("/")
        if product not in MEDIA_PRODUCT_TYPES or (kind and kind not in MEDIA_TYPES):
            raise ValueError(
                f"{PLATFORM}: `media_metrics` of the meta_graph resource has the key {key!r}: keys are "
                f"MEDIA_TYPE/MEDIA_PRODUCT_TYPE (media types {', '.join(MEDIA_TYPES)}; product "
                f"types {', '.join(MEDIA_PRODUCT_TYPES)}), or a product type alone, e.g. IMAGE/FEED, "
                "VIDEO/REELS, STORY"
            )


# -- the client -------------------------------------------------------------------------------
class MetaGraphClient(SourceClient):
    """Facebook Pages and Instagram accounts through the Graph API. The token is swapped for
    each Page's own token (`GET /{page_id}?fields=access_token`) unless `swap_page_token` is off."""

    SOURCE = PLATFORM
    IDS = {
        "pages": ("page_ids", "Facebook Pages", "FACEBOOK_PAGE_IDS"),
        "ig_users": ("ig_user_ids", "Instagram accounts", "INSTAGRAM_USER_IDS"),
    }

    def __init__(
        self,
        base_url: str,
        access_token: str,
        *,
        page_ids: Sequence[str] = (),
        ig_user_ids: Sequence[str] = (),
        api_version: str = API_VERSION,
        post_fields: Sequence[str] = DEFAULT_POST_FIELDS,
        post_metrics: Sequence[str] = DEFAULT_POST_METRICS,
        page_metrics: Sequence[str] = DEFAULT_PAGE_METRICS,
        page_fields: Sequence[str] = DEFAULT_PAGE_FIELDS,
        comment_fields: Sequence[str] = DEFAULT_COMMENT_FIELDS,
        media_fields: Sequence[str] = DEFAULT_MEDIA_FIELDS,
        media_metrics: Mapping[str, Sequence[str]] | None = None,
        account_day_metrics: Sequence[str] = DEFAULT_ACCOUNT_DAY_METRICS,
        account_total_metrics: Sequence[str] = DEFAULT_ACCOUNT_TOTAL_METRICS,
        demographic_breakdowns: Sequence[str] = DEFAULT_DEMOGRAPHIC_BREAKDOWNS,
        account_fields: Sequence[str] = DEFAULT_ACCOUNT_FIELDS,
        conversation_fields: Sequence[str] = DEFAULT_CONVERSATION_FIELDS,
        message_fields: Sequence[str] = DEFAULT_MESSAGE_FIELDS,
        lookback_days: int = DEFAULT_LOOKBACK_DAYS,
        page_size: int = 100,
        swap_page_token: bool = True,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if not access_token:
            raise AuthError(PLATFORM, f"no access token: set {TOKEN_VAR}")
        super().__init__(STREAMS)
        self.page_ids = list(page_ids)
        self.ig_user_ids = list(ig_user_ids)
        self.version = api_version
        self.post_fields, self.post_metrics = tuple(post_fields), tuple(post_metrics)
        self.page_metrics, self.page_fields = tuple(page_metrics), tuple(page_fields)
        self.comment_fields, self.media_fields = tuple(comment_fields), tuple(media_fields)
        self.media_metrics = {k: tuple(v) for k, v in (media_metrics or DEFAULT_MEDIA_METRICS).items()}
        check_media_metrics(self.media_metrics)
        self.account_day_metrics = tuple(account_day_metrics)
        self.account_total_metrics = tuple(account_total_metrics)
        self.demographic_breakdowns = tuple(demographic_breakdowns)
        self.account_fields = tuple(account_fields)
        self.conversation_fields, self.message_fields = tuple(conversation_fields), tuple(message_fields)
        self.lookback_days, self.page_size = lookback_days, page_size
        self.swap_page_token = swap_page_token
        self._token, self._base_url, self._retry, self._sleep = access_token, base_url, retry, sleep
        self.http = self._core(access_token)
        self._page_http: dict[str, HttpCore] = {}

    def _core(self, token: str, *secrets: str) -> HttpCore:
        return self.http_core(
            self._base_url,
            headers={"Authorization": f"Bearer {token}"},
            secrets=(token, self._token, *secrets),
            retry=self._retry,
            classify_error=classify_graph_error,
            read_throttle=read_graph_throttle,
            sleep=self._sleep,
        )

    # -- plumbing ----------------------------------------------------------------------------
    def page_http(self, page_id: str) -> HttpCore:
        """The HTTP core holding the Page's own token (swapped once per client and Page)."""
        if not self.swap_page_token:
            return self.http
        if page_id not in self._page_http:
            body = self.http.get_json(f"{self.version}/{page_id}", params={"fields": "id,access_token"})
            token = body.get("access_token")
            if not token:
                log.warning(
                    "[%s] no Page token for %s (the token lacks pages_show_list?); using %s as is",
                    PLATFORM,
                    page_id,
                    TOKEN_VAR,
                )
                self._page_http[page_id] = self.http
            else:
                self._page_http[page_id] = self.http if token == self._token else self._core(token, token)
        return self._page_http[page_id]

    def http_for(self, stream: Stream, id: Any = None) -> HttpCore:
        """A Page's streams (Instagram Direct's too) are read with the Page's token."""
        return self.page_http(id) if stream.per == "pages" else self.http

    def request_params(self, stream: Stream, day: date | None) -> dict[str, Any]:
        """A page size for list edges, and the fields the stream's setting lists."""
        out: dict[str, Any] = {"limit": str(self.page_size)} if stream.paginator else {}
        if stream.setting.endswith("_fields"):
            out["fields"] = ",".join(getattr(self, stream.setting))
        return out

    def _insights(
        self, http: HttpCore, stream: Stream, obj: str, metrics: Sequence[str], setting: str, what: str, **params: str
    ) -> dict:
        """One insights call of `obj` (the stream's declared parameters, then `params`). A
        refused metric fails naming the platform, the metric(s) and the setting to change:
        Meta's error does not say which one, so each is tried alone."""
        path, params = self.path(stream, id=obj), {**stream.params, **params}
        try:
            return http.get_json(path, params={"metric": ",".join(metrics), **params})
        except MetricRefused as exc:
            refused = refused_metrics(str(exc)) or self._refused(http, path, metrics, params)
            hints = [
                f"{m} (Meta replaced it with {REPLACED_METRICS[m]})" if REPLACED_METRICS.get(m) else m
                for m in refused or metrics
            ]
            said = re.sub(r"^\[[^\]]*\] [^:]*: ", "", str(exc))
            raise MetricRefused(
                PLATFORM,
                f"the Meta Graph API refuses the {what} metric(s) {', '.join(hints)} "
                f"({said}). Remove or rename them in `{setting}` of the meta_graph resource "
                "configuration",
                status=exc.status,
                code=exc.code,
            ) from None

    @staticmethod
    def _refused(http: HttpCore, path: str, metrics: Sequence[str], params: Mapping[str, str]) -> list[str]:
        refused = []
        for m in metrics:
            try:
                http.get_json(path, params={"metric": m, **params})
            except MetricRefused:
                refused.append(m)
        return refused

    def _lookback(self, day: date) -> date:
        return day - timedelta(days=max(self.lookback_days, 1) - 1)

    # -- posts and media: one walk, by the UTC day of their own time -----------------------------
    def created_between(
        self, stream: Stream, owner: str, first: date, last: date, fields: Sequence[str]
    ) -> Iterator[list[dict]]:
        """Pages of `stream`'s records (a Page's posts, an account's media) created from `first`
        to `last` (UTC days, read from the stream's cursor field), newest first; a record
        served twice (a repeated page) is kept once."""
        since, until = utc_day_span_s(first, last)
        when, start, end = stream.cursor_source, first.isoformat(), last.isoformat()
        seen: set[str] = set()
        for page in self.walk(
            stream,
            id=owner,
            params={"limit": str(self.page_size), "fields": ",".join(fields), "since": str(since), "until": str(until)},
        ):
            keep = [r for r in page if r.get("id") not in seen and day_in(r.get(when), start, end)]
            seen.update(r.get("id") for r in keep)
            yield keep

    def read_created(self, stream: Stream, day: date) -> Iterator[list[dict]]:
        for owner in self.ids(stream):
            yield from self.created_between(stream, owner, day, day, getattr(self, stream.setting))

    def _posts_since(self, page_id: str, first: date, last: date) -> Iterator[list[dict]]:
        """The Page's posts of `first`..`last`: what post insights and comments are read for."""
        yield from self.created_between(self.stream(POSTS.key), page_id, first, last, ("id", "created_time"))

    # -- Facebook ------------------------------------------------------------------------------
    def read_post_insights(self, stream: Stream, day: date) -> Iterator[list[dict]]:
        for pid in self.ids(stream):
            http = self.page_http(pid)
            for posts in self._posts_since(pid, self._lookback(day), day):
                rows = []
                for post in posts:
                    if not post.get("id"):
                        continue  # landed with the posts stream, rejected there
                    body = self._insights(http, stream, post["id"], self.post_metrics, "post_metrics", "post insights")
                    rows += flatten_insights(body, {"post_id": post["id"], "page_id": pid}, snapshot_date=day)
                yield rows

    def read_page_insights(self, stream: Stream, day: date) -> Iterator[list[dict]]:
        """One call per Page and day, asking `period=day` (without it a metric comes back once
        per period it has: day, week, days_28). Only `day` entries are kept whatever comes
        back, so a daily figure is never stored three times. `paging.next` of the insights
        edge is the next time window, not more of this one: it is not followed."""
        for pid in self.ids(stream):
            body = self._insights(
                self.page_http(pid),
                stream,
                pid,
                self.page_metrics,
                "page_metrics",
                "Page insights",
                since=day.isoformat(),
                until=(day + timedelta(days=1)).isoformat(),
            )
            yield flatten_insights(body, {"page_id": pid}, day=day, period="day")

    def _comments_of(
        self, stream: Stream, http: HttpCore, post_id: str, first: date, last: date
    ) -> Iterator[list[dict]]:
        """Comments and replies of a post written `first`..`last`, asked with time-based paging."""
        since, until = utc_day_span_s(first, last)
        yield from self.walk(
            stream,
            id=post_id,
            http=http,
            params={
                "limit": str(self.page_size),
                "since": str(since),
                "until": str(until),
                "fields": ",".join(self.comment_fields),
            },
        )

    def read_comments(self, stream: Stream, day: date) -> Iterator[list[dict]]:
        """Comments and replies written on `day` under the Page's posts from the lookback,
        asked for with time-based paging (`since`/`until` of the day): one short read per post,
        whether the day is yesterday or a year back in a backfill."""
        start = day.isoformat()
        for pid in self.ids(stream):
            http = self.page_http(pid)
            for posts in self._posts_since(pid, self._lookback(day), day):
                for post in (p for p in posts if p.get("id")):
                    for page in self._comments_of(stream, http, post["id"], day, day):
                        yield [c for c in page if day_in(c.get("created_time"), start, start)]

    def range_comments(self, stream: Stream, days: Sequence[date]) -> Iterator[tuple[date, list[dict]]]:
        """Comments of a range of days: one read per post (not one per post and day), asking
        for the days on which the post is inside a day's lookback: a comment lands on day D
        exactly when the one-day read of D would return it. One whose time cannot be read goes
        to the last day the post's read covers."""
        wanted = {d.isoformat(): d for d in days}
        first, last = min(days), max(days)
        span = timedelta(days=max(self.lookback_days, 1) - 1)
        for pid in self.ids(stream):
            http = self.page_http(pid)
            for posts in self._posts_since(pid, self._lookback(first), last):
                for post in (p for p in posts if p.get("id")):
                    posted = readable_day(post.get("created_time"))
                    lo = max(first, date.fromisoformat(posted)) if posted else first
                    hi = min(last, date.fromisoformat(posted) + span) if posted else last
                    if lo > hi:
                        continue
                    for page in self._comments_of(stream, http, post["id"], lo, hi):
                        yield from group_by_day(page, lambda c, lo=lo, hi=hi: _comment_day(c, lo, hi, wanted))

    def read_messages(self, stream: Stream, day: date) -> Iterator[list[dict]]:
        """Messages sent on `day` (UTC), a conversation's at a time."""
        yield from self._message_walk(stream, day, day)

    def _message_walk(self, stream: Stream, first: date, last: date) -> Iterator[list[dict]]:
        """Messages sent from `first` to `last` (UTC days). Conversations come most recently
        updated first, each with its newest messages inline (`messages.limit(n){...}`), so the
        walk stops at the first conversation last updated before `first`; a conversation's
        older messages are paged from `/{conversation_id}/messages` (newest first) only while
        they still reach `first`. The conversations edge has no time filter (Meta: "time-based
        pagination is not available"), so each walk starts from the newest conversation: a
        range of days is read in one walk (`pages_for_days`), not one walk a day."""
        start, end = first.isoformat(), last.isoformat()
        fields = ",".join(self.message_fields)

        def in_range(conv_id, msgs):
            return [{**m, "conversation_id": conv_id} for m in msgs if day_in(m.get("created_time"), start, end)]

        older = lambda msgs: any(before(m.get("created_time"), start) for m in msgs)  # noqa: E731
        for pid in self.ids(stream):
            http = self.page_http(pid)
            done: set[str] = set()
            for convs in self.walk(
                stream,
                id=pid,
                http=http,
                params={
                    "limit": str(self.page_size),
                    "fields": f"id,updated_time,messages.limit({self.page_size}){{{fields}}}",
                },
            ):
                for conv in convs:
                    if not conv.get("id"):
                        continue  # landed with the conversations stream, rejected there
                    if conv["id"] in done or before(conv.get("updated_time"), start):
                        continue
                    done.add(conv["id"])
                    inline = conv.get("messages") or {}
                    yield in_range(conv["id"], inline.get("data") or [])
                    after = _get(inline, "paging.cursors.after")
                    if older(inline.get("data") or []) or not _get(inline, "paging.next") or not after:
                        continue
                    for page in http.paginate(
                        f"{self.version}/{conv['id']}/messages",
                        GraphCursorPaginator(),
                        params={"limit": str(self.page_size), "fields": fields, "after": after},
                    ):
                        yield in_range(conv["id"], page)
                        if older(page):
                            break
                if any(before(c.get("updated_time"), start) for c in convs):
                    break

    def range_messages(self, stream: Stream, days: Sequence[date]) -> Iterator[tuple[date, list[dict]]]:
        """Facebook and Instagram messages of a range of days, read in one walk of the
        conversations (a message whose time cannot be read is given the range's last day: it
        lands, and the loader rejects it naming the field)."""
        wanted = {d.isoformat(): d for d in days}
        last = max(days)
        for page in self._message_walk(stream, min(days), last):
            # None: a day inside the range the caller did not ask for
            yield from group_by_day(page, lambda m: _day_or(readable_day(m.get("created_time")), wanted, last))

    # -- Instagram -----------------------------------------------------------------------------
    def read_media_insights(self, stream: Stream, day: date) -> Iterator[list[dict]]:
        media_stream = self.stream(MEDIA.key)
        for uid in self.ids(stream):
            for media in self.created_between(
                media_stream, uid, self._lookback(day), day, ("id", "media_type", "media_product_type", "timestamp")
            ):
                rows = []
                for m in (m for m in media if m.get("id")):
                    key, metrics = metrics_for_media(self.media_metrics, m)
                    if not metrics:
                        log.warning("[%s] no media_metrics for %s media (%s): skipped", PLATFORM, media_key(m), m["id"])
                        continue
                    try:
                        body = self._insights(
                            self.http, stream, m["id"], metrics, f"media_metrics[{key!r}]", f"{key} media insights"
                        )
                    except NotEligible as exc:
                        log.warning("[%s] media %s has no insights: %s", PLATFORM, m["id"], exc)
                        continue
                    rows += flatten_insights(
                        body,
                        {"media_id": m["id"], "ig_user_id": uid, "media_product_type": m.get("media_product_type")},
                        snapshot_date=day,
                    )
                yield rows

    def read_account_insights(self, stream: Stream, day: date) -> Iterator[list[dict]]:
        window = {"since": day.isoformat(), "until": (day + timedelta(days=1)).isoformat()}
        for uid in self.ids(stream):
            rows = []
            if self.account_day_metrics:
                body = self._insights(
                    self.http,
                    stream,
                    uid,
                    self.account_day_metrics,
                    "account_day_metrics",
                    "Instagram account insights",
                    **window,
                )
                rows += flatten_insights(body, {"ig_user_id": uid}, day=day, metric_type="time_series")
            if self.account_total_metrics:
                body = self._insights(
                    self.http,
                    stream,
                    uid,
                    self.account_total_metrics,
                    "account_total_metrics",
                    "Instagram account insights",
                    metric_type="total_value",
                    **window,
                )
                rows += flatten_insights(body, {"ig_user_id": uid}, day=day, metric_type="total_value")
            yield rows

    def read_demographics(self, stream: Stream, day: date) -> Iterator[list[dict]]:
        for uid in self.ids(stream):
            rows = []
            for breakdown in self.demographic_breakdowns:
                body = self._insights(
                    self.http,
                    stream,
                    uid,
                    ("follower_demographics",),
                    "demographic_breakdowns",
                    "follower demographics",
                    breakdown=breakdown,
                )
                rows += flatten_demographics(body, uid, day)
            yield rows


def _day_or(readable: str | None, wanted: Mapping[str, date], fallback: date) -> date | None:
    """The asked day a record belongs to: `fallback` when its time cannot be read, None when it
    is a day that was not asked for."""
    return fallback if readable is None else wanted.get(readable)


def _comment_day(comment: Mapping, lo: date, hi: date, wanted: Mapping[str, date]) -> date | None:
    """The day a comment of a post's read over `lo`..`hi` lands on (None: not one of them)."""
    written = readable_day(comment.get("created_time"))
    if written is not None and not lo.isoformat() <= written <= hi.isoformat():
        return None
    return _day_or(written, wanted, hi)
