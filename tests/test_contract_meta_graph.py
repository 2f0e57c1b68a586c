"""Contract: the Meta Graph fake answers in the shapes of real published Graph API responses
(Facebook Pages and Instagram samples in the shared fixtures folder; nothing is copied here).

Each case names the endpoint the sample came from, the same request to the fake, and small
`optional`/`ignore` lists, each with its reason.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field

import pytest
import requests
from contract_shape import compare

from sampleworld.fakes.base import FakeServer
from sampleworld.fakes.meta_graph import VERSION, MetaGraphApp

SAMPLES = ("fixtures/real-api-samples/meta-graph", "fixtures/real-api-samples/instagram")


@dataclass
class Case:
    request: object  # callable(ctx) -> fake body
    optional: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    why: str = ""
    skip: str | None = None
    extra: dict = field(default_factory=dict)


def _insights_before_conversion(c) -> dict:
    """Media older than the account's business conversion: set a conversion date after it."""
    c.app.business_since = "2100-01-01T00:00:00+0000"
    try:
        return c.get(f"{c.media}/insights", metric="reach")
    finally:
        c.app.business_since = None


class Ctx:
    def __init__(self, app: MetaGraphApp, url: str):
        self.app, self.url = app, url
        self.pid = sorted(app.pages)[0]
        self.uid = sorted(app.ig_users)[0]
        posts = app.posts_by_page[self.pid]
        self.post = max(posts, key=lambda p: p["comments_total"])["id"]
        media = app.media_by_user[self.uid]
        self.media = max(media, key=lambda m: m["comments_count"])["id"]
        self.media_with_link = next(m["id"] for m in media if m["final"]["profile_activity"].get("bio_link_clicked"))

    def get(self, path: str, token: str | None = None, **params) -> dict:
        url = path if path.startswith("http") else f"{self.url}/{VERSION}/{path}"
        return requests.get(
            url, params=None if path.startswith("http") else {"access_token": token or self.app.token, **params}
        ).json()

    def last_page(self, path: str, **params) -> dict:
        body = self.get(path, **params)
        while body.get("paging", {}).get("next"):
            body = self.get(body["paging"]["next"])
        return body

    def all_records_first_paging(self, path: str, **params) -> dict:
        """Every record of the edge (so each kind of record is in it) under the first page's paging."""
        first = body = self.get(path, **params)
        data = list(body["data"])
        while body.get("paging", {}).get("next"):
            body = self.get(body["paging"]["next"])
            data += body["data"]
        return {**first, "data": data}


COMMENT_FIELDS = "id,comment_count,created_time,like_count,message,permalink_url"
IG_MEDIA_FIELDS = (
    "id,caption,comments_count,children{id,media_type,media_url,permalink,shortcode,thumbnail_url,"
    "timestamp},like_count,media_type,media_url,permalink,timestamp"
)
CITY_WHY = (
    "page_fans_city is retired (page_fans -> page_follows, Nov 2025) and its value is a city->count "
    "object; the envelope is compared with page_follows, so the value's kind and its city keys are ignored"
)

