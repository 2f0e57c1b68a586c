"""X (Twitter): the brand's account(s), their posts and replies with metrics, and the public
conversation about the brand and its competitors.

- `accounts.json`: the brand account(s) (scale multiplies them), X user objects.
- `followers_daily.jsonl`: followers per account per day (end of day).
- `posts.jsonl`: the accounts' own posts (`kind: post`, texts with hashtags and topics, link
  posts carrying `utm_source=x&utm_medium=social&utm_campaign=...`) and the brand's replies
  to customers (`kind: reply`). `public_metrics`, `non_public_metrics` and `organic_metrics`
  are the values as of `as_of` (they grow after posting: a post 12 hours old has not
  collected all of its lifetime engagement yet).
  Link posts: each day's funnel rows of channel `x_organic` get one link post with
  `url_link_clicks = round(sessions / 0.9)`; the "(not set)" row's post carries an
  untagged link (no UTMs: the UTM hygiene case).
- `mentions.jsonl`: posts by others about the brand or a competitor (customers' posts and
  replies to the brand's posts), newest last. `_meta` holds what the API never shows
  (which entity, the true sentiment).
- `mention_counts_daily.jsonl`: the number of mentions per entity and day (what
  `/2/tweets/counts/recent` sums).

Ids are snowflakes built from the timestamp, so they increase with time as X's do. Fields
starting with `_` are the simulator's; the fake strips them.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta
from pathlib import Path

from sampleworld.entities import BRAND, TOPICS, Entities, days, rng_for
from sampleworld.funnel import funnel
from sampleworld.gen.listening import PRODUCTS, crisis_multiplier, customer, day_start, mention_text, ts
from sampleworld.jsonl import JsonlWriter, write_json

DOMAIN = "x"
TWEPOCH_MS = 1288834974657
ACCOUNT_BASE_ID = 1_500_000_000_000_000_001
# Mentions a day at scale 1 (weekday) per entity.
MENTIONS_DAILY = {"lumora": 30, "brightwave": 42, "solenne": 22, "kintsu": 12}
MIX = {
    "lumora": (0.36, 0.3, 0.16, 0.18),
    "brightwave": (0.33, 0.37, 0.16, 0.14),
    "solenne": (0.42, 0.3, 0.12, 0.16),
    "kintsu": (0.28, 0.38, 0.22, 0.12),
}
LINK_CLICK_TO_SESSION = 0.9
HASHTAGS = {
    "product": "#skincare",
    "sustainability": "#sustainablebeauty",
    "behind_the_scenes": "#bts",
    "how_to": "#skincaretips",
    "promotion": "#sale",
    "community": "#lumoracommunity",
    "hiring": "#hiring",
}
POST_TEXTS = {
    "product": [
        "Meet the {product}: light, fast and made for every skin type.",
        "The {product} is back. Your skin will thank you.",
        "Why our {product} works: three ingredients, zero fillers.",
    ],
    "sustainability": [
        "Every {product} bottle is now 100% recycled glass.",
        "We cut our packaging waste by 40% this year. Here is how.",
    ],
    "behind_the_scenes": [
        "A day in our lab: testing the {product} batch by batch.",
        "Meet the team that formulates the {product}.",
    ],
    "how_to": ["How to layer the {product} in three steps.", "Morning or evening? When to use the {product}."],
    "promotion": ["This week only: 20% off the {product}.", "Free shipping on every {product} order until Sunday."],
    "community": ["You asked, we listened: your favourite {product} routines.", "Tag us in your {product} shelfie!"],
    "hiring": [
        "We're hiring! Join the team behind the {product}.",
        "Open roles in marketing and product. Come build with us.",
    ],
}
REPLY_TEXTS = {
    "negative": [
        "Hi {name}, we're sorry to hear that. Could you DM us your order number so we can sort it out? ^{sig}",
        "That's not the experience we want for you, {name}. Please send us a DM and we'll make it right. ^{sig}",
    ],
    "question": [
        "Hi {name}! Great question. Yes, the {product} is dermatologist tested for sensitive skin. ^{sig}",
        "Hi {name}, thanks for asking! We'll DM you the details. ^{sig}",
    ],
    "crisis": [
        "Hi {name}, there is no recall of the {product}. Our statement: https://{domain}/statement ^{sig}",
        "We understand the concern, {name}. The {product} is safe; details here: https://{domain}/statement ^{sig}",
    ],
}
PATHS = ["/", "/product", "/product/serum", "/product/cream", "/summer", "/blog/how-to", "/pricing"]


def snowflake(dt: datetime, worker: int, seq: int) -> str:
    ms = int(dt.timestamp() * 1000)
    return str(((ms - TWEPOCH_MS) << 22) | ((worker & 0x3FF) << 12) | (seq & 0xFFF))


def accounts(spec) -> list[dict]:
    out = []
    for copy in range(spec.scale):
        handle = BRAND["handle"] if copy == 0 else f"{BRAND['handle']}_{copy + 1}"
        out.append(
            {
                "id": str(ACCOUNT_BASE_ID + copy),
                "username": handle,
                "name": BRAND["name"] if copy == 0 else f"{BRAND['name']} {copy + 1}",
                "created_at": "2014-03-11T09:21:37.000Z",
                "verified": True,
                "_followers_start": 12_000 + 3_500 * copy,
            }
        )
    return out


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def growth(age_hours: float) -> float:
    """Share of its lifetime engagement a post has collected `age_hours` after posting."""
    return 1.0 if age_hours >= 96 else 1.0 - math.exp(-max(0.0, age_hours) / 8.0)


def tco(rng) -> str:
    alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "https://t.co/" + "".join(alphabet[rng.randrange(len(alphabet))] for _ in range(10))


def _metrics(rng, impressions: int, clicks: int, er: float, age_hours: float) -> tuple[dict, dict, dict]:
    g = growth(age_hours)
    life = {
        "impression_count": impressions,
        "like_count": int(impressions * er * 0.62),
        "retweet_count": int(impressions * er * 0.08),
        "reply_count": int(impressions * er * 0.05),
        "quote_count": int(impressions * er * 0.015),
        "bookmark_count": int(impressions * er * 0.04),
        "url_link_clicks": clicks,
        "user_profile_clicks": int(impressions * rng.uniform(0.001, 0.006)),
    }
    now = {k: int(round(v * g)) for k, v in life.items()}
    public = {
        k: now[k]
        for k in ("retweet_count", "reply_count", "like_count", "quote_count", "bookmark_count", "impression_count")
    }
    non_public = {k: now[k] for k in ("impression_count", "url_link_clicks", "user_profile_clicks")}
    organic = {
        k: now[k]
        for k in (
            "impression_count",
            "like_count",
            "reply_count",
            "retweet_count",
            "url_link_clicks",
            "user_profile_clicks",
        )
    }
    return public, non_public, organic


def generate(spec, ents: Entities, out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    accs = accounts(spec)
    as_of_dt = day_start(ents.as_of)
    sessions_by_day: dict[date, list[tuple[str, int]]] = {}
    for r in funnel(spec):
        if r.channel == "x_organic":
            sessions_by_day.setdefault(r.day, []).append((r.utm_campaign, r.sessions))
    totals = {
        "posts": 0,
        "replies": 0,
        "link_posts": 0,
        "impressions": 0,
        "likes": 0,
        "url_link_clicks": 0,
        "mentions": 0,
        "brand_mentions_replied": 0,
    }
    clicks_by_campaign: dict[str, int] = {}
    mention_counts: dict[str, int] = {}
    response_minutes: list[float] = []
    followers = {a["id"]: a["_followers_start"] for a in accs}
    seq = 0
    recent_posts: list[tuple[str, str]] = []  # (post id, account id) of the last days, for customer replies
    with (
        JsonlWriter(out / "posts.jsonl") as pw,
        JsonlWriter(out / "mentions.jsonl") as mw,
        JsonlWriter(out / "mention_counts_daily.jsonl") as cw,
        JsonlWriter(out / "followers_daily.jsonl") as fw,
    ):
        for day in days(spec):
            rng = rng_for(spec, DOMAIN, day.isoformat())
            d0 = day_start(day)
            weekday = 0.8 if day.weekday() >= 5 else 1.0
            mult = crisis_multiplier(ents, day)
            # 1. the accounts' own posts: one link post per funnel row, plus a few others per account.
            plans = []  # (account, second, topic, content_type, link, clicks, utm)
            rows = sessions_by_day.get(day, [])
            for i, (utm, sess) in enumerate(rows):
                acc = accs[i % len(accs)]
                clicks = round(sess / LINK_CLICK_TO_SESSION)
                path = PATHS[rng.randrange(len(PATHS))]
                if utm == "(not set)":
                    link = f"https://{BRAND['domain']}{path}"
                else:
                    link = f"https://{BRAND['domain']}{path}?utm_source=x&utm_medium=social&utm_campaign={utm}"
                topic = "promotion" if utm != "(not set)" else TOPICS[rng.randrange(len(TOPICS))]
                plans.append((acc, rng.randrange(25200, 72000), topic, "link", link, clicks, utm))
            for acc in accs:
                for _ in range(rng.randint(1, 3)):
                    ctype = ["text", "image", "video"][rng.randrange(3)]
                    plans.append(
                        (acc, rng.randrange(25200, 72000), TOPICS[rng.randrange(len(TOPICS))], ctype, None, 0, None)
                    )
            plans.sort(key=lambda p: (p[1], p[0]["id"]))
            for acc, second, topic, ctype, link, clicks, utm in plans:
                seq += 1
                created = d0 + timedelta(seconds=second, milliseconds=rng.randrange(1000))
                pid = snowflake(created, 1, seq)
                product = PRODUCTS["lumora"][rng.randrange(len(PRODUCTS["lumora"]))]
                pool = POST_TEXTS[topic]
                tags = [HASHTAGS[topic], "#" + BRAND["handle"]]
                if utm and utm != "(not set)":
                    tags.append("#" + utm.rsplit("_", 1)[0].replace("_", ""))
                text = pool[rng.randrange(len(pool))].format(product=product) + " " + " ".join(tags)
                entities = None
                if link:
                    short = tco(rng)
                    start = len(text) + 1
                    text = f"{text} {short}"
                    entities = {
                        "urls": [
                            {
                                "start": start,
                                "end": start + len(short),
                                "url": short,
                                "expanded_url": link,
                                "display_url": link.split("://", 1)[1][:26] + "…",
                            }
                        ]
                    }
                tags_found = [
                    {"start": m.start(), "end": m.end(), "tag": m.group(1)} for m in re.finditer(r"#(\w+)", text)
                ]
                entities = {**(entities or {}), "hashtags": tags_found}
                if link:
                    impressions = (
                        max(clicks * 20, int(clicks / rng.uniform(0.006, 0.02))) if clicks else rng.randint(300, 900)
                    )
                else:
                    impressions = int(rng.uniform(600, 4000) * (1.6 if ctype == "video" else 1.0))
                age_h = (as_of_dt - created).total_seconds() / 3600
                public, non_public, organic = _metrics(rng, impressions, clicks, rng.uniform(0.01, 0.05), age_h)
                rec = {
                    "id": pid,
                    "text": text,
                    "created_at": ts(created),
                    "author_id": acc["id"],
                    "conversation_id": pid,
                    "lang": "en",
                    "edit_history_tweet_ids": [pid],
                    "public_metrics": public,
                    "non_public_metrics": non_public,
                    "organic_metrics": organic,
                }
                rec["entities"] = entities
                if ctype in ("image", "video"):
                    rec["attachments"] = {"media_keys": [("3_" if ctype == "image" else "7_") + pid]}
                rec["_meta"] = {
                    "kind": "post",
                    "topic": topic,
                    "content_type": ctype,
                    "utm_campaign": utm,
                    "link": link,
                }
                pw.write(rec)
                recent_posts.append((pid, acc["id"]))
                totals["posts"] += 1
                totals["link_posts"] += 1 if link else 0
                totals["impressions"] += public["impression_count"]
                totals["likes"] += public["like_count"]
                totals["url_link_clicks"] += non_public["url_link_clicks"]
                if utm:
                    clicks_by_campaign[utm] = clicks_by_campaign.get(utm, 0) + non_public["url_link_clicks"]
            recent_posts = recent_posts[-30:]
            # 2. mentions of the brand and the competitors; the brand replies to some.
            items = []
            for ent, base in MENTIONS_DAILY.items():
                n = round(base * spec.scale * weekday * rng.uniform(0.8, 1.2))
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
                    items.append((rng.randrange(86400), ent, kind))
                if ent == BRAND["handle"] and mult > 1:
                    for _ in range(round(base * spec.scale * neg * (mult - 1))):
                        items.append((rng.randrange(86400), ent, "crisis"))
            items.sort()
            replies = []
            for second, ent, kind in items:
                seq += 1
                created = d0 + timedelta(seconds=second, milliseconds=rng.randrange(1000))
                mid = snowflake(created, 2, seq)
                author = customer(rng.randrange(8_000 * spec.scale))
                lang = "en" if rng.random() < 0.8 else "de"
                text = mention_text(rng, ent, kind, lang)
                rec = {
                    "id": mid,
                    "text": text,
                    "created_at": ts(created),
                    "author_id": author["id"],
                    "conversation_id": mid,
                    "lang": lang,
                    "edit_history_tweet_ids": [mid],
                }
                in_reply_to = None
                if ent == BRAND["handle"] and recent_posts and rng.random() < 0.25:
                    post_id, acc_id = recent_posts[rng.randrange(len(recent_posts))]
                    if int(post_id) < int(mid):
                        rec["text"] = "@" + BRAND["handle"] + " " + text
                        rec["conversation_id"] = post_id
                        rec["in_reply_to_user_id"] = acc_id
                        rec["referenced_tweets"] = [{"type": "replied_to", "id": post_id}]
                        in_reply_to = post_id
                likes = int(author["followers"] * rng.uniform(0, 0.01))
                rec["public_metrics"] = {
                    "retweet_count": likes // 10,
                    "reply_count": likes // 20,
                    "like_count": likes,
                    "quote_count": likes // 50,
                    "bookmark_count": likes // 30,
                    "impression_count": int(author["followers"] * rng.uniform(0.05, 0.3)) + likes,
                }
                sentiment = (
                    "negative" if kind in ("negative", "crisis") else "positive" if kind == "positive" else "neutral"
                )
                rec["_meta"] = {
                    "kind": "mention",
                    "about": ent,
                    "sentiment": sentiment,
                    "intent": kind,
                    "author": {
                        "id": author["id"],
                        "username": author["handle"],
                        "name": author["name"],
                        "followers_count": author["followers"],
                    },
                    "in_reply_to_post": in_reply_to,
                }
                mw.write(rec)
                totals["mentions"] += 1
                mention_counts[ent] = mention_counts.get(ent, 0) + 1
                if ent == BRAND["handle"] and kind in ("negative", "question", "crisis") and rng.random() < 0.65:
                    delay = rng.lognormvariate(math.log(45 * (2.5 if kind == "crisis" else 1.0)), 0.9)
                    if created.weekday() >= 5 or not (7 <= created.hour < 19):
                        delay += rng.uniform(60, 600)  # out of office hours
                    replies.append((created + timedelta(minutes=delay), rec, author, kind))
            # daily counts (from the same records)
            counts_today: dict[str, int] = {}
            for _, ent, _ in items:
                counts_today[ent] = counts_today.get(ent, 0) + 1
            for ent in MENTIONS_DAILY:
                cw.write({"date": day.isoformat(), "entity": ent, "mentions": counts_today.get(ent, 0)})
            # 3. the brand's replies (posted in time order, only those before as_of).
            replies.sort(key=lambda r: (r[0], r[1]["id"]))
            for when, m, author, kind in replies:
                if when >= as_of_dt:
                    continue
                seq += 1
                acc = (
                    accs[0]
                    if m.get("in_reply_to_user_id") is None
                    else next(a for a in accs if a["id"] == m["in_reply_to_user_id"])
                )
                rid = snowflake(when, 3, seq)
                product = PRODUCTS["lumora"][rng.randrange(len(PRODUCTS["lumora"]))]
                pool = REPLY_TEXTS["crisis" if kind == "crisis" else "question" if kind == "question" else "negative"]
                body = pool[rng.randrange(len(pool))].format(
                    name=author["name"].split()[0], product=product, sig="LM", domain=BRAND["domain"]
                )
                age_h = (as_of_dt - when).total_seconds() / 3600
                public, non_public, organic = _metrics(rng, rng.randint(40, 400), 0, rng.uniform(0.0, 0.03), age_h)
                rec = {
                    "id": rid,
                    "text": f"@{author['handle']} {body}",
                    "created_at": ts(when),
                    "author_id": acc["id"],
                    "conversation_id": m["conversation_id"],
                    "in_reply_to_user_id": m["author_id"],
                    "referenced_tweets": [{"type": "replied_to", "id": m["id"]}],
                    "lang": "en",
                    "edit_history_tweet_ids": [rid],
                    "public_metrics": public,
                    "non_public_metrics": non_public,
                    "organic_metrics": organic,
                    "_meta": {
                        "kind": "reply",
                        "in_reply_to_mention": m["id"],
                        "response_minutes": round((when - _parse(m["created_at"])).total_seconds() / 60, 3),
                    },
                }
                pw.write(rec)
                totals["replies"] += 1
                totals["brand_mentions_replied"] += 1
                response_minutes.append(rec["_meta"]["response_minutes"])
            # 4. followers at the end of the day.
            for a in accs:
                net = round(rng.gauss(18, 8) * weekday - (25 * (mult - 1) / 11 if mult > 1 else 0))
                followers[a["id"]] += net
                fw.write(
                    {
                        "date": day.isoformat(),
                        "account_id": a["id"],
                        "followers_count": followers[a["id"]],
                        "net_adds": net,
                    }
                )
    acc_out = []
    for a in accs:
        pub = {k: v for k, v in a.items() if not k.startswith("_")}
        pub["public_metrics"] = {
            "followers_count": followers[a["id"]],
            "following_count": 311,
            "tweet_count": 4200 + totals["posts"] + totals["replies"],
            "listed_count": 87,
        }
        acc_out.append(pub)
    write_json(out / "accounts.json", acc_out)
    response_minutes.sort()
    med = response_minutes[len(response_minutes) // 2] if response_minutes else None
    return {
        **totals,
        "accounts": [a["id"] for a in acc_out],
        "followers_end": {a["id"]: followers[a["id"]] for a in accs},
        "url_link_clicks_by_campaign": dict(sorted(clicks_by_campaign.items())),
        "mentions_by_entity": dict(sorted(mention_counts.items())),
        "brand_share_of_x_mentions": round(mention_counts.get(BRAND["handle"], 0) / max(1, totals["mentions"]), 6),
        "median_response_minutes": med,
        "note": "url_link_clicks of a link post = round(x_organic sessions of its day and campaign / 0.9), "
        "before the growth curve (posts under ~4 days old have not collected all yet)",
    }
