"""The Meta Graph fake (Facebook Pages + Instagram) serves exactly what the simulator generated,
in the Graph API's shapes, with and without faults. Walked with plain `requests`."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from conftest import TEST_SPEC

from sampleworld import restatement
from sampleworld.entities import build
from sampleworld.fakes.base import EXTRA_FIELD, FakeServer, FaultConfig
from sampleworld.fakes.meta_graph import VERSION, MetaGraphApp, make_app
from sampleworld.funnel import funnel
from sampleworld.gen import facebook, instagram
from sampleworld.gen.facebook import parse_ts, value_at
from sampleworld.world import WorldSpec

POST_FIELDS = (
    "id,created_time,updated_time,message,permalink_url,status_type,shares,"
    "reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0)"
)
POST_METRICS = (
    "post_reactions_by_type_total,post_clicks,post_clicks_by_type,post_media_view,post_total_media_view_unique"
)
PAGE_METRICS = (
    "page_follows,page_daily_follows_unique,page_daily_unfollows_unique,page_media_view,page_post_engagements"
)
COMMENT_FIELDS = "id,message,created_time,from{id,name},parent{id},comment_count,like_count,permalink_url"
MEDIA_FIELDS = (
    "id,caption,media_type,media_product_type,timestamp,permalink,shortcode,like_count,comments_count,"
    "media_url,thumbnail_url,username,owner,is_comment_enabled,children{id,media_type,media_url,timestamp}"
)
IG_COMMENT_FIELDS = (
    "id,text,timestamp,username,from{id,username},like_count,parent_id,"
    "replies{id,text,timestamp,username,from{id,username},like_count,parent_id}"
)
# What each kind of media (media_type, media_product_type) answers; any other metric fails the
# request (the fake's MEDIA_SUPPORTED, written out here on its own: Meta's reference narrowed by
# the refusals seen in the wild, see the fake's docstring).
_STORY = "reach,views,replies,shares,total_interactions"
MEDIA_METRICS = {
    ("IMAGE", "FEED"): "reach,views,likes,comments,saved,total_interactions,profile_activity",
    ("CAROUSEL_ALBUM", "FEED"): "reach,likes,comments,saved,shares,total_interactions,profile_activity",
    ("VIDEO", "FEED"): "reach,saved",
    ("VIDEO", "REELS"): "reach,views,likes,comments,saved,shares,total_interactions",
    ("IMAGE", "STORY"): _STORY,
    ("VIDEO", "STORY"): _STORY,
}
ALL_MEDIA_METRICS = (
    "reach",
    "views",
    "likes",
    "comments",
    "saved",
    "shares",
    "replies",
    "total_interactions",
    "profile_activity",
)
FAULTS = FaultConfig(
    error_rate=0.05,
    rate_limit_rate=0.04,
    retry_after_s=0,
    truncate_rate=0.04,
    repeat_page_rate=0.25,
    extra_field_rate=0.1,
    seed=11,
)


def _lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


class Client:
    """A plain Graph client: retries 5xx, 429, transient Graph errors and cut-short JSON;
    walks `paging.next`; drops repeated records (by id) and the fault's extra field."""

    def __init__(self, base: str, token: str):
        self.base, self.token = base, token
        # No keep-alive Session: base.FakeServer writes headers and body separately, and on a
        # kept-alive connection Nagle + delayed ACK cost ~40 ms a request.
        self.session = requests
        self.retries = self.repeats = self.extra_fields = 0

    def get(self, path_or_url: str, params: dict | None = None, token: str | None = None):
        url = path_or_url if path_or_url.startswith("http") else f"{self.base}/{VERSION}/{path_or_url}"
        for _ in range(60):
            resp = self.session.get(
                url,
                params=params if not path_or_url.startswith("http") else None,
                headers={"Authorization": f"Bearer {token or self.token}"},
            )
            assert "X-App-Usage" in resp.headers and "X-Business-Use-Case-Usage" in resp.headers
            try:
                body = resp.json()
            except ValueError:
                self.retries += 1
                continue
            if (
                resp.status_code >= 500
                or resp.status_code == 429
                or (resp.status_code == 400 and body.get("error", {}).get("is_transient"))
            ):
                self.retries += 1
                continue
            return resp.status_code, body
        raise AssertionError(f"gave up on {url}")

    def ok(self, path: str, params: dict | None = None) -> dict:
        status, body = self.get(path, params)
        assert status == 200, body
        return body

    def walk(self, path: str, params: dict | None = None) -> tuple[list[dict], dict]:
        """Every record of a paged edge (in served order) and the first page's body."""
        body = first = self.ok(path, params)
        seen: dict[str, dict] = {}
        out = []
        while True:
            for rec in body["data"]:
                if EXTRA_FIELD in rec:
                    self.extra_fields += 1
                    rec = {k: v for k, v in rec.items() if k != EXTRA_FIELD}
                if rec["id"] in seen:
                    assert seen[rec["id"]] == rec
                    self.repeats += 1
                    continue
                seen[rec["id"]] = rec
                out.append(rec)
            nxt = body.get("paging", {}).get("next")
            if not nxt:
                return out, first
            body = self.ok(nxt)


