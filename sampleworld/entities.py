"""The simulated company every source shares: one brand, three competitors, the campaigns and
their UTMs, the channels traffic arrives through, the team's rosters, goals and FX rates.

Everything here is a pure function of the world spec (seed, range, scale), so each domain
generator can rebuild it independently and still agree with every other one: the campaign
that spends on Meta is the `utm_campaign` GA4 sessions and HubSpot contacts carry.

Randomness: `rng_for(spec, "domain", ...)` gives each domain (and sub-domain) its own seeded
generator, so adding a draw in one domain never shifts another domain's numbers.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from sampleworld.world import WorldSpec

BRAND = {
    "name": "Lumora",
    "handle": "lumora",
    "domain": "lumora.example",
    "reporting_currency": "EUR",
    "timezone": "Europe/Berlin",
}
COMPETITORS = [
    {"name": "Brightwave", "handle": "brightwave"},
    {"name": "Solenne", "handle": "solenne"},
    {"name": "Kintsu", "handle": "kintsu"},
]

# Organic platforms and their content types.
ORGANIC_PLATFORMS = ["facebook", "instagram", "x", "linkedin", "youtube"]
CONTENT_TYPES = {
    "facebook": ["video", "image", "link", "text", "reel"],
    "instagram": ["image", "carousel", "video", "reel", "story"],
    "x": ["text", "image", "link", "video"],
    "linkedin": ["text", "image", "link", "video", "carousel"],
    "youtube": ["video"],
}
TOPICS = ["product", "sustainability", "behind_the_scenes", "how_to", "promotion", "community", "hiring"]

AGE_BANDS = ["13-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+"]
GENDERS = ["F", "M", "U"]
COUNTRIES = ["DE", "US", "FR", "GB", "NL", "ES", "IT", "AT", "CH", "SE"]


# Where the roster's creators post; an influencer session arrives from its creator's platform.
INFLUENCER_PLATFORMS = ("instagram", "youtube")


@dataclass(frozen=True)
class Channel:
    """A way traffic arrives, as GA4 would name it (source / medium) and as the marts group it."""

    key: str
    source: str | None  # utm_source; None: per touch (influencers: each creator's own platform)
    medium: str
    group: str  # channel group: Paid Social, Organic Social, Paid Search, ...
    platform: str | None  # the social or ad platform behind it, if one (influencers: per creator)
    is_paid: bool
    is_social: bool
    hubspot_source: str  # HubSpot's hs_analytics_source for contacts arriving this way


CHANNELS: list[Channel] = [
    Channel("meta_paid", "facebook", "paid_social", "Paid Social", "meta_ads", True, True, "PAID_SOCIAL"),
    Channel("linkedin_paid", "linkedin", "paid_social", "Paid Social", "linkedin_ads", True, True, "PAID_SOCIAL"),
    Channel("google_cpc", "google", "cpc", "Paid Search", "google_ads", True, False, "PAID_SEARCH"),
    Channel("facebook_organic", "facebook", "social", "Organic Social", "facebook", False, True, "SOCIAL_MEDIA"),
    Channel("instagram_organic", "instagram", "social", "Organic Social", "instagram", False, True, "SOCIAL_MEDIA"),
    Channel("x_organic", "x", "social", "Organic Social", "x", False, True, "SOCIAL_MEDIA"),
    Channel("linkedin_organic", "linkedin", "social", "Organic Social", "linkedin", False, True, "SOCIAL_MEDIA"),
    Channel("youtube_organic", "youtube", "social", "Organic Social", "youtube", False, True, "SOCIAL_MEDIA"),
    Channel("influencer", None, "influencer", "Organic Social", None, False, True, "SOCIAL_MEDIA"),
    Channel("employee", "linkedin", "advocacy", "Organic Social", "linkedin", False, True, "SOCIAL_MEDIA"),
    Channel("organic_search", "google", "organic", "Organic Search", None, False, False, "ORGANIC_SEARCH"),
    Channel("email", "newsletter", "email", "Email", None, False, False, "EMAIL_MARKETING"),
    Channel("direct", "(direct)", "(none)", "Direct", None, False, False, "DIRECT_TRAFFIC"),
]
CHANNEL_BY_KEY = {c.key: c for c in CHANNELS}

LANDING_PAGES = [
    "/",
    "/pricing",
    "/product",
    "/product/serum",
    "/product/cream",
    "/blog/how-to",
    "/blog/sustainability",
    "/summer",
    "/signup",
    "/about",
]


def rng_for(spec: WorldSpec, *names: object) -> random.Random:
    """A generator seeded by the world seed and a path of names: independent per domain."""
    digest = hashlib.sha256(":".join([str(spec.seed), *map(str, names)]).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def days(spec: WorldSpec):
    d = spec.start
    while d <= spec.end:
        yield d
        d += timedelta(days=1)


@dataclass(frozen=True)
class Campaign:
    """A marketing campaign: the same `utm_campaign` across ads, post links, sessions and CRM."""

    key: str
    name: str
    utm_campaign: str
    start: date
    end: date
    channels: tuple[str, ...]  # Channel keys it runs on
    objective: str  # awareness, traffic, leads, sales
    daily_budget_eur: Decimal
    copy: int = 0  # which copy of the campaign set (the scale factor multiplies them)

    def active(self, day: date) -> bool:
        return self.start <= day <= self.end


_CAMPAIGN_THEMES = [
    ("Always On", "always_on", "sales"),
    ("Summer Launch", "summer_launch", "sales"),
    ("Brand Awareness", "brand_awareness", "awareness"),
    ("Lead Magnet", "lead_magnet", "leads"),
    ("Retargeting", "retargeting", "sales"),
    ("Holiday", "holiday", "sales"),
]


@dataclass
class Entities:
    spec: WorldSpec
    campaigns: list[Campaign] = field(default_factory=list)
    influencers: list[dict] = field(default_factory=list)
    employees: list[dict] = field(default_factory=list)
    fx_rates: list[dict] = field(default_factory=list)
    goals: list[dict] = field(default_factory=list)
    # Planted truths decided up front so every domain can honour them.
    crisis: dict = field(default_factory=dict)
    ab_test: dict = field(default_factory=dict)

    @property
    def as_of(self) -> date:
        """The fakes' "today": the day after the world's last day."""
        return self.spec.end + timedelta(days=1)


def _campaigns(spec: WorldSpec) -> list[Campaign]:
    rng = rng_for(spec, "entities", "campaigns")
    total_days = (spec.end - spec.start).days + 1
    out = []
    n = 0
    for copy in range(spec.scale):
        for name, slug, objective in _CAMPAIGN_THEMES:
            n += 1
            if slug == "always_on":
                start, end = spec.start, spec.end
            else:
                length = max(7, min(total_days, int(total_days * rng.uniform(0.2, 0.5))))
                offset = rng.randint(0, max(0, total_days - length))
                start = spec.start + timedelta(days=offset)
                end = start + timedelta(days=length - 1)
            paid = ["meta_paid", "google_cpc", "linkedin_paid"] if objective == "leads" else ["meta_paid", "google_cpc"]
            organic = ["facebook_organic", "instagram_organic", "x_organic", "linkedin_organic", "youtube_organic"]
            suffix = f"_{copy + 1}" if copy else ""
            out.append(
                Campaign(
                    key=f"c{n:03d}",
                    name=f"{name}{' ' + str(copy + 1) if copy else ''}",
                    utm_campaign=f"{slug}{suffix}_{start:%Y}",
                    start=start,
                    end=end,
                    channels=tuple(paid + organic + (["influencer"] if slug in ("summer_launch", "holiday") else [])),
                    objective=objective,
                    daily_budget_eur=Decimal(rng.randint(80, 400)),
                    copy=copy,
                )
            )
    return out


def _influencers(spec: WorldSpec) -> list[dict]:
    rng = rng_for(spec, "entities", "influencers")
    out = []
    for i in range(4 * spec.scale):
        out.append(
            {
                "influencer_id": f"inf{i + 1:03d}",
                "handle": f"creator_{i + 1:03d}",
                "platform": INFLUENCER_PLATFORMS[i % 2],
                "followers": rng.randint(20_000, 900_000),
                "fee_eur": str(Decimal(rng.randint(8, 60)) * 100),
                "copy": i // 4,
                # The first one's audience converts, the second's does not (planted truth).
                "effectiveness": 1.6 if i == 0 else (0.05 if i == 1 else round(rng.uniform(0.4, 1.2), 2)),
            }
        )
    return out


def _employees(spec: WorldSpec) -> list[dict]:
    rng = rng_for(spec, "entities", "employees")
    teams = ["marketing", "sales", "engineering", "product", "support", "people"]
    return [
        {
            "employee_id": f"emp{i + 1:04d}",
            "handle": f"lumora_{i + 1:04d}",
            "team": teams[i % len(teams)],
            "platform": "linkedin" if rng.random() < 0.8 else "x",
            "advocate": rng.random() < 0.6,
        }
        for i in range(25 * spec.scale)
    ]


def _fx_rates(spec: WorldSpec) -> list[dict]:
    """Daily EUR-based reference rates (units of currency per 1 EUR), a gentle random walk."""
    rng = rng_for(spec, "entities", "fx")
    level = {"USD": 1.08, "GBP": 0.85}
    out = []
    for day in days(spec):
        for cur in sorted(level):
            level[cur] *= 1 + rng.gauss(0, 0.003)
            out.append({"date": day.isoformat(), "base": "EUR", "currency": cur, "rate": f"{level[cur]:.6f}"})
        out.append({"date": day.isoformat(), "base": "EUR", "currency": "EUR", "rate": "1.000000"})
    return out


def _goals(spec: WorldSpec) -> list[dict]:
    quarter_starts = sorted({date(d.year, 3 * ((d.month - 1) // 3) + 1, 1) for d in days(spec)})
    out = []
    for q in quarter_starts:
        label = f"{q.year}-Q{(q.month - 1) // 3 + 1}"
        s = spec.scale
        out += [
            {
                "goal_id": f"{label}-awareness",
                "period": label,
                "kpi": "impressions",
                "target": 4_000_000 * s,
                "direction": "higher",
                "owner": "brand",
            },
            {
                "goal_id": f"{label}-engagement",
                "period": label,
                "kpi": "engagement_rate",
                "target": 0.035,
                "direction": "higher",
                "owner": "social",
            },
            {
                "goal_id": f"{label}-leads",
                "period": label,
                "kpi": "leads",
                "target": 1_500 * s,
                "direction": "higher",
                "owner": "growth",
            },
            {
                "goal_id": f"{label}-cpa",
                "period": label,
                "kpi": "cpa_eur",
                "target": 45.0,
                "direction": "lower",
                "owner": "performance",
            },
            {
                "goal_id": f"{label}-csat",
                "period": label,
                "kpi": "csat",
                "target": 0.8,
                "direction": "higher",
                "owner": "care",
            },
            {
                "goal_id": f"{label}-response",
                "period": label,
                "kpi": "median_response_minutes",
                "target": 90,
                "direction": "lower",
                "owner": "care",
            },
        ]
    return out


def _crisis(spec: WorldSpec) -> dict:
    """A burst of negative mentions: starts, peaks two days later, back to baseline after a week."""
    total = (spec.end - spec.start).days + 1
    rng = rng_for(spec, "entities", "crisis")
    start = spec.start + timedelta(days=int(total * rng.uniform(0.45, 0.65)))
    peak = start + timedelta(days=min(2, max(0, (spec.end - start).days)))
    end = min(spec.end, start + timedelta(days=7))
    return {
        "topic": "product recall rumour",
        "start": start.isoformat(),
        "peak": peak.isoformat(),
        "end": end.isoformat(),
        "negative_multiplier_at_peak": 12.0,
    }


def _ab_test(spec: WorldSpec) -> dict:
    """Two ad creatives in the Always On campaign on Meta: B converts better by a known lift."""
    return {
        "experiment_id": "exp_creative_video_vs_image",
        "platform": "meta_ads",
        "campaign_key": "c001",
        "control": "A_image",
        "treatment": "B_video",
        "control_cvr": 0.020,
        "treatment_cvr": 0.026,
        "winner": "B_video",
        "relative_lift": 0.30,
    }


@lru_cache(maxsize=8)
def build(spec: WorldSpec) -> Entities:
    return Entities(
        spec=spec,
        campaigns=_campaigns(spec),
        influencers=_influencers(spec),
        employees=_employees(spec),
        fx_rates=_fx_rates(spec),
        goals=_goals(spec),
        crisis=_crisis(spec),
        ab_test=_ab_test(spec),
    )


def campaigns_on(ents: Entities, channel_key: str, day: date) -> list[Campaign]:
    return [c for c in ents.campaigns if channel_key in c.channels and c.active(day)]
