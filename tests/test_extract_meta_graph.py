"""The Meta Graph extractor (Facebook Pages, Instagram) against its fake, faults on: every
stream loads exactly what the fake serves now; re-runs change nothing; a restatement is
picked up; a retired metric, a bad token and a missing token fail clearly; the token never
shows in an error or a log line."""

from __future__ import annotations

import dataclasses
import gzip
import json
import logging
from datetime import date, timedelta

import pytest
from fake_client import canned_response
from stream_harness import StreamRun, by_key, run_stream

from extractors import meta_graph as mg
from extractors.http import AuthError, FatalError, RetryPolicy
from sampleworld.fakes import meta_graph as fake
from sampleworld.fakes.base import FakeServer, FaultConfig
from sampleworld.gen.facebook import pacific_day_end

FAST = RetryPolicy(max_attempts=8, backoff_initial_s=0.001, backoff_max_s=0.01)
FAULTS = dict(
    error_rate=0.05,
    rate_limit_rate=0.05,
    retry_after_s=0,
    truncate_rate=0.05,
    repeat_page_rate=0.1,
    extra_field_rate=0.1,
    bad_record_rate=0.1,
)
DAYS = [date(2026, 6, 3), date(2026, 6, 7)]
LOOKBACK = mg.DEFAULT_LOOKBACK_DAYS


def client(srv, token: str | None = None, **kw) -> mg.MetaGraphClient:
    env = fake.env(srv.url, srv.app)
    kw.setdefault("page_size", 10)
    return mg.MetaGraphClient(
        env["META_GRAPH_BASE_URL"],
        env["META_PAGE_TOKEN"] if token is None else token,
        page_ids=env["FACEBOOK_PAGE_IDS"].split(","),
        ig_user_ids=env["INSTAGRAM_USER_IDS"].split(","),
        retry=FAST,
        **kw,
    )


# Streams loaded from paged lists the fake injects bad records into -> the list's fields
# (sampleworld.fakes.meta_graph.BAD_RECORD): the key field and the typed field.
BAD_LISTS = {
    mg.POSTS.key: fake.BAD_RECORD["post"],
    mg.COMMENTS.key: fake.BAD_RECORD["comment"],
    mg.FB_CONVERSATIONS.key: fake.BAD_RECORD["conversation"],
    mg.IG_CONVERSATIONS.key: fake.BAD_RECORD["conversation"],
    mg.MEDIA.key: fake.BAD_RECORD["media"],
}
# Seeds that inject at least one bad record into each of those streams' first run.
SEEDS = {mg.POSTS.key: 1, mg.COMMENTS.key: 0, mg.FB_CONVERSATIONS.key: 0, mg.IG_CONVERSATIONS.key: 0, mg.MEDIA.key: 1}


def assert_rejects_are_the_injected(run, injected, fields):
    """The rejects are exactly the injected records, whole, each with a reason naming its field."""
    key, typed = fields
    got = sorted(json.dumps(json.loads(text), sort_keys=True) for text, _ in run.rejects)
    assert got == sorted(json.dumps(v, sort_keys=True) for v in injected)
    for _, reason in run.rejects:
        assert f"missing required field {key}" in reason or f"field {typed}: not-a-valid-value" in reason, reason


def first_run(srv, stream, tmp_path, size) -> tuple[StreamRun, list[dict]]:
    """The stream's first run, a day at a time, and the injected bad records it passes on to the
    loader: all of them, but for comments. Comments are read newest first across the lookback
    and only the partition day's are kept, so a bad copy of another day's comment is left out
    by the extractor (as its good original is) and never reaches the rejects."""
    results, passed, run = [], [], None
    for day in DAYS if stream.dated else [None]:
        before = len(getattr(srv.app, "injected_bad", []))
        run = run_stream(client(srv, page_size=size), stream, tmp_path, [day] if day else None)
        results += run.results
        new = getattr(srv.app, "injected_bad", [])[before:]
        passed += [r for r in new if stream is not mg.COMMENTS or r["created_time"][:10] == day.isoformat()]
    return StreamRun(run.records, run.rejects, results), passed


@pytest.fixture
def faulty(world, request):
    stream = getattr(request.node, "callspec", None) and request.node.callspec.params.get("stream")
    seed = SEEDS.get(stream.key) if stream is not None and stream.key in SEEDS else None
    if seed is None:
        seed = sum(map(ord, request.node.name)) % 1000
    with FakeServer(fake.MetaGraphApp(world), FaultConfig(**FAULTS, seed=seed)) as srv:
        yield srv