def _strip_extra(records):
    return [{k: v for k, v in r.items() if k != EXTRA_FIELD} for r in records]


def _walk_world(client: Client, app: MetaGraphApp, world: Path, limit: int) -> None:
    """Walk every endpoint for every account, post and media; compare with the simulator."""
    truths = json.loads((world / "truths.json").read_text())
    fb_posts = _lines(world / "facebook" / "posts.jsonl")
    fb_comments = defaultdict(list)
    for c in _lines(world / "facebook" / "comments.jsonl"):
        fb_comments[c["post_id"]].append(c)
    n_top = n_replies = 0
    for page in truths["facebook"]["pages"]:
        pid = page["page_id"]
        assert client.ok(pid, {"fields": "followers_count,fan_count"}) == {
            "followers_count": page["followers_count"],
            "fan_count": page["fan_count"],
            "id": pid,
        }
        posts, _ = client.walk(f"{pid}/published_posts", {"fields": POST_FIELDS, "limit": limit})
        assert posts == app.current_posts(pid, POST_FIELDS)
        assert [p["id"] for p in posts] == sorted(
            (p["id"] for p in fb_posts if p["page_id"] == pid),
            key=lambda i: next(p["created_time"] for p in fb_posts if p["id"] == i),
            reverse=True,
        )
        for post in posts:
            ins = client.ok(f"{post['id']}/insights", {"metric": POST_METRICS, "period": "lifetime"})
            got = {d["name"]: d["values"][0]["value"] for d in ins["data"]}
            assert all("end_time" not in d["values"][0] for d in ins["data"])
            assert got == app.current_post_insights(post["id"])
            comments, first = client.walk(
                f"{post['id']}/comments",
                {
                    "filter": "stream",
                    "order": "chronological",
                    "summary": "true",
                    "fields": COMMENT_FIELDS,
                    "limit": limit,
                },
            )
            generated = fb_comments[post["id"]]
            assert [c["id"] for c in comments] == [c["id"] for c in generated]
            assert [c["message"] for c in comments] == [c["message"] for c in generated]
            assert comments == [
                {k: v for k, v in c.items() if k in COMMENT_FIELDS.replace("{", ",").split(",")}
                for c in app.current_comments(post["id"], "stream")
            ]
            if comments:
                assert first["summary"] == {
                    "order": "chronological",
                    "total_count": len(generated),
                    "can_comment": True,
                }
            assert not any(k.startswith("_") or k == "post_id" for c in comments for k in c)
            for c in comments:
                if "parent" in c:
                    n_replies += 1
                    assert c["from"]["id"] == pid
                else:
                    n_top += 1
            assert post["comments"]["summary"]["total_count"] == sum(1 for c in comments if "parent" not in c)
        days = app.current_page_insights(pid)
        since = TEST_SPEC.start.isoformat()
        until = (TEST_SPEC.end + timedelta(days=1)).isoformat()
        ins = client.ok(f"{pid}/insights", {"metric": PAGE_METRICS, "period": "day", "since": since, "until": until})
        for d in ins["data"]:
            assert [v["value"] for v in d["values"]] == [days[x][d["name"]] for x in sorted(days)]
            assert all(v["end_time"].endswith("T07:00:00+0000") for v in d["values"])  # end of the Pacific day (PDT)
    assert n_top == truths["facebook"]["comments"] and n_replies == truths["facebook"]["replies"]

    ig_media = {m["id"]: m for m in _lines(world / "instagram" / "media.jsonl")}
    ig_comments = defaultdict(list)
    for c in _lines(world / "instagram" / "comments.jsonl"):
        ig_comments[c["media_id"]].append(c)
    n_top = n_replies = 0
    for acc in truths["instagram"]["accounts"]:
        uid = acc["ig_user_id"]
        assert client.ok(uid, {"fields": "followers_count,username"})["followers_count"] == acc["followers_count"]
        media, _ = client.walk(f"{uid}/media", {"fields": MEDIA_FIELDS, "limit": limit})
        stories, _ = client.walk(f"{uid}/stories", {"fields": MEDIA_FIELDS, "limit": limit})
        assert media == app.current_media(uid, MEDIA_FIELDS)
        assert stories == app.current_stories(uid, MEDIA_FIELDS)
        assert {m["id"] for m in media} == {
            i for i, m in ig_media.items() if m["ig_user_id"] == uid and m["media_product_type"] != "STORY"
        }
        for m in media + stories:
            kind = (m["media_type"], m["media_product_type"])
            ins = client.ok(f"{m['id']}/insights", {"metric": MEDIA_METRICS[kind]})
            got = {d["name"]: d["values"][0]["value"] for d in ins["data"]}
            want = app.current_media_insights(m["id"])
            want = {k: (sum(v.values()) if isinstance(v, dict) else v) for k, v in want.items()}
            assert got == want and set(got) == set(MEDIA_METRICS[kind].split(","))
            if kind[1] == "STORY":
                continue
            comments, _ = client.walk(f"{m['id']}/comments", {"fields": IG_COMMENT_FIELDS, "limit": limit})
            generated = ig_comments[m["id"]]
            assert [c["id"] for c in comments] == [c["id"] for c in generated if "parent_id" not in c]
            replies = [r for c in comments for r in c.get("replies", {}).get("data", [])]
            assert sorted(r["id"] for r in replies) == sorted(c["id"] for c in generated if "parent_id" in c)
            assert all(r["from"]["id"] == uid and r["parent_id"] for r in replies)
            assert m["comments_count"] == len(comments) + len(replies) == got.get("comments", m["comments_count"])
            n_top += len(comments)
            n_replies += len(replies)
        day_rows = app.current_ig_insights(uid)
        ins = client.ok(
            f"{uid}/insights",
            {
                "metric": "reach,follower_count",
                "period": "day",
                "since": TEST_SPEC.start.isoformat(),
                "until": (TEST_SPEC.end + timedelta(days=1)).isoformat(),
            },
        )
        for d in ins["data"]:
            assert [v["value"] for v in d["values"]] == [day_rows[x][d["name"]] for x in sorted(day_rows)]
        total = client.ok(
            f"{uid}/insights",
            {
                "metric": "views,accounts_engaged,total_interactions",
                "period": "day",
                "metric_type": "total_value",
                "since": TEST_SPEC.start.isoformat(),
                "until": (TEST_SPEC.end + timedelta(days=1)).isoformat(),
            },
        )
        for d in total["data"]:
            assert "values" not in d
            assert d["total_value"]["value"] == sum(r[d["name"]] for r in day_rows.values())
        for dim in ("country", "age", "gender"):
            body = client.ok(
                f"{uid}/insights",
                {
                    "metric": "follower_demographics",
                    "period": "lifetime",
                    "metric_type": "total_value",
                    "breakdown": dim,
                },
            )
            results = body["data"][0]["total_value"]["breakdowns"][0]["results"]
            assert {r["dimension_values"][0]: r["value"] for r in results} == app.current_demographics(uid)[dim]
            assert sum(r["value"] for r in results) == acc["followers_count"]
    assert n_top == truths["instagram"]["comments"] and n_replies == truths["instagram"]["replies"]


