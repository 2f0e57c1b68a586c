"""The web marts against the sample world's truths, on the session warehouse (the main job over
the 7-day test world, every source, faults on):

- sessions per channel group and social network are the world's sessions per channel, exactly,
  grouped by the documented rule (paid social = social source + paid medium; an untagged click
  from a network's host is organic social); every GA4 metric per world channel is the truth;
- untagged social sessions are the world's untagged counts and land as utm_status 'missing'
  (per network, in the hygiene mart too); the only malformed tags in the world are the
  employee-advocacy links, whose campaign is not in the team's campaign mapping;
- the marts hold every session raw GA4 holds, once (per day, and in total);
- influencer sessions split by the creator's platform are the planted totals per platform.

GA4 restates about 3 days: the world's last days are served provisional (a share of the final
counts, `sampleworld/restatement.py`) and the warehouse holds what GA4 served. The truths are
final counts, so every expectation is the truth less what GA4 has not counted yet on those days
(`_not_yet_counted`: final minus served, from the fake at the run's restatement epoch, 0).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal

import pytest

from sampleworld.fakes.ga4 import GA4App
from sampleworld.gen.ga4 import channel_of
from warehouse.loader import connect

MART = "marts.fct_web_traffic_daily"
HYGIENE = "marts.fct_utm_hygiene_daily"
BY_CAMPAIGN = "marts.fct_utm_hygiene_by_campaign"
SOCIAL = "marts.fct_social_traffic_daily"
METRICS = ("sessions", "engagedSessions", "keyEvents", "ecommercePurchases")
# Where each world channel's TAGGED sessions belong under the documented grouping
# (sampleworld/entities.py CHANNELS: source / medium): (channel_group, social_platform).
# The influencer channel's platform is each creator's (instagram or youtube).
GROUP_OF_CHANNEL = {
    "meta_paid": ("Paid Social", "facebook"),  # facebook / paid_social
    "linkedin_paid": ("Paid Social", "linkedin"),  # linkedin / paid_social
    "google_cpc": ("Paid Search", None),  # google / cpc
    "facebook_organic": ("Organic Social", "facebook"),
    "instagram_organic": ("Organic Social", "instagram"),
    "x_organic": ("Organic Social", "x"),
    "linkedin_organic": ("Organic Social", "linkedin"),
    "youtube_organic": ("Organic Social", "youtube"),
    "employee": ("Organic Social", "linkedin"),  # linkedin / advocacy
    "organic_search": ("Organic Search", None),  # google / organic
    "email": ("Email", None),  # newsletter / email
    "direct": ("Direct", None),  # (direct) / (none)
}
# The network an untagged session of a brand channel comes from (its referrer host's network).
UNTAGGED_PLATFORM = {
    "facebook_organic": "facebook",
    "instagram_organic": "instagram",
    "x_organic": "x",
    "linkedin_organic": "linkedin",
    "youtube_organic": "youtube",
    "employee": "linkedin",
}
# The creators' referrer hosts (sampleworld/gen/ga4.py INFLUENCER_REFERRAL_SOURCE), by platform.
CREATOR_HOST_PLATFORM = {"l.instagram.com": "instagram", "youtube.com": "youtube"}


def query(materialized, sql: str, params=None) -> list[tuple]:
    with connect(materialized["warehouse"], read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _row_key(source: str, medium: str) -> tuple[str, bool, str | None]:
    """A GA4 row's world channel, whether it is untagged, and (influencer) the creator's platform."""
    channel = channel_of(source, medium)
    assert channel is not None, f"the world never writes {source} / {medium}"
    untagged = medium == "referral"
    platform = None
    if channel == "influencer":
        platform = CREATOR_HOST_PLATFORM[source] if untagged else source
    return channel, untagged, platform


@pytest.fixture(scope="module")
def not_yet_counted(materialized, world) -> dict[tuple[str, bool, str | None], Counter]:
    """Final minus served, per (channel, untagged, creator platform): what GA4 had not counted
    yet on the provisional days when the run read them (0 on every frozen day)."""
    app = GA4App(world)
    assert app.epoch == 0 and not app.restate_on_pull  # the embedded fake the run read from
    out: dict[tuple, Counter] = defaultdict(Counter)
    for (prop, day), rows in app.rows.items():
        for row in rows:
            dims, final_ints, final_revenue = row
            _, served_ints, served_revenue = app.served(prop, day, row)
            d = dict(zip(("date", "sessionSource", "sessionMedium"), dims))
            key = _row_key(d["sessionSource"], d["sessionMedium"])
            for name, f, s in zip(METRICS, final_ints, served_ints):
                out[key][name] += f - s
            out[key]["totalRevenue"] += final_revenue - served_revenue
    assert sum(c["sessions"] for c in out.values()) > 0, "the test world should end on provisional days"
    return out


def _shortfall(not_yet_counted, metric: str, *, channel=None, untagged=None, platform=None):
    return sum(
        c[metric]
        for (ch, u, p), c in not_yet_counted.items()
        if (channel is None or ch == channel)
        and (untagged is None or u == untagged)
        and (platform is None or p == platform)
    )


def test_sessions_per_channel_group_and_network_are_the_worlds(materialized, not_yet_counted):
    planted = materialized["truths"]["planted"]
    channels = planted["totals_per_channel"]
    expected: Counter = Counter()
    for ch, t in channels.items():
        untagged = t["sessions_untagged"] - _shortfall(not_yet_counted, "sessions", channel=ch, untagged=True)
        tagged = (
            t["sessions"] - t["sessions_untagged"] - _shortfall(not_yet_counted, "sessions", channel=ch, untagged=False)
        )
        if ch == "influencer":
            continue  # split by the creator's platform below
        expected[GROUP_OF_CHANNEL[ch]] += tagged
        if ch in UNTAGGED_PLATFORM:
            # an untagged click on a social post arrives from the network's host: organic social
            expected[("Organic Social", UNTAGGED_PLATFORM[ch])] += untagged
    for platform, t in planted["influencer_totals_per_platform"].items():
        expected[("Influencer", platform)] += (
            t["sessions"]
            - t["sessions_untagged"]
            - _shortfall(not_yet_counted, "sessions", channel="influencer", untagged=False, platform=platform)
        )
        expected[("Organic Social", platform)] += t["sessions_untagged"] - _shortfall(
            not_yet_counted, "sessions", channel="influencer", untagged=True, platform=platform
        )
    rows = query(materialized, f"select channel_group, social_platform, sum(sessions) from {MART} group by 1, 2")
    got = {(g, p): int(n) for g, p, n in rows}
    assert got == {k: v for k, v in expected.items() if v}
    # and the flags follow the group
    flags = query(materialized, f"select distinct channel_group, is_social, is_paid from {MART} order by 1")
    assert flags == [
        ("Direct", False, False),
        ("Email", False, False),
        ("Influencer", True, False),
        ("Organic Search", False, False),
        ("Organic Social", True, False),
        ("Paid Search", False, True),
        ("Paid Social", True, True),
    ]


def test_every_ga4_metric_per_world_channel_is_the_truth(materialized, not_yet_counted):
    """Nothing lost or doubled per channel, in any measure: the mart's rows, traced back to the
    world's channel by their source / medium, sum to the GA4 truths per channel."""
    truths = materialized["truths"]["ga4"]["totals_per_channel"]
    rows = query(
        materialized,
        f"""
        select source, medium, sum(sessions), sum(engaged_sessions), sum(key_events), sum(purchases), sum(revenue)
        from {MART} group by 1, 2""",
    )
    got: dict[str, Counter] = defaultdict(Counter)
    for source, medium, *values in rows:
        channel = _row_key(source, medium)[0]
        for name, v in zip((*METRICS, "totalRevenue"), values):
            got[channel][name] += Decimal(str(v)) if name == "totalRevenue" else int(v)
    for ch, t in truths.items():
        for name in (*METRICS, "totalRevenue"):
            truth = Decimal(t[name]) if name == "totalRevenue" else t[name]
            assert got[ch][name] == truth - _shortfall(not_yet_counted, name, channel=ch), (ch, name)
    assert set(got) == set(truths)


