"""LinkedIn organic: the brand's organization page(s), their posts, daily share statistics and
follower gains, the lifetime follower counts by seniority, function, industry, country and
company size, and the total follower count (network size).

The page's clicks carry the funnel's `linkedin_organic` sessions: link clicks are the sessions /
CLICK_TO_SESSION, `clickCount` adds the clicks that open a post or the page. The paid follower
gains are the follows LinkedIn Ads earned that day (`paid_follower_gain`, shared with
sampleworld/gen/linkedin_ads.py). Comments swell during the planted crisis.

Files (under the domain folder):
- organizations.json            organizations (id, urn, name, vanity name, followers before the range)
- share_statistics_daily.jsonl  one row per organization and day (totalShareStatistics fields)
- follower_gains_daily.jsonl    one row per organization and day (organic and paid gains)
- follower_counts_lifetime.jsonl one row per organization, facet and facet value
- posts.jsonl                   one row per post, with its lifetime statistics
Each day's statistics are shared among the posts of the week before (newer ones get more);
days before the first post count towards older posts outside the range.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from sampleworld.entities import CONTENT_TYPES, COUNTRIES, TOPICS, Entities, campaigns_on, days, rng_for
from sampleworld.funnel import CLICK_TO_SESSION, funnel
from sampleworld.jsonl import JsonlWriter, write_json
from sampleworld.numbers import split_total

DOMAIN = "linkedin"
STAT_FIELDS = [
    "impressionCount",
    "uniqueImpressionsCount",
    "clickCount",
    "likeCount",
    "commentCount",
    "shareCount",
    "shareMentionsCount",
    "commentMentionsCount",
]
# LinkedIn geo URNs of the world's countries.
GEO = {
    "DE": 101282230,
    "US": 103644278,
    "FR": 105015875,
    "GB": 101165590,
    "NL": 102890719,
    "ES": 105646813,
    "IT": 103350119,
    "AT": 103883259,
    "CH": 106693272,
    "SE": 105117694,
}
INDUSTRIES = [4, 6, 11, 12, 14, 17, 18, 19, 27, 43, 44, 47, 48, 53, 80, 96, 104, 116, 137, 1810]
STAFF_RANGES = [
    "SIZE_1",
    "SIZE_2_TO_10",
    "SIZE_11_TO_50",
    "SIZE_51_TO_200",
    "SIZE_201_TO_500",
    "SIZE_501_TO_1000",
    "SIZE_1001_TO_5000",
    "SIZE_5001_TO_10000",
    "SIZE_10001_OR_MORE",
]
# facet key as the API names the list -> (item key, values)
FACETS = {
    "followerCountsBySeniority": ("seniority", [f"urn:li:seniority:{i}" for i in range(1, 11)]),
    "followerCountsByFunction": ("function", [f"urn:li:function:{i}" for i in range(1, 27)]),
    "followerCountsByIndustry": ("industry", [f"urn:li:industry:{i}" for i in INDUSTRIES]),
    "followerCountsByGeoCountry": ("geo", [f"urn:li:geo:{GEO[c]}" for c in COUNTRIES]),
    "followerCountsByStaffCountRange": ("staffCountRange", STAFF_RANGES),
}


def ms(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp() * 1000)


def paid_follower_gain(spec, day: date, utm_campaign: str) -> int:
    """Page follows LinkedIn Ads campaign `utm_campaign` earned on `day` (both domains use it)."""
    return rng_for(spec, DOMAIN, "paid_follows", day.isoformat(), utm_campaign).randint(1, 9)


def organizations(spec) -> list[dict]:
    rng = rng_for(spec, DOMAIN, "organizations")
    out = []
    for copy in range(spec.scale):
        oid = str(10_480_001 + 1_000 * copy)
        out.append(
            {
                "organization_id": oid,
                "urn": f"urn:li:organization:{oid}",
                "name": "Lumora" if not copy else f"Lumora {copy + 1}",
                "vanity_name": "lumora" if not copy else f"lumora-{copy + 1}",
                "copy": copy,
                "followers_before": rng.randint(8_000, 16_000),
            }
        )
    return out


def generate(spec, ents: Entities, out: Path) -> dict:
    rng = rng_for(spec, DOMAIN, "daily")
    orgs = organizations(spec)
    write_json(
        out / "organizations.json",
        [{k: o[k] for k in ("organization_id", "urn", "name", "vanity_name", "followers_before")} for o in orgs],
    )
    by_copy = {c.utm_campaign: c.copy for c in ents.campaigns}
    sessions: dict[date, int] = defaultdict(int)
    paid: dict[tuple[date, int], int] = defaultdict(int)
    for r in funnel(spec):
        if r.channel == "linkedin_organic":
            sessions[r.day] += r.sessions
        elif r.channel == "linkedin_paid":
            paid[(r.day, by_copy[r.utm_campaign])] += paid_follower_gain(spec, r.day, r.utm_campaign)
    crisis_start, crisis_peak, crisis_end = (date.fromisoformat(ents.crisis[k]) for k in ("start", "peak", "end"))

    posts: list[dict] = []  # every post, with running lifetime statistics
    recent: dict[str, list[dict]] = {o["urn"]: [] for o in orgs}
    gains = {o["urn"]: {"organic": 0, "paid": 0} for o in orgs}
    totals = {k: 0 for k in STAT_FIELDS}
    n_share = n_gain = 0
    post_seq = 0
    with JsonlWriter(out / "share_statistics_daily.jsonl") as ws, JsonlWriter(out / "follower_gains_daily.jsonl") as wg:
        for day in days(spec):
            link_clicks = split_total(
                int((Decimal(sessions.get(day, 0)) / CLICK_TO_SESSION).to_integral_value(ROUND_HALF_UP)),
                [1.0] * len(orgs),
            )
            if crisis_start <= day <= crisis_end:
                span = max(1, (crisis_end - crisis_peak).days)
                heat = 1 + 3 * max(0.0, 1 - abs((day - crisis_peak).days) / span)
            else:
                heat = 1.0
            for org, lc in zip(orgs, link_clicks):
                # Posts: most weekdays, now and then on a weekend.
                if rng.random() < (0.75 if day.weekday() < 5 else 0.15):
                    post_seq += 1
                    camps = campaigns_on(ents, "linkedin_organic", day)
                    camp = rng.choice(camps) if camps and rng.random() < 0.6 else None
                    hour = rng.randint(7, 17)
                    created = ms(day) + hour * 3_600_000 + rng.randint(0, 3_599) * 1000
                    post = {
                        "id": f"urn:li:share:{7_300_000_000_000_000_000 + post_seq * 7919 + org['copy']}",
                        "author": org["urn"],
                        "createdAt": created,
                        "publishedAt": created + 60_000,
                        "lastModifiedAt": created + 60_000,
                        "content_type": rng.choice(CONTENT_TYPES["linkedin"]),
                        "topic": rng.choice(TOPICS),
                        "utm_campaign": camp.utm_campaign if camp else None,
                        "day": day.isoformat(),
                        **{k: 0 for k in STAT_FIELDS},
                    }
                    posts.append(post)
                    recent[org["urn"]].append(post)
                recent[org["urn"]] = [p for p in recent[org["urn"]] if (day - date.fromisoformat(p["day"])).days < 7]
                clicks = lc + round(lc * rng.uniform(0.1, 0.35))
                impressions = max(clicks, round(clicks / rng.uniform(0.015, 0.03))) if clicks else rng.randint(0, 200)
                stats = {
                    "impressionCount": impressions,
                    "uniqueImpressionsCount": round(impressions * rng.uniform(0.6, 0.75)),
                    "clickCount": clicks,
                    "likeCount": round(impressions * rng.uniform(0.008, 0.02)),
                    "commentCount": round(impressions * rng.uniform(0.0008, 0.0025) * heat),
                    "shareCount": round(impressions * rng.uniform(0.0004, 0.0015)),
                    "shareMentionsCount": rng.randint(0, 1),
                    "commentMentionsCount": rng.randint(0, 2) if heat > 1 else rng.randint(0, 1),
                }
                engagement = (
                    (
                        (stats["clickCount"] + stats["likeCount"] + stats["commentCount"] + stats["shareCount"])
                        / impressions
                    )
                    if impressions
                    else 0.0
                )
                ws.write(
                    {
                        "organization_id": org["organization_id"],
                        "date": day.isoformat(),
                        **stats,
                        "engagement": round(engagement, 12),
                    }
                )
                n_share += 1
                for k in STAT_FIELDS:
                    totals[k] += stats[k]
                live = recent[org["urn"]]
                if live:
                    weights = [1.0 / (1 + (day - date.fromisoformat(p["day"])).days) for p in live]
                    for k in STAT_FIELDS:
                        for p, part in zip(live, split_total(stats[k], weights)):
                            p[k] += part
                organic = max(0, round(rng.gauss(9, 4) * (1 + impressions / 20_000)))
                paid_gain = paid.get((day, org["copy"]), 0)
                wg.write(
                    {
                        "organization_id": org["organization_id"],
                        "date": day.isoformat(),
                        "organicFollowerGain": organic,
                        "paidFollowerGain": paid_gain,
                    }
                )
                n_gain += 1
                gains[org["urn"]]["organic"] += organic
                gains[org["urn"]]["paid"] += paid_gain

    with JsonlWriter(out / "posts.jsonl") as wp:
        for p in posts:
            wp.write({k: v for k, v in p.items()})

    frng = rng_for(spec, DOMAIN, "facets")
    followers = {}
    n_facet = 0
    with JsonlWriter(out / "follower_counts_lifetime.jsonl") as wf:
        for org in orgs:
            g = gains[org["urn"]]
            total = org["followers_before"] + g["organic"] + g["paid"]
            paid_total = g["paid"] + round(org["followers_before"] * 0.04)
            organic_total = total - paid_total
            followers[org["organization_id"]] = {"total": total, "organic": organic_total, "paid": paid_total}
            for facet, (item_key, values) in FACETS.items():
                weights = [frng.uniform(0.2, 3.0) for _ in values]
                for value, o_n, p_n in zip(
                    values, split_total(organic_total, weights), split_total(paid_total, weights)
                ):
                    wf.write(
                        {
                            "organization_id": org["organization_id"],
                            "facet": facet,
                            "item_key": item_key,
                            "value": value,
                            "organicFollowerCount": o_n,
                            "paidFollowerCount": p_n,
                        }
                    )
                    n_facet += 1
    return {
        "organizations": [{k: o[k] for k in ("organization_id", "urn", "name")} for o in orgs],
        "share_statistics_rows": n_share,
        "follower_gain_rows": n_gain,
        "follower_count_rows": n_facet,
        "posts": len(posts),
        "share_statistics_totals": totals,
        "follower_gains": {o["organization_id"]: gains[o["urn"]] for o in orgs},
        "followers_as_of": followers,
    }