def test_walk_everything_faults_off(world):
    app = make_app(world)
    with FakeServer(app) as srv:
        client = Client(srv.url, app.token)
        _walk_world(client, app, world, limit=100)
        assert client.retries == client.repeats == client.extra_fields == 0


def test_walk_everything_faults_on(world):
    app = make_app(world)
    with FakeServer(app, FAULTS) as srv:
        client = Client(srv.url, app.token)
        _walk_world(client, app, world, limit=25)
        assert srv.faults_injected > 0 and client.retries > 0
        assert client.repeats > 0, "a repeated page was never observed"
        assert client.extra_fields > 0, "the extra-field fault was never observed"


def test_values_match_the_generated_files(world):
    """Independent of the fake's code paths: lifetime = growth curve, then restatement."""
    app = make_app(world)
    truths = json.loads((world / "truths.json").read_text())
    as_of = app.as_of
    for post in _lines(world / "facebook" / "posts.jsonl"):
        at = parse_ts(post["created_time"])
        grown = value_at(post["final"]["media_view"], at, app.now, post["tau_days"])
        want = restatement.restated_int(grown, at.date(), as_of, 28, 0, f"{post['id']}:media_view")
        assert app.current_post_insights(post["id"])["post_media_view"] == want
    assert truths["facebook"]["posts"] == len(app.posts)
    assert truths["instagram"]["media"] == len(app.media)


