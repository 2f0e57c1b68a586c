"""The shared HTTP core: retries, backoff, Retry-After, usage headers, paging, error
classification and token redaction, over real HTTP against a scripted local server."""

from __future__ import annotations

import json
import logging
import time

import pytest

from extractors.http import AuthError, CursorPaginator, FatalError, HttpCore, RetryableError, RetryPolicy
from extractors.meta_ads import classify_meta_error, read_meta_throttle
from sampleworld.fakes.base import App, FakeServer, Response

TOKEN = "tok-SECRET-123456"


class ScriptedApp(App):
    """Answers each request with the next scripted response; records what it was asked."""

    name = "scripted"

    def __init__(self, *responses: Response):
        self.script = list(responses)
        self.seen = []

    def handle(self, req):
        self.seen.append(req)
        resp = self.script.pop(0) if self.script else Response.json(200, {"data": []})
        if resp.headers.get("X-Test-Delay"):
            time.sleep(float(resp.headers["X-Test-Delay"]))
        return resp


def meta_err(status, code, message="boom", **extra):
    return Response.json(
        status,
        {"error": {"message": message, "type": "OAuthException", "code": code, **extra}},
        extra.pop("headers", None),
    )


@pytest.fixture
def sleeps():
    return []


def core(url, sleeps, **kw):
    return HttpCore(
        "testsrc",
        url,
        headers={"Authorization": f"Bearer {TOKEN}"},
        secrets=(TOKEN,),
        retry=RetryPolicy(max_attempts=4, backoff_initial_s=0.01, backoff_max_s=0.05),
        classify_error=classify_meta_error,
        read_throttle=read_meta_throttle,
        sleep=sleeps.append,
        **kw,
    )


def test_retries_server_errors_then_succeeds(sleeps):
    app = ScriptedApp(
        Response.json(500, {"error": {"message": "x", "code": 2, "is_transient": True}}),
        Response(502, b"<html>bad gateway</html>", {"Content-Type": "text/html"}),
        Response.json(200, {"ok": True}),
    )
    with FakeServer(app) as srv:
        c = core(srv.url, sleeps)
        assert c.get_json("thing") == {"ok": True}
    assert len(app.seen) == 3
    assert c.stats.retries == 2 and c.stats.requests == 3
    assert len(sleeps) == 2 and all(0 <= s <= 0.05 for s in sleeps)


def test_honours_retry_after_over_backoff(sleeps):
    app = ScriptedApp(
        Response.json(429, {"error": {"message": "slow down", "code": 4}}, {"Retry-After": "7"}),
        Response.json(200, {"ok": 1}),
    )
    with FakeServer(app) as srv:
        core(srv.url, sleeps).get_json("x")
    assert sleeps == [7.0]


def test_gives_up_after_max_attempts_with_clear_error(sleeps):
    app = ScriptedApp(*[Response.json(503, {"error": {"message": "down", "code": 2}})] * 10)
    with FakeServer(app) as srv:
        with pytest.raises(RetryableError) as exc:
            core(srv.url, sleeps).get_json("x")
    assert len(app.seen) == 4
    assert "[meta_ads] HTTP 503, code 2: down" in str(exc.value)


def test_truncated_body_is_fetched_again(sleeps):
    app = ScriptedApp(
        Response(200, b'{"data": [1, 2', {"Content-Type": "application/json"}), Response.json(200, {"data": [1, 2, 3]})
    )
    with FakeServer(app) as srv:
        assert core(srv.url, sleeps).get_json("x") == {"data": [1, 2, 3]}
    assert len(app.seen) == 2


def test_a_slow_response_times_out_and_is_retried(sleeps):
    app = ScriptedApp(Response.json(200, {"late": True}, {"X-Test-Delay": "0.6"}), Response.json(200, {"ok": 1}))
    with FakeServer(app) as srv:
        c = core(srv.url, sleeps, timeout=(1.0, 0.2))
        assert c.get_json("x") == {"ok": 1}
    assert len(app.seen) == 2 and c.stats.retries == 1