@pytest.fixture
def quiet(world):
    with FakeServer(fake.MetaGraphApp(world)) as srv:
        yield srv


# -- what the fake serves now, in each stream's record shape ------------------------------------
def _in_lookback(ts: str, day: date) -> bool:
    return (day - timedelta(days=LOOKBACK - 1)).isoformat() <= ts[:10] <= day.isoformat()


def _insight(owner: dict, name: str, period: str, value, titles: dict, obj: str, **extra) -> dict:
    title, desc = titles[name]
    return {
        **owner,
        "name": name,
        "period": period,
        "title": title,
        "description": desc,
        "id": f"{obj}/insights/{name}/{period}",
        "value": value,
        **extra,
    }


def exp_page_followers(app, day):
    return [
        {
            "id": pid,
            "name": p["name"],
            "followers_count": p["followers_count"],
            "fan_count": p["fan_count"],
            "snapshot_date": day.isoformat(),
        }
        for pid, p in app.pages.items()
    ]


def exp_posts(app, day):
    return [
        p
        for pid in app.pages
        for p in app.current_posts(pid, ",".join(mg.DEFAULT_POST_FIELDS))
        if p["created_time"][:10] == day.isoformat()
    ]


def exp_post_insights(app, day):
    out = []
    for pid in app.pages:
        for post in app.posts_by_page[pid]:
            if _in_lookback(post["created_time"], day):
                values = app.current_post_insights(post["id"])
                out += [
                    _insight(
                        {"post_id": post["id"], "page_id": pid, "snapshot_date": day.isoformat()},
                        m,
                        "lifetime",
                        values[m],
                        fake.POST_METRICS,
                        post["id"],
                    )
                    for m in mg.DEFAULT_POST_METRICS
                ]
    return out


def exp_page_insights(app, day):
    out = []
    for pid in app.pages:
        values = app.current_page_insights(pid).get(day.isoformat(), {})
        out += [
            _insight(
                {"page_id": pid},
                m,
                "day",
                values[m],
                fake.PAGE_METRICS,
                pid,
                end_time=pacific_day_end(day),
                date=day.isoformat(),
                timezone=mg.REPORTING_TZ,
            )
            for m in mg.DEFAULT_PAGE_METRICS
            if values
        ]
    return out


def exp_comments(app, day):
    fields = (
        "id",
        "message",
        "created_time",
        "from",
        "parent",
        "comment_count",
        "like_count",
        "permalink_url",
        "is_hidden",
    )
    return [
        {k: c[k] for k in fields if k in c}
        for pid in app.pages
        for post in app.posts_by_page[pid]
        if _in_lookback(post["created_time"], day)
        for c in app.current_comments(post["id"])
        if c["created_time"][:10] == day.isoformat()
    ]


def exp_conversations(platform):
    return lambda app, day: [c for pid in app.pages for c in app.current_conversations(pid, platform)]


def exp_messages(platform):
    def build(app, day):
        return [
            {**m, "conversation_id": c["id"]}
            for pid in app.pages
            for c in app.conversations_by[(pid, platform)]
            for m in app.current_messages(c["id"])
            if m["created_time"][:10] == day.isoformat()
        ]

    return build


def exp_account_followers(app, day):
    specs = fake.parse_fields(",".join(mg.DEFAULT_ACCOUNT_FIELDS))
    return [{**app._ig_user_node(uid, specs), "snapshot_date": day.isoformat()} for uid in app.ig_users]


def exp_media(app, day):
    return [
        m
        for uid in app.ig_users
        for m in app.current_media(uid, ",".join(mg.DEFAULT_MEDIA_FIELDS))
        if m["timestamp"][:10] == day.isoformat()
    ]


def exp_media_insights(app, day):
    out = []
    for uid in app.ig_users:
        for m in app.media_by_user[uid]:
            if not _in_lookback(m["timestamp"], day):
                continue
            values = app.current_media_insights(m["id"])
            owner = {
                "media_id": m["id"],
                "ig_user_id": uid,
                "media_product_type": m["media_product_type"],
                "snapshot_date": day.isoformat(),
            }
            for name in mg.metrics_for_media(mg.DEFAULT_MEDIA_METRICS, m)[1]:
                v = values[name]
                extra = {}
                if isinstance(v, dict):  # profile_activity: the total, with total_value beside it
                    v = sum(v.values())
                    extra = {"total_value": {"value": v}}
                out.append(_insight(owner, name, "lifetime", v, fake.MEDIA_METRICS, m["id"], **extra))
    return out


