"""HubSpot CRM: a contact for every funnel lead, a closed-won deal for every funnel first
purchase (amount = its revenue in EUR), repeat purchases in later months, and the
contact <-> deal associations.

How the funnel maps to the CRM:
- Each funnel lead is a contact created that day (06:00-22:00 Berlin, so the day is the same
  in UTC), attributed to the funnel row: `hs_analytics_source` from the channel, the
  drill-downs `hs_analytics_source_data_1/_2`, and the portal's custom `utm_*` properties
  (absent for the row's untagged sessions, for organic search and for direct traffic).
  Social visits (`SOCIAL_MEDIA`, `PAID_SOCIAL`) name the network in drill-down 1 as HubSpot
  does (`Instagram`, `YouTube`, ...; an influencer's contact names the creator's own
  platform) and the `utm_campaign` in drill-down 2, or the referring host when the visit
  was untagged (`l.instagram.com`, `youtube.com`, ...).
- Each funnel first purchase is bought by an open lead of the same channel, campaign, content
  and tagging from the last 60 days (possibly that same day), or, when there is none, by a
  contact created at checkout that day (a "direct buyer"; so contacts >= leads). The deal
  carries the row's revenue split over its purchases to the cent, so first-purchase revenue
  per channel equals the funnel's exactly.
- Some customers buy again 25-120 days later (repeat deals, `dealtype` existingbusiness),
  while the world lasts.
- Lifecycle: lead -> marketingqualifiedlead -> salesqualifiedlead -> opportunity -> customer,
  each with its `hs_lifecyclestage_<stage>_date`; non-buyers stop somewhere along the way.
- Ties: a workflow touches many contacts (and a pipeline migration many deals) at one exact
  millisecond, so windowed searches on `lastmodifieddate` / `hs_lastmodifieddate` must
  handle a timestamp shared by more records than a page holds.

Files: `contacts.jsonl` and `deals.jsonl` hold records in the API's shape (`id`,
`properties` with string values, `createdAt`, `updatedAt`, `archived`), in id order;
`deal_contacts.jsonl` the associations.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from sampleworld.entities import BRAND, CHANNEL_BY_KEY, LANDING_PAGES, Entities, days, rng_for
from sampleworld.funnel import funnel
from sampleworld.gen.ga4 import referral_source, split_cents
from sampleworld.jsonl import JsonlWriter

DOMAIN = "hubspot"
PORTAL_ID = "24681357"
FIRST_CONTACT_ID = 51
FIRST_DEAL_ID = 901
STAGES = ("lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer")
BUY_WINDOW_DAYS = 60
REPEAT_SHARE = 0.3
TIE_REACH_MS = 30 * 86400 * 1000  # the workflow / migration touches records of the 30 days before it
BERLIN = ZoneInfo(BRAND["timezone"])
EMAIL_DOMAINS = ["example.com", "example.net", "example.org", "mail.example"]
FIRST_NAMES = [
    "Anna",
    "Ben",
    "Clara",
    "David",
    "Emma",
    "Felix",
    "Greta",
    "Hannah",
    "Jonas",
    "Lena",
    "Lukas",
    "Mia",
    "Noah",
    "Paul",
    "Sophie",
    "Tom",
    "Julia",
    "Leon",
    "Marie",
    "Finn",
]
LAST_NAMES = [
    "Muller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Hoffmann",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Neumann",
    "Braun",
    "Zimmermann",
    "Kruger",
    "Hartmann",
]
_NETWORK = {
    "facebook": "Facebook",
    "instagram": "Instagram",
    "x": "Twitter",
    "linkedin": "LinkedIn",
    "youtube": "YouTube",
}
_KEYWORDS = ["lumora serum", "vitamin c serum", "lumora cream", "natural skincare", "lumora"]


def iso_ms(ms: int) -> str:
    """HubSpot's timestamps: UTC with milliseconds and a Z."""
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _local_ms(day: date, seconds: float) -> int:
    """Epoch ms of `seconds` after local midnight in Berlin on `day`."""
    base = datetime.combine(day, time(0), tzinfo=BERLIN)
    return int(base.timestamp() * 1000) + int(seconds * 1000)


def _day_time(rng: random.Random, day: date, after_ms: int | None = None) -> int:
    """A moment between 06:00 and 22:00 Berlin on `day` (after `after_ms` when given)."""
    lo, hi = _local_ms(day, 6 * 3600), _local_ms(day, 22 * 3600)
    if after_ms is not None:
        lo = max(lo, after_ms + 60_000)
        hi = max(hi, lo + 60_000)
    return rng.randint(lo, hi)


