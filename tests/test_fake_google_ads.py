"""The Google Ads fake serves exactly the sample world's ad group rows (as restated now), in the
API's shapes, through faults; it fails the way the real API fails; its generator is deterministic."""

from __future__ import annotations

import json
from datetime import timedelta

import fake_client
import pytest
import requests
from conftest import TEST_SPEC

from sampleworld.entities import build
from sampleworld.fakes.base import EXTRA_FIELD, FakeServer, FaultConfig
from sampleworld.fakes.google_ads import VERSION, GoogleAdsApp
from sampleworld.gen import google_ads as gen
from sampleworld.world import file_digest

FAULTY = FaultConfig(
    error_rate=0.1,
    rate_limit_rate=0.08,
    retry_after_s=0,
    truncate_rate=0.08,
    repeat_page_rate=0.3,
    extra_field_rate=0.2,
    seed=11,
)
FULL = (
    "SELECT customer.id, campaign.id, campaign.name, ad_group.id, ad_group.name, segments.date, segments.device, "
    "metrics.cost_micros, metrics.impressions, metrics.clicks, metrics.conversions, metrics.conversions_value "
    "FROM ad_group WHERE segments.date BETWEEN '{a}' AND '{b}' ORDER BY segments.date ASC"
)


def headers(app: GoogleAdsApp, **over) -> dict:
    h = {
        "Authorization": f"Bearer {app.token}",
        "developer-token": app.developer_token,
        "login-customer-id": app.manager_id,
        "Content-Type": "application/json",
    }
    h.update(over)
    return h


def post(url: str, app: GoogleAdsApp, cid: str, body: dict, method: str = "searchStream", attempts: int = 30):
    """POST with the retries a client needs: 5xx, 429 and a cut-off (invalid JSON) body."""
    return fake_client.call(
        "POST",
        f"{url}/{VERSION}/customers/{cid}/googleAds:{method}",
        attempts=attempts,
        headers=headers(app),
        data=json.dumps(body),
    )


def stream_rows(url, app, cid, query) -> list[dict]:
    status, batches = post(url, app, cid, {"query": query})
    assert status == 200, batches
    assert isinstance(batches, list) and batches
    assert "queryResourceConsumption" in batches[-1]
    assert all("queryResourceConsumption" not in b for b in batches[:-1])
    return [r for b in batches for r in b.get("results", [])]


def search_rows(url, app, cid, query, page_size) -> list[dict]:
    rows, token = [], None
    while True:
        body = {"query": query, "pageSize": page_size, **({"pageToken": token} if token else {})}
        status, page = post(url, app, cid, body, method="search")
        assert status == 200, page
        rows += page.get("results", [])
        token = page.get("nextPageToken")
        if not token:
            return rows


def key_and_values(r: dict) -> tuple[tuple, tuple]:
    r = {k: v for k, v in r.items() if k != EXTRA_FIELD}
    m = r["metrics"]
    return (
        (r["adGroup"]["id"], r["segments"]["date"], r["segments"]["device"]),
        (
            int(m.get("costMicros", "0")),
            int(m.get("impressions", "0")),
            int(m.get("clicks", "0")),
            m.get("conversions", 0.0),
            m.get("conversionsValue", 0.0),
        ),
    )


def expected(app: GoogleAdsApp, cid: str) -> dict:
    return {
        (r["ad_group_id"], r["date"], r["device"]): (
            r["cost_micros"],
            r["impressions"],
            r["clicks"],
            r["conversions"],
            r["conversions_value"],
        )
        for r in app.current_rows(cid)
    }


@pytest.mark.parametrize("faults", [FaultConfig.off(), FAULTY], ids=["faults_off", "faults_on"])
def test_every_customer_and_day_as_served_now(world, faults):
    app = GoogleAdsApp(world)
    app.batch_size = 40
    query = FULL.format(a=TEST_SPEC.start, b=TEST_SPEC.end)
    with FakeServer(app, faults) as srv:
        for cid in sorted(app.customers):
            want = expected(app, cid)
            assert want, "every customer has rows in the sample world"
            got: dict = {}
            for r in stream_rows(srv.url, app, cid, query):
                k, v = key_and_values(r)
                assert got.setdefault(k, v) == v
            assert got == want
            paged: dict = {}
            for r in search_rows(srv.url, app, cid, query, page_size=25):
                k, v = key_and_values(r)
                assert paged.setdefault(k, v) == v  # a repeated page repeats the same rows
            assert paged == want
            # Per customer and day without segmenting by ad group or device: the sums.
            days = stream_rows(
                srv.url,
                app,
                cid,
                "SELECT segments.date, metrics.clicks, metrics.cost_micros FROM "
                f"customer WHERE segments.date >= '{TEST_SPEC.start}' AND segments.date <= '{TEST_SPEC.end}'",
            )
            sums: dict = {}
            for (_, d, _), v in want.items():
                c, k = sums.get(d, (0, 0))
                sums[d] = (c + v[2], k + v[0])
            assert {
                r["segments"]["date"]: (int(r["metrics"]["clicks"]), int(r["metrics"]["costMicros"])) for r in days
            } == sums
        if faults.error_rate:
            assert srv.faults_injected > 0


