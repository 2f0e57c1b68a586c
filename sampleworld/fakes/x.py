"""A fake of the X API v2 endpoints the warehouse reads, in their real shapes.

- `GET /2/users/{id}/tweets` (user timeline): newest first, `max_results` 5-100 (default
  10), `start_time`/`end_time`/`since_id`/`until_id`/`exclude`, paging with
  `pagination_token` (`meta.next_token`, `meta.previous_token`). Only the 3,200 most recent
  posts are reachable. `non_public_metrics`/`organic_metrics` need a user-context token
  (app-only gets 403 "Unsupported Authentication") and exist only for posts under 30 days
  old: for older ones the fields are left out and `errors[]` carries a "Field
  Authorization Error" per post, beside `data`, with HTTP 200 (as X does).
- `GET /2/tweets/search/recent?query=`: the last 7 days of posts mentioning the brand or a
  competitor, newest first, `max_results` 10-100, `since_id`/`until_id`, paging with
  `next_token` (X also takes `pagination_token` here; so does the fake);
  `expansions=author_id` adds `includes.users`. `sort_order=relevancy` is accepted and served
  in recency order (the same posts).
- `GET /2/tweets/counts/recent?query=&granularity=minute|hour|day` (default hour): buckets
  `{end,start,tweet_count}` over the last 7 days (default end: now minus 30 s; start_time
  older than 7 days or end_time later than now minus 10 s is a 400), `since_id`/`until_id`,
  `meta.total_tweet_count`.
- `GET /2/users/{id}`, `GET /2/users/by/username/{username}`.

Each endpoint accepts exactly the query parameters X documents for it
(`ACCEPTED_PARAMETERS`); any other gets X's 400 "Invalid Request" body with one error per
parameter, "The query parameter [foo] is not one of [...]" (so a `next_token` sent to a
timeline, which pages with `pagination_token`, is refused as X refuses it), and a path
parameter sent again in the query gets "Duplicate parameters are not allowed". Accepted
parameters the fake has nothing for (`media.fields`, `poll.fields`, `place.fields`,
`search_count.fields`, `expansions` but `author_id` on search) change nothing.

"Now" is `as_of` 00:00:00Z. Tokens: an app-only Bearer and a user-context token (both sent
as `Authorization: Bearer`). Every answer of an endpoint the fake serves (a refused 400
included; not a 401) has `x-rate-limit-limit/remaining/reset` (integers; reset in epoch
seconds); 429 and 401 bodies are X's problem-details bodies. `partial_error_rate` (an app attribute, off by
default) is the partial-failure fault: a 200 page where one post is missing from `data`
and named in `errors[]` (resource-not-found), to be fetched again.
Public and private metrics of posts under `RESTATE_DAYS` old are provisional and move with
`epoch` (see sampleworld/restatement.py); older posts are frozen.
The bad-record fault (`bad_record_rate`) adds a malformed copy of a post to a timeline or
search page (no `id`, or `created_at` unreadable; never on a page with a post missing, which
a client fetches again) and of a bucket to a windowed counts answer (no `start`, or
`tweet_count` unreadable; the default window a client reads X's clock from is left alone).
A user lookup is one object, not a list: it gets none.
"""

from __future__ import annotations

import base64
import bisect
import json
import re
import threading
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sampleworld import restatement
from sampleworld.entities import BRAND, COMPETITORS
from sampleworld.fakes.base import App, Request, Response
from sampleworld.jsonl import read_jsonl

