"""Streams are declarations and clients share one base (extractors/streams.py, extractors/client.py):

- every client holds its streams as configured, and by default they are exactly its module's
  declarations (what the pipeline builds its assets and raw tables from);
- a stream of an existing source whose endpoint reads like its siblings is one declaration: no
  client code (shown with LinkedIn's campaign groups, which the fake serves and no client reads);
- where settings decide what a record holds, the declaration follows them (YouTube's report
  metrics; GA4's in test_extract_ga4.py), and settings that would drop a stream's key or cursor
  fail before any request, naming the setting;
- the base refuses what would load nothing quietly: an unknown stream, a dated one without a
  day, missing ids, a declaration whose raw table is not the client's own;
- one loop guard for every paginator; one set of UTC-day bounds for every client.
"""

from __future__ import annotations

import dataclasses
import inspect
from datetime import UTC, date, datetime, timedelta

import pytest
from stream_harness import by_key, run_stream
from test_extract_linkedin import client as linkedin_client
from test_extract_youtube import client as youtube_client
from test_extract_youtube import rows as youtube_rows

from extractors import client as client_base
from extractors import (
    ga4,
    google_ads,
    hubspot,
    linkedin,
    listening,
    meta_ads,
    meta_graph,
    survey,
    team_config,
    x,
    youtube,
)
from extractors.days import epoch_ms, epoch_s, utc_day_bounds, utc_day_of_ms, utc_midnight
from extractors.http import AuthError, CursorPaginator, FatalError, LoopGuard
from extractors.streams import Stream
from sampleworld.fakes.base import FakeServer
from sampleworld.fakes.linkedin import LinkedInApp
from sampleworld.fakes.youtube import YouTubeApp

MODULES = (ga4, google_ads, hubspot, linkedin, listening, meta_ads, meta_graph, survey, team_config, x, youtube)


def default_client(mod):
    """Each module's client with placeholder settings (nothing is requested)."""
    cls = next(
        c
        for _, c in inspect.getmembers(mod, inspect.isclass)
        if issubclass(c, client_base.SourceClient) and c.__module__ == mod.__name__
    )
    if mod is team_config:
        return cls("/nonexistent")
    if mod is google_ads:
        return cls("http://127.0.0.1:9", "token-123", "developer-123")
    if mod is survey:
        return cls("http://127.0.0.1:9", "token-123", form_id="f")
    return cls("http://127.0.0.1:9", "token-123")


@pytest.mark.parametrize("mod", MODULES, ids=lambda m: m.__name__.split(".")[-1])
def test_every_client_holds_its_modules_declarations_by_default(mod):
    c = default_client(mod)
    assert isinstance(c, client_base.SourceClient)
    assert c.streams == mod.STREAMS
    for s in mod.STREAMS:
        assert c.stream(s.key) is c.declared(s) and s.path, s.key
        assert callable(getattr(c, f"read_{s.reader}")), s.key


# -- a new stream on an existing source: one declaration --------------------------------------------
AD_CAMPAIGN_GROUPS = Stream(
    linkedin.SOURCE,
    "ad_campaign_groups",
    primary_key=("campaign_group_id",),
    disposition="merge",
    path="rest/adAccounts/{id}/adCampaignGroups",
    **linkedin._SEARCHED,
    columns={
        "campaign_group_id": "VARCHAR <- $.id",
        "name": "VARCHAR",
        "account": "VARCHAR",
        "status": "VARCHAR",
        "run_schedule_start": "BIGINT <- $.runSchedule.start",
    },
)


def test_a_new_stream_on_an_existing_source_is_one_declaration(world, tmp_path, monkeypatch):
    """LinkedIn campaign groups, declared like campaigns and added to STREAMS, are read by the
    client's declared read (every configured account, searched, paged by start/count) and load."""
    monkeypatch.setattr(linkedin, "STREAMS", (*linkedin.STREAMS, AD_CAMPAIGN_GROUPS))
    with FakeServer(LinkedInApp(world)) as srv:
        # one account: the fake lists a group under every account one of its campaigns is in
        account = sorted(srv.app.accounts)[0]
        c = linkedin_client(srv, ad_account_ids=[account])  # one element a page
        run = run_stream(c, c.stream("ad_campaign_groups"), tmp_path)
        want = {
            str(g["campaign_group_id"])
            for g in srv.app.groups
            if any(camp["account_id"] == account for camp in g["campaigns"])
        }
    got = by_key([{**r, "id": str(r["id"])} for r in run.records], ("id",))
    assert set(k for (k,) in got) == want and want
    assert run.rejects == [] and run.results[0].loaded == len(want)
    assert c.stats.pages == len(want)  # searched a group a page


