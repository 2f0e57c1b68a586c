"""Contract: the X fake answers in the shapes of real, published X API v2 responses
(`shared_dir/fixtures/real-api-samples/x`, see that folder's README.md). Every sample file
must be mapped to a request here, so a new sample cannot be silently skipped."""

from __future__ import annotations

import json

import pytest
import requests

from contract_shape import compare
from sampleworld.fakes.base import FakeServer, FaultConfig
from sampleworld.fakes.x import APP_TOKEN, USER_TOKEN, XApp

# sample file -> (path template, params, token). `{uid}` is the brand account.
REQUESTS = {
    # default fields only (no tweet.fields), as the sample was requested
    "users_id_tweets__1.json": ("/2/users/{uid}/tweets", {"max_results": 5}, USER_TOKEN),
    "tweets_search_recent__1.json": ("/2/tweets/search/recent",
                                     {"query": "lumora -is:retweet", "tweet.fields": "public_metrics",
                                      "max_results": 10}, APP_TOKEN),
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
        r = requests.get(srv.url + template.format(uid=sorted(app.users)[0]), params=params,
                         headers={"Authorization": f"Bearer {token}"}, timeout=10)
    expected_status = 429 if name.startswith("error_429") else 200
    assert r.status_code == expected_status
    fake = r.json()
    assert compare(real, fake, optional=OPTIONAL, ignore=IGNORE) == []
    if isinstance(real, dict) and "data" in real and isinstance(real["data"], list) and real["data"]:
        # same keys on every record, whatever the order
        assert set(real["data"][0]) <= set(fake["data"][0])
