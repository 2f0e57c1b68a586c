"""Social listening: mentions of the brand and each competitor across news, blogs, forums and
social platforms, as a listening tool (Brandwatch-like, see sampleworld/fakes/listening.py)
collects them.

Per day and query (brand or competitor) a volume with a stable share per competitor, so
share of voice is meaningful; texts are positive, neutral, negative or questions. Authors are
customers (user-generated content), media, the brand itself, the roster's influencers
(sponsored posts during influencer campaigns, carrying the influencer's tracked link: the
funnel's influencer sessions) and employees (advocacy posts with the advocacy link).

Planted: the crisis. Negative brand mentions multiply up to `negative_multiplier_at_peak`
at the peak and return to baseline at the end (linear ramps).

The hidden label `true_sentiment` (and intent) of every mention sits in
`true_sentiment.csv`, never in `mentions.jsonl` (which is what the API serves).
"""

from __future__ import annotations

import csv
import hashlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sampleworld.entities import BRAND, COMPETITORS, Entities, campaigns_on, days, rng_for
from sampleworld.funnel import funnel
from sampleworld.jsonl import JsonlWriter, write_json

DOMAIN = "listening"

# Brand mentions a day at scale 1 (weekday); competitors relative to it (stable shares).
BRAND_DAILY = 450
COMPETITOR_WEIGHT = {"brightwave": 1.35, "solenne": 0.8, "kintsu": 0.45}
# Sentiment mix per query: (positive, neutral, negative, question).
MIX = {
    "lumora": (0.38, 0.32, 0.14, 0.16),
    "brightwave": (0.33, 0.37, 0.16, 0.14),
    "solenne": (0.42, 0.30, 0.12, 0.16),
    "kintsu": (0.28, 0.38, 0.22, 0.12),
}
PLATFORMS = [
    ("x", 0.26),
    ("instagram", 0.18),
    ("facebook", 0.12),
    ("tiktok", 0.12),
    ("reddit", 0.1),
    ("forums", 0.08),
    ("blogs", 0.07),
    ("news", 0.07),
]
SOCIAL = {"x", "instagram", "facebook", "tiktok", "reddit"}
LANGS = [("en", 0.62), ("de", 0.22), ("fr", 0.08), ("es", 0.08)]
PRODUCTS = {
    "lumora": ["Glow Serum", "Night Cream", "Daily SPF 50", "Hydra Mist", "Clay Mask"],
    "brightwave": ["Bright C Serum", "Wave Moisturiser", "Sun Shield"],
    "solenne": ["Solenne Oil", "Velvet Cream", "Calm Toner"],
    "kintsu": ["Kintsu Gold Mask", "Repair Balm", "Kintsu Cleanser"],
}
NEWS_SITES = [
    "beautywire.example",
    "dailyglow.example",
    "retailtimes.example",
    "skinjournal.example",
    "wirtschaftsblatt.example",
]
BLOGS = ["theskinedit.example", "minimalbeauty.example", "glowdiaries.example", "rezension-blog.example"]
FORUMS = ["skincareforum.example", "beautytalk.example", "hautpflege-forum.example"]

