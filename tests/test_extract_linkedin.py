"""The LinkedIn extractor against its fake, faults on: every stream (page statistics, follower
gains, follower demographics and network size as daily snapshots, ad accounts, campaigns, ad
analytics) loads exactly what the fake serves now, re-runs change nothing and a restatement is
picked up; fields are chunked and merged, the element cap is split, 429 is backed off, and a
retired metric, a bad token and an unknown organization fail clearly."""

from __future__ import annotations

import dataclasses
import json
import logging
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from stream_harness import days, run_stream

from extractors import linkedin
from extractors.http import AuthError, FatalError, RetryableError, RetryPolicy
from extractors.linkedin import (
    AD_ACCOUNTS,
    AD_ANALYTICS,
    AD_CAMPAIGNS,
    ALWAYS_FIELDS,
    API_VERSION,
    DEFAULT_ANALYTICS_FIELDS,
    FOLLOWER_DEMOGRAPHICS,
    FOLLOWER_GAINS,
    NETWORK_SIZE,
    SHARE_STATISTICS,
    STREAMS,
    LinkedInClient,
)
from sampleworld.fakes.base import EXTRA_FIELD, FakeServer, FaultConfig, Request
from sampleworld.fakes.linkedin import BAD_ACCOUNT, DAY_MS, INT_METRICS, SHARE_STATS, LinkedInApp, env, ms
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
    seed=31,
)
DAYS = days(date(2026, 6, 4), date(2026, 6, 7))  # the last day is the most provisional
RESTATED = {SHARE_STATISTICS.name, AD_ANALYTICS.name}  # what this fake revises (2 and 30 days)


def client(srv, **kw) -> LinkedInClient:
    e = env(srv.url, srv.app)  # no LINKEDIN_VERSION: the client's default is what a run sends
    args = dict(
        organization_ids=e["LINKEDIN_ORGANIZATION_IDS"].split(","),
        ad_account_ids=e["LINKEDIN_AD_ACCOUNT_IDS"].split(","),
        retry=FAST,
        page_size=1,
        fields_per_request=6,
    )
    args.update(kw)
    return LinkedInClient(srv.url, args.pop("token", e["LINKEDIN_TOKEN"]), **args)


def dig(record: dict, path: str):
    node = record
    for part in path.removeprefix("$.").split("."):
        name, _, idx = part.partition("[")
        node = node.get(name) if isinstance(node, dict) else None
        if idx and isinstance(node, list):
            node = node[int(idx.rstrip("]"))]
    return node


def keyed(stream, records) -> dict[tuple, dict]:
    out = {}
    for r in records:
        r = {k: v for k, v in r.items() if k != EXTRA_FIELD}
        k = tuple(str(dig(r, column_spec(c, stream.columns[c])[1])) for c in stream.primary_key)
        assert k not in out, f"duplicate key {k}"
        out[k] = r
    return out


def assert_rejects_are_the_injected(run, injected):
    """The rejects are exactly the injected accounts the extractor passes on, whole, each with a
    reason naming its field. A copy without `id` is none of the configured accounts: the
    extractor leaves it out (as it does every other account), so it never reaches the rejects."""
    key, typed = BAD_ACCOUNT
    passed = [r for r in injected if key in r]
    got = sorted(json.dumps(json.loads(text), sort_keys=True) for text, _ in run.rejects)
    assert got == sorted(json.dumps(v, sort_keys=True) for v in passed)
    for _, reason in run.rejects:
        assert f"field {typed}: not-a-valid-value" in reason, reason


def served_list(app: LinkedInApp, path: str, query: dict) -> list[dict]:
    """A list endpoint's elements as the fake serves them now, in one page."""
    req = Request(
        "GET",
        path,
        {**query, "start": "0", "count": "1000"},
        {},
        {"authorization": f"Bearer {app.token}", "linkedin-version": API_VERSION},
        b"",
        "",
    )
    resp = app.handle(req)
    assert resp.status == 200, resp.body
    return [{k: v for k, v in el.items() if k != EXTRA_FIELD} for el in json.loads(resp.body)["elements"]]


