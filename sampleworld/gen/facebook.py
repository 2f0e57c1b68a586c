"""Facebook Page (organic): the brand's Page(s), their posts with lifetime metrics that grow
after publishing, the customer comments and the brand's replies, and daily Page insights.

Files (under `facebook/`):
- `pages.json`: the Pages (`page_id`, `name`, follower snapshot as of the world's `as_of`).
- `posts.jsonl`: one line a post, in publishing order. API fields (`id`, `created_time`,
  `message`, ...) plus what the fake needs to serve a lifetime metric as of any moment:
  `final` (the saturated lifetime values) and `tau_days` (see `growth`). `link`,
  `utm_campaign` (intended campaign), `utm_ok` (false for broken or missing UTMs),
  `content_type` and `topics` are the generator's own.
- `comments.jsonl`: every comment and brand reply, grouped by post (chronological within a
  post). Keys starting with `_` (`_label`, `_answered`, `_response_minutes`) and `post_id`
  are the generator's own and never served.
- `page_insights.jsonl`: one line per Page and day (follows, unfollows, follower total,
  media views, post engagements: final values).
- `link_clicks.jsonl`: per day and `utm_campaign`, the funnel's sessions and the link clicks
  of the posts carrying that campaign (`(not set)`: posts with broken UTMs).

Link posts: each day, every campaign in the funnel's `facebook_organic` rows gets one post
whose final lifetime link clicks are `round(sessions / 0.9)`; a broken-UTM post takes the
`(not set)` row's clicks. Lifetime metrics reach their final values 14 days after publishing.

The helpers here (`growth`, `value_at`, `reply_delay_minutes`, `CommentMaker`, time formats)
are shared with the Instagram generator and with the fake (`sampleworld/fakes/meta_graph.py`);
so is `Publisher`, the day-by-day skeleton both generators run (Instagram's `MediaPublisher`
and `PagePublisher` here say only what a post and an account's day are).
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sampleworld.entities import CONTENT_TYPES, TOPICS, Entities, days, rng_for
from sampleworld.funnel import funnel
from sampleworld.jsonl import JsonlWriter, write_json

DOMAIN = "facebook"
CHANNEL = "facebook_organic"
BERLIN = ZoneInfo("Europe/Berlin")
PACIFIC = ZoneInfo("America/Los_Angeles")
UTC = UTC
GROWTH_DAYS = 14  # lifetime metrics are final this many days after publishing
CLICK_SHARE = 0.9  # sessions per link click
BASE_URL = "https://lumora.example"


# -- time --------------------------------------------------------------------------------
def fmt_ts(dt: datetime) -> str:
    """Graph's way of writing a time: 2026-06-01T09:00:00+0000."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def parse_ts(s: str) -> datetime:
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S+0000").replace(tzinfo=UTC)


def midnight_utc(d: date) -> datetime:
    return datetime.combine(d, time(0), tzinfo=UTC)


def pacific_day_end(d: date) -> str:
    """`end_time` of a day metric: the end of that day on Pacific time, in UTC."""
    return fmt_ts(datetime.combine(d + timedelta(days=1), time(0), tzinfo=PACIFIC))


# -- growth of lifetime metrics ------------------------------------------------------------
def growth(age_days: float, tau: float) -> float:
    """Share of a post's final lifetime value reached `age_days` after publishing:
    a saturating curve, exactly 1 from `GROWTH_DAYS` on."""
    if age_days <= 0:
        return 0.0
    if age_days >= GROWTH_DAYS:
        return 1.0
    return (1 - math.exp(-age_days / tau)) / (1 - math.exp(-GROWTH_DAYS / tau))


def value_at(final: int, created: datetime, at: datetime, tau: float) -> int:
    """A lifetime metric as of `at` (before any restatement)."""
    return int(round(final * growth((at - created).total_seconds() / 86400, tau)))


# -- crisis ----------------------------------------------------------------------------------
def crisis_multiplier(ents: Entities, day: date) -> float:
    """1 outside the crisis; rising to `negative_multiplier_at_peak` at its peak."""
    c = ents.crisis
    start, peak, end = (date.fromisoformat(c[k]) for k in ("start", "peak", "end"))
    if not (start <= day <= end):
        return 1.0
    top = float(c["negative_multiplier_at_peak"])
    if day <= peak:
        span = max(1, (peak - start).days)
        share = 1.0 if day == peak else 0.35 + 0.65 * (day - start).days / span
    else:
        span = max(1, (end - peak).days + 1)
        share = 1 - (day - peak).days / span
    return 1 + (top - 1) * max(0.0, share)