TEXTS = {
    "en": {
        "positive": [
            "Obsessed with my {at} {product}, my skin has never felt this good",
            "Third bottle of the {product} from {at}. Worth every cent",
            "Honestly the {product} by {name} is the best thing I bought this year",
            "Shoutout to {at} customer service, fixed my order in minutes",
            "Switched to {name} last month and I'm not going back. The {product} is amazing",
            "Love how light the {product} feels. Thank you {at}!",
        ],
        "neutral": [
            "Trying the {product} from {at} this week, will report back",
            "{name} just dropped a new {product}, anyone seen the price?",
            "Comparing the {product} from {name} with what I use now",
            "Saw a {name} ad for the {product} on the train today",
            "{name} has a pop-up store in town this weekend",
        ],
        "negative": [
            "My {at} order still hasn't shipped after 10 days. Not impressed.",
            "The {product} from {name} broke me out. Really disappointed",
            "Paid full price for the {product} and it arrived leaking. {at} please sort this",
            "Waited 40 minutes on hold with {name} support. Unacceptable",
            "{name} raised prices again and the {product} got smaller. No thanks",
        ],
        "question": [
            "{at} is the {product} safe for sensitive skin?",
            "Does anyone know if {name} ships to {country}?",
            "{at} when is the {product} back in stock?",
            "Can I use the {product} from {name} together with retinol?",
            "{at} how do I return an opened {product}?",
        ],
        "crisis": [
            "Is it true {at} is recalling the {product}? Throwing mine away",
            "Heard about the {name} recall rumour... anyone know more? Worried about the {product}",
            "Not buying {name} again until they explain what's in the {product}. #recall",
            "{at} why no statement about the {product} recall?? Customers deserve answers",
            "My pharmacist pulled {name} {product} from the shelf. What is going on?",
        ],
        "sponsored": [
            "Morning routine with the {product} from {at} #ad Get yours: {link}",
            "Partnered with {at} to try the {product} for two weeks. Results below #sponsored {link}",
            "My honest review of the {name} {product} #ad - code inside {link}",
        ],
        "advocacy": [
            "Proud of what my team at {name} shipped this month: the new {product} {link}",
            "We're hiring at {at}! Come build the future of skincare with us {link}",
            "Behind the scenes of how we test the {product} at {name} {link}",
        ],
        "media": [
            "{name} expands into new markets as demand for the {product} grows",
            "Review: the {product} from {name} tested for four weeks",
            "{name} reports strong quarter, driven by the {product}",
        ],
        "media_crisis": [
            "{name} faces questions over {product} recall reports",
            "Customers demand answers as {name} recall rumour spreads",
        ],
        "brand": [
            "New on the blog: how to layer the {product} {link}",
            "Your questions about the {product}, answered {link}",
        ],
    },
    "de": {
        "positive": [
            "Ich liebe das {product} von {at}, meine Haut war nie besser",
            "Schon die dritte Flasche {product} von {name}. Jeden Cent wert",
            "Super Kundenservice bei {at}, Bestellung in Minuten geklärt",
        ],
        "neutral": [
            "Teste diese Woche das {product} von {at}",
            "{name} hat ein neues {product} rausgebracht, kennt jemand den Preis?",
            "Vergleiche gerade {name} {product} mit meiner jetzigen Creme",
        ],
        "negative": [
            "Meine Bestellung bei {at} ist nach 10 Tagen immer noch nicht da. Enttäuschend.",
            "Das {product} von {name} hat meine Haut gereizt. Sehr enttäuscht",
            "Produkt kam ausgelaufen an, {at} bitte kümmert euch darum",
        ],
        "question": [
            "{at} ist das {product} für empfindliche Haut geeignet?",
            "Liefert {name} auch nach {country}?",
            "{at} wann ist das {product} wieder verfügbar?",
        ],
        "crisis": [
            "Stimmt es, dass {at} das {product} zurückruft? Ich werfe meins weg",
            "{at} warum gibt es keine Stellungnahme zum Rückruf?? #rückruf",
        ],
    },
    "fr": {
        "positive": ["J'adore le {product} de {at}, ma peau n'a jamais été aussi belle"],
        "neutral": ["J'essaie le {product} de {name} cette semaine"],
        "negative": ["Ma commande {at} n'est toujours pas arrivée. Déçue."],
        "question": ["{at} le {product} convient-il aux peaux sensibles ?"],
        "crisis": ["C'est vrai que {at} rappelle le {product} ? #rappel"],
    },
    "es": {
        "positive": ["Me encanta el {product} de {at}, mi piel nunca estuvo mejor"],
        "neutral": ["Probando el {product} de {name} esta semana"],
        "negative": ["Mi pedido de {at} sigue sin llegar después de 10 días."],
        "question": ["{at} ¿el {product} sirve para piel sensible?"],
        "crisis": ["¿Es verdad que {at} retira el {product}? #retirada"],
    },
}
COUNTRY_NAMES = ["Austria", "Switzerland", "the UK", "Canada", "Norway", "Poland"]
_FIRST = [
    "anna",
    "ben",
    "clara",
    "david",
    "emma",
    "felix",
    "greta",
    "hugo",
    "ines",
    "jonas",
    "lea",
    "max",
    "nina",
    "oscar",
    "paula",
    "quinn",
    "rosa",
    "sam",
    "tara",
    "udo",
    "vera",
    "will",
    "yara",
    "zoe",
]
_LAST = ["mueller", "smith", "bauer", "martin", "rossi", "novak", "garcia", "schmidt", "dubois", "berg"]
SENTIMENT_OF = {
    "positive": "positive",
    "neutral": "neutral",
    "negative": "negative",
    "question": "neutral",
    "crisis": "negative",
    "sponsored": "positive",
    "advocacy": "positive",
    "media": "neutral",
    "media_crisis": "negative",
    "brand": "positive",
}


