"""Real published X API v2 responses (../shared/fixtures/real-api-samples/x; skipped where
absent) go through the X client's parsing into the raw tables, and every published X error
body is classified with X's own message in the error raised."""

from __future__ import annotations

import json
from datetime import date

import pytest
from fake_client import canned_response
from stream_harness import land_each_on_its_day

from extractors.http import AuthError, FatalError, RetryableError
from extractors.x import (
    MENTION_COUNTS,
    MENTIONS,
    POST_METRICS,
    POSTS,
    classify_x_error,
    query_records,
    records_of,
    snapshot_records,
)
from orchestration.assets.streams import raw_table
from warehouse.landing import land_pages
from warehouse.loader import connect, load


def samples(shared_dir) -> dict[str, bytes]:
    folder = shared_dir / "fixtures" / "real-api-samples" / "x"
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.json"))}


def land_and_load(tmp_path, stream, partition: str | None, records: list[dict]):
    """`records` landed as one read of `partition`, or (partition None) each under its own day,
    as the pipeline's one-day reads would have landed a published body that spans several days
    (a query over a range)."""
    if partition is None:
        landed = land_each_on_its_day(tmp_path / "landing", stream, records)
    else:
        landed = land_pages(tmp_path / "landing", stream.source, stream.name, partition, [records])
    with connect(tmp_path / "w.duckdb") as con:
        result = load(con, raw_table(stream), landed)
        rejects = con.execute("select reason from raw._rejects where stream = ?", [stream.name]).fetchall()
    return result, rejects


def query(tmp_path, sql: str):
    with connect(tmp_path / "w.duckdb") as con:
        return con.execute(sql).fetchall()


# What each published X error must become, and why.
X_ERRORS = {
    "error_429_too_many_requests__1.json": (429, RetryableError),  # rate limited: wait for the reset, retry
}


@pytest.mark.parametrize("name, expected", sorted(X_ERRORS.items()))
def test_x_error_bodies_are_classified_with_their_message(shared_dir, name, expected):
    status, cls = expected
    body = samples(shared_dir)[name]
    err = classify_x_error(
        canned_response(status, body, {"x-rate-limit-remaining": "0", "x-rate-limit-reset": "0"}),
        "https://api.x.com/2/tweets/search/all",
    )
    assert type(err) is cls
    published = json.loads(body)
    assert published["detail"] in str(err) and published["title"] in str(err)


def test_every_published_x_error_has_a_case(shared_dir):
    assert {f for f in samples(shared_dir) if f.startswith("error")} == set(X_ERRORS)


def test_fake_style_error_bodies_are_classified():
    """X's other documented bodies, in the shapes the fake serves them (no published copy)."""
    unauthorized = b'{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}'
    err = classify_x_error(canned_response(401, unauthorized), "u", token_var="X_USER_ACCESS_TOKEN")
    assert type(err) is AuthError and "X_USER_ACCESS_TOKEN" in str(err) and "Unauthorized" in str(err)
    unsupported = json.dumps(
        {
            "title": "Unsupported Authentication",
            "status": 403,
            "detail": "Authenticating with OAuth 2.0 Application-Only is forbidden.",
            "type": "https://api.twitter.com/2/problems/unsupported-authentication",
        }
    ).encode()
    err = classify_x_error(canned_response(403, unsupported), "u")
    assert type(err) is AuthError and "Application-Only is forbidden" in str(err)
    invalid = json.dumps(
        {
            "errors": [{"parameters": {"start_time": ["2020-01-01T00:00:00Z"]}, "message": "Invalid 'start_time'"}],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request",
        }
    ).encode()
    err = classify_x_error(canned_response(400, invalid), "u")
    assert type(err) is FatalError and "Invalid 'start_time'" in str(err)
    for status in (500, 503):
        assert (
            type(classify_x_error(canned_response(status, b'{"title":"Service Unavailable","status":503}'), "u"))
            is RetryableError
        )
    assert classify_x_error(canned_response(502, b"<html>bad gateway</html>"), "u") is None  # the core decides


def test_published_user_timeline_lands_in_posts_and_snapshots(shared_dir, tmp_path):
    body = json.loads(samples(shared_dir)["users_id_tweets__1.json"])
    result, rejects = land_and_load(tmp_path, POSTS, "current", records_of(body))
    assert (result.received, result.loaded, result.rejected) == (2, 2, 0) and rejects == []
    rows = query(tmp_path, "select id, text is not null, created_at from raw.x__posts order by id")
    assert [r[:2] for r in rows] == [("1565318587736285184", True), ("1577730467436138524", True)]
    result, _ = land_and_load(tmp_path, POST_METRICS, "2022-10-07", snapshot_records(body, date(2022, 10, 7)))
    assert (result.loaded, result.rejected) == (2, 0)  # no public_metrics asked for: the metric columns are null


def test_published_public_metrics_land_in_post_metrics(shared_dir, tmp_path):
    """The recent-search sample is the only published one with `public_metrics` (now with
    bookmark_count and impression_count): its posts parse as metric snapshots."""
    body = json.loads(samples(shared_dir)["tweets_search_recent__1.json"])
    result, rejects = land_and_load(tmp_path, POST_METRICS, "2025-03-16", snapshot_records(body, date(2025, 3, 16)))
    assert (result.received, result.loaded, result.rejected) == (10, 10, 0) and rejects == []
    row = query(
        tmp_path,
        "select impression_count, like_count, reply_count, bookmark_count from raw.x__post_metrics "
        "where id = '1901363756594090009'",
    )
    assert row == [(539, 25, 5, 0)]


def test_published_search_page_goes_through_mention_parsing(shared_dir, tmp_path):
    """As mentions: the published request did not ask for `created_at` (this client always
    does), so each post is rejected with that reason rather than landing in no day; with a
    `created_at` it lands under its query."""
    body = json.loads(samples(shared_dir)["tweets_search_recent__1.json"])
    records = query_records(body, "brand", "bitcoin -is:retweet")
    result, rejects = land_and_load(tmp_path, MENTIONS, "2025-03-16", records)
    assert (result.received, result.rejected) == (10, 10)
    assert {r for (r,) in rejects} == {"missing required field $.created_at"}
    dated = [{**r, "created_at": "2025-03-16T12:00:00.000Z"} for r in records]
    result, rejects = land_and_load(tmp_path, MENTIONS, "2025-03-16", dated)
    assert (result.loaded, result.rejected) == (10, 0) and rejects == []
    assert query(
        tmp_path, "select count(distinct id), min(query_name), sum(impression_count) from raw.x__mentions"
    ) == [(10, "brand", 1365)]


def test_published_hourly_counts_land_in_mention_counts(shared_dir, tmp_path):
    body = json.loads(samples(shared_dir)["tweets_counts_recent__1.json"])
    records = query_records(body, "tweepy", "Tweepy")
    result, rejects = land_and_load(tmp_path, MENTION_COUNTS, None, records)
    assert (result.received, result.loaded, result.rejected) == (169, 169, 0) and rejects == []
    total, days = query(tmp_path, "select sum(tweet_count), count(distinct day) from raw.x__mention_counts")[0]
    assert total == body["meta"]["total_tweet_count"] == 411 and days == 8
