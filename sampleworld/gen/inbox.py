"""The customer-care inbox: direct messages to the brand's Facebook Page (Messenger) and
Instagram account, and the brand's answers (served by `sampleworld/fakes/meta_graph.py` as the
Graph conversations API).

Customers write about orders, delivery, product use, returns; they complain and they praise.
During the crisis (`ents.crisis`) more of them write, most about the recall rumour, and the
team answers slower and less often. Messages alternate customer / brand (1-6 a conversation,
the customer first); the brand's replies come minutes after a message in Europe/Berlin
business hours (weekdays 9-18) and at the next opening otherwise (`facebook.reply_delay_minutes`).

Survey join: every survey response of channel `social_dm` and platform facebook / instagram
(`sampleworld/gen/survey.py`) is the survey after one of these conversations: the conversation's
`id` is the response's `conversation_id`, it was answered and it ended before the survey was
opened (`landed_at`); its topic and tone follow the score. The responses are re-derived from
survey.py itself (see `survey_dm_responses`), so the join holds whatever the generation order and
with `SKW_SAMPLE_DOMAINS=inbox` alone. Survey responses on x / linkedin are not Meta
conversations and have no counterpart here. Conversations not linked to a survey are the
other ~75% (most customers never answer one).

Files (under `inbox/`):
- `conversations.jsonl`: one line a conversation, written in batches per world day (a day's
  conversations and the ones its survey responses close), by first message time within a batch.
  `id` (`conv_<12 hex>`), `platform` (`messenger` | `instagram`), `page_id` (the Page the
  conversations are listed on), `ig_user_id` (instagram), `customer` and `brand` (the
  participants as the API writes them: Messenger `{name, email, id}`, Instagram
  `{username, id}`), `created_time`, `updated_time` (last message), `message_count`,
  `snippet`, `last_customer_time`. Generator-only keys start with `_`: `_topic`, `_sentiment`,
  `_answered` (a brand reply exists as of `as_of`), `_pending` (the next brand reply would come
  after `as_of`), `_first_response_minutes`, `_business_hours` (first message inside business
  hours), `_crisis`, `_csat_response_id`, `_ticket_id`.
- `messages.jsonl`: every message, grouped by conversation (same order as the conversations),
  chronological within one: `conversation_id` (first key), `id`, `created_time`, `message`,
  `from`, `to` (`{"data": [participant]}`), `_sender` (`customer` | `brand`),
  `_response_minutes` (brand messages: minutes since the customer message they answer).

Message ids encode their conversation (`message_id` / `conversation_of_message`), so the fake
resolves `GET /{message_id}` without an index: Messenger `m_<base64>`, Instagram `aWdf...`
(base64 of `ig_message:...`), as opaque as the real ones.

Counts: `DAILY` conversations a weekday at scale 1 plus the survey-linked ones (~7 a day).
"""

from __future__ import annotations

import base64
import hashlib
import math
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sampleworld.entities import Entities, days, rng_for
from sampleworld.gen import survey
from sampleworld.gen.facebook import (
    BERLIN,
    COUNTRY_NAMES,
    FIRST,
    LAST,
    PRODUCTS,
    UTC,
    business_hours,
    crisis_multiplier,
    fmt_ts,
    hash_name,
    midnight_utc,
    reply_delay_minutes,
)
from sampleworld.gen.facebook import pages as fb_pages
from sampleworld.gen.instagram import _username
from sampleworld.gen.instagram import accounts as ig_accounts
from sampleworld.jsonl import JsonlWriter
from sampleworld.numbers import weighted_pick

