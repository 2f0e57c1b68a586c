"""The marketing team's configuration, as the warehouse reads it (CSV, one header line,
UTF-8, `\\n` line ends, ISO dates; empty cell = null). Everything comes from `ents`:

- `goals.csv`: goal_id, period, kpi, target, direction, owner (ents.goals)
- `kpi_registry.csv`: kpi, name, definition, unit, direction, owner, catalogue_row
- `competitors.csv`: competitor set, versioned: set_version, valid_from, valid_to, entity,
  name, handle, is_brand (the brand is listed too, so share of voice has its denominator)
- `influencers.csv`: influencer_id, handle, platform, followers, fee_eur, contract_copy
  (the planted `effectiveness` is a truth, not config: it is not in this file)
- `employees.csv`: employee_id, handle, team, platform, advocate
- `campaigns.csv`: campaign_key, name, utm_campaign, start_date, end_date, channels
  (`|`-separated channel keys), objective, daily_budget_eur, budget_eur (whole flight)
- `fx_rates.csv`: date, base, currency, rate (units of currency per 1 EUR, EUR included)
- `experiments.csv`: experiment_id, variant, is_control, platform, ad_ids (`|`-separated),
  utm_content, start_date, end_date, primary_metric, alpha, power, min_detectable_lift: one
  row per variant. The planted A/B test (ents.ab_test): its control and treatment are the two
  Meta ads of campaign c001's first ad set that carry the variants (`structure.json` names
  them), over the campaign's flight, conversions per click at alpha 0.05 and 80% power, the
  planted relative lift as the minimum detectable one. Its conversion rates and winner are
  truths, not config: they are not in this file.
"""

from __future__ import annotations

import csv
from pathlib import Path

from sampleworld.entities import BRAND, COMPETITORS, Entities
from sampleworld.gen import meta_ads

DOMAIN = "config"

KPIS = [
    ("impressions", "Impressions", "Times content was shown (organic + paid)", "count", "higher", "brand", 5),
    (
        "reach",
        "Reach",
        "Unique accounts reached, as reported per platform and grain (never summed over days)",
        "count",
        "higher",
        "brand",
        5,
    ),
    (
        "engagement_rate",
        "Engagement rate",
        "(reactions + comments + shares + saves + link clicks) / impressions",
        "ratio",
        "higher",
        "social",
        6,
    ),
    ("ctr", "Click-through rate", "link clicks / impressions", "ratio", "higher", "social", 7),
    (
        "conversion_rate",
        "Conversion rate",
        "conversions / sessions (web); conversions / clicks (ads)",
        "ratio",
        "higher",
        "growth",
        8,
    ),
    ("net_sentiment", "Net sentiment", "% positive - % negative mentions", "ratio", "higher", "care", 9),
    (
        "follower_growth_rate_28d",
        "Follower growth (28 days)",
        "(followers today - followers 28 days ago) / followers 28 days ago",
        "ratio",
        "higher",
        "social",
        10,
    ),
    (
        "content_engagement_rate",
        "Engagement by content type",
        "engagement rate per content type and topic",
        "ratio",
        "higher",
        "social",
        12,
    ),
    (
        "median_response_minutes",
        "Median response time",
        "median minutes from inbound customer message to first brand reply",
        "minutes",
        "lower",
        "care",
        13,
    ),
    (
        "response_rate",
        "Response rate",
        "inbound customer messages answered / inbound customer messages",
        "ratio",
        "higher",
        "care",
        13,
    ),
    (
        "engagement_per_post_vs_competitors",
        "Engagement per post vs competitors",
        "brand engagement per post / competitor median engagement per post",
        "ratio",
        "higher",
        "brand",
        14,
    ),
    ("ab_lift", "A/B lift", "(treatment rate - control rate) / control rate", "ratio", "higher", "performance", 15),
    ("influencer_cpa_eur", "Influencer CPA", "influencer fee / attributed new customers", "EUR", "lower", "growth", 16),
    ("roi", "ROI", "(attributed revenue - cost) / cost", "ratio", "higher", "performance", 17),
    ("roas", "ROAS", "attributed revenue / ad spend", "ratio", "higher", "performance", 17),
    (
        "social_sessions",
        "Sessions from social",
        "web sessions with a social source (organic + paid)",
        "count",
        "higher",
        "growth",
        18,
    ),
    (
        "clv_eur",
        "Customer lifetime value",
        "revenue per customer acquired via social, by cohort",
        "EUR",
        "higher",
        "growth",
        19,
    ),
    ("negative_feedback", "Negative feedback", "negative comments, messages and reviews", "count", "lower", "care", 20),
    ("brand_health", "Brand health", "positive / (positive + negative) mentions", "ratio", "higher", "brand", 21),
    (
        "share_of_voice",
        "Share of voice",
        "brand mentions / (brand + competitor mentions), fixed competitor set",
        "ratio",
        "higher",
        "brand",
        22,
    ),
    ("leads", "Leads", "new contacts from social reaching lead stage", "count", "higher", "growth", 23),
    ("cost_per_lead_eur", "Cost per lead", "spend / leads", "EUR", "lower", "performance", 23),
    (
        "retention_m3",
        "Retention month 3",
        "share of a cohort still buying 3 months after acquisition",
        "ratio",
        "higher",
        "growth",
        24,
    ),
    ("csat", "CSAT", "share of 4-5 answers on the 1-5 survey", "ratio", "higher", "care", 25),
    ("cpa_eur", "Cost per acquisition", "spend / new customers (CRM, deduplicated)", "EUR", "lower", "performance", 26),
    ("sentiment_7d", "Sentiment (7-day average)", "rolling 7-day mean sentiment score", "score", "higher", "care", 28),
    ("paid_share", "Paid share", "paid impressions / all impressions", "ratio", "higher", "performance", 29),
    (
        "campaign_response_rate",
        "Campaign response rate",
        "responses (clicks, leads, conversions) / people reached",
        "ratio",
        "higher",
        "performance",
        31,
    ),
    ("ugc_volume", "UGC volume", "customer-authored posts about the brand", "count", "higher", "social", 32),
    (
        "crisis_time_to_first_response_minutes",
        "Crisis time to first response",
        "minutes from crisis start to the brand's first reply",
        "minutes",
        "lower",
        "care",
        33,
    ),
    (
        "advocacy_sessions",
        "Employee advocacy sessions",
        "sessions attributed to employee advocacy links",
        "count",
        "higher",
        "people",
        34,
    ),
]


