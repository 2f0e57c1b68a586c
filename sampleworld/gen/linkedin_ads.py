"""LinkedIn Ads: sponsored ad accounts (EUR and USD), a campaign group per entity campaign that
runs on `linkedin_paid`, four sponsored campaigns (audiences) in it, and daily campaign analytics
whose clicks are the funnel's linkedin_paid sessions / CLICK_TO_SESSION and whose cost is the
campaign's EUR budget in the account currency.

Files (under the domain folder):
- accounts.json         ad accounts (id, name, currency)
- campaigns.json        campaign groups and sponsored campaigns with the `utm_campaign` they carry
- analytics_daily.jsonl one element per sponsored campaign and day (final values; the fake
                        restates the last 30 days' conversions)
The page follows the ads earn are the organic page's paid follower gains (sampleworld/gen/linkedin.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from sampleworld.entities import Entities, rng_for
from sampleworld.gen.linkedin import paid_follower_gain
from sampleworld.jsonl import JsonlWriter, write_json
from sampleworld.numbers import split_total
from sampleworld.paid import (
    CENT,
    account_copies,
    campaign_days,
    channel_campaigns,
    fx_rates,
    impressions,
    money,
    order_value,
    successes,
)

DOMAIN = "linkedin_ads"
CHANNEL = "linkedin_paid"

ACCOUNTS = [
    {"account_id": "508000101", "name": "Lumora EMEA", "currency": "EUR"},
    {"account_id": "508000202", "name": "Lumora North America", "currency": "USD"},
]
# (audience, index into the copy's accounts)
AUDIENCES = [("DACH", 0), ("France & Benelux", 0), ("United States", 1), ("United Kingdom", 1)]


def ms(d) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp() * 1000)


def accounts(spec) -> list[dict]:
    """The ad accounts, each with the `copy` of the campaign set it serves."""
    return [
        dict(a, copy=i // len(ACCOUNTS))
        for i, a in enumerate(account_copies(ACCOUNTS, spec.scale, "account_id", "name"))
    ]


def structure(spec, ents: Entities) -> list[dict]:
    """One campaign group per entity campaign; its sponsored campaigns with their traits."""
    rng = rng_for(spec, DOMAIN, "structure")
    accs = accounts(spec)
    groups = []
    for i, camp in enumerate(channel_campaigns(ents, CHANNEL)):
        mine = [a for a in accs if a["copy"] == camp.copy]
        campaigns = []
        for j, (audience, acc_idx) in enumerate(AUDIENCES):
            campaigns.append(
                {
                    "campaign_id": str(612_000_000 + 100 * (i + 1) + j + 1),
                    "name": f"{camp.name} - {audience}",
                    "account": mine[acc_idx],
                    "weight": rng.uniform(0.5, 1.5),
                    "ctr": rng.uniform(0.004, 0.011),
                    "cpc": rng.uniform(0.8, 1.3),
                    "cvr": rng.uniform(0.02, 0.06),
                    "lead_rate": rng.uniform(0.03, 0.09),
                    "aov": Decimal(rng.randint(5000, 15000)) / 100,
                }
            )
        groups.append({"campaign": camp, "campaign_group_id": str(640_000_000 + i + 1), "campaigns": campaigns})
    return groups


def generate(spec, ents: Entities, out: Path) -> dict:
    rng = rng_for(spec, DOMAIN, "analytics")
    accs = accounts(spec)
    groups = structure(spec, ents)
    fx = fx_rates(ents)
    write_json(out / "accounts.json", [{k: a[k] for k in ("account_id", "name", "currency")} for a in accs])
    write_json(
        out / "campaigns.json",
        [
            {
                "campaign_group_id": g["campaign_group_id"],
                "name": g["campaign"].name,
                "utm_campaign": g["campaign"].utm_campaign,
                "start": ms(g["campaign"].start),
                "end": ms(g["campaign"].end) + 86_400_000 - 1,
                "daily_budget_eur": str(g["campaign"].daily_budget_eur),
                "campaigns": [
                    {
                        "campaign_id": c["campaign_id"],
                        "name": c["name"],
                        "account_id": c["account"]["account_id"],
                        "currency": c["account"]["currency"],
                        "daily_budget": money(
                            g["campaign"].daily_budget_eur
                            / len(g["campaigns"])
                            * fx[(g["campaign"].start.isoformat(), c["account"]["currency"])]
                        ),
                    }
                    for c in g["campaigns"]
                ],
            }
            for g in groups
        ],
    )

    by_utm = {g["campaign"].utm_campaign: g for g in groups}
    t = {"rows": 0, "impressions": 0, "clicks": 0, "conversions": 0, "leads": 0, "follows": 0, "spend_eur": Decimal(0)}
    spend = {a["currency"]: Decimal(0) for a in ACCOUNTS}
    value = {a["currency"]: Decimal(0) for a in ACCOUNTS}
    days = campaign_days(
        spec,
        CHANNEL,
        rng,
        {utm: (g["campaign"], g["campaigns"]) for utm, g in by_utm.items()},
        weight=lambda c: c["weight"],
        cost_weight=lambda n, c: n * c["cpc"],
    )
    with JsonlWriter(out / "analytics_daily.jsonl") as w:
        for cd in days:
            g, day = by_utm[cd.utm_campaign], cd.day
            camps, clicks = cd.cells, cd.clicks
            shown = [impressions(rng, n, c["ctr"], 300) for n, c in zip(clicks, camps)]
            live = [k for k, imp in enumerate(shown) if imp]
            follows = (
                split_total(paid_follower_gain(spec, day, cd.utm_campaign), [shown[k] for k in live]) if live else []
            )
            follows_by = dict(zip(live, follows))
            usd = fx[(day.isoformat(), "USD")]
            for k in live:
                c, n, imp = camps[k], clicks[k], shown[k]
                cur = c["account"]["currency"]
                rate = fx[(day.isoformat(), cur)]
                cost = (cd.budget_eur * cd.cost_shares[k] * rate).quantize(CENT, rounding=ROUND_HALF_UP)
                conv = successes(rng, n, c["cvr"])
                leads = successes(rng, n, c["lead_rate"])
                cv = order_value(rng, c["aov"] * rate, conv).quantize(CENT, rounding=ROUND_HALF_UP)
                likes = round(imp * rng.uniform(0.001, 0.004))
                comments = round(imp * rng.uniform(0.0, 0.0006))
                shares = round(imp * rng.uniform(0.0, 0.0004))
                fol = follows_by[k]
                w.write(
                    {
                        "account_id": c["account"]["account_id"],
                        "campaign_group_id": g["campaign_group_id"],
                        "campaign_id": c["campaign_id"],
                        "date": day.isoformat(),
                        "currency": cur,
                        "impressions": imp,
                        "clicks": n,
                        "landingPageClicks": n,
                        "costInLocalCurrency": money(cost),
                        "costInUsd": money(cost / rate * usd),
                        "externalWebsiteConversions": conv,
                        "conversionValueInLocalCurrency": money(cv),
                        "oneClickLeads": leads,
                        "likes": likes,
                        "comments": comments,
                        "shares": shares,
                        "follows": fol,
                        "totalEngagements": n + likes + comments + shares + fol,
                    }
                )
                t["rows"] += 1
                t["impressions"] += imp
                t["clicks"] += n
                t["conversions"] += conv
                t["leads"] += leads
                t["follows"] += fol
                t["spend_eur"] += cost / rate
                spend[cur] += cost
                value[cur] += cv
    return {
        "accounts": [{k: a[k] for k in ("account_id", "name", "currency")} for a in accs],
        "campaign_groups": len(groups),
        "campaigns": sum(len(g["campaigns"]) for g in groups),
        "rows": t["rows"],
        "impressions": t["impressions"],
        "clicks": t["clicks"],
        "external_website_conversions": t["conversions"],
        "one_click_leads": t["leads"],
        "follows": t["follows"],
        "spend_eur": money(t["spend_eur"]),
        "spend_by_currency": {k: money(v) for k, v in sorted(spend.items())},
        "conversion_value_by_currency": {k: money(v) for k, v in sorted(value.items())},
    }
