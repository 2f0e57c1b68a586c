"""The survey (Typeform): after a care conversation the customer rates it 1-5 (the CSAT score)
and may leave a comment.

`responses.jsonl`: one record per submitted survey, newest last, in the simulator's own
shape (the survey fake renders them as Typeform responses): response_id, token, score,
comment (absent when skipped), channel (social_dm, social_comment, email, chat, phone),
platform (when social), responded_at, landed_at, ticket_id / conversation_id.
Scores are lower during the crisis (ramping with the crisis multiplier).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

from sampleworld.entities import Entities, days, rng_for
from sampleworld.gen.listening import crisis_multiplier, day_start, ts
from sampleworld.jsonl import JsonlWriter, write_json
from sampleworld.numbers import weighted_pick

DOMAIN = "survey"
# The responses' draws and ids (and the inbox's conversations they rate) are seeded by the
# domain's former name, so the rename to `survey` moved no response.
SEED_NAME = "csat"
FORM_ID = "Lx7CsAt1"
DAILY = 40
CHANNELS = [("social_dm", 0.28), ("social_comment", 0.12), ("email", 0.25), ("chat", 0.25), ("phone", 0.10)]
# Share of 4-5 answers per channel outside the crisis.
SATISFIED = {"social_dm": 0.8, "social_comment": 0.68, "email": 0.74, "chat": 0.86, "phone": 0.78}
SOCIAL_PLATFORMS = [("instagram", 0.35), ("facebook", 0.3), ("x", 0.25), ("linkedin", 0.1)]
COMMENTS = {
    5: [
        "Super fast and friendly, thank you!",
        "Problem solved in minutes. Great service.",
        "Lovely agent, very helpful.",
        "Sehr schnell und freundlich, danke!",
    ],
    4: ["Good help, took a little while.", "Solved, but I had to explain twice.", "Friendly and helpful."],
    3: ["Okay, but slow.", "The answer was generic.", "Problem only partly solved."],
    2: ["Took days to get an answer.", "Still waiting for my refund.", "Nobody read my message properly."],
    1: [
        "Terrible. No answer about the recall.",
        "Worst service ever, never again.",
        "I asked about the recall and got a copy-paste reply.",
        "Completely ignored.",
    ],
}


def iter_responses(spec, ents: Entities):
    """Every survey response of the world, in order: a pure function of the spec, so other
    domains (the care inbox) can join to it without reading files."""
    top = float(ents.crisis["negative_multiplier_at_peak"])
    seq = 0
    for day in days(spec):
        rng = rng_for(spec, SEED_NAME, day.isoformat())
        mult = crisis_multiplier(ents, day)
        penalty = 0.35 * (mult - 1) / (top - 1) if top > 1 else 0.0
        n = round(
            DAILY * spec.scale * (0.8 if day.weekday() >= 5 else 1.0) * rng.uniform(0.8, 1.2) * (1 + (mult - 1) / 8)
        )
        seconds = sorted(rng.randrange(86400) for _ in range(n))
        d0 = day_start(day)
        for sec in seconds:
            seq += 1
            channel = weighted_pick(rng, CHANNELS)
            p = max(0.05, SATISFIED[channel] - penalty)
            if rng.random() < p:
                score = 5 if rng.random() < 0.55 else 4
            else:
                score = [1, 2, 3][min(2, int(rng.random() * 3 * (1 - penalty)))]
            submitted = d0 + timedelta(seconds=sec, milliseconds=0)
            landed = submitted - timedelta(seconds=rng.randint(8, 240))
            h = hashlib.sha256(f"{spec.seed}:{SEED_NAME}:{seq}".encode()).hexdigest()
            rec = {
                "response_id": h[:32],
                "token": h[:32],
                "form_id": FORM_ID,
                "score": score,
                "channel": channel,
                "platform": weighted_pick(rng, SOCIAL_PLATFORMS) if channel.startswith("social") else None,
                "landed_at": ts(landed)[:-5] + "Z",
                "responded_at": ts(submitted)[:-5] + "Z",
                "ticket_id": f"T-{100000 + seq}",
                "conversation_id": f"conv_{h[32:44]}",
            }
            if rng.random() < (0.6 if score <= 2 else 0.35):
                pool = COMMENTS[score]
                rec["comment"] = pool[rng.randrange(len(pool))]
            yield rec


def generate(spec, ents: Entities, out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    counts: dict[str, list[int]] = {c: [0, 0] for c, _ in CHANNELS}
    per_day: dict[str, list[int]] = {}
    with JsonlWriter(out / "responses.jsonl") as w:
        for rec in iter_responses(spec, ents):
            w.write(rec)
            channel, score = rec["channel"], rec["score"]
            counts[channel][0] += 1
            counts[channel][1] += 1 if score >= 4 else 0
            pd = per_day.setdefault(rec["responded_at"][:10], [0, 0])
            pd[0] += 1
            pd[1] += 1 if score >= 4 else 0
    write_json(
        out / "form.json",
        {
            "id": FORM_ID,
            "title": "How did we do?",
            "fields": [
                {
                    "id": "f8Qm2Rating",
                    "ref": "csat_score",
                    "type": "rating",
                    "title": "How satisfied are you with our help?",
                    "properties": {"steps": 5, "shape": "star"},
                },
                {
                    "id": "k3Vn9Comment",
                    "ref": "csat_comment",
                    "type": "long_text",
                    "title": "Anything we could do better?",
                },
            ],
            "hidden": ["channel", "platform", "ticket_id", "conversation_id"],
        },
    )
    total = sum(c[0] for c in counts.values())
    sat = sum(c[1] for c in counts.values())
    return {
        "responses": total,
        "csat": round(sat / total, 6) if total else None,
        "csat_by_channel": {
            k: {"responses": v[0], "satisfied": v[1], "csat": round(v[1] / v[0], 6) if v[0] else None}
            for k, v in counts.items()
        },
        "csat_daily": {d: round(v[1] / v[0], 4) for d, v in per_day.items()},
        "note": "csat = share of 4-5 answers; ticket_id T-<n> / conversation_id conv_<hex> are the "
        "survey's own ids (a care-inbox domain may link to them)",
    }