def test_untagged_social_sessions_land_as_missing(materialized, not_yet_counted):
    planted = materialized["truths"]["planted"]
    expected: Counter = Counter()
    for ch, t in planted["totals_per_channel"].items():
        if ch in UNTAGGED_PLATFORM:
            expected[UNTAGGED_PLATFORM[ch]] += t["sessions_untagged"] - _shortfall(
                not_yet_counted, "sessions", channel=ch, untagged=True
            )
    for platform, t in planted["influencer_totals_per_platform"].items():
        expected[platform] += t["sessions_untagged"] - _shortfall(
            not_yet_counted, "sessions", channel="influencer", untagged=True, platform=platform
        )
    assert sum(expected.values()) > 0
    got = {
        p: int(n)
        for p, n in query(
            materialized,
            f"""
        select social_platform, sum(sessions) from {MART} where utm_status = 'missing' group by 1""",
        )
    }
    assert got == {p: n for p, n in expected.items() if n}
    # every missing session is an organic social visit GA4 saw as a referral, campaign (referral)
    assert query(
        materialized,
        f"""
        select distinct channel_group, medium, campaign, utm_issue from {MART} where utm_status = 'missing'""",
    ) == [("Organic Social", "referral", "(referral)", "no_utm")]
    # the hygiene mart counts the same per network, out of the network's social sessions
    hygiene = {
        p: (int(m), int(s))
        for p, m, s in query(
            materialized,
            f"""
        select social_platform, sum(sessions_utm_missing), sum(social_sessions) from {HYGIENE} group by 1""",
        )
    }
    social = {
        p: int(s)
        for p, s in query(
            materialized,
            f"""
        select social_platform, sum(sessions) from {MART} where is_social group by 1""",
        )
    }
    assert {p: m for p, (m, _) in hygiene.items() if m} == got
    assert {p: s for p, (_, s) in hygiene.items()} == social


