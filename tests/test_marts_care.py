"""The social care, customer feedback and CSAT marts against the sample world (KPI practices 13,
20 and 25): response times, response rates and the unanswered queue of the care inbox and the
Page's comments, CSAT per channel and day, and the feedback themes.

Where the world keeps a figure per item (a conversation's `_first_response_minutes`, a
comment's `_response_minutes`, an X reply's `response_minutes`, a survey response's score),
the marts are compared item by item with the world's own files; where truths.json holds the
total, with truths.json. Tolerances, where there are any, are the world's rounding:
- inbox conversations: the world rounds each first response to 0.1 minute, the timestamps it
  writes are whole seconds, so the mart's exact minutes are within 0.05 of it (its medians,
  taken over the rounded figures and rounded again, within 0.1);
- Page comments: the world draws a comment's time with fractions of a second, writes it
  truncated to the second, adds the reply delay unrounded and rounds that delay to 0.1 minute:
  within 0.05 + 2 s of truncation (1/30 minute) of the mart's exact minutes; the median is an
  order statistic, so it is within the same distance (sorting moves no value further than the
  largest per-item difference);
- X replies: the world rounds to 0.001 minute from millisecond timestamps.

What the data cannot hold, and is therefore not compared: the four CSAT-linked conversations
the world opens before the range (May 29-31: their messages are outside the loaded days) are
in truths.json's medians but not in the warehouse, so the inbox medians are compared with the
world's own per-conversation figures over the conversations that opened in the range (the
difference to truths.json's headline figure is those four); `unanswered_pending` (which
unanswered conversations the brand would answer after as_of) is the world's future, not
data; X's recent search serves the last 7 days of mentions, so truths.json's X median over
the whole range is not comparable (each loaded mention's reply time is, exactly).

CSAT per day: truths.json keys `csat_daily` by the UTC day of submission, the marts by the day
in the reporting time zone (Europe/Berlin, the binding convention: every date column is a
reporting-time-zone day), so a response between 22:00 and 24:00 UTC is on the next day in the
mart. The test regroups the world's own responses by the Berlin day (and checks that grouping
them by the UTC day gives truths.json's figures), then compares exactly.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from conftest import TEST_SPEC

from sampleworld.gen.facebook import business_hours
from sampleworld.jsonl import read_jsonl
from warehouse.loader import connect

REPO = Path(__file__).resolve().parent.parent
BERLIN = ZoneInfo("Europe/Berlin")
UTC = UTC
RESPONSES = "marts.fct_care_responses"
# World topics with one theme of the default `feedback_themes` that names them (order_status and
# complaint mix several: tracking, billing, quality, support).
THEME_OF_TOPIC = {
    "delivery": "shipping",
    "returns": "returns",
    "stock": "stock",
    "recall": "safety",
    "praise": "praise",
    "product_use": "product_use",
}


def query(warehouse, sql: str, params=None) -> list[tuple]:
    with connect(warehouse, read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def project_vars() -> dict:
    return yaml.safe_load((REPO / "dbt_project" / "dbt_project.yml").read_text())["vars"]


def parse_ts(value: str) -> datetime:
    """The world's timestamps: `+0000` (Graph) or `Z` with milliseconds (X, listening)."""
    return datetime.fromisoformat(value.replace("+0000", "+00:00").replace("Z", "+00:00"))


def naive_utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None)


# -- an independent business-minutes oracle (plain Python, zoneinfo) ----------------------------
def business_minutes(start: datetime, end: datetime, settings: dict) -> float:
    """Minutes of [start, end] (naive UTC) inside business hours: day by day in the business time
    zone, each day's opening and closing converted to UTC on its own (daylight saving)."""
    tz = ZoneInfo(settings["business_timezone"])
    opens = time.fromisoformat(settings["business_hours_start"])
    closes = time.fromisoformat(settings["business_hours_end"])
    days = set(settings["business_days"])
    holidays = {date.fromisoformat(str(d)) for d in settings["business_holidays"] or []}
    start_utc, end_utc = start.replace(tzinfo=UTC), end.replace(tzinfo=UTC)
    day, last = start_utc.astimezone(tz).date(), end_utc.astimezone(tz).date()
    total = 0.0
    while day <= last:
        if day.isoweekday() in days and day not in holidays:
            o = datetime.combine(day, opens, tzinfo=tz).astimezone(UTC)
            c = datetime.combine(day, closes, tzinfo=tz).astimezone(UTC)
            overlap = (min(c, end_utc) - max(o, start_utc)).total_seconds()
            total += max(0.0, overlap) / 60
        day += timedelta(days=1)
    return total