def served_now(app: LinkedInApp, stream, fields=DEFAULT_ANALYTICS_FIELDS) -> list[dict]:
    """What the fake serves now, built from the simulator's rows (not from the fake's responses)."""
    orgs = sorted(app.orgs)
    in_days = {d.isoformat() for d in DAYS}
    if stream is SHARE_STATISTICS:
        return [
            {
                "organizationalEntity": o,
                "timeRange": {
                    "start": ms(date.fromisoformat(r["date"])),
                    "end": ms(date.fromisoformat(r["date"])) + DAY_MS,
                },
                "totalShareStatistics": {k: r[k] for k in SHARE_STATS},
                "date": r["date"],
            }
            for o in orgs
            for r in app.current_share_days(o)
            if r["date"] in in_days
        ]
    if stream is FOLLOWER_GAINS:
        return [
            {
                "organizationalEntity": o,
                "timeRange": {
                    "start": ms(date.fromisoformat(r["date"])),
                    "end": ms(date.fromisoformat(r["date"])) + DAY_MS,
                },
                "followerGains": {
                    "organicFollowerGain": r["organicFollowerGain"],
                    "paidFollowerGain": r["paidFollowerGain"],
                },
                "date": r["date"],
            }
            for o in orgs
            for r in app.gain_days[o]
            if r["date"] in in_days
        ]
    if stream is FOLLOWER_DEMOGRAPHICS:
        out = []
        for o in orgs:
            el = {"organizationalEntity": o}
            for facet, rows in app.facets[o].items():
                el[facet] = [
                    {
                        r["item_key"]: r["value"],
                        "followerCounts": {
                            "organicFollowerCount": r["organicFollowerCount"],
                            "paidFollowerCount": r["paidFollowerCount"],
                        },
                    }
                    for r in rows
                ]
            out += [{**el, "snapshot_date": d.isoformat()} for d in DAYS]
        return out
    if stream is NETWORK_SIZE:
        return [
            {"organizationalEntity": o, "firstDegreeSize": app.network_size(o), "snapshot_date": d.isoformat()}
            for o in orgs
            for d in DAYS
        ]
    if stream is AD_ACCOUNTS:
        return [app._account(a) for _, a in sorted(app.accounts.items())]
    if stream is AD_CAMPAIGNS:
        return [
            el
            for a in sorted(app.accounts)
            for el in served_list(app, f"/rest/adAccounts/{a}/adCampaigns", {"q": "search"})
        ]
    if stream is AD_ANALYTICS:
        out = []
        for r in app.current_analytics():
            if r["date"] not in in_days:
                continue
            ymd = dict(zip(("year", "month", "day"), map(int, r["date"].split("-"))))
            el = {
                "dateRange": {"start": ymd, "end": ymd},
                "date": r["date"],
                "pivotValues": [f"urn:li:sponsoredCampaign:{r['campaign_id']}"],
            }
            el.update({f: (r[f] if f in INT_METRICS else str(Decimal(0) + Decimal(r[f]))) for f in fields})
            out.append(el)
        return out
    raise AssertionError(stream)


# A seed that injects a bad account the extractor passes on (one with its id, `test` unreadable).
SEEDS = {AD_ACCOUNTS.name: 51}


@pytest.fixture
def faulty(world, request):
    stream = request.node.callspec.params.get("stream") if hasattr(request.node, "callspec") else None
    seed = SEEDS.get(stream.name, FAULTS.seed) if stream is not None else FAULTS.seed
    with FakeServer(LinkedInApp(world), dataclasses.replace(FAULTS, seed=seed)) as srv:
        yield srv


