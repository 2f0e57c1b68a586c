"""GA4: one web property (Europe/Berlin, EUR) whose sessions are the funnel's.

Each funnel row (day, channel, campaign, content) is split over landing pages, session by
session: every session draws a landing page, the row's engaged sessions, leads and first
purchases are drawn among its sessions, and its revenue is split over its purchases to the
cent. So per channel the GA4 totals equal the funnel exactly:

- `sessions`            = funnel sessions (tagged + untagged)
- `engagedSessions`     = funnel engaged sessions
- `keyEvents`           = funnel leads (`sign_up`) + funnel first purchases (`purchase`)
- `ecommercePurchases`  = funnel first purchases (so leads = keyEvents - ecommercePurchases)
- `totalRevenue`        = funnel revenue (EUR, the property currency)

Campaign labels are GA4's: traffic without a `utm_campaign` gets a label in parentheses that
names its kind, `(organic)` for organic search, `(direct)` for direct and `(referral)` for
referrals; `(not set)` is left for what GA4 cannot label (here: tagged links without a
`utm_campaign`, such as the newsletter's and some organic social posts').

The funnel's untagged organic social sessions arrive without UTMs: GA4 sees the referrer
(`m.facebook.com / referral`, `t.co / referral`, ...) with campaign `(referral)`. Influencer
sessions come from each creator's own platform (the roster): `instagram / influencer` or
`youtube / influencer` when tagged, `l.instagram.com / referral` or `youtube.com / referral`
when not. Each channel (and each creator platform) has its own referrer host, so
`channel_of(source, medium)` maps every GA4 row back to its channel. That is the world's
simplification: on the web, an untagged click on the brand's own Instagram post and one on a
creator's can arrive from the same host; here the brand's own arrive as `instagram.com` and
`m.youtube.com`, the creators' as `l.instagram.com` and `youtube.com`.

Files: `properties.json`, `report_rows.jsonl` (one row per property, date, sessionSource,
sessionMedium, sessionCampaignName, landingPage, sessionManualAdContent; metrics as numbers,
revenue as a decimal string).
"""

from __future__ import annotations

import bisect
from decimal import Decimal
from pathlib import Path

from sampleworld.entities import BRAND, CHANNEL_BY_KEY, INFLUENCER_PLATFORMS, LANDING_PAGES, Entities, rng_for
from sampleworld.funnel import funnel
from sampleworld.jsonl import JsonlWriter, write_json

DOMAIN = "ga4"
PROPERTY = {
    "property_id": "412345678",
    "display_name": "Lumora Web",
    "time_zone": BRAND["timezone"],
    "currency_code": BRAND["reporting_currency"],
}
DIMENSIONS = ("date", "sessionSource", "sessionMedium", "sessionCampaignName", "landingPage", "sessionManualAdContent")
METRICS = ("sessions", "engagedSessions", "keyEvents", "ecommercePurchases", "totalRevenue")
NOT_SET = "(not set)"
# GA4's sessionCampaignName for sessions without a campaign: the kind of traffic.
ORGANIC, DIRECT, REFERRAL = "(organic)", "(direct)", "(referral)"
_NO_CAMPAIGN_LABEL = {"organic_search": ORGANIC, "direct": DIRECT}

# Where an untagged organic social session says it came from (one host per channel, and per
# platform for the creators).
REFERRAL_SOURCE = {
    "facebook_organic": "m.facebook.com",
    "instagram_organic": "instagram.com",
    "x_organic": "t.co",
    "linkedin_organic": "lnkd.in",
    "youtube_organic": "m.youtube.com",
    "employee": "linkedin.com",
}
INFLUENCER_REFERRAL_SOURCE = {"instagram": "l.instagram.com", "youtube": "youtube.com"}
_CHANNEL_BY_SOURCE_MEDIUM = {
    **{(c.source, c.medium): k for k, c in CHANNEL_BY_KEY.items() if c.source},
    **{(p, CHANNEL_BY_KEY["influencer"].medium): "influencer" for p in INFLUENCER_PLATFORMS},
    **{(host, "referral"): k for k, host in REFERRAL_SOURCE.items()},
    **{(host, "referral"): "influencer" for host in INFLUENCER_REFERRAL_SOURCE.values()},
}