def exp_account_insights(app, day):
    out = []
    titles = {**fake.USER_DAY, **fake.USER_TOTAL_ONLY}
    for uid in app.ig_users:
        values = app.current_ig_insights(uid).get(day.isoformat())
        if not values:
            continue
        when = {"date": day.isoformat(), "timezone": mg.REPORTING_TZ}
        out += [
            _insight(
                {"ig_user_id": uid, "metric_type": "time_series"},
                m,
                "day",
                values[m],
                titles,
                uid,
                end_time=pacific_day_end(day),
                **when,
            )
            for m in mg.DEFAULT_ACCOUNT_DAY_METRICS
        ]
        out += [
            _insight(
                {"ig_user_id": uid, "metric_type": "total_value"},
                m,
                "day",
                values[m],
                titles,
                uid,
                total_value={"value": values[m]},
                **when,
            )
            for m in mg.DEFAULT_ACCOUNT_TOTAL_METRICS
        ]
    return out


def exp_demographics(app, day):
    return [
        {
            "ig_user_id": uid,
            "snapshot_date": day.isoformat(),
            "name": "follower_demographics",
            "breakdown": dim,
            "dimension_value": value,
            "value": n,
        }
        for uid in app.ig_users
        for dim in mg.DEFAULT_DEMOGRAPHIC_BREAKDOWNS
        for value, n in app.current_demographics(uid)[dim].items()
    ]


EXPECTED = {
    mg.PAGE_FOLLOWERS.key: exp_page_followers,
    mg.POSTS.key: exp_posts,
    mg.POST_INSIGHTS.key: exp_post_insights,
    mg.PAGE_INSIGHTS.key: exp_page_insights,
    mg.COMMENTS.key: exp_comments,
    mg.FB_CONVERSATIONS.key: exp_conversations("messenger"),
    mg.FB_MESSAGES.key: exp_messages("messenger"),
    mg.IG_ACCOUNT_FOLLOWERS.key: exp_account_followers,
    mg.MEDIA.key: exp_media,
    mg.MEDIA_INSIGHTS.key: exp_media_insights,
    mg.ACCOUNT_INSIGHTS.key: exp_account_insights,
    mg.FOLLOWER_DEMOGRAPHICS.key: exp_demographics,
    mg.IG_CONVERSATIONS.key: exp_conversations("instagram"),
    mg.IG_MESSAGES.key: exp_messages("instagram"),
}
# Streams whose values the fake restates (recent lifetime values and day flows).
RESTATED = {mg.POST_INSIGHTS.key, mg.PAGE_INSIGHTS.key, mg.MEDIA_INSIGHTS.key, mg.ACCOUNT_INSIGHTS.key}


def expected(stream, app) -> list[dict]:
    build = EXPECTED[stream.key]
    return [r for day in (DAYS if stream.dated else [None]) for r in build(app, day)]


def test_every_stream_has_a_test():
    assert set(EXPECTED) == {s.key for s in mg.STREAMS}


@pytest.mark.parametrize("stream", mg.STREAMS, ids=lambda s: s.key)
def test_stream_loads_exactly_what_the_fake_serves(stream, faulty, tmp_path):
    app = faulty.app
    # Comments are many (about a hundred a post): big pages keep the test fast.
    size = {mg.COMMENTS.key: 100}.get(stream.key, 10)
    first, injected = first_run(faulty, stream, tmp_path, size)
    want = expected(stream, app)
    assert want, "the fake serves something for these days"
    assert by_key(first.records, stream.primary_key) == by_key(want, stream.primary_key)
    assert len(first.records) == len(want)
    if stream.key in BAD_LISTS:
        assert injected, "the seed should inject bad records into this stream's lists"
        assert_rejects_are_the_injected(first, injected, BAD_LISTS[stream.key])
    else:  # insights, node reads and messages carry no injected record
        assert injected == [] and first.rejects == []
    assert sum(r.inserted for r in first.results) == len(want)

    again = run_stream(client(faulty, page_size=size), stream, tmp_path, DAYS)  # the same partitions again
    assert all((r.inserted, r.updated, r.deleted) == (0, 0, 0) for r in again.results), again.results
    assert by_key(again.records, stream.primary_key) == by_key(want, stream.primary_key)

    app.restate()  # recent values move
    restated = run_stream(client(faulty, page_size=size), stream, tmp_path, DAYS)
    want = expected(stream, app)
    assert by_key(restated.records, stream.primary_key) == by_key(want, stream.primary_key)
    if stream.key in RESTATED:
        assert restated.results[-1].updated > 0  # 2026-06-07 is recent

    quiet = run_stream(client(faulty, page_size=size), stream, tmp_path, DAYS)  # no new data: nothing new
    assert all((r.inserted, r.updated, r.deleted) == (0, 0, 0) for r in quiet.results)
    if faulty.requests_served > 60:
        assert faulty.faults_injected > 0


