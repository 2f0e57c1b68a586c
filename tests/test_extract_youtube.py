"""The YouTube extractor against the fake, faults on: every stream loads exactly what the fake
serves now (no loss, no duplicates), every bad report row injected is in the rejects, re-runs
change nothing, a restatement is picked up; an exhausted daily quota fails at once with a
clear message; Google error bodies are classified; clear failures for a bad token and a
retired metric."""

from __future__ import annotations

import json
import logging
import re
from datetime import date, timedelta

import pytest
import requests
from stream_harness import run_stream

from extractors.http import AuthError, FatalError, RetryableError, RetryPolicy
from extractors.youtube import (
    AGE_GENDER,
    CHANNEL_ANALYTICS,
    CHANNELS,
    COUNTRY,
    VIDEO_ANALYTICS,
    VIDEOS,
    StartIndexPaginator,
    YouTubeClient,
    classify_google_error,
)
from sampleworld.fakes import youtube as yt_fake
from sampleworld.fakes.base import FakeServer, FaultConfig
from sampleworld.fakes.youtube import TOKEN, YouTubeApp

FAST = RetryPolicy(max_attempts=8, backoff_initial_s=0.001, backoff_max_s=0.01)
FAULTS = FaultConfig(
    error_rate=0.05,
    rate_limit_rate=0.05,
    retry_after_s=0,
    truncate_rate=0.05,
    repeat_page_rate=0.1,
    extra_field_rate=0.1,
    bad_record_rate=0.5,
    seed=3,
)
# (bad rows at 0.5: only the last, short page of a report gets one, two such pages a run)
DAYS = [date(2026, 6, 6), date(2026, 6, 7)]


@pytest.fixture
def faulty(world):
    with FakeServer(YouTubeApp(world), FAULTS) as srv:
        yield srv


def client(srv, token=TOKEN, **kw) -> YouTubeClient:
    kw.setdefault("report_page_size", 2)  # several pages per report
    kw.setdefault("data_page_size", 1)  # several playlist pages per channel
    return YouTubeClient(
        srv.url,
        token,
        analytics_base_url=srv.url,
        channel_ids=[c["id"] for c in srv.app.channels],
        retry=FAST,
        sleep=lambda s: None,
        **kw,
    )


def key_of(record: dict, fields) -> tuple:
    return tuple(str(record.get(f)) for f in fields)


def assert_exactly(records, want, fields) -> None:
    got = {}
    for r in records:
        k = key_of(r, fields)
        assert k not in got, f"duplicate {k}"
        got[k] = r
    expected = {key_of(r, fields): r for r in want}
    assert len(expected) == len(want) and got.keys() == expected.keys()
    for k, r in expected.items():
        assert got[k] == r, k


# -- what the fake serves now -----------------------------------------------------------------------


def rows(app, channel, start, end, dims, metrics, **context):
    return [
        {**dict(zip([*dims, *metrics], r)), "channel_id": channel, **context}
        for r in app.current_rows(channel, start.isoformat(), end.isoformat(), tuple(dims), tuple(metrics))
    ]


def want_channels(app, c, days):
    return [
        {**app.channel_resource(ch, set(c.channel_parts)), "snapshot_date": d.isoformat()}
        for d in days
        for ch in app.channels
    ]


def want_videos(app, c, days):
    return [app.video_resource(v, set(c.video_parts)) for v in app.videos]


def want_video_daily(app, c, days):
    return [
        r for d in days for ch in app.channels for r in rows(app, ch["id"], d, d, ("day", "video"), c.video_metrics)
    ]


def want_channel_daily(app, c, days):
    return [r for d in days for ch in app.channels for r in rows(app, ch["id"], d, d, ("day",), c.channel_metrics)]


def want_audience(dims, metrics_of):
    def want(app, c, days):
        out = []
        for d in days:
            start = d - timedelta(days=c.window_days - 1)
            for ch in app.channels:
                out += rows(
                    app,
                    ch["id"],
                    start,
                    d,
                    dims,
                    metrics_of(c),
                    snapshot_date=d.isoformat(),
                    start_date=start.isoformat(),
                )
        return out

    return want


# What the client adds to a report row (the fake's bad rows lack it), and per stream the
# fields the fake breaks in a bad row: (key column left null, typed column made unreadable).
# Channels and videos get no bad copies: their typed fields are nested (see the fake).
CLIENT_FIELDS = ("channel_id", "snapshot_date", "start_date")
BAD_FIELDS = {
    "channels": None,
    "videos": None,
    "video_analytics_daily": ("video", "day"),
    "channel_analytics_daily": ("day", "day"),
    "audience_age_gender": ("ageGroup", "viewerPercentage"),
    "audience_country": ("country", "views"),
}
# The fake adds a bad row only to a report page shorter than maxResults (the last one): with 10
# countries a page of 2 rows never is, a page of 3 rows ends with one.
PAGE_SIZE = {"audience_country": {"report_page_size": 3}}