# Landing page preferences: a base weight per page, some channels and campaigns lean on pages.
_BASE_PAGE_WEIGHT = {
    "/": 6,
    "/pricing": 2,
    "/product": 3,
    "/product/serum": 2,
    "/product/cream": 2,
    "/blog/how-to": 2,
    "/blog/sustainability": 1,
    "/summer": 0.3,
    "/signup": 1,
    "/about": 0.7,
}
_CHANNEL_PAGE_BOOST = {
    "google_cpc": {"/pricing": 3, "/product": 2},
    "organic_search": {"/blog/how-to": 3, "/blog/sustainability": 2},
    "email": {"/product/serum": 2, "/product/cream": 2},
    "linkedin_paid": {"/about": 4, "/signup": 2},
    "employee": {"/about": 5},
}
_CAMPAIGN_PAGE_BOOST = {
    "summer_launch": {"/summer": 25},
    "lead_magnet": {"/signup": 12},
    "holiday": {"/product": 4, "/product/cream": 4},
    "retargeting": {"/pricing": 5},
}


def channel_of(source: str, medium: str) -> str | None:
    """The funnel channel a GA4 (sessionSource, sessionMedium) belongs to."""
    return _CHANNEL_BY_SOURCE_MEDIUM.get((source, medium))


def referral_source(channel: str, utm_source: str) -> str:
    """The referrer host of an untagged session of this channel (creators: of their platform)."""
    return INFLUENCER_REFERRAL_SOURCE[utm_source] if channel == "influencer" else REFERRAL_SOURCE[channel]


def campaign_name(row, untagged: bool) -> str:
    """GA4's sessionCampaignName for a session of this funnel row: its utm_campaign when it has
    one, else the label of its kind of traffic (`(referral)` for an untagged one)."""
    if untagged:
        return REFERRAL
    if row.utm_campaign == NOT_SET:
        return _NO_CAMPAIGN_LABEL.get(row.channel, NOT_SET)
    return row.utm_campaign


def _cum_weights(channel: str, utm_campaign: str) -> list[float]:
    w = dict(_BASE_PAGE_WEIGHT)
    for page, f in _CHANNEL_PAGE_BOOST.get(channel, {}).items():
        w[page] *= f
    for slug, boost in _CAMPAIGN_PAGE_BOOST.items():
        if utm_campaign.startswith(slug):
            for page, f in boost.items():
                w[page] *= f
    out, acc = [], 0.0
    for page in LANDING_PAGES:
        acc += w[page]
        out.append(acc)
    return out


def split_cents(total: Decimal, weights: list[float]) -> list[Decimal]:
    """Split an amount over weights to the cent: the parts add up to `total` exactly."""
    cents = int((total * 100).to_integral_value())
    if not weights:
        return []
    s = sum(weights)
    raw = [cents * w / s for w in weights]
    parts = [int(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - parts[i]), i))
    for i in order[: cents - sum(parts)]:
        parts[i] += 1
    return [Decimal(p) / 100 for p in parts]


def _money(x: Decimal) -> str:
    """How GA4 writes a currency value: no trailing zeros, "0" for nothing."""
    s = f"{x:.2f}".rstrip("0").rstrip(".")
    return s or "0"