@pytest.mark.parametrize("stream", STREAMS, ids=lambda s: s.name)
def test_stream_loads_exactly_what_the_fake_serves(stream, faulty, tmp_path):
    c = client(faulty)
    first = run_stream(c, stream, tmp_path, DAYS)
    expected = served_now(faulty.app, stream)
    assert expected and keyed(stream, first.records) == keyed(stream, expected)
    injected = list(getattr(faulty.app, "injected_bad", []))  # those of this first run
    if stream is AD_ACCOUNTS:  # the only list the fake injects bad records into (BAD_ACCOUNT)
        assert injected, "the seed should inject bad accounts"
        assert_rejects_are_the_injected(first, injected)
    else:
        assert injected == [] and first.rejects == []

    second = run_stream(client(faulty), stream, tmp_path, DAYS)
    assert all((r.inserted, r.updated, r.deleted) == (0, 0, 0) for r in second.results), second.results

    faulty.app.restate()
    third = run_stream(client(faulty), stream, tmp_path, DAYS)
    assert keyed(stream, third.records) == keyed(stream, served_now(faulty.app, stream))
    if stream.name in RESTATED:
        assert third.results[-1].updated > 0 and third.results[-1].inserted == 0
    else:
        assert all((r.inserted, r.updated, r.deleted) == (0, 0, 0) for r in third.results)


def test_every_request_sends_the_version_and_restli_headers(world):
    class Recording(LinkedInApp):
        def handle(self, req):
            self.seen.append(req.headers)
            return super().handle(req)

    app = Recording(world)
    app.seen = []
    with FakeServer(app) as srv:
        c = client(srv)
        for stream in STREAMS:
            list(c.pages(stream, date(2026, 6, 2)))
    assert app.seen and all(
        h.get("linkedin-version") == API_VERSION and h.get("x-restli-protocol-version") == "2.0.0" for h in app.seen
    )


def months_old(version: str, today: date) -> int:
    return (today.year - int(version[:4])) * 12 + today.month - int(version[4:6])


def test_default_version_is_served_today_by_the_fake_and_linkedin(world):
    """A DELIBERATE REMINDER that fails as the default ages. LinkedIn serves a LinkedIn-Version for
    about 12 months after its release, then answers 426 NONEXISTENT_VERSION: every LinkedIn asset of
    a run on the default would fail. This test fails once `extractors.linkedin.API_VERSION` is 12
    months old by today's real date (the fake, whose version clock is today's date, refuses it then
    too). When it fails, move API_VERSION (and the comment in .env.example) to a version released a
    couple of months ago: https://learn.microsoft.com/en-us/linkedin/marketing/versioning lists them."""
    today = datetime.now(UTC).date()
    age = months_old(API_VERSION, today)
    assert 0 <= age < 12, f"API_VERSION {API_VERSION} is {age} months old on {today}: LinkedIn no longer serves it"
    app = LinkedInApp(world)  # the fake's own clock: today's date
    with FakeServer(app) as srv:
        c = client(srv)
        assert c.version == API_VERSION
        got = [r for p in c.pages(AD_ACCOUNTS, None) for r in p]
    assert sorted(str(a["id"]) for a in got) == sorted(app.accounts)


def test_an_inactive_version_fails_at_once_naming_the_setting_and_the_version(world):
    """426 NONEXISTENT_VERSION is not retried (Airbyte backs off and retries it,
    airbytehq/airbyte#74240): one request, then an error that names LINKEDIN_VERSION and the
    version sent, and says to pick an active one."""

    class Counting(LinkedInApp):
        def handle(self, req):
            self.versions.append(req.headers.get("linkedin-version"))
            return super().handle(req)

    app = Counting(world)
    app.versions = []
    slept: list[float] = []
    with FakeServer(app) as srv:
        c = client(srv, version="202503", sleep=slept.append)
        with pytest.raises(FatalError) as exc:
            list(c.pages(AD_ACCOUNTS, None))
    err = exc.value
    assert not isinstance(err, RetryableError) and (err.status, err.code) == (426, "NONEXISTENT_VERSION")
    assert app.versions == ["202503"] and c.stats.requests == 1 and c.stats.retries == 0 and slept == []
    text = str(err)
    assert "Requested version 20250301 is not active" in text  # LinkedIn's own words
    assert "refused LinkedIn-Version 202503 (LINKEDIN_VERSION)" in text  # the version sent and the setting
    assert "set LINKEDIN_VERSION to an active version" in text


