"""The Google Ads extractor against its fake, faults on: every stream loads exactly what the fake
serves now (no loss, no duplicates), re-runs change nothing, a restatement is picked up; clear
failures for a retired field, a bad token and a customer outside the manager; retryDelay is
honoured and a stream cut short is read again."""

from __future__ import annotations

import dataclasses
import json
import logging
from datetime import date

import pytest
import requests
from stream_harness import days, run_stream

from extractors.google_ads import (
    AD_GROUP_DAILY,
    CAMPAIGNS,
    CUSTOMER_DAILY,
    CUSTOMERS,
    STREAMS,
    GoogleAdsClient,
    classify_google_ads_error,
)
from extractors.http import AuthError, FatalError, RetryableError, RetryPolicy
from sampleworld.fakes.base import EXTRA_FIELD, FakeServer, FaultConfig
from sampleworld.fakes.google_ads import GoogleAdsApp, env
from warehouse.loader import column_spec

FAST = RetryPolicy(max_attempts=8, backoff_initial_s=0.001, backoff_max_s=0.01)
FAULTS = FaultConfig(
    error_rate=0.05,
    rate_limit_rate=0.05,
    retry_after_s=0,
    truncate_rate=0.05,
    repeat_page_rate=0.1,
    extra_field_rate=0.1,
    bad_record_rate=0.1,
    seed=21,
)
DAYS = days(date(2026, 6, 4), date(2026, 6, 7))  # the last day is the most provisional


def client(srv, **kw) -> GoogleAdsClient:
    e = env(srv.url, srv.app)
    args = dict(
        login_customer_id=e["GOOGLE_ADS_LOGIN_CUSTOMER_ID"],
        customer_ids=e["GOOGLE_ADS_CUSTOMER_IDS"].split(","),
        retry=FAST,
    )
    args.update(kw)
    return GoogleAdsClient(
        srv.url,
        args.pop("token", e["GOOGLE_ADS_TOKEN"]),
        args.pop("developer_token", e["GOOGLE_ADS_DEVELOPER_TOKEN"]),
        **args,
    )


def dig(record: dict, path: str):
    node = record
    for part in path.removeprefix("$.").split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def keyed(stream, records) -> dict[tuple, dict]:
    """Records by primary key (read from the columns' JSON paths); a repeated key fails."""
    out = {}
    for r in records:
        r = {k: v for k, v in r.items() if k != EXTRA_FIELD}
        k = tuple(str(dig(r, column_spec(c, stream.columns[c])[1])) for c in stream.primary_key)
        assert k not in out, f"duplicate key {k}"
        out[k] = r
    return out


def served_now(app: GoogleAdsApp, c: GoogleAdsClient, stream) -> list[dict]:
    """What the fake answers to the client's own queries now (rendered without faults)."""
    out = []
    for cid in c.customer_ids:
        for day in DAYS if stream.dated else [None]:
            out += app.run_query(cid, c.query(stream, day))[0]
    return out


def assert_rejects_are_the_injected(stream, run, injected):
    """The rejects are exactly the injected rows, whole. Each lacks the object holding a key
    field or has the one holding its date unreadable (see sampleworld.fakes.google_ads
    `bad_record_fields`): the reason names a required field under that object."""
    got = sorted(json.dumps(json.loads(text), sort_keys=True) for text, _ in run.rejects)
    assert got == sorted(json.dumps(v, sort_keys=True) for v in injected)
    required = [column_spec(c, stream.columns[c])[1] for c in stream.primary_key]
    for text, reason in run.rejects:
        rec = json.loads(text)
        broken = [p for p in required if not isinstance(rec.get(p.removeprefix("$.").split(".")[0]), dict)]
        assert broken and any(f"missing required field {p}" in reason for p in broken), (reason, rec)


# Seeds that inject at least one bad row into each stream's first run.
SEEDS = {AD_GROUP_DAILY.name: 1, CUSTOMER_DAILY.name: 0, CUSTOMERS.name: 1, CAMPAIGNS.name: 1}


@pytest.fixture
def faulty(world, request):
    stream = request.node.callspec.params.get("stream") if hasattr(request.node, "callspec") else None
    seed = SEEDS.get(stream.name, FAULTS.seed) if stream is not None else FAULTS.seed
    with FakeServer(GoogleAdsApp(world), dataclasses.replace(FAULTS, seed=seed)) as srv:
        yield srv