@pytest.mark.parametrize("stream", [mg.FB_MESSAGES, mg.IG_MESSAGES], ids=lambda s: s.key)
def test_long_conversations_are_paged_past_the_inline_messages(stream, faulty, tmp_path):
    got = run_stream(client(faulty, page_size=2), stream, tmp_path, DAYS[:1])
    want = EXPECTED[stream.key](faulty.app, DAYS[0])
    assert by_key(got.records, stream.primary_key) == by_key(want, stream.primary_key)
    assert faulty.app.calls["conversation/messages"] > 0


def test_page_token_is_swapped_once_per_page(quiet):
    c = client(quiet)
    list(c.pages(mg.PAGE_INSIGHTS, DAYS[0]))
    list(c.pages(mg.POSTS, DAYS[0]))
    assert quiet.app.calls["page/None"] == len(quiet.app.pages)


def test_retired_metric_fails_naming_platform_metric_and_setting(quiet):
    c = client(quiet, post_metrics=[*mg.DEFAULT_POST_METRICS, "post_impressions"])
    with pytest.raises(FatalError) as exc:
        list(c.pages(mg.POST_INSIGHTS, DAYS[0]))
    text = str(exc.value)
    assert "Meta Graph API" in text and "post_impressions" in text and "post_metrics" in text
    assert "post_media_view" in text  # what Meta replaced it with
    assert "post_clicks" not in text.split("(")[0]  # only the refused one is named


def test_metric_retired_by_the_platform_is_found_among_the_requested(world):
    with FakeServer(fake.MetaGraphApp(world), FaultConfig(retired_metrics=("page_post_engagements",))) as srv:
        with pytest.raises(FatalError) as exc:
            list(client(srv).pages(mg.PAGE_INSIGHTS, DAYS[0]))
    assert "page_post_engagements" in str(exc.value) and "page_metrics" in str(exc.value)


def test_metric_refused_for_a_media_type_names_the_type_setting(quiet):
    metrics = {**mg.DEFAULT_MEDIA_METRICS, "CAROUSEL_ALBUM/FEED": ("reach", "views")}
    with pytest.raises(FatalError) as exc:
        list(client(quiet, media_metrics=metrics).pages(mg.MEDIA_INSIGHTS, DAYS[1]))
    assert "views" in str(exc.value) and "media_metrics['CAROUSEL_ALBUM/FEED']" in str(exc.value)


def test_bad_token_fails_naming_the_variable_and_never_shows_it(quiet, caplog):
    secret = "EAAB-bad-secret-token-123"
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthError, match="META_PAGE_TOKEN") as exc:
        list(client(quiet, token=secret).pages(mg.POSTS, DAYS[0]))
    assert secret not in str(exc.value)
    assert not [r for r in caplog.records if secret in r.getMessage()]


def test_expired_token_is_an_auth_error(quiet):
    with pytest.raises(AuthError, match="META_PAGE_TOKEN") as exc:
        list(client(quiet, token="EXPIRED-token").pages(mg.MEDIA, DAYS[0]))
    assert "Session has expired" in str(exc.value) and "EXPIRED-token" not in str(exc.value)


def test_missing_token_fails_before_any_call():
    with pytest.raises(AuthError, match="META_PAGE_TOKEN"):
        mg.MetaGraphClient("http://127.0.0.1:9", "")


def test_missing_ids_name_their_variable(quiet):
    c = mg.MetaGraphClient(quiet.url, quiet.app.token, retry=FAST)
    with pytest.raises(FatalError, match="FACEBOOK_PAGE_IDS"):
        list(c.pages(mg.POSTS, DAYS[0]))
    with pytest.raises(FatalError, match="INSTAGRAM_USER_IDS"):
        list(c.pages(mg.MEDIA, DAYS[0]))


