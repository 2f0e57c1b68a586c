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

from sampleworld.entities import AGE_BANDS, CONTENT_TYPES, COUNTRIES, GENDERS, TOPICS, Entities, rng_for
from sampleworld.gen.facebook import Publisher, fmt_ts, hash_name, post_text, utm_link, value_at
from sampleworld.jsonl import JsonlWriter, write_json
from sampleworld.numbers import split_total

DOMAIN = "instagram"
CHANNEL = "instagram_organic"

MEDIA_TYPE = {
    "image": ("IMAGE", "FEED"),
    "carousel": ("CAROUSEL_ALBUM", "FEED"),
    "video": ("VIDEO", "FEED"),
    "reel": ("VIDEO", "REELS"),
}
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
    return [
        {
            "ig_user_id": str(17841400000000001 + i * 13),
            "username": "lumora" if i == 0 else f"lumora_{i + 1}",
            "name": "Lumora" if i == 0 else f"Lumora {i + 1}",
            "followers_start": rng.randint(60_000, 90_000),
        }
        for i in range(spec.scale)
    ]


def _username(first: str, last: str, n: int) -> str:
    base = f"{first}.{last}".lower()
    for a, b in (
        ("ü", "ue"),
        ("ö", "oe"),
        ("ä", "ae"),
        ("é", "e"),
        ("è", "e"),
        ("í", "i"),
        ("ó", "o"),
        ("á", "a"),
        (" ", ""),
    ):
        base = base.replace(a, b)
    return f"{base}{n % 100}" if n % 3 else base


class MediaPublisher(Publisher):
    """The Instagram accounts' media (feed, reels, stories), comments and daily account insights."""

    DOMAIN = DOMAIN
    CHANNEL = CHANNEL
    ID = "ig_user_id"
    POSTS = "media.jsonl"
    DAILY = "account_insights.jsonl"
    POST_DRAWS = "media"
    GROWTH_KEYS = ("reach", "views", "interactions", "engaged")

    def __init__(self, spec, ents: Entities):
        super().__init__(spec, ents, accounts(spec))
        self.media_seq = 0
        self.comment_seq = 0
        self.media_count: dict[str, int] = defaultdict(int)
        self.by_product: dict[str, int] = defaultdict(int)

    def extra_slots(self) -> list:
        return ["story"] * self.prng.choice((0, 1, 1, 2))

    def publish(self, acc, at, slot, day, crisis, comments):
        prng, uid = self.prng, acc["ig_user_id"]
        self.media_seq += 1
        media_id = str(17900000000000000 + self.media_seq * 11)
        link_plan = None if slot == "story" else slot
        if slot == "story":
            ctype = "story"
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
        tau = round(
            prng.uniform(0.15, 0.4)
            if product == "STORY"
            else prng.uniform(2.5, 5.0)
            if product == "REELS"
            else prng.uniform(0.8, 2.5),
            3,
        )
        reach = int(self.followers[uid] * prng.uniform(0.06, 0.3) * _REACH_MULT[ctype])
        views = int(reach * prng.uniform(1.3, 2.2))
        final: dict = {"reach": reach, "views": views, "shares": int(reach * prng.uniform(0.001, 0.008))}
        if product == "STORY":
            final["replies"] = int(reach * prng.uniform(0.001, 0.006))
        else:
            likes = int(reach * prng.uniform(0.03, 0.09))
            final.update(likes=likes, saved=int(likes * prng.uniform(0.05, 0.2)))
        final["profile_activity"] = {
            k: v
            for k, v in (
                ("bio_link_clicked", link_plan["clicks"] if link_plan else 0),
                ("email", int(reach * prng.uniform(0, 0.0004))),
                ("direction", int(reach * prng.uniform(0, 0.0002))),
            )
            if v
        }
        caption = (
            None
            if (product == "STORY" or (link is None and prng.random() < 0.05))
            else post_text(prng, topics, link, None).replace("👉", "🔗 link in bio:")
        )
        children = prng.randint(2, 6) if ctype == "carousel" else 0
        thread = [] if product == "STORY" else self.maker.thread(at, tau, n_mean=62 * _REACH_MULT[ctype] ** 0.5)
        self.count_thread(uid, thread)
        recs = self._comment_lines(acc, media_id, thread)
        for r in recs:
            comments.write(r)
        if product != "STORY":
            final["comments"] = len(recs)
        rec = {"id": media_id, "ig_user_id": uid}
        if caption is not None:
            rec["caption"] = caption
        rec.update(
            {
                "media_type": media_type,
                "media_product_type": product,
                "timestamp": fmt_ts(at),
                "permalink": f"https://www.instagram.com/{_PERMALINK[product].format(u=acc['username'])}"
                f"{shortcode(media_id)}/",
                "shortcode": shortcode(media_id),
                "children": children,
                "content_type": ctype,
                "topics": topics,
                "link": link,
                "utm_campaign": link_plan["utm"] if link_plan else None,
                "utm_ok": (not link_plan["broken"]) if link_plan else None,
                "tau_days": tau,
                "final": final,
                "comments_count": len(recs),
                "comment_ids": [recs[0]["id"], recs[-1]["id"]] if recs else None,
            }
        )
        self.media_count[uid] += product != "STORY"
        self.by_product[product] += 1
        for k in ("reach", "views", "likes", "saved", "shares"):
            if k in final:
                self.totals_final[k] += final[k]
                self.totals_as_of[k] += value_at(final[k], at, self.cutoff, tau)
        self.totals_final["bio_link_clicked"] += final["profile_activity"].get("bio_link_clicked", 0)
        interactions = final.get("likes", 0) + final.get("saved", 0) + final["shares"] + final.get("replies", 0)
        return rec, {"reach": reach, "views": views, "interactions": interactions, "engaged": int(reach * 0.06)}

    def _comment_lines(self, acc: dict, media_id: str, thread: list[dict]) -> list[dict]:
        """The media's block of `comments.jsonl`: comments and replies in time order, ids contiguous."""
        uid = acc["ig_user_id"]
        pending = [(c["at"], c, False) for c in thread] + [(c["reply"]["at"], c, True) for c in thread if c["reply"]]
        pending.sort(key=lambda p: (p[0], p[2]))
        parent_of: dict[int, str] = {}
        recs: list[dict] = []
        for at, c, is_reply in pending:
            self.comment_seq += 1
            cid = str(17850000000000000 + self.comment_seq)
            if not is_reply:
                parent_of[id(c)] = cid
                uname = _username(c["first"], c["last"], hash_name(c["first"], c["last"]))
                recs.append(
                    {
                        "media_id": media_id,
                        "id": cid,
                        "timestamp": fmt_ts(c["at"]),
                        "text": c["text"],
                        "username": uname,
                        "from": {
                            "id": str(17841000000000000 + hash_name(c["first"], c["last"]) % 10**14),
                            "username": uname,
                        },
                        "like_count": c["like_count"],
                        "_label": c["label"],
                        "_crisis": c["crisis"],
                        "_answered": c["reply"] is not None,
                        "_response_minutes": c["reply"]["minutes"] if c["reply"] else None,
                    }
                )
            else:
                recs.append(
                    {
                        "media_id": media_id,
                        "id": cid,
                        "timestamp": fmt_ts(at),
                        "text": c["reply"]["text"],
                        "username": acc["username"],
                        "from": {"id": uid, "username": acc["username"]},
                        "like_count": 1 if self.crng.random() < 0.3 else 0,
                        "parent_id": parent_of[id(c)],
                        "_label": "brand_reply",
                        "_response_minutes": c["reply"]["minutes"],
                    }
                )
        return recs

    def daily_row(self, acc, day, grew, crisis, comments):
        uid, drng = acc["ig_user_id"], self.drng
        reach = int(round(grew["reach"] * 0.8)) + drng.randint(300, 1200)  # overlap between posts
        views = int(round(grew["views"])) + drng.randint(500, 2000)
        follows = max(0, int(round(drng.gauss(40, 9) * (1.1 if day.weekday() >= 5 else 1.0) + reach * 0.0015)))
        unfollows = max(0, int(round(drng.gauss(14, 4) * (1 + (crisis - 1) * 0.5))))
        self.followers[uid] += follows - unfollows
        return {
            "ig_user_id": uid,
            "date": day.isoformat(),
            "reach": reach,
            "views": views,
            "follower_count": follows,
            "unfollows": unfollows,
            "followers_total": self.followers[uid],
            "accounts_engaged": int(round(grew["engaged"])) + comments // 2,
            "total_interactions": int(round(grew["interactions"])) + comments,
        }


