"""Social listening (Brandwatch Consumer Research style): the project's queries, and the
mentions each query matched, per UTC day.

Mentions are read per query and day (`start` inclusive, `end` exclusive) with cursor paging
(`nextCursor` until none is left), oldest first. A mention is stored once per query it
matched: a post naming the brand and a competitor counts for both, which share of voice
needs, so the key is (query_id, id). The listening platform does not revise past mentions in
this project's fake, so nothing is re-read (restatement 0); a late-indexed mention would be
picked up by re-running its day.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import requests

from extractors.client import SourceClient
from extractors.http import (
    ApiError,
    AuthError,
    FatalError,
    LoopGuard,
    Paginator,
    RetryableError,
    RetryPolicy,
    retry_after_seconds,
)
from extractors.streams import Stream

log = logging.getLogger(__name__)

SOURCE = "listening"
API_PREFIX = "api/v1"

# The fields every mention must carry. Configuration, not code: a field the platform stops
# returning fails the run with a message naming it and this setting.
DEFAULT_MENTION_FIELDS: tuple[str, ...] = (
    "id",
    "query_id",
    "text",
    "author",
    "platform",
    "url",
    "reach",
    "engagement",
    "language",
    "published_at",
)

QUERIES = Stream(
    SOURCE,
    "queries",
    primary_key=("id",),
    disposition="merge",
    path=f"{API_PREFIX}/queries",
    records_at="results",
    columns={"id": "VARCHAR", "name": "VARCHAR", "type": "VARCHAR", "entity": "VARCHAR", "boolean_query": "VARCHAR"},
    description="Listening queries: the brand's and one per competitor, with their boolean search.",
)
MENTIONS = Stream(
    SOURCE,
    "mentions",
    primary_key=("query_id", "id"),
    cursor_field="published_date",
    restatement_days=0,
    disposition="replace_partition",
    path=f"{API_PREFIX}/mentions",
    records_at="results",
    paginator=lambda: NextCursorPaginator(),
    per="queries",
    setting="mention_fields",
    reader="mentions",
    columns={
        "id": "VARCHAR",
        "query_id": "VARCHAR",
        "published_date": "DATE <- $.published_at",
        "published_at": "TIMESTAMPTZ",
        "platform": "VARCHAR",
        "language": "VARCHAR",
        "author_id": "VARCHAR <- $.author.id",
        "author_handle": "VARCHAR <- $.author.handle",
        "author_type": "VARCHAR <- $.author.author_type",
        "author_followers": "BIGINT <- $.author.followers",
        "reach": "BIGINT",
        "likes": "BIGINT <- $.engagement.likes",
        "comments": "BIGINT <- $.engagement.comments",
        "shares": "BIGINT <- $.engagement.shares",
        "text": "VARCHAR",
        "url": "VARCHAR",
        "links": "JSON",
    },
    description="Mentions matched by each listening query, per UTC day of publication (no sentiment: "
    "the warehouse scores it).",
)
STREAMS = (QUERIES, MENTIONS)


def classify_listening_error(resp: requests.Response, url: str) -> ApiError | None:
    """`{"errors": [{"code", "message"}]}` into a retryable or fatal error that says what to fix."""
    try:
        errors = resp.json().get("errors") or []
    except (ValueError, AttributeError):
        return None  # not the platform's body (a proxy page): the core decides
    message = "; ".join(str(e.get("message", "")) for e in errors if isinstance(e, dict)) or resp.reason or ""
    code = next((e.get("code") for e in errors if isinstance(e, dict) and "code" in e), None)
    kw = dict(status=resp.status_code, code=code, url=url, retry_after=retry_after_seconds(resp))
    if resp.status_code in (401, 403):
        return AuthError(SOURCE, f"{message}. The token was refused: set a valid token in LISTENING_TOKEN", **kw)
    if resp.status_code == 429 or resp.status_code >= 500:
        return RetryableError(SOURCE, message, **kw)
    if resp.status_code == 404 and "Query" in message:
        return FatalError(SOURCE, f"{message}. Check the query ids in LISTENING_QUERY_IDS", **kw)
    return FatalError(SOURCE, message, **kw)


def read_listening_throttle(resp: requests.Response) -> float:
    """Seconds to pause: only when the quota is spent and the platform says when it resets.

    `X-RateLimit-Remaining: 0` alone says nothing about when the window (30 calls per 10
    minutes) reopens; the next call then gets a 429 whose `Retry-After` the core honours.
    """
    try:
        remaining = resp.headers.get("X-RateLimit-Remaining")
        reset = resp.headers.get("X-RateLimit-Reset")
        if remaining is not None and int(remaining) <= 0 and reset:
            value = float(reset)
            # an epoch timestamp or a number of seconds
            return max(0.0, value - time.time()) if value > 1e9 else max(0.0, value)
    except (TypeError, ValueError):
        log.warning("[%s] could not read rate-limit headers; not pausing", SOURCE)
    return 0.0


@dataclass
class NextCursorPaginator(Paginator):
    """A top-level `nextCursor`, present only while more remain, passed back as `cursor`.

    The same cursor may come back when the platform serves a page again (its records repeat,
    the loader keeps one copy); coming back more than `max_repeats` times in a row is a loop.
    """

    cursor_path: str = "nextCursor"  # a top-level field
    param: str = "cursor"
    max_repeats: int = 5
    guard: LoopGuard | None = None

    def next_params(self, body: Any, params: dict) -> dict | None:
        cursor = body.get(self.cursor_path) if isinstance(body, dict) else None
        if not cursor:
            return None
        if self.guard is None:
            self.guard = LoopGuard(SOURCE, "cursor", max_repeats=self.max_repeats)
        self.guard.check(cursor)
        return {**params, self.param: cursor}


class ListeningClient(SourceClient):
    """Queries and mentions. Base URL, token and query ids come from the caller (the environment)."""

    SOURCE = SOURCE
    IDS = {"queries": ("query_ids", "listening queries", "LISTENING_QUERY_IDS")}

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        query_ids: Sequence[str] = (),
        mention_fields: Sequence[str] = DEFAULT_MENTION_FIELDS,
        page_size: int = 1000,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if not token:
            raise AuthError(SOURCE, "no access token: set LISTENING_TOKEN")
        if not 1 <= page_size <= 1000:
            raise ValueError(f"{SOURCE}: page_size must be 1-1000, got {page_size}")
        super().__init__(STREAMS)
        self.query_ids = list(query_ids)
        self.mention_fields = tuple(mention_fields)
        self.page_size = page_size
        self.http = self.http_core(
            base_url,
            headers={"Authorization": f"Bearer {token}"},
            secrets=(token,),
            retry=retry,
            classify_error=classify_listening_error,
            read_throttle=read_listening_throttle,
            sleep=sleep,
        )

    # The queries stream is the declared read (`read_walk`): one page of `results`.

    def read_mentions(self, stream: Stream, day: date) -> Iterator[list[dict]]:
        for query_id in self.ids(stream):
            yield from self.mention_pages(query_id, day)

    def mention_pages(self, query_id: str, day: date) -> Iterator[list[dict]]:
        """Each page of one query's mentions published on `day` (UTC), as the API sent them."""
        params = {
            "query_id": query_id,
            "start": day.isoformat(),
            "end": (day + timedelta(days=1)).isoformat(),
            "limit": str(self.page_size),
        }
        for page in self.walk(self.stream(MENTIONS.name), params=params):
            self.check_fields(page)
            yield page

    def check_fields(self, page: list[dict]) -> None:
        """A configured field that no record of a page carries has been retired or renamed by
        the platform: stop, rather than load a column of nulls. (One record lacking it is
        a malformed record and goes to the rejects.)"""
        if len(page) < 2:
            return
        missing = [f for f in self.mention_fields if not any(f in r for r in page)]
        if missing:
            raise FatalError(
                SOURCE,
                f"the mentions API no longer returns field(s) {', '.join(missing)}: "
                "remove them from `mention_fields` in the listening resource configuration "
                "(or map the platform's new name)",
            )