def test_rows_are_proto3_json(world):
    app = GoogleAdsApp(world)
    cid = sorted(app.customers)[0]
    rows, mask = app.run_query(cid, FULL.format(a=TEST_SPEC.start, b=TEST_SPEC.end))
    assert mask[0] == "customer.id"
    for r in rows:
        assert r["adGroup"]["resourceName"] == f"customers/{cid}/adGroups/{r['adGroup']['id']}"
        assert r["campaign"]["resourceName"].startswith(f"customers/{cid}/campaigns/")
        for k in ("costMicros", "impressions", "clicks"):
            if k in r["metrics"]:
                assert isinstance(r["metrics"][k], str) and r["metrics"][k] != "0"
        for k in ("conversions", "conversionsValue"):
            if k in r["metrics"]:
                assert isinstance(r["metrics"][k], float) and r["metrics"][k] != 0
    assert any("conversions" not in r["metrics"] for r in rows), "zero conversions are left out"
    assert {r["segments"]["device"] for r in rows} <= {"MOBILE", "DESKTOP", "TABLET"}


def test_listing_and_attribute_queries(world):
    app = GoogleAdsApp(world)
    clients, _ = app.run_query(
        app.manager_id,
        "SELECT customer_client.id, customer_client.currency_code, "
        "customer_client.time_zone, customer_client.level FROM customer_client",
    )
    ids = {c["customerClient"]["id"]: c["customerClient"] for c in clients}
    assert set(app.customers) | {app.manager_id} == set(ids)
    assert {ids[c]["currencyCode"] for c in app.customers} == {"EUR", "GBP"}
    cid = sorted(app.customers)[0]
    camps, _ = app.run_query(cid, "SELECT campaign.id, campaign.name FROM campaign ORDER BY campaign.name")
    names = [c["campaign"]["name"] for c in camps]
    assert names == sorted(names) and len(names) == sum(1 for c in app.campaigns.values() if c["customer_id"] == cid)
    top, _ = app.run_query(
        cid,
        f"SELECT campaign.id, metrics.clicks FROM campaign WHERE segments.date BETWEEN "
        f"'{TEST_SPEC.start}' AND '{TEST_SPEC.end}' AND metrics.clicks > 0 "
        "ORDER BY metrics.clicks DESC LIMIT 1",
    )
    assert len(top) == 1


def _status_and_body(srv, app, cid, query, **hdr):
    r = requests.post(
        f"{srv.url}/{VERSION}/customers/{cid}/googleAds:searchStream",
        headers=headers(app, **hdr),
        data=json.dumps({"query": query}),
        timeout=10,
    )
    return r.status_code, r.json()


def test_errors_look_like_google_rpc(world):
    app = GoogleAdsApp(world)
    cid = sorted(app.customers)[0]
    q = FULL.format(a=TEST_SPEC.start, b=TEST_SPEC.end)
    with FakeServer(app) as srv:
        status, body = _status_and_body(srv, app, cid, q, Authorization="Bearer wrong")
        assert status == 401 and body["error"]["status"] == "UNAUTHENTICATED"
        assert body["error"]["details"][0]["errors"][0]["errorCode"] == {"authenticationError": "OAUTH_TOKEN_INVALID"}
        status, body = _status_and_body(srv, app, cid, q, **{"developer-token": "nope"})
        assert status == 401
        status, body = _status_and_body(srv, app, "9999999999", q)
        assert status == 403
        assert body["error"]["details"][0]["errors"][0]["errorCode"] == {"authorizationError": "USER_PERMISSION_DENIED"}
        status, body = _status_and_body(srv, app, cid, q, **{"login-customer-id": cid})
        assert status == 403
        status, body = _status_and_body(srv, app, cid, q.replace("metrics.clicks", "metrics.video_views"))
        assert status == 400 and body["error"]["status"] == "INVALID_ARGUMENT"
        err = body["error"]["details"][0]["errors"][0]
        assert err["errorCode"] == {"queryError": "UNRECOGNIZED_FIELD"}
        assert err["message"] == "Unrecognized field in the query: 'metrics.video_views'."
        assert body["error"]["details"][0]["@type"].endswith(f"{VERSION}.errors.GoogleAdsFailure")
        status, body = _status_and_body(srv, app, cid, "SELECT segments.date, metrics.clicks FROM customer")
        assert body["error"]["details"][0]["errors"][0]["errorCode"] == {"queryError": "EXPECTED_FILTERS_ON_DATE_RANGE"}
        status, body = _status_and_body(srv, app, cid, "SELECT ad_group.id FROM campaign")
        assert body["error"]["details"][0]["errors"][0]["errorCode"] == {
            "queryError": "PROHIBITED_RESOURCE_TYPE_IN_SELECT_CLAUSE"
        }


