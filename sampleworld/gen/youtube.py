"""YouTube: the brand channel(s) (scale multiplies them), their videos and the daily stats
YouTube Analytics reports.

- `channels.json`: channel resources (id, title, customUrl, publishedAt).
- `videos.jsonl`: video resources as of `as_of` (snippet: title, description with the
  tracked link `utm_source=youtube&utm_medium=social&utm_campaign=...`, publishedAt,
  tags; contentDetails.duration in ISO 8601; `_meta` with topic and campaign).
- `video_daily.jsonl`: per video and day with activity: views, likes, comments,
  estimatedMinutesWatched, subscribersGained, subscribersLost (final values).
- `channel_daily.jsonl`: per channel and day: the sums of its videos' rows and the
  subscriber count at the end of the day.
- `demographics.json`: per channel, viewerPercentage by ageGroup and gender, and the share
  of views per country (constant over the world).
"""

from __future__ import annotations

import base64
import hashlib
import math
from pathlib import Path

from sampleworld.entities import BRAND, COUNTRIES, TOPICS, Entities, campaigns_on, days, rng_for
from sampleworld.jsonl import JsonlWriter, write_json

DOMAIN = "youtube"
AGE_GROUPS = ["age13-17", "age18-24", "age25-34", "age35-44", "age45-54", "age55-64", "age65-"]
YT_GENDERS = ["female", "male", "user_specified"]
TITLES = {
    "product": ["{product}: everything you need to know", "We tested the {product} for 30 days"],
    "sustainability": ["How we make the {product} bottle from recycled glass"],
    "behind_the_scenes": ["Inside the Lumora lab: making the {product}"],
    "how_to": ["How to use the {product} (morning and evening routine)", "5 mistakes people make with the {product}"],
    "promotion": ["The {product} is here - launch film"],
    "community": ["Your {product} questions answered"],
    "hiring": ["Working at Lumora: meet the team"],
}
PRODUCTS = ["Glow Serum", "Night Cream", "Daily SPF 50", "Hydra Mist", "Clay Mask"]
PUBLISH_WEEKDAYS = (1, 3, 5)  # Tue, Thu, Sat


def _id(prefix: str, n: int, *parts) -> str:
    raw = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return prefix + base64.urlsafe_b64encode(raw).decode()[:n]


def channels(spec) -> list[dict]:
    out = []
    for copy in range(spec.scale):
        title = BRAND["name"] if copy == 0 else f"{BRAND['name']} {copy + 1}"
        out.append(
            {
                "id": _id("UC", 22, spec.seed, "channel", copy),
                "title": title,
                "description": f"Official {title} channel: skincare that works, explained.",
                "customUrl": "@" + BRAND["handle"] + ("" if copy == 0 else str(copy + 1)),
                "publishedAt": "2016-04-12T08:30:00Z",
                "country": "DE",
                "_subscribers_start": 8_400 + 2_000 * copy,
            }
        )
    return out


def _binom(rng, n: int, p: float) -> int:
    if n <= 0:
        return 0
    if n < 30:
        return sum(1 for _ in range(n) if rng.random() < p)
    return max(0, min(n, round(rng.gauss(n * p, math.sqrt(n * p * (1 - p))))))


def demographics(spec, chans: list[dict]) -> list[dict]:
    rng = rng_for(spec, DOMAIN, "demographics")
    out = []
    for ch in chans:
        age_w = [0.03, 0.22, 0.34, 0.2, 0.11, 0.06, 0.04]
        cells = []
        for a, w in zip(AGE_GROUPS, age_w):
            f = rng.uniform(0.6, 0.75)
            cells += [(a, "female", w * f), (a, "male", w * (1 - f) * 0.97), (a, "user_specified", w * (1 - f) * 0.03)]
        tot = sum(c[2] for c in cells)
        shares = [[a, g, round(100 * v / tot, 1)] for a, g, v in cells]
        cw = [rng.uniform(0.3, 1.0) * (4 if c == "DE" else 2 if c == "US" else 1) for c in COUNTRIES]
        ct = sum(cw)
        out.append(
            {
                "channel_id": ch["id"],
                "age_gender": shares,
                "country_share": {c: round(w / ct, 4) for c, w in zip(COUNTRIES, cw)},
            }
        )
    return out


