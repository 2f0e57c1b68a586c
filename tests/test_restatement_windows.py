"""Every stream's restatement window, and every source's daily schedule, pinned.

A window that shrinks passes every other test (a re-read of 1 day loads as cleanly as one of
3) and then silently keeps provisional numbers: GA4 revises about 3 days, Google Ads 14 (its
conversion window), Meta 28 ("Facebook freezes insight data 28 days after"), LinkedIn Ads 30
(../shared/docs/source-apis.md, "For our extractors"). The table below is written from the
platforms' documentation, not read from the code, so changing a window means changing it here
too, with its reason.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from dagster import build_schedule_context

from orchestration import sources
from orchestration.definitions import defs
from sampleworld import restatement

# source/stream -> (days re-read on every run, why)
WINDOWS = {
    "ga4/analytics_report": (3, "GA4 revises about 3 days (estuary/connectors #2516)"),
    "google_ads/ad_group_daily": (14, "conversion window, default 14 days (Airbyte conversion_window_days)"),
    "google_ads/customer_daily": (14, "conversion window, default 14 days"),
    "google_ads/customers": (0, "entity list, read whole"),
    "google_ads/campaigns": (0, "entity list, read whole"),
    "hubspot/contacts": (2, "search by last-modified, overlap against clock skew and late indexing"),
    "hubspot/deals": (2, "search by last-modified, overlap"),
    "hubspot/deal_contacts": (2, "associations of the deals read in the same window"),
    "linkedin/share_statistics": (2, "page statistics end at now minus 2 days"),
    "linkedin/follower_gains": (2, "page statistics end at now minus 2 days"),
    "linkedin/follower_demographics": (0, "lifetime snapshot"),
    "linkedin/network_size": (0, "lifetime snapshot"),
    "linkedin/ad_accounts": (0, "entity list"),
    "linkedin/ad_campaigns": (0, "entity list"),
    "linkedin/ad_analytics_by_campaign": (30, "LinkedIn Ads revises 30 days (airbytehq/airbyte #20284)"),
    "listening/queries": (0, "entity list"),
    "listening/mentions": (0, "mentions are not revised"),
    "meta_ads/ads_insights": (28, "Meta freezes insights 28 days after the day"),
    "meta_ads/ad_accounts": (0, "entity list"),
    "facebook/page_followers": (0, "lifetime snapshot"),
    "facebook/posts": (28, "lifetime metrics of posts from the last 28 days are re-read"),
    "facebook/post_insights": (0, "lifetime snapshot"),
    "facebook/page_insights": (28, "Meta page insights revise 28 days"),
    "facebook/comments": (3, "late comments on recent days"),
    "facebook/conversations": (0, "entity list"),
    "facebook/messages": (1, "messages of the previous day"),
    "instagram/account_followers": (0, "lifetime snapshot"),
    "instagram/media": (28, "lifetime metrics of media from the last 28 days"),
    "instagram/media_insights": (0, "lifetime snapshot"),
    "instagram/account_insights": (28, "Meta account insights revise 28 days"),
    "instagram/follower_demographics": (0, "lifetime snapshot"),
    "instagram/conversations": (0, "entity list"),
    "instagram/messages": (1, "messages of the previous day"),
    "survey/responses": (0, "a submitted response is final"),
    **{
        f"team_config/{n}": (0, "configuration files, read whole")
        for n in (
            "goals",
            "kpi_registry",
            "competitors",
            "influencers",
            "employees",
            "campaigns",
            "fx_rates",
            "experiments",
        )
    },
    "x/posts": (0, "entity list"),
    "x/post_metrics": (0, "lifetime snapshot"),
    "x/users": (0, "lifetime snapshot"),
    "x/mentions": (3, "recent search settles within days (spam filtering)"),
    "x/mention_counts": (3, "counts settle with the mentions"),
    "youtube/channels": (0, "lifetime snapshot"),
    "youtube/videos": (0, "entity list"),
    "youtube/video_analytics_daily": (3, "YouTube Analytics data is provisional for about 3 days"),
    "youtube/channel_analytics_daily": (3, "provisional for about 3 days"),
    "youtube/audience_age_gender": (3, "provisional for about 3 days"),
    "youtube/audience_country": (3, "provisional for about 3 days"),
}

# The sample world's platforms revise these streams' numbers for `restatement.WINDOWS[...]` days;
# a stream re-reading fewer days than its platform revises would keep provisional numbers.
REVISED_BY = {
    "meta": ["meta_ads/ads_insights", "facebook/page_insights", "instagram/account_insights"],
    "google_ads": ["google_ads/ad_group_daily", "google_ads/customer_daily"],
    "ga4": ["ga4/analytics_report"],
    "linkedin_ads": ["linkedin/ad_analytics_by_campaign"],
    "linkedin": ["linkedin/share_statistics", "linkedin/follower_gains"],
    "x": ["x/mentions", "x/mention_counts"],
    "youtube": ["youtube/video_analytics_daily", "youtube/channel_analytics_daily"],
}


def _assets_by_source():
    return {m.RESOURCE_KEY: [a.stream for a in m.ASSETS] for m in sources.modules()}


def test_every_stream_re_reads_its_documented_window():
    streams = {s.key: s for ss in _assets_by_source().values() for s in ss}
    assert set(streams) == set(WINDOWS), "a stream was added or removed: pin its window here, with its reason"
    wrong = {k: (s.restatement_days, WINDOWS[k][0]) for k, s in streams.items() if s.restatement_days != WINDOWS[k][0]}
    assert wrong == {}, f"(declared, documented) windows differ: {wrong}"


def test_no_stream_re_reads_less_than_its_platform_revises():
    assert set(REVISED_BY) == set(restatement.WINDOWS)
    for platform, keys in REVISED_BY.items():
        for key in keys:
            assert WINDOWS[key][0] >= restatement.WINDOWS[platform], (key, platform)


@pytest.mark.parametrize("source", sorted(_assets_by_source()))
def test_each_source_schedule_re_reads_its_widest_window(source, monkeypatch):
    """Evaluated as Dagster would at 05:00 UTC, outside sample mode (the schedule reads its
    settings when it fires; in sample mode it asks for the sample world's days instead:
    tests/test_schedules.py): the run covers yesterday and the window's other days."""
    monkeypatch.setenv("SKW_SAMPLE_MODE", "0")
    keys = [s.key for s in _assets_by_source()[source]]
    window = max(WINDOWS[k][0] for k in keys)
    sched = next(s for s in defs.schedules if s.name == f"ingest_{source}_daily")
    now = datetime(2026, 6, 30, 5, 0)
    (request,) = sched.evaluate_tick(build_schedule_context(scheduled_execution_time=now)).run_requests
    end = date(2026, 6, 29)
    assert request.tags["dagster/asset_partition_range_end"] == end.isoformat()
    assert request.tags["dagster/asset_partition_range_start"] == (end - timedelta(days=max(window, 1) - 1)).isoformat()


def test_transform_rebuilds_the_widest_window_of_all(monkeypatch):
    monkeypatch.setenv("SKW_SAMPLE_MODE", "0")  # as above
    widest = max(days for days, _ in WINDOWS.values())
    sched = next(s for s in defs.schedules if s.name == "transform_daily")
    (request,) = sched.evaluate_tick(
        build_schedule_context(scheduled_execution_time=datetime(2026, 6, 30, 6))
    ).run_requests
    assert (
        request.tags["dagster/asset_partition_range_start"]
        == (date(2026, 6, 29) - timedelta(days=widest - 1)).isoformat()
    )