# -- brand response times ------------------------------------------------------------------
def business_hours(dt: datetime) -> bool:
    local = dt.astimezone(BERLIN)
    return local.weekday() < 5 and 9 <= local.hour < 18


def _next_opening(dt: datetime) -> datetime:
    local = dt.astimezone(BERLIN)
    d = local.date()
    if local.hour >= 9:
        d += timedelta(days=1)
    while d.weekday() >= 5:
        d += timedelta(days=1)
    return datetime.combine(d, time(9), tzinfo=BERLIN).astimezone(UTC)


def reply_delay_minutes(rng, at: datetime, crisis: float) -> float:
    """Minutes until the brand answers a comment made at `at`: minutes in business hours
    (Europe/Berlin, weekdays 9-18), the next opening otherwise (a weekend on-call answers
    some sooner). Slower while a crisis floods the inbox."""
    slow = 1.0 + min(2.0, (crisis - 1) / 5)
    if business_hours(at):
        return min(8 * 60.0, rng.lognormvariate(math.log(22), 0.8) * slow)
    if rng.random() < 0.15:  # on call
        return min(6 * 60.0, rng.lognormvariate(math.log(150), 0.6) * slow)
    wait = (_next_opening(at) - at).total_seconds() / 60
    return wait + rng.lognormvariate(math.log(40), 0.9) * slow


# -- texts -----------------------------------------------------------------------------------
PRODUCTS = ["Glow Serum", "Night Cream", "Vitamin C Serum", "Hydra Mist", "Barrier Balm", "SPF 50 Fluid"]
FIRST = [
    "Anna",
    "Lukas",
    "Marie",
    "Jonas",
    "Sophie",
    "Leon",
    "Emma",
    "Paul",
    "Mia",
    "Felix",
    "Hannah",
    "Noah",
    "Lea",
    "Elias",
    "Clara",
    "Ben",
    "Laura",
    "Tom",
    "Sara",
    "David",
    "Julia",
    "Omar",
    "Chloé",
    "Lucas",
    "Inès",
    "Giulia",
    "Marco",
    "Sofia",
    "Liam",
    "Olivia",
    "Emily",
    "James",
    "Nina",
    "Jan",
    "Eva",
    "Tim",
    "Alina",
    "Max",
    "Zoe",
    "Kai",
    "Maja",
    "Finn",
    "Ida",
    "Oskar",
    "Lina",
    "Mateo",
]
LAST = [
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Neumann",
    "Schwarz",
    "Braun",
    "Martin",
    "Bernard",
    "Dubois",
    "Rossi",
    "Russo",
    "García",
    "López",
    "Smith",
    "Jones",
    "Brown",
    "Taylor",
    "de Vries",
    "Jansen",
    "Andersson",
    "Nilsson",
    "Huber",
    "Gruber",
    "Keller",
    "Baumann",
    "Yilmaz",
    "Kaya",
    "Nowak",
]
COUNTRY_NAMES = [
    "Austria",
    "Switzerland",
    "France",
    "the Netherlands",
    "Spain",
    "Italy",
    "Sweden",
    "the UK",
    "the US",
    "Poland",
    "Denmark",
    "Belgium",
]

