"""X (Twitter) API v2: the brand's own posts, their metrics, and mentions of the brand and
its competitors.

Streams
- `posts` (merge on `id`): every post on each configured account's timeline
  (`GET /2/users/{id}/tweets`, paged with `pagination_token`; X only reaches the 3,200 most
  recent posts).
- `post_metrics` (daily snapshots): the lifetime metrics of the posts published in the
  lookback window (`metrics_lookback_days`, ending with the partition day), as read when
  the partition is extracted; `snapshot_date` is the partition day. Daily deltas are derived
  downstream from consecutive snapshots. Non-public and organic metrics need the
  user-context token and exist for posts under 30 days old only.
- `users` (daily snapshots): each account's public metrics (followers) as read that day.
- `mentions` (one partition per UTC day of `created_at`): posts matching each configured
  query (`GET /2/tweets/search/recent`, paged with `next_token`; the last 7 days only).
- `mention_counts` (one partition per UTC day): daily post counts per query
  (`GET /2/tweets/counts/recent?granularity=day`; the last 7 days only).

X days are UTC and X has no currency: nothing per account to keep beside the rows.

Records are kept as X sent them. The client adds `snapshot_date` to snapshot records, and
`query_name`/`query` to mention and count records: a count bucket says nothing about which
query it counts, so the query it was read for is the only way to key it (the same post can
also match two queries).

Partial failures (HTTP 200 with `errors[]` beside `data`) never vanish: a post named as
"not found" in a page that should hold it is a transient X failure, so the page is fetched
again (`partial_retries` times); every error still present after that (and every expected
one, such as the "Field Authorization Error" for non-public metrics of posts 30 days or
older, whose posts are kept without those fields) is logged as a warning and kept in
`client.partial_errors` (stream, partition and X's own error object) for the run's metadata.

Each endpoint is sent only the query parameters X documents for it (X answers 400 "The
query parameter [name] is not one of [...]" to any other): timelines page with
`pagination_token`, recent search and counts with `next_token`.

Rate limits: every response carries `x-rate-limit-remaining/reset`; when remaining reaches 0
the next call waits until the reset time, and a 429 is retried after it.

Recent search and counts reject an `end_time` later than "now minus 10 seconds" and a
`start_time` older than 7 days, on X's clock. The client reads that clock from the counts
endpoint's default window (it ends at now minus 30 seconds) unless a `clock` is given, so a
skewed local clock cannot produce a request X refuses; `end_time` is then now minus 10
seconds, as Airbyte does.
"""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import requests

from extractors.client import SourceClient
from extractors.days import utc_midnight
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
from extractors.streams import DayUnavailable, Stream

log = logging.getLogger(__name__)

SOURCE = "x"
PLATFORM = "X API v2"

# What we ask for: configuration, not code. A field X no longer accepts fails the request
# with a 400 naming it; the error names the setting to change.
DEFAULT_POST_FIELDS: tuple[str, ...] = (
    "created_at",
    "author_id",
    "conversation_id",
    "lang",
    "in_reply_to_user_id",
    "referenced_tweets",
    "entities",
    "attachments",
)
DEFAULT_METRIC_FIELDS: tuple[str, ...] = (
    "created_at",
    "author_id",
    "public_metrics",
    "non_public_metrics",
    "organic_metrics",
)
DEFAULT_MENTION_FIELDS: tuple[str, ...] = (
    "created_at",
    "author_id",
    "conversation_id",
    "lang",
    "public_metrics",
    "in_reply_to_user_id",
    "referenced_tweets",
    "entities",
)
DEFAULT_USER_FIELDS: tuple[str, ...] = ("created_at", "public_metrics", "verified", "protected")
# Fields only a user-context token may ask for.
PRIVATE_FIELDS = frozenset({"non_public_metrics", "organic_metrics", "promoted_metrics"})
RECENT_DAYS = 7  # recent search and counts reach back this far
END_MARGIN = timedelta(seconds=10)  # end_time must be at least this much before now
COUNTS_DEFAULT_END_LAG = timedelta(seconds=30)  # the counts endpoint's default end: now minus this
MAX_TOKEN_REPEATS = 3  # a page token handed back more often than this means X is looping