NAME = "x"
DOMAINS = ("x",)
APP_TOKEN = "sample-x-app-only-bearer"
USER_TOKEN = "sample-x-user-context-token"
TIMELINE_CAP = 3200
RESTATE_DAYS = restatement.WINDOWS["x"]  # posts from the last two days before as_of are provisional
PRIVATE_DAYS = 30  # non-public/organic metrics exist for posts younger than this
METRIC_GROUPS = ("public_metrics", "non_public_metrics", "organic_metrics")
TWEET_FIELDS = frozenset(
    {
        "attachments",
        "author_id",
        "context_annotations",
        "conversation_id",
        "created_at",
        "edit_controls",
        "edit_history_tweet_ids",
        "entities",
        "geo",
        "id",
        "in_reply_to_user_id",
        "lang",
        "non_public_metrics",
        "organic_metrics",
        "possibly_sensitive",
        "promoted_metrics",
        "public_metrics",
        "referenced_tweets",
        "reply_settings",
        "source",
        "text",
        "withheld",
        "note_tweet",
    }
)
USER_FIELDS = frozenset(
    {
        "created_at",
        "description",
        "id",
        "name",
        "public_metrics",
        "username",
        "verified",
        "location",
        "profile_image_url",
        "protected",
        "url",
    }
)
LIMITS = {"timeline": (900, 1500), "search": (180, 450), "counts": (300, 300), "users": (900, 300)}
# The query parameters each endpoint accepts (X API v2 reference), in the order X lists them in
# its 400 for any other one: "The query parameter [foo] is not one of [...]" (path parameters
# first; e.g. the body quoted in plhery/node-twitter-api-v2#597). Timelines page with
# `pagination_token` only; recent search and counts take `next_token` and `pagination_token`.
_EXPANSIONS = ("expansions", "tweet.fields", "media.fields", "poll.fields", "place.fields", "user.fields")
ACCEPTED_PARAMETERS = {
    "timeline": (
        "id",
        "since_id",
        "until_id",
        "max_results",
        "pagination_token",
        "exclude",
        "start_time",
        "end_time",
        *_EXPANSIONS,
    ),
    "search": (
        "query",
        "start_time",
        "end_time",
        "since_id",
        "until_id",
        "max_results",
        "next_token",
        "pagination_token",
        "sort_order",
        *_EXPANSIONS,
    ),
    "counts": (
        "query",
        "start_time",
        "end_time",
        "since_id",
        "until_id",
        "next_token",
        "pagination_token",
        "granularity",
        "search_count.fields",
    ),
    "user": ("id", "expansions", "tweet.fields", "user.fields"),
    "user_by_username": ("username", "expansions", "tweet.fields", "user.fields"),
}
LIMITED = {
    "timeline": "timeline",
    "search": "search",
    "counts": "counts",
    "user": "users",
    "user_by_username": "users",
}  # endpoint -> its rate-limit bucket in LIMITS
ENTITY_TERMS = {
    BRAND["handle"]: {BRAND["handle"], BRAND["name"].lower()},
    **{c["handle"]: {c["handle"], c["name"].lower()} for c in COMPETITORS},
}


