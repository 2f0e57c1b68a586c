"""Meta Ads: ad accounts (EUR and USD), campaigns -> ad sets -> ads, and daily ad insights
whose clicks are the funnel's paid-social sessions and whose spend is the campaign budget.

Campaign c001 (Always On) carries the planted A/B test: its ads are creative A (image) and
B (video), with known conversion rates per click.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from sampleworld.entities import Entities, rng_for
from sampleworld.jsonl import JsonlWriter, write_json
from sampleworld.paid import (
    CENT,
    channel_campaigns,
    click_days,
    day_budget_eur,
    fx_rates,
    impressions,
    money,
    order_value,
    successes,
)

DOMAIN = "meta_ads"
CHANNEL = "meta_paid"
PURCHASE = "offsite_conversion.fb_pixel_purchase"
LEAD = "lead"

ACCOUNTS = [
    {"account_id": "1010000001", "name": "Lumora EU", "currency": "EUR", "timezone_name": "Europe/Berlin"},
    {"account_id": "1010000002", "name": "Lumora US", "currency": "USD", "timezone_name": "America/Los_Angeles"},
]


def _action(action_type: str, total, fmt=str) -> dict:
    """An actions/action_values item. `value` is the default attribution (7d_click + 1d_view);
    `7d_view`/`28d_view` are not returned since 12 Jan 2026."""
    view = type(total)(int(total) // 10)
    click7 = total - view
    click1 = type(total)(int(click7) * 8 // 10)
    return {
        "action_type": action_type,
        "value": fmt(total),
        "1d_click": fmt(click1),
        "7d_click": fmt(click7),
        "28d_click": fmt(click7),
        "1d_view": fmt(view),
    }


def structure(spec, ents: Entities) -> list[dict]:
    """Accounts with their campaigns, ad sets and ads (each ad with its performance traits)."""
    rng = rng_for(spec, DOMAIN, "structure")
    accounts = []
    for _a_idx, base in enumerate(ACCOUNTS):
        for copy in range(spec.scale):
            acc = dict(base)
            if copy:
                acc["account_id"] = str(int(base["account_id"]) + 1000 * copy)
                acc["name"] = f"{base['name']} {copy + 1}"
            acc["campaigns"] = []
            accounts.append(acc)
    for i, camp in enumerate(channel_campaigns(ents, CHANNEL)):
        acc = accounts[i % len(accounts)]
        cid = f"2385{int(acc['account_id']) % 100000:05d}{i:04d}0"
        adsets = []
        for s_idx in range(2):
            sid = f"{cid[:-1]}{s_idx + 1}"
            ads = []
            for d_idx in range(2):
                ad = {
                    "ad_id": f"{sid}{d_idx:02d}",
                    "weight": rng.uniform(0.5, 1.5),
                    "ctr": rng.uniform(0.008, 0.022),
                    "cvr": rng.uniform(0.01, 0.04),
                    "aov": Decimal(rng.randint(4000, 12000)) / 100,
                    "lead_rate": rng.uniform(0.02, 0.08),
                }
                if camp.key == ents.ab_test["campaign_key"] and s_idx == 0:
                    variant = ents.ab_test["control"] if d_idx == 0 else ents.ab_test["treatment"]
                    ad.update(
                        variant=variant,
                        weight=1.0,
                        cvr=ents.ab_test["control_cvr"] if d_idx == 0 else ents.ab_test["treatment_cvr"],
                    )
                ads.append(ad)
            adsets.append({"adset_id": sid, "ads": ads})
        acc["campaigns"].append({"campaign": camp, "campaign_id": cid, "adsets": adsets})
    return accounts


def generate(spec, ents: Entities, out: Path) -> dict:
    rng = rng_for(spec, DOMAIN, "insights")
    accounts = structure(spec, ents)
    fx = fx_rates(ents)
    write_json(
        out / "accounts.json",
        [{k: a[k] for k in ("account_id", "name", "currency", "timezone_name")} for a in accounts],
    )
    write_json(
        out / "structure.json",
        [
            {
                "account_id": a["account_id"],
                "campaign_id": c["campaign_id"],
                "campaign_name": c["campaign"].name,
                "utm_campaign": c["campaign"].utm_campaign,
                "adsets": [
                    {
                        "adset_id": s["adset_id"],
                        "ads": [
                            {"ad_id": ad["ad_id"], **({"variant": ad["variant"]} if "variant" in ad else {})}
                            for ad in s["ads"]
                        ],
                    }
                    for s in c["adsets"]
                ],
            }
            for a in accounts
            for c in a["campaigns"]
        ],
    )

    by_camp = {c["campaign"].utm_campaign: (a, c) for a in accounts for c in a["campaigns"]}
    totals = {"rows": 0, "impressions": 0, "clicks": 0, "purchases": 0, "spend_eur": Decimal(0)}
    spend = {a["currency"]: Decimal(0) for a in ACCOUNTS}
    value = {a["currency"]: Decimal(0) for a in ACCOUNTS}
    ab = {
        v: {"clicks": 0, "purchases": 0, "impressions": 0} for v in (ents.ab_test["control"], ents.ab_test["treatment"])
    }
    with JsonlWriter(out / "insights.jsonl") as w:
        for day, utm, clicks_total in click_days(spec, CHANNEL):
            acc, c = by_camp[utm]
            camp = c["campaign"]
            ads = [ad for s in c["adsets"] for ad in s["ads"]]
            total_w = sum(ad["weight"] for ad in ads)
            budget_eur = day_budget_eur(rng, camp)
            rate = fx[(day.isoformat(), acc["currency"])]
            for s in c["adsets"]:
                for ad in s["ads"]:
                    share = ad["weight"] / total_w
                    clicks = round(clicks_total * share)
                    shown = impressions(rng, clicks, ad["ctr"], 50)
                    if shown == 0:
                        continue
                    ad_spend = (budget_eur * Decimal(repr(share)) * rate).quantize(CENT, rounding=ROUND_HALF_UP)
                    purchases = successes(rng, clicks, ad["cvr"])
                    leads = successes(rng, clicks, ad["lead_rate"]) if camp.objective == "leads" else 0
                    pv = order_value(rng, ad["aov"], purchases).quantize(CENT)
                    row = {
                        "account_id": acc["account_id"],
                        "account_currency": acc["currency"],
                        "campaign_id": c["campaign_id"],
                        "campaign_name": camp.name,
                        "adset_id": s["adset_id"],
                        "ad_id": ad["ad_id"],
                        "date_start": day.isoformat(),
                        "date_stop": day.isoformat(),
                        "spend": money(ad_spend),
                        "impressions": str(shown),
                        "clicks": str(clicks),
                    }
                    actions = []
                    if clicks:
                        actions.append(_action("link_click", clicks))
                    if leads:
                        actions.append(_action(LEAD, leads))
                    if purchases:
                        actions.append(_action(PURCHASE, purchases))
                    if actions:  # Meta leaves out empty arrays
                        row["actions"] = actions
                    if purchases:
                        row["action_values"] = [_action(PURCHASE, pv, fmt=money)]
                    w.write(row)
                    totals["rows"] += 1
                    totals["impressions"] += shown
                    totals["clicks"] += clicks
                    totals["purchases"] += purchases
                    totals["spend_eur"] += ad_spend / rate
                    spend[acc["currency"]] += ad_spend
                    value[acc["currency"]] += pv
                    if "variant" in ad:
                        for k, v in (("clicks", clicks), ("purchases", purchases), ("impressions", shown)):
                            ab[ad["variant"]][k] += v
    return {
        "accounts": [{k: a[k] for k in ("account_id", "name", "currency", "timezone_name")} for a in accounts],
        "insight_rows": totals["rows"],
        "impressions": totals["impressions"],
        "clicks": totals["clicks"],
        "purchases": totals["purchases"],
        "spend_eur": money(totals["spend_eur"]),
        "spend_by_currency": {k: money(v) for k, v in sorted(spend.items())},
        "purchase_value_by_currency": {k: money(v) for k, v in sorted(value.items())},
        "ab_test": ab,
    }