@pytest.mark.parametrize("stream", STREAMS, ids=lambda s: s.name)
def test_stream_loads_exactly_what_the_fake_serves(stream, faulty, tmp_path):
    c = client(faulty)
    first = run_stream(c, stream, tmp_path, DAYS)
    expected = served_now(faulty.app, c, stream)
    assert expected and keyed(stream, first.records) == keyed(stream, expected)
    injected = list(getattr(faulty.app, "injected_bad", []))  # those of this first run
    assert injected, "the seed should inject bad rows into every stream"
    assert_rejects_are_the_injected(stream, first, injected)

    second = run_stream(client(faulty), stream, tmp_path, DAYS)
    assert all((r.inserted, r.updated, r.deleted) == (0, 0, 0) for r in second.results), second.results
    assert keyed(stream, second.records) == keyed(stream, expected)

    faulty.app.restate()
    third = run_stream(client(faulty), stream, tmp_path, DAYS)
    assert keyed(stream, third.records) == keyed(stream, served_now(faulty.app, c, stream))
    if stream.dated:  # conversions of the last 14 days are provisional: every day of this world moves
        assert third.results[-1].updated > 0 and third.results[-1].inserted == 0
    else:
        assert all(r.updated == 0 for r in third.results)
    if stream is AD_GROUP_DAILY:
        assert faulty.faults_injected > 0 and c.stats.retries > 0


def test_ad_group_rows_are_the_simulator_rows_summed_over_devices(world):
    with FakeServer(GoogleAdsApp(world)) as srv:
        c = client(srv)
        day = date(2026, 6, 4)
        got = {r["adGroup"]["id"]: r for p in c.pages(AD_GROUP_DAILY, day) for r in p}
        want: dict[str, dict] = {}
        for row in srv.app.current_rows():
            if row["date"] == day.isoformat():
                w = want.setdefault(row["ad_group_id"], {"cost_micros": 0, "clicks": 0, "customer": row["customer_id"]})
                w["cost_micros"] += row["cost_micros"]
                w["clicks"] += row["clicks"]
        customers = {c["customer_id"]: c for c in srv.app.customers.values()}
    assert got.keys() == want.keys()
    for ad_group, w in want.items():
        r = got[ad_group]
        assert int(r["metrics"].get("costMicros", 0)) == w["cost_micros"]
        assert int(r["metrics"].get("clicks", 0)) == w["clicks"]
        assert r["customer"]["id"] == w["customer"]
        assert r["customer"]["currencyCode"] == customers[w["customer"]]["currency_code"]
        assert r["customer"]["timeZone"] == customers[w["customer"]]["time_zone"]
        assert r["campaign"]["name"]


def test_customers_and_campaigns_carry_currency_time_zone_and_names(world):
    with FakeServer(GoogleAdsApp(world)) as srv:
        c = client(srv)
        customers = [r["customer"] for p in c.pages(CUSTOMERS, None) for r in p]
        campaigns = [r["campaign"] for p in c.pages(CAMPAIGNS, None) for r in p]
        totals = [r for p in c.pages(CUSTOMER_DAILY, date(2026, 6, 2)) for r in p]
        app = srv.app
    assert {x["id"]: (x["currencyCode"], x["timeZone"]) for x in customers} == {
        k: (v["currency_code"], v["time_zone"]) for k, v in app.customers.items()
    }
    assert {x["id"]: x["name"] for x in campaigns} == {k: v["name"] for k, v in app.campaigns.items()}
    assert len(totals) == len(app.customers) and all(t["segments"]["date"] == "2026-06-02" for t in totals)


def test_retired_field_fails_naming_platform_field_and_setting(world):
    with FakeServer(GoogleAdsApp(world), FaultConfig(retired_metrics=("metrics.conversions_value",))) as srv:
        with pytest.raises(FatalError) as exc:
            list(client(srv).pages(AD_GROUP_DAILY, date(2026, 6, 1)))
    text = str(exc.value)
    assert "Google Ads" in text and "metrics.conversions_value" in text and "ad_group_fields" in text
    assert not isinstance(exc.value, RetryableError)