@dataclass
class NextTokenPaginator(Paginator):
    """X's paging: `meta.next_token` while more remain, sent back as `param` (timelines take
    `pagination_token`, recent search and counts `next_token`: X refuses the other). A page
    served again hands back the token it was asked with (its records repeat and the loader
    keeps one copy); a token that keeps coming back is a loop."""

    param: str = "next_token"
    guard: LoopGuard | None = None

    def next_params(self, body: Any, params: dict) -> dict | None:
        nxt = (body.get("meta") or {}).get("next_token") if isinstance(body, dict) else None
        if not nxt:
            return None
        if self.guard is None:
            self.guard = LoopGuard(SOURCE, "next_token", max_repeats=MAX_TOKEN_REPEATS, in_a_row=False)
        self.guard.check(nxt)
        return {**params, self.param: nxt}


_TIMELINE = dict(
    path="2/users/{id}/tweets", paginator=functools.partial(NextTokenPaginator, "pagination_token"), per="users"
)
_RECENT = dict(paginator=functools.partial(NextTokenPaginator, "next_token"), per="queries")
_PUBLIC = {"retweet_count", "reply_count", "like_count", "quote_count", "bookmark_count", "impression_count"}
_metric_columns = {m: f"BIGINT <- $.public_metrics.{m}" for m in sorted(_PUBLIC)}

POSTS = Stream(
    SOURCE,
    "posts",
    primary_key=("id",),
    disposition="merge",
    setting="post_fields",
    reader="timeline",
    **_TIMELINE,
    columns={
        "id": "VARCHAR",
        "author_id": "VARCHAR",
        "created_at": "TIMESTAMPTZ",
        "text": "VARCHAR",
        "conversation_id": "VARCHAR",
        "lang": "VARCHAR",
        "in_reply_to_user_id": "VARCHAR",
        "referenced_tweets": "JSON",
        "entities": "JSON",
    },
    description="X posts of the brand's accounts (timeline, at most the 3,200 most recent), as X sent them.",
)
POST_METRICS = Stream(
    SOURCE,
    "post_metrics",
    primary_key=("snapshot_date", "id"),
    cursor_field="snapshot_date",
    snapshot=True,
    # A snapshot is what X said on the day it was taken: re-reading an old one would overwrite
    # it with today's numbers, so it has no re-read window (later snapshots carry the revisions).
    restatement_days=0,
    disposition="replace_partition",
    setting="metric_fields",
    reader="post_metrics",
    **_TIMELINE,
    columns={
        "snapshot_date": "DATE",
        "id": "VARCHAR",
        "author_id": "VARCHAR",
        "created_at": "TIMESTAMPTZ",
        **_metric_columns,
        "url_link_clicks": "BIGINT <- $.non_public_metrics.url_link_clicks",
        "user_profile_clicks": "BIGINT <- $.non_public_metrics.user_profile_clicks",
        "public_metrics": "JSON",
        "non_public_metrics": "JSON",
        "organic_metrics": "JSON",
    },
    description="Daily snapshots of the lifetime metrics of X posts published in the lookback window "
    "(UTC days), as read on the snapshot day.",
)
USERS = Stream(
    SOURCE,
    "users",
    primary_key=("snapshot_date", "id"),
    cursor_field="snapshot_date",
    snapshot=True,
    restatement_days=0,
    disposition="replace_partition",
    path="2/users/{id}",
    per="users",
    setting="user_fields",
    reader="users",
    columns={
        "snapshot_date": "DATE",
        "id": "VARCHAR",
        "username": "VARCHAR",
        "name": "VARCHAR",
        "followers_count": "BIGINT <- $.public_metrics.followers_count",
        "following_count": "BIGINT <- $.public_metrics.following_count",
        "tweet_count": "BIGINT <- $.public_metrics.tweet_count",
        "listed_count": "BIGINT <- $.public_metrics.listed_count",
        "public_metrics": "JSON",
    },
    description="Daily snapshots of the brand's X accounts and their public metrics (followers).",
)
MENTIONS = Stream(
    SOURCE,
    "mentions",
    primary_key=("created_date", "query_name", "id"),
    cursor_field="created_date",
    restatement_days=3,
    disposition="replace_partition",
    path="2/tweets/search/recent",
    setting="mention_fields",
    reader="search",
    **_RECENT,
    columns={
        "created_date": "DATE <- $.created_at",
        "query_name": "VARCHAR",
        "id": "VARCHAR",
        "query": "VARCHAR",
        "author_id": "VARCHAR",
        "created_at": "TIMESTAMPTZ",
        "text": "VARCHAR",
        "lang": "VARCHAR",
        "conversation_id": "VARCHAR",
        **_metric_columns,
        "public_metrics": "JSON",
    },
    description="X posts matching each brand and competitor query (recent search, last 7 days), "
    "by UTC day of posting, with their public metrics as read.",
)
MENTION_COUNTS = Stream(
    SOURCE,
    "mention_counts",
    primary_key=("day", "query_name", "bucket_start"),
    cursor_field="day",
    restatement_days=3,
    disposition="replace_partition",
    path="2/tweets/counts/recent",
    params={"granularity": "day"},
    reader="counts",
    **_RECENT,
    columns={
        "day": "DATE <- $.start",
        "query_name": "VARCHAR",
        "bucket_start": "TIMESTAMPTZ <- $.start",
        "bucket_end": "TIMESTAMPTZ <- $.end",
        "query": "VARCHAR",
        "tweet_count": "BIGINT",
    },
    description="Daily X post counts per brand and competitor query (counts/recent, granularity=day, UTC).",
)
STREAMS = (POSTS, POST_METRICS, USERS, MENTIONS, MENTION_COUNTS)