def test_connection_refused_is_retryable(sleeps):
    with FakeServer(ScriptedApp()) as srv:
        url = srv.url
    with pytest.raises(RetryableError, match="ConnectionError"):
        core(url, sleeps).get_json("x")
    assert len(sleeps) == 3


def test_bad_token_is_fatal_and_names_the_variable(sleeps):
    app = ScriptedApp(meta_err(401, 190, "Invalid OAuth access token"))
    with FakeServer(app) as srv:
        with pytest.raises(AuthError, match="META_ACCESS_TOKEN") as exc:
            core(srv.url, sleeps).get_json("x")
    assert len(app.seen) == 1 and sleeps == []
    assert not exc.value.retryable


def test_retired_metric_is_fatal_and_says_what_to_change(sleeps):
    app = ScriptedApp(meta_err(400, 100, "(#100) post_impressions is not valid for fields param"))
    with FakeServer(app) as srv:
        with pytest.raises(FatalError, match="insights_fields"):
            core(srv.url, sleeps).get_json("x")
    assert len(app.seen) == 1


def test_meta_throttle_codes_on_http_400_are_retried(sleeps):
    app = ScriptedApp(
        meta_err(400, 17, "User request limit reached"),
        meta_err(400, 80004, "There have been too many calls to this ad-account"),
        Response.json(200, {"ok": 1}),
    )
    with FakeServer(app) as srv:
        core(srv.url, sleeps).get_json("x")
    assert len(app.seen) == 3


def test_usage_headers_pause_the_next_call(sleeps):
    usage = {"x-ad-account-usage": json.dumps({"acc_id_util_pct": 97.5, "reset_time_duration": 42})}
    app = ScriptedApp(Response.json(200, {"a": 1}, usage), Response.json(200, {"b": 2}))
    with FakeServer(app) as srv:
        c = core(srv.url, sleeps)
        c.get_json("x")
        assert sleeps == []
        c.get_json("y")
    assert len(sleeps) == 1 and 41 < sleeps[0] <= 42
    assert c.stats.throttle_sleep_s == pytest.approx(sleeps[0])


def test_regain_access_minutes_beyond_the_limit_fail_clearly(sleeps):
    buc = {
        "x-business-use-case-usage": json.dumps(
            {"1": [{"type": "ads_insights", "call_count": 100, "estimated_time_to_regain_access": 30}]}
        )
    }
    app = ScriptedApp(Response.json(200, {"a": 1}, buc))
    with FakeServer(app) as srv:
        c = core(srv.url, sleeps)
        c.retry.max_wait_s = 600
        with pytest.raises(FatalError, match="wait 1800s"):
            c.get_json("x")


def test_cursor_paging_walks_every_page_and_stops_without_next(sleeps):
    pages = [
        Response.json(
            200, {"data": [{"i": 1}, {"i": 2}], "paging": {"cursors": {"after": "A"}, "next": "http://x/?after=A"}}
        ),
        Response.json(200, {"data": [{"i": 3}], "paging": {"cursors": {"after": "B"}, "next": "http://x/?after=B"}}),
        Response.json(200, {"data": [{"i": 4}], "paging": {"cursors": {"before": "B", "after": "C"}}}),
    ]
    app = ScriptedApp(*pages)
    with FakeServer(app) as srv:
        c = core(srv.url, sleeps)
        got = [r["i"] for page in c.paginate("edge", CursorPaginator(), params={"limit": "2"}) for r in page]
    assert got == [1, 2, 3, 4]
    assert [r.query.get("after") for r in app.seen] == [None, "A", "B"]
    assert all(r.query["limit"] == "2" for r in app.seen)
    assert c.stats.pages == 3


def _page(items, after, more=True):
    paging = {"cursors": {"after": after}, **({"next": f"http://x/?after={after}"} if more else {})}
    return Response.json(200, {"data": [{"i": i} for i in items], "paging": paging})


