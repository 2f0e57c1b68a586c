"""The X fake, walked with plain `requests`: every page of every endpoint gives exactly the
simulator's records as served now, with faults off and on; its limits (3,200 posts, 7 days,
30 days for private metrics, user-context for private metrics), errors and restatement."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
import requests
from conftest import TEST_SPEC

from sampleworld.entities import build
from sampleworld.fakes.base import EXTRA_FIELD, FakeServer, FaultConfig
from sampleworld.fakes.x import APP_TOKEN, USER_TOKEN, XApp, fmt_ts, parse_ts

FIELDS = "created_at,public_metrics,non_public_metrics,organic_metrics"
FAULTS = FaultConfig(
    error_rate=0.1,
    rate_limit_rate=0.06,
    retry_after_s=0,
    truncate_rate=0.06,
    repeat_page_rate=0.15,
    extra_field_rate=0.1,
    seed=11,
)
USER = {"Authorization": f"Bearer {USER_TOKEN}"}
APP = {"Authorization": f"Bearer {APP_TOKEN}"}


class Client:
    """A plain test client: retries 5xx, 429, cut-off JSON and X's partial failures
    (a 200 whose `errors[]` names a post as not found); counts what it retried."""

    def __init__(self, base: str, headers: dict | None = None, attempts: int = 30):
        self.base, self.headers, self.attempts = base, headers or {}, attempts
        self.retries = 0

    def get(self, path: str, params: dict | None = None) -> requests.Response:
        for _ in range(self.attempts):
            r = requests.get(self.base + path, params=params, headers=self.headers, timeout=10)
            if r.status_code == 429 or r.status_code >= 500:
                self.retries += 1
                continue
            if r.status_code == 200:
                try:
                    body = r.json()
                except ValueError:
                    self.retries += 1
                    continue
                if any(
                    e.get("type", "").endswith("/resource-not-found") and e.get("resource_type") == "tweet"
                    for e in body.get("errors", [])
                ):
                    self.retries += 1
                    continue
            return r
        raise AssertionError(f"gave up on {path} {params}")

    def walk(
        self,
        path: str,
        params: dict,
        token_param: str,
        next_key=lambda b: b.get("meta", {}).get("next_token"),
        items_key: str = "data",
        id_key: str = "id",
        max_pages: int = 500,
    ) -> tuple[list[dict], list[dict]]:
        """Every record of every page (deduplicated by id, unknown fields dropped) and the bodies.
        More than `max_pages` pages means the token is not followed: a failure, not a hang."""
        seen, out, bodies = set(), [], []
        params = dict(params)
        while True:
            if len(bodies) >= max_pages:
                raise AssertionError(f"{path}: more than {max_pages} pages; is {token_param} ignored?")
            body = self.get(path, params).json()
            bodies.append(body)
            for rec in body.get(items_key, []):
                rec = {k: v for k, v in rec.items() if k != EXTRA_FIELD}
                rid = id_key(rec) if callable(id_key) else rec[id_key]
                if rid not in seen:
                    seen.add(rid)
                    out.append(rec)
            nxt = next_key(body)
            if not nxt:
                return out, bodies
            params[token_param] = nxt


@pytest.fixture(scope="module")
def x_app(world):
    return XApp(world)


@pytest.fixture(params=["faults_off", "faults_on"])
def x_server(request, world):
    app = XApp(world)
    faults = FAULTS if request.param == "faults_on" else FaultConfig.off()
    app.partial_error_rate = 0.1 if request.param == "faults_on" else 0.0
    with FakeServer(app, faults) as srv:
        yield srv


def test_timeline_every_post_exactly_once(x_server):
    app = x_server.app
    c = Client(x_server.url, USER)
    for uid in sorted(app.users):
        got, bodies = c.walk(f"/2/users/{uid}/tweets", {"tweet.fields": FIELDS, "max_results": 7}, "pagination_token")
        assert got == app.current_posts(uid, FIELDS.split(","), user_context=True)
        assert len(bodies) > 3 and len(got) > 20
        assert all("non_public_metrics" in t and "organic_metrics" in t for t in got)  # all under 30 days
        assert all(t["created_at"].endswith(".000Z") or t["created_at"][-5] == "." for t in got)
    if x_server.faults.error_rate:
        assert x_server.faults_injected > 0 and c.retries > 0


def test_search_and_counts_every_record(x_server):
    app = x_server.app
    c = Client(x_server.url, APP)
    for query in ("(Lumora OR @lumora) -is:retweet", "brightwave", "@solenne", "kintsu"):
        got, _ = c.walk(
            "/2/tweets/search/recent",
            {"query": query, "max_results": 25, "tweet.fields": "created_at,public_metrics,author_id"},
            "next_token",
        )
        want = app.current_mentions(query, ("created_at", "public_metrics", "author_id"))
        assert got == want and len(got) > 25
        counts = c.get("/2/tweets/counts/recent", {"query": query, "granularity": "day"}).json()
        assert counts["meta"]["total_tweet_count"] == sum(b["tweet_count"] for b in counts["data"])
        assert counts["data"] == app.current_counts(query, "day")
        end = app.now - timedelta(seconds=30)
        assert counts["meta"]["total_tweet_count"] == sum(1 for t in want if parse_ts(t["created_at"]) < end)


def test_counts_match_daily_truth_and_default_hour(world, x_app):
    truth = [json.loads(x) for x in (world / "x" / "mention_counts_daily.jsonl").read_text().splitlines()]
    with FakeServer(x_app) as srv:
        end = fmt_ts(x_app.now - timedelta(seconds=10))
        body = requests.get(
            srv.url + "/2/tweets/counts/recent",
            headers=APP,
            params={"query": "lumora", "granularity": "day", "end_time": end},
        ).json()
        days = {b["start"][:10]: b["tweet_count"] for b in body["data"]}
        expected = {r["date"]: r["mentions"] for r in truth if r["entity"] == "lumora"}
        # the last bucket ends 10 s before midnight: a post in those seconds is not counted yet
        assert all(days[d] == expected[d] for d in list(days)[:-1])
        assert 0 <= expected[list(days)[-1]] - days[list(days)[-1]] <= 2
        hourly = requests.get(srv.url + "/2/tweets/counts/recent", headers=APP, params={"query": "lumora"}).json()
        assert len(hourly["data"]) == 7 * 24  # default granularity: hour, last 7 days
        assert hourly["data"][-1]["end"].endswith("23:59:30.000Z")


def test_seven_day_limit(x_app):
    with FakeServer(x_app) as srv:
        too_old = fmt_ts(x_app.now - timedelta(days=7, minutes=1))
        for path in ("/2/tweets/counts/recent", "/2/tweets/search/recent"):
            r = requests.get(srv.url + path, headers=APP, params={"query": "lumora", "start_time": too_old})
            assert r.status_code == 400
            body = r.json()
            assert body["title"] == "Invalid Request" and "start_time" in body["errors"][0]["parameters"]
        r = requests.get(
            srv.url + "/2/tweets/counts/recent", headers=APP, params={"query": "lumora", "end_time": fmt_ts(x_app.now)}
        )
        assert r.status_code == 400 and "10 seconds" in r.json()["errors"][0]["message"]
    # the search serves nothing older than 7 days even though the world has it
    assert all(parse_ts(t["created_at"]) >= x_app.window_start for t in x_app.current_mentions("lumora"))


def test_timeline_cap_3200(world):
    app = XApp(world, timeline_cap=20)
    uid = sorted(app.users)[0]
    with FakeServer(app) as srv:
        got, _ = Client(srv.url, USER).walk(f"/2/users/{uid}/tweets", {"max_results": 6}, "pagination_token")
        assert len(got) == 20
        assert [t["id"] for t in got] == [t["id"] for t in app.timelines[uid][:20]]
        old = fmt_ts(datetime(2000, 1, 1, tzinfo=UTC))
        got2, _ = Client(srv.url, USER).walk(
            f"/2/users/{uid}/tweets", {"max_results": 100, "start_time": old}, "pagination_token"
        )
        assert len(got2) == 20  # older posts are out of reach whatever the start_time
    assert XApp(world).timeline_cap == 3200


def test_private_metrics_need_user_context_and_30_days(world):
    app = XApp(world)
    uid = sorted(app.users)[0]
    with FakeServer(app) as srv:
        r = requests.get(f"{srv.url}/2/users/{uid}/tweets", headers=APP, params={"tweet.fields": FIELDS})
        assert r.status_code == 403 and r.json()["title"] == "Unsupported Authentication"
        r = requests.get(
            f"{srv.url}/2/users/{uid}/tweets", headers=APP, params={"tweet.fields": "public_metrics,created_at"}
        )
        assert r.status_code == 200 and "non_public_metrics" not in r.json()["data"][0]
        # 27 days later the world's first days are older than 30 days
        app.now += timedelta(days=27)
        body = requests.get(
            f"{srv.url}/2/users/{uid}/tweets", headers=USER, params={"tweet.fields": FIELDS, "max_results": 100}
        ).json()
    old = [t for t in body["data"] if app.now - parse_ts(t["created_at"]) >= timedelta(days=30)]
    assert old and all("non_public_metrics" not in t and "public_metrics" in t for t in old)
    errs = {(e["resource_id"], e["parameter"]) for e in body["errors"]}
    assert errs == {(t["id"], f) for t in old for f in ("non_public_metrics", "organic_metrics")}
    assert {e["title"] for e in body["errors"]} == {"Field Authorization Error"}


def test_errors_as_x_writes_them(x_app):
    uid = sorted(x_app.users)[0]
    with FakeServer(x_app) as srv:
        r = requests.get(f"{srv.url}/2/users/{uid}/tweets", headers={"Authorization": "Bearer nope"})
        assert r.status_code == 401
        assert r.json() == {"title": "Unauthorized", "detail": "Unauthorized", "type": "about:blank", "status": 401}
        r = requests.get(f"{srv.url}/2/users/{uid}/tweets", headers=USER, params={"tweet.fields": "bogus"})
        assert r.status_code == 400 and r.json()["type"].endswith("/invalid-request")
        r = requests.get(f"{srv.url}/2/users/{uid}/tweets", headers=USER, params={"max_results": 500})
        assert r.status_code == 400
        r = requests.get(f"{srv.url}/2/users/42/tweets", headers=USER)
        assert r.status_code == 200 and r.json()["errors"][0]["title"] == "Not Found Error"
        ok = requests.get(f"{srv.url}/2/users/{uid}/tweets", headers=USER)
        assert {"x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset"} <= set(
            ok.headers.keys() | {k.lower() for k in ok.headers}
        )
        assert set(ok.json()["data"][0]) == {"id", "text", "edit_history_tweet_ids"}  # default fields only
        u = requests.get(
            f"{srv.url}/2/users/by/username/lumora", headers=APP, params={"user.fields": "public_metrics"}
        ).json()["data"]
        assert u["id"] == uid and u["public_metrics"]["followers_count"] > 0
    with FakeServer(x_app, FaultConfig(rate_limit_rate=1.0, retry_after_s=0)) as srv:
        r = requests.get(f"{srv.url}/2/users/{uid}/tweets", headers=USER)
        assert r.status_code == 429 and r.headers["x-rate-limit-remaining"] == "0"
        assert r.json() == {
            "title": "Too Many Requests",
            "detail": "Too Many Requests",
            "type": "about:blank",
            "status": 429,
        }


def test_restatement_moves_recent_posts_only(world):
    app = XApp(world)
    uid = sorted(app.users)[0]
    before = {t["id"]: t for t in app.current_posts(uid, FIELDS.split(","))}
    app.restate()
    after = {t["id"]: t for t in app.current_posts(uid, FIELDS.split(","))}
    recent = [
        i
        for i, t in before.items()
        if (app.as_of - parse_ts(t["created_at"]).date()).days == 1 and t["public_metrics"]["impression_count"] > 50
    ]
    old = [i for i, t in before.items() if (app.as_of - parse_ts(t["created_at"]).date()).days >= 3]
    assert recent and old
    assert any(before[i]["public_metrics"] != after[i]["public_metrics"] for i in recent)
    assert all(before[i] == after[i] for i in old)
    assert all(
        after[i]["public_metrics"]["impression_count"] >= before[i]["public_metrics"]["impression_count"]
        for i in recent
    )  # provisional values rise towards the final


def test_link_clicks_follow_the_funnel(world):
    from sampleworld.funnel import funnel

    posts = [json.loads(x) for x in (world / "x" / "posts.jsonl").read_text().splitlines()]
    old_day = TEST_SPEC.start
    clicks = {}
    for p in posts:
        m = p["_meta"]
        if m["kind"] == "post" and m["utm_campaign"] and parse_ts(p["created_at"]).date() == old_day:
            clicks[m["utm_campaign"]] = clicks.get(m["utm_campaign"], 0) + p["non_public_metrics"]["url_link_clicks"]
    sessions = {r.utm_campaign: r.sessions for r in funnel(TEST_SPEC) if r.channel == "x_organic" and r.day == old_day}
    assert clicks == {k: round(v / 0.9) for k, v in sessions.items()}
    tagged = [p for p in posts if p.get("entities") and p["_meta"]["utm_campaign"] not in (None, "(not set)")]
    assert all(
        "utm_source=x&utm_medium=social&utm_campaign=" in p["entities"]["urls"][0]["expanded_url"] for p in tagged
    )


@pytest.mark.parametrize("domain", ["x", "youtube", "listening", "survey", "config"])
def test_generators_are_deterministic(tmp_path, domain):
    import hashlib
    import importlib

    mod = importlib.import_module(f"sampleworld.gen.{domain}")
    ents = build(TEST_SPEC)
    digests = []
    for name in ("a", "b"):
        truths = mod.generate(TEST_SPEC, ents, tmp_path / name)
        h = hashlib.sha256(json.dumps(truths, sort_keys=True, default=str).encode())
        for p in sorted((tmp_path / name).rglob("*")):
            if p.is_file():
                h.update(p.relative_to(tmp_path / name).as_posix().encode() + p.read_bytes())
        digests.append(h.hexdigest())
    assert digests[0] == digests[1]


def test_truths_agree_with_files(world):
    truths = json.loads((world / "truths.json").read_text())
    x = truths["x"]
    posts = [json.loads(line) for line in (world / "x" / "posts.jsonl").read_text().splitlines()]
    assert x["posts"] == sum(1 for p in posts if p["_meta"]["kind"] == "post")
    assert x["replies"] == sum(1 for p in posts if p["_meta"]["kind"] == "reply")
    lis = truths["listening"]
    neg = lis["negative_brand_mentions_daily"]
    crisis = truths["planted"]["crisis"]
    assert neg[crisis["peak"]] > 4 * neg[TEST_SPEC.start.isoformat()]  # the planted burst
    assert 0.25 < lis["share_of_voice"] < 0.45
    assert date.fromisoformat(crisis["end"]) <= TEST_SPEC.end


# -- query parameters: exactly those X accepts per endpoint -----------------------------------------

INVALID = {
    "title": "Invalid Request",
    "detail": "One or more parameters to your request was invalid.",
    "type": "https://api.twitter.com/2/problems/invalid-request",
}
# X's own lists, as its 400 words them (search/recent: plhery/node-twitter-api-v2#597; the
# others: the X API v2 reference, path parameters first, in the same order).
EXPANSIONS = "expansions,tweet.fields,media.fields,poll.fields,place.fields,user.fields"
ACCEPTED = {
    "/2/users/{uid}/tweets": f"id,since_id,until_id,max_results,pagination_token,exclude,start_time,end_time,{EXPANSIONS}",
    "/2/tweets/search/recent": "query,start_time,end_time,since_id,until_id,max_results,next_token,pagination_token,"
    f"sort_order,{EXPANSIONS}",
    "/2/tweets/counts/recent": "query,start_time,end_time,since_id,until_id,next_token,pagination_token,granularity,"
    "search_count.fields",
    "/2/users/{uid}": "id,expansions,tweet.fields,user.fields",
    "/2/users/by/username/lumora": "username,expansions,tweet.fields,user.fields",
}
NEEDS = {"/2/tweets/search/recent": {"query": "lumora"}, "/2/tweets/counts/recent": {"query": "lumora"}}


@pytest.mark.parametrize("path", sorted(ACCEPTED))
def test_an_unknown_query_parameter_gets_xs_400(x_app, path):
    uid = sorted(x_app.users)[0]
    with FakeServer(x_app) as srv:
        r = requests.get(srv.url + path.format(uid=uid), headers=APP, params={**NEEDS.get(path, {}), "foo": "bar"})
    assert r.status_code == 400
    assert r.json() == {
        "errors": [
            {"parameters": {"foo": ["bar"]}, "message": f"The query parameter [foo] is not one of [{ACCEPTED[path]}]"}
        ],
        **INVALID,
    }
    assert {"x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset"} <= {k.lower() for k in r.headers}


def test_the_wrong_page_token_is_refused_as_x_refuses_it(x_app):
    """A timeline pages with `pagination_token` only; `previous_token` is no search parameter
    (the request of plhery/node-twitter-api-v2#597). Every unknown parameter is named."""
    uid = sorted(x_app.users)[0]
    with FakeServer(x_app) as srv:
        r = requests.get(
            f"{srv.url}/2/users/{uid}/tweets",
            headers=USER,
            params={"max_results": 5, "next_token": "abc", "cursor": "1"},
        )
        assert r.status_code == 400
        assert [e["message"] for e in r.json()["errors"]] == [
            f"The query parameter [{p}] is not one of [{ACCEPTED['/2/users/{uid}/tweets']}]"
            for p in ("next_token", "cursor")
        ]
        r = requests.get(
            f"{srv.url}/2/tweets/search/recent",
            headers=APP,
            params={"query": "conversation_id:1", "previous_token": "7140dibdnow9c7btw3z2vwxyz1abcd"},
        )
    assert r.status_code == 400 and r.json() == {
        "errors": [
            {
                "parameters": {"previous_token": ["7140dibdnow9c7btw3z2vwxyz1abcd"]},
                "message": "The query parameter [previous_token] is not one of [query,start_time,end_time,since_id,until_id,"
                "max_results,next_token,pagination_token,sort_order,expansions,tweet.fields,media.fields,"
                "poll.fields,place.fields,user.fields]",
            }
        ],
        **INVALID,
    }


def test_a_path_parameter_sent_again_is_a_duplicate(x_app):
    uid = sorted(x_app.users)[0]
    with FakeServer(x_app) as srv:
        r = requests.get(f"{srv.url}/2/users/{uid}/tweets", headers=USER, params={"id": "42"})
    assert r.status_code == 400 and r.json()["errors"] == [
        {"parameters": {"id": [uid, "42"]}, "message": "Duplicate parameters are not allowed: the `id` query parameter"}
    ]


def test_every_accepted_parameter_is_accepted(x_app):
    """The fake refuses nothing X accepts: each endpoint with every one of its parameters."""
    uid = sorted(x_app.users)[0]
    newest = x_app.timelines[uid][0]["id"]
    start, end = fmt_ts(x_app.now - timedelta(days=6)), fmt_ts(x_app.now - timedelta(minutes=1))
    every = {
        f"/2/users/{uid}/tweets": {
            "since_id": "1",
            "until_id": newest,
            "max_results": 5,
            "pagination_token": "",
            "exclude": "replies",
            "start_time": start,
            "end_time": end,
            "expansions": "author_id",
            "tweet.fields": "created_at",
            "media.fields": "url",
            "poll.fields": "options",
            "place.fields": "country",
            "user.fields": "username",
        },
        "/2/tweets/search/recent": {
            "query": "lumora",
            "start_time": start,
            "end_time": end,
            "since_id": "1",
            "until_id": "99999999999999999999",
            "max_results": 10,
            "next_token": "",
            "pagination_token": "",
            "sort_order": "relevancy",
            "expansions": "author_id",
            "tweet.fields": "created_at",
            "media.fields": "url",
            "poll.fields": "options",
            "place.fields": "country",
            "user.fields": "username",
        },
        "/2/tweets/counts/recent": {
            "query": "lumora",
            "start_time": start,
            "end_time": end,
            "since_id": "1",
            "until_id": "99999999999999999999",
            "next_token": "",
            "pagination_token": "",
            "granularity": "day",
            "search_count.fields": "tweet_count",
        },
        f"/2/users/{uid}": {"expansions": "pinned_tweet_id", "tweet.fields": "created_at", "user.fields": "username"},
        "/2/users/by/username/lumora": {
            "expansions": "pinned_tweet_id",
            "tweet.fields": "created_at",
            "user.fields": "username",
        },
    }
    with FakeServer(x_app) as srv:
        for path, params in every.items():
            r = requests.get(srv.url + path, headers=USER, params=params)
            assert r.status_code == 200 and "data" in r.json(), (path, r.text[:300])


def test_search_takes_pagination_token_as_next_token(x_app):
    """Recent search documents both `next_token` and `pagination_token`: the same pages."""
    with FakeServer(x_app) as srv:
        walks = [
            Client(srv.url, APP).walk("/2/tweets/search/recent", {"query": "lumora", "max_results": 10}, p)
            for p in ("next_token", "pagination_token")
        ]
    assert walks[0][0] == walks[1][0] and len(walks[0][1]) > 2
    assert walks[0][0] == x_app.current_mentions("lumora", ())


def test_since_and_until_id_narrow_search_and_counts(x_app):
    posts = x_app.current_mentions("lumora", ("created_at",))
    since, until = posts[-5]["id"], posts[4]["id"]  # newest first: keep posts[5:-5]
    with FakeServer(x_app) as srv:
        got, _ = Client(srv.url, APP).walk(
            "/2/tweets/search/recent",
            {"query": "lumora", "max_results": 10, "tweet.fields": "created_at", "since_id": since, "until_id": until},
            "next_token",
        )
        counts = requests.get(
            srv.url + "/2/tweets/counts/recent",
            headers=APP,
            params={"query": "lumora", "granularity": "day", "since_id": since, "until_id": until},
        ).json()
        bad = requests.get(
            srv.url + "/2/tweets/search/recent", headers=APP, params={"query": "lumora", "since_id": "x"}
        )
    assert got == posts[5:-5]
    end = x_app.now - timedelta(seconds=30)
    assert counts["meta"]["total_tweet_count"] == sum(1 for t in posts[5:-5] if parse_ts(t["created_at"]) < end)
    assert bad.status_code == 400 and bad.json()["errors"][0]["parameters"] == {"since_id": ["x"]}