def test_bad_tokens_fail_naming_the_variable_and_never_show_the_token(world, caplog):
    caplog.set_level(logging.DEBUG)
    secret, dev_secret = "ya29.secret-oauth-token-123", "secret-developer-token-456"
    with FakeServer(
        GoogleAdsApp(world), FaultConfig(error_rate=0.2, rate_limit_rate=0.2, retry_after_s=0, seed=4)
    ) as srv:
        with pytest.raises(AuthError, match="GOOGLE_ADS_TOKEN") as bad_oauth:
            list(client(srv, token=secret).pages(CUSTOMERS, None))
        with pytest.raises(AuthError, match="GOOGLE_ADS_DEVELOPER_TOKEN") as bad_dev:
            list(client(srv, developer_token=dev_secret).pages(CUSTOMERS, None))
        good = client(srv)
        list(good.pages(AD_GROUP_DAILY, date(2026, 6, 1)))
        real = (srv.app.token, srv.app.developer_token)
    for text in (str(bad_oauth.value), str(bad_dev.value), repr(bad_oauth.value), caplog.text):
        for s in (secret, dev_secret, *real):
            assert s not in text
    assert good.stats.retries > 0  # the retries were logged, without a token in them


def test_missing_token_fails_before_any_call():
    with pytest.raises(AuthError, match="GOOGLE_ADS_TOKEN"):
        GoogleAdsClient("http://127.0.0.1:9", "", "dev")
    with pytest.raises(AuthError, match="GOOGLE_ADS_DEVELOPER_TOKEN"):
        GoogleAdsClient("http://127.0.0.1:9", "tok", "")


def test_customer_outside_the_manager_is_fatal_with_a_clear_message(world):
    with FakeServer(GoogleAdsApp(world)) as srv:
        with pytest.raises(FatalError) as exc:
            list(client(srv, customer_ids=["1234567890"]).pages(CUSTOMERS, None))
        assert not isinstance(exc.value, (RetryableError, AuthError))
        assert "1234567890" in str(exc.value) and "GOOGLE_ADS_LOGIN_CUSTOMER_ID" in str(exc.value)
        assert "permission" in str(exc.value)  # the platform's own words
        with pytest.raises(FatalError, match="GOOGLE_ADS_CUSTOMER_IDS"):
            list(client(srv, login_customer_id="999").pages(CUSTOMERS, None))


def test_key_fields_missing_from_the_settings_fail_early():
    with pytest.raises(FatalError, match="ad_group_fields.*ad_group.id"):
        GoogleAdsClient("http://127.0.0.1:9", "t", "d", ad_group_fields=["segments.date", "customer.id"])


def test_retry_delay_of_resource_exhausted_is_honoured(world):
    slept: list[float] = []
    with FakeServer(GoogleAdsApp(world), FaultConfig(rate_limit_rate=0.4, retry_after_s=3, seed=2)) as srv:
        body = srv.app.rate_limited(3)
        c = client(srv, sleep=slept.append)
        got = [r for p in c.pages(CUSTOMERS, None) for r in p]
        c2 = client(srv, sleep=slept.append)
        list(c2.pages(CAMPAIGNS, None))
        list(c2.pages(AD_GROUP_DAILY, date(2026, 6, 3)))
    resp = requests.Response()
    resp.status_code, resp._content = 429, body.body
    err = classify_google_ads_error(resp, "https://googleads.googleapis.com/v23/customers/1/googleAds:searchStream")
    assert isinstance(err, RetryableError) and err.retry_after == 3.0 and "Too many requests" in str(err)
    assert len(got) == 2 and slept and all(s >= 3.0 for s in slept)


def test_a_stream_cut_short_in_transit_is_read_again(world):
    with FakeServer(GoogleAdsApp(world)) as srv:
        c = client(srv)
        real = c.http.session.request
        calls = {"n": 0}

        def flaky(*a, **kw):
            calls["n"] += 1
            if calls["n"] == 1:
                raise requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead(10 bytes read)")
            return real(*a, **kw)

        c.http.session.request = flaky
        got = [r for p in c.pages(AD_GROUP_DAILY, date(2026, 6, 5)) for r in p]
        assert got == served_now_day(srv.app, c, date(2026, 6, 5))
    assert c.stats.retries == 1


def served_now_day(app, c, day):
    return [r for cid in c.customer_ids for r in app.run_query(cid, c.query(AD_GROUP_DAILY, day))[0]]
