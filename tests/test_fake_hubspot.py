"""The HubSpot fake against plain `requests`: every page of lists and searches, with and without
faults, is exactly the simulator's records; windowed search gets past the result cap and a
timestamp shared by more records than the cap; associations are complete; errors; the
generator agrees with the funnel and is deterministic."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from datetime import date
from decimal import Decimal

import fake_client
import pytest
import requests
from conftest import TEST_SPEC

from sampleworld.entities import build
from sampleworld.fakes.base import EXTRA_FIELD, FakeServer, FaultConfig
from sampleworld.fakes.hubspot import CONTACTS_ONLY_TOKEN, DEFAULT_TOKEN, MODIFIED, HubSpotApp, to_ms
from sampleworld.funnel import FunnelRow
from sampleworld.gen import hubspot as hubspot_gen
from sampleworld.world import WorldSpec

FAULTS = FaultConfig(
    error_rate=0.1,
    rate_limit_rate=0.08,
    retry_after_s=0,
    truncate_rate=0.08,
    repeat_page_rate=0.2,
    extra_field_rate=0.2,
    seed=5,
)
PROPS = {
    "contacts": [
        "email",
        "lifecyclestage",
        "hs_analytics_source",
        "hs_analytics_source_data_1",
        "hs_analytics_source_data_2",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_content",
        "createdate",
        "lastmodifieddate",
    ],
    "deals": ["amount", "closedate", "dealstage", "pipeline", "dealtype", "hs_lastmodifieddate"],
}


def call(method: str, url: str, token: str = DEFAULT_TOKEN, attempts: int = 60, **kw):
    """One request with a client's retries; (status, body, headers)."""
    r, body = fake_client.request(method, url, attempts=attempts, headers={"Authorization": f"Bearer {token}"}, **kw)
    return r.status_code, body, r.headers


def clean(rec: dict) -> dict:
    return {k: v for k, v in rec.items() if k != EXTRA_FIELD}


def expected(app: HubSpotApp, kind: str, props: list[str], associations: str | None = None) -> dict[str, dict]:
    want_props = sorted(set(props) | {"hs_object_id", "createdate", MODIFIED[kind]})
    out = {}
    linked = app.associations(kind, associations) if associations else {}
    for rec in app.current_records(kind):
        r = {**rec, "properties": {p: rec["properties"].get(p) for p in want_props}}
        if rec["id"] in linked:
            r["associations"] = {
                associations: {
                    "results": [
                        {"id": x, "type": "contact_to_deal" if kind == "contacts" else "deal_to_contact"}
                        for x in linked[rec["id"]]
                    ]
                }
            }
        out[rec["id"]] = r
    return out


def list_all(url: str, kind: str, limit: int = 37, associations: str | None = None) -> dict[str, dict]:
    got: dict[str, dict] = {}
    params = {"limit": limit, "properties": ",".join(PROPS[kind])}
    if associations:
        params["associations"] = associations
    next_url = f"{url}/crm/v3/objects/{kind}"
    while next_url:
        status, body, headers = call("GET", next_url, params=params)
        assert status == 200, body
        assert "X-HubSpot-RateLimit-Remaining" in headers
        for rec in body["results"]:
            got[rec["id"]] = clean(rec)
        nxt = body.get("paging", {}).get("next")
        next_url, params = (nxt["link"], None) if nxt else (None, None)
    return got


def search_page(url, kind, filters, after, limit, sort=None, token=DEFAULT_TOKEN):
    body = {
        "filterGroups": [{"filters": filters}] if filters else [],
        "sorts": [{"propertyName": sort or MODIFIED[kind], "direction": "ASCENDING"}],
        "properties": PROPS[kind],
        "limit": limit,
        "after": str(after),
    }
    return call("POST", f"{url}/crm/v3/objects/{kind}/search", token=token, json=body)


def windowed_search(url: str, kind: str, cap: int, limit: int = 20) -> tuple[dict[str, dict], int]:
    """Every record by `modified >= lo`, ascending: when the next page would pass the cap,
    start a new window at the last timestamp seen (dedupe by id); when a whole window is one
    timestamp, page that timestamp by id. Returns (records, number of id-paged ties)."""
    prop = MODIFIED[kind]
    got: dict[str, dict] = {}
    lo, tie_walks = 0, 0
    while True:
        after, last_ts, restart = 0, None, False
        while True:
            status, body, headers = search_page(
                url, kind, [{"propertyName": prop, "operator": "GTE", "value": str(lo)}], after, limit
            )
            assert status == 200, body
            assert not any(h.lower().startswith("x-hubspot-ratelimit") for h in headers)
            for rec in body["results"]:
                got[rec["id"]] = clean(rec)
                last_ts = to_ms(rec["properties"][prop])
            nxt = body.get("paging", {}).get("next")
            if not nxt:
                return got, tie_walks
            if int(nxt["after"]) + limit > cap:
                restart = True
                break
            after = int(nxt["after"])
        assert restart
        if last_ts == lo:  # the window is one timestamp: walk it by id, then go past it
            tie_walks += 1
            last_id = 0
            while True:
                status, body, _ = search_page(
                    url,
                    kind,
                    [
                        {"propertyName": prop, "operator": "EQ", "value": str(lo)},
                        {"propertyName": "hs_object_id", "operator": "GT", "value": str(last_id)},
                    ],
                    0,
                    limit,
                    sort="hs_object_id",
                )
                assert status == 200, body
                for rec in body["results"]:
                    got[rec["id"]] = clean(rec)
                    last_id = int(rec["id"])
                if not body.get("paging"):
                    break
            lo = lo + 1
        else:
            lo = last_ts