def test_retired_field_fails_the_whole_query(world):
    app = GoogleAdsApp(world)
    with FakeServer(app, FaultConfig(retired_metrics=("metrics.conversions_value",))) as srv:
        status, body = _status_and_body(
            srv, app, sorted(app.customers)[0], FULL.format(a=TEST_SPEC.start, b=TEST_SPEC.end)
        )
    assert status == 400
    assert body["error"]["details"][0]["errors"][0]["errorCode"] == {"queryError": "UNRECOGNIZED_FIELD"}


def test_rate_limit_and_server_error_bodies(world):
    app = GoogleAdsApp(world)
    body = json.loads(app.rate_limited(7).body)
    assert body["error"]["code"] == 429 and body["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert body["error"]["details"][0]["errors"][0]["details"]["quotaErrorDetails"]["retryDelay"] == "7s"
    assert json.loads(app.server_error(500).body)["error"]["status"] == "INTERNAL"


def test_recent_days_restate_old_days_do_not(world):
    app = GoogleAdsApp(world)
    app.as_of = TEST_SPEC.start + timedelta(days=15)  # first day frozen, last day within 14 days
    before = {(r["ad_group_id"], r["date"], r["device"]): r for r in app.current_rows()}
    app.restate()
    after = {(r["ad_group_id"], r["date"], r["device"]): r for r in app.current_rows()}
    first, last = TEST_SPEC.start.isoformat(), TEST_SPEC.end.isoformat()
    assert all(after[k] == v for k, v in before.items() if k[1] == first)
    moved = [k for k, v in before.items() if k[1] == last and after[k]["conversions"] != v["conversions"]]
    assert moved
    assert all(
        after[k]["clicks"] == before[k]["clicks"] and after[k]["cost_micros"] == before[k]["cost_micros"]
        for k in before
    )


def test_restate_on_pull_moves_what_a_second_pull_sees(world):
    app = GoogleAdsApp(world)
    app.restate_on_pull = True
    cid = sorted(app.customers)[0]
    q = FULL.format(a=TEST_SPEC.end, b=TEST_SPEC.end)
    with FakeServer(app) as srv:
        one = {key_and_values(r)[0]: key_and_values(r)[1] for r in stream_rows(srv.url, app, cid, q)}
        two = {key_and_values(r)[0]: key_and_values(r)[1] for r in stream_rows(srv.url, app, cid, q)}
    assert one.keys() == two.keys() and one != two


def test_generator_is_deterministic_and_truths_match(tmp_path):
    ents = build(TEST_SPEC)
    t1 = gen.generate(TEST_SPEC, ents, tmp_path / "a")
    t2 = gen.generate(TEST_SPEC, ents, tmp_path / "b")
    assert t1 == t2 and file_digest(tmp_path / "a") == file_digest(tmp_path / "b")
    rows = [json.loads(x) for x in (tmp_path / "a" / "ad_group_daily.jsonl").read_text().splitlines()]
    assert t1["rows"] == len(rows) and t1["clicks"] == sum(r["clicks"] for r in rows)
    cur = {c["customer_id"]: c["currency_code"] for c in t1["customers"]}
    micros: dict = {}
    for r in rows:
        micros[cur[r["customer_id"]]] = micros.get(cur[r["customer_id"]], 0) + r["cost_micros"]
    assert micros == t1["cost_micros_by_currency"] and set(micros) == {"EUR", "GBP"}
    assert float(t1["spend_eur"]) > 0
