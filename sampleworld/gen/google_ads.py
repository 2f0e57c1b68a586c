"""Google Ads: a manager (MCC) account over customer accounts in EUR and GBP, a Search campaign
for every entity campaign that runs on `google_cpc`, several ad groups each, and daily ad group
metrics by device whose clicks are the funnel's paid-search sessions / CLICK_TO_SESSION and whose
cost is the campaign's EUR budget converted to the account currency.

Files (under the domain folder):
- customers.json       manager id and the customer accounts (currency, time zone)
- campaigns.json       campaigns with their ad groups and the `utm_campaign` they carry
- ad_group_daily.jsonl one row per customer, campaign, ad group, day and device with
                       cost_micros, impressions, clicks, conversions and conversions_value
                       (final values; the fake restates the recent days)
Rows exist only where the ad group had impressions, as the API returns them.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from sampleworld.entities import Entities, rng_for
from sampleworld.jsonl import JsonlWriter, write_json
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

DOMAIN = "google_ads"
CHANNEL = "google_cpc"
MICROS = Decimal(1_000_000)

MANAGER_ID = "4180000001"
CUSTOMERS = [
    {
        "customer_id": "4180000011",
        "descriptive_name": "Lumora DE",
        "currency_code": "EUR",
        "time_zone": "Europe/Berlin",
    },
    {
        "customer_id": "4180000022",
        "descriptive_name": "Lumora UK",
        "currency_code": "GBP",
        "time_zone": "Europe/London",
    },
]
# Share of clicks, relative click-through rate and relative cost per click by device.
DEVICES = [("MOBILE", 0.58, 1.0, 0.9), ("DESKTOP", 0.36, 1.25, 1.2), ("TABLET", 0.06, 0.8, 0.85)]
AD_GROUP_THEMES = [
    "Brand",
    "Serum",
    "Night Cream",
    "Vitamin C",
    "Sensitive Skin",
    "Gift Sets",
    "Competitor",
    "Sustainability",
    "Refills",
    "Men",
    "Samples",
    "Bundles",
]
MATCH_TYPES = ["Exact", "Phrase", "Broad"]


def customers(spec) -> list[dict]:
    return account_copies(CUSTOMERS, spec.scale, "customer_id", "descriptive_name")


def structure(spec, ents: Entities) -> list[dict]:
    """Campaigns (one per entity campaign on google_cpc) with their ad groups and traits."""
    rng = rng_for(spec, DOMAIN, "structure")
    custs = customers(spec)
    out = []
    for i, camp in enumerate(channel_campaigns(ents, CHANNEL)):
        cust = custs[i % len(custs)]
        campaign_id = str(21_000_000_000 + 1_000 * (i + 1))
        n_groups = rng.randint(9, 13)
        themes = rng.sample(AD_GROUP_THEMES, min(n_groups, len(AD_GROUP_THEMES)))
        groups = []
        for g in range(n_groups):
            groups.append(
                {
                    "ad_group_id": str(150_000_000_000 + 1_000 * (i + 1) + g + 1),
                    "name": f"{themes[g % len(themes)]} - {MATCH_TYPES[g % len(MATCH_TYPES)]}",
                    "weight": rng.uniform(0.3, 1.7),
                    "ctr": rng.uniform(0.03, 0.09),
                    "cpc": rng.uniform(0.7, 1.4),
                    "cvr": rng.uniform(0.02, 0.07),
                    "aov": Decimal(rng.randint(4500, 13000)) / 100,
                }
            )
        out.append({"campaign": camp, "customer": cust, "campaign_id": campaign_id, "ad_groups": groups})
    return out


def _cells(c: dict) -> list[tuple]:
    """A campaign's cells: (ad group, device, share of clicks, relative CTR, relative CPC)."""
    return [(g, *device) for g in c["ad_groups"] for device in DEVICES]


