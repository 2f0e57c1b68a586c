"""Contract: the X fake answers in the shapes of real, published X API v2 responses
(`shared_dir/fixtures/real-api-samples/x`, see that folder's README.md). Every sample file
must be mapped to a request here, so a new sample cannot be silently skipped.

What X documents whatever the samples hold is checked without ../shared: the rate-limit
headers (integers, reset in epoch seconds) on every answer, the problem-details body of a
400, and paging to the end (timelines by `pagination_token`, recent search by `next_token`)."""

from __future__ import annotations

import json
import time

import pytest
import requests
from contract_shape import compare

from sampleworld.fakes.base import FakeServer, FaultConfig
from sampleworld.fakes.x import APP_TOKEN, USER_TOKEN, XApp

# sample file -> (path template, params, token). `{uid}` is the brand account.
REQUESTS = {
    # default fields only (no tweet.fields), as the sample was requested
    "users_id_tweets__1.json": ("/2/users/{uid}/tweets", {"max_results": 5}, USER_TOKEN),
    "tweets_search_recent__1.json": (
        "/2/tweets/search/recent",
        {"query": "lumora -is:retweet", "tweet.fields": "public_metrics", "max_results": 10},
        APP_TOKEN,
    ),
    "tweets_counts_recent__1.json": ("/2/tweets/counts/recent", {"query": "lumora"}, APP_TOKEN),
    "error_429_too_many_requests__1.json": ("/2/tweets/search/recent", {"query": "lumora"}, APP_TOKEN),
}
# Justified exceptions: none are needed. The fake writes every path of every sample, with the
# same kinds (ids as integer strings, timestamps with milliseconds and Z, counts as ints); keys
# only the fake has (created_at, previous_token, ...) are allowed by `compare`.
OPTIONAL: tuple[str, ...] = ()
IGNORE: tuple[str, ...] = ()


def _samples(shared_dir):
    folder = shared_dir / "fixtures" / "real-api-samples" / "x"
    if not folder.exists():
        pytest.skip(f"{folder} is absent")
    return sorted(p for p in folder.glob("*.json"))


def test_every_sample_is_mapped(shared_dir):
    names = {p.name for p in _samples(shared_dir)}
    assert names <= set(REQUESTS), f"unmapped X samples: {sorted(names - set(REQUESTS))}"


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_fake_matches_real_sample(shared_dir, world, name):
    path = shared_dir / "fixtures" / "real-api-samples" / "x" / name
    if not path.exists():
        pytest.skip(f"{name} not among the samples")
    real = json.loads(path.read_text(encoding="utf-8"))
    app = XApp(world)
    faults = FaultConfig(rate_limit_rate=1.0, retry_after_s=0) if name.startswith("error_429") else FaultConfig.off()
    template, params, token = REQUESTS[name]
    with FakeServer(app, faults) as srv:
        r = requests.get(
            srv.url + template.format(uid=sorted(app.users)[0]),
            params=params,
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
    expected_status = 429 if name.startswith("error_429") else 200
    assert r.status_code == expected_status
    fake = r.json()
    assert compare(real, fake, optional=OPTIONAL, ignore=IGNORE) == []
    if isinstance(real, dict) and "data" in real and isinstance(real["data"], list) and real["data"]:
        # same keys on every record, whatever the order
        assert set(real["data"][0]) <= set(fake["data"][0])


# -- what X documents, without ../shared ---------------------------------------------------------

RATE_HEADERS = ("x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset")


@pytest.fixture(scope="module")
def served(world):
    with FakeServer(XApp(world)) as srv:
        yield srv


def _get(srv, path, params=None, token=APP_TOKEN):
    return requests.get(srv.url + path, params=params, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_rate_limit_headers_are_integers_and_reset_is_epoch_seconds(served):
    uid = sorted(served.app.users)[0]
    calls = [
        (f"/2/users/{uid}/tweets", {"max_results": 5}),
        ("/2/tweets/search/recent", {"query": "lumora"}),
        ("/2/tweets/counts/recent", {"query": "lumora"}),
        (f"/2/users/{uid}", None),
        ("/2/users/by/username/lumora", None),
        ("/2/tweets/search/recent", {"query": "lumora", "foo": "bar"}),  # refused: 400
        (f"/2/users/{uid}/tweets", {"max_results": 500}),
    ]  # refused: 400
    for path, params in calls:
        before = time.time()
        r = _get(served, path, params)
        assert r.status_code in (200, 400)
        values = {h: r.headers[h] for h in RATE_HEADERS}
        assert all(v.isdigit() for v in values.values()), (path, values)
        limit, remaining, reset = (int(values[h]) for h in RATE_HEADERS)
        assert 0 <= remaining <= limit and limit > 0
        # epoch seconds within X's 15-minute window (not milliseconds, not seconds-from-now)
        assert before - 1 <= reset <= before + 15 * 60 + 1, (path, reset)


@pytest.mark.parametrize(
    "params",
    [
        {"query": "lumora", "foo": "bar"},
        {"query": "lumora", "max_results": 500},
        {"query": "lumora", "tweet.fields": "bogus"},
        {"query": ""},
    ],
)
def test_a_bad_request_is_xs_invalid_request_problem(served, params):
    r = _get(served, "/2/tweets/search/recent", params)
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert {k: body[k] for k in ("title", "detail", "type")} == {
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request",
    }
    assert set(body) == {"errors", "title", "detail", "type"} and body["errors"]
    for e in body["errors"]:
        assert set(e) == {"parameters", "message"} and e["message"]
        assert all(isinstance(v, list) and all(isinstance(x, str) for x in v) for v in e["parameters"].values())


@pytest.mark.parametrize(
    "path, params, token_param, token",
    [
        ("/2/users/{uid}/tweets", {"max_results": 7, "tweet.fields": "created_at"}, "pagination_token", USER_TOKEN),
        (
            "/2/tweets/search/recent",
            {"query": "lumora", "max_results": 10, "tweet.fields": "created_at"},
            "next_token",
            APP_TOKEN,
        ),
    ],
)
def test_paging_to_the_end(served, path, params, token_param, token):
    """Each page's `meta` describes it (result_count, newest_id, oldest_id); `next_token` goes
    back as the endpoint's own page parameter until a page has none: every post once, newest first."""
    app = served.app
    path = path.format(uid=sorted(app.users)[0])
    ids, params, pages = [], dict(params), 0
    while True:
        r = _get(served, path, params, token)
        assert r.status_code == 200, r.text[:300]
        body = r.json()
        meta, data = body["meta"], body["data"]
        assert meta["result_count"] == len(data) and (meta["newest_id"], meta["oldest_id"]) == (
            data[0]["id"],
            data[-1]["id"],
        )
        ids += [t["id"] for t in data]
        pages += 1
        assert pages < 500
        if "next_token" not in meta:
            break
        params[token_param] = meta["next_token"]
    want = [
        t["id"] for t in (app.timeline(path.split("/")[3]) if "users" in path else app.current_mentions("lumora", ()))
    ]
    assert ids == want and pages > 2
    assert ids == sorted(ids, key=int, reverse=True)