def test_token_never_in_logs_under_faults(world, caplog):
    caplog.set_level(logging.DEBUG)
    with FakeServer(fake.MetaGraphApp(world), FaultConfig(**FAULTS, seed=99)) as srv:
        c = client(srv)
        for stream in (mg.POSTS, mg.COMMENTS, mg.MEDIA_INSIGHTS):
            list(c.pages(stream, DAYS[0]))
        token = srv.app.token
    assert c.stats.retries > 0
    assert not [r for r in caplog.records if token in r.getMessage()]


def test_day_without_data_is_empty_not_an_error(quiet):
    c = client(quiet)
    assert [r for p in c.pages(mg.POSTS, date(2025, 1, 1)) for r in p] == []
    assert [r for p in c.pages(mg.PAGE_INSIGHTS, date(2025, 1, 1)) for r in p] == []


def test_a_record_whose_day_cannot_be_read_is_kept_for_the_loader_to_reject():
    from extractors.meta_graph import before, day_in

    assert day_in("2026-06-03T23:59:59+0000", "2026-06-03", "2026-06-03")
    assert not day_in("2026-06-04T00:00:00+0000", "2026-06-03", "2026-06-03")
    assert day_in("2026-06-04T01:00:00+0200", "2026-06-03", "2026-06-03")  # 23:00 UTC the day before
    for unreadable in ("not-a-valid-value", None, "", 20260603):
        assert day_in(unreadable, "2026-06-03", "2026-06-03")  # kept: lands, then rejected
        assert not before(unreadable, "2026-06-03")  # and never ends a walk early


@pytest.mark.parametrize("stream", [mg.FB_MESSAGES, mg.IG_MESSAGES, mg.COMMENTS], ids=lambda s: s.key)
def test_a_range_of_days_is_read_in_one_walk_and_landed_per_day(stream, quiet, tmp_path):
    """Messages and comments are `range_read`: a backfill reads its days in one walk of the
    conversations (the edge has no time filter), or one read per post, and lands each day in
    a file of its own, an empty day too, with the same records per day as reading the days
    one by one, in fewer calls."""
    from warehouse.landing import land_days

    days = [date(2026, 6, 1) + timedelta(days=i) for i in range(7)] + [date(2026, 6, 20)]
    assert stream.range_read
    kw = {"lookback_days": 2} if stream is mg.COMMENTS else {}  # a short lookback: the per-post windows clip
    c = client(quiet, page_size=5, **kw)
    landed = land_days(tmp_path / "landing", stream.source, stream.name, days, c.pages_for_days(stream, days))
    ranged_calls = c.stats.requests
    assert sorted(landed) == days and all(f.partition == d.isoformat() for d, f in landed.items())
    per_day_calls = 0
    for day in days:
        with gzip.open(landed[day].path, "rt") as f:
            got = [json.loads(x) for x in f]
        one = client(quiet, page_size=5, **kw)
        want = [r for page in one.pages(stream, day) for r in page]
        per_day_calls += one.stats.requests
        assert by_key(got, stream.primary_key) == by_key(want, stream.primary_key), day
        assert all(r["created_time"][:10] == day.isoformat() for r in got)
        assert landed[day].records == len(got)
    assert sum(f.records for f in landed.values()) > 0
    assert ranged_calls < per_day_calls
    with pytest.raises(ValueError, match="one day at a time"):
        next(c.pages_for_days(mg.POSTS, days))


# -- Page insights: the daily figure, once ----------------------------------------------------------
class PeriodBlindApp(fake.MetaGraphApp):
    """The fake as a server that ignores `period`: it answers every period each metric has (day,
    week, days_28), as the Graph API does when no period is asked. Records each insights query."""

    def __init__(self, world):
        super().__init__(world)
        self.insight_queries: list[tuple[str, dict]] = []

    def handle(self, req):
        if req.path.endswith("/insights"):
            self.insight_queries.append((req.path, dict(req.query)))
            req = dataclasses.replace(req, query={k: v for k, v in req.query.items() if k != "period"})
        return super().handle(req)


