"""The X extractor against the fake, faults on: every stream loads exactly what the fake
serves now (no loss, no duplicates), every injected bad record is in the rejects, re-runs
change nothing, a restatement is picked up; partial failures are re-fetched or kept and
logged; rate-limit headers pause the client; clear failures for a bad token, a retired field
and a day beyond the 7-day horizon."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from stream_harness import run_stream

from extractors import x
from extractors.days import utc_midnight as midnight
from extractors.http import AuthError, FatalError, RetryPolicy
from extractors.streams import DayUnavailable
from extractors.x import MENTION_COUNTS, MENTIONS, POST_METRICS, POSTS, USERS, XClient, fmt_ts, read_x_throttle
from sampleworld.fakes import x as x_fake
from sampleworld.fakes.base import FakeServer, FaultConfig
from sampleworld.fakes.x import APP_TOKEN, USER_TOKEN, XApp

FAST = RetryPolicy(max_attempts=8, backoff_initial_s=0.001, backoff_max_s=0.01)
FAULTS = FaultConfig(
    error_rate=0.05,
    rate_limit_rate=0.05,
    retry_after_s=0,
    truncate_rate=0.05,
    repeat_page_rate=0.1,
    extra_field_rate=0.1,
    bad_record_rate=0.3,
    seed=1,
)
# (bad records at 0.3: a run reads only 8 counts answers, and each stream should see some)
QUERIES = {
    "brand": "(Lumora OR @lumora) -is:retweet",
    "brightwave": "(Brightwave OR @brightwave) -is:retweet",
    "solenne": "(Solenne OR @solenne) -is:retweet",
    "kintsu": "(Kintsu OR @kintsu) -is:retweet",
}
DAYS = [date(2026, 6, 6), date(2026, 6, 7)]


@pytest.fixture
def faulty(world):
    app = XApp(world, partial_error_rate=0.1)  # 200s with a post missing and named in errors[]
    with FakeServer(app, FAULTS) as srv:
        yield srv


def client(srv, bearer=APP_TOKEN, user=USER_TOKEN, **kw) -> XClient:
    kw.setdefault("page_size", 10)
    kw.setdefault("search_page_size", 25)
    return XClient(
        srv.url, bearer, user, user_ids=sorted(srv.app.users), queries=QUERIES, retry=FAST, sleep=lambda s: None, **kw
    )


def key_of(record: dict, fields) -> tuple:
    return tuple(str(record.get(f)) for f in fields)


def assert_exactly(records: list[dict], want: list[dict], fields) -> None:
    got = {}
    for r in records:
        k = key_of(r, fields)
        assert k not in got, f"duplicate {k}"
        got[k] = r
    expected = {key_of(r, fields): r for r in want}
    assert len(expected) == len(want)
    assert got.keys() == expected.keys()
    for k, r in expected.items():
        assert got[k] == r, k


# -- what the fake serves now -----------------------------------------------------------------------


def want_post_metrics(app, c, days, user_context=True):
    out = []
    for day in days:
        end = midnight(day) + timedelta(days=1)
        start = end - timedelta(days=c.lookback_days)
        for uid in sorted(app.users):
            out += [
                {**p, "snapshot_date": day.isoformat()}
                for p in app.current_posts(uid, c.metric_fields, user_context, fmt_ts(start), fmt_ts(end))
            ]
    return out


def want_posts(app, c, days=None):
    return [p for uid in sorted(app.users) for p in app.current_posts(uid, c.post_fields)]


def want_users(app, c, days):
    out = []
    for day in days:
        for u in app.users.values():
            rec = {"id": u["id"], "name": u["name"], "username": u["username"]}
            rec.update({f: u[f] for f in c.user_fields if f in u and f not in rec})
            out.append({**rec, "snapshot_date": day.isoformat()})
    return out


def window(app, day):
    start = midnight(day)
    return start, min(start + timedelta(days=1), app.now - timedelta(seconds=10))


def want_mentions(app, c, days):
    out = []
    for day in days:
        start, end = window(app, day)
        for name, q in QUERIES.items():
            out += [
                {**m, "query_name": name, "query": q}
                for m in app.current_mentions(q, c.mention_fields)
                if start <= x.parse_ts(m["created_at"]) < end
            ]
    return out


def want_counts(app, c, days):
    out = []
    for day in days:
        start, end = window(app, day)
        for name, q in QUERIES.items():
            out += [{**b, "query_name": name, "query": q} for b in app.current_counts(q, "day", start, end)]
    return out


# What the client adds to a record (the fake's bad copies lack it), and per stream the fields
# the fake breaks in a bad copy: (key field removed, typed field made unreadable). An account
# lookup is one object, not a list: the fake adds no bad copy to it.
CLIENT_FIELDS = ("snapshot_date", "query_name", "query")
BAD_FIELDS = {
    "posts": ("id", "created_at"),
    "post_metrics": ("id", "created_at"),
    "users": None,
    "mentions": ("id", "created_at"),
    "mention_counts": ("start", "tweet_count"),
}


def assert_rejects_are_the_injected(run, injected, bad_fields) -> None:
    """The rejects are exactly the injected copies (whole records, as the fake served them),
    each with a reason that names the field the fake broke."""
    key, typed = bad_fields
    got = []
    for text, reason in run.rejects:
        rec = {k: v for k, v in json.loads(text).items() if k not in CLIENT_FIELDS}
        if key in rec:  # a field read by a JSON path is named by it ($.start)
            assert rec[typed] == "not-a-valid-value", rec
            assert re.search(rf"field (\$\.)?{typed}: not-a-valid-value is not a valid", reason), reason
        else:
            assert re.search(rf"missing required field (\$\.)?{key}\b", reason), reason
        got.append(json.dumps(rec, sort_keys=True))
    assert sorted(got) == sorted(json.dumps(r, sort_keys=True) for r in injected)


CASES = {
    # stream: (what the fake serves now, the record fields that identify a row, restated by app.restate())
    "posts": (POSTS, want_posts, ("id",), False),
    "post_metrics": (POST_METRICS, want_post_metrics, ("snapshot_date", "id"), True),
    "users": (USERS, want_users, ("snapshot_date", "id"), False),
    "mentions": (MENTIONS, want_mentions, ("query_name", "id"), True),
    "mention_counts": (MENTION_COUNTS, want_counts, ("query_name", "start"), False),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_stream_loads_exactly_what_the_fake_serves(faulty, tmp_path, name, caplog):
    caplog.set_level(logging.DEBUG)
    stream, want, fields, restated = CASES[name]
    app = faulty.app
    c = client(faulty)
    days = DAYS if stream.dated else None
    first = run_stream(c, stream, tmp_path, days)
    assert_exactly(first.records, want(app, c, days), fields)
    assert len(first.records) > (20 if name in ("posts", "post_metrics", "mentions") else 1)
    injected = list(getattr(app, "injected_bad", []))
    if BAD_FIELDS[name] is None:
        assert injected == [] and first.rejects == []
    else:
        assert injected, "the seed should inject bad records"
        assert_rejects_are_the_injected(first, injected, BAD_FIELDS[name])
    assert not [e for e in c.partial_errors if x._is_missing_post(e)]  # every not-found post was fetched again

    again = run_stream(client(faulty), stream, tmp_path, days)
    assert [(r.inserted, r.updated, r.deleted) for r in again.results] == [(0, 0, 0)] * len(again.results)
    assert_exactly(again.records, want(app, c, days), fields)
    if BAD_FIELDS[name] is not None:  # the rejects of a partition are those of its latest load
        assert_rejects_are_the_injected(again, app.injected_bad[len(injected) :], BAD_FIELDS[name])
    injected = list(getattr(app, "injected_bad", []))

    app.restate()
    after = run_stream(client(faulty), stream, tmp_path, days)
    assert_exactly(after.records, want(app, c, days), fields)
    if BAD_FIELDS[name] is not None:
        assert_rejects_are_the_injected(after, app.injected_bad[len(injected) :], BAD_FIELDS[name])
    updated = sum(r.updated for r in after.results)
    assert (updated > 0) if restated else (updated == 0)
    if restated:  # the most recent day moved; nothing was added or lost
        assert after.results[-1].updated > 0 and sum(r.inserted + r.deleted for r in after.results) == 0

    if name != "users":  # three calls a run: too few for a fault to be drawn
        assert faulty.faults_injected > 0
    for token in (APP_TOKEN, USER_TOKEN):
        assert token not in caplog.text


def test_lookback_window_limits_the_snapshot(world, tmp_path):
    with FakeServer(XApp(world)) as srv:
        c = client(srv, metrics_lookback_days=3)
        run = run_stream(c, POST_METRICS, tmp_path, [date(2026, 6, 7)])
        assert_exactly(run.records, want_post_metrics(srv.app, c, [date(2026, 6, 7)]), ("snapshot_date", "id"))
        assert {r["created_at"][:10] for r in run.records} == {"2026-06-05", "2026-06-06", "2026-06-07"}


def test_private_metrics_of_old_posts_are_kept_without_them_and_logged(world, tmp_path, caplog):
    app = XApp(world)
    app.now += timedelta(days=27)  # posts before 2026-06-05 are now 30 days or older
    with FakeServer(app) as srv:
        c = client(srv)
        day = date(2026, 6, 7)
        run = run_stream(c, POST_METRICS, tmp_path, [day])
    assert_exactly(run.records, want_post_metrics(app, c, [day]), ("snapshot_date", "id"))
    old = {r["id"] for r in run.records if "non_public_metrics" not in r}
    assert old and all(r["created_at"] < "2026-06-05" for r in run.records if r["id"] in old)
    assert {e["resource_id"] for e in c.partial_errors} == old
    assert {e["parameter"] for e in c.partial_errors} == {"non_public_metrics", "organic_metrics"}
    assert "Field Authorization Error" in caplog.text and "partial_errors" in caplog.text


def test_without_a_user_token_timelines_are_read_without_private_metrics(world, tmp_path, caplog):
    with FakeServer(XApp(world)) as srv:
        c = client(srv, user="")
        run = run_stream(c, POST_METRICS, tmp_path, [date(2026, 6, 7)])
        assert_exactly(
            run.records, want_post_metrics(srv.app, c, [date(2026, 6, 7)], user_context=False), ("snapshot_date", "id")
        )
    assert all("non_public_metrics" not in r for r in run.records)
    assert "X_USER_ACCESS_TOKEN" in caplog.text


def test_days_beyond_the_seven_day_horizon_are_unavailable_and_future_days_are_empty(world):
    with FakeServer(XApp(world)) as srv:
        c = client(srv)
        for stream in (MENTIONS, MENTION_COUNTS):
            with pytest.raises(DayUnavailable, match="last 7 days") as exc:
                list(c.pages(stream, date(2026, 5, 31)))
            assert "stored rows are left" in str(exc.value)
            assert list(c.pages(stream, date(2026, 6, 9))) == [[]] * len(QUERIES)
        assert c.server_now() == datetime(2026, 6, 8, tzinfo=UTC)  # read off X's counts window


def test_rate_limit_headers_pause_until_reset(world):
    """A 429 says `x-rate-limit-remaining: 0` and when the window resets: the client waits
    until then (the throttle pause before the next call, and the retry's own wait)."""
    slept = []
    faults = FaultConfig(rate_limit_rate=0.3, retry_after_s=30, seed=5)
    with FakeServer(XApp(world), faults) as srv:
        c = XClient(
            srv.url, APP_TOKEN, USER_TOKEN, user_ids=sorted(srv.app.users), page_size=10, retry=FAST, sleep=slept.append
        )
        records = [r for page in c.pages(POSTS, None) for r in page]
        assert len(records) == len(srv.app.current_posts(sorted(srv.app.users)[0]))
        assert srv.faults_injected > 0
    assert c.stats.retries >= srv.faults_injected and c.stats.throttle_sleep_s > 20
    assert sum(1 for s in slept if 25 < s <= 30) >= srv.faults_injected


def test_throttle_reader():
    import requests

    resp = requests.Response()
    reset = str(int(datetime.now().timestamp()) + 60)
    resp.headers.update({"x-rate-limit-remaining": "0", "x-rate-limit-reset": reset})
    assert 55 < read_x_throttle(resp) <= 60
    resp.headers["x-rate-limit-remaining"] = "12"
    assert read_x_throttle(resp) == 0


def test_retired_field_fails_naming_platform_field_and_setting(world):
    with FakeServer(XApp(world), FaultConfig(retired_metrics=("organic_metrics",))) as srv:
        with pytest.raises(FatalError) as exc:
            list(client(srv).pages(POST_METRICS, date(2026, 6, 7)))
    msg = str(exc.value)
    assert "X API" in msg and "organic_metrics" in msg and "metric_fields" in msg


@pytest.mark.parametrize(
    "bad, stream, var", [("user", POST_METRICS, "X_USER_ACCESS_TOKEN"), ("bearer", MENTIONS, "X_BEARER_TOKEN")]
)
def test_bad_token_names_the_variable_and_never_shows(world, caplog, bad, stream, var):
    caplog.set_level(logging.DEBUG)
    wrong = "wrong-secret-token-123"
    with FakeServer(XApp(world)) as srv:
        c = client(srv, **({"user": wrong} if bad == "user" else {"bearer": wrong}))
        with pytest.raises(AuthError) as exc:
            list(c.pages(stream, date(2026, 6, 7)))
    assert var in str(exc.value)
    assert wrong not in str(exc.value) and wrong not in caplog.text
    assert USER_TOKEN not in caplog.text and APP_TOKEN not in caplog.text


def test_missing_tokens_and_settings_fail_before_any_call():
    with pytest.raises(AuthError, match="X_BEARER_TOKEN"):
        XClient("http://127.0.0.1:9", "", "")
    c = XClient("http://127.0.0.1:9", "t", user_ids=[])
    with pytest.raises(FatalError, match="X_USER_IDS"):
        list(c.pages(POSTS, None))
    with pytest.raises(FatalError, match="X_LISTENING_QUERY"):
        list(c.pages(MENTIONS, date(2026, 6, 7)))


def test_unknown_account_is_fatal(world):
    with FakeServer(XApp(world)) as srv:
        c = XClient(srv.url, APP_TOKEN, USER_TOKEN, user_ids=["999"], retry=FAST)
        with pytest.raises(FatalError, match="999"):
            list(c.pages(POSTS, None))


def test_resource_reads_the_fakes_settings(world):
    from orchestration.sources.x import XResource, parse_queries

    assert parse_queries("a=x OR y;b=(c) -is:retweet") == {"a": "x OR y", "b": "(c) -is:retweet"}

    with FakeServer(XApp(world)) as srv:
        env = x_fake.env(srv.url, srv.app)
    c = XResource.client_from(env, competitor_queries={"kintsu": "kintsu"})
    assert c.user_ids == sorted(XApp(world).users) and list(c.queries) == ["brand", "kintsu"]


# -- only the query parameters X accepts -----------------------------------------------------------


class RecordingXApp(XApp):
    """The strict fake, noting each request's path, parameter names and status."""

    def handle(self, req):
        resp = super().handle(req)
        self.seen = getattr(self, "seen", [])
        self.seen.append((req.path, frozenset(req.query), resp.status))
        return resp


def test_timelines_and_search_are_paged_to_the_end_against_the_strict_fake(world, tmp_path):
    """The fake refuses a parameter an endpoint does not take, as X does; the client pages
    every timeline (`pagination_token`) and every search (`next_token`) to the end with
    exactly the parameters each endpoint takes, and loads exactly what the fake serves."""
    app = RecordingXApp(world)
    with FakeServer(app) as srv:
        uid = sorted(app.users)[0]
        c = client(srv)
        with pytest.raises(FatalError, match=r"query parameter \[next_token\] is not one of"):
            c.timeline_core.get_json(f"2/users/{uid}/tweets", params={"next_token": "x"})  # the fake is strict
        app.seen.clear()
        posts = run_stream(c, POSTS, tmp_path, None)
        mentions = run_stream(c, MENTIONS, tmp_path, DAYS)
    assert_exactly(posts.records, want_posts(app, c), ("id",))
    assert_exactly(mentions.records, want_mentions(app, c, DAYS), ("query_name", "id"))
    assert {status for *_, status in app.seen} == {200}
    by_endpoint: dict[str, set] = {}
    for path, names, _ in app.seen:
        endpoint = "timeline" if path.endswith("/tweets") else path
        by_endpoint.setdefault(endpoint, set()).add(names)
    page = {"tweet.fields", "max_results"}
    window = {"query", "tweet.fields", "max_results", "start_time", "end_time"}
    assert by_endpoint == {
        "timeline": {frozenset(page), frozenset(page | {"pagination_token"})},
        "/2/tweets/search/recent": {frozenset(window), frozenset(window | {"next_token"})},
        "/2/tweets/counts/recent": {frozenset({"query", "granularity"})},
    }
    timeline_pages = sum(1 for path, *_ in app.seen if path == f"/2/users/{uid}/tweets")
    assert timeline_pages > 3 and len(posts.records) > 20 and len(mentions.records) > 25


def test_a_parameter_x_does_not_take_is_fatal_at_once_and_named(world):
    with FakeServer(XApp(world)) as srv:
        c = client(srv)
        with pytest.raises(FatalError) as exc:
            c.search_core.get_json("2/tweets/search/recent", params={"query": "lumora", "previous_token": "t"})
    err = exc.value
    assert (err.status, err.retryable, c.stats.requests, c.stats.retries) == (400, False, 1, 0)
    assert "The query parameter [previous_token] is not one of [query," in str(err)
    assert "does not take the query parameter(s) previous_token" in str(err)