def test_version_setting_must_look_like_a_version():
    for good in (API_VERSION, "202610", "20261001", "202610.01", " 202610 "):
        assert LinkedInClient("http://127.0.0.1:9", "t", version=good).version == good.strip()
    for bad in ("2026-10", "Oct 2026", "20261", "v202610"):
        with pytest.raises(FatalError, match=f"LINKEDIN_VERSION '{bad}' is not a LinkedIn-Version"):
            LinkedInClient("http://127.0.0.1:9", "t", version=bad)


def test_an_ageing_version_is_warned_about_once(monkeypatch, caplog):
    """Ten months old or more: a warning naming the version and LINKEDIN_VERSION, once a process."""
    monkeypatch.setattr(linkedin, "_warned_versions", set())
    caplog.set_level(logging.WARNING, logger="extractors.linkedin")
    today = datetime.now(UTC).date()
    index = today.year * 12 + today.month - 1
    old, fresh = (f"{(index - n) // 12:04d}{(index - n) % 12 + 1:02d}" for n in (10, 9))
    LinkedInClient("http://127.0.0.1:9", "t", version=fresh)
    assert caplog.records == []
    LinkedInClient("http://127.0.0.1:9", "t", version=old)
    LinkedInClient("http://127.0.0.1:9", "t", version=old)
    (rec,) = caplog.records
    assert f"LinkedIn-Version {old} is 10 months old" in rec.getMessage() and "LINKEDIN_VERSION" in rec.getMessage()


def test_analytics_fields_are_chunked_within_the_limit_and_merged(world):
    app = LinkedInApp(world)
    with FakeServer(app) as srv:
        c = client(srv, fields_per_request=4)
        got = [r for p in c.pages(AD_ANALYTICS, date(2026, 6, 5)) for r in p]
        per_request = c.field_chunks()
    assert all(len(f) <= 4 and f[:2] == ALWAYS_FIELDS for f in per_request)
    assert {f for chunk in per_request for f in chunk[2:]} == set(DEFAULT_ANALYTICS_FIELDS)
    assert app.calls["ad_analytics"] == len(per_request) == 7
    want = [r for r in served_now(app, AD_ANALYTICS) if r["date"] == "2026-06-05"]
    assert keyed(AD_ANALYTICS, got) == keyed(AD_ANALYTICS, want)


def test_element_cap_splits_the_date_range_then_the_accounts(world):
    app = LinkedInApp(world)
    with FakeServer(app) as srv:
        app.max_elements = 3  # 4 campaigns a day in 2 accounts of 2
        c = client(srv)
        got = [r for p in c.analytics(DAYS[0], DAYS[-1]) for r in p]
        assert keyed(AD_ANALYTICS, got) == keyed(AD_ANALYTICS, served_now(app, AD_ANALYTICS))
        app.max_elements = 1  # one account's day is still too many: no narrower request exists
        with pytest.raises(FatalError, match="more campaign elements"):
            list(c.analytics(DAYS[0], DAYS[0]))


def test_429_is_retried_with_backoff_although_linkedin_sends_no_retry_after(world):
    slept: list[float] = []
    with FakeServer(LinkedInApp(world), FaultConfig(rate_limit_rate=0.4, seed=3)) as srv:
        c = client(srv, sleep=slept.append)
        got = [r for p in c.pages(AD_CAMPAIGNS, None) for r in p]
    assert len(got) == 4 and c.stats.retries > 0 and len(slept) == c.stats.retries
    assert all(0 < s <= FAST.backoff_max_s for s in slept)


def test_retired_metric_fails_naming_platform_metric_and_setting(world):
    with FakeServer(LinkedInApp(world), FaultConfig(retired_metrics=("oneClickLeads",))) as srv:
        with pytest.raises(FatalError) as exc:
            list(client(srv).pages(AD_ANALYTICS, date(2026, 6, 1)))
    text = str(exc.value)
    assert "LinkedIn" in text and "oneClickLeads" in text and "analytics_fields" in text
    assert not isinstance(exc.value, RetryableError)