def assert_rejects_are_the_injected(run, injected, bad_fields) -> None:
    """The rejects are exactly the injected rows (whole records, named by their headers), each
    with a reason that names the field the fake broke."""
    key, typed = bad_fields
    got = []
    for text, reason in run.rejects:
        rec = {k: v for k, v in json.loads(text).items() if k not in CLIENT_FIELDS}
        if rec.get(key) is not None:  # a field read by a JSON path is named by it ($.ageGroup)
            assert rec[typed] == "not-a-valid-value", rec
            assert re.search(rf"field (\$\.)?{typed}: not-a-valid-value is not a valid", reason), reason
        else:
            assert re.search(rf"missing required field (\$\.)?{key}\b", reason), reason
        got.append(json.dumps(rec, sort_keys=True))
    assert sorted(got) == sorted(json.dumps(r, sort_keys=True) for r in injected)


CASES = {
    # stream: (what the fake serves now, the record fields that identify a row, restated by app.restate())
    "channels": (CHANNELS, want_channels, ("snapshot_date", "id"), False),
    "videos": (VIDEOS, want_videos, ("id",), True),  # the etag moves with every revision
    "video_analytics_daily": (VIDEO_ANALYTICS, want_video_daily, ("day", "channel_id", "video"), True),
    "channel_analytics_daily": (CHANNEL_ANALYTICS, want_channel_daily, ("day", "channel_id"), True),
    "audience_age_gender": (
        AGE_GENDER,
        want_audience(("ageGroup", "gender"), lambda c: c.demographic_metrics),
        ("snapshot_date", "channel_id", "ageGroup", "gender"),
        False,
    ),
    "audience_country": (
        COUNTRY,
        want_audience(("country",), lambda c: c.country_metrics),
        ("snapshot_date", "channel_id", "country"),
        True,
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_stream_loads_exactly_what_the_fake_serves(faulty, tmp_path, name, caplog):
    caplog.set_level(logging.DEBUG)
    stream, want, fields, restated = CASES[name]
    app = faulty.app
    kw = PAGE_SIZE.get(name, {})
    c = client(faulty, **kw)
    days = DAYS if stream.dated else None
    first = run_stream(c, stream, tmp_path, days)
    assert_exactly(first.records, want(app, c, days), fields)
    assert len(first.records) >= 2
    injected = list(getattr(app, "injected_bad", []))
    if BAD_FIELDS[name] is None:
        assert injected == [] and first.rejects == []
    else:
        assert injected, "the seed should inject bad rows"
        assert_rejects_are_the_injected(first, injected, BAD_FIELDS[name])

    again = run_stream(client(faulty, **kw), stream, tmp_path, days)
    assert [(r.inserted, r.updated, r.deleted) for r in again.results] == [(0, 0, 0)] * len(again.results)
    if BAD_FIELDS[name] is not None:  # the rejects of a partition are those of its latest load
        assert_rejects_are_the_injected(again, app.injected_bad[len(injected) :], BAD_FIELDS[name])
    injected = list(getattr(app, "injected_bad", []))

    app.restate()
    after = run_stream(client(faulty, **kw), stream, tmp_path, days)
    assert_exactly(after.records, want(app, c, days), fields)
    if BAD_FIELDS[name] is not None:
        assert_rejects_are_the_injected(after, app.injected_bad[len(injected) :], BAD_FIELDS[name])
    updated = sum(r.updated for r in after.results)
    assert (updated > 0) if restated else (updated == 0)
    if restated:
        assert after.results[-1].updated > 0 and sum(r.inserted + r.deleted for r in after.results) == 0
    assert TOKEN not in caplog.text


def test_faults_were_met_and_retried(faulty, tmp_path):
    c = client(faulty)
    for stream in (VIDEOS, VIDEO_ANALYTICS, COUNTRY):
        run_stream(c, stream, tmp_path, DAYS if stream.dated else None)
    assert faulty.faults_injected > 0 and c.stats.retries > 0


def test_repeated_report_page_is_asked_for_again_not_skipped():
    pag = StartIndexPaginator()
    params = {"startIndex": "1", "maxResults": "2"}
    p2 = pag.next_params({"rows": [["a"], ["b"]]}, params)
    assert p2["startIndex"] == "3"
    assert pag.next_params({"rows": [["a"], ["b"]]}, p2) == p2  # the same page again: ask again
    p3 = pag.next_params({"rows": [["c"], ["d"]]}, p2)
    assert p3["startIndex"] == "5"
    assert pag.next_params({"rows": [["e"]]}, p3) is None  # a short page is the last


def test_exhausted_daily_quota_is_fatal_at_once_with_a_clear_message(world):
    with FakeServer(YouTubeApp(world, quota_limit=0)) as srv:
        c = client(srv)
        with pytest.raises(FatalError) as exc:
            list(c.pages(VIDEOS, None))
    msg = str(exc.value)
    assert not exc.value.retryable and c.stats.retries == 0 and c.stats.requests == 1
    assert "quota" in msg and "daily" in msg and "retrying cannot help today" in msg and "Pacific" in msg


def test_retired_metric_fails_naming_platform_metric_and_setting(world):
    with FakeServer(YouTubeApp(world), FaultConfig(retired_metrics=("estimatedMinutesWatched",))) as srv:
        with pytest.raises(FatalError) as exc:
            list(client(srv).pages(VIDEO_ANALYTICS, date(2026, 6, 7)))
    msg = str(exc.value)
    assert "YouTube" in msg and "estimatedMinutesWatched" in msg and "video_metrics" in msg


def test_bad_token_names_the_variable_and_never_shows(world, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = "wrong-youtube-secret-456"
    with FakeServer(YouTubeApp(world)) as srv:
        for stream, day in ((CHANNELS, date(2026, 6, 7)), (VIDEO_ANALYTICS, date(2026, 6, 7))):
            with pytest.raises(AuthError) as exc:
                list(client(srv, token=wrong).pages(stream, day))
            assert "YOUTUBE_ACCESS_TOKEN" in str(exc.value) and wrong not in str(exc.value)
    assert wrong not in caplog.text
    with pytest.raises(AuthError, match="YOUTUBE_ACCESS_TOKEN"):
        YouTubeClient("http://127.0.0.1:9", "")


def test_unknown_channel_is_fatal(world):
    with FakeServer(YouTubeApp(world)) as srv:
        c = YouTubeClient(srv.url, TOKEN, channel_ids=["UCnope"], retry=FAST)
        with pytest.raises(FatalError, match="UCnope"):
            list(c.pages(CHANNELS, date(2026, 6, 7)))
        with pytest.raises(FatalError, match="YOUTUBE_CHANNEL_IDS"):
            list(c.pages(VIDEO_ANALYTICS, date(2026, 6, 7)))


def _google(status: int, message: str, reason: str, domain: str = "global") -> requests.Response:
    resp = requests.Response()
    resp.status_code = status
    resp._content = yt_fake.google_error(status, message, reason, domain).body
    resp.headers["Content-Type"] = "application/json"
    return resp


@pytest.mark.parametrize(
    "status, reason, domain, expected",
    [
        (403, "quotaExceeded", "youtube.quota", FatalError),
        (403, "dailyLimitExceeded", "usageLimits", FatalError),
        (429, "rateLimitExceeded", "youtube.quota", RetryableError),
        (403, "userRateLimitExceeded", "usageLimits", RetryableError),
        (500, "backendError", "global", RetryableError),
        (503, "backendError", "global", RetryableError),
        (401, "authError", "global", AuthError),
        (403, "insufficientPermissions", "global", AuthError),
        (403, "forbidden", "global", FatalError),
        (400, "badRequest", "global", FatalError),
        (404, "playlistNotFound", "youtube.playlistItem", FatalError),
    ],
)
def test_google_error_bodies_are_classified_with_their_message(status, reason, domain, expected):
    message = f"Google says {reason}"
    err = classify_google_error(_google(status, message, reason, domain), "https://www.googleapis.com/youtube/v3/x")
    assert type(err) is expected and message in str(err) and err.code == reason


def test_non_google_bodies_are_left_to_the_core():
    resp = requests.Response()
    resp.status_code, resp._content = 502, b"<html>Bad Gateway</html>"
    assert classify_google_error(resp, "u") is None
    resp._content = json.dumps({"error": "invalid_grant"}).encode()
    assert classify_google_error(resp, "u") is None


def test_resource_reads_the_fakes_settings(world):
    from orchestration.sources.youtube import YouTubeResource

    with FakeServer(YouTubeApp(world)) as srv:
        env = yt_fake.env(srv.url, srv.app)
    c = YouTubeResource.client_from(env)
    assert c.channel_ids == [ch["id"] for ch in YouTubeApp(world).channels]