# -- declarations follow the settings -----------------------------------------------------------------
def test_a_youtube_report_declaration_follows_its_metrics(world, tmp_path):
    """Country audience read with other metrics: a column per metric asked for (a declared one
    keeps its name and type, another gets its own, DOUBLE), every row loaded with its values."""
    day = date(2026, 6, 7)
    with FakeServer(YouTubeApp(world)) as srv:
        c = youtube_client(srv, country_metrics=("views", "likes", "comments"))
        stream = c.stream(youtube.COUNTRY.name)
        run = run_stream(c, stream, tmp_path, [day])
        start = day - timedelta(days=c.window_days - 1)
        want = [
            r
            for ch in srv.app.channels
            for r in youtube_rows(srv.app, ch["id"], start, day, ("country",), ("views", "likes", "comments"))
        ]
    assert {c: stream.columns[c] for c in ("views", "likes", "comments")} == {
        "views": "BIGINT",
        "likes": "DOUBLE",
        "comments": "DOUBLE",
    }
    assert "estimatedMinutesWatched" not in stream.columns
    assert run.rejects == [] and run.results[0].loaded == len(want) > 0
    got = {(r["channel_id"], r["country"]): (r["views"], r["likes"], r["comments"]) for r in run.records}
    assert got == {(r["channel_id"], r["country"]): (r["views"], r["likes"], r["comments"]) for r in want}
    with pytest.raises(FatalError, match="country_metrics"):
        youtube.YouTubeClient("http://127.0.0.1:9", "t", country_metrics=("views", "country"))


def test_settings_that_drop_a_key_or_cursor_field_fail_naming_the_setting():
    fields = tuple(f for f in meta_ads.DEFAULT_INSIGHTS_FIELDS if f != "ad_id")
    with pytest.raises(FatalError, match=r"insights_fields.*'ad_id'"):
        meta_ads.MetaAdsClient("http://127.0.0.1:9", "t", account_ids=["1"], insights_fields=fields)
    props = tuple(p for p in hubspot.DEFAULT_DEAL_PROPERTIES if p != "hs_lastmodifieddate")
    with pytest.raises(FatalError, match="deal_properties.*hs_lastmodifieddate"):
        hubspot.HubSpotClient("http://127.0.0.1:9", "t", deal_properties=props)
    with pytest.raises(ValueError, match="no stream"):
        team_config.TeamConfigClient("/x", files={"goal": "targets.csv"})
    renamed = team_config.TeamConfigClient("/x", files={"goals": "targets.csv"})
    assert renamed.stream("goals").path == "targets.csv" and renamed.file_of(team_config.GOALS).name == "targets.csv"


# -- what the base refuses ---------------------------------------------------------------------------
def test_the_base_refuses_before_any_request():
    c = listening.ListeningClient("http://127.0.0.1:9", "t")  # nothing listens there: no request may be sent
    with pytest.raises(FatalError, match="no listening queries configured: set LISTENING_QUERY_IDS"):
        list(c.pages(listening.MENTIONS, date(2026, 6, 1)))
    with pytest.raises(ValueError, match="is dated: give a day"):
        list(c.pages(listening.MENTIONS, None))
    with pytest.raises(ValueError, match="has no stream 'x/posts'"):
        list(c.pages(x.POSTS, None))
    with pytest.raises(ValueError, match="one day at a time"):
        list(c.pages_for_days(listening.MENTIONS, [date(2026, 6, 1)]))
    other = dataclasses.replace(listening.MENTIONS, columns={**listening.MENTIONS.columns, "lang": "VARCHAR"})
    with pytest.raises(FatalError, match=r"\[listening\].*listening/mentions.*client.stream\('mentions'\)"):
        list(c.pages(other, date(2026, 6, 1)))
    assert c.stats.requests == 0


@pytest.mark.parametrize(
    "changes, words",
    [
        (dict(primary_key=("nope",)), "not among its columns"),
        (dict(cursor_field="nope"), "not among its columns"),
        (dict(disposition="upsert"), "disposition"),
        (dict(cursor_field=None), "replace_partition needs a cursor_field"),
        (dict(cursor_field=None, disposition="merge", range_read=True), "only a dated stream"),
    ],
)
def test_a_declaration_that_cannot_be_loaded_is_refused_when_written(changes, words):
    with pytest.raises(ValueError, match=words):
        dataclasses.replace(listening.MENTIONS, **changes)