def test_the_worlds_only_malformed_tags_are_the_unmapped_advocacy_campaign(materialized, not_yet_counted):
    """The world tags every link cleanly with the team's campaigns, except employee advocacy,
    whose `employee_advocacy` campaign is not in team_config campaigns: those sessions, and only
    they, are malformed, and the by-campaign mart names the campaign and the reason."""
    employee = materialized["truths"]["planted"]["totals_per_channel"]["employee"]
    tagged = (
        employee["sessions"]
        - employee["sessions_untagged"]
        - _shortfall(not_yet_counted, "sessions", channel="employee", untagged=False)
    )
    assert tagged > 0
    rows = query(
        materialized,
        f"""
        select source, medium, campaign, utm_issue, sum(sessions_utm_malformed), sum(sessions)
        from {BY_CAMPAIGN} where utm_status = 'malformed' group by 1, 2, 3, 4""",
    )
    assert [(s, m, c, i, int(n), int(a)) for s, m, c, i, n, a in rows] == [
        ("linkedin", "advocacy", "employee_advocacy", "unmapped_campaign", tagged, tagged)
    ]
    ((malformed,),) = query(materialized, f"select sum(sessions_utm_malformed) from {HYGIENE}")
    assert int(malformed) == tagged
    # every other tagged social session is ok
    ((bad,),) = query(
        materialized,
        f"""
        select count(*) from {MART}
        where is_social and utm_status = 'malformed' and campaign <> 'employee_advocacy'""",
    )
    assert bad == 0