def test_a_page_served_again_is_asked_for_again(sleeps):
    # page 2 is served twice (the second time pointing where it already pointed): the
    # client asks again and goes on; the repeated records are collapsed later, on their key
    app = ScriptedApp(_page([1], "A"), _page([1], "A"), _page([2], "B"), _page([3], "C", more=False))
    with FakeServer(app) as srv:
        got = [r["i"] for p in core(srv.url, sleeps).paginate("edge", CursorPaginator()) for r in p]
    assert got == [1, 1, 2, 3]
    assert [r.query.get("after") for r in app.seen] == [None, "A", "A", "B"]


def test_a_cursor_that_comes_back_stops_with_an_error(sleeps):
    app = ScriptedApp(_page([1], "A"), _page([2], "B"), _page([3], "A"))
    with FakeServer(app) as srv:
        with pytest.raises(FatalError, match="came back"):
            list(core(srv.url, sleeps).paginate("edge", CursorPaginator()))


def test_a_cursor_stuck_in_place_stops_with_an_error(sleeps):
    app = ScriptedApp(*[_page([1], "A")] * 6)
    with FakeServer(app) as srv:
        with pytest.raises(FatalError, match="in a row"):
            list(core(srv.url, sleeps).paginate("edge", CursorPaginator()))


def test_token_never_in_errors_or_logs(sleeps, caplog):
    body = {"error": {"message": f"bad thing for access_token={TOKEN}", "code": 2, "is_transient": True}}
    app = ScriptedApp(*[Response.json(500, body)] * 4)
    caplog.set_level(logging.DEBUG)
    with FakeServer(app) as srv:
        with pytest.raises(RetryableError) as exc:
            core(srv.url, sleeps).get_json("x")
    assert TOKEN not in str(exc.value) and TOKEN not in repr(exc.value.__dict__)
    assert "access_token=***" in str(exc.value)  # the body echoed it; the message masks it
    assert caplog.records and TOKEN not in caplog.text
    assert app.seen[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_a_body_holding_nan_fails_clearly_instead_of_landing(sleeps):
    """Python's parser takes NaN and Infinity, JSON does not: such a body is refused, naming
    the source, rather than written to landing as null or as text no reader accepts."""
    bad = Response(200, b'{"data": [{"id": "1", "ctr": NaN}]}', {"Content-Type": "application/json"})
    with FakeServer(ScriptedApp(bad)) as srv:
        with pytest.raises(FatalError, match=r"\[testsrc\].*NaN"):
            core(srv.url, sleeps).get_json("x")
    assert sleeps == []  # not retried: asking again gives the same body


@pytest.mark.parametrize(
    "body",
    [
        b'{"data": [{"id": "1445078208190291968", "n": 12345678901234567890123, "m": -9223372036854775809}]}',
        b"[1, 18446744073709551616]",
        b'{"a": 1.5, "b": "\\u00e9t\\u00e9", "c": null, "d": [true, false], "a": 2}',
    ],
)
def test_bodies_parse_exactly_as_the_standard_library_parses_them(body):
    """orjson on the fast path must never change a value: integers beyond 64 bits (which orjson
    would turn into inexact floats) and numbers orjson refuses go to the standard library."""
    import json

    from extractors.http import parse_json

    got, want = parse_json(body), json.loads(body)
    assert got == want and repr(got) == repr(want)


@pytest.mark.parametrize(
    "body,error",
    [
        (b'{"a": NaN}', "NotJson"),
        (b'{"data": [{"id": 1', "JSONDecodeError"),
        (b'{"x": 1.0e400}', "NotJson"),  # read as inf, it would land as null (issue 17)
    ],
)
def test_bodies_json_refuses_fail_as_before(body, error):
    from extractors.http import parse_json

    with pytest.raises(Exception) as exc:
        parse_json(body)
    assert type(exc.value).__name__ == error