# -- errors and throttling ------------------------------------------------------------------


def _x_retry_after(resp: requests.Response) -> float | None:
    """Seconds until X's rate-limit window resets when it is used up, else `Retry-After`."""
    if resp.headers.get("x-rate-limit-remaining") == "0":
        try:
            return max(0.0, float(resp.headers["x-rate-limit-reset"]) - time.time())
        except (KeyError, ValueError):
            pass
    return retry_after_seconds(resp)


def classify_x_error(
    resp: requests.Response, url: str, *, token_var: str = "X_BEARER_TOKEN", fields_setting: str | None = None
) -> ApiError | None:
    """Turn an X problem-details body (`title`, `detail`, `type`, `errors[]`) into the right error."""
    try:
        body = resp.json()
    except ValueError:
        return None  # not an X body (a proxy's HTML page): the core decides
    if not isinstance(body, dict):
        return None
    status = resp.status_code
    title = body.get("title") or ""
    errors = [e for e in body.get("errors") or [] if isinstance(e, dict)]
    parts = [body.get("detail") or title] + [e.get("message") or e.get("detail") for e in errors]
    message = "; ".join(dict.fromkeys(p for p in parts if p)) or resp.reason or "no message"
    kw = dict(status=status, code=title or None, url=url, retry_after=_x_retry_after(resp))
    if status == 401:
        return AuthError(SOURCE, f"{message}. {PLATFORM} refused the token: set a valid token in {token_var}", **kw)
    unsupported = title == "Unsupported Authentication" or "unsupported-authentication" in str(body.get("type"))
    if status == 403 and unsupported:
        return AuthError(
            SOURCE,
            f"{message}. Non-public and organic metrics need a user-context token: set "
            "X_USER_ACCESS_TOKEN (OAuth 2.0 user context), or remove those fields from "
            f"`{fields_setting or 'metric_fields'}` in the x resource configuration",
            **kw,
        )
    if status == 429 or status >= 500 or status in (408, 425):
        return RetryableError(SOURCE, message, **kw)
    if status == 400:
        unknown = [
            m.group(1)
            for e in errors
            if (m := re.match(r"The query parameter \[([^\]]+)\] is not one of", e.get("message") or ""))
        ]
        if unknown:
            return FatalError(
                SOURCE,
                f"{message}. {PLATFORM} does not take the query parameter(s) "
                f"{', '.join(unknown)} on this endpoint: the request is wrong, not a setting "
                "(timelines page with pagination_token, recent search with next_token)",
                **kw,
            )
        for e in errors:
            params = e.get("parameters") or {}
            for name in ("tweet.fields", "user.fields", "expansions"):
                if name in params:
                    m = re.search(r"value \[([^\]]*)\]", e.get("message") or "")
                    bad = m.group(1) if m else ",".join(params[name])
                    return FatalError(
                        SOURCE,
                        f"{e.get('message')}. {PLATFORM} does not accept the {name} value "
                        f"[{bad}] (retired or misspelt): remove it from "
                        f"`{fields_setting or 'the field lists'}` in the x resource configuration",
                        **kw,
                    )
    return FatalError(SOURCE, message, **kw)


