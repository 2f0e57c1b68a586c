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
from sampleworld.funnel import CLICK_TO_SESSION, funnel
from sampleworld.jsonl import JsonlWriter, write_json
from sampleworld.numbers import split_total

DOMAIN = "google_ads"
CHANNEL = "google_cpc"
CENT = Decimal("0.01")
MICROS = Decimal(1_000_000)

MANAGER_ID = "4180000001"
CUSTOMERS = [
    {"customer_id": "4180000011", "descriptive_name": "Lumora DE", "currency_code": "EUR", "time_zone": "Europe/Berlin"},
    {"customer_id": "4180000022", "descriptive_name": "Lumora UK", "currency_code": "GBP", "time_zone": "Europe/London"},
]
# Share of clicks, relative click-through rate and relative cost per click by device.
DEVICES = [("MOBILE", 0.58, 1.0, 0.9), ("DESKTOP", 0.36, 1.25, 1.2), ("TABLET", 0.06, 0.8, 0.85)]
AD_GROUP_THEMES = ["Brand", "Serum", "Night Cream", "Vitamin C", "Sensitive Skin", "Gift Sets", "Competitor",
                   "Sustainability", "Refills", "Men", "Samples", "Bundles"]
MATCH_TYPES = ["Exact", "Phrase", "Broad"]


def money(x: Decimal) -> str:
    return str(x.quantize(CENT, rounding=ROUND_HALF_UP))


def customers(spec) -> list[dict]:
    out = []
    for copy in range(spec.scale):
        for base in CUSTOMERS:
            c = dict(base)
            if copy:
                c["customer_id"] = str(int(base["customer_id"]) + 1000 * copy)
                c["descriptive_name"] = f"{base['descriptive_name']} {copy + 1}"
            out.append(c)
    return out


def structure(spec, ents: Entities) -> list[dict]:
    """Campaigns (one per entity campaign on google_cpc) with their ad groups and traits."""
    rng = rng_for(spec, DOMAIN, "structure")
    custs = customers(spec)
    out = []
    for i, camp in enumerate(c for c in ents.campaigns if CHANNEL in c.channels):
        cust = custs[i % len(custs)]
        campaign_id = str(21_000_000_000 + 1_000 * (i + 1))
        n_groups = rng.randint(9, 13)
        themes = rng.sample(AD_GROUP_THEMES, min(n_groups, len(AD_GROUP_THEMES)))
        groups = []
        for g in range(n_groups):
            groups.append({"ad_group_id": str(150_000_000_000 + 1_000 * (i + 1) + g + 1),
                           "name": f"{themes[g % len(themes)]} - {MATCH_TYPES[g % len(MATCH_TYPES)]}",
                           "weight": rng.uniform(0.3, 1.7), "ctr": rng.uniform(0.03, 0.09),
                           "cpc": rng.uniform(0.7, 1.4), "cvr": rng.uniform(0.02, 0.07),
                           "aov": Decimal(rng.randint(4500, 13000)) / 100})
        out.append({"campaign": camp, "customer": cust, "campaign_id": campaign_id, "ad_groups": groups})
    return out