CASES: dict[str, Case] = {
    # --- Facebook Page -------------------------------------------------------------------
    "meta-graph/page_published_posts__1.json": Case(
        lambda c: c.get(f"{c.pid}/published_posts", fields="id,message,created_time,updated_time", limit=15)
    ),
    "meta-graph/page_posts__1.json": Case(
        lambda c: c.get(f"{c.pid}/posts", fields="id,message,created_time", limit=5),
        optional=("$.paging.previous",),
        why="legacy /posts time-based paging (v10) sends `previous` on the first page; the fake pages "
        "published_posts with cursors and sends `previous` from the second page on",
    ),
    "meta-graph/page_posts__2.json": Case(
        lambda c: c.last_page(f"{c.pid}/posts", fields="id,message,created_time", limit=5)
    ),
    "meta-graph/object_comments__1.json": Case(
        lambda c: c.get(f"{c.post}/comments", fields=COMMENT_FIELDS, summary=1, filter="stream", limit=10)
    ),
    "meta-graph/object_comments__2.json": Case(
        lambda c: c.last_page(f"{c.post}/comments", fields=COMMENT_FIELDS, summary=1, filter="stream", limit=10)
    ),
    "meta-graph/page_insights_day__1.json": Case(
        lambda c: c.get(
            f"{c.pid}/insights", metric="page_follows", period="day", since="2026-06-01", until="2026-06-04"
        ),
        # (`*` stands for `[]` in these glob patterns: fnmatch reads brackets as a character set)
        ignore=("$.data*.values*.value", "$.data*.values*.value.*"),
        why=CITY_WHY,
    ),
    "meta-graph/page_fields_insights_day__1.json": Case(
        lambda c: c.get(c.pid, fields="insights.metric(page_post_engagements).since(2026-06-02).until(2026-06-04)"),
        why="page_engaged_users was removed (Mar 2024): the same field-expansion request, without a period, with "
        "a live metric that has day, week and days_28 as it did (test_page_insights_periods_... below)",
    ),
    "meta-graph/post_fields_insights__1.json": Case(
        lambda c: c.get(c.post, fields="insights.metric(post_media_view)"),
        optional=("$.insights.paging", "$.insights.paging.*"),
        why="post_engaged_users is gone: asked with post_media_view. The v16 sample carries since/until window "
        "paging on a lifetime metric; the fake leaves paging out of lifetime insights, as the Instagram "
        "lifetime sample (ig_media_insights__1) does",
    ),
    "meta-graph/error_oauthexception_code100__1.json": Case(
        lambda c: c.get("999999"), why="code 100 for an object the token cannot read (fake: unknown id)"
    ),
    "meta-graph/error_oauthexception_code100__2.json": Case(
        lambda c: c.get(f"{c.post}/insights", metric="post_impressions"),
        why="any code 100 body: the fake's retired-metric error",
    ),
    "meta-graph/error_oauthexception_code190__1.json": Case(
        lambda c: c.get(c.pid, token="EXPIRED-token"), why="expired session: code 190 subcode 463"
    ),
    "meta-graph/error_oauthexception_code190__2.json": Case(
        lambda c: c.get(c.pid, token="EXPIRED-token"),
        optional=("$.error.error_user_title", "$.error.error_user_msg"),
        why="Meta's documentation template (subcode 460, user-facing title and message); expired-token bodies "
        "in the wild (code190__1) carry no error_user_* fields",
    ),
    "meta-graph/error_oauthexception_code4_app_rate_limit__1.json": Case(
        lambda c: json.loads(c.app.rate_limited(0).body), why="the fake's rate-limit fault body"
    ),
    # --- Instagram -------------------------------------------------------------------------
    "instagram/ig_user_media__1.json": Case(
        lambda c: c.all_records_first_paging(f"{c.uid}/media", fields=IG_MEDIA_FIELDS, limit=2),
        why="records of every page (the sample pages hold carousels and plain images) under page 1's paging",
    ),
    "instagram/ig_user_media__2.json": Case(
        lambda c: {
            **c.all_records_first_paging(f"{c.uid}/media", fields=IG_MEDIA_FIELDS, limit=2),
            "paging": c.last_page(f"{c.uid}/media", fields=IG_MEDIA_FIELDS, limit=2)["paging"],
        },
        why="records of every page under the last page's paging",
    ),
    "instagram/ig_media_comments__1.json": Case(lambda c: c.get(f"{c.media}/comments", limit=2)),
    "instagram/ig_media_insights__1.json": Case(
        lambda c: c.get(f"{c.media}/insights", metric="reach,saved"),
        why="`impressions` was removed for IG media at v22: the same request without it",
    ),
    "instagram/ig_media_insights__2.json": Case(
        lambda c: c.get(f"{c.media_with_link}/insights", metric="profile_activity", breakdown="action_type")
    ),
    "instagram/ig_user_insights__1.json": Case(
        lambda c: c.get(
            f"{c.uid}/insights", metric="reach,follower_count", period="day", since="2026-06-01", until="2026-06-08"
        ),
        why="`impressions` is retired for IG accounts: reach,follower_count instead",
    ),
    "instagram/ig_user_insights__2.json": Case(
        lambda c: c.get(
            f"{c.uid}/insights",
            metric="reach",
            period="day",
            metric_type="total_value",
            breakdown="media_product_type,follow_type",
            timeframe="last_14_days",
        )
    ),
    "instagram/error_oauthexception_code100_subcode2108006__1.json": Case(_insights_before_conversion),
}