def generate(spec, ents: Entities, out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    chans = channels(spec)
    write_json(out / "channels.json", [{k: v for k, v in c.items() if not k.startswith("_")} for c in chans])
    write_json(out / "demographics.json", demographics(spec, chans))
    rng = rng_for(spec, DOMAIN, "videos")
    videos = []
    for day in days(spec):
        if day.weekday() not in PUBLISH_WEEKDAYS:
            continue
        camps = campaigns_on(ents, "youtube_organic", day)
        for _c_idx, ch in enumerate(chans):
            n = len(videos)
            topic = TOPICS[rng.randrange(len(TOPICS))]
            product = PRODUCTS[rng.randrange(len(PRODUCTS))]
            camp = camps[rng.randrange(len(camps))] if camps and rng.random() < 0.7 else None
            path = "/summer" if camp and "summer" in camp.utm_campaign else "/product"
            q = "utm_source=youtube&utm_medium=social" + (f"&utm_campaign={camp.utm_campaign}" if camp else "")
            link = f"https://{BRAND['domain']}{path}?{q}"
            pool = TITLES[topic]
            title = pool[rng.randrange(len(pool))].format(product=product)
            seconds = rng.randint(45, 1100)
            published = f"{day.isoformat()}T{rng.randint(14, 17):02d}:00:{rng.randint(0, 59):02d}Z"
            videos.append(
                {
                    "id": _id("", 11, spec.seed, "video", n),
                    "channel": ch,
                    "published_day": day,
                    "snippet": {
                        "publishedAt": published,
                        "channelId": ch["id"],
                        "title": title,
                        "description": f"{title}.\n\nShop: {link}\n\nFollow us on X @{BRAND['handle']}.\n"
                        f"#{BRAND['handle']} #{topic.replace('_', '')}",
                        "channelTitle": ch["title"],
                        "tags": [BRAND["handle"], topic, product.lower()],
                        "categoryId": "26",
                        "defaultAudioLanguage": "en",
                    },
                    "contentDetails": {
                        "duration": f"PT{seconds // 60}M{seconds % 60}S" if seconds >= 60 else f"PT{seconds}S",
                        "dimension": "2d",
                        "definition": "hd",
                        "caption": "true",
                    },
                    "_meta": {
                        "topic": topic,
                        "utm_campaign": camp.utm_campaign if camp else None,
                        "link": link,
                        "seconds": seconds,
                        "potential": rng.lognormvariate(math.log(2500), 0.7),
                    },
                }
            )
    totals = {
        "videos": len(videos),
        "video_day_rows": 0,
        "views": 0,
        "likes": 0,
        "comments": 0,
        "estimatedMinutesWatched": 0,
        "subscribersGained": 0,
        "subscribersLost": 0,
    }
    life = {v["id"]: {"views": 0, "likes": 0, "comments": 0} for v in videos}
    subs = {c["id"]: c["_subscribers_start"] for c in chans}
    with JsonlWriter(out / "video_daily.jsonl") as vw, JsonlWriter(out / "channel_daily.jsonl") as cw:
        for day in days(spec):
            drng = rng_for(spec, DOMAIN, "daily", day.isoformat())
            per_channel = {
                c["id"]: {
                    "views": 0,
                    "likes": 0,
                    "comments": 0,
                    "estimatedMinutesWatched": 0,
                    "subscribersGained": 0,
                    "subscribersLost": 0,
                }
                for c in chans
            }
            for v in videos:
                age = (day - v["published_day"]).days
                if age < 0:
                    continue
                m = v["_meta"]
                curve = (0.3 if age == 0 else 0.35 * math.exp(-(age - 1) / 2.0)) + 0.015 * math.exp(-age / 60)
                views = round(m["potential"] * curve * drng.uniform(0.8, 1.2))
                if views <= 0:
                    continue
                row = {
                    "date": day.isoformat(),
                    "channel_id": v["channel"]["id"],
                    "video_id": v["id"],
                    "views": views,
                    "likes": _binom(drng, views, 0.042),
                    "comments": _binom(drng, views, 0.0045),
                    "estimatedMinutesWatched": round(views * m["seconds"] / 60 * drng.uniform(0.3, 0.5)),
                    "subscribersGained": _binom(drng, views, 0.006),
                    "subscribersLost": _binom(drng, views, 0.0008),
                }
                vw.write(row)
                totals["video_day_rows"] += 1
                for k in per_channel[row["channel_id"]]:
                    per_channel[row["channel_id"]][k] += row[k]
                    totals[k] += row[k]
                for k in ("views", "likes", "comments"):
                    life[v["id"]][k] += row[k]
            for c in chans:
                t = per_channel[c["id"]]
                subs[c["id"]] += t["subscribersGained"] - t["subscribersLost"]
                cw.write({"date": day.isoformat(), "channel_id": c["id"], **t, "subscriberCount": subs[c["id"]]})
    with JsonlWriter(out / "videos.jsonl") as w:
        for v in videos:
            w.write(
                {
                    "kind": "youtube#video",
                    "id": v["id"],
                    "snippet": v["snippet"],
                    "contentDetails": v["contentDetails"],
                    "statistics": {
                        "viewCount": str(life[v["id"]]["views"]),
                        "likeCount": str(life[v["id"]]["likes"]),
                        "favoriteCount": "0",
                        "commentCount": str(life[v["id"]]["comments"]),
                    },
                    "_meta": {k: v["_meta"][k] for k in ("topic", "utm_campaign", "link", "seconds")},
                }
            )
    return {
        **totals,
        "channels": [c["id"] for c in chans],
        "subscribers_end": subs,
        "videos_by_campaign": _count(v["_meta"]["utm_campaign"] or "(not set)" for v in videos),
        "note": "video statistics (Data API) = sums of the final daily Analytics rows up to the world's end",
    }


def _count(values) -> dict:
    out: dict = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return dict(sorted(out.items()))