def test_a_client_that_cannot_read_a_declared_stream_fails_when_made(monkeypatch):
    unread = dataclasses.replace(listening.QUERIES, name="topics", reader="topics")
    monkeypatch.setattr(listening, "STREAMS", (*listening.STREAMS, unread))
    with pytest.raises(TypeError, match="listening/topics: no method read_topics"):
        listening.ListeningClient("http://127.0.0.1:9", "t")


def test_a_client_of_several_cores_counts_every_call_once():
    c = x.XClient("http://127.0.0.1:9", "app-token-123", "user-token-456")
    assert c.app.stats is c.user.stats is c.stats
    y = youtube.YouTubeClient("http://127.0.0.1:9", "t", analytics_base_url="http://127.0.0.1:8")
    assert y.data.stats is y.analytics.stats is y.stats


def test_a_missing_token_still_fails_first():
    with pytest.raises(AuthError, match="META_ACCESS_TOKEN"):
        meta_ads.MetaAdsClient("http://127.0.0.1:9", "", account_ids=["1"])


# -- one loop guard ----------------------------------------------------------------------------------
def test_the_loop_guard_allows_a_page_served_again_not_a_loop():
    g = LoopGuard("src", max_repeats=2)
    assert g.check("A") is False and g.check("A") is True and g.check("A") is True  # served again, twice
    with pytest.raises(FatalError, match=r"\[src\].*'A' came back 3 times in a row; refusing to loop"):
        g.check("A")
    g = LoopGuard("src")
    g.check("A"), g.check("B")
    with pytest.raises(FatalError, match="'A' came back after other pages"):
        g.check("A")
    lenient = LoopGuard("src", refuse_earlier=False)
    assert [lenient.check(p) for p in ("A", "B", "A")] == [False, False, False]
    counted = LoopGuard("src", max_repeats=2, in_a_row=False)
    for p in ("A", "B", "A"):
        counted.check(p)
    with pytest.raises(FatalError, match="'A' came back 3 times; refusing to loop"):
        counted.check("A")


@pytest.mark.parametrize(
    "paginator, body",
    [
        (CursorPaginator(), {"paging": {"cursors": {"after": "A"}, "next": "n"}}),
        (meta_graph.GraphCursorPaginator(), {"paging": {"cursors": {"after": "A"}, "next": "n"}}),
        (
            linkedin.StartCountPaginator(),
            {"paging": {"start": 0, "count": 0, "links": [{"rel": "next", "href": "?start=0"}]}},
        ),
        (youtube.PageTokenPaginator(), {"nextPageToken": "A"}),
        (listening.NextCursorPaginator(), {"nextCursor": "A"}),
        (survey.BeforeTokenPaginator(), {"items": [{"token": "A"}]}),
        (x.NextTokenPaginator("pagination_token"), {"meta": {"next_token": "A"}}),
    ],
    ids=lambda p: type(p).__name__ if not isinstance(p, dict) else "",
)
def test_every_paginator_stops_a_position_that_never_moves(paginator, body):
    params: dict = {}
    with pytest.raises(FatalError, match="refusing to loop"):
        for _ in range(20):
            params = paginator.next_params(body, params)
    assert isinstance(paginator.guard, LoopGuard)


# -- one set of UTC-day bounds -----------------------------------------------------------------------
def test_utc_day_bounds_in_every_unit():
    lo, hi = utc_day_bounds(date(2026, 6, 5))
    assert (lo, hi) == (datetime(2026, 6, 5, tzinfo=UTC), datetime(2026, 6, 6, tzinfo=UTC))
    assert utc_day_bounds(date(2026, 6, 5), date(2026, 6, 6))[1] == datetime(2026, 6, 7, tzinfo=UTC)
    assert (epoch_s(lo), epoch_ms(hi)) == (1780617600, 1780704000000) and utc_midnight(date(2026, 6, 5)) == lo
    assert utc_day_of_ms(epoch_ms(hi) - 1) == "2026-06-05" and utc_day_of_ms(epoch_ms(hi)) == "2026-06-06"
    assert hubspot.day_bounds_ms(date(2026, 6, 5)) == (epoch_ms(lo), epoch_ms(hi))
    assert meta_graph.utc_day_span_s(date(2026, 6, 5), date(2026, 6, 5)) == (epoch_s(lo), epoch_s(hi))
    assert linkedin.ms(date(2026, 6, 5)) == epoch_ms(lo)