def test_business_minutes_oracle_on_hand_cases():
    """The oracle itself, on the cases the dbt unit tests work out by hand."""
    berlin = {
        "business_timezone": "Europe/Berlin",
        "business_hours_start": "09:00",
        "business_hours_end": "18:00",
        "business_days": [1, 2, 3, 4, 5],
        "business_holidays": [],
    }
    assert business_minutes(datetime(2026, 6, 5, 20), datetime(2026, 6, 8, 8), berlin) == 60
    assert business_minutes(datetime(2026, 3, 27, 16), datetime(2026, 3, 30, 8), berlin) == 120
    night = {
        **berlin,
        "business_hours_start": "00:00",
        "business_hours_end": "06:00",
        "business_days": list(range(1, 8)),
    }
    assert business_minutes(datetime(2026, 3, 28, 23, 30), datetime(2026, 3, 29, 4, 30), night) == 270


# -- the world's inbox, comments and X replies --------------------------------------------------
def world_conversations(world: Path) -> list[dict]:
    return list(read_jsonl(world / "inbox" / "conversations.jsonl"))


def care_rows(warehouse, item_kind: str) -> dict[str, tuple]:
    """conversation_id or item_id -> (is_answered, minutes, business minutes, received in hours,
    received_at, first_reply_at) of the mart's first contacts of a kind."""
    key = "conversation_id" if item_kind == "message" else "item_id"
    rows = query(
        warehouse,
        f"""
        select {key}, is_answered, minutes_to_first_reply, business_minutes_to_first_reply,
               received_in_business_hours, received_at, first_reply_at
        from {RESPONSES} where item_kind = ?""",
        [item_kind],
    )
    return {r[0]: r[1:] for r in rows}


def check_inbox_against_the_world(warehouse, world: Path, truths: dict, start: date):
    """Every conversation the customer opened in the range: answered, first response and
    "received in business hours" as the world has them; unanswered exactly truths.json's."""
    convs = world_conversations(world)
    in_range = [c for c in convs if parse_ts(c["created_time"]).date() >= start]
    before = [c for c in convs if parse_ts(c["created_time"]).date() < start]
    assert all(c["_answered"] for c in before), "a conversation opened before the range is unanswered"
    mart = care_rows(warehouse, "message")
    assert len(mart) == len(in_range) == truths["conversations"] - len(before)
    for c in in_range:
        answered, minutes, _, in_hours, received_at, _ = mart[c["id"]]
        assert answered == c["_answered"], c["id"]
        assert in_hours == c["_business_hours"] == business_hours(parse_ts(c["created_time"])), c["id"]
        assert received_at == naive_utc(parse_ts(c["created_time"])), c["id"]
        if answered:
            assert abs(minutes - c["_first_response_minutes"]) <= 0.05 + 1e-9, c["id"]
    unanswered = sum(1 for row in mart.values() if not row[0])
    assert unanswered == truths["unanswered"]
    # truths' `unanswered_pending` are some of these (replies the world drew after as_of)
    assert truths["unanswered_pending"] <= unanswered
    return in_range


def world_median(values: list[float]) -> float:
    """The inbox generator's median: the mean of the two middle values, rounded to 0.1."""
    return round(statistics.median(values), 1)


def test_inbox_response_times_match_the_test_world(materialized, world):
    check_inbox_against_the_world(materialized["warehouse"], world, materialized["truths"]["inbox"], TEST_SPEC.start)