DOMAIN = "inbox"
DAILY = 24  # conversations a weekday at scale 1, besides the survey-linked ones
PLATFORMS = (("messenger", 0.45), ("instagram", 0.55))
SURVEY_PLATFORM = {"facebook": "messenger", "instagram": "instagram"}
# Local (Berlin) hour of a customer's first message: quiet at night, peaks at lunch and evening.
HOUR_WEIGHTS = (
    0.4,
    0.2,
    0.1,
    0.1,
    0.1,
    0.2,
    0.5,
    1.2,
    2.0,
    2.6,
    2.8,
    3.0,
    3.4,
    3.2,
    2.8,
    2.7,
    2.8,
    3.0,
    3.3,
    3.8,
    4.2,
    4.0,
    3.0,
    1.4,
)
# Messages in a conversation (customer first, alternating) when the brand answers.
LENGTHS = ((2, 0.42), (3, 0.16), (4, 0.26), (5, 0.06), (6, 0.10))
SURVEY_LENGTHS = ((2, 0.35), (3, 0.15), (4, 0.35), (5, 0.05), (6, 0.10))
ANSWER_RATE = {"praise": 0.72, "recall": 0.85}  # others 0.94; lower while the crisis floods the inbox
TOPIC_WEIGHTS = (
    ("order_status", 0.22),
    ("delivery", 0.16),
    ("product_use", 0.22),
    ("returns", 0.08),
    ("complaint", 0.14),
    ("praise", 0.12),
    ("stock", 0.06),
)
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

