"""The web funnel every source agrees on: per day, channel and campaign, how many sessions
arrive, how many engage, sign up (leads) and buy for the first time (new customers), and the
revenue of those first purchases.

Ads generators derive their clicks from the paid rows, organic generators their link clicks
from the organic social rows, GA4 reports the sessions, HubSpot creates the contacts and
deals. A pure function of the spec: any generator may call it and gets the same numbers.

Influencer traffic comes one row per campaign and creator, from the creator's own platform
(the roster's `platform` as `utm_source`: `instagram` or `youtube`), so the channel's sessions
split between Instagram and YouTube by each creator's share.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache

from sampleworld.entities import CHANNELS, Channel, Entities, build, campaigns_on, days, rng_for

# Sessions per day for one unit of scale, before weekday and campaign effects.
_BASE_SESSIONS = {
    "meta_paid": 260,
    "linkedin_paid": 60,
    "google_cpc": 320,
    "facebook_organic": 70,
    "instagram_organic": 90,
    "x_organic": 30,
    "linkedin_organic": 45,
    "youtube_organic": 25,
    "influencer": 40,
    "employee": 20,
    "organic_search": 600,
    "email": 120,
    "direct": 450,
}
# Rates per session.
_ENGAGED = {
    "Paid Social": 0.52,
    "Organic Social": 0.58,
    "Paid Search": 0.66,
    "Organic Search": 0.64,
    "Email": 0.7,
    "Direct": 0.6,
}
_LEAD_RATE = {
    "Paid Social": 0.045,
    "Organic Social": 0.035,
    "Paid Search": 0.06,
    "Organic Search": 0.03,
    "Email": 0.05,
    "Direct": 0.025,
}
_CUSTOMER_RATE = {
    "Paid Social": 0.012,
    "Organic Social": 0.009,
    "Paid Search": 0.016,
    "Organic Search": 0.008,
    "Email": 0.02,
    "Direct": 0.01,
}
# Share of organic social sessions that arrive with broken or missing UTMs.
UNTAGGED_SHARE = 0.08
# Share of ad clicks that become a session (the rest bounce before the page loads).
CLICK_TO_SESSION = Decimal("0.85")


@dataclass(frozen=True)
class FunnelRow:
    day: date
    channel: str
    utm_source: str  # influencers: the creator's own platform (instagram, youtube)
    utm_medium: str
    utm_campaign: str  # "(not set)" when no campaign (GA4 labels it by kind of traffic)
    utm_content: str | None  # influencer or employee handle, when that is the touch
    sessions: int
    sessions_untagged: int  # of `sessions`, arriving without UTMs (GA4 sees a referral)
    engaged_sessions: int
    leads: int
    new_customers: int
    revenue_eur: Decimal


def _binomial(rng, n: int, p: float) -> int:
    if n <= 0:
        return 0
    if n < 60:
        return sum(1 for _ in range(n) if rng.random() < p)
    mean, sd = n * p, (n * p * (1 - p)) ** 0.5
    return max(0, min(n, round(rng.gauss(mean, sd))))


def _rows_for_day(ents: Entities, day: date) -> list[FunnelRow]:
    spec = ents.spec
    rng = rng_for(spec, "funnel", day.isoformat())
    weekday = 0.82 if day.weekday() >= 5 else 1.0
    out: list[FunnelRow] = []
    for ch in CHANNELS:
        base = _BASE_SESSIONS[ch.key] * spec.scale * weekday
        # (utm_source, utm_campaign, utm_content, weight)
        touches: list[tuple[str | None, str, str | None, float]] = []
        if ch.key == "influencer":
            # One touch per creator of the campaign, from the creator's own platform (roster).
            camps = campaigns_on(ents, "influencer", day)
            for camp in camps:
                for inf in (i for i in ents.influencers if i["copy"] == camp.copy):
                    touches.append((inf["platform"], camp.utm_campaign, inf["handle"], float(inf["effectiveness"])))
            if not touches:
                continue
        elif ch.key == "employee":
            touches = [(ch.source, "employee_advocacy", None, 1.0)]
        elif ch.is_paid:
            camps = campaigns_on(ents, ch.key, day)
            if not camps:
                continue
            touches = [(ch.source, c.utm_campaign, None, float(c.daily_budget_eur) / 200) for c in camps]
        elif ch.is_social:
            camps = campaigns_on(ents, ch.key, day)
            touches = [(ch.source, "(not set)", None, 1.0)] + [(ch.source, c.utm_campaign, None, 0.5) for c in camps]
        else:
            touches = [(ch.source, "(not set)", None, 1.0)]
        # The channel's traffic is shared among its touches (an influencer's share also
        # depends on how well their audience converts to visits: the planted truth).
        total_weight = len(touches) if ch.key == "influencer" else sum(t[-1] for t in touches)
        for utm_source, utm_campaign, content, weight in touches:
            sessions = max(0, round(base * weight / total_weight * rng.uniform(0.75, 1.25)))
            if sessions == 0:
                continue
            untagged = _binomial(rng, sessions, UNTAGGED_SHARE) if (ch.is_social and not ch.is_paid) else 0
            quality = weight if ch.key == "influencer" else 1.0
            engaged = _binomial(rng, sessions, _ENGAGED[ch.group])
            leads = _binomial(rng, sessions, min(0.5, _LEAD_RATE[ch.group] * quality))
            customers = _binomial(rng, sessions, min(0.2, _CUSTOMER_RATE[ch.group] * quality))
            revenue = sum((Decimal(rng.randint(3500, 16000)) / 100 for _ in range(customers)), Decimal("0"))
            out.append(
                FunnelRow(
                    day,
                    ch.key,
                    utm_source,
                    ch.medium,
                    utm_campaign,
                    content,
                    sessions,
                    untagged,
                    engaged,
                    leads,
                    customers,
                    revenue,
                )
            )
    return out


@lru_cache(maxsize=2)
def _all_rows(spec) -> tuple[FunnelRow, ...]:
    ents = build(spec)
    return tuple(r for d in days(spec) for r in _rows_for_day(ents, d))


def funnel(spec) -> Iterator[FunnelRow]:
    """Every funnel row of the world, by day then channel. Cached: a few thousand rows a scale."""
    return iter(_all_rows(spec))


def channel(row: FunnelRow) -> Channel:
    from sampleworld.entities import CHANNEL_BY_KEY

    return CHANNEL_BY_KEY[row.channel]