@pytest.mark.parametrize("faults", [None, FAULTS], ids=["faults_off", "faults_on"])
def test_list_every_record_exactly_once(world, faults):
    app = HubSpotApp(world)
    with FakeServer(app, faults) as srv:
        contacts = list_all(srv.url, "contacts", associations="deals")
        deals = list_all(srv.url, "deals", associations="contacts")
        if faults:
            assert srv.faults_injected > 0
    assert contacts == expected(app, "contacts", PROPS["contacts"], "deals")
    assert deals == expected(app, "deals", PROPS["deals"], "contacts")
    assert len(contacts) > 300 and len(deals) > 100


@pytest.mark.parametrize("faults", [None, FAULTS], ids=["faults_off", "faults_on"])
def test_windowed_search_past_the_cap_and_a_big_tie(world, faults):
    truths = json.loads((world / "truths.json").read_text())["hubspot"]
    tie = truths["ties"]["contacts"]
    cap = 60
    assert tie["count"] > cap  # more records share one millisecond than one search can return
    app = HubSpotApp(world, search_cap=cap)
    with FakeServer(app, faults) as srv:
        for kind in ("contacts", "deals"):
            got, tie_walks = windowed_search(srv.url, kind, cap)
            assert got == {
                k: {kk: vv for kk, vv in v.items() if kk != "associations"}
                for k, v in expected(app, kind, PROPS[kind]).items()
            }
            if kind == "contacts":
                assert tie_walks >= 1
        # paging past the cap is the real 400
        status, body, _ = search_page(srv.url, "contacts", [], cap, 10)
        assert status == 400 and body["category"] == "VALIDATION_ERROR"
        status, body, _ = search_page(srv.url, "contacts", [], 0, 201)
        assert status == 400


def test_search_filters_total_and_ties(world):
    app = HubSpotApp(world)
    truths = json.loads((world / "truths.json").read_text())["hubspot"]
    tie_ms = to_ms(truths["ties"]["contacts"]["lastmodifieddate"])
    with FakeServer(app) as srv:
        status, body, _ = search_page(
            srv.url, "contacts", [{"propertyName": "lastmodifieddate", "operator": "EQ", "value": str(tie_ms)}], 0, 200
        )
        assert status == 200 and body["total"] == truths["ties"]["contacts"]["count"] > 5
        status, body, _ = search_page(
            srv.url,
            "contacts",
            [
                {
                    "propertyName": "lastmodifieddate",
                    "operator": "EQ",
                    "value": truths["ties"]["contacts"]["lastmodifieddate"],
                }
            ],
            0,
            10,
        )  # ISO works too
        assert body["total"] == truths["ties"]["contacts"]["count"] and body["paging"]["next"]["after"] == "10"
        status, body, _ = search_page(
            srv.url, "deals", [{"propertyName": "dealtype", "operator": "EQ", "value": "newbusiness"}], 0, 200
        )
        assert body["total"] == truths["first_deals"]


def test_indexed_search_matches_a_full_scan(world, monkeypatch):
    """A range filter on an indexed timestamp narrows the records a search tests; the hits
    (and their order) are those of testing every record."""
    app = HubSpotApp(world)
    store = app.stores["contacts"]
    times = sorted(v for v in store.cols["lastmodifieddate"] if v is not None)
    lo, mid, hi = times[len(times) // 4], times[len(times) // 2], times[3 * len(times) // 4]
    f = lambda prop, op, value, **kw: {"propertyName": prop, "operator": op, "value": str(value), **kw}  # noqa: E731
    searches = [
        [{"filters": [f("lastmodifieddate", "GTE", lo), f("lastmodifieddate", "LT", mid)]}],
        [{"filters": [f("lastmodifieddate", "GT", lo), f("lastmodifieddate", "LTE", mid)]}],
        [{"filters": [f("lastmodifieddate", "EQ", mid), f("hs_object_id", "GT", 0)]}],
        [{"filters": [f("createdate", "BETWEEN", lo, highValue=str(hi)), f("lastmodifieddate", "GTE", mid)]}],
        [{"filters": [f("lastmodifieddate", "GTE", hi)]}, {"filters": [f("lastmodifieddate", "LT", lo)]}],
        [{"filters": [f("lastmodifieddate", "GTE", hi)]}, {"filters": [f("lifecyclestage", "EQ", "customer")]}],
        [{"filters": [f("lastmodifieddate", "LT", lo), f("lastmodifieddate", "GTE", hi)]}],  # empty
    ]
    sort = [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}]
    indexed = [app._matching("contacts", groups, sort, None) for groups in searches]
    monkeypatch.setattr(store, "candidates", lambda filters: None)  # every record tested
    scanned = [app._matching("contacts", groups, sort, None) for groups in searches]
    assert indexed == scanned
    assert all(indexed[:6]) and indexed[6] == [] and len(indexed[0]) < len(store.ids) // 2