# (sentiment, text) a topic's first customer message. {p} {p2} product, {o} order, {c} country, {d} day.
OPENERS = {
    "order_status": [
        ("neutral", "Hi, can you tell me where my order {o} is?"),
        ("neutral", "Hello! I ordered on {d}, when will it ship? Order {o}"),
        ("negative", "My tracking link for order {o} hasn't moved in 4 days. What's going on?"),
        ("negative", "I was charged for order {o} but never got a confirmation email."),
        ("neutral", "Hi there 👋 Did my order {o} go through?"),
    ],
    "delivery": [
        ("neutral", "Hi, do you deliver to {c}? How long does it take?"),
        ("neutral", "How much is shipping to {c}?"),
        ("negative", "Tracking says delivered but there is no parcel 😟 Order {o}"),
        ("neutral", "Can I still change the delivery address for order {o}? I'm moving next week."),
        ("negative", "Second week waiting for order {o}. Is it lost?"),
    ],
    "product_use": [
        ("neutral", "Hi! Can I use the {p} together with retinol?"),
        ("neutral", "How often should I use the {p}? Morning and evening?"),
        ("neutral", "Is the {p} safe to use during pregnancy?"),
        ("neutral", "Should I apply the {p} before or after the {p2}?"),
        ("neutral", "I have very dry skin, would you recommend the {p} or the {p2}?"),
        ("positive", "Loving the {p}! Would it work with the {p2} too?"),
        ("neutral", "Is the {p} suitable for oily skin?"),
    ],
    "returns": [
        ("neutral", "Hi, I'd like to return the {p}, it doesn't suit my skin. How does that work?"),
        ("neutral", "How do I get a refund for order {o}?"),
        ("negative", "I got a {p2} instead of the {p} I ordered. What now?"),
        ("negative", "I sent my return back three weeks ago and still no refund for {o}."),
    ],
    "complaint": [
        ("negative", "The pump of my {p} broke after one week. Really disappointed."),
        ("negative", "I've emailed your support three times about order {o} and nobody answers!"),
        ("negative", "I was charged twice for order {o}. Please fix this."),
        ("negative", "The {p} gave me a rash 😞"),
        ("negative", "My parcel arrived damaged, the {p} leaked everywhere."),
        ("negative", "The new formula of the {p} is so much worse. Why did you change it?"),
    ],
    "praise": [
        ("positive", "Just wanted to say the {p} changed my skin, thank you! 💛"),
        ("positive", "Your team was so helpful last week, thanks again!"),
        ("positive", "Love the new refill pouches 🌱"),
        ("positive", "Best {p} I've ever used. Will there be a bigger size?"),
    ],
    "stock": [
        ("neutral", "When is the {p} back in stock?"),
        ("neutral", "Will the {p} come back? It's been sold out for weeks."),
        ("negative", "Sold out AGAIN? I've been waiting for the {p} for a month."),
    ],
    "recall": [
        ("negative", "Is it true the {p} is being recalled??"),
        ("negative", "I read about a recall. Is my {p} affected? I bought it this spring."),
        ("negative", "Why is nobody answering about the recall? I want my money back."),
        ("neutral", "Should I stop using the {p}? I'm a bit worried after the news."),
        ("negative", "My {p} is from the affected batch, what do I do now?!"),
    ],
}
FIRST_REPLY = {
    "order_status": [
        "Hi {n}, thanks for reaching out! Could you send us the email address you ordered with so we can check {o}?",
        "Hi {n}, let me check that for you right away. One moment please 🙏",
        "Hi {n}, sorry for the wait! We're looking into order {o} now.",
    ],
    "delivery": [
        "Hi {n}, we ship to all EU countries, the UK and the US: 3-5 working days, free from €40.",
        "Hi {n}, sorry to hear that! Could you check with your neighbours? If it doesn't turn up we'll open a claim with the carrier.",
        "Hi {n}, yes, as long as it hasn't shipped. Please send us the new address.",
    ],
    "product_use": [
        "Hi {n}, great question! Yes, just use the {p} in the morning and retinol in the evening.",
        "Hi {n}, twice a day works best: two to three drops on clean skin.",
        "Hi {n}, the {p} is fragrance free and dermatologically tested. During pregnancy we always recommend checking with your doctor first.",
        "Hi {n}, apply the lighter texture first: serum, then cream 😊",
    ],
    "returns": [
        "Hi {n}, of course! You can return any product within 30 days: lumora.example/returns",
        "Hi {n}, we're so sorry about the mix-up! We'll send the right product today, no need to return the other one.",
        "Hi {n}, sorry for the delay! Could you send us your order number so we can check the refund?",
    ],
    "complaint": [
        "Hi {n}, we're really sorry about this. Could you send us your order number and a photo?",
        "Hi {n}, that's not the experience we want you to have. Let us make it right: what's your order number?",
        "Hi {n}, we apologise for the trouble. Our care team is on it.",
    ],
    "praise": [
        "Aww, thank you so much {n}! 💛 That made our day.",
        "Thank you {n}! We'll pass this on to the team 🥰",
        "That's so lovely to hear, {n}! Thank you ✨",
    ],
    "stock": [
        "Hi {n}, the {p} is back next week! Sign up for an alert on lumora.example and you'll be the first to know.",
        "Hi {n}, sorry about that! New stock arrives in about two weeks.",
    ],
    "recall": [
        "Hi {n}, there is no recall of any Lumora product. All batches passed independent testing: lumora.example/safety",
        "Hi {n}, we understand the concern. No Lumora product is recalled; the full statement is on lumora.example/safety.",
        "Hi {n}, sorry for the slow reply, we're receiving many messages. There is no recall: lumora.example/safety",
    ],
}
FOLLOW_UP = {
    "positive": ["Thank you so much! 😊", "Perfect, that helps!", "Great, thanks!", "Amazing, thank you 💛"],
    "neutral": [
        "Thanks! It's order {o}.",
        "Okay, and how long will that take?",
        "Thanks. It's {o}, ordered on {d}.",
        "Got it, thanks! One more question: is the {p2} vegan?",
        "Sent you the details, thanks.",
    ],
    "negative": [
        "Order {o}. I expect a refund.",
        "Here's the photo. This is really not okay.",
        "It's {o}. I've been waiting way too long.",
        "That doesn't answer my question.",
        "I've already sent that twice!",
    ],
}
RESOLVE = {
    "positive": ["Happy to help, {n}! Enjoy your routine ✨", "Anytime, {n}! 💛"],
    "neutral": [
        "Thanks {n}! Your parcel left our warehouse today: lumora.example/track/{o}",
        "Thanks {n}, all sorted! You'll get an email confirmation shortly.",
        "Yes, {n}, the {p2} is 100% vegan and cruelty free.",
        "Thanks {n}! Usually 3-5 working days.",
    ],
    "negative": [
        "We're very sorry, {n}. We've refunded order {o} in full; you'll see it in 3-5 days.",
        "Sorry again, {n}. A replacement is on its way, and we've added a 15% voucher to your account.",
        "You're right, {n}, and we apologise. A colleague from our care team will call you today.",
    ],
}
CUSTOMER_CLOSE = {
    "positive": ["Perfect, thank you!", "Great, thanks so much 🙏", "You're the best!"],
    "neutral": ["Okay, thanks.", "Great, thank you!", "Thanks for the quick help."],
    "negative": [
        "Okay. I hope it really works this time.",
        "Fine, but this took far too long.",
        "We'll see. Not impressed so far.",
    ],
}
BRAND_CLOSE = {
    "positive": ["You're welcome, {n}! Have a lovely day 💛", "Happy to help, {n}. Reach out anytime!"],
    "neutral": ["You're welcome, {n}! Have a lovely day 💛", "Happy to help, {n}. Reach out anytime!"],
    "negative": [
        "We understand, {n}, and we're sorry again. We'll keep an eye on it for you.",
        "Thank you for your patience, {n}. Please message us if anything else comes up.",
    ],
}