def generate(spec, ents: Entities, out: Path) -> dict:
    rng = rng_for(spec, DOMAIN, "split")
    write_json(out / "properties.json", [PROPERTY])
    pages = LANDING_PAGES
    n_pages = len(pages)
    totals = {
        "rows": 0,
        "sessions": 0,
        "engagedSessions": 0,
        "keyEvents": 0,
        "ecommercePurchases": 0,
        "totalRevenue": Decimal(0),
    }
    per_channel: dict[str, dict] = {}
    cum_cache: dict[tuple[str, str], list[float]] = {}
    day_rows: dict[tuple, list] = {}  # one day's rows by their dimensions (GA4 merges equal keys)
    current_day = None

    def flush(w: JsonlWriter) -> None:
        for dims, (sessions, engaged, key_events, purchases, revenue) in day_rows.items():
            w.write(
                {
                    "property_id": PROPERTY["property_id"],
                    **dict(zip(DIMENSIONS, dims)),
                    "sessions": sessions,
                    "engagedSessions": engaged,
                    "keyEvents": key_events,
                    "ecommercePurchases": purchases,
                    "totalRevenue": _money(revenue),
                }
            )
            totals["rows"] += 1
        day_rows.clear()

    with JsonlWriter(out / "report_rows.jsonl") as w:
        for r in funnel(spec):
            if r.day != current_day:
                flush(w)
                current_day = r.day
            n = r.sessions
            key = (r.channel, r.utm_campaign)
            cum = cum_cache.get(key) or cum_cache.setdefault(key, _cum_weights(*key))
            total_w = cum[-1]
            # session i -> cell: untagged sessions first (cells n_pages..), then tagged (0..)
            cell = [bisect.bisect_right(cum, rng.random() * total_w) for _ in range(n)]
            cell = [min(c, n_pages - 1) + (n_pages if i < r.sessions_untagged else 0) for i, c in enumerate(cell)]
            m = [[0, 0, 0, 0] for _ in range(2 * n_pages)]  # sessions, engaged, leads, purchases
            for c in cell:
                m[c][0] += 1
            for idx, count in ((1, r.engaged_sessions), (2, r.leads), (3, r.new_customers)):
                for i in rng.sample(range(n), count):
                    m[cell[i]][idx] += 1
            amounts = split_cents(r.revenue_eur, [rng.uniform(35, 160) for _ in range(r.new_customers)])
            date = r.day.strftime("%Y%m%d")
            tagged_dims = (r.utm_source, r.utm_medium, campaign_name(r, False))
            untagged_dims = (
                (referral_source(r.channel, r.utm_source), "referral", REFERRAL) if r.sessions_untagged else None
            )
            t = per_channel.setdefault(
                r.channel,
                {
                    "sessions": 0,
                    "engagedSessions": 0,
                    "keyEvents": 0,
                    "ecommercePurchases": 0,
                    "totalRevenue": Decimal(0),
                },
            )
            k = 0
            for c, (sessions, engaged, leads, purchases) in enumerate(m):
                if not sessions:
                    continue
                untagged = c >= n_pages
                revenue = sum(amounts[k : k + purchases], Decimal(0))
                k += purchases
                dims = (
                    date,
                    *(untagged_dims if untagged else tagged_dims),
                    pages[c % n_pages],
                    NOT_SET if (untagged or not r.utm_content) else r.utm_content,
                )
                acc = day_rows.get(dims)
                if acc is None:
                    acc = day_rows[dims] = [0, 0, 0, 0, Decimal(0)]
                for i, v in enumerate((sessions, engaged, leads + purchases, purchases, revenue)):
                    acc[i] += v
                for name, v in (
                    ("sessions", sessions),
                    ("engagedSessions", engaged),
                    ("keyEvents", leads + purchases),
                    ("ecommercePurchases", purchases),
                ):
                    t[name] += v
                    totals[name] += v
                t["totalRevenue"] += revenue
                totals["totalRevenue"] += revenue
        flush(w)
    return {
        "property": PROPERTY,
        "rows": totals["rows"],
        "totals": {**totals, "totalRevenue": f"{totals['totalRevenue']:.2f}"},
        "totals_per_channel": {
            k: {**v, "totalRevenue": f"{v['totalRevenue']:.2f}"} for k, v in sorted(per_channel.items())
        },
        "key_events": "keyEvents = leads (sign_up) + first purchases (purchase)",
    }
