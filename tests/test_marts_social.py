"""The organic social marts against the sample world (KPI practices 5, 6, 7, 10, 11, 12, 29, 30):
post counts, content types and topic tags, daily impressions and engagements per account,
followers per day, lifetime post totals, audience shares and the paid side of the channel mart.

The session warehouse (`materialized`) holds what the fakes served for the test world. Recent
days are provisional on every platform (sampleworld/restatement.py) and a run never moves the
fakes' restatement epoch off 0, so "what the world says" for a day is its final value in the
world's files as the fake serves it at epoch 0: the expected figures below are computed in
Python from the world's folder through the fakes' own `current_*` helpers, never from SQL.
Where truths.json has the figure (post counts, follower totals, spend), it is used directly.

A run over a range reads lifetime snapshots (post metrics, follower counts, demographics)
once, on the range's last day: those land on TEST_SPEC.end.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import TEST_SPEC

from extractors.meta_graph import DEFAULT_MEDIA_METRICS, metrics_for_media
from sampleworld.fakes.linkedin import LinkedInApp
from sampleworld.fakes.meta_graph import MetaGraphApp
from sampleworld.fakes.x import XApp
from sampleworld.fakes.youtube import YouTubeApp, three_significant
from sampleworld.gen.linkedin import GEO
from sampleworld.jsonl import read_jsonl
from warehouse.loader import connect

pytestmark = pytest.mark.slow

SNAPSHOT_DAY = TEST_SPEC.end
# The world's Instagram genders and YouTube's age groups, as the marts name them.
IG_GENDERS = {"F": "female", "M": "male", "U": "unknown"}
X_ENGAGEMENT_COUNTS = ("like_count", "reply_count", "retweet_count", "quote_count", "bookmark_count")


def query(materialized, sql: str) -> list[tuple]:
    with connect(materialized["warehouse"], read_only=True) as con:
        return con.execute(sql).fetchall()


def day(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def youtube_age_band(group: str) -> str:
    """`age18-24` -> `18-24`, `age65-` -> `65+` (YouTube's groups as the marts name them)."""
    band = group.removeprefix("age")
    return band[:-1] + "+" if band.endswith("-") else band


# -- the world, as served ------------------------------------------------------------------------
def world_posts(world: Path) -> dict[tuple[str, str], dict]:
    """(platform, post id) -> {content_type, topics} for every post the extractors can see."""
    out = {}
    for p in read_jsonl(world / "facebook" / "posts.jsonl"):
        # Graph's fields cannot tell a reel from a video on a Page (status_type added_video,
        # a /posts/ permalink): the mart calls both video.
        out[("facebook", p["id"])] = {
            "content_type": "video" if p["content_type"] == "reel" else p["content_type"],
            "topics": set(p["topics"]) if "message" in p else set(),
        }
    for m in read_jsonl(world / "instagram" / "media.jsonl"):
        if m["media_product_type"] == "STORY":
            continue  # stories are on /stories for 24 hours only, not on the /media edge
        out[("instagram", m["id"])] = {
            "content_type": m["content_type"],
            "topics": set(m["topics"]) if "caption" in m else set(),
        }
    for p in read_jsonl(world / "x" / "posts.jsonl"):
        if p["_meta"]["kind"] == "post":  # replies to customers are customer care, not content
            out[("x", p["id"])] = {"content_type": p["_meta"]["content_type"], "topics": {p["_meta"]["topic"]}}
    for v in read_jsonl(world / "youtube" / "videos.jsonl"):
        out[("youtube", v["id"])] = {"content_type": "video", "topics": {v["_meta"]["topic"]}}
    return out


def served_account_days(world: Path) -> dict[tuple[str, str, date], tuple[int, int]]:
    """(platform, account, day) -> (impressions, engagements) as each platform serves the day."""
    out: dict[tuple[str, str, date], tuple[int, int]] = {}
    meta = MetaGraphApp(world)
    for page_id in meta.pages:
        for d, m in meta.current_page_insights(page_id).items():
            out[("facebook", page_id, day(d))] = (m["page_media_view"], m["page_post_engagements"])
    for ig_user_id in meta.ig_users:
        for d, m in meta.current_ig_insights(ig_user_id).items():
            out[("instagram", ig_user_id, day(d))] = (m["views"], m["total_interactions"])
    linkedin = LinkedInApp(world)
    for urn, org in linkedin.orgs.items():
        for r in linkedin.current_share_days(urn):
            out[("linkedin", org["organization_id"], day(r["date"]))] = (
                r["impressionCount"],
                r["clickCount"] + r["likeCount"] + r["commentCount"] + r["shareCount"],
            )
    youtube = YouTubeApp(world)
    for channel in youtube.channels:
        for d, views, likes, comments in youtube.current_rows(
            channel["id"],
            TEST_SPEC.start.isoformat(),
            TEST_SPEC.end.isoformat(),
            ("day",),
            ("views", "likes", "comments"),
        ):
            out[("youtube", channel["id"], day(d))] = (views, likes + comments)
    # X serves no account-level days: the posts' lifetime metrics, read once on the snapshot
    # day, are that day's growth (the first snapshot counts from publication).
    x = XApp(world)
    for user_id in x.users:
        impressions = engagements = 0
        for rec in x.timeline(user_id):
            if rec["_meta"]["kind"] != "post":
                continue
            served = x.post_metrics(rec)
            impressions += served["public_metrics"]["impression_count"]
            engagements += sum(served["public_metrics"][k] for k in X_ENGAGEMENT_COUNTS)
            engagements += (
                served["non_public_metrics"]["url_link_clicks"] + served["non_public_metrics"]["user_profile_clicks"]
            )
        out[("x", user_id, SNAPSHOT_DAY)] = (impressions, engagements)
    return out


# -- posts -----------------------------------------------------------------------------------------
def test_post_counts_per_platform_equal_the_world(materialized, world):
    truths = materialized["truths"]
    got = dict(query(materialized, "select platform, count(*) from marts.fct_post_performance group by platform"))
    by_product = truths["instagram"]["media_by_product_type"]
    assert got == {
        "facebook": truths["facebook"]["posts"],
        "instagram": by_product["FEED"] + by_product["REELS"],  # stories are not on /media
        "x": truths["x"]["posts"],  # the accounts' own posts, not their replies
        "youtube": truths["youtube"]["videos"],
    }  # LinkedIn organization posts are not extracted (no raw table)
    # the content mart counts a post once per topic tag, or once under '(untagged)'
    expected_rows: dict[str, int] = defaultdict(int)
    for (platform, _), post in world_posts(world).items():
        expected_rows[platform] += max(1, len(post["topics"]))
    content = dict(
        query(materialized, "select platform, sum(posts) from marts.fct_content_performance group by platform")
    )
    assert content == expected_rows


def test_content_types_and_topic_tags_are_the_worlds(materialized, world):
    expected = world_posts(world)
    got = {
        (platform, post_id): {"content_type": content_type, "topics": set(tags.split(",")) if tags else set()}
        for platform, post_id, content_type, tags in query(
            materialized, "select platform, post_id, content_type, topic_tags from marts.fct_post_performance"
        )
    }
    assert got.keys() == expected.keys()
    wrong = {k: (got[k], expected[k]) for k in expected if got[k] != expected[k]}
    assert not wrong, f"{len(wrong)} posts differ, e.g. {list(wrong.items())[:3]}"


def test_post_lifetime_totals_are_the_latest_reading(materialized, world):
    """Sprout's "lifetime totals for posts published in the period": each post's totals as
    served when last read: impressions, reach, link clicks, comments."""
    meta, x = MetaGraphApp(world), XApp(world)
    expected = {}
    for post_id, post in meta.posts.items():
        insights = meta.current_post_insights(post_id)
        expected[("facebook", post_id)] = (
            insights["post_media_view"],
            insights["post_total_media_view_unique"],
            insights["post_clicks_by_type"].get("link clicks", 0),
            post["comments_toplevel"],
        )  # the post object's summary count
    for media_id, media in meta.media.items():
        if media["media_product_type"] == "STORY":
            continue
        # only the metrics the extractor asks for this kind of media (Meta refuses the others)
        _, asked = metrics_for_media(DEFAULT_MEDIA_METRICS, media)
        insights = {k: v for k, v in meta.current_media_insights(media_id).items() if k in asked}
        activity = insights.get("profile_activity")  # served as one total of the action types
        expected[("instagram", media_id)] = (
            insights.get("views"),
            insights["reach"],
            sum(activity.values()) if activity is not None else None,
            insights.get("comments", media["comments_count"]),
        )
    for user_id in x.users:
        for rec in x.timeline(user_id):
            if rec["_meta"]["kind"] == "post":
                served = x.post_metrics(rec)
                expected[("x", rec["id"])] = (
                    served["public_metrics"]["impression_count"],
                    None,
                    served["non_public_metrics"]["url_link_clicks"],
                    served["public_metrics"]["reply_count"],
                )
    for v in read_jsonl(world / "youtube" / "videos.jsonl"):
        expected[("youtube", v["id"])] = (
            int(v["statistics"]["viewCount"]),
            None,
            None,
            int(v["statistics"]["commentCount"]),
        )
    got = {
        (p, i): (imp, reach, clicks, comments)
        for p, i, imp, reach, clicks, comments in query(
            materialized,
            "select platform, post_id, impressions, reach, link_clicks, comments from marts.fct_post_performance",
        )
    }
    assert got.keys() == expected.keys()
    wrong = {k: (got[k], v) for k, v in expected.items() if got[k] != v}
    assert not wrong, f"{len(wrong)} posts differ, e.g. {list(wrong.items())[:3]}"


# -- accounts per day ------------------------------------------------------------------------------
def test_daily_impressions_and_engagements_per_account_equal_the_world(materialized, world):
    expected = served_account_days(world)
    got = {
        (platform, account_id, date_day): (impressions, engagements)
        for platform, account_id, date_day, impressions, engagements in query(
            materialized,
            """
               select platform, account_id, date_day, impressions, engagements
               from marts.fct_channel_performance_daily
               where not is_paid and impressions is not null""",
        )
    }
    assert {k[0] for k in got} == {"facebook", "instagram", "x", "linkedin", "youtube"}
    assert got == expected


def test_followers_per_day_equal_the_world(materialized, world):
    truths = materialized["truths"]
    got = {
        (platform, account_id, date_day): (followers, net_adds)
        for platform, account_id, date_day, followers, net_adds in query(
            materialized,
            """
               select platform, account_id, date_day, followers, net_adds
               from marts.fct_channel_performance_daily
               where not is_paid and followers is not null""",
        )
    }
    expected: dict[tuple[str, str, date], tuple[int, int | None]] = {}
    # Facebook: the Page's daily total and its daily follows and unfollows, as served
    for r in read_jsonl(world / "facebook" / "page_insights.jsonl"):
        expected[("facebook", r["page_id"], day(r["date"]))] = (
            r["page_follows"],
            r["page_daily_follows_unique"] - r["page_daily_unfollows_unique"],
        )
    # LinkedIn: the followers before the range plus each day's organic and paid gains
    for org in json.loads((world / "linkedin" / "organizations.json").read_text()):
        level = org["followers_before"]
        for g in read_jsonl(world / "linkedin" / "follower_gains_daily.jsonl"):
            if g["organization_id"] == org["organization_id"]:
                net = g["organicFollowerGain"] + g["paidFollowerGain"]
                level += net
                expected[("linkedin", org["organization_id"], day(g["date"]))] = (level, net)
        assert level == truths["linkedin"]["followers_as_of"][org["organization_id"]]["total"]
    # YouTube: subscribers gained - lost per day as served; the level is anchored on the
    # channel's subscriberCount, which YouTube rounds to three significant figures
    youtube = YouTubeApp(world)
    for channel in youtube.channels:
        rows = youtube.current_rows(
            channel["id"],
            TEST_SPEC.start.isoformat(),
            TEST_SPEC.end.isoformat(),
            ("day",),
            ("subscribersGained", "subscribersLost"),
        )
        level = three_significant(truths["youtube"]["subscribers_end"][channel["id"]])
        for d, gained, lost in sorted(rows, reverse=True):
            expected[("youtube", channel["id"], day(d))] = (level, gained - lost)
            level -= gained - lost
    # Instagram and X: follower snapshots, read once (on the snapshot day)
    for account in truths["instagram"]["accounts"]:
        expected[("instagram", account["ig_user_id"], SNAPSHOT_DAY)] = (account["followers_count"], None)
    for user_id, followers in truths["x"]["followers_end"].items():
        expected[("x", user_id, SNAPSHOT_DAY)] = (followers, None)
    assert got == expected
    # the Facebook Page ends the range with the followers the world gave it
    page = truths["facebook"]["pages"][0]
    assert got[("facebook", page["page_id"], TEST_SPEC.end)][0] == page["followers_count"]


def test_each_days_shares_of_the_total_add_up_to_one(materialized):
    for date_day, impressions, engagements, link_clicks in query(
        materialized,
        """
            select date_day, sum(impressions_share), sum(engagements_share), sum(link_clicks_share)
            from marts.fct_channel_performance_daily group by date_day""",
    ):
        assert impressions == pytest.approx(1.0, abs=1e-9), date_day
        assert engagements == pytest.approx(1.0, abs=1e-9), date_day
        assert link_clicks is None or link_clicks == pytest.approx(1.0, abs=1e-9), date_day
    # a rate recomputed from its stored numerator and denominator is the stored rate
    bad = query(
        materialized,
        """
        select * from marts.fct_channel_performance_daily
        where abs(engagement_rate - engagements::double / impressions) > 1e-12
           or abs(impressions_share - impressions::double / day_total_impressions) > 1e-12
           or abs(ctr - link_clicks::double / impressions) > 1e-12""",
    )
    assert bad == []


def test_paid_side_carries_every_ad_platforms_spend(materialized, world):
    """Meta Ads and LinkedIn Ads beside the organic rows: every unit of spend, in the
    account's currency (Meta's from truths.json; LinkedIn's as its fake serves it now, as
    LinkedIn Ads restates 30 days)."""
    expected: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for currency, spend in materialized["truths"]["meta_ads"]["spend_by_currency"].items():
        expected[("meta_ads", currency)] += Decimal(spend)
    for row in LinkedInApp(world).current_analytics():
        expected[("linkedin_ads", row["currency"])] += Decimal(row["costInLocalCurrency"])
    got = {
        (ad_platform, currency): spend
        for ad_platform, currency, spend in query(
            materialized,
            """
        select ad_platform, currency, sum(spend) from marts.fct_channel_performance_daily
        where is_paid group by ad_platform, currency""",
        )
    }
    assert got == dict(expected)
    # no organic row carries money, every paid row carries its rate and the rate's date
    assert query(
        materialized,
        """
        select count(*) from marts.fct_channel_performance_daily
        where (not is_paid and (spend is not null or currency is not null))
           or (is_paid and (spend_reporting is null or fx_rate is null or fx_rate_date is null))""",
    ) == [(0,)]


# -- audience ----------------------------------------------------------------------------------------
def test_demographic_shares_sum_to_one_and_are_the_worlds(materialized, world):
    rows = query(
        materialized,
        """
        select platform, account_id, date_day, dimension, dimension_value, share
        from marts.fct_audience_demographics_daily""",
    )
    totals: dict[tuple, float] = defaultdict(float)
    for platform, account_id, date_day, dimension, _, share in rows:
        totals[(platform, account_id, date_day, dimension)] += share
    assert totals and all(abs(t - 1) < 1e-9 for t in totals.values()), totals
    assert {(k[0], k[3]) for k in totals} == {
        ("instagram", "age_band"),
        ("instagram", "gender"),
        ("instagram", "country"),
        ("youtube", "age_band"),
        ("youtube", "gender"),
        ("youtube", "country"),
        ("linkedin", "country"),
    }  # LinkedIn serves no age or gender

    got = {(p, a, d, dim, v): s for p, a, d, dim, v, s in rows}
    expected: dict[tuple, float] = {}
    # Instagram: follower counts per group, as of the snapshot day
    ig: dict[tuple, dict[str, int]] = defaultdict(dict)
    for r in read_jsonl(world / "instagram" / "demographics.jsonl"):
        dimension = "age_band" if r["dimension"] == "age" else r["dimension"]
        value = IG_GENDERS.get(r["value"], r["value"]) if dimension == "gender" else r["value"]
        ig[(r["ig_user_id"], dimension)][value] = r["followers"]
    for (account_id, dimension), counts in ig.items():
        for value, n in counts.items():
            expected[("instagram", account_id, SNAPSHOT_DAY, dimension, value)] = n / sum(counts.values())
    # LinkedIn: organic + paid followers per country facet value
    iso_of_geo = {f"urn:li:geo:{g}": c for c, g in GEO.items()}
    li: dict[str, dict[str, int]] = defaultdict(dict)
    for r in read_jsonl(world / "linkedin" / "follower_counts_lifetime.jsonl"):
        if r["facet"] == "followerCountsByGeoCountry":
            li[r["organization_id"]][iso_of_geo[r["value"]]] = r["organicFollowerCount"] + r["paidFollowerCount"]
    for account_id, counts in li.items():
        for value, n in counts.items():
            expected[("linkedin", account_id, SNAPSHOT_DAY, "country", value)] = n / sum(counts.values())
    # YouTube: every day with views in its window, the served percentages per age band and gender
    youtube = YouTubeApp(world)
    for channel in youtube.channels:
        for d in sorted({k[2] for k in got if k[0] == "youtube"}):
            start = youtube.current_rows(
                channel["id"], "2000-01-01", d.isoformat(), ("ageGroup", "gender"), ("viewerPercentage",)
            )
            for index, dimension in ((0, "age_band"), (1, "gender")):
                sums: dict[str, float] = defaultdict(float)
                for cell in start:
                    value = youtube_age_band(cell[0]) if index == 0 else cell[1]
                    sums[value] += cell[2]
                for value, pct in sums.items():
                    expected[("youtube", channel["id"], d, dimension, value)] = pct / sum(sums.values())
    got_subset = {k: v for k, v in got.items() if not (k[0] == "youtube" and k[3] == "country")}
    assert got_subset.keys() == expected.keys()
    assert all(abs(got_subset[k] - expected[k]) < 1e-9 for k in expected)