# -- ids -------------------------------------------------------------------------------------
def conversation_id(spec, day: date, n: int) -> str:
    """A conversation not linked to a survey; the same shape as survey.py's `conv_<12 hex>`."""
    return f"conv_{hashlib.sha256(f'{spec.seed}:inbox:{day.isoformat()}:{n}'.encode()).hexdigest()[:12]}"


def message_id(platform: str, conv_id: str, index: int) -> str:
    if platform == "instagram":
        raw = f"ig_message:1:IGMessageThread:{conv_id}:{index}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    return "m_" + base64.urlsafe_b64encode(f"{conv_id}:{index}".encode()).decode().rstrip("=")


def conversation_of_message(mid: str) -> str | None:
    """The conversation a `message_id` belongs to (None when it is not one of ours)."""
    try:
        body = mid[2:] if mid.startswith("m_") else mid
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    if mid.startswith("m_"):
        conv = raw.rsplit(":", 1)[0]
    elif raw.startswith("ig_message:1:IGMessageThread:"):
        conv = raw.split(":")[3]
    else:
        return None
    return conv if conv.startswith("conv_") else None


def psid(first: str, last: str) -> str:
    """A customer's Page-scoped id (Messenger)."""
    return str(7_000_000_000_000_000 + hash_name(first, last) % 10**15)


def igsid(first: str, last: str) -> str:
    """A customer's Instagram-scoped id."""
    return str(6_000_000_000_000_000 + hash_name(last, first) % 10**15)


def participant(platform: str, first: str, last: str) -> dict:
    if platform == "instagram":
        return {"username": _username(first, last, hash_name(first, last)), "id": igsid(first, last)}
    pid = psid(first, last)
    return {"name": f"{first} {last}", "email": f"{pid}@facebook.com", "id": pid}


def brand_participant(platform: str, page: dict, account: dict) -> dict:
    if platform == "instagram":
        return {"username": account["username"], "id": account["ig_user_id"]}
    return {"name": page["name"], "email": f"{page['page_id']}@facebook.com", "id": page["page_id"]}


# -- the survey ------------------------------------------------------------------------------
def survey_dm_responses(spec, ents: Entities) -> list[dict]:
    """survey.py's `social_dm` responses on facebook / instagram, as survey.py writes them (its
    randomness is its own: nothing here is drawn from it)."""
    return [
        r
        for r in survey.iter_responses(spec, ents)
        if r["channel"] == "social_dm" and r.get("platform") in SURVEY_PLATFORM
    ]


def _parse_survey_ts(s: str) -> datetime:
    """survey.py writes `2026-06-01T09:00:00Z` (whole seconds)."""
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


# -- drawing ---------------------------------------------------------------------------------


def _crisis_share(ents: Entities, day: date) -> float:
    top = float(ents.crisis["negative_multiplier_at_peak"])
    return (crisis_multiplier(ents, day) - 1) / (top - 1) if top > 1 else 0.0