@pytest.mark.slow
def test_inbox_medians_are_the_worlds_by_business_hours_and_crisis(default_world):
    """truths["inbox"]["median_first_response_minutes"] (all, received in business hours, off
    hours, during the crisis) over the conversations the data holds. The world takes the median
    of its per-conversation figures rounded to 0.1 and rounds it to 0.1: within 0.05 + 0.05 of
    the mart's exact median."""
    truths = default_world["truths"]["inbox"]
    start = date.fromisoformat(default_world["truths"]["spec"]["start"])
    in_range = check_inbox_against_the_world(default_world["warehouse"], default_world["world"], truths, start)
    answered = [c for c in in_range if c["_answered"]]
    subsets = {  # name: (the mart's filter, the world's conversations)
        "all": ("true", answered),
        "business_hours": ("received_in_business_hours", [c for c in answered if c["_business_hours"]]),
        "off_hours": ("not received_in_business_hours", [c for c in answered if not c["_business_hours"]]),
        "crisis": ("list_contains(?, conversation_id)", [c for c in answered if c["_crisis"]]),
    }
    with connect(default_world["warehouse"], read_only=True) as con:
        for name, (where, conversations) in subsets.items():
            (median,) = con.execute(
                f"""
                select median(minutes_to_first_reply) from {RESPONSES}
                where item_kind = 'message' and is_answered and {where}""",
                [[c["id"] for c in conversations]] if "?" in where else [],
            ).fetchone()
            expected = world_median([c["_first_response_minutes"] for c in conversations])
            assert abs(median - expected) <= 0.1 + 1e-9, name
    # what truths.json has beyond the data: the four conversations opened before the range
    # (with them, the world's own per-conversation figures give truths.json's medians)
    everything = [c for c in world_conversations(default_world["world"]) if c["_answered"]]
    medians = truths["median_first_response_minutes"]
    assert world_median([c["_first_response_minutes"] for c in everything]) == medians["all"]
    assert (
        world_median([c["_first_response_minutes"] for c in everything if c["_business_hours"]])
        == medians["business_hours"]
    )
    assert world_median([c["_first_response_minutes"] for c in everything if c["_crisis"]]) == medians["crisis"]