def _money(x: Decimal) -> str:
    s = f"{x:.2f}".rstrip("0").rstrip(".")
    return s or "0"


def _attribution(rng: random.Random, row, untagged: bool) -> dict[str, str]:
    ch = CHANNEL_BY_KEY[row.channel]
    camp = row.utm_campaign if row.utm_campaign != "(not set)" else None
    props: dict[str, str | None] = {"hs_analytics_source": ch.hubspot_source}
    src = ch.hubspot_source
    if src == "PAID_SOCIAL":
        props.update(hs_analytics_source_data_1=_NETWORK[row.utm_source], hs_analytics_source_data_2=camp)
    elif src == "PAID_SEARCH":
        props.update(hs_analytics_source_data_1=camp, hs_analytics_source_data_2=rng.choice(_KEYWORDS))
    elif src == "SOCIAL_MEDIA":  # the network the visit came from (a creator's own), then the campaign
        props.update(
            hs_analytics_source_data_1=_NETWORK[row.utm_source],
            hs_analytics_source_data_2=referral_source(row.channel, row.utm_source) if untagged else camp,
        )
    elif src == "ORGANIC_SEARCH":
        props.update(hs_analytics_source_data_1="google", hs_analytics_source_data_2="Unknown keywords (SSL)")
    elif src == "EMAIL_MARKETING":
        props.update(hs_analytics_source_data_1=ch.source, hs_analytics_source_data_2=ch.medium)
    elif src == "DIRECT_TRAFFIC":
        props.update(hs_analytics_source_data_1=f"https://www.{BRAND['domain']}{rng.choice(LANDING_PAGES)}")
    props["hs_latest_source"] = ch.hubspot_source
    tagged = not untagged and row.channel not in ("organic_search", "direct")
    if tagged:
        props.update(
            utm_source=row.utm_source, utm_medium=row.utm_medium, utm_campaign=camp, utm_content=row.utm_content
        )
    return {k: v for k, v in props.items() if v is not None}


def _record(obj_id: int, props: dict[str, str], created: int, updated: int) -> dict:
    return {
        "id": str(obj_id),
        "properties": dict(sorted(props.items())),
        "createdAt": iso_ms(created),
        "updatedAt": iso_ms(updated),
        "archived": False,
    }


def _plan(spec, rows):
    """Decide who buys: {(row index, slot): [(day, amount, dealtype), ...]}, the number of
    checkout-created contacts per row, untagged leads per row, tagging of checkout contacts."""
    rng = rng_for(spec, DOMAIN, "plan")
    purchases: dict[tuple[int, int], list] = {}
    direct = defaultdict(int)
    pools: dict[tuple, list[tuple[date, int, int]]] = defaultdict(list)
    untagged_leads: dict[int, int] = {}
    direct_untagged: dict[tuple[int, int], bool] = {}
    for ri, r in enumerate(rows):
        n, u = r.sessions, r.sessions_untagged
        lu = sum(1 for i in rng.sample(range(n), r.leads) if i < u)
        cu = sorted(rng.sample(range(n), r.new_customers))
        untagged_leads[ri] = lu
        for j in range(r.leads):
            pools[(r.channel, r.utm_campaign, r.utm_content, j < lu)].append((r.day, ri, j))
        amounts = split_cents(r.revenue_eur, [rng.uniform(35, 160) for _ in range(r.new_customers)])
        for i, amount in zip(cu, amounts):
            key = (r.channel, r.utm_campaign, r.utm_content, i < u)
            pool = pools[key]
            cutoff = r.day - timedelta(days=BUY_WINDOW_DAYS)
            if pool and pool[0][0] < cutoff:
                pool[:] = [p for p in pool if p[0] >= cutoff]
            if pool:
                k = rng.randrange(len(pool))
                pool[k], pool[-1] = pool[-1], pool[k]
                _, lri, lj = pool.pop()
                slot = (lri, lj)
            else:
                slot = (ri, r.leads + direct[ri])
                direct[ri] += 1
                direct_untagged[slot] = i < u
            buys = [(r.day, amount, "newbusiness")]
            if rng.random() < REPEAT_SHARE:
                d = r.day
                while True:
                    d = d + timedelta(days=rng.randint(25, 120))
                    if d > spec.end:
                        break
                    buys.append((d, Decimal(rng.randint(2500, 14000)) / 100, "existingbusiness"))
                    if rng.random() < 0.55:
                        break
            purchases[slot] = buys
    return purchases, direct, untagged_leads, direct_untagged


