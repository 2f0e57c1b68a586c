"""Instagram (organic): the brand's business account(s), their media (feed posts, carousels,
videos, reels and stories) with lifetime metrics that grow after publishing, comments and the
brand's replies, daily account insights and follower demographics.

Files (under `instagram/`):
- `accounts.json`: `ig_user_id`, `username`, follower snapshot as of the world's `as_of`.
- `media.jsonl`: one line a media object in publishing order: API fields (`id`, `caption`,
  `media_type`, `media_product_type`, `timestamp`, `permalink`, `shortcode`, `children`) plus
  `final` lifetime values and `tau_days` (see `sampleworld.gen.facebook.growth`), and the
  generator's own `content_type`, `topics`, `link`, `utm_campaign`, `utm_ok`, `comment_ids`
  (first and last comment id of the media: ids are contiguous per media).
- `comments.jsonl`: comments and brand replies grouped by media, chronological. `media_id`
  and keys starting with `_` (`_label`, ...) are the generator's own.
- `account_insights.jsonl`: one line per account and day (final values).
- `demographics.jsonl`: follower demographics (lifetime, as of `as_of`) by country, age, gender.
- `link_clicks.jsonl`: per day and `utm_campaign`, the funnel's sessions and the link clicks
  (served as `profile_activity`'s `bio_link_clicked`) of the media carrying that campaign.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from sampleworld.entities import AGE_BANDS, CONTENT_TYPES, COUNTRIES, GENDERS, TOPICS, Entities, days, rng_for
from sampleworld.gen.facebook import (CLICK_SHARE, GROWTH_DAYS, CommentMaker, _funnel_by_day, _increments,
                                      crisis_multiplier, fmt_ts, hash_name, midnight_utc, post_text, post_times,
                                      utm_link, value_at)
from sampleworld.jsonl import JsonlWriter, write_json
from sampleworld.numbers import split_total

DOMAIN = "instagram"
CHANNEL = "instagram_organic"

MEDIA_TYPE = {"image": ("IMAGE", "FEED"), "carousel": ("CAROUSEL_ALBUM", "FEED"), "video": ("VIDEO", "FEED"),
              "reel": ("VIDEO", "REELS")}
_REACH_MULT = {"image": 1.0, "carousel": 1.15, "video": 1.1, "reel": 1.9, "story": 0.45}
_COUNTRY_W = [0.46, 0.09, 0.07, 0.06, 0.08, 0.05, 0.05, 0.07, 0.05, 0.02]
_AGE_W = [0.02, 0.22, 0.38, 0.21, 0.10, 0.05, 0.02]
_GENDER_W = [0.71, 0.26, 0.03]
_PERMALINK = {"FEED": "p/", "REELS": "reel/", "STORY": "stories/{u}/"}
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-"


def shortcode(media_id: str) -> str:
    n, out = int(media_id), ""
    while n:
        n, r = divmod(n, 64)
        out = _B62[r] + out
    return "C" + out[-10:]


def accounts(spec) -> list[dict]:
    rng = rng_for(spec, DOMAIN, "accounts")
    return [{"ig_user_id": str(17841400000000001 + i * 13), "username": "lumora" if i == 0 else f"lumora_{i + 1}",
             "name": "Lumora" if i == 0 else f"Lumora {i + 1}", "followers_start": rng.randint(60_000, 90_000)}
            for i in range(spec.scale)]


def _username(first: str, last: str, n: int) -> str:
    base = f"{first}.{last}".lower()
    for a, b in (("ü", "ue"), ("ö", "oe"), ("ä", "ae"), ("é", "e"), ("è", "e"), ("í", "i"), ("ó", "o"),
                 ("á", "a"), (" ", "")):
        base = base.replace(a, b)
    return f"{base}{n % 100}" if n % 3 else base


def generate(spec, ents: Entities, out: Path) -> dict:
    prng = rng_for(spec, DOMAIN, "media")
    crng = rng_for(spec, DOMAIN, "comments")
    drng = rng_for(spec, DOMAIN, "daily")
    cutoff = midnight_utc(ents.as_of)
    accts = accounts(spec)
    by_day = _funnel_by_day(spec, CHANNEL)
    maker = CommentMaker(crng, ents, cutoff, "instagram")
    followers = {a["ig_user_id"]: a["followers_start"] for a in accts}
    media_seq = [0]
    media_count: dict[str, int] = defaultdict(int)
    comment_seq = [0]
    active: dict[str, list[dict]] = {a["ig_user_id"]: [] for a in accts}
    comments_on: dict[tuple[str, object], int] = defaultdict(int)
    t: dict[str, int] = defaultdict(int)
    labels: dict[str, int] = defaultdict(int)
    by_product: dict[str, int] = defaultdict(int)
    totals_final: dict[str, int] = defaultdict(int)
    totals_as_of: dict[str, int] = defaultdict(int)
    response_minutes: list[float] = []

    media_w = JsonlWriter(out / "media.jsonl")
    comments_w = JsonlWriter(out / "comments.jsonl")
    daily_w = JsonlWriter(out / "account_insights.jsonl")
    clicks_w = JsonlWriter(out / "link_clicks.jsonl")
    for day_idx, day in enumerate(days(spec)):
        rows = by_day.get(day, [])
        mult = crisis_multiplier(ents, day)
        plan: dict[str, list] = {a["ig_user_id"]: [] for a in accts}
        for i, r in enumerate(x for x in rows if x.utm_campaign != "(not set)"):
            acc = accts[(day_idx + i) % len(accts)]["ig_user_id"]
            clicks = int(round(r.sessions / CLICK_SHARE))
            plan[acc].append({"utm": r.utm_campaign, "broken": False, "clicks": clicks})
            clicks_w.write({"date": day.isoformat(), "utm_campaign": r.utm_campaign, "sessions": r.sessions,
                            "link_clicks": clicks})
        not_set = next((r for r in rows if r.utm_campaign == "(not set)"), None)
        if not_set is not None and prng.random() < 0.5:
            clicks = int(round(not_set.sessions / CLICK_SHARE))
            plan[accts[day_idx % len(accts)]["ig_user_id"]].append({"utm": None, "broken": True, "clicks": clicks})
            clicks_w.write({"date": day.isoformat(), "utm_campaign": "(not set)", "sessions": not_set.sessions,
                            "link_clicks": clicks})
        for acc in accts:
            uid = acc["ig_user_id"]
            fillers = max(prng.choice((2, 2, 3)) - len(plan[uid]), 1 if prng.random() < 0.6 else 0)
            todo = plan[uid] + [None] * fillers
            todo += ["story"] * prng.choice((0, 1, 1, 2))
            prng.shuffle(todo)
            for at, link_plan in zip(post_times(prng, day, len(todo)), todo):
                media_seq[0] += 1
                media_id = str(17900000000000000 + media_seq[0] * 11)
                if link_plan == "story":
                    ctype, link_plan = "story", None
                elif link_plan is None:
                    ctype = prng.choice([c for c in CONTENT_TYPES["instagram"] if c != "story"])
                else:
                    ctype = prng.choice(("image", "carousel", "video", "reel", "reel"))
                if ctype == "story":
                    media_type, product = ("VIDEO" if prng.random() < 0.4 else "IMAGE"), "STORY"
                else:
                    media_type, product = MEDIA_TYPE[ctype]
                topics = prng.sample(TOPICS, prng.choice((1, 1, 2)))
                link = utm_link(prng, "instagram", link_plan["utm"], link_plan["broken"]) if link_plan else None
                tau = round(prng.uniform(0.15, 0.4) if product == "STORY" else
                            prng.uniform(2.5, 5.0) if product == "REELS" else prng.uniform(0.8, 2.5), 3)
                reach = int(followers[uid] * prng.uniform(0.06, 0.3) * _REACH_MULT[ctype])
                views = int(reach * prng.uniform(1.3, 2.2))
                final: dict = {"reach": reach, "views": views, "shares": int(reach * prng.uniform(0.001, 0.008))}
                if product == "STORY":
                    final["replies"] = int(reach * prng.uniform(0.001, 0.006))
                else:
                    likes = int(reach * prng.uniform(0.03, 0.09))
                    final.update(likes=likes, saved=int(likes * prng.uniform(0.05, 0.2)))
                final["profile_activity"] = {k: v for k, v in (
                    ("bio_link_clicked", link_plan["clicks"] if link_plan else 0),
                    ("email", int(reach * prng.uniform(0, 0.0004))),
                    ("direction", int(reach * prng.uniform(0, 0.0002)))) if v}
                caption = None if (product == "STORY" or (link is None and prng.random() < 0.05)) \
                    else post_text(prng, topics, link, None).replace("👉", "🔗 link in bio:")
                children = prng.randint(2, 6) if ctype == "carousel" else 0
                thread = [] if product == "STORY" else maker.thread(at, tau, n_mean=62 * _REACH_MULT[ctype] ** 0.5)
                recs: list[dict] = []
                for c in thread:
                    pending = [(c["at"], c, False)] + ([(c["reply"]["at"], c, True)] if c["reply"] else [])
                    for at_c, cc, is_reply in pending:
                        recs.append({"at": at_c, "c": cc, "reply": is_reply})
                recs.sort(key=lambda r: (r["at"], r["reply"]))
                first_id = None
                parent_of: dict[int, str] = {}
                for r in recs:
                    comment_seq[0] += 1
                    cid = str(17850000000000000 + comment_seq[0])
                    first_id = first_id or cid
                    c = r["c"]
                    if not r["reply"]:
                        parent_of[id(c)] = cid
                        uname = _username(c["first"], c["last"], hash_name(c["first"], c["last"]))
                        rec = {"media_id": media_id, "id": cid, "timestamp": fmt_ts(c["at"]), "text": c["text"],
                               "username": uname,
                               "from": {"id": str(17841000000000000 + hash_name(c["first"], c["last"]) % 10**14),
                                        "username": uname},
                               "like_count": c["like_count"], "_label": c["label"], "_crisis": c["crisis"],
                               "_answered": c["reply"] is not None,
                               "_response_minutes": c["reply"]["minutes"] if c["reply"] else None}
                        labels[c["label"]] += 1
                        t["comments"] += 1
                        t["crisis_comments"] += c["crisis"]
                        t["unanswered"] += c["reply"] is None
                    else:
                        rec = {"media_id": media_id, "id": cid, "timestamp": fmt_ts(r["at"]), "text": c["reply"]["text"],
                               "username": acc["username"], "from": {"id": uid, "username": acc["username"]},
                               "like_count": 1 if crng.random() < 0.3 else 0, "parent_id": parent_of[id(c)],
                               "_label": "brand_reply", "_response_minutes": c["reply"]["minutes"]}
                        t["replies"] += 1
                        response_minutes.append(c["reply"]["minutes"])
                    comments_on[(uid, r["at"].date())] += 1
                    comments_w.write(rec)
                n_comments = len(recs)
                if product != "STORY":
                    final["comments"] = n_comments
                rec = {"id": media_id, "ig_user_id": uid}
                if caption is not None:
                    rec["caption"] = caption
                rec.update({"media_type": media_type, "media_product_type": product, "timestamp": fmt_ts(at),
                            "permalink": f"https://www.instagram.com/{_PERMALINK[product].format(u=acc['username'])}"
                                         f"{shortcode(media_id)}/",
                            "shortcode": shortcode(media_id), "children": children,
                            "content_type": ctype, "topics": topics, "link": link,
                            "utm_campaign": link_plan["utm"] if link_plan else None,
                            "utm_ok": (not link_plan["broken"]) if link_plan else None,
                            "tau_days": tau, "final": final, "comments_count": n_comments,
                            "comment_ids": [first_id, cid] if recs else None})
                media_w.write(rec)
                t["media"] += 1
                media_count[uid] += product != "STORY"
                by_product[product] += 1
                t["media_with_link"] += link is not None
                t["media_with_broken_utm"] += bool(link_plan and link_plan["broken"])
                interactions = final.get("likes", 0) + final.get("saved", 0) + final["shares"] + final.get("replies", 0)
                for k in ("reach", "views", "likes", "saved", "shares"):
                    if k in final:
                        totals_final[k] += final[k]
                        totals_as_of[k] += value_at(final[k], at, cutoff, tau)
                totals_final["bio_link_clicked"] += final["profile_activity"].get("bio_link_clicked", 0)
                active[uid].append({"_at": at, "tau_days": tau, "_sum": {
                    "reach": reach, "views": views, "interactions": interactions,
                    "engaged": int(reach * 0.06)}})
        for acc in accts:
            uid = acc["ig_user_id"]
            active[uid] = [p for p in active[uid] if (day - p["_at"].date()).days <= GROWTH_DAYS + 1]
            inc = _increments(active[uid], day, ("reach", "views", "interactions", "engaged"))
            reach = int(round(inc["reach"] * 0.8)) + drng.randint(300, 1200)   # overlap between posts
            views = int(round(inc["views"])) + drng.randint(500, 2000)
            comments = comments_on.pop((uid, day), 0)
            follows = max(0, int(round(drng.gauss(40, 9) * (1.1 if day.weekday() >= 5 else 1.0) + reach * 0.0015)))
            unfollows = max(0, int(round(drng.gauss(14, 4) * (1 + (mult - 1) * 0.5))))
            followers[uid] += follows - unfollows
            daily_w.write({"ig_user_id": uid, "date": day.isoformat(), "reach": reach, "views": views,
                           "follower_count": follows, "unfollows": unfollows, "followers_total": followers[uid],
                           "accounts_engaged": int(round(inc["engaged"])) + comments // 2,
                           "total_interactions": int(round(inc["interactions"])) + comments})
            t["account_insight_rows"] += 1
    for w in (media_w, comments_w, daily_w, clicks_w):
        w.close()

    accts_out = [{"ig_user_id": a["ig_user_id"], "username": a["username"], "name": a["name"],
                  "followers_start": a["followers_start"], "followers_count": followers[a["ig_user_id"]],
                  "media_count": media_count[a["ig_user_id"]]} for a in accts]
    write_json(out / "accounts.json", accts_out)
    demo_rows = 0
    with JsonlWriter(out / "demographics.jsonl") as w:
        drng2 = rng_for(spec, DOMAIN, "demographics")
        for a in accts_out:
            n = a["followers_count"]
            for dim, values, weights in (("country", COUNTRIES, _COUNTRY_W), ("age", AGE_BANDS, _AGE_W),
                                         ("gender", GENDERS, _GENDER_W)):
                jitter = [wt * drng2.uniform(0.85, 1.15) for wt in weights]
                for v, cnt in zip(values, split_total(n, jitter)):
                    w.write({"ig_user_id": a["ig_user_id"], "dimension": dim, "value": v, "followers": cnt})
                    demo_rows += 1
    response_minutes.sort()
    return {
        "accounts": [{k: a[k] for k in ("ig_user_id", "username", "followers_start", "followers_count")}
                     for a in accts_out],
        "media": t["media"], "media_by_product_type": dict(sorted(by_product.items())),
        "media_with_link": t["media_with_link"], "media_with_broken_utm": t["media_with_broken_utm"],
        "comments": t["comments"], "replies": t["replies"], "unanswered": t["unanswered"],
        "comments_by_label": dict(sorted(labels.items())), "crisis_comments": t["crisis_comments"],
        "median_response_minutes": response_minutes[len(response_minutes) // 2] if response_minutes else None,
        "account_insight_rows": t["account_insight_rows"], "demographics_rows": demo_rows,
        "lifetime_final": dict(sorted(totals_final.items())),
        "lifetime_as_of_unrestated": dict(sorted(totals_as_of.items())),
        "records": t["media"] + t["comments"] + t["replies"] + t["account_insight_rows"] + demo_rows,
    }
