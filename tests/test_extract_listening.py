"""The listening extractor against its fake, faults on: every mention of every query exactly
once, every injected bad mention in the rejects, idempotent re-runs, 429s waited out as
Retry-After says, clear failures for a bad token and a retired field, and the token in no
error or log line."""

from __future__ import annotations

import json
import logging
import re
from datetime import date, timedelta

import pytest
import requests
from stream_harness import by_key, run_stream

from extractors.http import AuthError, FatalError, RetryableError, RetryPolicy
from extractors.listening import (
    DEFAULT_MENTION_FIELDS,
    MENTIONS,
    QUERIES,
    ListeningClient,
    NextCursorPaginator,
    classify_listening_error,
)
from orchestration.assets.streams import raw_table
from sampleworld.fakes.base import FakeServer, FaultConfig
from sampleworld.fakes.listening import ListeningApp
from warehouse.landing import land_pages
from warehouse.loader import connect, load

FAST = RetryPolicy(max_attempts=8, backoff_initial_s=0.001, backoff_max_s=0.01)
FAULTS = FaultConfig(
    error_rate=0.05,
    rate_limit_rate=0.05,
    retry_after_s=0,
    truncate_rate=0.05,
    repeat_page_rate=0.1,
    extra_field_rate=0.1,
    bad_record_rate=0.1,
    seed=41,
)
DAYS = [date(2026, 6, 2), date(2026, 6, 3)]


@pytest.fixture
def fake(world):
    with FakeServer(ListeningApp(world), FAULTS) as srv:
        yield srv


def client(srv, token=None, **kw) -> ListeningClient:
    kw.setdefault("page_size", 100)
    return ListeningClient(
        srv.url, token or srv.app.token, query_ids=[q["id"] for q in srv.app.queries], retry=FAST, **kw
    )


def served(app: ListeningApp, days: list[date]) -> list[dict]:
    """What the fake serves now for every query and day."""
    return [
        m
        for d in days
        for q in app.queries
        for m in app.current_mentions(q["id"], d.isoformat(), (d + timedelta(days=1)).isoformat())
    ]


def assert_rejects_are_the_injected(run, injected) -> None:
    """The rejects are exactly the injected copies (whole records, as the fake served them),
    each with a reason that names the field the fake broke: no `id`, or `published_at` unreadable."""
    got = []
    for text, reason in run.rejects:
        rec = json.loads(text)
        if "id" in rec:  # published_date is read from it by a JSON path ($.published_at)
            assert rec["published_at"] == "not-a-valid-value", rec
            assert re.search(r"field (\$\.)?published_at: not-a-valid-value is not a valid", reason), reason
        else:
            assert "missing required field id" in reason, reason
        got.append(json.dumps(rec, sort_keys=True))
    assert sorted(got) == sorted(json.dumps(r, sort_keys=True) for r in injected)