def test_bad_token_fails_naming_the_variable_and_never_shows_a_token(world, caplog):
    caplog.set_level(logging.DEBUG)
    secret = "AQV-secret-linkedin-token-789"
    with FakeServer(
        LinkedInApp(world), FaultConfig(error_rate=0.2, rate_limit_rate=0.2, retry_after_s=0, seed=8)
    ) as srv:
        with pytest.raises(AuthError, match="LINKEDIN_TOKEN") as exc:
            list(client(srv, token=secret).pages(SHARE_STATISTICS, date(2026, 6, 1)))
        good = client(srv)
        for stream in STREAMS:
            list(good.pages(stream, date(2026, 6, 1)))
        real = srv.app.token
    for text in (str(exc.value), repr(exc.value), caplog.text):
        assert secret not in text and real not in text
    assert good.stats.retries > 0


def test_missing_settings_fail_naming_them():
    with pytest.raises(AuthError, match="LINKEDIN_TOKEN"):
        LinkedInClient("http://127.0.0.1:9", "")
    with pytest.raises(FatalError, match="LINKEDIN_VERSION"):
        LinkedInClient("http://127.0.0.1:9", "t", version="")
    with pytest.raises(FatalError, match="LINKEDIN_ORGANIZATION_IDS"):
        list(LinkedInClient("http://127.0.0.1:9", "t").pages(NETWORK_SIZE, date(2026, 6, 1)))
    with pytest.raises(FatalError, match="LINKEDIN_AD_ACCOUNT_IDS"):
        list(LinkedInClient("http://127.0.0.1:9", "t").pages(AD_ACCOUNTS, None))


def test_unknown_organization_and_account_are_fatal_with_clear_messages(world):
    with FakeServer(LinkedInApp(world)) as srv:
        with pytest.raises(FatalError) as exc:
            list(client(srv, organization_ids=["999"]).pages(SHARE_STATISTICS, date(2026, 6, 1)))
        assert "Not enough permissions" in str(exc.value) and "LINKEDIN_ORGANIZATION_IDS" in str(exc.value)
        with pytest.raises(FatalError, match=r"\['999'\].*LINKEDIN_AD_ACCOUNT_IDS"):
            list(client(srv, ad_account_ids=["999"]).pages(AD_ACCOUNTS, None))


def test_day_ranges_are_utc_days(world):
    with FakeServer(LinkedInApp(world)) as srv:
        org = sorted(srv.app.orgs)[0].rsplit(":", 1)[1]
        els = client(srv).time_bound(SHARE_STATISTICS, org, DAYS[0], DAYS[0] + timedelta(days=2))
    assert [e["timeRange"]["start"] for e in els] == [ms(DAYS[0] + timedelta(days=i)) for i in range(3)]


def test_malformed_elements_are_passed_on_not_merged_or_dropped():
    from extractors.linkedin import merge_analytics_chunks, with_day

    rng = {"start": {"year": 2026, "month": 6, "day": 2}, "end": {"year": 2026, "month": 6, "day": 2}}
    good = {"dateRange": rng, "pivotValues": ["urn:li:sponsoredCampaign:1"], "impressions": 10}
    copy = {**good, "impressions": "not-a-valid-value"}
    broken = {"dateRange": "oops", "pivotValues": ["urn:li:sponsoredCampaign:1"], "impressions": 3}
    more = {"dateRange": rng, "pivotValues": ["urn:li:sponsoredCampaign:1"], "clicks": 4}
    out = merge_analytics_chunks([[good, copy, broken], [more]])
    assert out[0] == {**good, "clicks": 4, "date": "2026-06-02"}  # the good one, merged across chunks
    assert out[1:] == [copy, broken]  # passed on for the loader to reject
    assert with_day([{"timeRange": "oops"}, {"timeRange": {"start": "x"}}]) == [
        {"timeRange": "oops"},
        {"timeRange": {"start": "x"}},
    ]