def test_associations_complete_and_single_get(world):
    app = HubSpotApp(world)
    links = app.associations("deals", "contacts")
    with FakeServer(app, FAULTS) as srv:
        for deal_id, contacts in links.items():
            status, body, headers = call("GET", f"{srv.url}/crm/v4/objects/deals/{deal_id}/associations/contacts")
            assert status == 200
            results = [clean(r) for r in body["results"]]
            assert [r["toObjectId"] for r in results] == [int(c) for c in contacts]
            assert results[0]["associationTypes"] == [{"category": "HUBSPOT_DEFINED", "typeId": 3, "label": None}]
        back = defaultdict(list)
        for d, cs in links.items():
            for c in cs:
                back[c].append(int(d))
        some = sorted(back)[:20]
        for c in some:
            status, body, _ = call("GET", f"{srv.url}/crm/v4/objects/contact/{c}/associations/deal")
            assert [r["toObjectId"] for r in body["results"]] == back[c]
        status, body, _ = call(
            "GET",
            f"{srv.url}/crm/v3/objects/contacts/{some[0]}",
            params={"properties": "email,lifecyclestage", "associations": "deals"},
        )
        assert status == 200 and clean(body)["properties"]["lifecyclestage"] == "customer"
        assert body["associations"]["deals"]["results"][0]["id"] == str(back[some[0]][0])
        status, body, _ = call("GET", f"{srv.url}/crm/v3/objects/deals/1")
        assert status == 404
    # every deal has its contact, every contact with deals says how many
    assert len(links) == len(app.current_records("deals"))
    for c in app.current_records("contacts"):
        assert int(c["properties"]["num_associated_deals"]) == len(back.get(c["id"], []))


def test_errors(world):
    with FakeServer(HubSpotApp(world)) as srv:
        status, body, _ = call("GET", f"{srv.url}/crm/v3/objects/contacts", token="wrong")
        assert status == 401 and body["status"] == "error" and "correlationId" in body
        r = requests.get(f"{srv.url}/crm/v3/objects/contacts", timeout=10)
        assert r.status_code == 401 and r.json()["category"] == "INVALID_AUTHENTICATION"
        status, body, _ = call("GET", f"{srv.url}/crm/v3/objects/deals", token=CONTACTS_ONLY_TOKEN)
        assert status == 403 and body["category"] == "MISSING_SCOPES"
        assert body["errors"][0]["context"]["requiredScopes"] == ["crm.objects.deals.read"]
        status, body, _ = call("GET", f"{srv.url}/crm/v3/objects/contacts", token=CONTACTS_ONLY_TOKEN)
        assert status == 200
        status, body, _ = call(
            "POST",
            f"{srv.url}/crm/v3/objects/contacts/batch/read",
            json={"inputs": [{"id": str(i)} for i in range(101)]},
        )
        assert status == 400 and body["category"] == "VALIDATION_ERROR"
    with FakeServer(HubSpotApp(world), FaultConfig(rate_limit_rate=1.0, retry_after_s=0)) as srv:
        r = requests.get(
            f"{srv.url}/crm/v3/objects/contacts", timeout=10, headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"}
        )
        assert r.status_code == 429
        body = r.json()
        assert body["errorType"] == "RATE_LIMIT" and body["policyName"] == "TEN_SECONDLY_ROLLING"
        assert body["message"] == "You have reached your ten_secondly_rolling limit."