def test_page_insights_store_the_daily_values_once_when_every_period_comes_back(world, tmp_path):
    app = PeriodBlindApp(world)
    with FakeServer(app) as srv:
        run = run_stream(client(srv), mg.PAGE_INSIGHTS, tmp_path, DAYS)
    # the extractor asks what it stores: period=day, on every Page insights call
    page_calls = [q for path, q in app.insight_queries if path.split("/")[-2] in app.pages]
    assert page_calls and all(q.get("period") == "day" for q in page_calls)
    assert run.rejects == [] and {r["period"] for r in run.records} == {"day"}
    stored = {(r["page_id"], r["date"], r["name"]): r["value"] for r in run.records}
    want = {
        (pid, d.isoformat(), m): app.current_page_insights(pid)[d.isoformat()][m]
        for pid in app.pages
        for d in DAYS
        for m in mg.DEFAULT_PAGE_METRICS
    }
    assert stored == want
    # the day's totals, not day + week + days_28 of them
    for metric in ("page_media_view", "page_post_engagements"):
        assert sum(v for (_, _, m), v in stored.items() if m == metric) == sum(
            app.current_page_insights(pid)[d.isoformat()][metric] for pid in app.pages for d in DAYS
        )


# -- Instagram media: each kind is asked only its own metrics ------------------------------------------
class MetricLog(fake.MetaGraphApp):
    """The fake, recording the metrics asked of each media."""

    def __init__(self, world):
        super().__init__(world)
        self.asked: dict[str, list[str]] = {}

    def handle(self, req):
        parts = req.path.strip("/").split("/")
        if len(parts) == 3 and parts[2] == "insights" and parts[1] in self.media:
            self.asked[parts[1]] = req.values("metric")
        return super().handle(req)


def test_media_insights_ask_each_kind_of_media_only_what_it_supports(world, tmp_path):
    """A metric one kind of media lacks fails the whole request (Meta's (#100)): the default table
    asks each kind (IMAGE/FEED, CAROUSEL_ALBUM/FEED, VIDEO/FEED, VIDEO/REELS) its own list, and
    every insight of every media in the lookback lands."""
    app = MetricLog(world)
    with FakeServer(app) as srv:
        run = run_stream(client(srv), mg.MEDIA_INSIGHTS, tmp_path, DAYS[1:])
    assert app.asked
    kinds = {}
    for media_id, metrics in app.asked.items():
        m = app.media[media_id]
        kinds.setdefault((m["media_type"], m["media_product_type"]), metrics)
        assert set(metrics) <= app.media_supported(media_id), (media_id, metrics)
        assert metrics == list(mg.DEFAULT_MEDIA_METRICS[f"{m['media_type']}/{m['media_product_type']}"])
    assert set(kinds) == {("IMAGE", "FEED"), ("CAROUSEL_ALBUM", "FEED"), ("VIDEO", "FEED"), ("VIDEO", "REELS")}
    assert len({tuple(v) for v in kinds.values()}) == len(kinds)  # not one list for every media
    stored = {}
    for r in run.records:
        stored.setdefault(r["media_id"], []).append(r["name"])
    assert {k: sorted(v) for k, v in stored.items()} == {k: sorted(v) for k, v in app.asked.items()}


def test_media_metrics_keys_must_name_a_kind_of_media(quiet):
    for key in ("FEED/IMAGE", "CAROUSEL", "REEL", "IMAGE/"):
        with pytest.raises(ValueError) as exc:
            client(quiet, media_metrics={key: ("reach",)})
        assert repr(key) in str(exc.value) and "media_metrics" in str(exc.value) and "meta_graph" in str(exc.value)
    c = client(quiet, media_metrics={"STORY": ("reach",), "VIDEO/REELS": ("reach", "views")})
    assert mg.metrics_for_media(c.media_metrics, {"media_type": "IMAGE", "media_product_type": "STORY"}) == (
        "STORY",
        ("reach",),
    )
    assert mg.metrics_for_media(c.media_metrics, {"media_type": "IMAGE", "media_product_type": "FEED"}) == ("", ())


@pytest.mark.parametrize(
    "message, metrics",
    [
        ("(#100) The Media Insights API does not support the views metric for this media product type.", ["views"]),
        (
            "(#100) The Media Insights API does not support the impressions, replies metric for this media product type.",
            ["impressions", "replies"],
        ),  # several refused at once
        ("(#100) Incompatible metric (total_interactions) with the media", ["total_interactions"]),  # airbyte#33989
        ("(#100) The metric shares is not supported for this media type", ["shares"]),  # meta-mcp#120
    ],
)
def test_each_wording_of_a_refused_media_metric_is_a_metric_refusal(message, metrics):
    body = json.dumps(
        {"error": {"message": message, "type": "OAuthException", "code": 100, "fbtrace_id": "AbCdEf"}}
    ).encode()
    err = mg.classify_graph_error(canned_response(400, body), "https://graph.facebook.com/v23.0/1/insights")
    assert type(err) is mg.MetricRefused and message in str(err)
    assert mg.refused_metrics(message) == metrics
