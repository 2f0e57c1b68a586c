"""Direct messages (the care inbox): the generator's conversations and messages, served by the
Meta Graph fake as the conversations API, walked with plain `requests` with and without faults;
reply times, unanswered conversations, the CSAT join and byte-for-byte determinism."""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import requests
from conftest import TEST_SPEC

from sampleworld.entities import build
from sampleworld.fakes.base import EXTRA_FIELD, FakeServer, FaultConfig
from sampleworld.fakes.meta_graph import VERSION, make_app
from sampleworld.gen import facebook, inbox, instagram
from sampleworld.gen.facebook import business_hours, parse_ts
from sampleworld.world import WorldSpec

MESSAGE_FIELDS = "id,message,from,to,created_time"
CONV_FIELDS = (
    f"id,updated_time,message_count,participants,senders,snippet,can_reply,messages.limit(3){{{MESSAGE_FIELDS}}}"
)
FAULTS = FaultConfig(
    error_rate=0.05,
    rate_limit_rate=0.04,
    retry_after_s=0,
    truncate_rate=0.04,
    repeat_page_rate=0.25,
    extra_field_rate=0.1,
    seed=5,
)


def _lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def _served(rec: dict) -> dict:
    return {k: v for k, v in rec.items() if not k.startswith("_") and k != "conversation_id"}


class Client:
    """Plain Graph client: retries 5xx, 429, transient Graph errors and cut-short JSON; walks
    `paging.next`; drops records repeated by a repeat-page fault (by id) and the extra field."""

    def __init__(self, base: str, token: str):
        self.base, self.token = base, token
        self.retries = self.repeats = self.extra_fields = self.requests = 0

    def get(self, path_or_url: str, params: dict | None = None):
        url = path_or_url if path_or_url.startswith("http") else f"{self.base}/{VERSION}/{path_or_url}"
        for _ in range(60):
            self.requests += 1
            resp = requests.get(
                url,
                params=None if path_or_url.startswith("http") else params,
                headers={"Authorization": f"Bearer {self.token}"},
            )
            try:
                body = resp.json()
            except ValueError:
                self.retries += 1
                continue
            if (
                resp.status_code >= 500
                or resp.status_code == 429
                or (resp.status_code == 400 and body.get("error", {}).get("is_transient"))
            ):
                self.retries += 1
                continue
            return resp.status_code, body
        raise AssertionError(f"gave up on {url}")

    def ok(self, path: str, params: dict | None = None) -> dict:
        status, body = self.get(path, params)
        assert status == 200, body
        return body

    def walk(self, path: str, params: dict | None = None, body: dict | None = None) -> list[dict]:
        body = body if body is not None else self.ok(path, params)
        seen: dict[str, dict] = {}
        out = []
        while True:
            for rec in body["data"]:
                if EXTRA_FIELD in rec:
                    self.extra_fields += 1
                    rec = {k: v for k, v in rec.items() if k != EXTRA_FIELD}
                if rec["id"] in seen:
                    assert seen[rec["id"]] == rec
                    self.repeats += 1
                    continue
                seen[rec["id"]] = rec
                out.append(rec)
            nxt = body.get("paging", {}).get("next")
            if not nxt:
                return out
            body = self.ok(nxt)