def test_the_marts_hold_every_raw_session_once(materialized):
    raw = {
        d: (int(s), Decimal(str(r)))
        for d, s, r in query(
            materialized,
            """
        select strptime(date, '%Y%m%d')::date, sum(sessions), sum(totalRevenue)
        from raw.ga4__analytics_report group by 1""",
        )
    }
    assert raw
    for relation in (MART, "staging.stg_ga4__report_rows", "intermediate.int_web_sessions_daily"):
        got = {
            d: (int(s), Decimal(str(r)))
            for d, s, r in query(
                materialized,
                f"""
            select date_day, sum(sessions), sum(revenue) from {relation} group by 1""",
            )
        }
        assert got == raw, relation
    # the social side-by-side and hygiene marts hold every social session once too
    ((social,),) = query(materialized, f"select sum(sessions) from {MART} where is_social")
    for relation, column in ((SOCIAL, "social_sessions"), (HYGIENE, "social_sessions"), (BY_CAMPAIGN, "sessions")):
        ((n,),) = query(materialized, f"select sum({column}) from {relation}")
        assert n == social, relation


def test_influencer_sessions_split_by_platform_are_the_planted_totals(materialized, not_yet_counted):
    planted = materialized["truths"]["planted"]["influencer_totals_per_platform"]
    tagged = {
        p: int(n)
        for p, n in query(
            materialized,
            f"""
        select social_platform, sum(sessions) from {MART} where channel_group = 'Influencer' group by 1""",
        )
    }
    untagged = {
        p: int(n)
        for p, n in query(
            materialized,
            f"""
        select source, sum(sessions) from {MART} where source in ('l.instagram.com', 'youtube.com') group by 1""",
        )
    }
    untagged = {CREATOR_HOST_PLATFORM[s]: n for s, n in untagged.items()}
    for platform, t in planted.items():
        not_yet = _shortfall(not_yet_counted, "sessions", channel="influencer", platform=platform)
        assert tagged.get(platform, 0) + untagged.get(platform, 0) == t["sessions"] - not_yet, platform
        assert untagged.get(platform, 0) == t["sessions_untagged"] - _shortfall(
            not_yet_counted, "sessions", channel="influencer", untagged=True, platform=platform
        ), platform
    assert set(tagged) <= set(planted)
    # each creator's sessions carry the creator's handle (utm_content) and its own platform
    handles = {p: set(t["handles"]) for p, t in planted.items()}
    for platform, content in query(
        materialized,
        f"""
            select distinct social_platform, content from {MART} where channel_group = 'Influencer'""",
    ):
        assert content in handles[platform], (platform, content)


def test_rates_are_their_numerator_over_denominator(materialized):
    ((bad,),) = query(
        materialized,
        f"""
        select count(*) from {MART}
        where abs(engagement_rate - engaged_sessions / sessions) > 1e-12
           or abs(conversion_rate - key_events / sessions) > 1e-12
           or (sessions = 0 and (engagement_rate is not null or conversion_rate is not null))
           or revenue_reporting <> round(revenue / fx_rate, 2) or fx_rate_date > date_day""",
    )
    assert bad == 0
    ((bad,),) = query(
        materialized,
        f"""
        select count(*) from {HYGIENE}
        where abs(missing_utm_share - sessions_utm_missing / social_sessions) > 1e-12
           or abs(malformed_utm_share - sessions_utm_malformed / social_sessions) > 1e-12""",
    )
    assert bad == 0
    # the mart's types are what a BI tool expects
    types = dict(
        query(
            materialized,
            """
        select column_name, data_type from information_schema.columns
        where table_schema = 'marts' and table_name = 'fct_web_traffic_daily'""",
        )
    )
    assert {c: types[c] for c in ("sessions", "key_events", "revenue", "engagement_rate", "date_day")} == {
        "sessions": "BIGINT",
        "key_events": "BIGINT",
        "revenue": "DECIMAL(18,2)",
        "engagement_rate": "DOUBLE",
        "date_day": "DATE",
    }