COMMENTS = {
    "positive": [
        "Love this! 😍",
        "Obsessed with the {p} ✨",
        "Been using the {p} for a month and my skin has never looked better",
        "This is exactly what I needed, thank you!",
        "So pretty 💛",
        "Best {p} I've tried, hands down",
        "Just ordered mine 🙌",
        "Great tips, saving this one",
        "Finally a brand that takes this seriously 👏",
        "My sister got me hooked on your {p}, no regrets",
        "Holy grail product for me ❤️",
        "The {p} smells amazing",
        "Bought it last week, already see a difference!",
        "Yes!! 🔥🔥",
        "Your customer service is the best, thank you for the quick help last time",
    ],
    "neutral": [
        "Nice",
        "Interesting",
        "@{f} look at this",
        "Saw this in the shop yesterday",
        "Tagging @{f}",
        "👀",
        "Okay this looks cool",
        "Hmm, not sure about the new packaging",
        "First!",
        "@{f} we talked about this",
        "Looks like the one from last year",
        "Noted.",
    ],
    "question": [
        "Is the {p} suitable for sensitive skin?",
        "Do you ship to {c}?",
        "When will the {p} be back in stock?",
        "What's the difference between the {p} and the {p2}?",
        "Is there a discount code for first orders?",
        "Is the packaging recyclable?",
        "How long does delivery take to {c}?",
        "Can I use the {p} together with retinol?",
        "Is the {p} vegan?",
        "Will there be a bigger size of the {p}?",
        "Where can I buy this in {c}?",
    ],
    "negative": [
        "My order still hasn't arrived after two weeks.",
        "The {p} broke me out, really disappointed 😞",
        "Customer service never answered my email.",
        "Way too expensive for such a small bottle.",
        "Received a damaged package and nobody replies.",
        "The pump on my {p} stopped working after a week.",
        "Third time my order is late. Not again.",
        "The new formula of the {p} is worse, bring back the old one",
        "Charged twice for one order?!",
    ],
}
CRISIS_COMMENTS = {
    "negative": [
        "Is it true the {p} is being recalled??",
        "Heard about the recall. Not buying again until you explain.",
        "Why is nobody from Lumora talking about the recall rumours?",
        "Returned my {p} after reading about the recall.",
        "Silence about the recall says everything 😡",
        "My {p} is from the affected batch, what now?!",
        "Unfollowing until you clear up this recall mess.",
    ],
    "question": [
        "Are the batches from this spring safe or not?",
        "Is my {p} affected by the recall?",
        "Can you confirm whether there is a recall of the {p}?",
    ],
}
REPLIES = {
    "positive": [
        "Thank you so much, {n}! 💛",
        "We're so happy to hear that, {n} ✨",
        "That made our day, {n}!",
        "Thanks for the love, {n} 🥰",
    ],
    "neutral": ["Thanks for stopping by, {n}!", "Glad you like it, {n} 😊", "Thanks, {n}!"],
    "question": [
        "Hi {n}, great question! Yes, it's dermatologically tested and suitable for sensitive skin.",
        "Hi {n}, we ship to all EU countries, the UK and the US (3-5 working days).",
        "Hi {n}, it's back in stock next week: sign up for an alert on lumora.example.",
        "Hi {n}, we've sent you a DM with all the details.",
        "Hi {n}, yes: 100% vegan and cruelty free.",
    ],
    "negative": [
        "Hi {n}, we're really sorry about this. Could you send us a DM with your order number so we can sort it out?",
        "Sorry to hear that, {n}. Our care team will reach out to you by DM today.",
        "Hi {n}, that's not the experience we want you to have. Please DM us and we'll make it right.",
    ],
    "crisis": [
        "Hi {n}, there is no recall of any Lumora product. All batches passed independent testing: lumora.example/safety",
        "Hi {n}, we understand the concern. No Lumora product is recalled; the full statement is on lumora.example/safety.",
    ],
}
REPLY_PROBABILITY = {"positive": 0.45, "neutral": 0.25, "question": 0.88, "negative": 0.8}
BASE_LABELS = (("positive", 0.45), ("neutral", 0.2), ("question", 0.23), ("negative", 0.12))

POST_TEXTS = {
    "product": [
        "Meet the {p}: lightweight, fragrance-free and made for every skin type.",
        "Your new daily essential: the {p}. Two drops, morning and night.",
        "Back by popular demand: the {p} ✨",
    ],
    "sustainability": [
        "Our refill pouches use 70% less plastic than a new bottle ♻️",
        "Every Lumora jar is now made from recycled glass.",
        "We planted 10,000 trees with you this year. Thank you 🌱",
    ],
    "behind_the_scenes": [
        "A peek into our lab in Berlin, where every formula starts.",
        "Meet the team packing your orders today 📦",
        "From sketch to shelf: how the {p} was made.",
    ],
    "how_to": [
        "How to layer serum and cream in 3 steps 🧴",
        "Morning routine in under 2 minutes with the {p}.",
        "Dry skin in winter? Here's what our skin experts recommend.",
    ],
    "promotion": [
        "This week only: 20% off the {p}.",
        "Free shipping on every order until Sunday 🚚",
        "Gift with purchase: a travel-size {p} on orders over €50.",
    ],
    "community": [
        "Your routines, your words: thank you for sharing 💛",
        "Tag a friend who needs a self-care day.",
        "We asked, you answered: your favourite Lumora product is…",
    ],
    "hiring": [
        "We're hiring! Join our team in Berlin: lumora.example/careers",
        "Looking for a Social Media Manager who loves skincare as much as we do.",
    ],
}
CTA = ["Shop now 👉 {u}", "Find out more: {u}", "Discover it here: {u}", "Get yours: {u}", "More on the blog: {u}"]
LINK_PATHS = [
    "/product/serum",
    "/product/cream",
    "/summer",
    "/blog/how-to",
    "/blog/sustainability",
    "/pricing",
    "/product",
]