def generate(spec, ents: Entities, out: Path) -> dict:
    rng = rng_for(spec, DOMAIN, "metrics")
    camps = structure(spec, ents)
    custs = customers(spec)
    fx = fx_rates(ents)
    write_json(out / "customers.json", {"manager_id": MANAGER_ID, "manager_name": "Lumora Manager", "customers": custs})
    write_json(
        out / "campaigns.json",
        [
            {
                "customer_id": c["customer"]["customer_id"],
                "campaign_id": c["campaign_id"],
                "name": c["campaign"].name,
                "utm_campaign": c["campaign"].utm_campaign,
                "advertising_channel_type": "SEARCH",
                "start_date": c["campaign"].start.isoformat(),
                "end_date": c["campaign"].end.isoformat(),
                "daily_budget_eur": str(c["campaign"].daily_budget_eur),
                "ad_groups": [{"ad_group_id": g["ad_group_id"], "name": g["name"]} for g in c["ad_groups"]],
            }
            for c in camps
        ],
    )

    by_utm = {c["campaign"].utm_campaign: c for c in camps}
    t = {"rows": 0, "impressions": 0, "clicks": 0, "conversions": Decimal(0), "spend_eur": Decimal(0)}
    cost_micros = {c["currency_code"]: 0 for c in CUSTOMERS}
    value = {c["currency_code"]: Decimal(0) for c in CUSTOMERS}
    days = campaign_days(
        spec,
        CHANNEL,
        rng,
        {utm: (c["campaign"], _cells(c)) for utm, c in by_utm.items()},
        weight=lambda cell: cell[0]["weight"] * cell[2],
        cost_weight=lambda n, cell: n * cell[0]["cpc"] * cell[4],
    )
    with JsonlWriter(out / "ad_group_daily.jsonl") as w:
        for cd in days:
            c = by_utm[cd.utm_campaign]
            cust = c["customer"]
            cur = cust["currency_code"]
            rate = fx[(cd.day.isoformat(), cur)]
            budget = cd.budget_eur * rate
            for (g, dev, _, ctr_f, _), n, share in zip(cd.cells, cd.clicks, cd.cost_shares):
                shown = impressions(rng, n, g["ctr"] * ctr_f, 40)
                if shown == 0:
                    continue
                micros = int((budget * share * MICROS).to_integral_value(ROUND_HALF_UP))
                buyers = successes(rng, n, g["cvr"])
                # Data-driven attribution hands out fractions of conversions.
                conversions = round(buyers * rng.uniform(0.85, 1.15), 2) if buyers else 0.0
                conv_value = float(order_value(rng, g["aov"], buyers).quantize(CENT))
                w.write(
                    {
                        "customer_id": cust["customer_id"],
                        "campaign_id": c["campaign_id"],
                        "ad_group_id": g["ad_group_id"],
                        "date": cd.day.isoformat(),
                        "device": dev,
                        "cost_micros": micros,
                        "impressions": shown,
                        "clicks": n,
                        "conversions": conversions,
                        "conversions_value": conv_value,
                    }
                )
                t["rows"] += 1
                t["impressions"] += shown
                t["clicks"] += n
                t["conversions"] += Decimal(repr(conversions))
                t["spend_eur"] += Decimal(micros) / MICROS / rate
                cost_micros[cur] += micros
                value[cur] += Decimal(repr(conv_value))
    return {
        "manager_id": MANAGER_ID,
        "customers": custs,
        "campaigns": len(camps),
        "ad_groups": sum(len(c["ad_groups"]) for c in camps),
        "rows": t["rows"],
        "impressions": t["impressions"],
        "clicks": t["clicks"],
        "conversions": str(t["conversions"]),
        "spend_eur": money(t["spend_eur"]),
        "cost_micros_by_currency": dict(sorted(cost_micros.items())),
        "spend_by_currency": {k: money(Decimal(v) / MICROS) for k, v in sorted(cost_micros.items())},
        "conversions_value_by_currency": {k: money(v) for k, v in sorted(value.items())},
    }