def _write(path: Path, header: list[str], rows) -> int:
    n = 0
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow(["" if v is None else v for v in r])
            n += 1
    return n


def generate(spec, ents: Entities, out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    counts["goals"] = _write(
        out / "goals.csv",
        ["goal_id", "period", "kpi", "target", "direction", "owner"],
        ([g["goal_id"], g["period"], g["kpi"], g["target"], g["direction"], g["owner"]] for g in ents.goals),
    )
    counts["kpi_registry"] = _write(
        out / "kpi_registry.csv", ["kpi", "name", "definition", "unit", "direction", "owner", "catalogue_row"], KPIS
    )
    start = spec.start.isoformat()
    counts["competitors"] = _write(
        out / "competitors.csv",
        ["set_version", "valid_from", "valid_to", "entity", "name", "handle", "is_brand"],
        [[1, start, None, BRAND["handle"], BRAND["name"], BRAND["handle"], "true"]]
        + [[1, start, None, c["handle"], c["name"], c["handle"], "false"] for c in COMPETITORS],
    )
    counts["influencers"] = _write(
        out / "influencers.csv",
        ["influencer_id", "handle", "platform", "followers", "fee_eur", "contract_copy"],
        (
            [i["influencer_id"], i["handle"], i["platform"], i["followers"], i["fee_eur"], i["copy"]]
            for i in ents.influencers
        ),
    )
    counts["employees"] = _write(
        out / "employees.csv",
        ["employee_id", "handle", "team", "platform", "advocate"],
        ([e["employee_id"], e["handle"], e["team"], e["platform"], str(e["advocate"]).lower()] for e in ents.employees),
    )
    counts["campaigns"] = _write(
        out / "campaigns.csv",
        [
            "campaign_key",
            "name",
            "utm_campaign",
            "start_date",
            "end_date",
            "channels",
            "objective",
            "daily_budget_eur",
            "budget_eur",
        ],
        (
            [
                c.key,
                c.name,
                c.utm_campaign,
                c.start.isoformat(),
                c.end.isoformat(),
                "|".join(c.channels),
                c.objective,
                str(c.daily_budget_eur),
                str(c.daily_budget_eur * ((c.end - c.start).days + 1)),
            ]
            for c in ents.campaigns
        ),
    )
    counts["fx_rates"] = _write(
        out / "fx_rates.csv",
        ["date", "base", "currency", "rate"],
        ([r["date"], r["base"], r["currency"], r["rate"]] for r in ents.fx_rates),
    )
    counts["experiments"] = _write(
        out / "experiments.csv",
        [
            "experiment_id",
            "variant",
            "is_control",
            "platform",
            "ad_ids",
            "utm_content",
            "start_date",
            "end_date",
            "primary_metric",
            "alpha",
            "power",
            "min_detectable_lift",
        ],
        _experiments(spec, ents),
    )
    return {
        "files": {f"{k}.csv": v for k, v in counts.items()},
        "competitor_set_version": 1,
        "utm_campaigns": sorted(c.utm_campaign for c in ents.campaigns),
    }


def _experiments(spec, ents: Entities) -> list[list]:
    """The planted A/B test, one row per variant: each variant maps to the Meta ads that carry it
    (meta_ads.structure marks them), over its campaign's flight."""
    ab = ents.ab_test
    camp = next(c for c in ents.campaigns if c.key == ab["campaign_key"])
    ads: dict[str, list[str]] = {}
    for account in meta_ads.structure(spec, ents):
        for c in account["campaigns"]:
            if c["campaign"].key == camp.key:
                for adset in c["adsets"]:
                    for ad in adset["ads"]:
                        if "variant" in ad:
                            ads.setdefault(ad["variant"], []).append(ad["ad_id"])
    return [
        [
            ab["experiment_id"],
            variant,
            str(variant == ab["control"]).lower(),
            ab["platform"],
            "|".join(ads[variant]),
            None,
            camp.start.isoformat(),
            camp.end.isoformat(),
            "conversions_per_click",
            "0.05",
            "0.8",
            str(ab["relative_lift"]),
        ]
        for variant in (ab["control"], ab["treatment"])
    ]