def test_link_clicks_follow_the_funnel(world):
    ents = build(TEST_SPEC)
    for domain, channel in (("facebook", "facebook_organic"), ("instagram", "instagram_organic")):
        posts = _lines(world / domain / ("posts.jsonl" if domain == "facebook" else "media.jsonl"))
        clicks = defaultdict(int)
        for p in posts:
            created = (p.get("created_time") or p["timestamp"])[:10]
            n = (
                p["final"]["link_clicks"]
                if domain == "facebook"
                else p["final"]["profile_activity"].get("bio_link_clicked", 0)
            )
            if p["utm_campaign"] and p["utm_ok"]:
                clicks[(created, p["utm_campaign"])] += n
        for r in funnel(TEST_SPEC):
            if r.channel == channel and r.utm_campaign != "(not set)":
                assert abs(clicks[(r.day.isoformat(), r.utm_campaign)] - r.sessions / 0.9) <= 1
        assert any(c.utm_campaign for c in ents.campaigns)


def test_bad_token_and_missing_objects(world):
    app = make_app(world)
    pid = sorted(app.pages)[0]
    with FakeServer(app) as srv:
        resp = requests.get(f"{srv.url}/{VERSION}/{pid}", params={"access_token": "nope"})
        err = resp.json()["error"]
        assert resp.status_code == 400 and err["code"] == 190 and err["type"] == "OAuthException"
        assert set(err) == {"message", "type", "code", "fbtrace_id"}
        resp = requests.get(f"{srv.url}/{VERSION}/{pid}", headers={"Authorization": "Bearer EXPIRED-1"})
        assert resp.json()["error"]["error_subcode"] == 463
        assert requests.get(f"{srv.url}/{VERSION}/{pid}").json()["error"]["code"] == 104
        ok = requests.get(f"{srv.url}/{VERSION}/{pid}", headers={"Authorization": f"Bearer {app.token}"})
        assert ok.status_code == 200 and ok.json() == {"name": app.pages[pid]["name"], "id": pid}
        missing = requests.get(f"{srv.url}/{VERSION}/999", params={"access_token": app.token}).json()["error"]
        assert (missing["code"], missing["error_subcode"]) == (100, 33)


def test_retired_and_unsupported_metrics_fail_the_whole_request(world):
    app = MetaGraphApp(world)
    post = next(iter(app.posts))
    pid = sorted(app.pages)[0]
    uid = sorted(app.ig_users)[0]
    carousel = next(m for m in app.media.values() if m["media_type"] == "CAROUSEL_ALBUM")
    with FakeServer(app, FaultConfig(retired_metrics=("post_clicks",))) as srv:

        def get(path, **params):
            r = requests.get(f"{srv.url}/{VERSION}/{path}", params={"access_token": app.token, **params})
            return r.status_code, r.json()

        for path, metric in (
            (f"{post}/insights", "post_media_view,post_impressions"),
            (f"{post}/insights", "post_engaged_users"),
            (f"{post}/insights", "post_media_view,post_clicks"),  # retired by the fault config
            (f"{pid}/insights", "page_follows,page_fans"),
            (f"{pid}/insights", "page_impressions"),
            (f"{pid}/insights", "page_engaged_users"),
            (f"{carousel['id']}/insights", "reach,impressions"),
            (f"{carousel['id']}/insights", "plays"),
            (f"{carousel['id']}/insights", "video_views"),
            (f"{uid}/insights", "reach,made_up_metric"),
        ):
            status, body = get(path, metric=metric)
            assert status == 400 and "data" not in body
            assert body["error"]["code"] == 100
            assert body["error"]["message"] == "(#100) The value must be a valid insights metric"
        assert get(f"{post}/insights", metric="post_media_view")[0] == 200
        status, body = get(f"{carousel['id']}/insights", metric="reach,views")
        assert status == 400 and body["error"]["message"].startswith(
            "(#100) The Media Insights API does not support the views metric for this media product type"
        )
        status, body = get(f"{uid}/insights", metric="views", period="day")
        assert status == 400 and "metric_type=total_value" in body["error"]["message"]
        status, body = get(
            f"{pid}/insights", metric="page_follows", period="day", since="2026-01-01", until="2026-06-01"
        )
        assert status == 400 and "90 days" in body["error"]["message"]