def _walk_inbox(client: Client, app, world: Path, limit: int) -> None:
    truths = json.loads((world / "truths.json").read_text())
    convs = _lines(world / "inbox" / "conversations.jsonl")
    msgs = defaultdict(list)
    for m in _lines(world / "inbox" / "messages.jsonl"):
        msgs[m["conversation_id"]].append(m)
    n_convs = n_msgs = 0
    for page in truths["facebook"]["pages"]:
        pid = page["page_id"]
        for platform in ("messenger", "instagram"):
            served = client.walk(f"{pid}/conversations", {"platform": platform, "fields": CONV_FIELDS, "limit": limit})
            mine = sorted(
                (c for c in convs if c["page_id"] == pid and c["platform"] == platform),
                key=lambda c: (c["updated_time"], c["id"]),
                reverse=True,
            )
            assert mine, f"no {platform} conversations on {pid}"
            assert [c["id"] for c in served] == [c["id"] for c in mine]
            for got, gen in zip(served, mine):
                people = {"data": [gen["customer"], gen["brand"]]}
                assert got["participants"] == got["senders"] == people
                assert (got["updated_time"], got["message_count"], got["snippet"]) == (
                    gen["updated_time"],
                    gen["message_count"],
                    gen["snippet"],
                )
                assert got["can_reply"] == (app.now - parse_ts(gen["last_customer_time"]) < timedelta(hours=24))
                if platform == "instagram":
                    assert set(gen["customer"]) == {"username", "id"} and gen["brand"]["id"] == gen["ig_user_id"]
                else:
                    assert set(gen["customer"]) == {"name", "email", "id"} and gen["brand"]["id"] == pid
                want = [_served(m) for m in reversed(msgs[gen["id"]])]  # newest first
                assert gen["message_count"] == len(want)
                # the nested first page (limit 3) and its `next` into /{conversation}/messages
                nested = got["messages"]
                assert nested["data"] == want[:3] and ("next" in nested.get("paging", {})) == (len(want) > 3)
                assert client.walk("", body=nested) == want
                # the edge, two a page
                assert client.walk(f"{gen['id']}/messages", {"fields": MESSAGE_FIELDS, "limit": 2}) == want
                assert app.current_messages(gen["id"], MESSAGE_FIELDS) == want
                n_convs += 1
                n_msgs += len(want)
                assert not any(k.startswith("_") for m in want for k in m)
            assert [{k: v for k, v in c.items() if k != "messages"} for c in served] == app.current_conversations(
                pid, platform
            )
    assert n_convs == truths["inbox"]["conversations"] == len(convs)
    assert n_msgs == truths["inbox"]["messages"]
    # Nodes: a conversation and a message by id (default fields, then chosen ones).
    conv = convs[len(convs) // 2]
    assert client.ok(conv["id"]) == {"id": conv["id"], "updated_time": conv["updated_time"]}
    assert client.ok(conv["id"], {"fields": "message_count,participants"}) == {
        "message_count": conv["message_count"],
        "participants": {"data": [conv["customer"], conv["brand"]]},
    }
    m = msgs[conv["id"]][0]
    assert client.ok(m["id"]) == {"id": m["id"], "created_time": m["created_time"]}
    assert client.ok(m["id"], {"fields": MESSAGE_FIELDS}) == _served(m)
    assert client.walk(conv["id"] + "/messages")[-1] == {"id": m["id"], "created_time": m["created_time"]}


def test_walk_inbox_faults_off(world):
    app = make_app(world)
    with FakeServer(app) as srv:
        client = Client(srv.url, app.token)
        _walk_inbox(client, app, world, limit=100)
        assert client.retries == client.repeats == client.extra_fields == 0


def test_walk_inbox_faults_on(world):
    app = make_app(world)
    with FakeServer(app, FAULTS) as srv:
        client = Client(srv.url, app.token)
        _walk_inbox(client, app, world, limit=10)
        assert srv.faults_injected > 0 and client.retries > 0
        assert client.repeats > 0, "a repeated page was never observed"
        assert client.extra_fields > 0, "the extra-field fault was never observed"


def test_errors_and_filters(world):
    app = make_app(world)
    pid = sorted(app.pages)[0]
    conv = next(c for c in app.conversations.values() if c["page_id"] == pid and c["platform"] == "messenger")
    with FakeServer(app) as srv:
        client = Client(srv.url, app.token)
        status, body = client.get(f"{pid}/conversations", {"platform": "whatsapp"})
        assert status == 400 and body["error"]["code"] == 100 and "platform" in body["error"]["message"]
        status, body = client.get(f"{pid}/conversations", {"fields": "id,labels"})
        assert status == 400 and "(labels)" in body["error"]["message"]
        status, body = client.get(f"{conv['id']}/messages", {"fields": "id,sticker_x"})
        assert status == 400 and body["error"]["code"] == 100
        status, body = client.get("conv_000000000000")
        assert status == 400 and (body["error"]["code"], body["error"]["error_subcode"]) == (100, 33)
        default = client.walk(f"{pid}/conversations")  # messenger is the default platform
        assert [c["id"] for c in default] == [c["id"] for c in app.conversations_by[(pid, "messenger")]]
        assert set(default[0]) == {"id", "updated_time"}
        one = client.walk(f"{pid}/conversations", {"user_id": conv["customer"]["id"], "fields": "id,participants"})
        assert conv["id"] in [c["id"] for c in one]
        assert all(c["participants"]["data"][0]["id"] == conv["customer"]["id"] for c in one)


def test_fake_starts_without_the_inbox_folder(world, tmp_path):
    for d in ("facebook", "instagram"):
        shutil.copytree(world / d, tmp_path / d)
    shutil.copy(world / "truths.json", tmp_path / "truths.json")
    app = make_app(tmp_path)
    pid = sorted(app.pages)[0]
    with FakeServer(app) as srv:
        client = Client(srv.url, app.token)
        assert client.ok(f"{pid}/conversations", {"platform": "instagram"}) == {"data": []}
        assert client.ok(pid, {"fields": "name"})["name"] == app.pages[pid]["name"]


def _median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def test_labels_reply_times_and_unanswered(world):
    truths = json.loads((world / "truths.json").read_text())["inbox"]
    convs = _lines(world / "inbox" / "conversations.jsonl")
    msgs = defaultdict(list)
    for m in _lines(world / "inbox" / "messages.jsonl"):
        msgs[m["conversation_id"]].append(m)
    as_of = datetime.combine(
        date.fromisoformat(json.loads((world / "truths.json").read_text())["spec"]["as_of"]),
        datetime.min.time(),
        tzinfo=UTC,
    )
    for c in convs:
        ms = msgs[c["id"]]
        assert 1 <= len(ms) <= 6 and c["message_count"] == len(ms)
        assert [m["_sender"] for m in ms] == (["customer", "brand"] * 3)[: len(ms)]
        assert [m["created_time"] for m in ms] == sorted(m["created_time"] for m in ms)
        assert parse_ts(ms[-1]["created_time"]) < as_of
        assert c["_answered"] == (len(ms) > 1)
        assert c["_business_hours"] == business_hours(parse_ts(ms[0]["created_time"]))
        if c["_answered"]:
            first = (parse_ts(ms[1]["created_time"]) - parse_ts(ms[0]["created_time"])).total_seconds() / 60
            assert abs(c["_first_response_minutes"] - first) < 0.06
        assert c["_topic"] in inbox.OPENERS and c["_sentiment"] in ("positive", "neutral", "negative")
    fast = [c["_first_response_minutes"] for c in convs if c["_answered"] and c["_business_hours"]]
    slow = [c["_first_response_minutes"] for c in convs if c["_answered"] and not c["_business_hours"]]
    assert _median(fast) < 60 < 3 * _median(fast) < _median(slow)
    unanswered = [c for c in convs if not c["_answered"]]
    assert unanswered and any(not c["_pending"] for c in unanswered)
    assert truths["unanswered"] == len(unanswered)
    assert (
        truths["median_first_response_minutes"]["business_hours"] < truths["median_first_response_minutes"]["off_hours"]
    )
    # the crisis brings more conversations, most of them negative ones about the recall
    crisis = [c for c in convs if c["_topic"] == "recall"]
    assert crisis and sum(c["_sentiment"] == "negative" for c in crisis) > len(crisis) / 2
    assert sum(truths["conversations_by_topic"].values()) == truths["conversations"] == len(convs)


def test_every_meta_dm_survey_response_is_an_inbox_conversation(world):
    convs = {c["id"]: c for c in _lines(world / "inbox" / "conversations.jsonl")}
    last_msg = {}
    for m in _lines(world / "inbox" / "messages.jsonl"):
        last_msg[m["conversation_id"]] = m["created_time"]
    dms = [r for r in _lines(world / "survey" / "responses.jsonl") if r["channel"] == "social_dm"]
    meta = [r for r in dms if r["platform"] in ("facebook", "instagram")]
    assert meta
    for r in meta:
        c = convs[r["conversation_id"]]
        assert c["platform"] == {"facebook": "messenger", "instagram": "instagram"}[r["platform"]]
        assert (c["_csat_response_id"], c["_ticket_id"]) == (r["response_id"], r["ticket_id"])
        assert c["_answered"]
        landed = datetime.strptime(r["landed_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        assert parse_ts(last_msg[c["id"]]) < landed
        if r["score"] <= 2:
            assert c["_sentiment"] == "negative"
    # X and LinkedIn DMs are not Meta conversations: the Graph inbox does not hold them.
    assert not any(r["conversation_id"] in convs for r in dms if r["platform"] not in ("facebook", "instagram"))
    truths = json.loads((world / "truths.json").read_text())["inbox"]
    assert truths["csat_linked_conversations"] == len(meta) == sum(1 for c in convs.values() if c["_csat_response_id"])
    # the conversations the survey links exist whatever else was generated (the survey re-derived, not read)
    assert inbox.survey_dm_responses(TEST_SPEC, build(TEST_SPEC)) == meta


def test_generation_is_deterministic(world, tmp_path):
    ents = build(TEST_SPEC)
    for run in ("a", "b"):
        inbox.generate(TEST_SPEC, ents, tmp_path / run / "inbox")
    for name in ("conversations.jsonl", "messages.jsonl"):
        a = (tmp_path / "a" / "inbox" / name).read_bytes()
        assert a == (tmp_path / "b" / "inbox" / name).read_bytes() == (world / "inbox" / name).read_bytes(), name
    assert sorted(p.name for p in (tmp_path / "a" / "inbox").iterdir()) == ["conversations.jsonl", "messages.jsonl"]


def test_scale_and_volume(tmp_path):
    spec = WorldSpec(start=date(2026, 1, 1), end=date(2026, 3, 31), seed=3, scale=2)
    truths = inbox.generate(spec, build(spec), tmp_path / "inbox")
    n_days = (spec.end - spec.start).days + 1
    assert 40 * 2 * 0.6 < truths["conversations"] / n_days < 40 * 2 * 1.6  # a few dozen a day per scale unit
    assert 2.5 < truths["messages"] / truths["conversations"] < 4
    convs = _lines(tmp_path / "inbox" / "conversations.jsonl")
    pages = {p["page_id"] for p in facebook.pages(spec)}
    accounts = {a["ig_user_id"] for a in instagram.accounts(spec)}
    assert {c["page_id"] for c in convs} == pages and len(pages) == 2
    assert {c["ig_user_id"] for c in convs if c["platform"] == "instagram"} == accounts
