"""Real published Graph API responses (../shared/fixtures/real-api-samples/{meta-graph,instagram};
skipped where absent) go through the Meta Graph client's parsing and land in their raw tables;
every published error body is classified with the platform's own message in the error."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import date

import pytest
from fake_client import canned_response
from stream_harness import run_stream

from extractors import meta_graph as mg
from extractors.http import AuthError, FatalError, RetryableError, RetryPolicy
from orchestration.assets.streams import raw_table
from sampleworld.fakes.base import App, FakeServer, Response
from warehouse.landing import land_pages
from warehouse.loader import connect, load

FAST = RetryPolicy(max_attempts=3, backoff_initial_s=0.001, backoff_max_s=0.01)
TOKEN = "published-sample-token"


def samples(shared_dir, platform: str) -> dict[str, dict]:
    folder = shared_dir / "fixtures" / "real-api-samples" / platform
    return {p.name: json.loads(p.read_bytes()) for p in sorted(folder.glob("*.json"))}


class ScriptedApp(App):
    """Serves published bodies: `route(request)` picks the body for a request."""

    name = "scripted_graph"

    def __init__(self, route):
        self.route, self.seen = route, []

    def handle(self, req):
        self.seen.append((req.path, dict(req.query)))
        return Response.json(200, self.route(req))


def graph_client(url: str, **kw) -> mg.MetaGraphClient:
    return mg.MetaGraphClient(url, TOKEN, retry=FAST, swap_page_token=False, **kw)


def land_by_day(tmp_path, stream, records: list[dict]):
    """Land and load flattened records one partition (their cursor day) at a time."""
    by_day = defaultdict(list)
    for r in records:
        by_day[r[stream.cursor_field]].append(r)
    results = []
    with connect(tmp_path / "w.duckdb") as con:
        for day, rows in sorted(by_day.items()):
            landed = land_pages(tmp_path / "landing", stream.source, stream.name, day, [rows])
            results.append(load(con, raw_table(stream), landed))
        rejects = con.execute("select reason from raw._rejects where stream = ?", [stream.name]).fetchall()
    return results, rejects


def table(tmp_path, stream, cols: str) -> list[tuple]:
    with connect(tmp_path / "w.duckdb") as con:
        return con.execute(f"select {cols} from {raw_table(stream).name} order by all").fetchall()


# -- lists served by a scripted server, read by the client as in production ---------------------
def test_published_posts_land_in_raw(shared_dir, tmp_path):
    body = samples(shared_dir, "meta-graph")["page_published_posts__1.json"]
    with FakeServer(ScriptedApp(lambda req: body)) as srv:
        days = sorted({date.fromisoformat(p["created_time"][:10]) for p in body["data"]})
        run = run_stream(graph_client(srv.url, page_ids=["2121008874780932"]), mg.POSTS, tmp_path, days)
    assert sorted(r["id"] for r in run.records) == sorted(p["id"] for p in body["data"])
    assert run.rejects == []
    # `message` is absent (not null) on some posts: a NULL column, the record as sent
    rows = table(tmp_path, mg.POSTS, "count(*), count(message), min(created_date)")
    assert rows[0][0] == 15 and rows[0][1] == sum("message" in p for p in body["data"])


def test_published_time_paged_posts_follow_the_next_link(shared_dir, tmp_path):
    s = samples(shared_dir, "meta-graph")
    first, last = s["page_posts__1.json"], s["page_posts__2.json"]
    app = ScriptedApp(lambda req: last if req.query.get("until") == "1624385168" else first)
    with FakeServer(app) as srv:
        days = sorted({date.fromisoformat(p["created_time"][:10]) for p in first["data"]})
        run = run_stream(
            graph_client(srv.url, page_ids=["4"], post_fields=("id", "message", "created_time")),
            mg.POSTS,
            tmp_path,
            days,
        )
    assert sorted(r["id"] for r in run.records) == sorted(p["id"] for p in first["data"])
    assert any(q.get("__paging_token") for _, q in app.seen)  # the next link was followed
    assert not any("access_token" in q for _, q in app.seen)  # its token was not sent back
    assert len(app.seen) == 2 * len(days)  # both pages, every day


def test_published_instagram_media_pages_land_in_raw(shared_dir, tmp_path):
    s = samples(shared_dir, "instagram")
    first, last = s["ig_user_media__1.json"], s["ig_user_media__2.json"]
    app = ScriptedApp(lambda req: last if req.query.get("after") == "after" else first)
    media = first["data"] + last["data"]
    with FakeServer(app) as srv:
        days = sorted({date.fromisoformat(m["timestamp"][:10]) for m in media})
        run = run_stream(graph_client(srv.url, ig_user_ids=["17841406338772941"]), mg.MEDIA, tmp_path, days)
    assert sorted(r["id"] for r in run.records) == sorted(m["id"] for m in media)
    assert run.rejects == []
    assert table(tmp_path, mg.MEDIA, "count(*), count(caption)")[0] == (len(media), sum("caption" in m for m in media))


def test_published_comments_land_and_trimmed_ones_are_rejected(shared_dir, tmp_path):
    s = samples(shared_dir, "meta-graph")
    comments = s["object_comments__1.json"]["data"] + s["object_comments__2.json"]["data"]
    results, rejects = land_by_day(
        tmp_path, mg.COMMENTS, [{**c, "created_date": c["created_time"][:10]} for c in comments]
    )
    # The publisher trimmed `id` from these records: without their key they are kept in the rejects.
    with_id = [c for c in comments if c.get("id")]
    assert sum(r.loaded for r in results) == len(with_id)
    assert len(rejects) == len(comments) - len(with_id)
    assert all(reason == "missing required field id" for (reason,) in rejects)


# -- insights bodies through the client's flattening ---------------------------------------------
def test_published_page_insights_land_by_pacific_day(shared_dir, tmp_path):
    s = samples(shared_dir, "meta-graph")
    records = mg.flatten_insights(s["page_insights_day__1.json"], {"page_id": "<page-id>"})
    records += mg.flatten_insights(s["page_fields_insights_day__1.json"], {"page_id": "123456"})
    results, rejects = land_by_day(tmp_path, mg.PAGE_INSIGHTS, records)
    assert rejects == [] and sum(r.loaded for r in results) == len(records)
    # end_time 2023-03-08T08:00:00+0000 closes the Pacific (PST) day 2023-03-07
    rows = table(tmp_path, mg.PAGE_INSIGHTS, "page_id, date::varchar, period, value::varchar")
    assert ("123456", "2023-03-07", "day", "0") in rows
    assert {r[2] for r in rows if r[0] == "123456"} == {"day", "week", "days_28"}
    city = [r for r in rows if r[0] == "<page-id>"]
    assert city and json.loads(city[0][3])  # an object value (city -> count) kept as JSON


def test_published_page_insights_of_every_period_store_the_daily_value_once(shared_dir, tmp_path):
    """A server answering the sample's body (one metric for day, week and days_28, as Meta does
    without `period`) to the client's Page insights call: the day's entry alone lands."""
    body = samples(shared_dir, "meta-graph")["page_fields_insights_day__1.json"]["insights"]
    app = ScriptedApp(lambda req: body)
    with FakeServer(app) as srv:
        run = run_stream(
            graph_client(srv.url, page_ids=["123456"]), mg.PAGE_INSIGHTS, tmp_path, [date(2023, 3, 7), date(2023, 3, 8)]
        )
    assert [q.get("period") for _, q in app.seen] == ["day", "day"]
    day = next(e for e in body["data"] if e["period"] == "day")
    assert sorted((r["date"], r["period"], r["value"]) for r in run.records) == [
        ("2023-03-07", "day", day["values"][0]["value"]),
        ("2023-03-08", "day", day["values"][1]["value"]),
    ]


def test_published_post_insights_land_as_a_snapshot(shared_dir, tmp_path):
    body = samples(shared_dir, "meta-graph")["post_fields_insights__1.json"]
    records = mg.flatten_insights(body, {"post_id": body["id"], "page_id": "1234567"}, snapshot_date=date(2023, 3, 10))
    results, rejects = land_by_day(tmp_path, mg.POST_INSIGHTS, records)
    assert rejects == [] and table(tmp_path, mg.POST_INSIGHTS, "post_id, name, value::varchar") == [
        ("1234567_98765432", "post_engaged_users", "0")
    ]


def test_published_media_insights_land_as_a_snapshot(shared_dir, tmp_path):
    s = samples(shared_dir, "instagram")
    records = []
    for name in ("ig_media_insights__1.json", "ig_media_insights__2.json"):
        media_id = s[name]["data"][0]["id"].split("/")[0]
        records += mg.flatten_insights(
            s[name],
            {"media_id": media_id, "ig_user_id": "1", "media_product_type": "FEED"},
            snapshot_date=date(2023, 11, 10),
        )
    results, rejects = land_by_day(tmp_path, mg.MEDIA_INSIGHTS, records)
    assert rejects == [] and sum(r.loaded for r in results) == 4
    rows = table(tmp_path, mg.MEDIA_INSIGHTS, "name, value::varchar, total_value->>'$.value'")
    assert ("profile_activity", "11", "11") in rows and ("reach", "5", None) in rows


def test_published_account_insights_land_by_day(shared_dir, tmp_path):
    s = samples(shared_dir, "instagram")
    records = mg.flatten_insights(
        s["ig_user_insights__1.json"], {"ig_user_id": "instagram_account_id"}, metric_type="time_series"
    )
    records += mg.flatten_insights(
        s["ig_user_insights__2.json"],
        {"ig_user_id": "17841454149711910"},
        day=date(2023, 11, 7),
        metric_type="total_value",
    )
    results, rejects = land_by_day(tmp_path, mg.ACCOUNT_INSIGHTS, records)
    assert rejects == [] and sum(r.loaded for r in results) == len(records) == 21
    rows = table(tmp_path, mg.ACCOUNT_INSIGHTS, "name, date::varchar, metric_type, value::varchar")
    assert ("follower_count", "2019-12-19", "time_series", "5") in rows  # 08:00 UTC ends a PST day
    assert ("reach", "2023-11-07", "total_value", "14516883") in rows


# -- error bodies ----------------------------------------------------------------------------
GRAPH_ERRORS = {
    "meta-graph/error_oauthexception_code100__1.json": FatalError,  # missing permission
    "meta-graph/error_oauthexception_code100__2.json": FatalError,  # appsecret_proof required
    "meta-graph/error_oauthexception_code190__1.json": AuthError,  # expired token
    "meta-graph/error_oauthexception_code190__2.json": AuthError,  # password changed
    "meta-graph/error_oauthexception_code4_app_rate_limit__1.json": RetryableError,
    "instagram/error_oauthexception_code100_subcode2108006__1.json": mg.NotEligible,  # predates business account
}


@pytest.mark.parametrize("name, expected", sorted(GRAPH_ERRORS.items()))
def test_published_graph_errors_are_classified_with_their_message(shared_dir, name, expected):
    platform, file = name.split("/")
    raw = (shared_dir / "fixtures" / "real-api-samples" / platform / file).read_bytes()
    err = mg.classify_graph_error(canned_response(400, raw), "https://graph.facebook.com/v23.0/x")
    assert type(err) is expected
    assert err.retryable == (expected is RetryableError)
    message = json.loads(raw)["error"]["message"]
    assert message in str(err) and str(err).startswith(f"[{mg.PLATFORM}]")
    if expected is AuthError:
        assert "META_PAGE_TOKEN" in str(err)


def test_every_published_graph_error_has_a_case(shared_dir):
    found = {f"{p}/{f}" for p in ("meta-graph", "instagram") for f in samples(shared_dir, p) if f.startswith("error")}
    assert found == set(GRAPH_ERRORS)


def test_every_published_graph_response_is_covered(shared_dir):
    """Each published body of an endpoint this client reads is used above (IG comments are not read)."""
    above = open(__file__, encoding="utf-8").read().split("def test_every_published_graph_response")[0]
    used = set(re.findall(r'"(\w+__\d\.json)"', above))
    found = {f for p in ("meta-graph", "instagram") for f in samples(shared_dir, p) if not f.startswith("error")}
    assert found - used == {"ig_media_comments__1.json"}