def test_stories_live_for_a_day_and_refuse_feed_metrics(world):
    stories = sorted(
        (m for m in MetaGraphApp(world).media.values() if m["media_product_type"] == "STORY"),
        key=lambda m: m["timestamp"],
    )
    assert stories, "the test world has no story"
    story = stories[0]
    app = MetaGraphApp(world, as_of=parse_ts(story["timestamp"]).date() + timedelta(days=1))
    uid = story["ig_user_id"]
    with FakeServer(app) as srv:
        client = Client(srv.url, app.token)
        live, _ = client.walk(f"{uid}/stories", {"fields": "id,media_product_type,timestamp"})
        assert story["id"] in [s["id"] for s in live]
        status, body = client.get(f"{story['id']}/insights", {"metric": "reach,saved"})
        assert status == 400 and "does not support the saved metric" in body["error"]["message"]
        served = client.ok(f"{story['id']}/insights", {"metric": "reach,replies,views"})["data"]
        assert [d["name"] for d in served] == ["reach", "replies", "views"]
    later = MetaGraphApp(world, as_of=parse_ts(story["timestamp"]).date() + timedelta(days=3))
    assert story["id"] not in [s["id"] for s in later.current_stories(uid)]


def test_restatement_moves_recent_posts_only(world):
    spec_end = TEST_SPEC.end
    app = MetaGraphApp(world, as_of=spec_end + timedelta(days=23))  # the first day is now 29 days old
    posts = sorted(app.posts.values(), key=lambda p: p["created_time"])
    old, recent = posts[0], posts[-1]
    assert (
        (app.as_of - parse_ts(old["created_time"]).date()).days
        >= 28
        > (app.as_of - parse_ts(recent["created_time"]).date()).days
    )
    before_old, before_recent = app.current_post_insights(old["id"]), app.current_post_insights(recent["id"])
    assert before_old["post_media_view"] == old["final"]["media_view"]  # saturated and frozen
    with FakeServer(app) as srv:
        client = Client(srv.url, app.token)
        served = client.ok(f"{recent['id']}/insights", {"metric": "post_media_view"})["data"][0]["values"][0]["value"]
        assert served == before_recent["post_media_view"]
        app.restate()
        after = client.ok(f"{recent['id']}/insights", {"metric": "post_media_view"})["data"][0]["values"][0]["value"]
        assert after != served
        assert (
            client.ok(f"{old['id']}/insights", {"metric": "post_media_view"})["data"][0]["values"][0]["value"]
            == before_old["post_media_view"]
        )
    assert app.current_post_insights(old["id"]) == before_old
    assert app.current_post_insights(recent["id"]) != before_recent
    # restate_on_pull: every insights request moves the recent days
    app.restate_on_pull = True
    with FakeServer(app) as srv:
        client = Client(srv.url, app.token)
        a = client.ok(f"{recent['id']}/insights", {"metric": "post_media_view"})["data"][0]["values"][0]["value"]
        b = client.ok(f"{recent['id']}/insights", {"metric": "post_media_view"})["data"][0]["values"][0]["value"]
        assert a != b