def test_crm_agrees_with_the_funnel(world):
    truths = json.loads((world / "truths.json").read_text())
    hs, planted = truths["hubspot"], truths["planted"]["totals_per_channel"]
    assert hs["revenue_by_channel"] == {k: v["revenue_eur"] for k, v in planted.items() if v["new_customers"]}
    assert hs["customers_by_channel"] == {k: v["new_customers"] for k, v in planted.items() if v["new_customers"]}
    assert hs["leads"] == sum(v["leads"] for v in planted.values())
    assert hs["contacts"] == hs["leads"] + hs["direct_buyers"]
    app = HubSpotApp(world)
    contacts, deals = app.current_records("contacts"), app.current_records("deals")
    assert len(contacts) == hs["contacts"] and len(deals) == hs["deals"] == hs["first_deals"] + hs["repeat_deals"]
    total = sum(Decimal(d["properties"]["amount"]) for d in deals)
    assert total == Decimal(hs["revenue_eur"]) + Decimal(hs["repeat_revenue_eur"])
    for c in contacts:
        p = c["properties"]
        assert all(isinstance(v, str) for v in p.values())
        stages = [s for s in hubspot_gen.STAGES if f"hs_lifecyclestage_{s}_date" in p]
        assert stages == list(hubspot_gen.STAGES[: len(stages)]) and stages[-1] == p["lifecyclestage"]
        dates = [p[f"hs_lifecyclestage_{s}_date"] for s in stages]
        assert dates == sorted(dates) and dates[0] == p["createdate"] <= p["lastmodifieddate"]
        if p["hs_analytics_source"] in ("DIRECT_TRAFFIC", "ORGANIC_SEARCH"):
            assert "utm_source" not in p
    assert any(
        "utm_source" not in c["properties"] and c["properties"]["hs_analytics_source"] == "SOCIAL_MEDIA"
        for c in contacts
    )  # untagged organic social


def test_generator_is_deterministic(tmp_path):
    ents = build(TEST_SPEC)
    one = hubspot_gen.generate(TEST_SPEC, ents, tmp_path / "a")
    two = hubspot_gen.generate(TEST_SPEC, ents, tmp_path / "b")
    assert one == two
    for name in ("contacts.jsonl", "deals.jsonl", "deal_contacts.jsonl"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


NETWORK = {"instagram": "Instagram", "youtube": "YouTube"}
CREATOR_HOSTS = {"l.instagram.com": "instagram", "youtube.com": "youtube"}


def test_influencer_contacts_name_the_creators_own_platform(tmp_path):
    """Original source of a contact an influencer brought: SOCIAL_MEDIA, drill-down 1 the
    network the creator posts on (roster), drill-down 2 the campaign (or, untagged, the
    platform's referrer); `utm_source` is that platform. Three months of `make run`'s seed,
    so both platforms' creators bring contacts."""
    spec = WorldSpec(end=date(2026, 8, 31))
    ents = build(spec)
    truths = hubspot_gen.generate(spec, ents, tmp_path)
    roster = {i["handle"]: i["platform"] for i in ents.influencers}
    tagged: dict[str, int] = defaultdict(int)
    untagged: dict[str, int] = defaultdict(int)
    for line in (tmp_path / "contacts.jsonl").read_text().splitlines():
        p = json.loads(line)["properties"]
        if p.get("utm_medium") == "influencer":
            platform = roster[p["utm_content"]]
            assert p["utm_source"] == platform
            assert (p["hs_analytics_source"], p["hs_analytics_source_data_1"], p["hs_analytics_source_data_2"]) == (
                "SOCIAL_MEDIA",
                NETWORK[platform],
                p["utm_campaign"],
            )
            tagged[platform] += 1
        elif p.get("hs_analytics_source_data_2") in CREATOR_HOSTS:
            platform = CREATOR_HOSTS[p["hs_analytics_source_data_2"]]
            assert "utm_source" not in p
            assert (p["hs_analytics_source"], p["hs_analytics_source_data_1"]) == ("SOCIAL_MEDIA", NETWORK[platform])
            untagged[platform] += 1
    assert set(tagged) == {"instagram", "youtube"} and untagged
    assert sum(tagged.values()) + sum(untagged.values()) == truths["contacts_by_channel"]["influencer"]


@pytest.mark.parametrize(
    "platform, untagged, want",
    [
        ("youtube", True, ("YouTube", "youtube.com", None)),
        ("youtube", False, ("YouTube", "summer_launch_2026", "youtube")),
        ("instagram", True, ("Instagram", "l.instagram.com", None)),
        ("instagram", False, ("Instagram", "summer_launch_2026", "instagram")),
    ],
)
def test_influencer_attribution_per_platform(platform, untagged, want):
    row = FunnelRow(
        date(2026, 6, 3),
        "influencer",
        platform,
        "influencer",
        "summer_launch_2026",
        "creator_002",
        10,
        1,
        5,
        1,
        0,
        Decimal(0),
    )
    p = hubspot_gen._attribution(random.Random(0), row, untagged)
    assert p["hs_analytics_source"] == p["hs_latest_source"] == "SOCIAL_MEDIA"
    assert (p["hs_analytics_source_data_1"], p["hs_analytics_source_data_2"], p.get("utm_source")) == want
