"""The sample world is deterministic and its truths agree with its rows."""

from __future__ import annotations

import json
from decimal import Decimal

from conftest import TEST_SPEC

from sampleworld.entities import build
from sampleworld.world import WorldSpec, file_digest, generate


def test_same_seed_same_bytes(tmp_path, world):
    again = generate(TEST_SPEC, tmp_path / "a")
    assert again != world
    assert file_digest(again) == file_digest(world)


def test_other_seed_other_world(tmp_path, world):
    other = generate(WorldSpec(start=TEST_SPEC.start, end=TEST_SPEC.end, seed=TEST_SPEC.seed + 1), tmp_path)
    assert file_digest(other) != file_digest(world)


def test_planted_truths_are_listed(world):
    planted = json.loads((world / "truths.json").read_text())["planted"]
    assert planted["crisis"]["start"] <= planted["crisis"]["peak"] <= planted["crisis"]["end"]
    assert planted["ab_test"]["winner"] == planted["ab_test"]["treatment"]
    assert planted["influencer_that_works"] != planted["influencer_that_does_not"]
    totals = planted["totals_per_channel"]
    assert {"meta_paid", "google_cpc", "direct", "organic_search"} <= set(totals)
    assert all(t["sessions"] > 0 for t in totals.values())
    assert "spend_eur" in totals["meta_paid"]


def test_truths_match_the_rows(world):
    truths = json.loads((world / "truths.json").read_text())["meta_ads"]
    rows = [json.loads(x) for x in (world / "meta_ads" / "insights.jsonl").read_text().splitlines()]
    assert truths["insight_rows"] == len(rows)
    spend: dict[str, Decimal] = {}
    for r in rows:
        spend[r["account_currency"]] = spend.get(r["account_currency"], Decimal(0)) + Decimal(r["spend"])
    assert {k: str(v) for k, v in spend.items()} == truths["spend_by_currency"]
    assert set(truths["spend_by_currency"]) == {"EUR", "USD"}


def test_rows_look_like_the_api(world):
    row = next(
        r for r in map(json.loads, (world / "meta_ads" / "insights.jsonl").read_text().splitlines()) if "actions" in r
    )
    assert all(isinstance(row[k], str) for k in ("spend", "impressions", "clicks", "account_id", "ad_id"))
    assert {"action_type", "value", "1d_click", "7d_click", "28d_click", "1d_view"} <= set(row["actions"][0])
    assert "7d_view" not in row["actions"][0]  # retired on 12 Jan 2026


def test_scale_multiplies_accounts(tmp_path):
    one = json.loads((generate(TEST_SPEC, tmp_path) / "truths.json").read_text())
    two = json.loads(
        (generate(WorldSpec(TEST_SPEC.start, TEST_SPEC.end, TEST_SPEC.seed, 2), tmp_path) / "truths.json").read_text()
    )
    assert len(two["meta_ads"]["accounts"]) == 2 * len(one["meta_ads"]["accounts"])
    assert two["meta_ads"]["insight_rows"] > 1.5 * one["meta_ads"]["insight_rows"]


def test_every_fake_starts_and_answers(fakes):
    """`python -m sampleworld serve` and this fixture start the same set: each fake is up on
    loopback and refuses a request without a token."""
    import requests

    from sampleworld.serve import fake_modules

    assert set(fakes) == {m.NAME for m in fake_modules()} and "meta_ads" in fakes
    for name, srv in fakes.items():
        assert srv.url.startswith("http://127.0.0.1:")
        resp = requests.get(srv.url + "/", timeout=5)
        assert resp.status_code >= 400, name


def test_influencer_totals_split_by_the_creators_platforms(world):
    """The planted split: the influencer channel's totals per platform its creators post on
    (the roster's), adding up to the channel's totals."""
    planted = json.loads((world / "truths.json").read_text())["planted"]
    channel, split = planted["totals_per_channel"]["influencer"], planted["influencer_totals_per_platform"]
    roster = {r["handle"]: r["platform"] for r in build(TEST_SPEC).influencers}
    assert {p: t["handles"] for p, t in split.items()} == {
        p: sorted(h for h, q in roster.items() if q == p) for p in set(roster.values())
    }
    assert set(split) == {"instagram", "youtube"} and all(t["sessions"] > 0 for t in split.values())
    for k in ("sessions", "sessions_untagged", "leads", "new_customers"):
        assert sum(t[k] for t in split.values()) == channel[k], k
    assert sum(Decimal(t["revenue_eur"]) for t in split.values()) == Decimal(channel["revenue_eur"])


def test_creators_sponsored_links_carry_their_own_platform(world):
    """The tracked link in a creator's sponsored post (listening) is the one their sessions
    arrive with: `utm_source` is the platform the roster says they post on."""
    from urllib.parse import parse_qs, urlsplit

    roster = {r["handle"]: r["platform"] for r in build(TEST_SPEC).influencers}
    seen = set()
    for line in (world / "listening" / "mentions.jsonl").read_text().splitlines():
        m = json.loads(line)
        for link in m.get("links", []):
            q = parse_qs(urlsplit(link).query)
            if q.get("utm_medium") == ["influencer"]:
                assert q["utm_source"] == [roster[q["utm_content"][0]]] == [m["platform"]], link
                seen.add(m["platform"])
    assert seen == {"instagram", "youtube"}