@pytest.mark.slow
def test_page_comments_replies_and_median_are_the_worlds(default_world):
    """truths["facebook"]: comments, replies, unanswered exactly; each reply time within the
    world's rounding, and the median (the world takes the upper middle value) too."""
    truths = default_world["truths"]["facebook"]
    mart = care_rows(default_world["warehouse"], "comment")
    assert len(mart) == truths["comments"]
    assert sum(1 for r in mart.values() if r[0]) == truths["replies"]
    assert sum(1 for r in mart.values() if not r[0]) == truths["unanswered"]
    tolerance = 0.05 + 2 / 60
    world = {
        c["id"]: c
        for c in read_jsonl(default_world["world"] / "facebook" / "comments.jsonl")
        if c["_label"] != "brand_reply"
    }
    assert world.keys() == mart.keys()
    for cid, c in world.items():
        answered, minutes = mart[cid][0], mart[cid][1]
        assert answered == c["_answered"], cid
        if answered:
            assert abs(minutes - c["_response_minutes"]) <= tolerance, cid
    minutes = sorted(r[1] for r in mart.values() if r[0])
    assert abs(minutes[len(minutes) // 2] - truths["median_response_minutes"]) <= tolerance


@pytest.mark.slow
def test_x_reply_times_are_the_worlds_for_the_loaded_mentions(default_world):
    world = {
        p["_meta"]["in_reply_to_mention"]: p["_meta"]["response_minutes"]
        for p in read_jsonl(default_world["world"] / "x" / "posts.jsonl")
        if p["_meta"]["kind"] == "reply"
    }
    mart = care_rows(default_world["warehouse"], "mention")
    assert mart, "no X mention in the care mart"
    answered = {mid: row for mid, row in mart.items() if row[0]}
    assert answered.keys() == world.keys() & mart.keys()
    for mid, row in answered.items():
        assert abs(row[1] - world[mid]) <= 0.0005 + 1e-9, mid


@pytest.mark.slow
def test_business_minutes_and_hours_are_an_independent_calendars(default_world):
    """Every answered contact's business minutes and every open one's business age equal a plain
    Python day-by-day count in the configured time zone; "received in business hours" too."""
    settings = project_vars()
    rows = query(
        default_world["warehouse"],
        f"""
        select received_at, first_reply_at, business_minutes_to_first_reply, received_in_business_hours
        from {RESPONSES}""",
    )
    assert len(rows) > 1000
    tz = ZoneInfo(settings["business_timezone"])
    holidays = {date.fromisoformat(str(d)) for d in settings["business_holidays"] or []}
    for received, replied, minutes, in_hours in rows:
        local = received.replace(tzinfo=UTC).astimezone(tz)
        opens = time.fromisoformat(settings["business_hours_start"])
        closes = time.fromisoformat(settings["business_hours_end"])
        assert in_hours == (
            local.isoweekday() in settings["business_days"]
            and local.date() not in holidays
            and opens <= local.time() < closes
        )
        if replied is not None:
            assert abs(minutes - business_minutes(received, replied, settings)) <= 1e-6, (received, replied)
    queue = query(
        default_world["warehouse"],
        """
        select received_at, as_of_at, age_hours, age_business_hours from marts.fct_care_unanswered_queue""",
    )
    assert queue
    for received, as_of, age, business_age in queue:
        assert abs(age - (as_of - received).total_seconds() / 3600) <= 1e-9
        assert abs(business_age - business_minutes(received, as_of, settings) / 60) <= 1e-6


@pytest.mark.slow
def test_weekly_medians_p90s_and_response_rates_are_the_items(default_world):
    """fct_care_weekly from fct_care_responses' rows, recomputed in Python: counts, response
    rate, interpolated median and p90 (statistics' 'inclusive' quantiles are percentile_cont's)."""
    rows = query(
        default_world["warehouse"],
        f"""
        select received_week, platform, account_id, item_kind, is_answered, minutes_to_first_reply,
               business_minutes_to_first_reply
        from {RESPONSES}""",
    )
    groups = defaultdict(list)
    for r in rows:
        groups[r[:4]].append(r[4:])
    weekly = {
        r[:4]: r[4:]
        for r in query(
            default_world["warehouse"],
            """
        select week_start, platform, account_id, item_kind, inbound_items, answered_items, response_rate,
               median_minutes_to_first_reply, p90_minutes_to_first_reply,
               median_business_minutes_to_first_reply, p90_business_minutes_to_first_reply
        from marts.fct_care_weekly""",
        )
    }
    assert weekly.keys() == groups.keys()

    def percentile(values, fraction):
        values = sorted(values)
        if len(values) == 1:
            return values[0]
        position = (len(values) - 1) * fraction
        low = int(position)
        return values[low] + (position - low) * (values[min(low + 1, len(values) - 1)] - values[low])

    for key, items in groups.items():
        inbound, answered, rate, med, p90, bmed, bp90 = weekly[key]
        done = [i for i in items if i[0]]
        assert (inbound, answered) == (len(items), len(done)), key
        assert rate == pytest.approx(len(done) / len(items)), key
        if done:
            assert med == pytest.approx(statistics.median(i[1] for i in done)), key
            assert p90 == pytest.approx(percentile([i[1] for i in done], 0.9)), key
            assert bmed == pytest.approx(statistics.median(i[2] for i in done)), key
            assert bp90 == pytest.approx(percentile([i[2] for i in done], 0.9)), key


# -- CSAT ------------------------------------------------------------------------------------------
def check_csat(warehouse, world: Path, truths: dict):
    """truths["survey"] exactly: responses, CSAT, per channel; per day on the reporting day."""
    months = query(
        warehouse,
        """
        select channel, sum(responses)::bigint, sum(satisfied_responses)::bigint
        from marts.fct_csat where period = 'month' group by channel""",
    )
    by_channel = {c: (n, s) for c, n, s in months}
    assert {c: (v["responses"], v["satisfied"]) for c, v in truths["csat_by_channel"].items()} == by_channel
    total, satisfied = sum(n for n, _ in by_channel.values()), sum(s for _, s in by_channel.values())
    assert total == truths["responses"]
    assert round(satisfied / total, 6) == truths["csat"]
    for channel, v in truths["csat_by_channel"].items():
        assert round(by_channel[channel][1] / by_channel[channel][0], 6) == v["csat"]
    for period in ("day", "week"):
        (n,) = query(warehouse, "select sum(responses)::bigint from marts.fct_csat where period = ?", [period])[0]
        assert n == total, period
    responses = list(read_jsonl(world / "survey" / "responses.jsonl"))
    by_utc, by_berlin = defaultdict(lambda: [0, 0]), defaultdict(lambda: [0, 0])
    for r in responses:
        at = parse_ts(r["responded_at"])
        for bucket, day in ((by_utc, at.date().isoformat()), (by_berlin, at.astimezone(BERLIN).date())):
            bucket[day][0] += 1
            bucket[day][1] += r["score"] >= 4
    assert {d: round(s / n, 4) for d, (n, s) in by_utc.items()} == truths["csat_daily"]
    days = {
        d: (n, s)
        for d, n, s in query(
            warehouse,
            """
        select period_start, sum(responses)::bigint, sum(satisfied_responses)::bigint
        from marts.fct_csat where period = 'day' group by period_start""",
        )
    }
    assert days == {d: tuple(v) for d, v in by_berlin.items()}
    csat_daily = dict(
        query(
            warehouse,
            """
        select period_start, sum(satisfied_responses) / sum(responses)
        from marts.fct_csat where period = 'day' group by period_start""",
        )
    )
    assert csat_daily == {d: s / n for d, (n, s) in by_berlin.items()}


def test_csat_is_the_test_worlds(materialized, world):
    check_csat(materialized["warehouse"], world, materialized["truths"]["survey"])


@pytest.mark.slow
def test_csat_is_the_default_worlds(default_world):
    check_csat(default_world["warehouse"], default_world["world"], default_world["truths"]["survey"])


# -- feedback ------------------------------------------------------------------------------------
def theme_rules() -> dict[str, re.Pattern]:
    """The default `feedback_themes`, read as the YAML states them (whole words, `*` for any
    ending), compiled independently of the macro."""
    rules = {}
    for theme, keywords in project_vars()["feedback_themes"].items():
        parts = [re.escape(k[:-1]) if k.endswith("*") else re.escape(k) + r"(?![a-z0-9])" for k in keywords]
        rules[theme] = re.compile(r"(?<![a-z0-9])(?:" + "|".join(parts) + ")")
    return rules


@pytest.mark.slow
def test_feedback_themes_follow_the_keyword_rules_and_the_worlds_topics(default_world):
    """Every loaded inbox message gets exactly the themes the default keyword rules give its
    text, and the first message of every conversation of a world topic with a theme of its own
    carries that theme."""
    rules = theme_rules()
    world = default_world["world"]
    messages = [m for m in read_jsonl(world / "inbox" / "messages.jsonl") if m["_sender"] == "customer"]
    themes = defaultdict(set)
    for _source, text_id, theme in query(
        default_world["warehouse"],
        """
            select text_source, text_id, theme from intermediate.int_feedback_themes
            where text_source in ('facebook__messages', 'instagram__messages')""",
    ):
        themes[text_id].add(theme)
    loaded = {
        r[0]
        for r in query(
            default_world["warehouse"],
            """
        select text_id from intermediate.int_feedback_texts
        where text_source in ('facebook__messages', 'instagram__messages')""",
        )
    }
    assert loaded and loaded <= {m["id"] for m in messages}
    for m in messages:
        if m["id"] in loaded:
            expected = {t for t, rule in rules.items() if rule.search(m["message"].lower())}
            assert themes.get(m["id"], set()) == expected, m["message"]
    first = {}
    for m in read_jsonl(world / "inbox" / "messages.jsonl"):
        first.setdefault(m["conversation_id"], m["id"])
    convs = world_conversations(world)
    assert Counter(c["_topic"] for c in convs) == default_world["truths"]["inbox"]["conversations_by_topic"]
    covered = Counter()
    for c in convs:
        theme = THEME_OF_TOPIC.get(c["_topic"])
        if theme and first[c["id"]] in loaded:
            assert theme in themes[first[c["id"]]], (c["_topic"], c["id"])
            covered[c["_topic"]] += 1
    assert set(covered) == set(THEME_OF_TOPIC)


@pytest.mark.slow
def test_feedback_marts_add_up_and_the_queue_holds_no_text(default_world):
    wh = default_world["warehouse"]
    texts = {
        (r[0], r[1]): r[2:]
        for r in query(
            wh,
            """
        select text_source, text_id, sentiment_label, is_answered from intermediate.int_feedback_texts""",
        )
    }
    themes = Counter(query(wh, "select text_source, text_id from intermediate.int_feedback_themes"))
    assert texts and themes.keys() <= texts.keys()
    (daily,) = query(wh, "select sum(feedback_texts)::bigint from marts.fct_feedback_daily")[0]
    assert daily == len(texts)
    # every text counts under each of its themes, or once under 'other'
    (theme_rows,) = query(wh, "select sum(feedback_texts)::bigint from marts.fct_feedback_themes")[0]
    assert theme_rows == sum(themes.values()) + len(texts.keys() - themes.keys())
    # the queue: negative, unanswered; ids and scores only, never the text
    columns = {
        r[0]
        for r in query(
            wh,
            """
        select column_name from information_schema.columns where table_name = 'fct_negative_feedback_queue'""",
        )
    }
    assert not columns & {"message", "message_text", "message_text_redacted", "text", "body"}
    queue = query(wh, "select text_source, text_id, text_kind, sentiment_score from marts.fct_negative_feedback_queue")
    assert queue
    for source, text_id, _, score in queue:
        label, answered = texts[(source, text_id)]
        assert label == "negative" and score < 0 and not answered, (source, text_id)
    assert {"comment", "message", "survey_comment"} <= {kind for _, _, kind, _ in queue}