def utm_link(rng, source: str, utm_campaign: str | None, broken: bool) -> str:
    """A tracked link; `broken` gives one of the ways UTMs go missing in practice."""
    path = rng.choice(LINK_PATHS)
    if not broken:
        return f"{BASE_URL}{path}?utm_source={source}&utm_medium=social&utm_campaign={utm_campaign}"
    kind = rng.randrange(4)
    if kind == 0:
        return f"{BASE_URL}{path}"
    if kind == 1:
        return f"{BASE_URL}{path}?utm_source={source}&utm_medium=social"
    if kind == 2:
        return f"{BASE_URL}{path}?utm_source={source}&utm_medium=social&utm_campaing={utm_campaign or 'always_on'}"
    return f"{BASE_URL}{path}?utm_source={source}&utm_medium=social&utm_campaign="


def post_text(rng, topics: list[str], link: str | None, mention_campaign: str | None) -> str:
    p = rng.choice(PRODUCTS)
    body = rng.choice(POST_TEXTS[topics[0]]).format(p=p)
    if mention_campaign:
        body = f"{mention_campaign}: {body}"
    if link:
        body += " " + rng.choice(CTA).format(u=link)
    return body + " " + " ".join("#" + t for t in topics) + " #lumora"


def pick_label(rng) -> str:
    r = rng.random()
    for label, p in BASE_LABELS:
        if r < p:
            return label
        r -= p
    return "positive"


def post_times(rng, day: date, n: int) -> list[datetime]:
    """`n` publishing times on `day` (Berlin 07:30-21:30), in order, at least 20 min apart."""
    start = datetime.combine(day, time(7, 30), tzinfo=BERLIN).astimezone(UTC)
    slots = sorted(rng.sample(range(0, 14 * 3), n))  # 20-minute slots over 14 hours
    return [start + timedelta(minutes=20 * s + rng.randrange(20), seconds=rng.randrange(60)) for s in slots]


class CommentMaker:
    """Customer comments and brand replies, as plain dicts: each platform writes its own lines
    from them."""

    def __init__(self, rng, ents: Entities, cutoff: datetime):
        self.rng, self.ents, self.cutoff = rng, ents, cutoff

    def thread(self, created: datetime, tau: float, n_mean: float) -> list[dict]:
        """A list of plain comment dicts: {at, label, text, author(first,last,handle), like_count,
        reply: {at, text, minutes} | None, answered, crisis}."""
        rng = self.rng
        mult = crisis_multiplier(self.ents, created.date())
        n = max(0, int(round(n_mean * rng.uniform(0.5, 1.5))))
        extra_neg = int(round(n * 0.12 * (mult - 1))) if mult > 1 else 0
        out = []
        for i in range(n + extra_neg):
            crisis = i >= n
            offset_h = min(GROWTH_DAYS * 24.0, rng.expovariate(1 / (tau * 9)))
            at = created + timedelta(hours=offset_h, seconds=rng.randrange(60))
            if crisis:
                label = "question" if rng.random() < 0.25 else "negative"
                text = rng.choice(CRISIS_COMMENTS[label])
            else:
                label = pick_label(rng)
                text = rng.choice(COMMENTS[label])
            first, last = rng.choice(FIRST), rng.choice(LAST)
            text = text.format(
                p=rng.choice(PRODUCTS),
                p2=rng.choice(PRODUCTS),
                c=rng.choice(COUNTRY_NAMES),
                f=f"{rng.choice(FIRST).lower()}.{rng.randrange(10, 99)}",
            )
            like_count = int(rng.expovariate(0.6)) if rng.random() < 0.5 else 0
            if at >= self.cutoff:
                continue  # not written yet as of the world's `as_of`
            reply = None
            p_reply = REPLY_PROBABILITY[label] * (0.75 if mult > 1 else 1.0)
            if rng.random() < p_reply:
                minutes = reply_delay_minutes(rng, at, mult)
                r_at = at + timedelta(minutes=minutes)
                r_text = rng.choice(REPLIES["crisis" if crisis else label]).format(n=first)
                if r_at < self.cutoff:
                    reply = {"at": r_at, "text": r_text, "minutes": round(minutes, 1)}
            out.append(
                {
                    "at": at,
                    "label": label,
                    "text": text,
                    "first": first,
                    "last": last,
                    "like_count": like_count,
                    "reply": reply,
                    "crisis": crisis,
                }
            )
        out.sort(key=lambda c: c["at"])
        return out


# -- the day-by-day skeleton Facebook and Instagram share ------------------------------------
def _funnel_by_day(spec, channel: str) -> dict[date, list]:
    by_day: dict[date, list] = defaultdict(list)
    for r in funnel(spec):
        if r.channel == channel:
            by_day[r.day].append(r)
    return by_day