def _sample_files(shared):
    return sorted(
        p.relative_to(shared / "fixtures/real-api-samples").as_posix()
        for folder in SAMPLES
        for p in (shared / folder).glob("*.json")
    )


@pytest.fixture(scope="module")
def ctx(world):
    app = MetaGraphApp(world)
    with FakeServer(app) as srv:
        yield Ctx(app, srv.url)


def test_every_sample_has_a_case(shared_dir):
    files = _sample_files(shared_dir)
    assert files, "no Meta Graph / Instagram samples found"
    assert set(files) <= set(CASES), f"samples without a contract case: {sorted(set(files) - set(CASES))}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_fake_matches_real_sample(name, shared_dir, ctx):
    path = shared_dir / "fixtures/real-api-samples" / name
    if not path.exists():
        pytest.skip(f"{name} is not in {shared_dir}")
    case = CASES[name]
    if case.skip:
        pytest.skip(case.skip)
    real = json.loads(path.read_text())
    fake = case.request(ctx)
    assert compare(real, fake, optional=case.optional, ignore=case.ignore) == []


# -- page insights without `period`: the periods and the entries' shape of the sample ------------------
def test_page_insights_periods_match_the_published_sample(shared_dir, ctx):
    """Without `period` the sample answers one metric three times (day, week, days_28, in that
    order), each entry with its own values on the same end_times and an id ending in its period;
    the fake answers a metric that has those periods the same way."""
    path = shared_dir / "fixtures/real-api-samples/meta-graph/page_fields_insights_day__1.json"
    if not path.exists():
        pytest.skip(f"{path.name} is not in {shared_dir}")
    real = json.loads(path.read_text())
    fake = ctx.get(ctx.pid, fields="insights.metric(page_post_engagements).since(2026-06-02).until(2026-06-04)")
    for body, owner in ((real, real["id"]), (fake, ctx.pid)):
        entries = body["insights"]["data"]
        assert [e["period"] for e in entries] == ["day", "week", "days_28"]
        assert len({e["name"] for e in entries}) == 1
        assert [e["id"] for e in entries] == [f"{owner}/insights/{e['name']}/{e['period']}" for e in entries]
        assert len({tuple(v["end_time"] for v in e["values"]) for e in entries}) == 1
        assert [e["title"].split()[0] for e in entries] == ["Daily", "Weekly", "28"]
        assert [e["description"].split(":")[0] for e in entries] == ["Daily", "Weekly", "28 Days"]
    # asked for one period, the same request answers that entry alone
    one = ctx.get(
        ctx.pid, fields="insights.metric(page_post_engagements).period(week).since(2026-06-02).until(2026-06-04)"
    )["insights"]["data"]
    assert [e["period"] for e in one] == ["week"]
    assert compare(real["insights"]["data"][1], one[0]) == []


# -- the fake's own promises (no published sample needed) ----------------------------------------------
def _raw(c, path: str, token: str | None = None, **params) -> requests.Response:
    url = f"{c.url}/{VERSION}/{path}"
    return requests.get(url, params=params, headers={"Authorization": f"Bearer {token or c.app.token}"})