def _start_second(rng, day: date) -> int:
    """Second of the UTC day a customer writes, weighted by the Berlin hour."""
    offset = int(datetime.combine(day, time(12), tzinfo=BERLIN).utcoffset().total_seconds() // 3600)
    weights = [HOUR_WEIGHTS[(h + offset) % 24] for h in range(24)]
    hour = weighted_pick(rng, [(h, w / sum(weights)) for h, w in enumerate(weights)])
    return hour * 3600 + rng.randrange(3600)


def _customer_delay_s(rng) -> int:
    """Seconds until the customer answers the brand: minutes mostly, sometimes the next day."""
    return max(20, int(min(36 * 60.0, rng.lognormvariate(math.log(14), 1.2)) * 60))


def _timeline(rng, start: datetime, n: int, mult: float) -> list[datetime]:
    """Times of `n` alternating messages (customer first), whole seconds."""
    times = [start]
    for i in range(1, n):
        prev = times[-1]
        if i % 2:
            secs = max(30, int(reply_delay_minutes(rng, prev, mult) * 60))
        else:
            secs = _customer_delay_s(rng)
        times.append(prev + timedelta(seconds=secs))
    return times


class _Texts:
    def __init__(self, rng, topic: str, sentiment: str, first: str):
        self.rng, self.topic, self.sentiment, self.first = rng, topic, sentiment, first
        self.vals = {
            "p": rng.choice(PRODUCTS),
            "p2": rng.choice(PRODUCTS),
            "c": rng.choice(COUNTRY_NAMES),
            "o": f"#LM-{rng.randint(100000, 999999)}",
            "d": rng.choice(WEEKDAYS),
            "n": first,
        }

    def at(self, i: int, opener: str) -> str:
        rng, s = self.rng, self.sentiment
        pool = {
            0: None,
            1: FIRST_REPLY[self.topic],
            2: FOLLOW_UP[s],
            3: RESOLVE[s],
            4: CUSTOMER_CLOSE[s],
            5: BRAND_CLOSE[s],
        }[i]
        text = opener if pool is None else rng.choice(pool)
        return text.format(**self.vals)


def _pick_opener(rng, topics: tuple[str, ...], sentiments: tuple[str, ...]) -> tuple[str, str, str]:
    """(topic, sentiment, text) among the openers of `topics` whose sentiment is allowed."""
    options = [(t, s, x) for t in topics for s, x in OPENERS[t] if s in sentiments]
    return options[rng.randrange(len(options))]


def _conversation(
    spec,
    rng,
    conv_id: str,
    platform: str,
    page: dict,
    account: dict,
    start: datetime,
    topic: str,
    sentiment: str,
    opener: str,
    n: int,
    mult: float,
    cutoff: datetime,
    fixed_times: list[datetime] | None = None,
) -> tuple[dict, list[dict]]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    cust, brand = participant(platform, first, last), brand_participant(platform, page, account)
    texts = _Texts(rng, topic, sentiment, first)
    times = fixed_times or _timeline(rng, start, n, mult)
    pending = False
    kept = [t for t in times if t < cutoff]
    if len(kept) < len(times):
        pending = len(kept) % 2 == 1  # the next message would have been the brand's
        times = kept
    msgs = []
    for i, at in enumerate(times):
        is_brand = i % 2 == 1
        msg = {
            "conversation_id": conv_id,
            "id": message_id(platform, conv_id, i),
            "created_time": fmt_ts(at),
            "message": texts.at(i, opener),
            "from": brand if is_brand else cust,
            "to": {"data": [cust if is_brand else brand]},
            "_sender": "brand" if is_brand else "customer",
        }
        if is_brand:
            msg["_response_minutes"] = round((at - times[i - 1]).total_seconds() / 60, 1)
        msgs.append(msg)
    last_customer = max(t for i, t in enumerate(times) if i % 2 == 0)
    conv = {
        "id": conv_id,
        "platform": platform,
        "page_id": page["page_id"],
        "ig_user_id": account["ig_user_id"] if platform == "instagram" else None,
        "customer": cust,
        "brand": brand,
        "created_time": fmt_ts(times[0]),
        "updated_time": fmt_ts(times[-1]),
        "message_count": len(msgs),
        "snippet": msgs[-1]["message"][:100],
        "last_customer_time": fmt_ts(last_customer),
        "_topic": topic,
        "_sentiment": sentiment,
        "_answered": len(msgs) > 1,
        "_pending": pending,
        "_first_response_minutes": msgs[1]["_response_minutes"] if len(msgs) > 1 else None,
        "_business_hours": business_hours(times[0]),
        "_crisis": topic == "recall" or mult > 1,
        "_csat_response_id": None,
        "_ticket_id": None,
    }
    return conv, msgs


def _organic_day(spec, ents: Entities, day: date, pairs, cutoff: datetime) -> list[tuple[dict, list[dict]]]:
    rng = rng_for(spec, DOMAIN, "day", day.isoformat())
    mult = crisis_multiplier(ents, day)
    share = _crisis_share(ents, day)
    n = round(
        DAILY * spec.scale * (0.85 if day.weekday() >= 5 else 1.0) * rng.uniform(0.85, 1.15) * (1 + (mult - 1) / 5)
    )
    out = []
    for i in range(n):
        conv_id = conversation_id(spec, day, i)
        platform = weighted_pick(rng, PLATFORMS)
        page, account = pairs[rng.randrange(len(pairs))]
        start = midnight_utc(day) + timedelta(seconds=_start_second(rng, day))
        topic = "recall" if rng.random() < 0.75 * share else weighted_pick(rng, TOPIC_WEIGHTS)
        _, sentiment, opener = _pick_opener(rng, (topic,), ("positive", "neutral", "negative"))
        p_answer = ANSWER_RATE.get(topic, 0.94) - 0.2 * share
        length = weighted_pick(rng, LENGTHS) if rng.random() < p_answer else 1
        out.append(
            _conversation(
                spec, rng, conv_id, platform, page, account, start, topic, sentiment, opener, length, mult, cutoff
            )
        )
    return out


def _survey_conversation(spec, ents: Entities, resp: dict, pairs, cutoff: datetime) -> tuple[dict, list[dict]]:
    """The conversation a survey response rates: answered, over before the survey was opened."""
    rng = rng_for(spec, DOMAIN, survey.SEED_NAME, resp["response_id"])
    conv_id = resp["conversation_id"]
    platform = SURVEY_PLATFORM[resp["platform"]]
    page, account = pairs[int(conv_id[5:], 16) % len(pairs)]
    landed = _parse_survey_ts(resp["landed_at"])
    day = landed.date()
    mult = crisis_multiplier(ents, day)
    score = resp["score"]
    topics = ("order_status", "delivery", "product_use", "returns", "complaint", "praise", "stock")
    if score <= 2:
        sentiments = ("negative",)
        if _crisis_share(ents, day) > 0 and rng.random() < 0.6:
            topics = ("recall",)
    elif score == 3:
        sentiments = ("neutral", "negative")
    else:
        sentiments = ("positive", "neutral")
    topic, sentiment, opener = _pick_opener(rng, topics, sentiments)
    length = weighted_pick(rng, SURVEY_LENGTHS)
    end = landed - timedelta(seconds=max(60, int(rng.lognormvariate(math.log(25), 1.0) * 60)))
    # The latest start (10 minutes, then 20% further back each try, up to 8 days) from which the
    # conversation, drawn with the same draws each try, is over by `end`. Shifted into place if none.
    back = 10.0
    while True:
        start = end - timedelta(minutes=back)
        times = _timeline(rng_for(spec, DOMAIN, survey.SEED_NAME, resp["response_id"], "timeline"), start, length, mult)
        if times[-1] <= end:
            break
        back *= 1.2
        if back > 8 * 24 * 60:
            shift = times[-1] - end
            times = [t - shift for t in times]
            break
    conv, msgs = _conversation(
        spec,
        rng,
        conv_id,
        platform,
        page,
        account,
        times[0],
        topic,
        sentiment,
        opener,
        length,
        mult,
        cutoff,
        fixed_times=times,
    )
    conv["_csat_response_id"] = resp["response_id"]
    conv["_ticket_id"] = resp["ticket_id"]
    return conv, msgs


def _median(xs: list[float]) -> float | None:
    if not xs:
        return None
    xs = sorted(xs)
    mid = len(xs) // 2
    return round(xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2, 1)


def generate(spec, ents: Entities, out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    cutoff = midnight_utc(ents.as_of)
    pairs = list(zip(fb_pages(spec), ig_accounts(spec)))
    survey_by_day: dict[date, list[dict]] = defaultdict(list)
    for r in survey_dm_responses(spec, ents):
        survey_by_day[_parse_survey_ts(r["responded_at"]).date()].append(r)
    t: dict[str, int] = defaultdict(int)
    by_platform: dict[str, int] = defaultdict(int)
    by_topic: dict[str, int] = defaultdict(int)
    by_sentiment: dict[str, int] = defaultdict(int)
    first_response: dict[bool, list[float]] = {True: [], False: []}
    crisis_first_response: list[float] = []
    seen: set[str] = set()
    with JsonlWriter(out / "conversations.jsonl") as cw, JsonlWriter(out / "messages.jsonl") as mw:
        for day in days(spec):
            batch = _organic_day(spec, ents, day, pairs, cutoff)
            batch += [_survey_conversation(spec, ents, r, pairs, cutoff) for r in survey_by_day.pop(day, [])]
            batch.sort(key=lambda cm: (cm[0]["created_time"], cm[0]["id"]))
            for conv, msgs in batch:
                if conv["id"] in seen:
                    raise ValueError(f"conversation id {conv['id']} generated twice")
                seen.add(conv["id"])
                cw.write(conv)
                for m in msgs:
                    mw.write(m)
                t["conversations"] += 1
                t["messages"] += len(msgs)
                t["brand_messages"] += sum(1 for m in msgs if m["_sender"] == "brand")
                by_platform[conv["platform"]] += 1
                by_topic[conv["_topic"]] += 1
                by_sentiment[conv["_sentiment"]] += 1
                if conv["_answered"]:
                    first_response[conv["_business_hours"]].append(conv["_first_response_minutes"])
                    if conv["_crisis"]:
                        crisis_first_response.append(conv["_first_response_minutes"])
                else:
                    t["unanswered"] += 1
                    t["unanswered_pending"] += conv["_pending"]
                if conv["_csat_response_id"]:
                    t["csat_linked"] += 1
    assert not survey_by_day, "survey responses outside the world's days"
    return {
        "conversations": t["conversations"],
        "conversations_by_platform": dict(sorted(by_platform.items())),
        "messages": t["messages"],
        "customer_messages": t["messages"] - t["brand_messages"],
        "brand_messages": t["brand_messages"],
        "unanswered": t["unanswered"],
        "unanswered_pending": t["unanswered_pending"],
        "median_first_response_minutes": {
            "business_hours": _median(first_response[True]),
            "off_hours": _median(first_response[False]),
            "all": _median(first_response[True] + first_response[False]),
            "crisis": _median(crisis_first_response),
        },
        "conversations_by_topic": dict(sorted(by_topic.items())),
        "conversations_by_sentiment": dict(sorted(by_sentiment.items())),
        "csat_linked_conversations": t["csat_linked"],
        "note": "first response = minutes from the customer's first message to the brand's first reply; "
        "business_hours = that first message fell on a weekday 9-18 Europe/Berlin; unanswered = no brand "
        "message as of as_of (unanswered_pending of them would be answered after as_of); "
        "csat_linked_conversations = conversations whose id is a CSAT social_dm response's conversation_id "
        "(facebook and instagram responses; x and linkedin DMs are not Meta conversations)",
    }