def read_x_throttle(resp: requests.Response) -> float:
    """Seconds to pause before the next call: until `x-rate-limit-reset` once `x-rate-limit-remaining`
    reaches 0 (a 429 carries the same headers; its retry waits as long)."""
    if resp.headers.get("x-rate-limit-remaining") != "0":
        return 0.0
    try:
        return max(0.0, float(resp.headers.get("x-rate-limit-reset", "0")) - time.time())
    except ValueError:
        log.warning("[%s] unreadable x-rate-limit-reset header; not pausing", SOURCE)
        return 0.0


# -- parsing: response body -> records --------------------------------------------------------


def records_of(body: Mapping[str, Any]) -> list[dict]:
    """The posts (or buckets, or users) of a page, as X sent them."""
    data = body.get("data") or []
    return [data] if isinstance(data, dict) else list(data)


def snapshot_records(body: Mapping[str, Any], day: date) -> list[dict]:
    return [{**r, "snapshot_date": day.isoformat()} for r in records_of(body)]


def query_records(body: Mapping[str, Any], query_name: str, query: str) -> list[dict]:
    """Mentions and count buckets carry the query they were read for (their key needs it)."""
    return [{**r, "query_name": query_name, "query": query} for r in records_of(body)]


def _is_missing_post(err: Mapping[str, Any]) -> bool:
    return str(err.get("type", "")).endswith("/resource-not-found") and err.get("resource_type") == "tweet"