def generate(spec, ents: Entities, out: Path) -> dict:
    rng = rng_for(spec, DOMAIN, "metrics")
    camps = structure(spec, ents)
    custs = customers(spec)
    fx = {(r["date"], r["currency"]): Decimal(r["rate"]) for r in ents.fx_rates}
    write_json(out / "customers.json", {"manager_id": MANAGER_ID, "manager_name": "Lumora Manager",
                                        "customers": custs})
    write_json(out / "campaigns.json", [
        {"customer_id": c["customer"]["customer_id"], "campaign_id": c["campaign_id"], "name": c["campaign"].name,
         "utm_campaign": c["campaign"].utm_campaign, "advertising_channel_type": "SEARCH",
         "start_date": c["campaign"].start.isoformat(), "end_date": c["campaign"].end.isoformat(),
         "daily_budget_eur": str(c["campaign"].daily_budget_eur),
         "ad_groups": [{"ad_group_id": g["ad_group_id"], "name": g["name"]} for g in c["ad_groups"]]}
        for c in camps])

    sessions = {(r.day, r.utm_campaign): r.sessions for r in funnel(spec) if r.channel == CHANNEL}
    by_utm = {c["campaign"].utm_campaign: c for c in camps}
    t = {"rows": 0, "impressions": 0, "clicks": 0, "conversions": Decimal(0), "spend_eur": Decimal(0)}
    cost_micros = {c["currency_code"]: 0 for c in CUSTOMERS}
    value = {c["currency_code"]: Decimal(0) for c in CUSTOMERS}
    with JsonlWriter(out / "ad_group_daily.jsonl") as w:
        for (day, utm), n_sessions in sorted(sessions.items()):
            c = by_utm[utm]
            cust = c["customer"]
            cur = cust["currency_code"]
            rate = fx[(day.isoformat(), cur)]
            clicks_total = int((Decimal(n_sessions) / CLICK_TO_SESSION).to_integral_value(ROUND_HALF_UP))
            budget = c["campaign"].daily_budget_eur * Decimal(repr(rng.uniform(0.9, 1.1))) * rate
            cells = [(g, dev, ctr_f, cpc_f) for g in c["ad_groups"] for dev, _, ctr_f, cpc_f in DEVICES]
            weights = [g["weight"] * share * rng.uniform(0.8, 1.2)
                       for g in c["ad_groups"] for _, share, _, _ in DEVICES]
            clicks = split_total(clicks_total, weights)
            cost_w = [n * g["cpc"] * cpc_f for n, (g, _, _, cpc_f) in zip(clicks, cells)]
            cost_sum = sum(cost_w)
            for n, cw, (g, dev, ctr_f, _) in zip(clicks, cost_w, cells):
                impressions = max(n, round(n / (g["ctr"] * ctr_f))) if n else rng.randint(0, 40)
                if impressions == 0:
                    continue
                micros = int((budget * Decimal(repr(cw / cost_sum)) * MICROS).to_integral_value(ROUND_HALF_UP)) \
                    if cost_sum else 0
                buyers = sum(1 for _ in range(n) if rng.random() < g["cvr"])
                # Data-driven attribution hands out fractions of conversions.
                conversions = round(buyers * rng.uniform(0.85, 1.15), 2) if buyers else 0.0
                conv_value = float(sum((g["aov"] * Decimal(rng.randint(70, 130)) / 100 for _ in range(buyers)),
                                       Decimal(0)).quantize(CENT))
                w.write({"customer_id": cust["customer_id"], "campaign_id": c["campaign_id"],
                         "ad_group_id": g["ad_group_id"], "date": day.isoformat(), "device": dev,
                         "cost_micros": micros, "impressions": impressions, "clicks": n,
                         "conversions": conversions, "conversions_value": conv_value})
                t["rows"] += 1
                t["impressions"] += impressions
                t["clicks"] += n
                t["conversions"] += Decimal(repr(conversions))
                t["spend_eur"] += Decimal(micros) / MICROS / rate
                cost_micros[cur] += micros
                value[cur] += Decimal(repr(conv_value))
    return {
        "manager_id": MANAGER_ID,
        "customers": custs,
        "campaigns": len(camps), "ad_groups": sum(len(c["ad_groups"]) for c in camps),
        "rows": t["rows"], "impressions": t["impressions"], "clicks": t["clicks"],
        "conversions": str(t["conversions"]), "spend_eur": money(t["spend_eur"]),
        "cost_micros_by_currency": dict(sorted(cost_micros.items())),
        "spend_by_currency": {k: money(Decimal(v) / MICROS) for k, v in sorted(cost_micros.items())},
        "conversions_value_by_currency": {k: money(v) for k, v in sorted(value.items())},
    }
