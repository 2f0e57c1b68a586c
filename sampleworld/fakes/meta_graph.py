"""A fake of the Meta Graph API for Facebook Pages and Instagram business accounts, in the
real request and response shapes (docs/source-apis.md section 1), serving the sample world's
`facebook/` and `instagram/` folders.

Facebook Page (`{page_id}`, `{post_id}` = `{page_id}_{n}`):
- `GET /v23.0/{page_id}?fields=followers_count,fan_count,name,access_token` (a Page token swap
  returns this fake's token).
- `GET /v23.0/{page_id}/published_posts` (`posts`, `feed` alike): newest first, `since`/`until`
  (unix or date) on `created_time`, `limit` (<= 100), cursor paging (`paging.cursors`, `next`
  only while more remain, `previous` after the first page). Fields: id, created_time,
  updated_time, message (absent when the post has none), permalink_url, status_type,
  full_picture, is_published, from, shares (absent when 0),
  `reactions.summary(total_count).limit(0)`, `comments.summary(total_count).limit(0)`.
- `GET /v23.0/{post_id}` (same fields) and `/{post_id}/insights?metric=...&period=lifetime`:
  post_reactions_by_type_total (object), post_clicks, post_clicks_by_type (object),
  post_media_view, post_total_media_view_unique. `values:[{value}]`, no end_time.
- `GET /v23.0/{page_id}/insights?metric=...[&period=day|week|days_28]&since=&until=`:
  page_follows, page_daily_follows_unique, page_daily_unfollows_unique, page_media_view,
  page_post_engagements. Without `period`, one entry per period the metric has (PAGE_PERIODS:
  day, week, days_28 for the views and engagements, whose week and days_28 are the sums of
  the 7 and 28 days ending on the value's day; day only for page_follows, a running total, and
  the daily follow counts), ids `{page_id}/insights/{metric}/{period}`, as the published sample
  answers; with `period`, that period only (a metric without it is left out); a value outside
  Meta's enum fails with code 100. `end_time` is the end of the Pacific day; at most 90 days
  a request; `paging.previous/next` always (the next window), as the Graph API does.
- `GET /v23.0/{post_id}/comments?filter=stream|toplevel&order=chronological|reverse_chronological
  &summary=true&fields=id,message,created_time,from{id,name},parent{id},comment_count,like_count,
  permalink_url`: a flat list with `filter=stream` (replies carry `parent.id`, the brand's
  replies `from.id == page_id`), `summary{order,total_count,can_comment}`.

Instagram (`{ig_user_id}`, `{media_id}`, `{comment_id}`):
- `GET /v23.0/{ig_user_id}?fields=id,username,name,followers_count,media_count`.
- `GET /v23.0/{ig_user_id}/media` (feed posts and reels, newest first; stories are not listed
  there) and `/{ig_user_id}/stories` (stories of the last 24 hours only). Fields: id, caption
  (absent when none), media_type, media_product_type, timestamp, permalink, shortcode,
  like_count, comments_count, media_url, thumbnail_url, username, owner, is_comment_enabled,
  children{...} (carousels).
- `GET /v23.0/{media_id}/insights?metric=reach,saved,likes,comments,shares,total_interactions,
  views,replies,profile_activity[&breakdown=action_type]`: lifetime. Each media type and
  product type (IMAGE, VIDEO, CAROUSEL_ALBUM x FEED, REELS, STORY) supports its own metrics
  (MEDIA_SUPPORTED: e.g. no `views` on a carousel, no `shares` on an image post, only reach
  and saved on a feed video); asking one it lacks fails the whole request with `(#100) The
  Media Insights API does not support the {metrics} metric for this media product type.`,
  naming every refused one.
- `GET /v23.0/{ig_user_id}/insights?metric=reach,follower_count&period=day&since=&until=`
  (values with end_time, at most 30 days), `metric_type=total_value` for reach, views,
  accounts_engaged, total_interactions (reach takes `breakdown=media_product_type,follow_type`),
  and `metric=follower_demographics&period=lifetime&metric_type=total_value&breakdown=country|age|gender`.
- `GET /v23.0/{media_id}/comments` (top-level comments; `replies{...}` as a field) and
  `/{comment_id}/replies` (with `parent_id`; the brand's `from.id == ig_user_id`).

Direct messages (the care inbox, `inbox/` of the world, optional: without it the fake serves
no conversations):
- `GET /v23.0/{page_id}/conversations?platform=messenger|instagram&user_id=&fields=id,updated_time,
  message_count,participants,senders,snippet,can_reply,messages{id,message,from,to,created_time}
  &limit=`: the Page's conversations (Instagram ones: those of the account linked to the Page),
  most recently updated first, cursor paging as above. Default fields id, updated_time.
  `participants` / `senders`: `{"data": [customer, page]}`, Messenger `{name, email, id}`,
  Instagram `{username, id}`. `can_reply`: the customer wrote within the last 24 hours.
  Nested `messages{...}` (`messages.limit(n){...}`, default 25) are newest first, with
  `paging.cursors` and a `next` to `/{conversation_id}/messages` only while more remain.
- `GET /v23.0/{conversation_id}?fields=...` (same fields) and
  `GET /v23.0/{conversation_id}/messages?fields=id,message,from,to,created_time&limit=`
  (newest first; default fields id, created_time); `GET /v23.0/{message_id}`.
  Conversation ids are `conv_<hex>` (the CSAT survey's `conversation_id`), message ids
  `m_...` (Messenger) and `aWdf...` (Instagram).

Everywhere: token as `access_token` or Bearer (bad -> code 190, none -> code 104); retired or
unknown metric -> HTTP 400 code 100 `(#100) The value must be a valid insights metric`, failing
the whole request (`FaultConfig.retired_metrics` too); `X-App-Usage` and
`X-Business-Use-Case-Usage` on every response; transient faults as Graph error bodies (code 2;
code 4 or 32 on HTTP 400 with `is_transient`, without Retry-After, as Meta sends them).

Lifetime metrics are served as of the world's `as_of` (growth curve of the generator) and,
for posts younger than 28 days, restated with `self.epoch` (sampleworld/restatement.py).
Page/account day metrics that are flows (views, reach, engagements) are restated the same
way. Counts in object fields (reactions, likes) are real-time: grown, not restated.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import itertools
import json
import re
import threading
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode

from sampleworld import restatement
from sampleworld.fakes.base import App, Request, Response
from sampleworld.gen.facebook import midnight_utc, pacific_day_end, parse_ts, value_at
from sampleworld.gen.inbox import conversation_of_message

NAME = "meta_graph"
DOMAINS = ("facebook", "instagram")
VERSION = "v23.0"
DEFAULT_TOKEN = "sample-meta-page-token"
WINDOW = restatement.WINDOWS["meta"]
MAX_LIMIT = 100

# Retired by Meta: always refused, whatever the FaultConfig says.
ALWAYS_RETIRED = frozenset(
    {
        "post_impressions",
        "page_impressions",
        "page_fans",
        "page_engaged_users",
        "post_engaged_users",
        "impressions",
        "plays",
        "video_views",
        "post_impressions_unique",
        "page_impressions_unique",
    }
)
INVALID_METRIC = "(#100) The value must be a valid insights metric"

POST_METRICS = {
    "post_reactions_by_type_total": (
        "Lifetime Total post Reactions by Type.",
        "Lifetime: Total post reactions by type.",
    ),
    "post_clicks": (
        "Lifetime Post Clicks",
        "Lifetime: The number of times people clicked on anywhere in your posts without generating an activity.",
    ),
    "post_clicks_by_type": (
        "Lifetime Post Clicks by Type",
        "Lifetime: The number of clicks anywhere in the post, by type.",
    ),
    "post_media_view": ("Lifetime Post Media Views", "Lifetime: The number of times your post was on screen."),
    "post_total_media_view_unique": (
        "Lifetime Post Total Media Viewers",
        "Lifetime: The number of people who saw your post at least once.",
    ),
}
PAGE_METRICS = {
    "page_follows": ("Page Follows", "Daily: The total number of people who follow your Page."),
    "page_daily_follows_unique": ("Daily New Follows", "Daily: The number of new follows of your Page."),
    "page_daily_unfollows_unique": ("Daily Unfollows", "Daily: The number of unfollows of your Page."),
    "page_media_view": ("Daily Page Media Views", "Daily: The number of times your Page's content was on screen."),
    "page_post_engagements": (
        "Daily Post Engagements",
        "Daily: The number of times people have engaged with your posts through reactions, comments, shares and more.",
    ),
}
RESTATED_PAGE = {"page_media_view", "page_post_engagements"}
# `period` of Page insights: the values Meta's parameter takes (any other is refused with code
# 100 and Meta's words, "period[0] must be one of the following values: ..."), and the days
# each aggregate spans.
PERIODS = ("day", "week", "days_28", "month", "lifetime", "total_over_range")
PERIOD_DAYS = {"day": 1, "week": 7, "days_28": 28}
PERIOD_WORD = {"day": "Daily", "week": "Weekly", "days_28": "28 Days"}
# The periods each Page metric is served for. Without `period` the edge answers one entry per
# period here (day, week, days_28 in that order, as the published sample does); with one, only
# the metrics that have it. Flows that add up over days (views, post engagements) have all
# three: week is the sum of the 7 days ending on the value's day, days_28 of the 28.
# page_follows is a running total (a lifetime count): summing it over days means nothing, so it
# is served for `day` only, and so are the page_daily_* follow counts, which Meta names and
# describes as daily. (Meta's metric table could not be read from the stored copies; this is
# the reading of its names and descriptions.)
PAGE_PERIODS = {
    "page_follows": ("day",),
    "page_daily_follows_unique": ("day",),
    "page_daily_unfollows_unique": ("day",),
    "page_media_view": ("day", "week", "days_28"),
    "page_post_engagements": ("day", "week", "days_28"),
}
MEDIA_METRICS = {
    "reach": ("Accounts reached", "The number of unique accounts that have seen your media, at least once."),
    "views": ("Views", "The number of times your media was played or displayed."),
    "likes": ("Likes", "The number of likes on your media."),
    "comments": ("Comments", "The number of comments on your media."),
    "saved": ("Saved", "The number of saves of your media."),
    "shares": ("Shares", "The number of shares of your media."),
    "replies": ("Replies", "The number of replies to your story."),
    "total_interactions": (
        "Interactions",
        "The number of likes, saves, comments and shares on your media, minus unlikes, unsaves and deleted comments.",
    ),
    "profile_activity": (
        "Profile activity",
        "The number of actions people take when they engage with your profile after engaging with this media.",
    ),
}
# Media insights metrics each kind of media supports, by (media_type, media_product_type); any
# other metric fails the whole request with `(#100) The Media Insights API does not support the
# {metrics} metric for this media product type.` (every refused one named, comma-separated).
# Meta's reference gives the product types per metric (likes, comments, saved: FEED and REELS;
# replies: STORY; profile_activity: FEED; views since v22: FEED, REELS, STORY); the reports
# below narrow it where the API refuses more than the reference says:
# - CAROUSEL_ALBUM: `views` refused (Airbyte reverted `views` for it, airbytehq/airbyte#62902);
# - VIDEO/FEED (feed videos from before every video became a reel): total_interactions, likes
#   and comments refused ("Incompatible metric", airbytehq/airbyte#33989: Airbyte asks reach
#   and saved only), and `views` (#62902's failing request was reach,saved,views);
# - IMAGE/FEED: `shares` refused for image posts (exileum/meta-mcp#120); the stricter reading
#   is served, so a client must leave it out.
# `impressions`, `plays` and `video_views` are gone for every media (ALWAYS_RETIRED).
_STORY = frozenset({"reach", "views", "replies", "shares", "total_interactions"})
MEDIA_SUPPORTED = {
    ("IMAGE", "FEED"): frozenset(
        {"reach", "views", "likes", "comments", "saved", "total_interactions", "profile_activity"}
    ),
    ("CAROUSEL_ALBUM", "FEED"): frozenset(
        {"reach", "likes", "comments", "saved", "shares", "total_interactions", "profile_activity"}
    ),
    ("VIDEO", "FEED"): frozenset({"reach", "saved"}),
    ("VIDEO", "REELS"): frozenset({"reach", "views", "likes", "comments", "saved", "shares", "total_interactions"}),
    ("IMAGE", "STORY"): _STORY,
    ("VIDEO", "STORY"): _STORY,
}
USER_DAY = {
    "reach": ("Accounts reached", "The number of unique accounts that have seen your content, at least once."),
    "follower_count": ("Follower count", "Total number of new followers each day."),
}
USER_TOTAL_ONLY = {
    "views": ("Views", "The number of times your content was played or displayed."),
    "accounts_engaged": ("Accounts engaged", "The number of accounts that have interacted with your content."),
    "total_interactions": (
        "Content interactions",
        "The total number of post interactions, story interactions, reels interactions, video interactions and live video interactions.",
    ),
}
RESTATED_USER = {"reach", "views", "accounts_engaged", "total_interactions"}
DEMOGRAPHICS = (
    "Follower demographics",
    "The demographic characteristics of followers, including countries, cities and gender distribution.",
)
REACH_PRODUCT = (("POST", 0.45), ("REEL", 0.35), ("STORY", 0.12), ("CAROUSEL_CONTAINER", 0.08))
REACH_FOLLOW = (("FOLLOWER", 0.4), ("NON_FOLLOWER", 0.6))

POST_FIELDS = {
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
    "reactions",
    "comments",
}
POST_DEFAULT = ["created_time", "message", "id"]
FB_COMMENT_FIELDS = {
    "id",
    "message",
    "created_time",
    "from",
    "parent",
    "comment_count",
    "like_count",
    "permalink_url",
    "can_comment",
    "is_hidden",
}
FB_COMMENT_DEFAULT = ["created_time", "from", "message", "id"]
MEDIA_FIELDS = {
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
    "children",
}
CHILD_FIELDS = {"id", "media_type", "media_url", "permalink", "shortcode", "thumbnail_url", "timestamp"}
IG_COMMENT_FIELDS = {
    "id",
    "text",
    "timestamp",
    "username",
    "from",
    "like_count",
    "parent_id",
    "hidden",
    "media",
    "replies",
}
IG_COMMENT_DEFAULT = ["timestamp", "text", "id"]
PAGE_FIELDS = {"id", "name", "followers_count", "fan_count", "access_token", "link", "category", "username"}
CONVERSATION_FIELDS = {
    "id",
    "updated_time",
    "message_count",
    "participants",
    "senders",
    "snippet",
    "can_reply",
    "messages",
}
CONVERSATION_DEFAULT = ["id", "updated_time"]
MESSAGE_FIELDS = {"id", "created_time", "message", "from", "to"}
MESSAGE_DEFAULT = ["id", "created_time"]
DM_PLATFORMS = ("messenger", "instagram")
# Graph object ids in a path: numeric (Pages, posts, media, comments), conversations, messages.
OBJECT_ID = r"[0-9_]+|conv_[0-9a-f]+|m_[A-Za-z0-9_-]+|aWdf[A-Za-z0-9_-]+"
# The bad-record fault, per list: (key field, typed field) of `App.inject_bad`. The key is the
# record's `id` (the raw tables' primary key); the typed field is one the raw table casts (to
# TIMESTAMPTZ, BIGINT) and that the extractor does not filter on, so the malformed copy reaches
# the loader and is rejected there. Messages are left out: their only typed field is
# `created_time`, the day the extractor keeps them by (a bad one is dropped before loading).
BAD_RECORD = {
    "post": ("id", "updated_time"),
    "comment": ("id", "like_count"),
    "conversation": ("id", "message_count"),
    "media": ("id", "like_count"),
}
IG_USER_FIELDS = {
    "id",
    "username",
    "name",
    "followers_count",
    "follows_count",
    "media_count",
    "biography",
    "profile_picture_url",
    "website",
}


class GraphError(Exception):
    def __init__(self, status: int, message: str, code: int, subcode: int | None = None, **extra):
        super().__init__(message)
        self.status, self.message, self.code, self.subcode, self.extra = status, message, code, subcode, extra


def _fbtrace(seed: str) -> str:
    return "A" + base64.b64encode(hashlib.sha256(seed.encode()).digest()[:16]).decode().rstrip("=")[:22]


def error_body(message: str, code: int, subcode: int | None = None, trace_seed: str = "", **extra) -> dict:
    err: dict = {"message": message, "type": "OAuthException", "code": code}
    if subcode is not None:
        err["error_subcode"] = subcode
    err.update(extra)
    err["fbtrace_id"] = _fbtrace(f"{message}:{trace_seed}")
    return {"error": err}


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _offset(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        return max(0, int(raw.split(":", 1)[1]))
    except (ValueError, IndexError):
        raise GraphError(400, "(#100) Invalid cursor", 100) from None


# -- field specs: fields=id,from{id,name},reactions.summary(total_count).limit(0) -------------
def parse_fields(spec: str | None) -> list[tuple[str, str, str | None]]:
    """[(name, modifiers, subfields)]; subfields is the text inside `{...}` or None."""
    if not spec:
        return []
    items, depth, cur = [], 0, ""
    for ch in spec:
        if ch in "({":
            depth += 1
        elif ch in ")}":
            depth -= 1
        if ch == "," and depth == 0:
            items.append(cur)
            cur = ""
        else:
            cur += ch
    items.append(cur)
    out = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        m = re.match(r"[A-Za-z_]+", item)
        if not m:
            raise GraphError(400, f'(#100) Syntax error "Expected end of string instead of "{item[:1]}"."', 100)
        name, rest = m.group(0), item[m.end() :]
        sub = None
        if rest.startswith("{") and rest.endswith("}"):
            sub, rest = rest[1:-1], ""
        out.append((name, rest, sub))
    return out


def select(full: dict, specs, allowed: set[str], node_type: str, default: list[str], nested=None) -> dict:
    """The record as the API writes it for these field specs (fields it lacks stay absent)."""
    specs = specs or [(f, "", None) for f in default]
    out = {}
    for name, _mods, sub in specs:
        if name not in allowed:
            raise GraphError(400, f"(#100) Tried accessing nonexisting field ({name}) on node type ({node_type})", 100)
        if nested and name in nested:
            value = nested[name](sub)
            if value is not None:
                out[name] = value
            continue
        if name not in full:
            continue
        value = full[name]
        if sub and isinstance(value, dict):
            keys = [n for n, _, _ in parse_fields(sub)]
            value = {k: value[k] for k in keys if k in value}
        out[name] = value
    return out


def _split(total: int, weights) -> list[int]:
    s = sum(weights)
    raw = [total * w / s for w in weights]
    out = [int(x) for x in raw]
    for i in sorted(range(len(raw)), key=lambda i: (out[i] - raw[i], i))[: total - sum(out)]:
        out[i] += 1
    return out


def _read_blocks(path: Path, key: str) -> dict[str, tuple[int, int, int]]:
    """Byte ranges of each owner's block of lines in a grouped JSON-lines file:
    {owner id: (offset, length, lines)}. Scans once; the lines are parsed when served."""
    prefix = f'{{"{key}":"'.encode()
    blocks: dict[str, tuple[int, int, int]] = {}
    cur, start, n, off = None, 0, 0, 0
    if not path.exists():
        return blocks
    with open(path, "rb") as f:
        for line in f:
            if line.startswith(prefix):
                owner = line[len(prefix) : line.index(b'"', len(prefix))].decode()
            else:
                owner = json.loads(line)[key]
            if owner != cur:
                if cur is not None:
                    blocks[cur] = (start, off - start, n)
                cur, start, n = owner, off, 0
            n += 1
            off += len(line)
    if cur is not None:
        blocks[cur] = (start, off - start, n)
    return blocks


def _since_until(req: Request, default_days: int, max_days: int, as_of: date) -> tuple[date, date]:
    """Days served: since <= day < until. Unix seconds or YYYY-MM-DD (unix read on UTC)."""

    def parse(v: str | None) -> date | None:
        if v in (None, ""):
            return None
        if re.fullmatch(r"\d+", v):
            return datetime.fromtimestamp(int(v), UTC).date()
        try:
            return date.fromisoformat(v[:10])
        except ValueError:
            raise GraphError(400, f"(#100) The parameter since/until is not a valid date: {v}", 100) from None

    since, until = parse(req.param("since")), parse(req.param("until"))
    if until is None:
        until = as_of if since is None else min(as_of, since + timedelta(days=default_days))
    if since is None:
        since = until - timedelta(days=default_days)
    if (until - since).days > max_days:
        raise GraphError(
            400, f"(#100) There cannot be more than {max_days} days ({max_days * 86400} s) between since and until", 100
        )
    return since, until


def _unix(d: date) -> int:
    return int(midnight_utc(d).timestamp())


class MetaGraphApp(App):
    name = NAME

    def __init__(
        self, world_dir: Path, token: str = DEFAULT_TOKEN, as_of: date | None = None, business_since: str | None = None
    ):
        world = Path(world_dir)
        self.token = token
        # Media posted before the account became a business account has no insights
        # (code 100, subcode 2108006). Off unless set: the sample accounts were always business.
        self.business_since = business_since
        truths_path = world / "truths.json"
        truths = json.loads(truths_path.read_text()) if truths_path.exists() else {}
        self.as_of = as_of or date.fromisoformat(truths.get("spec", {}).get("as_of", "2100-01-01"))
        self.now = midnight_utc(self.as_of)
        self._lock = threading.Lock()
        self._calls = itertools.count(1)
        self.calls: dict[str, int] = defaultdict(int)
        fb, ig = world / "facebook", world / "instagram"
        # -- Facebook -----------------------------------------------------------------
        self.pages = (
            {p["page_id"]: p for p in json.loads((fb / "pages.json").read_text())}
            if (fb / "pages.json").exists()
            else {}
        )
        self.posts: dict[str, dict] = {}
        self.posts_by_page: dict[str, list[dict]] = {pid: [] for pid in self.pages}
        for post in _jsonl(fb / "posts.jsonl"):
            post["_at"] = parse_ts(post["created_time"])
            self.posts[post["id"]] = post
            self.posts_by_page[post["page_id"]].append(post)
        for rows in self.posts_by_page.values():
            rows.sort(key=lambda p: (p["created_time"], p["id"]), reverse=True)
        self.page_days: dict[str, dict[str, dict]] = defaultdict(dict)
        for row in _jsonl(fb / "page_insights.jsonl"):
            self.page_days[row["page_id"]][row["date"]] = row
        self._fb_comments_path = fb / "comments.jsonl"
        self._fb_blocks = _read_blocks(self._fb_comments_path, "post_id")
        # -- Instagram ----------------------------------------------------------------
        self.ig_users = (
            {a["ig_user_id"]: a for a in json.loads((ig / "accounts.json").read_text())}
            if (ig / "accounts.json").exists()
            else {}
        )
        self.media: dict[str, dict] = {}
        self.media_by_user: dict[str, list[dict]] = {u: [] for u in self.ig_users}
        self.stories_by_user: dict[str, list[dict]] = {u: [] for u in self.ig_users}
        ranges = []
        for m in _jsonl(ig / "media.jsonl"):
            m["_at"] = parse_ts(m["timestamp"])
            self.media[m["id"]] = m
            (self.stories_by_user if m["media_product_type"] == "STORY" else self.media_by_user)[
                m["ig_user_id"]
            ].append(m)
            if m.get("comment_ids"):
                ranges.append((int(m["comment_ids"][0]), int(m["comment_ids"][1]), m["id"]))
        for rows in (*self.media_by_user.values(), *self.stories_by_user.values()):
            rows.sort(key=lambda m: (m["timestamp"], m["id"]), reverse=True)
        ranges.sort()
        self._ig_range_starts = [r[0] for r in ranges]
        self._ig_ranges = ranges
        self.ig_days: dict[str, dict[str, dict]] = defaultdict(dict)
        for row in _jsonl(ig / "account_insights.jsonl"):
            self.ig_days[row["ig_user_id"]][row["date"]] = row
        self.demographics: dict[str, dict[str, list[tuple[str, int]]]] = defaultdict(lambda: defaultdict(list))
        for row in _jsonl(ig / "demographics.jsonl"):
            self.demographics[row["ig_user_id"]][row["dimension"]].append((row["value"], row["followers"]))
        self._ig_comments_path = ig / "comments.jsonl"
        self._ig_blocks = _read_blocks(self._ig_comments_path, "media_id")
        # -- Direct messages (optional folder) -----------------------------------------------
        dm = world / "inbox"
        self.conversations: dict[str, dict] = {}
        self.conversations_by: dict[tuple[str, str], list[dict]] = defaultdict(list)
        for c in _jsonl(dm / "conversations.jsonl"):
            c["_last_customer_at"] = parse_ts(c["last_customer_time"])
            self.conversations[c["id"]] = c
            self.conversations_by[(c["page_id"], c["platform"])].append(c)
        for rows in self.conversations_by.values():
            rows.sort(key=lambda c: (c["updated_time"], c["id"]), reverse=True)
        self._dm_path = dm / "messages.jsonl"
        self._dm_blocks = _read_blocks(self._dm_path, "conversation_id")
        self._block = lru_cache(maxsize=512)(self._read_block)

    # -- raw comment blocks -----------------------------------------------------------------
    def _read_block(self, which: str, owner: str) -> tuple[dict, ...]:
        path, blocks = {
            "fb": (self._fb_comments_path, self._fb_blocks),
            "ig": (self._ig_comments_path, self._ig_blocks),
            "dm": (self._dm_path, self._dm_blocks),
        }[which]
        if owner not in blocks:
            return ()
        off, length, _ = blocks[owner]
        with open(path, "rb") as f:
            f.seek(off)
            data = f.read(length)
        return tuple(json.loads(line) for line in data.splitlines() if line.strip())

    # -- values as served now --------------------------------------------------------------
    def _now_value(self, final: int, obj: dict, salt: str, restate: bool = True) -> int:
        v = value_at(final, obj["_at"], self.now, obj["tau_days"])
        if not restate:
            return v
        return restatement.restated_int(v, obj["_at"].date(), self.as_of, WINDOW, self.epoch, f"{obj['id']}:{salt}")

    def current_post_insights(self, post_id: str) -> dict[str, object]:
        """Every post metric as /{post_id}/insights serves it now."""
        post = self.posts[post_id]
        f = post["final"]
        reactions = {k: self._now_value(v, post, f"reactions:{k}") for k, v in f["reactions"].items()}
        clicks = {
            "link clicks": self._now_value(f["link_clicks"], post, "link_clicks"),
            "other clicks": self._now_value(f["other_clicks"], post, "other_clicks"),
            "photo view": self._now_value(f["photo_views"], post, "photo_views"),
        }
        return {
            "post_reactions_by_type_total": {k: v for k, v in reactions.items() if v},
            "post_clicks": sum(clicks.values()),
            "post_clicks_by_type": {k: v for k, v in clicks.items() if v},
            "post_media_view": self._now_value(f["media_view"], post, "media_view"),
            "post_total_media_view_unique": self._now_value(f["media_view_unique"], post, "media_view_unique"),
        }

    def _post_full(self, post: dict) -> dict:
        page = self.pages[post["page_id"]]
        reactions = sum(self._now_value(v, post, "", restate=False) for v in post["final"]["reactions"].values())
        shares = self._now_value(post["final"]["shares"], post, "", restate=False)
        out = {"id": post["id"], "created_time": post["created_time"], "updated_time": post["updated_time"]}
        if "message" in post:
            out["message"] = post["message"]
        out.update(
            {
                "permalink_url": post["permalink_url"],
                "status_type": post["status_type"],
                "is_published": True,
                "from": {"name": page["name"], "id": page["page_id"]},
                "reactions": {"data": [], "summary": {"total_count": reactions, "viewer_reaction": "NONE"}},
                "comments": {
                    "data": [],
                    "summary": {"order": "ranked", "total_count": post["comments_toplevel"], "can_comment": True},
                },
            }
        )
        if post["content_type"] in ("image", "video", "reel", "link"):
            out["full_picture"] = f"https://cdn.lumora.example/fb/{post['id']}.jpg"
        if shares:
            out["shares"] = {"count": shares}
        return out

    def _post_served(self, post: dict, specs) -> dict:
        full = self._post_full(post)
        for name, mods, _ in specs or ():
            if name == "reactions" and "summary(true)" not in mods:
                full["reactions"] = {
                    "data": [],
                    "summary": {"total_count": full["reactions"]["summary"]["total_count"]},
                }
        return select(full, specs, POST_FIELDS, "PagePost", POST_DEFAULT)

    def current_posts(self, page_id: str, fields: str | None = None) -> list[dict]:
        """The Page's published posts as /{page_id}/published_posts serves them (newest first)."""
        specs = parse_fields(fields or ",".join(sorted(POST_FIELDS)))
        return [self._post_served(p, specs) for p in self.posts_by_page[page_id]]

    def delete_post(self, post_id: str) -> dict:
        """The Page deletes a post (issue 17): the Page's post edges stop listing it and the post
        itself answers (#100) "does not exist", as the Graph API does. Returns the post."""
        with self._lock:
            post = self.posts.pop(post_id)
            self.posts_by_page[post["page_id"]].remove(post)
        return post

    def current_page_insights(self, page_id: str) -> dict[str, dict[str, int]]:
        """{date: {metric: value}} as /{page_id}/insights?period=day serves them now."""
        return {
            d: {m: self._page_value(page_id, row, m) for m in PAGE_METRICS}
            for d, row in sorted(self.page_days[page_id].items())
        }

    def _page_value(self, page_id: str, row: dict, metric: str) -> int:
        v = row[metric]
        if metric in RESTATED_PAGE:
            v = restatement.restated_int(
                v, date.fromisoformat(row["date"]), self.as_of, WINDOW, self.epoch, f"{page_id}:{metric}"
            )
        return v

    def _fb_comment_full(self, rec: dict) -> dict:
        out = {
            "id": rec["id"],
            "created_time": rec["created_time"],
            "message": rec["message"],
            "from": rec["from"],
            "comment_count": rec["comment_count"],
            "like_count": rec["like_count"],
            "permalink_url": rec["permalink_url"],
            "can_comment": "parent_id" not in rec,
            "is_hidden": False,
        }
        if "parent_id" in rec:
            out["parent"] = {"id": rec["parent_id"]}
        return out

    def current_comments(self, post_id: str, filter: str = "stream") -> list[dict]:
        """The post's comments (all fields) in chronological order: `stream` is the flat list
        with replies, `toplevel` leaves the replies out."""
        recs = self._block("fb", post_id)
        return [self._fb_comment_full(r) for r in recs if filter == "stream" or "parent_id" not in r]

    # -- Instagram values ---------------------------------------------------------------------
    def current_media_insights(self, media_id: str) -> dict[str, object]:
        """Every metric the media supports, as /{media_id}/insights serves it now."""
        m = self.media[media_id]
        f = m["final"]
        out: dict[str, object] = {}
        for k in ("reach", "views", "likes", "saved", "shares", "replies"):
            if k in f:
                out[k] = self._now_value(f[k], m, k)
        if "comments" in f:
            out["comments"] = f["comments"]
        out["total_interactions"] = sum(out.get(k, 0) for k in ("likes", "saved", "shares", "comments", "replies"))
        out["profile_activity"] = {
            k: self._now_value(v, m, f"profile_activity:{k}") for k, v in f.get("profile_activity", {}).items()
        }
        supported = self.media_supported(media_id)
        return {k: v for k, v in out.items() if k in supported}

    def media_supported(self, media_id: str) -> frozenset[str]:
        """The insights metrics Meta serves for this media's type and product type."""
        m = self.media[media_id]
        return MEDIA_SUPPORTED.get((m["media_type"], m["media_product_type"]), frozenset())

    def _media_full(self, m: dict) -> dict:
        user = self.ig_users[m["ig_user_id"]]
        out = {"id": m["id"]}
        if "caption" in m:
            out["caption"] = m["caption"]
        out.update(
            {
                "media_type": m["media_type"],
                "media_product_type": m["media_product_type"],
                "timestamp": m["timestamp"],
                "permalink": m["permalink"],
                "shortcode": m["shortcode"],
                "username": user["username"],
                "owner": {"id": m["ig_user_id"]},
                "media_url": f"https://cdn.lumora.example/ig/{m['id']}.{'mp4' if m['media_type'] == 'VIDEO' else 'jpg'}",
            }
        )
        if m["media_type"] == "VIDEO":
            out["thumbnail_url"] = f"https://cdn.lumora.example/ig/{m['id']}_thumb.jpg"
        if m["media_product_type"] != "STORY":
            out["like_count"] = self._now_value(m["final"]["likes"], m, "", restate=False)
            out["comments_count"] = m["comments_count"]
            out["is_comment_enabled"] = True
        return out

    def _children(self, m: dict, sub: str | None):
        if not m.get("children"):
            return None
        keys = [n for n, _, _ in parse_fields(sub)] if sub else ["id"]
        for k in keys:
            if k not in CHILD_FIELDS:
                raise GraphError(
                    400, f"(#100) Tried accessing nonexisting field ({k}) on node type (ShadowIGMedia)", 100
                )
        data = []
        for i in range(m["children"]):
            cid = str(int(m["id"]) + i + 1)
            video = i == m["children"] - 1 and i % 2 == 1
            full = {
                "id": cid,
                "media_type": "VIDEO" if video else "IMAGE",
                "media_url": f"https://cdn.lumora.example/ig/{cid}.{'mp4' if video else 'jpg'}",
                "permalink": f"https://www.instagram.com/p/{m['shortcode']}{i + 1}/",
                "shortcode": f"{m['shortcode']}{i + 1}",
                "timestamp": m["timestamp"],
            }
            if video:
                full["thumbnail_url"] = f"https://cdn.lumora.example/ig/{cid}_thumb.jpg"
            data.append({k: full[k] for k in keys if k in full})
        return {"data": data}

    def _media_served(self, m: dict, specs) -> dict:
        return select(
            self._media_full(m),
            specs,
            MEDIA_FIELDS,
            "IGMedia",
            ["id"],
            nested={"children": lambda sub: self._children(m, sub)},
        )

    def current_media(self, ig_user_id: str, fields: str | None = None) -> list[dict]:
        """Feed posts and reels as /{ig_user_id}/media serves them (newest first)."""
        specs = parse_fields(fields or ",".join(sorted(MEDIA_FIELDS)))
        return [self._media_served(m, specs) for m in self.media_by_user[ig_user_id]]

    def live_stories(self, ig_user_id: str) -> list[dict]:
        return [m for m in self.stories_by_user[ig_user_id] if self.now - timedelta(hours=24) <= m["_at"] < self.now]

    def current_stories(self, ig_user_id: str, fields: str | None = None) -> list[dict]:
        specs = parse_fields(fields or ",".join(sorted(MEDIA_FIELDS)))
        return [self._media_served(m, specs) for m in self.live_stories(ig_user_id)]

    def _ig_comment_full(self, rec: dict) -> dict:
        out = {
            "id": rec["id"],
            "timestamp": rec["timestamp"],
            "text": rec["text"],
            "username": rec["username"],
            "from": rec["from"],
            "like_count": rec["like_count"],
            "hidden": False,
            "media": {"id": rec["media_id"]},
        }
        if "parent_id" in rec:
            out["parent_id"] = rec["parent_id"]
        return out

    def media_of_comment(self, comment_id: str) -> str | None:
        if not comment_id.isdigit():
            return None
        n = int(comment_id)
        i = bisect.bisect_right(self._ig_range_starts, n) - 1
        if i >= 0 and self._ig_ranges[i][0] <= n <= self._ig_ranges[i][1]:
            return self._ig_ranges[i][2]
        return None

    def current_ig_insights(self, ig_user_id: str) -> dict[str, dict[str, int]]:
        """{date: {metric: value}} of the account's day metrics as served now."""
        return {
            d: {m: self._ig_value(ig_user_id, row, m) for m in (*USER_DAY, *USER_TOTAL_ONLY)}
            for d, row in sorted(self.ig_days[ig_user_id].items())
        }

    def _ig_value(self, uid: str, row: dict, metric: str) -> int:
        v = row[metric]
        if metric in RESTATED_USER:
            v = restatement.restated_int(
                v, date.fromisoformat(row["date"]), self.as_of, WINDOW, self.epoch, f"{uid}:{metric}"
            )
        return v

    def current_demographics(self, ig_user_id: str) -> dict[str, dict[str, int]]:
        return {dim: dict(rows) for dim, rows in self.demographics[ig_user_id].items()}

    # -- HTTP --------------------------------------------------------------------------------
    def _headers(self, owner: str | None = None, kind: str = "pages") -> dict[str, str]:
        n = next(self._calls)
        pct = 1 + n % 17
        return {
            "X-App-Usage": json.dumps({"call_count": pct, "total_cputime": max(1, pct // 2), "total_time": pct}),
            "X-Business-Use-Case-Usage": json.dumps(
                {
                    owner or "0": [
                        {
                            "type": kind,
                            "call_count": pct,
                            "total_cputime": max(1, pct // 2),
                            "total_time": pct,
                            "estimated_time_to_regain_access": 0,
                        }
                    ]
                }
            ),
            "facebook-api-version": VERSION,
            "x-fb-trace-id": _fbtrace(str(n))[:11],
        }

    def _error(self, e: GraphError, path: str = "") -> Response:
        return Response.json(
            e.status, error_body(e.message, e.code, e.subcode, trace_seed=path, **e.extra), self._headers()
        )

    def server_error(self, status: int) -> Response:
        return Response.json(
            status,
            error_body(
                "An unexpected error has occurred. Please retry your request later.",
                2,
                trace_seed=str(status),
                is_transient=True,
            ),
            self._headers(),
        )

    def rate_limited(self, retry_after_s: int) -> Response:
        n = next(self._calls)
        if n % 2:
            body = error_body("(#4) Application request limit reached", 4, trace_seed=str(n), is_transient=True)
        else:
            body = error_body("(#32) Page request limit reached", 32, trace_seed=str(n), is_transient=True)
        return Response.json(400, body, self._headers())

    def handle(self, req: Request) -> Response:
        token = req.bearer()
        if not token:
            return self._error(GraphError(400, "An access token is required to request this resource.", 104), req.path)
        if token.startswith("EXPIRED"):
            return self._error(
                GraphError(
                    400,
                    "Error validating access token: Session has expired on Monday, "
                    f"{self.as_of - timedelta(days=61):%d-%b-%y} 06:29:46 PDT. The current time is "
                    f"{self.as_of:%A, %d-%b-%y} 02:11:32 PDT.",
                    190,
                    463,
                ),
                req.path,
            )
        if token != self.token:
            return self._error(GraphError(400, "Invalid OAuth access token - Cannot parse access token", 190), req.path)
        m = re.fullmatch(rf"/{VERSION}/({OBJECT_ID})(?:/([a-z_]+))?/?", req.path)
        if not m:
            return self._error(GraphError(400, f"Unknown path components: {req.path}", 2500), req.path)
        if req.method != "GET":
            return self._error(
                GraphError(400, "(#3) Application does not have the capability to make this API call.", 3)
            )
        obj, edge = m.group(1), m.group(2)
        try:
            return self._route(req, obj, edge)
        except GraphError as e:
            return self._error(e, req.path)

    def _route(self, req: Request, obj: str, edge: str | None) -> Response:
        specs = parse_fields(req.param("fields"))
        if obj in self.pages:
            self.calls[f"page/{edge}"] += 1
            hdr = self._headers(obj)
            if edge is None:
                return Response.json(200, self._page_node(req, obj, specs), hdr)
            if edge in ("published_posts", "posts", "feed"):
                return Response.json(200, self._published_posts(req, obj, specs, edge), hdr)
            if edge == "insights":
                return Response.json(200, self._page_insights(req, obj), hdr)
            if edge == "conversations":
                return Response.json(200, self._conversations(req, obj, specs), hdr)
            raise GraphError(400, f"(#100) Tried accessing nonexisting field ({edge}) on node type (Page)", 100)
        if obj in self.posts:
            self.calls[f"post/{edge}"] += 1
            hdr = self._headers(self.posts[obj]["page_id"])
            if edge is None:
                body = self._post_served(
                    self.posts[obj],
                    [x for x in specs if x[0] != "insights"] or (None if not specs else [("id", "", None)]),
                )
                if any(n == "insights" for n, _, _ in specs):
                    body["insights"] = self._insights_field(req, specs, obj, self._post_insights)
                    body.setdefault("id", obj)
                return Response.json(200, body, hdr)
            if edge == "insights":
                return Response.json(200, self._post_insights(req, obj), hdr)
            if edge == "comments":
                return Response.json(200, self._fb_comments(req, obj, specs), hdr)
            raise GraphError(400, f"(#100) Tried accessing nonexisting field ({edge}) on node type (PagePost)", 100)
        if obj in self.ig_users:
            self.calls[f"ig_user/{edge}"] += 1
            hdr = self._headers(obj, "instagram")
            if edge is None:
                return Response.json(200, self._ig_user_node(obj, specs), hdr)
            if edge == "media":
                return Response.json(200, self._ig_media_list(req, obj, specs), hdr)
            if edge == "stories":
                rows = self.live_stories(obj)
                return Response.json(
                    200, self._paged(req, rows, f"{obj}/stories", serve=lambda x: self._media_served(x, specs)), hdr
                )
            if edge == "insights":
                return Response.json(200, self._ig_user_insights(req, obj), hdr)
            raise GraphError(400, f"(#100) Tried accessing nonexisting field ({edge}) on node type (IGUser)", 100)
        if obj in self.media:
            self.calls[f"media/{edge}"] += 1
            media = self.media[obj]
            hdr = self._headers(media["ig_user_id"], "instagram")
            if media["media_product_type"] == "STORY" and not any(
                s["id"] == obj for s in self.live_stories(media["ig_user_id"])
            ):
                raise _missing(obj)  # stories and their insights are gone after 24 hours
            if edge is None:
                return Response.json(200, self._media_served(media, specs), hdr)
            if edge == "insights":
                return Response.json(200, self._media_insights(req, obj), hdr)
            if edge == "comments":
                return Response.json(
                    200,
                    self._ig_comment_list(
                        req, [r for r in self._block("ig", obj) if "parent_id" not in r], f"{obj}/comments", specs
                    ),
                    hdr,
                )
            raise GraphError(400, f"(#100) Tried accessing nonexisting field ({edge}) on node type (IGMedia)", 100)
        media_id = self.media_of_comment(obj)
        if media_id is not None:
            self.calls[f"ig_comment/{edge}"] += 1
            hdr = self._headers(self.media[media_id]["ig_user_id"], "instagram")
            recs = self._block("ig", media_id)
            if edge is None:
                rec = next(r for r in recs if r["id"] == obj)
                return Response.json(200, self._ig_comment_served(rec, specs, recs), hdr)
            if edge == "replies":
                return Response.json(
                    200,
                    self._ig_comment_list(
                        req, [r for r in recs if r.get("parent_id") == obj], f"{obj}/replies", specs, recs
                    ),
                    hdr,
                )
            raise GraphError(400, f"(#100) Tried accessing nonexisting field ({edge}) on node type (IGComment)", 100)
        if obj in self.conversations:
            self.calls[f"conversation/{edge}"] += 1
            conv = self.conversations[obj]
            hdr = self._headers(conv["page_id"])
            if edge is None:
                return Response.json(200, self._conversation_served(req, conv, specs), hdr)
            if edge == "messages":
                _check(specs, MESSAGE_FIELDS, "Message")
                return Response.json(
                    200,
                    self._paged(
                        req,
                        self._messages_newest_first(obj),
                        f"{obj}/messages",
                        serve=lambda r: self._message_served(r, specs),
                    ),
                    hdr,
                )
            raise GraphError(
                400, f"(#100) Tried accessing nonexisting field ({edge}) on node type (UnifiedThread)", 100
            )
        conv_id = conversation_of_message(obj)
        if conv_id in self.conversations:
            rec = next((r for r in self._block("dm", conv_id) if r["id"] == obj), None)
            if rec is not None and edge is None:
                self.calls["message/None"] += 1
                return Response.json(
                    200, self._message_served(rec, specs), self._headers(self.conversations[conv_id]["page_id"])
                )
            if rec is not None:
                raise GraphError(400, f"(#100) Tried accessing nonexisting field ({edge}) on node type (Message)", 100)
        raise _missing(obj)

    # -- paging ------------------------------------------------------------------------------
    def _paged(
        self,
        req: Request,
        rows: list,
        path: str,
        extra: dict | None = None,
        serve=None,
        bad: tuple[str, str] | None = None,
        specs=None,
    ) -> dict:
        """One page of `rows` (raw records; `serve` turns the page's slice into API records).

        `bad` = (key field, typed field): with the bad-record fault the page carries one
        malformed copy of a record (`App.inject_bad`). Only when the request asks for the typed
        field: a list read for its ids alone (the posts and media whose insights or comments are
        read next, the conversations walked for their messages) is served as it is."""
        try:
            limit = max(1, min(int(req.param("limit", "25")), MAX_LIMIT))
        except ValueError:
            raise GraphError(400, "(#100) Param limit must be a number", 100) from None
        offset = _offset(req.param("after")) if req.param("after") else 0
        if req.param("before") and not req.param("after"):
            offset = max(0, _offset(req.param("before")) - limit)
        start, nxt = self.page_window(offset, limit)
        page = rows[start : start + limit]
        page = self.decorate([serve(r) for r in page] if serve else page)
        if bad and bad[1] in {name for name, _, _ in specs or ()}:
            page = self.inject_bad(page, *bad)
        body: dict = {"data": page}
        if page:
            query = {k: v for k, v in req.query.items() if k not in ("after", "before", "access_token")}
            query["access_token"] = self.token
            paging: dict = {"cursors": {"before": _cursor(start), "after": _cursor(nxt)}}
            if start > 0:
                paging["previous"] = f"{req.base_url}/{VERSION}/{path}?{urlencode({**query, 'before': _cursor(start)})}"
            if nxt < len(rows):
                paging["next"] = f"{req.base_url}/{VERSION}/{path}?{urlencode({**query, 'after': _cursor(nxt)})}"
            body["paging"] = paging
        if extra:
            body.update(extra)
        return body

    # -- Facebook endpoints --------------------------------------------------------------------
    def _insights_field(self, req: Request, specs, obj: str, serve) -> dict:
        """`fields=insights.metric(a,b).period(day)`: the insights edge nested in the node."""
        mods = next(m for n, m, _ in specs if n == "insights")
        query = {k: v for k, v in req.query.items() if k != "fields"}
        query.update(dict(re.findall(r"\.(metric|period|since|until|metric_type|breakdown)\(([^)]*)\)", mods)))
        sub = Request(req.method, f"/{VERSION}/{obj}/insights", query, {}, req.headers, b"", req.base_url)
        return serve(sub, obj)

    def _page_node(self, req: Request, pid: str, specs) -> dict:
        p = self.pages[pid]
        full = {
            "id": pid,
            "name": p["name"],
            "followers_count": p["followers_count"],
            "fan_count": p["fan_count"],
            "access_token": self.token,
            "link": f"https://www.facebook.com/{pid}",
            "category": "Health/Beauty",
            "username": "lumora" if p["name"] == "Lumora" else p["name"].lower().replace(" ", ""),
        }
        out = select(
            full,
            specs,
            PAGE_FIELDS | {"insights"},
            "Page",
            ["name", "id"],
            nested={"insights": lambda _sub: self._insights_field(req, specs, pid, self._page_insights)},
        )
        out.setdefault("id", pid)
        return out

    def _published_posts(self, req: Request, pid: str, specs, edge: str) -> dict:
        _check(specs, POST_FIELDS, "PagePost")
        rows = self.posts_by_page[pid]
        since, until = req.param("since"), req.param("until")
        if since or until:
            lo = _to_ts(since) if since else None
            hi = _to_ts(until) if until else None
            rows = [
                p
                for p in rows
                if (lo is None or p["_at"].timestamp() >= lo) and (hi is None or p["_at"].timestamp() < hi)
            ]
        return self._paged(
            req, rows, f"{pid}/{edge}", serve=lambda p: self._post_served(p, specs), bad=BAD_RECORD["post"], specs=specs
        )

    def _metrics(self, req: Request, known) -> list[str]:
        metrics = [x.strip() for x in (req.param("metric") or "").split(",") if x.strip()]
        if not metrics:
            raise GraphError(400, "(#100) The parameter metric is required", 100)
        bad = [x for x in metrics if x in ALWAYS_RETIRED or x not in known] + self.retired(metrics)
        if bad:
            raise GraphError(400, INVALID_METRIC, 100)
        if self.restate_on_pull:
            self.restate()
        return metrics

    def _post_insights(self, req: Request, post_id: str) -> dict:
        metrics = self._metrics(req, POST_METRICS)
        period = req.param("period", "lifetime")
        values = self.current_post_insights(post_id)
        data = []
        if period == "lifetime":
            for name in metrics:
                title, desc = POST_METRICS[name]
                data.append(
                    {
                        "name": name,
                        "period": "lifetime",
                        "values": [{"value": values[name]}],
                        "title": title,
                        "description": desc,
                        "id": f"{post_id}/insights/{name}/lifetime",
                    }
                )
        return {"data": data}

    def _window_paging(self, req: Request, path: str, since: date, until: date) -> dict:
        span = until - since
        query = {k: v for k, v in req.query.items() if k not in ("since", "until", "access_token")}
        query["access_token"] = self.token
        return {
            "previous": f"{req.base_url}/{VERSION}/{path}?{urlencode({**query, 'since': _unix(since - span), 'until': _unix(since)})}",
            "next": f"{req.base_url}/{VERSION}/{path}?{urlencode({**query, 'since': _unix(until), 'until': _unix(until + span)})}",
        }

    def _page_insights(self, req: Request, pid: str) -> dict:
        """One entry per metric and period: every period the metric has (PAGE_PERIODS) when
        `period` is not given, else that period for the metrics that have it."""
        metrics = self._metrics(req, PAGE_METRICS)
        period = req.param("period")
        if period is not None and period not in PERIODS:
            raise GraphError(400, f"(#100) period[0] must be one of the following values: {', '.join(PERIODS)}", 100)
        since, until = _since_until(req, 2, 90, self.as_of)
        days = [d for d in sorted(self.page_days[pid]) if since.isoformat() <= d < until.isoformat()]
        data = []
        for name in metrics:
            for p in PAGE_PERIODS[name]:
                if period is not None and p != period:
                    continue
                title, desc = page_metric_title(name, p)
                values = self.page_period_values(pid, name, p, days)
                data.append(
                    {
                        "name": name,
                        "period": p,
                        "values": [
                            {"value": values[d], "end_time": pacific_day_end(date.fromisoformat(d))} for d in days
                        ],
                        "title": title,
                        "description": desc,
                        "id": f"{pid}/insights/{name}/{p}",
                    }
                )
        return {"data": data, "paging": self._window_paging(req, f"{pid}/insights", since, until)}

    def page_period_values(self, pid: str, metric: str, period: str, days: list[str]) -> dict[str, int]:
        """{day: value} of a Page metric for `period` on each of `days`: the day's own value, or
        the sum of the 7 (week) or 28 (days_28) days ending on it (days without data add 0)."""
        span = PERIOD_DAYS[period]
        rows = self.page_days[pid]
        out = {}
        for d in days:
            end = date.fromisoformat(d)
            window = ((end - timedelta(days=i)).isoformat() for i in range(span))
            out[d] = sum(self._page_value(pid, rows[w], metric) for w in window if w in rows)
        return out

    def _fb_comments(self, req: Request, post_id: str, specs) -> dict:
        flt = req.param("filter", "toplevel")
        if flt not in ("stream", "toplevel"):
            raise GraphError(400, "(#100) param filter must be one of {toplevel, stream}", 100)
        order = req.param("order", "chronological")
        if order not in ("chronological", "reverse_chronological", "ranked"):
            raise GraphError(
                400, "(#100) param order must be one of {chronological, reverse_chronological, ranked}", 100
            )
        _check(specs, FB_COMMENT_FIELDS, "Comment")
        rows = [r for r in self._block("fb", post_id) if flt == "stream" or "parent_id" not in r]
        total = len(rows)
        # time-based paging: `since`/`until` (unix seconds) keep the comments created in between
        bounds = [req.param(p) for p in ("since", "until")]
        if any(bounds):
            for v in bounds:
                if v and not v.isdigit():
                    raise GraphError(400, f"(#100) The parameter since/until is not a valid unix time: {v}", 100)
            lo, hi = (
                datetime.fromtimestamp(int(v), UTC).strftime("%Y-%m-%dT%H:%M:%S+0000") if v else None for v in bounds
            )
            rows = [
                r for r in rows if (lo is None or r["created_time"] >= lo) and (hi is None or r["created_time"] < hi)
            ]
        if order == "reverse_chronological":
            rows = rows[::-1]
        extra = None
        if (req.param("summary") or "").lower() in ("true", "1", "total_count"):
            extra = {"summary": {"order": order, "total_count": total, "can_comment": True}}
        return self._paged(
            req,
            rows,
            f"{post_id}/comments",
            extra,
            serve=lambda r: select(self._fb_comment_full(r), specs, FB_COMMENT_FIELDS, "Comment", FB_COMMENT_DEFAULT),
            bad=BAD_RECORD["comment"],
            specs=specs,
        )

    # -- Direct messages -------------------------------------------------------------------
    def _messages_newest_first(self, conv_id: str) -> list[dict]:
        return sorted(self._block("dm", conv_id), key=lambda r: (r["created_time"], r["id"]), reverse=True)

    @staticmethod
    def _message_full(rec: dict) -> dict:
        return {
            "id": rec["id"],
            "created_time": rec["created_time"],
            "message": rec["message"],
            "from": rec["from"],
            "to": rec["to"],
        }

    def _message_served(self, rec: dict, specs) -> dict:
        return select(self._message_full(rec), specs, MESSAGE_FIELDS, "Message", MESSAGE_DEFAULT)

    def _conversation_full(self, conv: dict) -> dict:
        people = {"data": [conv["customer"], conv["brand"]]}
        return {
            "id": conv["id"],
            "updated_time": conv["updated_time"],
            "message_count": conv["message_count"],
            "participants": people,
            "senders": people,
            "snippet": conv["snippet"],
            "can_reply": self.now - conv["_last_customer_at"] < timedelta(hours=24),
        }

    def _nested_messages(self, req: Request, conv: dict, mods: str, sub: str | None) -> dict:
        """`messages{...}` / `messages.limit(n){...}` inside a conversation: the first page."""
        if sub is None:
            braces = re.search(r"\{(.*)\}\s*$", mods)
            sub = braces.group(1) if braces else None
        sub_specs = parse_fields(sub) if sub else None
        _check(sub_specs, MESSAGE_FIELDS, "Message")
        found = re.search(r"\.limit\((\d+)\)", mods)
        limit = max(1, min(int(found.group(1)), MAX_LIMIT)) if found else 25
        rows = self._messages_newest_first(conv["id"])
        body: dict = {"data": [self._message_served(r, sub_specs) for r in rows[:limit]]}
        if body["data"]:
            paging: dict = {"cursors": {"before": _cursor(0), "after": _cursor(limit)}}
            if limit < len(rows):
                query = {
                    "fields": sub or ",".join(MESSAGE_DEFAULT),
                    "limit": str(limit),
                    "access_token": self.token,
                    "after": _cursor(limit),
                }
                paging["next"] = f"{req.base_url}/{VERSION}/{conv['id']}/messages?{urlencode(query)}"
            body["paging"] = paging
        return body

    def _conversation_served(self, req: Request, conv: dict, specs) -> dict:
        mods, sub = next(((m, s) for n, m, s in specs or () if n == "messages"), ("", None))
        out = select(
            self._conversation_full(conv),
            specs,
            CONVERSATION_FIELDS,
            "UnifiedThread",
            CONVERSATION_DEFAULT,
            nested={"messages": lambda _sub: self._nested_messages(req, conv, mods, sub)},
        )
        return out

    def _conversations(self, req: Request, pid: str, specs) -> dict:
        platform = (req.param("platform") or "messenger").lower()
        if platform not in DM_PLATFORMS:
            raise GraphError(400, "(#100) param platform must be one of {MESSENGER, INSTAGRAM}", 100)
        _check(specs, CONVERSATION_FIELDS, "UnifiedThread")
        rows = self.conversations_by.get((pid, platform), [])
        user = req.param("user_id")
        if user:
            rows = [c for c in rows if c["customer"]["id"] == user]
        return self._paged(
            req,
            rows,
            f"{pid}/conversations",
            serve=lambda c: self._conversation_served(req, c, specs),
            bad=BAD_RECORD["conversation"],
            specs=specs,
        )

    def current_conversations(self, page_id: str, platform: str = "messenger", fields: str | None = None) -> list[dict]:
        """The Page's conversations on `platform` as /{page_id}/conversations serves them (newest first)."""
        specs = parse_fields(fields or "id,updated_time,message_count,participants,senders,snippet,can_reply")
        req = Request("GET", "", {}, {}, {}, b"", "")
        return [self._conversation_served(req, c, specs) for c in self.conversations_by.get((page_id, platform), [])]

    def current_messages(self, conversation_id: str, fields: str | None = None) -> list[dict]:
        """A conversation's messages as /{conversation_id}/messages serves them (newest first)."""
        specs = parse_fields(fields or ",".join(sorted(MESSAGE_FIELDS)))
        return [self._message_served(r, specs) for r in self._messages_newest_first(conversation_id)]

    # -- Instagram endpoints ---------------------------------------------------------------
    def _ig_user_node(self, uid: str, specs) -> dict:
        a = self.ig_users[uid]
        full = {
            "id": uid,
            "username": a["username"],
            "name": a["name"],
            "followers_count": a["followers_count"],
            "follows_count": 312,
            "media_count": a["media_count"],
            "biography": "Skincare that cares. Made in Berlin.",
            "profile_picture_url": f"https://cdn.lumora.example/ig/{uid}_profile.jpg",
            "website": "https://lumora.example",
        }
        out = select(full, specs, IG_USER_FIELDS, "IGUser", ["id"])
        out.setdefault("id", uid)
        return out

    def _ig_media_list(self, req: Request, uid: str, specs) -> dict:
        _check(specs, MEDIA_FIELDS, "IGMedia")
        rows = self.media_by_user[uid]
        since, until = req.param("since"), req.param("until")
        if since or until:
            lo = _to_ts(since) if since else None
            hi = _to_ts(until) if until else None
            rows = [
                m
                for m in rows
                if (lo is None or m["_at"].timestamp() >= lo) and (hi is None or m["_at"].timestamp() < hi)
            ]
        return self._paged(
            req,
            rows,
            f"{uid}/media",
            serve=lambda m: self._media_served(m, specs),
            bad=BAD_RECORD["media"],
            specs=specs,
        )

    def _media_insights(self, req: Request, media_id: str) -> dict:
        metrics = self._metrics(req, MEDIA_METRICS)
        m = self.media[media_id]
        if self.business_since and self._media_full(m)["timestamp"] < self.business_since:
            raise GraphError(
                400,
                "Invalid parameter",
                100,
                2108006,
                error_data={"blame_field_specs": [[""]]},
                is_transient=False,
                error_user_title="Media posted before business account conversion",
                error_user_msg="The media was posted before the most recent time that the user's "
                "account was converted to a business account from a personal account.",
            )
        refused = [name for name in metrics if name not in self.media_supported(media_id)]
        if refused:
            raise GraphError(
                400,
                f"(#100) The Media Insights API does not support the {', '.join(refused)} metric "
                "for this media product type.",
                100,
            )
        breakdown = req.param("breakdown")
        if breakdown and (breakdown != "action_type" or metrics != ["profile_activity"]):
            raise GraphError(
                400,
                "(#100) Incompatible breakdowns. The breakdown action_type is only supported "
                "for the profile_activity metric",
                100,
            )
        values = self.current_media_insights(media_id)
        data = []
        for name in metrics:
            title, desc = MEDIA_METRICS[name]
            item: dict = {"name": name, "period": "lifetime"}
            if name == "profile_activity":
                acts = values[name]
                total = sum(acts.values())
                item.update(values=[{"value": total}], title=title, description=desc)
                tv: dict = {"value": total}
                if breakdown:
                    tv["breakdowns"] = [
                        {
                            "dimension_keys": ["action_type"],
                            "results": [{"dimension_values": [k], "value": v} for k, v in sorted(acts.items())],
                        }
                    ]
                item["total_value"] = tv
            else:
                item.update(values=[{"value": values[name]}], title=title, description=desc)
            item["id"] = f"{media_id}/insights/{name}/lifetime"
            data.append(item)
        return {"data": data}

    def _ig_user_insights(self, req: Request, uid: str) -> dict:
        metrics = self._metrics(req, {**USER_DAY, **USER_TOTAL_ONLY, "follower_demographics": DEMOGRAPHICS})
        metric_type = req.param("metric_type")
        breakdown = [b for b in (req.param("breakdown") or "").split(",") if b]
        if "follower_demographics" in metrics:
            if (
                metrics != ["follower_demographics"]
                or metric_type != "total_value"
                or len(breakdown) != 1
                or breakdown[0] not in ("country", "age", "gender")
            ):
                raise GraphError(
                    400,
                    "(#100) follower_demographics is only supported with period=lifetime, "
                    "metric_type=total_value and one breakdown of country, age, gender",
                    100,
                )
            dim = breakdown[0]
            return {
                "data": [
                    {
                        "name": "follower_demographics",
                        "period": "lifetime",
                        "title": DEMOGRAPHICS[0],
                        "description": DEMOGRAPHICS[1],
                        "total_value": {
                            "breakdowns": [
                                {
                                    "dimension_keys": [dim],
                                    "results": [
                                        {"dimension_values": [v], "value": n} for v, n in self.demographics[uid][dim]
                                    ],
                                }
                            ]
                        },
                        "id": f"{uid}/insights/follower_demographics/lifetime",
                    }
                ]
            }
        if req.param("period", "day") != "day":
            raise GraphError(400, "(#100) Incorrect period for these metrics: use period=day", 100)
        need_total = [x for x in metrics if x in USER_TOTAL_ONLY]
        if need_total and metric_type != "total_value":
            raise GraphError(
                400,
                f"(#100) The following metrics ({', '.join(need_total)}) should be specified "
                "with parameter metric_type=total_value",
                100,
            )
        if metric_type == "total_value" and "follower_count" in metrics:
            raise GraphError(400, "(#100) follower_count does not support metric_type=total_value", 100)
        if breakdown and (
            metric_type != "total_value"
            or metrics != ["reach"]
            or not set(breakdown) <= {"media_product_type", "follow_type"}
        ):
            raise GraphError(400, "(#100) Incompatible breakdowns for the requested metrics", 100)
        since, until = _since_until(req, 2, 30, self.as_of)
        rows = [r for d, r in sorted(self.ig_days[uid].items()) if since.isoformat() <= d < until.isoformat()]
        data = []
        for name in metrics:
            title, desc = {**USER_DAY, **USER_TOTAL_ONLY}[name]
            item: dict = {"name": name, "period": "day"}
            if metric_type == "total_value":
                total = sum(self._ig_value(uid, r, name) for r in rows)
                tv: dict = {"value": total}
                if breakdown:
                    tv["breakdowns"] = [{"dimension_keys": breakdown, "results": _reach_breakdown(total, breakdown)}]
                item.update(title=title, description=desc, total_value=tv)
            else:
                item.update(
                    values=[
                        {
                            "value": self._ig_value(uid, r, name),
                            "end_time": pacific_day_end(date.fromisoformat(r["date"])),
                        }
                        for r in rows
                    ],
                    title=title,
                    description=desc,
                )
            item["id"] = f"{uid}/insights/{name}/day"
            data.append(item)
        return {"data": data, "paging": self._window_paging(req, f"{uid}/insights", since, until)}

    def _ig_comment_served(self, rec: dict, specs, block) -> dict:
        def replies(sub):
            rs = [self._ig_comment_full(r) for r in block if r.get("parent_id") == rec["id"]]
            if not rs:
                return None
            sub_specs = parse_fields(sub) if sub else None
            return {
                "data": [
                    select(r, sub_specs, IG_COMMENT_FIELDS - {"replies"}, "IGComment", IG_COMMENT_DEFAULT) for r in rs
                ]
            }

        return select(
            self._ig_comment_full(rec),
            specs,
            IG_COMMENT_FIELDS,
            "IGComment",
            IG_COMMENT_DEFAULT,
            nested={"replies": replies},
        )

    def _ig_comment_list(self, req: Request, recs: list[dict], path: str, specs, block=None) -> dict:
        _check(specs, IG_COMMENT_FIELDS, "IGComment")
        block = block if block is not None else self._block("ig", recs[0]["media_id"]) if recs else ()
        return self._paged(req, recs, path, serve=lambda r: self._ig_comment_served(r, specs, block))


def page_metric_title(metric: str, period: str) -> tuple[str, str]:
    """The title and description Meta gives a Page metric's entry for `period`: the day's
    ("Daily Page Media Views", "Daily: ...") with the period's word instead of "Daily"
    ("Weekly ...", "28 Days: ...", as the published sample writes them)."""
    title, desc = PAGE_METRICS[metric]
    if period == "day":
        return title, desc
    word = PERIOD_WORD[period]
    return (
        re.sub(r"^Daily\b", word, title) if title.startswith("Daily") else f"{word} {title}",
        re.sub(r"^Daily:", f"{word}:", desc),
    )


def _reach_breakdown(total: int, dims: list[str]) -> list[dict]:
    axes = [REACH_PRODUCT if d == "media_product_type" else REACH_FOLLOW for d in dims]
    combos = (
        [((a,), w) for a, w in axes[0]]
        if len(axes) == 1
        else [((a, b), wa * wb) for a, wa in axes[0] for b, wb in axes[1]]
    )
    counts = _split(total, [w for _, w in combos])
    return [{"dimension_values": list(vals), "value": n} for (vals, _), n in zip(combos, counts)]


def _check(specs, allowed: set[str], node_type: str) -> None:
    """Unknown fields fail the request even when there is nothing to serve."""
    for name, _, _ in specs or ():
        if name not in allowed:
            raise GraphError(400, f"(#100) Tried accessing nonexisting field ({name}) on node type ({node_type})", 100)


def _missing(obj: str) -> GraphError:
    return GraphError(
        400,
        f"Unsupported get request. Object with ID '{obj}' does not exist, cannot be loaded due "
        "to missing permissions, or does not support this operation. Please read the Graph API "
        "documentation at https://developers.facebook.com/docs/graph-api",
        100,
        33,
    )


def _to_ts(v: str) -> float:
    if re.fullmatch(r"\d+", v):
        return float(v)
    try:
        return midnight_utc(date.fromisoformat(v[:10])).timestamp()
    except ValueError:
        raise GraphError(400, f"(#100) The parameter since/until is not a valid time: {v}", 100) from None


def _jsonl(path: Path):
    if not path.exists():
        return
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def make_app(world_dir: Path) -> MetaGraphApp:
    return MetaGraphApp(world_dir)


def env(url: str, app: MetaGraphApp) -> dict[str, str]:
    return {
        "META_GRAPH_BASE_URL": url,
        "META_PAGE_TOKEN": app.token,
        "FACEBOOK_PAGE_IDS": ",".join(sorted(app.pages)),
        "INSTAGRAM_USER_IDS": ",".join(sorted(app.ig_users)),
    }