def generate(spec, ents: Entities, out: Path) -> dict:
    rows = list(funnel(spec))
    purchases, direct, untagged_leads, direct_untagged = _plan(spec, rows)
    as_of_ms = _local_ms(ents.as_of, 0)
    total_days = (spec.end - spec.start).days + 1
    # One workflow run touches many contacts at the same millisecond; one pipeline migration many deals.
    tie_contacts_ms = _local_ms(spec.start + timedelta(days=int(total_days * 0.7)), 5 * 3600)
    tie_deals_ms = _local_ms(spec.start + timedelta(days=int(total_days * 0.8)), 4 * 3600) + 250
    rows_by_day: dict[date, list[int]] = defaultdict(list)
    for ri, r in enumerate(rows):
        rows_by_day[r.day].append(ri)

    deals: list[tuple] = []  # (createdate ms, closedate ms, amount, dealtype, contact id, attribution, channel)
    next_contact = FIRST_CONTACT_ID
    contacts_by_channel: dict[str, int] = defaultdict(int)
    customers_by_channel: dict[str, int] = defaultdict(int)
    stage_counts: dict[str, int] = defaultdict(int)
    direct_buyers = 0
    tie_contacts = 0
    out.mkdir(parents=True, exist_ok=True)
    with JsonlWriter(out / "contacts.jsonl") as cw:
        for day in days(spec):
            drng = rng_for(spec, DOMAIN, "contacts", day.isoformat())
            batch = []
            for ri in rows_by_day.get(day, []):
                r = rows[ri]
                for j in range(r.leads + direct[ri]):
                    is_direct = j >= r.leads
                    untagged = direct_untagged[(ri, j)] if is_direct else j < untagged_leads[ri]
                    buys = purchases.get((ri, j))
                    if is_direct:  # created at checkout, minutes before the purchase
                        close = _day_time(drng, day)
                        created = close - drng.randint(120_000, 1_200_000)
                    else:
                        created = _day_time(drng, day)
                        close = None
                    batch.append((created, ri, j, is_direct, bool(untagged), buys, close))
            batch.sort(key=lambda b: (b[0], b[1], b[2]))
            for created, ri, _j, is_direct, untagged, buys, close in batch:
                r = rows[ri]
                cid = next_contact
                next_contact += 1
                first = drng.choice(FIRST_NAMES)
                last = drng.choice(LAST_NAMES)
                props = {
                    "email": f"{first}.{last}.{cid}@{drng.choice(EMAIL_DOMAINS)}".lower(),
                    "firstname": first,
                    "lastname": last,
                    "hs_object_id": str(cid),
                    "createdate": iso_ms(created),
                }
                props.update(_attribution(drng, r, untagged))
                stage_dates: list[tuple[str, int]] = [("lead", created)]
                events = [created]
                if buys:
                    closes = []
                    for k, (bday, amount, dealtype) in enumerate(buys):
                        if k == 0:
                            c = (
                                close
                                if close is not None
                                else _day_time(drng, bday, after_ms=created if bday == day else None)
                            )
                        else:
                            c = _day_time(drng, bday)
                        closes.append(c)
                        deals.append(
                            (
                                max(created, c - drng.randint(60_000, 1_800_000)),
                                c,
                                amount,
                                dealtype,
                                cid,
                                r.channel,
                                {k2: v for k2, v in props.items() if k2.startswith("hs_analytics_source")},
                            )
                        )
                    first_close = closes[0]
                    fr = sorted(drng.random() for _ in range(3))
                    span = first_close - created
                    for stage, f in zip(STAGES[1:4], fr):
                        stage_dates.append((stage, created + int(span * f)))
                    stage_dates.append(("customer", first_close))
                    events += closes
                    customers_by_channel[r.channel] += 1
                    direct_buyers += is_direct
                else:
                    t = created
                    for stage, p, lo, hi in (
                        ("marketingqualifiedlead", 0.45, 3600, 10 * 86400),
                        ("salesqualifiedlead", 0.4, 86400, 14 * 86400),
                        ("opportunity", 0.3, 2 * 86400, 20 * 86400),
                    ):
                        if drng.random() >= p:
                            break
                        t += drng.randint(lo, hi) * 1000
                        if t >= as_of_ms:
                            break
                        stage_dates.append((stage, t))
                    events.append(stage_dates[-1][1])
                for stage, ms in stage_dates:
                    props[f"hs_lifecyclestage_{stage}_date"] = iso_ms(ms)
                props["lifecyclestage"] = stage_dates[-1][0]
                stage_counts[stage_dates[-1][0]] += 1
                props["num_associated_deals"] = str(len(buys or []))
                modified = min(as_of_ms - 1, max(events) + drng.randint(1_000, 600_000))
                if (
                    tie_contacts_ms - TIE_REACH_MS < created < tie_contacts_ms
                    and modified < tie_contacts_ms
                    and drng.random() < 0.35
                ):
                    modified = tie_contacts_ms
                    props["hs_marketable_status"] = "true"
                    tie_contacts += 1
                props["lastmodifieddate"] = iso_ms(modified)
                contacts_by_channel[r.channel] += 1
                cw.write(_record(cid, props, created, modified))

    deals.sort(key=lambda d: (d[0], d[4]))
    revenue_first: dict[str, Decimal] = defaultdict(Decimal)
    revenue_repeat: dict[str, Decimal] = defaultdict(Decimal)
    deals_per_contact: dict[int, int] = defaultdict(int)
    tie_deals = 0
    drng = rng_for(spec, DOMAIN, "deals")
    with JsonlWriter(out / "deals.jsonl") as dw, JsonlWriter(out / "deal_contacts.jsonl") as aw:
        for n, (created, close, amount, dealtype, cid, channel, attribution) in enumerate(deals):
            did = FIRST_DEAL_ID + n
            modified = min(as_of_ms - 1, close + drng.randint(1_000, 3_600_000))
            tied = (
                tie_deals_ms - TIE_REACH_MS < close < tie_deals_ms and modified < tie_deals_ms and drng.random() < 0.3
            )
            if tied:
                modified = tie_deals_ms
                tie_deals += 1
            props = {
                "amount": _money(amount),
                "closedate": iso_ms(close),
                "createdate": iso_ms(created),
                "dealname": f"Order {100000 + n}",
                "dealstage": "closedwon",
                "pipeline": "default",
                "hs_lastmodifieddate": iso_ms(modified),
                "hs_object_id": str(did),
                "deal_currency_code": "EUR",
                "dealtype": dealtype,
                "hs_is_closed_won": "true",
                "hs_date_entered_closedwon": iso_ms(close),
                **attribution,
            }
            dw.write(_record(did, props, created, modified))
            aw.write({"deal_id": str(did), "contact_id": str(cid)})
            (revenue_first if dealtype == "newbusiness" else revenue_repeat)[channel] += amount
            deals_per_contact[cid] += 1
    repeat_hist: dict[str, int] = defaultdict(int)
    for k in deals_per_contact.values():
        repeat_hist[str(k - 1)] += 1
    n_contacts = next_contact - FIRST_CONTACT_ID
    return {
        "portal_id": PORTAL_ID,
        "contacts": n_contacts,
        "leads": sum(r.leads for r in rows),
        "direct_buyers": direct_buyers,
        "customers": len(deals_per_contact),
        "deals": len(deals),
        "first_deals": sum(1 for d in deals if d[3] == "newbusiness"),
        "repeat_deals": sum(1 for d in deals if d[3] == "existingbusiness"),
        "customers_by_repeat_deals": dict(sorted(repeat_hist.items(), key=lambda kv: int(kv[0]))),
        "contacts_by_channel": dict(sorted(contacts_by_channel.items())),
        "customers_by_channel": dict(sorted(customers_by_channel.items())),
        "lifecyclestage_counts": dict(sorted(stage_counts.items())),
        "revenue_by_channel": {k: f"{v:.2f}" for k, v in sorted(revenue_first.items())},
        "repeat_revenue_by_channel": {k: f"{v:.2f}" for k, v in sorted(revenue_repeat.items())},
        "revenue_eur": f"{sum(revenue_first.values(), Decimal(0)):.2f}",
        "repeat_revenue_eur": f"{sum(revenue_repeat.values(), Decimal(0)):.2f}",
        "ties": {
            "contacts": {"lastmodifieddate": iso_ms(tie_contacts_ms), "count": tie_contacts},
            "deals": {"hs_lastmodifieddate": iso_ms(tie_deals_ms), "count": tie_deals},
        },
    }