def test_every_mention_exactly_once_with_faults(fake, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    c = client(fake)
    run = run_stream(c, MENTIONS, tmp_path, DAYS)
    want = served(fake.app, DAYS)
    assert len(want) > 500
    assert by_key(run.records, MENTIONS.primary_key) == by_key(want, MENTIONS.primary_key)
    assert getattr(fake.app, "injected_bad", []), "the seed should inject bad mentions"
    assert_rejects_are_the_injected(run, fake.app.injected_bad)
    assert c.stats.pages > len(DAYS) * len(fake.app.queries)  # several pages per query and day
    assert fake.faults_injected > 0 and c.stats.retries > 0
    assert sum(r.duplicates for r in run.results) > 0  # pages served twice, kept once
    assert fake.app.token not in caplog.text


def test_queries_merge(fake, tmp_path):
    run = run_stream(client(fake), QUERIES, tmp_path)
    want = [
        {"id": q["id"], "name": q["name"], "type": q["type"], "entity": q["entity"], "boolean_query": q["boolean"]}
        for q in fake.app.queries
    ]
    assert by_key(run.records, ("id",)) == by_key(want, ("id",))
    # the fake adds no bad copies to the query list (none of its fields is typed)
    assert getattr(fake.app, "injected_bad", []) == [] and run.rejects == []
    again = run_stream(client(fake), QUERIES, tmp_path)
    assert (again.results[0].inserted, again.results[0].updated) == (0, 0)


def test_rerun_restate_and_incremental_load_nothing_new(fake, tmp_path):
    day = [date(2026, 6, 7)]
    first = run_stream(client(fake), MENTIONS, tmp_path, day)
    assert first.results[0].inserted > 0
    second = run_stream(client(fake), MENTIONS, tmp_path, day)
    r = second.results[0]
    assert (r.inserted, r.updated, r.deleted) == (0, 0, 0) and r.unchanged == first.results[0].loaded
    # The listening platform does not revise mentions (restatement 0): after a restatement
    # epoch the re-run still holds exactly what the fake serves, and nothing changes.
    fake.app.restate()
    after = run_stream(client(fake), MENTIONS, tmp_path, day)
    assert by_key(after.records, MENTIONS.primary_key) == by_key(served(fake.app, day), MENTIONS.primary_key)
    assert after.results[0].updated == 0
    # The next incremental run reads only the new day (window 0): it has no mentions yet.
    nxt = run_stream(client(fake), MENTIONS, tmp_path, [date(2026, 6, 8)])
    assert (nxt.results[0].received, nxt.results[0].inserted) == (0, 0)
    assert len(nxt.records) == len(after.records)


def test_429_waits_as_long_as_retry_after_says(world):
    slept: list[float] = []
    faults = FaultConfig(rate_limit_rate=0.4, retry_after_s=7, seed=5)
    with FakeServer(ListeningApp(world), faults) as srv:
        c = ListeningClient(
            srv.url,
            srv.app.token,
            query_ids=["q_lumora"],
            page_size=25,
            retry=RetryPolicy(max_attempts=20, backoff_initial_s=0.001, backoff_max_s=0.01),
            sleep=slept.append,
        )
        got = [m for p in c.mention_pages("q_lumora", DAYS[0]) for m in p]
        want = srv.app.current_mentions("q_lumora", "2026-06-02", "2026-06-03")
    assert [m["id"] for m in got] == [m["id"] for m in want]
    assert srv.faults_injected > 0 and slept.count(7.0) == c.stats.retries == srv.faults_injected


def test_retired_field_fails_naming_platform_field_and_setting(fake):
    c = client(fake, mention_fields=[*DEFAULT_MENTION_FIELDS, "sentiment"])
    with pytest.raises(FatalError) as exc:
        list(c.pages(MENTIONS, DAYS[0]))
    text = str(exc.value)
    assert "[listening]" in text and "sentiment" in text and "mention_fields" in text


def test_bad_token_fails_naming_the_variable_and_never_shows_it(world, caplog):
    caplog.set_level(logging.DEBUG)
    secret = "wrong-listening-token-5c1d"
    with FakeServer(ListeningApp(world)) as srv:
        with pytest.raises(AuthError) as exc:
            list(client(srv, token=secret).pages(MENTIONS, DAYS[0]))
    assert "LISTENING_TOKEN" in str(exc.value) and "invalid_token" in str(exc.value)
    assert secret not in str(exc.value) and secret not in repr(exc.value.args) and secret not in caplog.text


def test_missing_settings_fail_before_any_call():
    with pytest.raises(AuthError, match="LISTENING_TOKEN"):
        ListeningClient("http://127.0.0.1:9", "")
    with pytest.raises(FatalError, match="LISTENING_QUERY_IDS"):
        list(ListeningClient("http://127.0.0.1:9", "t").pages(MENTIONS, DAYS[0]))


def test_unknown_query_is_fatal_naming_the_setting(fake):
    c = ListeningClient(fake.url, fake.app.token, query_ids=["q_nope"], retry=FAST)
    with pytest.raises(FatalError, match="LISTENING_QUERY_IDS") as exc:
        list(c.pages(MENTIONS, DAYS[0]))
    assert "q_nope" in str(exc.value)


def _resp(status: int, body: dict, headers: dict | None = None) -> requests.Response:
    r = requests.Response()
    r.status_code, r._content = status, json.dumps(body).encode()
    r.headers.update(headers or {})
    return r


@pytest.mark.parametrize(
    "status, message, expected, retry_after",
    [
        (401, "invalid_token: the access token provided is invalid or has expired", AuthError, None),
        (429, "Rate limit exceeded: 30 requests per 10 minutes", RetryableError, 12.0),
        (500, "Internal server error", RetryableError, None),
        (503, "Service temporarily unavailable", RetryableError, None),
        (400, "cursor is invalid or does not belong to this query and range", FatalError, None),
        (404, "Query q_x not found", FatalError, None),
    ],
)
def test_error_bodies_are_classified_with_their_message(status, message, expected, retry_after):
    headers = {"Retry-After": "12"} if retry_after else {}
    err = classify_listening_error(
        _resp(status, {"errors": [{"code": status, "message": message}]}, headers), "http://x/api/v1/mentions"
    )
    assert type(err) is expected and message in str(err) and err.retry_after == retry_after


def test_a_cursor_that_keeps_coming_back_is_a_loop():
    p = NextCursorPaginator(max_repeats=2)
    params = p.next_params({"nextCursor": "A"}, {})
    assert params == {"cursor": "A"}
    p.next_params({"nextCursor": "A"}, params)  # a page served again
    p.next_params({"nextCursor": "A"}, params)
    with pytest.raises(FatalError, match="refusing to loop"):
        p.next_params({"nextCursor": "A"}, params)
    assert p.next_params({"results": []}, params) is None


def test_a_malformed_mention_goes_to_rejects_with_its_reason(world, tmp_path):
    app = ListeningApp(world)
    good = app.current_mentions("q_lumora", "2026-06-02", "2026-06-03")[:3]
    no_id = {k: v for k, v in good[0].items() if k != "id"}
    bad_reach = {**good[1], "reach": "not-a-valid-value"}
    landed = land_pages(tmp_path / "landing", "listening", "mentions", "2026-06-02", [[*good, no_id, bad_reach]])
    with connect(tmp_path / "w.duckdb") as con:
        result = load(con, raw_table(MENTIONS), landed)
        rejects = dict(
            (json.loads(r)["text"] + str(json.loads(r).get("id")), reason)
            for r, reason in con.execute("select record, reason from raw._rejects").fetchall()
        )
    assert (result.loaded, result.rejected) == (3, 2)
    assert "missing required field id" in rejects[no_id["text"] + "None"]
    assert "reach" in rejects[bad_reach["text"] + bad_reach["id"]]