def parse_ts(value: str) -> datetime:
    v = value.strip().replace("Z", "+00:00")
    dt = datetime.fromisoformat(v)
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def fmt_ts(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def problem(status: int, title: str, detail: str | None = None, type_: str = "about:blank", **extra) -> dict:
    return {"title": title, "detail": detail or title, "type": type_, "status": status, **extra}


def invalid_request(errors: list[dict]) -> Response:
    return Response.json(
        400,
        {
            "errors": errors,
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request",
        },
    )


def _token(offset: int, key: str) -> str:
    return base64.b32encode(f"{offset}:{key}".encode()).decode().lower().rstrip("=")


def _untoken(token: str) -> tuple[int, str] | None:
    try:
        raw = base64.b32decode(token.upper() + "=" * (-len(token) % 8)).decode()
        offset, key = raw.split(":", 1)
        return int(offset), key
    except Exception:  # noqa: BLE001 - any malformed token is a 400
        return None


def query_entities(query: str) -> set[str]:
    words = set(re.findall(r"[a-z0-9_]+", (query or "").lower()))
    negated = set(re.findall(r"-@?([a-z0-9_]+)", (query or "").lower()))
    return {e for e, terms in ENTITY_TERMS.items() if (terms & words) - negated}


class XApp(App):
    name = "x"

    def __init__(
        self,
        world_dir: Path,
        app_token: str = APP_TOKEN,
        user_token: str = USER_TOKEN,
        timeline_cap: int = TIMELINE_CAP,
        partial_error_rate: float = 0.0,
    ):
        world_dir = Path(world_dir)
        self.app_token, self.user_token = app_token, user_token
        self.timeline_cap = timeline_cap
        self.partial_error_rate = partial_error_rate
        truths = json.loads((world_dir / "truths.json").read_text())
        self.as_of = date.fromisoformat(truths["spec"]["as_of"])
        self.now = datetime(self.as_of.year, self.as_of.month, self.as_of.day, tzinfo=UTC)
        self.window_start = self.now - timedelta(days=7)
        self.users = {u["id"]: u for u in json.loads((world_dir / "x" / "accounts.json").read_text())}
        self.by_username = {u["username"].lower(): u for u in self.users.values()}
        # Prepared once: each account's timeline newest first; the last 7 days of mentions.
        timelines: dict[str, list[dict]] = defaultdict(list)
        for rec in read_jsonl(world_dir / "x" / "posts.jsonl"):
            timelines[rec["author_id"]].append(rec)
        self.timelines = {k: sorted(v, key=lambda r: int(r["id"]), reverse=True) for k, v in timelines.items()}
        for uid in self.users:
            self.timelines.setdefault(uid, [])
        mentions = [
            r for r in read_jsonl(world_dir / "x" / "mentions.jsonl") if parse_ts(r["created_at"]) >= self.window_start
        ]
        self.mentions = sorted(mentions, key=lambda r: int(r["id"]), reverse=True)
        self._by_entity_times: dict[str, list[datetime]] = defaultdict(list)
        for r in self.mentions:
            self._by_entity_times[r["_meta"]["about"]].append(parse_ts(r["created_at"]))
        for v in self._by_entity_times.values():
            v.sort()
        self.mention_users = {r["author_id"]: r["_meta"]["author"] for r in self.mentions}
        self._calls: dict[tuple[str, str], int] = defaultdict(int)
        self._lock = threading.Lock()

    # -- what the fake serves now ------------------------------------------------------------
    def post_metrics(self, rec: dict) -> dict[str, dict]:
        """The metric groups of a post as served now (recent posts are provisional)."""
        day = parse_ts(rec["created_at"]).date()
        out = {}
        for group in METRIC_GROUPS:
            if group not in rec:
                continue
            if (self.as_of - day).days >= RESTATE_DAYS:
                out[group] = rec[group]
            else:
                out[group] = {
                    k: restatement.restated_int(v, day, self.as_of, RESTATE_DAYS, self.epoch, rec["id"] + k)
                    for k, v in rec[group].items()
                }
        return out

    def private_ok(self, rec: dict) -> bool:
        return (self.now - parse_ts(rec["created_at"])) < timedelta(days=PRIVATE_DAYS)

    def served(self, rec: dict, fields: set[str], user_context: bool = True) -> dict:
        out = {"id": rec["id"], "text": rec["text"], "edit_history_tweet_ids": rec["edit_history_tweet_ids"]}
        metrics = self.post_metrics(rec) if fields & set(METRIC_GROUPS) else {}
        for f in sorted(fields):
            if f in out or f not in rec or f.startswith("_"):
                continue
            if f in ("non_public_metrics", "organic_metrics"):
                if user_context and self.private_ok(rec):
                    out[f] = metrics[f]
                continue
            out[f] = metrics.get(f, rec[f])
        return out

    def timeline(self, user_id: str) -> list[dict]:
        """The posts reachable on a user's timeline: the most recent `timeline_cap`."""
        return self.timelines.get(user_id, [])[: self.timeline_cap]

    def current_posts(
        self,
        user_id: str,
        fields=("created_at", "public_metrics"),
        user_context: bool = True,
        start_time: str | None = None,
        end_time: str | None = None,
    ) -> list[dict]:
        recs = self._filter_time(self.timeline(user_id), start_time, end_time)
        return [self.served(r, set(fields), user_context) for r in recs]

    def current_mentions(self, query: str, fields=("created_at", "public_metrics", "author_id")) -> list[dict]:
        ents = query_entities(query)
        return [self.served(r, set(fields)) for r in self.mentions if r["_meta"]["about"] in ents]

    def current_counts(
        self, query: str, granularity: str = "hour", start: datetime | None = None, end: datetime | None = None
    ) -> list[dict]:
        return self._counts(
            query_entities(query), granularity, start or self.window_start, end or self.now - timedelta(seconds=30)
        )

    # -- HTTP ---------------------------------------------------------------------------------
    def _headers(self, endpoint: str, token: str, count: bool = True) -> dict[str, str]:
        user, app = LIMITS[endpoint]
        limit = user if token == self.user_token else app
        with self._lock:
            self._calls[(endpoint, token)] += count
            used = self._calls[(endpoint, token)]
        reset = (int(time.time()) // 900 + 1) * 900
        return {
            "x-rate-limit-limit": str(limit),
            "x-rate-limit-remaining": str(max(0, limit - used % limit)),
            "x-rate-limit-reset": str(reset),
        }

    def server_error(self, status: int) -> Response:
        titles = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
        return Response.json(status, problem(status, titles.get(status, "Service Unavailable")))

    def rate_limited(self, retry_after_s: int) -> Response:
        return Response.json(
            429,
            problem(429, "Too Many Requests"),
            {
                "x-rate-limit-limit": "900",
                "x-rate-limit-remaining": "0",
                "x-rate-limit-reset": str(int(time.time()) + retry_after_s),
            },
        )

    def handle(self, req: Request) -> Response:
        token = req.bearer()
        if token not in (self.app_token, self.user_token) or req.param("access_token"):
            return Response.json(401, problem(401, "Unauthorized"))
        if req.method != "GET":
            return Response.json(405, problem(405, "Method Not Allowed"))
        route = self._route(req.path)
        if route is None:
            return Response.json(404, {"errors": [{"message": "Sorry, that page does not exist", "code": 34}]})
        endpoint, path_params = route
        refused = self._refuse_parameters(req, endpoint, path_params)
        if refused is not None:
            return self._with_limits(refused, endpoint, token, count=True)
        if endpoint == "timeline":
            resp = self._timeline(req, path_params["id"], token)
        elif endpoint == "search":
            resp = self._search(req, token)
        elif endpoint == "counts":
            resp = self._counts_endpoint(req, token)
        else:
            resp = self._user(req, path_params.get("id"), path_params.get("username"), token)
        if "x-rate-limit-limit" not in resp.headers:
            # a refusal (400) carries the rate-limit headers too; the endpoint counted the call already
            resp = self._with_limits(resp, endpoint, token, count=False)
        return resp

    def _with_limits(self, resp: Response, endpoint: str, token: str, count: bool) -> Response:
        return Response(resp.status, resp.body, {**resp.headers, **self._headers(LIMITED[endpoint], token, count)})

    @staticmethod
    def _route(path: str) -> tuple[str, dict[str, str]] | None:
        """(endpoint, path parameters) of a path the fake serves, or None."""
        m = re.fullmatch(r"/2/users/(\d+)/tweets", path)
        if m:
            return "timeline", {"id": m.group(1)}
        if path == "/2/tweets/search/recent":
            return "search", {}
        if path == "/2/tweets/counts/recent":
            return "counts", {}
        m = re.fullmatch(r"/2/users/(\d+)", path)
        if m:
            return "user", {"id": m.group(1)}
        m = re.fullmatch(r"/2/users/by/username/(\w+)", path)
        if m:
            return "user_by_username", {"username": m.group(1)}
        return None

    @staticmethod
    def _refuse_parameters(req: Request, endpoint: str, path_params: dict[str, str]) -> Response | None:
        """X's 400 for a query parameter the endpoint does not know (one error per parameter,
        listing what the endpoint accepts), or for a path parameter sent again in the query."""
        accepted = ACCEPTED_PARAMETERS[endpoint]
        errors = []
        for name, value in req.query.items():
            if name in path_params:
                errors.append(
                    {
                        "parameters": {name: [path_params[name], value]},
                        "message": f"Duplicate parameters are not allowed: the `{name}` query parameter",
                    }
                )
            elif name not in accepted:
                errors.append(
                    {
                        "parameters": {name: [value]},
                        "message": f"The query parameter [{name}] is not one of [{','.join(accepted)}]",
                    }
                )
        return invalid_request(errors) if errors else None

    def _fields(self, req: Request, name: str, allowed: frozenset) -> tuple[set[str], Response | None]:
        fields = [f for f in (req.param(name) or "").split(",") if f]
        bad = [f for f in fields if f not in allowed or f in self.faults.retired_metrics]
        if bad:
            return set(), invalid_request(
                [
                    {
                        "parameters": {name: [",".join(fields)]},
                        "message": f"The `{name}` query parameter value [{bad[0]}] is not one of "
                        f"[{','.join(sorted(allowed - set(self.faults.retired_metrics)))}]",
                    }
                ]
            )
        return set(fields), None

    def _max_results(self, req: Request, low: int, high: int, default: int) -> tuple[int, Response | None]:
        raw = req.param("max_results")
        try:
            n = int(raw) if raw is not None else default
        except ValueError:
            n = -1
        if not low <= n <= high:
            return 0, invalid_request(
                [
                    {
                        "parameters": {"max_results": [str(raw)]},
                        "message": f"The `max_results` query parameter value [{raw}] is not between {low} and {high}",
                    }
                ]
            )
        return n, None

    def _times(self, req: Request, recent: bool) -> tuple[datetime | None, datetime | None, Response | None]:
        out = []
        for name in ("start_time", "end_time"):
            raw = req.param(name)
            if raw is None:
                out.append(None)
                continue
            try:
                out.append(parse_ts(raw))
            except ValueError:
                return (
                    None,
                    None,
                    invalid_request(
                        [
                            {
                                "parameters": {name: [raw]},
                                "message": f"Invalid '{name}':'{raw}'. '{name}' must be a valid RFC3339 date-time.",
                            }
                        ]
                    ),
                )
        start, end = out
        if recent:
            earliest = self.window_start
            if start is not None and start < earliest:
                return (
                    None,
                    None,
                    invalid_request(
                        [
                            {
                                "parameters": {"start_time": [req.param("start_time")]},
                                "message": f"Invalid 'start_time':'{req.param('start_time')}'. "
                                f"'start_time' must be on or after {fmt_ts(earliest)}",
                            }
                        ]
                    ),
                )
            latest = self.now - timedelta(seconds=10)
            if end is not None and end > latest:
                return (
                    None,
                    None,
                    invalid_request(
                        [
                            {
                                "parameters": {"end_time": [req.param("end_time")]},
                                "message": f"Invalid 'end_time':'{req.param('end_time')}'. "
                                "'end_time' must be a minimum of 10 seconds prior to "
                                "the request time.",
                            }
                        ]
                    ),
                )
        if start is not None and end is not None and start >= end:
            return (
                None,
                None,
                invalid_request(
                    [
                        {
                            "parameters": {
                                "start_time": [req.param("start_time")],
                                "end_time": [req.param("end_time")],
                            },
                            "message": "Invalid 'start_time' and 'end_time'. 'start_time' must be before 'end_time'.",
                        }
                    ]
                ),
            )
        return start, end, None

    @staticmethod
    def _between_ids(req: Request, recs: list[dict]) -> tuple[list[dict], Response | None]:
        """`since_id` (newer than) and `until_id` (older than): post ids grow with time."""
        for name, keep in (("since_id", lambda r, v: int(r["id"]) > v), ("until_id", lambda r, v: int(r["id"]) < v)):
            raw = req.param(name)
            if raw is None:
                continue
            if not raw.isdigit():
                return recs, invalid_request(
                    [
                        {
                            "parameters": {name: [raw]},
                            "message": f"The `{name}` query parameter value [{raw}] is not valid",
                        }
                    ]
                )
            recs = [r for r in recs if keep(r, int(raw))]
        return recs, None

    @staticmethod
    def _filter_time(recs: list[dict], start, end) -> list[dict]:
        if isinstance(start, str):
            start = parse_ts(start)
        if isinstance(end, str):
            end = parse_ts(end)
        if start is None and end is None:
            return recs
        return [
            r
            for r in recs
            if (start is None or parse_ts(r["created_at"]) >= start)
            and (end is None or parse_ts(r["created_at"]) < end)
        ]

    def _page(
        self,
        req: Request,
        recs: list[dict],
        fields: set[str],
        user_context: bool,
        limit: int,
        token_params: tuple[str, ...],
        key: str,
        extra_meta: dict | None = None,
    ) -> dict:
        # the first of `token_params` is the endpoint's own; recent search also takes the other
        token_param = next((t for t in token_params if req.param(t)), token_params[0])
        raw = req.param(token_param)
        offset = 0
        if raw:
            parsed = _untoken(raw)
            offset = parsed[0] if parsed and parsed[1] == key else -1
        if offset < 0:
            return {
                "_error": invalid_request(
                    [
                        {
                            "parameters": {token_param: [raw]},
                            "message": f"The `{token_param}` query parameter value [{raw}] is not valid",
                        }
                    ]
                )
            }
        start, nxt = self.page_window(offset, limit)
        page_recs = recs[start : start + limit]
        if not page_recs:
            return {"meta": {"result_count": 0}}
        data = [self.served(r, fields, user_context) for r in page_recs]
        errors = []
        if user_context and fields & {"non_public_metrics", "organic_metrics"}:
            for r in page_recs:
                if not self.private_ok(r):
                    for f in sorted(fields & {"non_public_metrics", "organic_metrics"}):
                        errors.append(
                            {
                                "value": r["id"],
                                "detail": f"Sorry, you are not authorized to access '{f}' on this Tweet.",
                                "title": "Field Authorization Error",
                                "resource_type": "tweet",
                                "parameter": f,
                                "resource_id": r["id"],
                                "type": "https://api.twitter.com/2/problems/not-authorized-for-field",
                            }
                        )
        partial = self._chance(self.partial_error_rate)
        if partial:
            i = self._rng.randrange(len(data)) if hasattr(self, "_rng") else 0
            lost = data.pop(i)
            errors.append(
                {
                    "value": lost["id"],
                    "detail": f"Could not find tweet with id: [{lost['id']}].",
                    "title": "Not Found Error",
                    "resource_type": "tweet",
                    "parameter": "id",
                    "resource_id": lost["id"],
                    "type": "https://api.twitter.com/2/problems/resource-not-found",
                }
            )
        body: dict = {}
        if data:
            data = self.decorate(data)
            # A bad-record fault: one malformed copy of a post (no `id`, or an unreadable
            # `created_at`). Not on a page with a post missing: the client fetches that page
            # again, so a bad record on it would never be delivered.
            body["data"] = data if partial else self.inject_bad(data, "id", "created_at")
            data = body["data"]
        meta = {"result_count": len(data), "newest_id": page_recs[0]["id"], "oldest_id": page_recs[-1]["id"]}
        if nxt < len(recs):
            meta["next_token"] = _token(nxt, key)
        if start > 0 and token_params[0] == "pagination_token":
            meta["previous_token"] = _token(max(0, start - limit), key)
        body["meta"] = {**meta, **(extra_meta or {})}
        if errors:
            body["errors"] = errors
        return body

    def _timeline(self, req: Request, user_id: str, token: str) -> Response:
        headers = self._headers("timeline", token)
        if user_id not in self.users:
            return Response.json(
                200,
                {
                    "errors": [
                        {
                            "value": user_id,
                            "detail": f"Could not find user with id: [{user_id}].",
                            "title": "Not Found Error",
                            "resource_type": "user",
                            "parameter": "id",
                            "resource_id": user_id,
                            "type": "https://api.twitter.com/2/problems/resource-not-found",
                        }
                    ]
                },
                headers,
            )
        fields, err = self._fields(req, "tweet.fields", TWEET_FIELDS)
        if err:
            return err
        user_context = token == self.user_token
        if fields & {"non_public_metrics", "organic_metrics", "promoted_metrics"} and not user_context:
            return Response.json(
                403,
                problem(
                    403,
                    "Unsupported Authentication",
                    "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  Supported "
                    "authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context].",
                    "https://api.twitter.com/2/problems/unsupported-authentication",
                ),
                headers,
            )
        limit, err = self._max_results(req, 5, 100, 10)
        if err:
            return err
        start, end, err = self._times(req, recent=False)
        if err:
            return err
        if self.restate_on_pull and not req.param("pagination_token"):
            self.restate()
        recs = self._filter_time(self.timeline(user_id), start, end)
        exclude = set((req.param("exclude") or "").split(","))
        if "replies" in exclude:
            recs = [r for r in recs if "in_reply_to_user_id" not in r]
        recs, err = self._between_ids(req, recs)
        if err:
            return err
        key = f"t{user_id}"
        body = self._page(req, recs, fields, user_context, limit, ("pagination_token",), key)
        if "_error" in body:
            return body["_error"]
        return Response.json(200, body, headers)

    def _search(self, req: Request, token: str) -> Response:
        headers = self._headers("search", token)
        query = req.param("query")
        if not query:
            return invalid_request(
                [{"parameters": {"query": []}, "message": "The `query` query parameter can not be empty"}]
            )
        fields, err = self._fields(
            req, "tweet.fields", TWEET_FIELDS - {"non_public_metrics", "organic_metrics", "promoted_metrics"}
        )
        if err:
            return err
        ufields, err = self._fields(req, "user.fields", USER_FIELDS)
        if err:
            return err
        limit, err = self._max_results(req, 10, 100, 10)
        if err:
            return err
        start, end, err = self._times(req, recent=True)
        if err:
            return err
        sort_order = req.param("sort_order", "recency")
        if sort_order not in ("recency", "relevancy"):
            return invalid_request(
                [
                    {
                        "parameters": {"sort_order": [sort_order]},
                        "message": f"The `sort_order` query parameter value [{sort_order}] is not one "
                        "of [recency,relevancy]",
                    }
                ]
            )
        ents = query_entities(query)
        recs = [r for r in self.mentions if r["_meta"]["about"] in ents]
        recs = self._filter_time(recs, start, end)
        recs, err = self._between_ids(req, recs)
        if err:
            return err
        body = self._page(
            req, recs, fields, True, limit, ("next_token", "pagination_token"), "s" + ",".join(sorted(ents))
        )
        if "_error" in body:
            return body["_error"]
        if "data" in body and "author_id" in (req.param("expansions") or "").split(","):
            seen, users = set(), []
            for t in body["data"]:
                # a malformed copy (bad-record fault) may lack its id: it expands no author
                uid = next((r["author_id"] for r in recs if r["id"] == t.get("id")), None)
                if uid is None or uid in seen:
                    continue
                seen.add(uid)
                a = self.mention_users[uid]
                u = {"id": uid, "name": a["name"], "username": a["username"]}
                if "public_metrics" in ufields:
                    u["public_metrics"] = {
                        "followers_count": a["followers_count"],
                        "following_count": 180,
                        "tweet_count": 900,
                        "listed_count": 2,
                    }
                users.append(u)
            body = {
                "data": body["data"],
                "includes": {"users": users},
                **{k: v for k, v in body.items() if k != "data"},
            }
        return Response.json(200, body, headers)

    def _counts(
        self, ents: set[str], granularity: str, start: datetime, end: datetime, only: list[dict] | None = None
    ) -> list[dict]:
        """Buckets over [start, end); `only` (posts left after since_id/until_id) narrows the count."""
        step = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}[granularity]
        if only is None:
            times = sorted(t for e in ents for t in self._by_entity_times.get(e, []))
        else:
            times = sorted(parse_ts(r["created_at"]) for r in only)
        out = []
        lo = start
        while lo < end:
            if granularity == "day":
                nb = datetime(lo.year, lo.month, lo.day, tzinfo=UTC) + step
            elif granularity == "hour":
                nb = lo.replace(minute=0, second=0, microsecond=0) + step
            else:
                nb = lo.replace(second=0, microsecond=0) + step
            hi = min(nb, end)
            n = bisect.bisect_left(times, hi) - bisect.bisect_left(times, lo)
            out.append({"end": fmt_ts(hi), "start": fmt_ts(lo), "tweet_count": n})
            lo = hi
        return out

    def _counts_endpoint(self, req: Request, token: str) -> Response:
        headers = self._headers("counts", token)
        query = req.param("query")
        if not query:
            return invalid_request(
                [{"parameters": {"query": []}, "message": "The `query` query parameter can not be empty"}]
            )
        granularity = req.param("granularity", "hour")
        if granularity not in ("minute", "hour", "day"):
            return invalid_request(
                [
                    {
                        "parameters": {"granularity": [granularity]},
                        "message": f"The `granularity` query parameter value [{granularity}] is not one "
                        "of [minute,hour,day]",
                    }
                ]
            )
        start, end, err = self._times(req, recent=True)
        if err:
            return err
        ents, only = query_entities(query), None
        if req.param("since_id") is not None or req.param("until_id") is not None:
            only, err = self._between_ids(req, [r for r in self.mentions if r["_meta"]["about"] in ents])
            if err:
                return err
        data = self._counts(
            ents, granularity, start or self.window_start, end or self.now - timedelta(seconds=30), only
        )
        total = sum(b["tweet_count"] for b in data)
        if start is not None:
            # A bad-record fault: one malformed copy of a bucket (no `start`, or an unreadable
            # `tweet_count`), in the windowed requests whose buckets a client loads. The
            # default window (no start_time) is what a client reads X's clock from: left alone.
            data = self.inject_bad(data, "start", "tweet_count")
        return Response.json(200, {"data": data, "meta": {"total_tweet_count": total}}, headers)

    def _user(self, req: Request, user_id: str | None, username: str | None, token: str) -> Response:
        headers = self._headers("users", token)
        fields, err = self._fields(req, "user.fields", USER_FIELDS)
        if err:
            return err
        u = self.users.get(user_id) if user_id else self.by_username.get((username or "").lower())
        if u is None:
            value = user_id or username
            kind = "id" if user_id else "username"
            return Response.json(
                200,
                {
                    "errors": [
                        {
                            "value": value,
                            "detail": f"Could not find user with {kind}: [{value}].",
                            "title": "Not Found Error",
                            "resource_type": "user",
                            "parameter": kind,
                            "resource_id": value,
                            "type": "https://api.twitter.com/2/problems/resource-not-found",
                        }
                    ]
                },
                headers,
            )
        data = {"id": u["id"], "name": u["name"], "username": u["username"]}
        for f in sorted(fields):
            if f in u and f not in data:
                data[f] = u[f]
        return Response.json(200, {"data": data}, headers)


def make_app(world_dir: Path) -> XApp:
    return XApp(world_dir)


def env(url: str, app: XApp) -> dict[str, str]:
    return {
        "X_BASE_URL": url,
        "X_BEARER_TOKEN": app.app_token,
        "X_USER_ACCESS_TOKEN": app.user_token,
        "X_USER_IDS": ",".join(sorted(app.users)),
        "X_LISTENING_QUERY": f"({BRAND['name']} OR @{BRAND['handle']}) -is:retweet",
    }