def generate(spec, ents: Entities, out: Path) -> dict:
    pub = MediaPublisher(spec, ents)
    pub.write(out)
    accts_out = [
        {
            "ig_user_id": a["ig_user_id"],
            "username": a["username"],
            "name": a["name"],
            "followers_start": a["followers_start"],
            "followers_count": pub.followers[a["ig_user_id"]],
            "media_count": pub.media_count[a["ig_user_id"]],
        }
        for a in pub.accounts
    ]
    write_json(out / "accounts.json", accts_out)
    demo_rows = _demographics(spec, accts_out, out / "demographics.jsonl")
    t = pub.t
    return {
        **pub.truths(),
        "accounts": [
            {k: a[k] for k in ("ig_user_id", "username", "followers_start", "followers_count")} for a in accts_out
        ],
        "media": t["posts"],
        "media_by_product_type": dict(sorted(pub.by_product.items())),
        "media_with_link": t["with_link"],
        "media_with_broken_utm": t["with_broken_utm"],
        "account_insight_rows": t["daily_rows"],
        "demographics_rows": demo_rows,
        "records": t["posts"] + t["comments"] + t["replies"] + t["daily_rows"] + demo_rows,
    }


def _demographics(spec, accts_out: list[dict], path: Path) -> int:
    """Follower demographics as of `as_of`: each account's followers split by country, age, gender."""
    rows = 0
    rng = rng_for(spec, DOMAIN, "demographics")
    with JsonlWriter(path) as w:
        for a in accts_out:
            n = a["followers_count"]
            for dim, values, weights in (
                ("country", COUNTRIES, _COUNTRY_W),
                ("age", AGE_BANDS, _AGE_W),
                ("gender", GENDERS, _GENDER_W),
            ):
                jitter = [wt * rng.uniform(0.85, 1.15) for wt in weights]
                for v, cnt in zip(values, split_total(n, jitter)):
                    w.write({"ig_user_id": a["ig_user_id"], "dimension": dim, "value": v, "followers": cnt})
                    rows += 1
    return rows