def _increments(active: list[dict], day: date, keys: tuple[str, ...]) -> dict[str, float]:
    """Sum over recent posts of how much each lifetime metric grew on `day` (UTC)."""
    end, start = midnight_utc(day + timedelta(days=1)), midnight_utc(day)
    out = dict.fromkeys(keys, 0.0)
    for p in active:
        g = growth((end - p["_at"]).total_seconds() / 86400, p["tau_days"]) - growth(
            (start - p["_at"]).total_seconds() / 86400, p["tau_days"]
        )
        if g:
            for k in keys:
                out[k] += p["_sum"][k] * g
    return out


class Publisher:
    """Writes an organic Meta domain day by day: the skeleton the Facebook and Instagram
    generators share. A platform says what one post is (`publish`: its line and comments) and
    what an account's day is (`daily_row`); the rest is here.

    Each day, every campaign the funnel sends `CHANNEL` sessions for gets one link post
    (round-robin over the accounts) whose final link clicks are `round(sessions / CLICK_SHARE)`;
    on half the days a post with a broken UTM takes the `(not set)` sessions. Both go to
    `link_clicks.jsonl`. Each account fills its day up to 2-3 posts (plus `extra_slots`),
    published at `post_times`. After the day's posts, each account's daily line grows by what its
    posts of the last `GROWTH_DAYS` grew that day (`_increments` over `GROWTH_KEYS`).

    The order of the draws is part of the world (the same seed gives the same bytes): `prng`
    plans the day, then each account's slots and posts in turn; comments draw from `crng` and
    daily lines from `drng`."""

    DOMAIN: str
    CHANNEL: str
    ID: str  # the account's id key (page_id, ig_user_id)
    POSTS: str  # the file of the post lines
    DAILY: str  # the file of the daily account lines
    POST_DRAWS: str  # the name of the posts' random stream (`rng_for`)
    GROWTH_KEYS: tuple[str, ...]  # what `publish` says a post grows by; `daily_row` gets their increments

    def __init__(self, spec, ents: Entities, accounts: list[dict]):
        self.spec, self.ents, self.accounts = spec, ents, accounts
        self.prng = rng_for(spec, self.DOMAIN, self.POST_DRAWS)
        self.crng = rng_for(spec, self.DOMAIN, "comments")
        self.drng = rng_for(spec, self.DOMAIN, "daily")
        self.cutoff = midnight_utc(ents.as_of)
        self.maker = CommentMaker(self.crng, ents, self.cutoff)
        self.followers = {a[self.ID]: a["followers_start"] for a in accounts}
        self.active: dict[str, list[dict]] = {a[self.ID]: [] for a in accounts}  # posts still growing
        self.comments_on: dict[tuple[str, date], int] = defaultdict(int)  # comments and replies per account and day
        self.t: dict[str, int] = defaultdict(int)
        self.labels: dict[str, int] = defaultdict(int)
        self.response_minutes: list[float] = []
        self.totals_final: dict[str, int] = defaultdict(int)
        self.totals_as_of: dict[str, int] = defaultdict(int)

    # -- what a platform says ---------------------------------------------------------------
    def extra_slots(self) -> list:
        """Slots an account fills each day beyond links and fillers (drawn from `prng`)."""
        return []

    def publish(
        self, account: dict, at: datetime, slot, day: date, crisis: float, comments: JsonlWriter
    ) -> tuple[dict, dict]:
        """Write the post's comments; return its line and what it grows by (`GROWTH_KEYS`).
        `slot`: a link plan ({utm, broken, clicks}), None (a filler) or an `extra_slots` item."""
        raise NotImplementedError

    def daily_row(self, account: dict, day: date, grew: dict[str, float], crisis: float, comments: int) -> dict:
        """The account's line of `day`: `grew` by its posts, `comments` made that day."""
        raise NotImplementedError

    # -- the skeleton ---------------------------------------------------------------------------
    def write(self, out: Path) -> None:
        by_day = _funnel_by_day(self.spec, self.CHANNEL)
        with (
            JsonlWriter(out / self.POSTS) as posts,
            JsonlWriter(out / "comments.jsonl") as comments,
            JsonlWriter(out / self.DAILY) as daily,
            JsonlWriter(out / "link_clicks.jsonl") as clicks,
        ):
            for day_idx, day in enumerate(days(self.spec)):
                crisis = crisis_multiplier(self.ents, day)
                plan = self._links(day_idx, day, by_day.get(day, []), clicks)
                for account in self.accounts:
                    for at, slot in self._slots(day, plan[account[self.ID]]):
                        line, grows = self.publish(account, at, slot, day, crisis, comments)
                        posts.write(line)
                        self._count_post(account, at, line, grows)
                for account in self.accounts:
                    aid = account[self.ID]
                    self.active[aid] = [p for p in self.active[aid] if (day - p["_at"].date()).days <= GROWTH_DAYS + 1]
                    grew = _increments(self.active[aid], day, self.GROWTH_KEYS)
                    daily.write(self.daily_row(account, day, grew, crisis, self.comments_on.pop((aid, day), 0)))
                    self.t["daily_rows"] += 1

    def _links(self, day_idx: int, day: date, rows: list, clicks: JsonlWriter) -> dict[str, list[dict]]:
        """The day's link posts per account, their clicks written to `link_clicks.jsonl`."""
        plan: dict[str, list[dict]] = {a[self.ID]: [] for a in self.accounts}
        for i, r in enumerate(x for x in rows if x.utm_campaign != "(not set)"):
            account = self.accounts[(day_idx + i) % len(self.accounts)][self.ID]
            plan[account].append(_link_plan(r, day, False, clicks))
        not_set = next((r for r in rows if r.utm_campaign == "(not set)"), None)
        if not_set is not None and self.prng.random() < 0.5:
            plan[self.accounts[day_idx % len(self.accounts)][self.ID]].append(_link_plan(not_set, day, True, clicks))
        return plan

    def _slots(self, day: date, links: list[dict]) -> list[tuple[datetime, object]]:
        """An account's posts of the day (links, fillers, extras) in publishing order, with their times."""
        fillers = max(self.prng.choice((2, 2, 3)) - len(links), 1 if self.prng.random() < 0.6 else 0)
        todo = links + [None] * fillers
        todo += self.extra_slots()
        self.prng.shuffle(todo)
        return list(zip(post_times(self.prng, day, len(todo)), todo))

    def _count_post(self, account: dict, at: datetime, line: dict, grows: dict) -> None:
        self.t["posts"] += 1
        self.t["with_link"] += line["link"] is not None
        self.t["with_broken_utm"] += line["utm_ok"] is False
        self.active[account[self.ID]].append({"_at": at, "tau_days": line["tau_days"], "_sum": grows})

    def count_thread(self, account_id: str, thread: list[dict]) -> None:
        """Count a post's comments and the brand's replies (for the truths and the daily lines)."""
        for c in thread:
            self.labels[c["label"]] += 1
            self.t["comments"] += 1
            self.t["crisis_comments"] += c["crisis"]
            self.comments_on[(account_id, c["at"].date())] += 1
            if c["reply"] is None:
                self.t["unanswered"] += 1
                continue
            self.t["replies"] += 1
            self.response_minutes.append(c["reply"]["minutes"])
            self.comments_on[(account_id, c["reply"]["at"].date())] += 1

    def truths(self) -> dict:
        """What both platforms report: comments, replies, response times, lifetime totals."""
        minutes = sorted(self.response_minutes)
        return {
            "comments": self.t["comments"],
            "replies": self.t["replies"],
            "unanswered": self.t["unanswered"],
            "comments_by_label": dict(sorted(self.labels.items())),
            "crisis_comments": self.t["crisis_comments"],
            "median_response_minutes": minutes[len(minutes) // 2] if minutes else None,
            "lifetime_final": dict(sorted(self.totals_final.items())),
            "lifetime_as_of_unrestated": dict(sorted(self.totals_as_of.items())),
        }


def _link_plan(row, day: date, broken: bool, clicks: JsonlWriter) -> dict:
    """A link post for a funnel row: final link clicks `round(sessions / CLICK_SHARE)`."""
    n = int(round(row.sessions / CLICK_SHARE))
    clicks.write(
        {"date": day.isoformat(), "utm_campaign": row.utm_campaign, "sessions": row.sessions, "link_clicks": n}
    )
    return {"utm": None if broken else row.utm_campaign, "broken": broken, "clicks": n}


# -- the Pages ---------------------------------------------------------------------------------
def pages(spec) -> list[dict]:
    rng = rng_for(spec, DOMAIN, "pages")
    out = []
    for i in range(spec.scale):
        out.append(
            {
                "page_id": str(104000000000001 + i * 17),
                "name": "Lumora" if i == 0 else f"Lumora {i + 1}",
                "followers_start": rng.randint(38_000, 56_000),
            }
        )
    return out


_STATUS_TYPE = {
    "video": "added_video",
    "reel": "added_video",
    "image": "added_photos",
    "link": "shared_story",
    "text": "mobile_status_update",
}
_VIEW_MULT = {"video": 1.3, "reel": 1.8, "image": 1.0, "link": 0.7, "text": 0.5}
_REACTION_SHARES = (
    ("like", 0.70),
    ("love", 0.15),
    ("care", 0.03),
    ("haha", 0.04),
    ("wow", 0.04),
    ("sad", 0.02),
    ("angry", 0.02),
)


def reactions_split(rng, total: int, crisis: float) -> dict[str, int]:
    """Reactions by type, types with none left out (as the API does)."""
    weights = [
        (k, w * rng.uniform(0.7, 1.3) * (min(8.0, crisis) if k in ("angry", "sad") else 1.0))
        for k, w in _REACTION_SHARES
    ]
    s = sum(w for _, w in weights)
    out = {}
    left = total
    for k, w in weights[1:]:
        v = min(left, int(round(total * w / s)))
        left -= v
        if v:
            out[k] = v
    if left:
        out = {"like": left, **out}
    return out


class PagePublisher(Publisher):
    """The Facebook Pages' posts, comments and daily Page insights."""

    DOMAIN = DOMAIN
    CHANNEL = CHANNEL
    ID = "page_id"
    POSTS = "posts.jsonl"
    DAILY = "page_insights.jsonl"
    POST_DRAWS = "posts"
    GROWTH_KEYS = ("views", "engagements")

    def __init__(self, spec, ents: Entities):
        super().__init__(spec, ents, pages(spec))
        self.post_seq = {p["page_id"]: 0 for p in self.accounts}
        self.comment_seq = 0

    def publish(self, page, at, link_plan, day, crisis, comments):
        prng, pid = self.prng, page["page_id"]
        self.post_seq[pid] += 1
        suffix = str(1220000000000000 + int(pid) % 1000 * 10_000_000 + self.post_seq[pid] * 7)
        post_id = f"{pid}_{suffix}"
        if link_plan is None:
            ctype = prng.choice(CONTENT_TYPES["facebook"])
            if ctype == "link":
                ctype = "image"
        else:
            ctype = prng.choice(("link", "link", "image", "video"))
        topics = prng.sample(TOPICS, prng.choice((1, 1, 2)))
        if link_plan and link_plan["utm"] and "promotion" not in topics and prng.random() < 0.5:
            topics = ["promotion", *topics][:2]
        link = None
        camp_name = None
        if link_plan is not None:
            link = utm_link(prng, "facebook", link_plan["utm"], link_plan["broken"])
            camp = next((c for c in self.ents.campaigns if c.utm_campaign == link_plan["utm"]), None)
            camp_name = camp.name if camp is not None and prng.random() < 0.4 else None
        tau = round(prng.uniform(2.5, 4.5) if ctype in ("video", "reel") else prng.uniform(0.8, 2.5), 3)
        reach = int(self.followers[pid] * prng.uniform(0.04, 0.22) * _VIEW_MULT[ctype])
        views = int(reach * prng.uniform(1.2, 1.8))
        reactions_total = int(views * prng.uniform(0.01, 0.045))
        reactions = reactions_split(prng, reactions_total, crisis)
        shares = int(reactions_total * prng.uniform(0.02, 0.1))
        link_clicks = link_plan["clicks"] if link_plan is not None else 0
        other_clicks = int(views * prng.uniform(0.004, 0.02))
        photo_views = int(views * prng.uniform(0.01, 0.04)) if ctype == "image" else 0
        message = (
            None
            if (link is None and ctype in ("image", "video", "reel") and prng.random() < 0.04)
            else post_text(prng, topics, link, camp_name)
        )
        edited = prng.random() < 0.06
        # Comments first: the post line carries their counts.
        thread = self.maker.thread(at, tau, n_mean=70 * _VIEW_MULT[ctype] ** 0.5)
        self.count_thread(pid, thread)
        recs = self._comment_lines(page, post_id, suffix, thread)
        for r in recs:
            comments.write(r)
        final = {
            "reactions": reactions,
            "shares": shares,
            "link_clicks": link_clicks,
            "other_clicks": other_clicks,
            "photo_views": photo_views,
            "media_view": views,
            "media_view_unique": reach,
        }
        rec = {
            "id": post_id,
            "page_id": pid,
            "created_time": fmt_ts(at),
            "updated_time": fmt_ts(min(at + timedelta(hours=prng.uniform(0.2, 30)), self.cutoff - timedelta(seconds=1)))
            if edited
            else fmt_ts(at),
        }
        if message is not None:
            rec["message"] = message
        rec.update(
            {
                "permalink_url": f"https://www.facebook.com/{pid}/posts/{suffix}",
                "status_type": _STATUS_TYPE[ctype],
                "content_type": ctype,
                "topics": topics,
                "link": link,
                "utm_campaign": link_plan["utm"] if link_plan else None,
                "utm_ok": (not link_plan["broken"]) if link_plan else None,
                "tau_days": tau,
                "final": final,
                "comments_total": len(recs),
                "comments_toplevel": len(thread),
            }
        )
        rsum = sum(reactions.values())
        for k, v in (
            ("reactions", rsum),
            ("shares", shares),
            ("link_clicks", link_clicks),
            ("media_view", views),
            ("media_view_unique", reach),
            ("post_clicks", link_clicks + other_clicks + photo_views),
        ):
            self.totals_final[k] += v
            self.totals_as_of[k] += (
                value_at(v, at, self.cutoff, tau)
                if k != "reactions"
                else sum(value_at(x, at, self.cutoff, tau) for x in reactions.values())
            )
        return rec, {"views": views, "engagements": rsum + shares + link_clicks + other_clicks + photo_views}

    def _comment_lines(self, page: dict, post_id: str, suffix: str, thread: list[dict]) -> list[dict]:
        """The post's block of `comments.jsonl`: its flat stream, chronological, replies included."""
        pid = page["page_id"]
        recs: list[dict] = []
        for c in thread:
            self.comment_seq += 1
            cid = f"{suffix}_{1330000000000000 + self.comment_seq * 3}"
            reply = c["reply"]
            recs.append(
                {
                    "post_id": post_id,
                    "id": cid,
                    "created_time": fmt_ts(c["at"]),
                    "message": c["text"],
                    "from": {
                        "id": str(100000000000000 + (hash_name(c["first"], c["last"]) % 10**14)),
                        "name": f"{c['first']} {c['last']}",
                    },
                    "like_count": c["like_count"],
                    "comment_count": 1 if reply else 0,
                    "permalink_url": f"https://www.facebook.com/{pid}/posts/{suffix}/?comment_id={cid.split('_')[1]}",
                    "_label": c["label"],
                    "_crisis": c["crisis"],
                    "_answered": reply is not None,
                    "_response_minutes": reply["minutes"] if reply else None,
                }
            )
            if reply:
                self.comment_seq += 1
                rid = f"{suffix}_{1330000000000000 + self.comment_seq * 3}"
                recs.append(
                    {
                        "post_id": post_id,
                        "id": rid,
                        "created_time": fmt_ts(reply["at"]),
                        "message": reply["text"],
                        "from": {"id": pid, "name": page["name"]},
                        "like_count": 1 if self.crng.random() < 0.3 else 0,
                        "comment_count": 0,
                        "parent_id": cid,
                        "permalink_url": f"https://www.facebook.com/{pid}/posts/{suffix}/?comment_id={cid.split('_')[1]}"
                        f"&reply_comment_id={rid.split('_')[1]}",
                        "_label": "brand_reply",
                        "_response_minutes": reply["minutes"],
                    }
                )
        recs.sort(key=lambda r: r["created_time"])
        return recs

    def daily_row(self, page, day, grew, crisis, comments):
        pid, drng = page["page_id"], self.drng
        media_view = int(round(grew["views"])) + drng.randint(150, 600)
        follows = max(0, int(round(drng.gauss(28, 7) * (0.8 if day.weekday() >= 5 else 1.0) + media_view * 0.0012)))
        unfollows = max(0, int(round(drng.gauss(11, 3) * (1 + (crisis - 1) * 0.5))))
        self.followers[pid] += follows - unfollows
        return {
            "page_id": pid,
            "date": day.isoformat(),
            "page_follows": self.followers[pid],
            "page_daily_follows_unique": follows,
            "page_daily_unfollows_unique": unfollows,
            "page_media_view": media_view,
            "page_post_engagements": int(round(grew["engagements"])) + comments,
        }


def generate(spec, ents: Entities, out: Path) -> dict:
    pub = PagePublisher(spec, ents)
    pub.write(out)
    pages_out = [
        {
            "page_id": p["page_id"],
            "name": p["name"],
            "followers_start": p["followers_start"],
            "followers_count": pub.followers[p["page_id"]],
            "fan_count": int(round(pub.followers[p["page_id"]] * 0.94)),
        }
        for p in pub.accounts
    ]
    write_json(out / "pages.json", pages_out)
    t = pub.t
    return {
        **pub.truths(),
        "pages": pages_out,
        "posts": t["posts"],
        "posts_with_link": t["with_link"],
        "posts_with_broken_utm": t["with_broken_utm"],
        "page_insight_rows": t["daily_rows"],
        "records": t["posts"] + t["comments"] + t["replies"] + t["daily_rows"],
    }


def hash_name(first: str, last: str) -> int:
    """A stable id for a commenter (the same name is the same person, as far as the world goes)."""
    h = 1469598103934665603
    for ch in f"{first} {last}".encode():
        h = ((h ^ ch) * 1099511628211) % 2**64
    return h