def test_comments_have_labels_and_business_hour_replies(world):
    comments = _lines(world / "facebook" / "comments.jsonl") + _lines(world / "instagram" / "comments.jsonl")
    labels = {c["_label"] for c in comments}
    assert {"positive", "neutral", "question", "negative", "brand_reply"} <= labels
    fast = [
        c["_response_minutes"]
        for c in comments
        if c["_label"] != "brand_reply"
        and c["_answered"]
        and facebook.business_hours(parse_ts(c.get("created_time") or c["timestamp"]))
    ]
    slow = [
        c["_response_minutes"]
        for c in comments
        if c["_label"] != "brand_reply"
        and c["_answered"]
        and not facebook.business_hours(parse_ts(c.get("created_time") or c["timestamp"]))
    ]
    assert sorted(fast)[len(fast) // 2] < 60 < sorted(slow)[len(slow) // 2]
    assert any(not c["_answered"] for c in comments if c["_label"] != "brand_reply")
    crisis = [c for c in comments if c.get("_crisis")]
    assert crisis and all(c["_label"] in ("negative", "question") for c in crisis)


@pytest.mark.parametrize("scale", [1, 2])
def test_generation_is_deterministic(tmp_path, scale):
    spec = WorldSpec(start=TEST_SPEC.start, end=TEST_SPEC.end, seed=TEST_SPEC.seed, scale=scale)
    ents = build(spec)
    digests = []
    for run in ("a", "b"):
        files = {}
        for mod in (facebook, instagram):
            mod.generate(spec, ents, tmp_path / run / mod.DOMAIN)
        for p in sorted((tmp_path / run).rglob("*")):
            if p.is_file():
                files[p.relative_to(tmp_path / run).as_posix()] = p.read_bytes()
        digests.append(files)
    assert digests[0] == digests[1]
    pages = json.loads(digests[0]["facebook/pages.json"])
    accounts = json.loads(digests[0]["instagram/accounts.json"])
    assert len(pages) == len(accounts) == scale
    assert all(isinstance(p["page_id"], str) for p in pages)


def test_world_fixture_holds_the_same_bytes(world, tmp_path):
    ents = build(TEST_SPEC)
    for mod in (facebook, instagram):
        mod.generate(TEST_SPEC, ents, tmp_path / mod.DOMAIN)
        for p in sorted((tmp_path / mod.DOMAIN).iterdir()):
            assert p.read_bytes() == (world / mod.DOMAIN / p.name).read_bytes(), p.name


# -- Page insights periods --------------------------------------------------------------------
def _graph_get(srv, app, path: str, **params):
    r = requests.get(f"{srv.url}/{VERSION}/{path}", params={"access_token": app.token, **params})
    return r.status_code, r.json()


def _sum_back(days: dict[str, dict[str, int]], metric: str, end: str, span: int) -> int:
    """The sum of a metric's daily values over the `span` days ending on `end` (days without data add 0)."""
    last = parse_ts(f"{end}T00:00:00+0000").date()
    return sum(days.get((last - timedelta(days=i)).isoformat(), {}).get(metric, 0) for i in range(span))


def test_page_insights_without_period_answer_every_period_the_metric_has(world):
    """As the published sample (page_fields_insights_day__1): one entry per period, each with its
    own values on the same days; week and days_28 sum the 7 and 28 days ending on each day; a
    running total (page_follows) and the daily follow counts have `day` only."""
    app = make_app(world)
    pid = sorted(app.pages)[0]
    days = app.current_page_insights(pid)
    since, until = "2026-06-03", (TEST_SPEC.end + timedelta(days=1)).isoformat()
    served_days = sorted(d for d in days if since <= d < until)
    assert len(served_days) >= 4
    with FakeServer(app) as srv:
        status, body = _graph_get(srv, app, f"{pid}/insights", metric=PAGE_METRICS, since=since, until=until)
        assert status == 200
        got = [(d["name"], d["period"]) for d in body["data"]]
        assert got == [
            ("page_follows", "day"),
            ("page_daily_follows_unique", "day"),
            ("page_daily_unfollows_unique", "day"),
            ("page_media_view", "day"),
            ("page_media_view", "week"),
            ("page_media_view", "days_28"),
            ("page_post_engagements", "day"),
            ("page_post_engagements", "week"),
            ("page_post_engagements", "days_28"),
        ]
        for d in body["data"]:
            assert d["id"] == f"{pid}/insights/{d['name']}/{d['period']}"
            assert [v["end_time"][:10] for v in d["values"]] == [
                (parse_ts(f"{x}T00:00:00+0000").date() + timedelta(days=1)).isoformat() for x in served_days
            ]
            span = {"day": 1, "week": 7, "days_28": 28}[d["period"]]
            assert [v["value"] for v in d["values"]] == [_sum_back(days, d["name"], x, span) for x in served_days]
            word = {"day": "Daily", "week": "Weekly", "days_28": "28 Days"}[d["period"]]
            if d["name"] != "page_follows":
                assert d["title"].startswith(word) and d["description"].startswith(f"{word}:")
        weekly = next(d for d in body["data"] if (d["name"], d["period"]) == ("page_media_view", "week"))
        daily = next(d for d in body["data"] if (d["name"], d["period"]) == ("page_media_view", "day"))
        assert weekly["values"][-1]["value"] > daily["values"][-1]["value"] > 0  # a real sum, not a copy

        # one period asked: that period only, for the metrics that have it
        for period in ("day", "week", "days_28"):
            status, one = _graph_get(
                srv, app, f"{pid}/insights", metric=PAGE_METRICS, period=period, since=since, until=until
            )
            assert status == 200 and {d["period"] for d in one["data"]} == {period}
            assert [d for d in body["data"] if d["period"] == period] == one["data"]
        status, month = _graph_get(srv, app, f"{pid}/insights", metric=PAGE_METRICS, period="month")
        assert status == 200 and month["data"] == []  # a period of Meta's none of these metrics has

        # the field-expansion form answers the same
        status, node = _graph_get(
            srv, app, pid, fields=f"insights.metric(page_media_view).since({since}).until({until})"
        )
        assert [d["period"] for d in node["insights"]["data"]] == ["day", "week", "days_28"]

        # a period outside Meta's enum fails the whole request
        for bad in ("fortnight", "Day", "days_7"):
            r = requests.get(
                f"{srv.url}/{VERSION}/{pid}/insights",
                params={"access_token": app.token, "metric": "page_media_view", "period": bad},
            )
            assert r.status_code == 400 and "data" not in r.json(), bad
            err = r.json()["error"]
            assert (err["code"], err["type"]) == (100, "OAuthException") and "period" in err["message"]


# -- Instagram media: what each kind of media answers -------------------------------------------
def test_each_kind_of_media_answers_only_its_own_metrics(world):
    """Per media_type and media_product_type: each supported metric is served; one it lacks fails
    the whole request with Meta's (#100) naming every refused metric."""
    app = make_app(world)
    first = {}
    for m in sorted(app.media.values(), key=lambda m: m["id"]):
        if m["media_product_type"] != "STORY":
            first.setdefault((m["media_type"], m["media_product_type"]), m["id"])
    assert set(first) == {("IMAGE", "FEED"), ("CAROUSEL_ALBUM", "FEED"), ("VIDEO", "FEED"), ("VIDEO", "REELS")}
    with FakeServer(app) as srv:
        for kind, media_id in sorted(first.items()):
            supported = MEDIA_METRICS[kind].split(",")
            lacking = [x for x in ALL_MEDIA_METRICS if x not in supported]
            status, body = _graph_get(srv, app, f"{media_id}/insights", metric=",".join(supported))
            assert status == 200 and [d["name"] for d in body["data"]] == supported, kind
            for metric in lacking:
                status, body = _graph_get(srv, app, f"{media_id}/insights", metric=f"reach,{metric}")
                assert status == 400 and "data" not in body, (kind, metric)
                assert body["error"]["code"] == 100 and body["error"]["type"] == "OAuthException"
                assert body["error"]["message"] == (
                    f"(#100) The Media Insights API does not support the {metric} metric for this media product type."
                )
            if len(lacking) >= 2:
                status, body = _graph_get(
                    srv, app, f"{media_id}/insights", metric=",".join([supported[0], lacking[1], lacking[0]])
                )
                assert status == 400 and f"support the {lacking[1]}, {lacking[0]} metric" in body["error"]["message"]
        # the retired metrics stay "not a valid insights metric" for every kind
        for _kind, media_id in sorted(first.items()):
            for retired in ("impressions", "plays", "video_views"):
                status, body = _graph_get(srv, app, f"{media_id}/insights", metric=f"reach,{retired}")
                assert status == 400 and body["error"]["message"] == "(#100) The value must be a valid insights metric"