def test_token_and_parameter_errors_come_on_http_400_never_401(ctx):
    """Meta sends code 190 (bad or expired token) and code 100 (object, metric, period, field)
    on HTTP 400 (reports: snarfed/bridgy#59, home-assistant/core#152416), not 401."""
    carousel = next(m["id"] for m in ctx.app.media.values() if m["media_type"] == "CAROUSEL_ALBUM")
    cases = [
        (_raw(ctx, ctx.pid, token="not-a-token"), 190),
        (_raw(ctx, ctx.pid, token="EXPIRED-token"), 190),
        (requests.get(f"{ctx.url}/{VERSION}/{ctx.pid}"), 104),
        (_raw(ctx, "999999"), 100),
        (_raw(ctx, f"{ctx.post}/insights", metric="post_impressions"), 100),
        (_raw(ctx, f"{ctx.pid}/insights", metric="page_media_view", period="fortnight"), 100),
        (_raw(ctx, f"{carousel}/insights", metric="reach,views"), 100),
        (_raw(ctx, ctx.pid, fields="no_such_field"), 100),
    ]
    for resp, code in cases:
        assert resp.status_code == 400, (resp.url, resp.status_code)
        err = resp.json()["error"]
        assert err["code"] == code and err["type"] == "OAuthException" and err["fbtrace_id"], err
    expired = cases[1][0].json()["error"]
    assert expired["error_subcode"] == 463


def test_rate_limit_headers_are_json_as_meta_documents(ctx):
    """`X-App-Usage: {"call_count", "total_cputime", "total_time"}` (percent) on every response;
    `X-Business-Use-Case-Usage: {"<business id>": [{"type", "call_count", "total_cputime",
    "total_time", "estimated_time_to_regain_access"}]}` (regain time in minutes), keyed by the
    Page or Instagram account the call was for."""
    for path, owner, kind in (
        (ctx.pid, ctx.pid, "pages"),
        (f"{ctx.post}/insights?metric=post_clicks", ctx.pid, "pages"),
        (f"{ctx.uid}/media", ctx.uid, "instagram"),
        (ctx.media, ctx.uid, "instagram"),
    ):
        resp = requests.get(f"{ctx.url}/{VERSION}/{path}", headers={"Authorization": f"Bearer {ctx.app.token}"})
        assert resp.status_code == 200
        app_usage = json.loads(resp.headers["X-App-Usage"])
        assert set(app_usage) == {"call_count", "total_cputime", "total_time"}
        assert all(isinstance(v, int) and 0 <= v <= 100 for v in app_usage.values())
        buc = json.loads(resp.headers["X-Business-Use-Case-Usage"])
        assert list(buc) == [owner]
        (entry,) = buc[owner]
        assert set(entry) == {"type", "call_count", "total_cputime", "total_time", "estimated_time_to_regain_access"}
        assert entry["type"] == kind
        assert all(isinstance(entry[k], int) and entry[k] >= 0 for k in entry if k != "type")
    err = _raw(ctx, "999999")
    assert err.status_code == 400 and json.loads(err.headers["X-App-Usage"])["call_count"] >= 0


@pytest.mark.parametrize("edge", ["published_posts", "media", "comments"])
def test_cursor_paging_reaches_the_end_over_several_calls(ctx, edge):
    """Following `paging.next` gives every record once, in order: each page carries
    `cursors.before/after`, `next` while more remain and `previous` from the second page on;
    the last page has no `next`."""
    path, want = {
        "published_posts": (f"{ctx.pid}/published_posts", [p["id"] for p in ctx.app.current_posts(ctx.pid, "id")]),
        "media": (f"{ctx.uid}/media", [m["id"] for m in ctx.app.current_media(ctx.uid, "id")]),
        "comments": (f"{ctx.post}/comments", [c["id"] for c in ctx.app.current_comments(ctx.post, "stream")]),
    }[edge]
    limit = max(2, math.ceil(len(want) / 4))
    body = ctx.get(path, fields="id", limit=limit, **({"filter": "stream"} if edge == "comments" else {}))
    got, calls = [], 1
    while True:
        got += [r["id"] for r in body["data"]]
        paging = body["paging"]
        assert set(paging["cursors"]) == {"before", "after"}
        assert ("previous" in paging) == (calls > 1)
        if "next" not in paging:
            break
        assert re.search(r"[?&]after=", paging["next"]) and len(body["data"]) == limit
        body = ctx.get(paging["next"])
        calls += 1
    assert got == want and calls == math.ceil(len(want) / limit) >= 3