def fmt_ts(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_ts(value: str) -> datetime:
    dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


class XClient(SourceClient):
    """A client for posts, post metrics, accounts, mentions and mention counts.

    `bearer_token` (app-only) reads recent search and counts; `user_token` (user context)
    reads timelines with non-public metrics. Without a user token, timelines are read with
    the app token and the private metric groups are left out (with a warning).
    """

    SOURCE = SOURCE
    IDS = {
        "users": ("user_ids", "accounts", "X_USER_IDS"),
        "queries": ("queries", "queries", "X_LISTENING_QUERY (and the competitor queries)"),
    }

    def __init__(
        self,
        base_url: str,
        bearer_token: str,
        user_token: str = "",
        *,
        user_ids: Sequence[str] = (),
        queries: Mapping[str, str] | None = None,
        post_fields: Sequence[str] = DEFAULT_POST_FIELDS,
        metric_fields: Sequence[str] = DEFAULT_METRIC_FIELDS,
        mention_fields: Sequence[str] = DEFAULT_MENTION_FIELDS,
        user_fields: Sequence[str] = DEFAULT_USER_FIELDS,
        metrics_lookback_days: int = 28,
        page_size: int = 100,
        search_page_size: int = 100,
        partial_retries: int = 3,
        clock: Callable[[], datetime] | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if not bearer_token and not user_token:
            raise AuthError(SOURCE, "no token: set X_BEARER_TOKEN (and X_USER_ACCESS_TOKEN for non-public metrics)")
        super().__init__(STREAMS)
        self.user_ids = list(user_ids)
        self.queries = dict(queries or {})
        self.post_fields = self._with(post_fields, "created_at")
        self.metric_fields = self._with(metric_fields, "created_at")
        self.mention_fields = self._with(mention_fields, "created_at")
        self.user_fields = tuple(user_fields)
        self.lookback_days = metrics_lookback_days
        self.page_size, self.search_page_size = page_size, search_page_size
        self.partial_retries = partial_retries
        self.partial_errors: list[dict] = []
        self._clock = clock
        self._now: datetime | None = None
        self._fields_setting: str | None = None
        secrets = (bearer_token, user_token)

        def core(token: str, token_var: str) -> HttpCore:
            return self.http_core(
                base_url,
                headers={"Authorization": f"Bearer {token}"},
                secrets=secrets,
                retry=retry,
                sleep=sleep,
                read_throttle=read_x_throttle,
                classify_error=lambda resp, url: classify_x_error(
                    resp, url, token_var=token_var, fields_setting=self._fields_setting
                ),
            )

        self.app = core(bearer_token, "X_BEARER_TOKEN") if bearer_token else None
        self.user = core(user_token, "X_USER_ACCESS_TOKEN") if user_token else None

    @staticmethod
    def _with(fields: Sequence[str], required: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*fields, required]))

    @property
    def timeline_core(self) -> HttpCore:
        return self.user or self.app

    @property
    def search_core(self) -> HttpCore:
        return self.app or self.user

    # -- the streams' readers ------------------------------------------------------------------
    def read_timeline(self, stream: Stream, day: date | None) -> Iterator[list[dict]]:
        for uid in self.ids(stream):
            yield from self.post_pages(uid)

    def read_post_metrics(self, stream: Stream, day: date) -> Iterator[list[dict]]:
        for uid in self.ids(stream):
            yield from self.post_metric_pages(uid, day)

    def read_users(self, stream: Stream, day: date) -> Iterator[list[dict]]:
        yield [r for uid in self.ids(stream) for r in self.user_snapshot(uid, day)]

    def read_search(self, stream: Stream, day: date) -> Iterator[list[dict]]:
        for name, query in self.queries.items():
            yield from self.mention_pages(name, query, day)

    def read_counts(self, stream: Stream, day: date) -> Iterator[list[dict]]:
        for name, query in self.queries.items():
            yield from self.count_pages(name, query, day)

    # -- paging with partial failures ----------------------------------------------------------
    def _page(self, core: HttpCore, path: str, params: dict, where: str) -> dict:
        """One page. A post X says it could not find (while the page should hold it) is a
        transient failure: the page is fetched again. What remains is logged and kept."""
        for attempt in range(self.partial_retries + 1):
            body = core.get_json(path, params=params)
            if not isinstance(body, dict):
                raise FatalError(SOURCE, f"{where}: expected a JSON object, got {type(body).__name__}")
            errors = [e for e in body.get("errors") or [] if isinstance(e, dict)]
            if errors and "data" not in body and "meta" not in body:
                # nothing but errors: the request as a whole failed (an unknown account, say)
                detail = "; ".join(str(e.get("detail") or e.get("message")) for e in errors)
                raise FatalError(SOURCE, f"{where}: {detail} (check X_USER_IDS and the queries)")
            if any(_is_missing_post(e) for e in errors) and attempt < self.partial_retries:
                core.stats.retries += 1
                log.warning(
                    "[%s] %s: %d post(s) named as not found beside the data; fetching the page again",
                    SOURCE,
                    where,
                    sum(_is_missing_post(e) for e in errors),
                )
                continue
            if errors:
                self._keep_partial(errors, where)
            return body
        raise AssertionError("unreachable")

    def _keep_partial(self, errors: list[dict], where: str) -> None:
        kinds: dict[str, int] = {}
        for e in errors:
            kinds[str(e.get("title") or e.get("type"))] = kinds.get(str(e.get("title") or e.get("type")), 0) + 1
            self.partial_errors.append({"where": where, **e})
        ids = sorted({str(e.get("resource_id") or e.get("value")) for e in errors})
        log.warning(
            "[%s] %s: %d error(s) beside the data (%s) for %s%s; the data is kept, the errors are in "
            "client.partial_errors",
            SOURCE,
            where,
            len(errors),
            ", ".join(f"{k} x{n}" for k, n in kinds.items()),
            ", ".join(ids[:10]),
            f" and {len(ids) - 10} more" if len(ids) > 10 else "",
        )

    def _walk(self, core: HttpCore, stream: Stream, params: dict, where: str, **path: str) -> Iterator[dict]:
        """Every page of a stream's declared path, with its declared paginator (see
        `NextTokenPaginator`), each through `_page` (X's partial failures)."""
        paginator = stream.paginator()
        params = {**stream.params, **params}
        while params is not None:
            body = self._page(core, self.path(stream, **path), params, where)
            core.stats.pages += 1
            yield body
            params = paginator.next_params(body, params)

    def _timeline_fields(self, fields: tuple[str, ...]) -> tuple[str, ...]:
        if self.user is None and PRIVATE_FIELDS & set(fields):
            log.warning(
                "[%s] no user-context token (X_USER_ACCESS_TOKEN): reading %s without %s",
                SOURCE,
                "timelines",
                ", ".join(sorted(PRIVATE_FIELDS & set(fields))),
            )
            return tuple(f for f in fields if f not in PRIVATE_FIELDS)
        return fields

    # -- streams ----------------------------------------------------------------------------------
    def post_pages(self, user_id: str) -> Iterator[list[dict]]:
        self._fields_setting = "post_fields"
        params = {"tweet.fields": ",".join(self._timeline_fields(self.post_fields)), "max_results": str(self.page_size)}
        for body in self._walk(self.timeline_core, self.stream(POSTS.name), params, f"posts of {user_id}", id=user_id):
            yield records_of(body)

    def post_metric_pages(self, user_id: str, day: date) -> Iterator[list[dict]]:
        """Posts published in the `metrics_lookback_days` ending with `day`, with their metrics as read now."""
        self._fields_setting = "metric_fields"
        end = utc_midnight(day) + timedelta(days=1)
        params = {
            "tweet.fields": ",".join(self._timeline_fields(self.metric_fields)),
            "max_results": str(self.page_size),
            "start_time": fmt_ts(end - timedelta(days=self.lookback_days)),
        }
        if end <= datetime.now(UTC) - END_MARGIN:
            params["end_time"] = fmt_ts(end)  # else: today's snapshot, up to now (X's default)
        for body in self._walk(
            self.timeline_core,
            self.stream(POST_METRICS.name),
            params,
            f"post metrics of {user_id} on {day}",
            id=user_id,
        ):
            yield snapshot_records(body, day)

    def user_snapshot(self, user_id: str, day: date) -> list[dict]:
        self._fields_setting = "user_fields"
        body = self._page(
            self.timeline_core,
            self.path(self.stream(USERS.name), id=user_id),
            {"user.fields": ",".join(self.user_fields)},
            f"account {user_id}",
        )
        if "data" not in body:
            raise FatalError(SOURCE, f"account {user_id}: no data in the answer (check X_USER_IDS)")
        return snapshot_records(body, day)

    def server_now(self) -> datetime:
        """X's clock: the given `clock`, else read once from the counts endpoint's default window."""
        if self._now is None:
            if self._clock is not None:
                self._now = self._clock()
            else:
                counts = self.stream(MENTION_COUNTS.name)
                body = self.search_core.get_json(
                    self.path(counts), params={"query": next(iter(self.queries.values())), **counts.params}
                )
                buckets = records_of(body)
                self._now = parse_ts(buckets[-1]["end"]) + COUNTS_DEFAULT_END_LAG if buckets else datetime.now(UTC)
        return self._now

    def day_window(self, day: date, what: str) -> tuple[str, str] | None:
        """(start_time, end_time) of a UTC day for recent search and counts; None for a day that
        has not begun. A day that starts before X's 7-day horizon can no longer be read in full:
        loading part of it would delete stored rows, so it is reported unavailable (and skipped)."""
        now = self.server_now()
        start, end = utc_midnight(day), min(utc_midnight(day) + timedelta(days=1), now - END_MARGIN)
        if end <= start:
            return None
        horizon = now - timedelta(days=RECENT_DAYS)
        if start < horizon:
            raise DayUnavailable(
                f"[{SOURCE}] {PLATFORM} serves {what} of the last {RECENT_DAYS} days only (from "
                f"{fmt_ts(horizon)}): {day} can no longer be read in full, so its stored rows are "
                "left as they are"
            )
        return fmt_ts(start), fmt_ts(end)

    def mention_pages(self, name: str, query: str, day: date) -> Iterator[list[dict]]:
        self._fields_setting = "mention_fields"
        window = self.day_window(day, "recent search")
        if window is None:
            yield []
            return
        params = {
            "query": query,
            "tweet.fields": ",".join(self.mention_fields),
            "max_results": str(self.search_page_size),
            "start_time": window[0],
            "end_time": window[1],
        }
        for body in self._walk(self.search_core, self.stream(MENTIONS.name), params, f"mentions for {name} on {day}"):
            yield query_records(body, name, query)

    def count_pages(self, name: str, query: str, day: date) -> Iterator[list[dict]]:
        self._fields_setting = None
        window = self.day_window(day, "post counts")
        if window is None:
            yield []
            return
        params = {"query": query, "start_time": window[0], "end_time": window[1]}
        for body in self._walk(
            self.search_core, self.stream(MENTION_COUNTS.name), params, f"counts for {name} on {day}"
        ):
            yield query_records(body, name, query)