def ts(dt: datetime) -> str:
    """UTC timestamp the way X and most listening tools write it: milliseconds and Z."""
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _weighted(rng, pairs):
    r = rng.random()
    for value, w in pairs:
        r -= w
        if r < 0:
            return value
    return pairs[-1][0]


def customer(k: int) -> dict:
    """Customer number k of the shared pool: a stable handle, name and follower count."""
    first, last = _FIRST[k % len(_FIRST)], _LAST[(k // len(_FIRST)) % len(_LAST)]
    h = int.from_bytes(hashlib.sha256(f"customer:{k}".encode()).digest()[:4], "big")
    followers = int(20 * (1.0025 ** (h % 3000)))  # 20 .. ~36,000, mostly small
    return {
        "id": str(1_402_000_000 + 7919 * k),
        "handle": f"{first}_{last}{k % 997}",
        "name": f"{first.title()} {last.title()}",
        "followers": followers,
    }


def crisis_multiplier(ents: Entities, day: date) -> float:
    """1 outside the crisis, ramping linearly to the peak multiplier and back to 1 at the end."""
    c = ents.crisis
    start, peak, end = (date.fromisoformat(c[k]) for k in ("start", "peak", "end"))
    top = float(c["negative_multiplier_at_peak"])
    if day < start or day > end:
        return 1.0
    if day <= peak:
        span = (peak - start).days
        return top if span == 0 else 1 + (top - 1) * (day - start).days / span
    span = (end - peak).days
    return 1 + (top - 1) * (end - day).days / span if span else 1.0


def mention_text(
    rng, query: str, kind: str, lang: str = "en", product: str | None = None, link: str = "", at_style: str = "@"
) -> str:
    names = {BRAND["handle"]: BRAND["name"], **{c["handle"]: c["name"] for c in COMPETITORS}}
    pool = TEXTS.get(lang, TEXTS["en"]).get(kind) or TEXTS["en"][kind]
    template = pool[rng.randrange(len(pool))]
    product = product or PRODUCTS[query][rng.randrange(len(PRODUCTS[query]))]
    text = template.format(
        at=f"{at_style}{query}" if at_style else names[query],
        name=names[query],
        product=product,
        link=link,
        country=COUNTRY_NAMES[rng.randrange(len(COUNTRY_NAMES))],
    )
    return text.strip()


def queries(spec=None) -> list[dict]:
    """The listening queries: the brand and each competitor (the versioned competitor set v1)."""
    out = [
        {
            "id": "q_" + BRAND["handle"],
            "name": BRAND["name"],
            "entity": BRAND["handle"],
            "type": "brand",
            "boolean": f'"{BRAND["name"]}" OR @{BRAND["handle"]} OR #{BRAND["handle"]}',
        }
    ]
    for c in COMPETITORS:
        out.append(
            {
                "id": "q_" + c["handle"],
                "name": c["name"],
                "entity": c["handle"],
                "type": "competitor",
                "boolean": f'"{c["name"]}" OR @{c["handle"]} OR #{c["handle"]}',
            }
        )
    return out


def _url(platform: str, handle: str, mid: str, rng) -> str:
    if platform == "x":
        return f"https://x.com/{handle}/status/{mid}"
    if platform == "instagram":
        return f"https://www.instagram.com/p/C{mid[-9:]}/"
    if platform == "facebook":
        return f"https://www.facebook.com/{handle}/posts/{mid}"
    if platform == "tiktok":
        return f"https://www.tiktok.com/@{handle}/video/7{mid}"
    if platform == "reddit":
        return f"https://www.reddit.com/r/SkincareAddiction/comments/{int(mid):x}/"
    if platform == "news":
        return f"https://{NEWS_SITES[rng.randrange(len(NEWS_SITES))]}/articles/{mid}"
    if platform == "blogs":
        return f"https://{BLOGS[rng.randrange(len(BLOGS))]}/{mid}"
    return f"https://{FORUMS[rng.randrange(len(FORUMS))]}/thread/{mid}"


def _link(path: str, source: str, medium: str, campaign: str, content: str | None = None) -> str:
    q = f"utm_source={source}&utm_medium={medium}&utm_campaign={campaign}"
    if content:
        q += f"&utm_content={content}"
    return f"https://{BRAND['domain']}{path}?{q}"


def generate(spec, ents: Entities, out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    qs = queries(spec)
    write_json(out / "queries.json", qs)
    n_customers = 20_000 * spec.scale
    # Influencer sessions per (day, handle) from the funnel: the sponsored posts' link clicks.
    inf_sessions: dict[tuple[date, str, str], int] = {}
    for r in funnel(spec):
        if r.channel == "influencer":
            inf_sessions[(r.day, r.utm_content, r.utm_campaign)] = r.sessions
    advocates = [e for e in ents.employees if e["advocate"]]
    by_query = {q["entity"]: {"mentions": 0, "reach": 0, "engagements": 0} for q in qs}
    neg_daily: dict[str, int] = {}
    by_author_type: dict[str, int] = {}
    by_platform: dict[str, int] = {}
    infl = {
        i["handle"]: {
            "influencer_id": i["influencer_id"],
            "posts": 0,
            "sponsored_posts": 0,
            "reach": 0,
            "engagements": 0,
            "sessions": 0,
            "link_clicks": 0,
            "fee_eur": i["fee_eur"],
        }
        for i in ents.influencers
    }
    adv = {"posts": 0, "reach": 0, "engagements": 0, "by_employee": {}}
    seq = 0
    with (
        JsonlWriter(out / "mentions.jsonl") as w,
        open(out / "true_sentiment.csv", "w", newline="", encoding="utf-8") as tf,
    ):
        truth = csv.writer(tf, lineterminator="\n")
        truth.writerow(["id", "query_id", "true_sentiment", "intent", "author_type", "published_date"])
        for day in days(spec):
            rng = rng_for(spec, DOMAIN, day.isoformat())
            weekday = 0.85 if day.weekday() >= 5 else 1.0
            mult = crisis_multiplier(ents, day)
            items = []  # (second_of_day, query, kind, author_type, extra)
            for q in qs:
                ent = q["entity"]
                base = BRAND_DAILY * spec.scale * weekday * (1.0 if q["type"] == "brand" else COMPETITOR_WEIGHT[ent])
                n = max(0, round(base * rng.uniform(0.85, 1.15)))
                pos, neu, neg, que = MIX[ent]
                for _ in range(n):
                    r = rng.random()
                    kind = (
                        "positive"
                        if r < pos
                        else "neutral"
                        if r < pos + neu
                        else "negative"
                        if r < pos + neu + neg
                        else "question"
                    )
                    items.append((rng.randrange(86400), ent, kind, None, None))
                if q["type"] == "brand" and mult > 1:
                    extra = round(base * neg * (mult - 1) * rng.uniform(0.9, 1.1))
                    for _ in range(extra):
                        items.append((rng.randrange(86400), ent, "crisis", None, None))
                    for _ in range(round(mult / 2)):
                        items.append((rng.randrange(86400), ent, "media_crisis", "media", None))
            # Influencers: sponsored posts during their campaigns, now and then an organic mention.
            for camp in campaigns_on(ents, "influencer", day):
                for inf in ents.influencers:
                    if inf["copy"] != camp.copy:
                        continue
                    if (day - camp.start).days % 3 == int(inf["influencer_id"][-1]) % 3:
                        items.append(
                            (rng.randrange(28800, 75600), BRAND["handle"], "sponsored", "influencer", (inf, camp))
                        )
            for inf in ents.influencers:
                if rng.random() < 0.04:
                    items.append((rng.randrange(86400), BRAND["handle"], "positive", "influencer", (inf, None)))
            for emp in advocates:
                if rng.random() < 0.1:
                    items.append((rng.randrange(25200, 72000), BRAND["handle"], "advocacy", "employee", emp))
            if rng.random() < 0.5:
                items.append((rng.randrange(32400, 64800), BRAND["handle"], "brand", "brand", None))
            items.sort(key=lambda t: t[0])
            d0 = day_start(day)
            day_neg = 0
            for second, ent, kind, author_type, extra in items:
                seq += 1
                mid = f"{(day - spec.start).days + 1:04d}{seq:08d}"
                lang = "en"
                link = ""
                if author_type is None:
                    author_type = "media" if rng.random() < 0.05 else "customer"
                if author_type == "influencer":
                    inf, camp = extra
                    platform = inf["platform"]
                    a = {
                        "id": "9" + inf["influencer_id"][3:].rjust(9, "0"),
                        "handle": inf["handle"],
                        "name": inf["handle"].replace("_", " ").title(),
                        "followers": inf["followers"],
                    }
                    if camp is not None:
                        link = _link(
                            "/summer" if "summer" in camp.utm_campaign else "/product",
                            platform,
                            "influencer",
                            camp.utm_campaign,
                            inf["handle"],
                        )
                elif author_type == "employee":
                    emp = extra
                    platform = emp["platform"]
                    a = {
                        "id": "8" + emp["employee_id"][3:].rjust(9, "0"),
                        "handle": emp["handle"],
                        "name": f"{emp['team'].title()} at {BRAND['name']}",
                        "followers": 300 + 40 * int(emp["employee_id"][3:]),
                    }
                    link = _link("/about", "linkedin", "advocacy", "employee_advocacy")
                elif author_type == "brand":
                    platform = ["x", "instagram", "facebook"][rng.randrange(3)]
                    a = {"id": "1500000000", "handle": BRAND["handle"], "name": BRAND["name"], "followers": 48_000}
                    link = f"https://{BRAND['domain']}/blog/how-to"
                elif author_type == "media":
                    platform = "news" if rng.random() < 0.6 else "blogs"
                    site = (NEWS_SITES if platform == "news" else BLOGS)[rng.randrange(4)]
                    a = {
                        "id": "7" + str(int(hashlib.sha256(site.encode()).hexdigest()[:8], 16) % 10**9).rjust(9, "0"),
                        "handle": site,
                        "name": site.split(".")[0].title(),
                        "followers": 50_000 + len(site) * 9_000,
                    }
                    kind = kind if kind in ("media_crisis",) else "media"
                else:
                    platform = _weighted(rng, PLATFORMS)
                    if platform in ("news", "blogs"):
                        platform = "forums"
                    a = customer(rng.randrange(n_customers))
                    lang = _weighted(rng, LANGS)
                if author_type in ("influencer", "employee", "brand", "media") and lang != "en":
                    lang = "en"
                text = mention_text(
                    rng,
                    ent,
                    kind,
                    lang,
                    link=link,
                    at_style="@" if platform in SOCIAL or author_type != "media" else "",
                )
                followers = a["followers"]
                if platform in SOCIAL:
                    reach = max(1, int(followers * rng.uniform(0.05, 0.4)))
                    er = rng.uniform(0.005, 0.06) * (2.0 if author_type == "influencer" else 1.0)
                else:
                    reach = int(followers * rng.uniform(0.01, 0.1)) if author_type == "media" else rng.randint(50, 3000)
                    er = rng.uniform(0.001, 0.01)
                eng_total = int(reach * er)
                likes = int(eng_total * 0.8)
                comments = int(eng_total * 0.12)
                shares = eng_total - likes - comments
                if kind == "crisis":
                    shares = int(shares * 3 + comments)
                rec = {
                    "id": mid,
                    "query_id": "q_" + ent,
                    "text": text,
                    "author": {
                        "id": a["id"],
                        "handle": a["handle"],
                        "name": a["name"],
                        "followers": followers,
                        "author_type": author_type,
                    },
                    "platform": platform,
                    "url": _url(platform, a["handle"], mid, rng),
                    "reach": reach,
                    "engagement": {"likes": likes, "comments": comments, "shares": shares},
                    "language": lang,
                    "published_at": ts(d0 + timedelta(seconds=second, milliseconds=rng.randrange(1000))),
                }
                if link:
                    rec["links"] = [link]
                w.write(rec)
                sentiment = SENTIMENT_OF[kind]
                intent = (
                    "question"
                    if kind == "question"
                    else kind
                    if kind in ("sponsored", "advocacy", "crisis")
                    else "statement"
                )
                truth.writerow([mid, rec["query_id"], sentiment, intent, author_type, day.isoformat()])
                t = by_query[ent]
                t["mentions"] += 1
                t["reach"] += reach
                t["engagements"] += likes + comments + shares
                by_author_type[author_type] = by_author_type.get(author_type, 0) + 1
                by_platform[platform] = by_platform.get(platform, 0) + 1
                if ent == BRAND["handle"] and sentiment == "negative":
                    day_neg += 1
                if author_type == "influencer":
                    ti = infl[a["handle"]]
                    ti["posts"] += 1
                    ti["reach"] += reach
                    ti["engagements"] += likes + comments + shares
                    if extra[1] is not None:
                        ti["sponsored_posts"] += 1
                elif author_type == "employee":
                    adv["posts"] += 1
                    adv["reach"] += reach
                    adv["engagements"] += likes + comments + shares
                    adv["by_employee"][a["handle"]] = adv["by_employee"].get(a["handle"], 0) + 1
            neg_daily[day.isoformat()] = day_neg
    for (_day, handle, _utm), s in inf_sessions.items():
        if handle in infl:
            infl[handle]["sessions"] += s
            infl[handle]["link_clicks"] += round(s / 0.9)
    total = sum(t["mentions"] for t in by_query.values())
    brand = by_query[BRAND["handle"]]
    total_eng = sum(t["engagements"] for t in by_query.values())
    return {
        "mentions": total,
        "per_query": by_query,
        "share_of_voice": round(brand["mentions"] / total, 6) if total else None,
        "share_of_voice_by_engagement": round(brand["engagements"] / total_eng, 6) if total_eng else None,
        "by_author_type": dict(sorted(by_author_type.items())),
        "by_platform": dict(sorted(by_platform.items())),
        "negative_brand_mentions_daily": neg_daily,
        "influencers": infl,
        "employee_advocacy": {**adv, "by_employee": dict(sorted(adv["by_employee"].items()))},
        "note": "influencer sessions come from the funnel (utm_medium=influencer, utm_content=handle); "
        "link_clicks = round(sessions / 0.9)",
    }
