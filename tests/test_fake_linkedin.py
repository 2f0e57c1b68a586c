"""The LinkedIn fake serves exactly the sample world's page statistics, follower counts, posts and
ads analytics (as restated now), in LinkedIn's shapes, through faults; it fails the way LinkedIn
fails; the organic and ads generators are deterministic and agree with each other."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from urllib.parse import quote

import fake_client
import pytest
import requests
from conftest import TEST_SPEC

from sampleworld.entities import build
from sampleworld.fakes.base import EXTRA_FIELD, FakeServer, FaultConfig
from sampleworld.fakes.linkedin import LinkedInApp, ms, version_active
from sampleworld.gen import linkedin as gen_organic
from sampleworld.gen import linkedin_ads as gen_ads
from sampleworld.world import file_digest

FAULTY = FaultConfig(
    error_rate=0.1,
    rate_limit_rate=0.08,
    retry_after_s=0,
    truncate_rate=0.08,
    repeat_page_rate=0.3,
    extra_field_rate=0.2,
    seed=5,
)
ALL_FIELDS = (
    "dateRange,pivotValues,impressions,clicks,landingPageClicks,costInLocalCurrency,costInUsd,"
    "externalWebsiteConversions,conversionValueInLocalCurrency,oneClickLeads,likes,comments,shares,"
    "follows,totalEngagements"
)


def months_back(today: date, n: int) -> str:
    """The YYYYMM of the month `n` months before `today`'s."""
    index = today.year * 12 + today.month - 1 - n
    return f"{index // 12:04d}{index % 12 + 1:02d}"


# A version the fake serves whatever the date: two months old by today's clock, as the fake's is.
ACTIVE = months_back(datetime.now(UTC).date(), 2)


def headers(app, **over):
    return {
        "Authorization": f"Bearer {app.token}",
        "LinkedIn-Version": ACTIVE,
        "X-Restli-Protocol-Version": "2.0.0",
        **over,
    }


def get(url: str, app, path: str, params: dict | None = None, raw_query: str = "", attempts: int = 30, **hdr):
    """GET with a client's retries (5xx, 429, a cut-off body); returns (status, json)."""
    return fake_client.call(
        "GET",
        f"{url}{path}{'?' + raw_query if raw_query else ''}",
        attempts=attempts,
        params=params,
        headers=headers(app, **hdr),
    )


def ok(url, app, path, params=None, raw_query=""):
    status, body = get(url, app, path, params, raw_query)
    assert status == 200, body
    return body


def strip(el: dict) -> dict:
    return {k: v for k, v in el.items() if k != EXTRA_FIELD}


def list_all(url, app, path, params, count=1) -> list[dict]:
    """Walk start/count paging; a repeated page repeats elements, so dedupe by id."""
    out: dict = {}
    start = 0
    while True:
        body = ok(url, app, path, {**params, "start": start, "count": count})
        for el in body["elements"]:
            el = strip(el)
            assert out.setdefault(el["id"], el) == el
        nxt = [link for link in body["paging"]["links"] if link["rel"] == "next"]
        if not nxt:
            assert len(out) == body["paging"]["total"]
            return list(out.values())
        start = body["paging"]["start"] + body["paging"]["count"]


def interval(start_ms, end_ms) -> str:
    return f"(timeRange:(start:{start_ms},end:{end_ms}),timeGranularityType:DAY)"


@pytest.mark.parametrize("faults", [FaultConfig.off(), FAULTY], ids=["faults_off", "faults_on"])
def test_every_endpoint_every_day_as_served_now(world, faults):
    app = LinkedInApp(world)
    lo, hi = ms(TEST_SPEC.start), ms(TEST_SPEC.end) + 86_400_000
    with FakeServer(app, faults) as srv:
        u = srv.url
        for org in sorted(app.orgs):
            q = {"q": "organizationalEntity", "organizationalEntity": org}
            # share statistics per day, in the 2.0 form and in the 1.0 dotted form
            want = {
                ms_day(r["date"]): {k: r[k] for k in r if k not in ("organization_id", "date")}
                for r in app.current_share_days(org)
            }
            raw = f"q=organizationalEntity&organizationalEntity={quote(org, safe='')}&timeIntervals={interval(lo, hi)}"
            body = ok(u, app, "/rest/organizationalEntityShareStatistics", raw_query=raw)
            got = {el["timeRange"]["start"]: strip(el)["totalShareStatistics"] for el in body["elements"]}
            assert got == want and len(got) == (TEST_SPEC.end - TEST_SPEC.start).days + 1
            dotted = {
                **q,
                "timeIntervals.timeRange.start": lo,
                "timeIntervals.timeRange.end": hi,
                "timeIntervals.timeGranularityType": "DAY",
            }
            body = ok(u, app, "/rest/organizationalEntityShareStatistics", dotted)
            assert {el["timeRange"]["start"]: strip(el)["totalShareStatistics"] for el in body["elements"]} == want
            assert all(el["timeRange"]["end"] - el["timeRange"]["start"] == 86_400_000 for el in body["elements"])
            # lifetime totals
            body = ok(u, app, "/rest/organizationalEntityShareStatistics", q)
            total = strip(body["elements"][0])["totalShareStatistics"]
            assert total["impressionCount"] == sum(v["impressionCount"] for v in want.values())
            # follower gains per day
            body = ok(u, app, "/rest/organizationalEntityFollowerStatistics", dotted)
            gains = {el["timeRange"]["start"]: strip(el)["followerGains"] for el in body["elements"]}
            assert gains == {
                ms_day(r["date"]): {
                    "organicFollowerGain": r["organicFollowerGain"],
                    "paidFollowerGain": r["paidFollowerGain"],
                }
                for r in app.gain_days[org]
            }
            # lifetime follower facets and the network size they add up to
            body = ok(u, app, "/rest/organizationalEntityFollowerStatistics", q)
            el = strip(body["elements"][0])
            size = ok(u, app, f"/rest/networkSizes/{quote(org, safe='')}", {"edgeType": "COMPANY_FOLLOWED_BY_MEMBER"})[
                "firstDegreeSize"
            ]
            assert size == app.network_size(org)
            for facet, rows in app.facets[org].items():
                assert el[facet] == [
                    {
                        r["item_key"]: r["value"],
                        "followerCounts": {
                            "organicFollowerCount": r["organicFollowerCount"],
                            "paidFollowerCount": r["paidFollowerCount"],
                        },
                    }
                    for r in rows
                ]
                assert (
                    sum(
                        x["followerCounts"]["organicFollowerCount"] + x["followerCounts"]["paidFollowerCount"]
                        for x in el[facet]
                    )
                    == size
                )
            # posts, paged, and their lifetime statistics
            posts = list_all(u, app, "/rest/posts", {"q": "author", "author": org}, count=2)
            assert sorted(p["id"] for p in posts) == sorted(p["id"] for p in app.posts[org])
            if posts:
                urns = ",".join(quote(p["id"], safe="") for p in posts)
                body = ok(
                    u,
                    app,
                    "/rest/organizationalEntityShareStatistics",
                    raw_query=f"q=organizationalEntity&organizationalEntity={quote(org, safe='')}&shares=List({urns})",
                )
                assert {
                    strip(e)["share"]: strip(e)["totalShareStatistics"]["impressionCount"] for e in body["elements"]
                } == {p["id"]: app.post_by_urn[p["id"]]["impressionCount"] for p in posts}

        # ads: accounts, campaign groups, campaigns (paged), then analytics per campaign and day
        accounts = list_all(u, app, "/rest/adAccounts", {"q": "search"})
        assert sorted(str(a["id"]) for a in accounts) == sorted(app.accounts)
        campaigns = []
        for a in accounts:
            groups = list_all(u, app, f"/rest/adAccounts/{a['id']}/adCampaignGroups", {"q": "search"})
            camps = list_all(u, app, f"/rest/adAccounts/{a['id']}/adCampaigns", {"q": "search"})
            assert {c["campaignGroup"] for c in camps} <= {f"urn:li:sponsoredCampaignGroup:{g['id']}" for g in groups}
            campaigns += camps
        assert sorted(str(c["id"]) for c in campaigns) == sorted(app.campaigns)
        urns = ",".join(quote(f"urn:li:sponsoredCampaign:{c['id']}", safe="") for c in campaigns)
        s, e = TEST_SPEC.start, TEST_SPEC.end
        raw = (
            f"q=analytics&pivot=CAMPAIGN&timeGranularity=DAILY&dateRange=(start:(year:{s.year},month:{s.month},"
            f"day:{s.day}),end:(year:{e.year},month:{e.month},day:{e.day}))&campaigns=List({urns})&fields={ALL_FIELDS}"
        )
        body = ok(u, app, "/rest/adAnalytics", raw_query=raw)
        assert body["paging"] == {"start": 0, "count": 10, "links": []}
        got = {}
        for el in map(strip, body["elements"]):
            d = el["dateRange"]["start"]
            assert el["dateRange"]["start"] == el["dateRange"]["end"]
            key = (el["pivotValues"][0].rsplit(":", 1)[1], f"{d['year']:04d}-{d['month']:02d}-{d['day']:02d}")
            assert key not in got
            got[key] = {k: v for k, v in el.items() if k not in ("dateRange", "pivotValues")}
        want = {
            (r["campaign_id"], r["date"]): {k: r[k] for k in ALL_FIELDS.split(",")[2:]} for r in app.current_analytics()
        }
        assert got == want and want
        if faults.error_rate:
            assert srv.faults_injected > 0


def ms_day(iso: str) -> int:
    from datetime import date

    return ms(date.fromisoformat(iso))


def test_ads_follows_are_the_pages_paid_follower_gains(world):
    app = LinkedInApp(world)
    paid = sum(r["paidFollowerGain"] for rows in app.gain_days.values() for r in rows)
    assert paid == sum(r["follows"] for r in app.current_analytics()) > 0


def test_analytics_totals_and_money_are_strings(world):
    app = LinkedInApp(world)
    acc = sorted(app.accounts)[0]
    with FakeServer(app) as srv:
        body = ok(
            srv.url,
            app,
            "/rest/adAnalytics",
            raw_query=(
                f"q=analytics&pivot=ACCOUNT&timeGranularity=ALL&dateRange=(start:(year:2020,month:1,day:1))"
                f"&accounts=List(urn%3Ali%3AsponsoredAccount%3A{acc})&fields=costInLocalCurrency,impressions,pivotValues"
            ),
        )
    (el,) = body["elements"]
    assert el["pivotValues"] == [f"urn:li:sponsoredAccount:{acc}"]
    rows = [r for r in app.current_analytics() if r["account_id"] == acc]
    assert el["costInLocalCurrency"] == str(sum(Decimal(r["costInLocalCurrency"]) for r in rows))
    assert el["impressions"] == sum(r["impressions"] for r in rows) and isinstance(el["impressions"], int)


def test_errors_look_like_linkedin(world):
    app = LinkedInApp(world)
    org = sorted(app.orgs)[0]
    camp = quote(f"urn:li:sponsoredCampaign:{sorted(app.campaigns)[0]}", safe="")
    base = f"q=analytics&pivot=CAMPAIGN&timeGranularity=DAILY&dateRange=(start:(year:2026,month:6,day:1))&campaigns=List({camp})"
    with FakeServer(app) as srv:
        status, body = get(srv.url, app, "/rest/adAccounts", {"q": "search"}, Authorization="Bearer nope")
        assert status == 401
        assert body == {
            "status": 401,
            "serviceErrorCode": 65600,
            "code": "INVALID_ACCESS_TOKEN",
            "message": "Invalid access token",
        }
        status, body = get(srv.url, app, "/rest/adAccounts", {"q": "search"}, **{"LinkedIn-Version": ""})
        assert status == 400 and body["code"] == "VERSION_MISSING"
        status, body = get(srv.url, app, "/rest/adAccounts", {"q": "search"}, **{"LinkedIn-Version": "202503"})
        assert status == 426 and body["code"] == "NONEXISTENT_VERSION"
        fields = ",".join(
            [
                "dateRange",
                "pivotValues",
                *ALL_FIELDS.split(",")[2:],
                "impressions",
                "clicks",
                "likes",
                "shares",
                "comments",
                "follows",
            ]
        )
        assert len(fields.split(",")) > 20
        status, body = get(srv.url, app, "/rest/adAnalytics", raw_query=f"{base}&fields={fields}")
        assert status == 400 and body["status"] == 400 and "20" in body["message"]
        status, body = get(
            srv.url, app, "/rest/adAnalytics", raw_query=f"{base}&fields=impressions,approximateUniqueImpressions"
        )
        assert status == 400 and "approximateUniqueImpressions" in body["message"]
        status, body = get(srv.url, app, "/rest/adAnalytics", raw_query=base.replace(f"&campaigns=List({camp})", ""))
        assert status == 400
        app.max_elements = 3
        status, body = get(srv.url, app, "/rest/adAnalytics", raw_query=f"{base}&fields=impressions")
        assert status == 400 and "maximum" in body["message"]
        status, body = get(
            srv.url,
            app,
            "/rest/organizationalEntityShareStatistics",
            {"q": "organizationalEntity", "organizationalEntity": "urn:li:organization:1"},
        )
        assert status == 403 and body["status"] == 403
        status, body = get(
            srv.url,
            app,
            "/rest/organizationalEntityShareStatistics",
            raw_query=f"q=organizationalEntity&organizationalEntity={quote(org, safe='')}"
            "&timeIntervals=(timeRange:(start:abc,end:5),timeGranularityType:DAY)",
        )
        assert status == 400
    resp = app.rate_limited(0)
    assert json.loads(resp.body) == {
        "status": 429,
        "serviceErrorCode": 101,
        "message": ("Resource level throttle APPLICATION DAY limit for calls to this resource is reached."),
    }
    assert "Retry-After" not in resp.headers


# (LinkedIn-Version sent, status, message): on 2026-12-05 the versions 202601..202612 are served.
VERSIONS_ON_2026_12_05 = [
    ("202503", 426, "Requested version 20250301 is not active"),  # the project's old default
    ("20250301", 426, "Requested version 20250301 is not active"),  # the form Airbyte sends
    ("202512", 426, "Requested version 20251201 is not active"),  # 12 months old: retired
    ("202601", 200, None),
    ("20260101", 200, None),  # 11 months old: the oldest served
    ("202610", 200, None),
    ("20261001", 200, None),
    ("202612", 200, None),  # this month's
    ("202701", 426, "Requested version 20270101 is not active"),  # not released yet
    ("20261015", 426, "Requested version 20261015 is not active"),  # no version is dated the 15th
    ("202610.01", 426, "Requested version 202610.01 is not active"),
    ("202613", 426, "Requested version 20261301 is not active"),
    ("latest", 426, "Requested version latest is not active"),
]


def test_only_active_versions_are_served(world):
    """A version is served from its month for 12 months, as YYYYMM or YYYYMM01; anything else is
    LinkedIn's 426 NONEXISTENT_VERSION, naming the version as YYYYMMDD, from the gateway."""
    app = LinkedInApp(world, today=date(2026, 12, 5))
    with FakeServer(app) as srv:
        for version, status, message in VERSIONS_ON_2026_12_05:
            r = requests.get(
                f"{srv.url}/rest/adAccounts",
                params={"q": "search"},
                timeout=10,
                headers=headers(app, **{"LinkedIn-Version": version}),
            )
            assert r.status_code == status, version
            if status == 426:
                assert r.json() == {"status": 426, "code": "NONEXISTENT_VERSION", "message": message}, version
                assert r.headers["X-Restli-Gateway-Error"] == "true"
                assert "X-RestLi-Protocol-Version" not in r.headers
            else:
                assert r.json()["elements"], version


def test_a_missing_version_is_the_gateways_400(world):
    app = LinkedInApp(world, today=date(2026, 12, 5))
    with FakeServer(app) as srv:
        for hdr in ({}, {"LinkedIn-Version": ""}):
            h = {k: v for k, v in headers(app).items() if k != "LinkedIn-Version"}
            r = requests.get(f"{srv.url}/rest/adAnalytics", params={"q": "analytics"}, headers={**h, **hdr}, timeout=10)
            assert r.status_code == 400 and r.json() == {
                "status": 400,
                "code": "VERSION_MISSING",
                "message": "A version must be present. Please specify a version by adding the LinkedIn-Version header.",
            }
            assert r.headers["X-Restli-Gateway-Error"] == "true"


def test_the_version_clock_is_todays_date_not_the_worlds(world):
    """Versions belong to the API: the sample world (June 2026) is served by today's API. A version
    two months old today is served though the world's days are before it, and one the world's
    days would still have been served by (11 months before them) is refused when over a year old."""
    app = LinkedInApp(world)
    today = datetime.now(UTC).date()
    assert app.as_of < today and app.version_today() == today
    assert version_active(months_back(today, 2), today) and not version_active(months_back(today, 12), today)
    worlds = months_back(app.as_of, 11)
    assert version_active(worlds, app.as_of) and not version_active(worlds, today)
    with FakeServer(app) as srv:
        for version, status in (
            (months_back(today, 2), 200),
            (months_back(today, 12), 426),
            (months_back(today, -1), 426),
            (worlds, 426),
        ):
            r = requests.get(
                f"{srv.url}/rest/adAccounts",
                params={"q": "search"},
                timeout=10,
                headers=headers(app, **{"LinkedIn-Version": version}),
            )
            assert r.status_code == status, version


def test_restli_2_syntax_needs_its_header_and_answers_say_the_protocol(world):
    """Rest.li 1.0 does not read `(k:v)` or `List(...)`: sent without `X-Restli-Protocol-Version:
    2.0.0` they are a 400 naming the header. The 1.0 dotted form is read without it. Every
    answer names the protocol it used."""
    app = LinkedInApp(world)
    org = quote(sorted(app.orgs)[0], safe="")
    lo, hi = ms(TEST_SPEC.start), ms(TEST_SPEC.start) + 86_400_000
    v2 = f"q=organizationalEntity&organizationalEntity={org}&timeIntervals={interval(lo, hi)}"
    v1 = (
        f"q=organizationalEntity&organizationalEntity={org}&timeIntervals.timeRange.start={lo}"
        f"&timeIntervals.timeRange.end={hi}&timeIntervals.timeGranularityType=DAY"
    )
    url = "/rest/organizationalEntityShareStatistics"
    no_protocol = {k: v for k, v in headers(app).items() if k != "X-Restli-Protocol-Version"}
    with FakeServer(app) as srv:
        r = requests.get(f"{srv.url}{url}?{v2}", headers=headers(app), timeout=10)
        assert r.status_code == 200 and len(r.json()["elements"]) == 1
        assert r.headers["X-RestLi-Protocol-Version"] == "2.0.0"
        r = requests.get(f"{srv.url}{url}?{v2}", headers=no_protocol, timeout=10)
        assert r.status_code == 400 and "X-RestLi-Protocol-Version: 2.0.0" in r.json()["message"]
        assert r.headers["X-RestLi-Protocol-Version"] == "1.0.0"
        r = requests.get(f"{srv.url}{url}?{v1}", headers=no_protocol, timeout=10)
        assert r.status_code == 200 and len(r.json()["elements"]) == 1
        assert r.headers["X-RestLi-Protocol-Version"] == "1.0.0"


def test_retired_field_fails_the_request(world):
    app = LinkedInApp(world)
    camp = quote(f"urn:li:sponsoredCampaign:{sorted(app.campaigns)[0]}", safe="")
    with FakeServer(app, FaultConfig(retired_metrics=("oneClickLeads",))) as srv:
        status, body = get(
            srv.url,
            app,
            "/rest/adAnalytics",
            raw_query=(
                "q=analytics&pivot=CAMPAIGN&timeGranularity=DAILY&dateRange=(start:(year:2026,month:6,day:1))"
                f"&campaigns=List({camp})&fields=impressions,oneClickLeads"
            ),
        )
    assert status == 400 and "oneClickLeads" in body["message"]


def test_ads_recent_days_restate_old_days_do_not(world):
    app = LinkedInApp(world)
    app.as_of = TEST_SPEC.start + timedelta(days=32)  # first day frozen, last day within 30 days
    before = {(r["campaign_id"], r["date"]): r for r in app.current_analytics()}
    app.restate()
    after = {(r["campaign_id"], r["date"]): r for r in app.current_analytics()}
    first, last = TEST_SPEC.start.isoformat(), TEST_SPEC.end.isoformat()
    assert all(after[k] == v for k, v in before.items() if k[1] == first)
    assert any(after[k] != v for k, v in before.items() if k[1] == last)
    assert all(
        after[k]["costInLocalCurrency"] == v["costInLocalCurrency"] and after[k]["clicks"] == v["clicks"]
        for k, v in before.items()
    )


def test_page_statistics_of_the_last_two_days_are_provisional(world):
    app = LinkedInApp(world)
    org = sorted(app.orgs)[0]
    before = {r["date"]: r for r in app.current_share_days(org)}
    app.restate()
    after = {r["date"]: r for r in app.current_share_days(org)}
    assert after[TEST_SPEC.start.isoformat()] == before[TEST_SPEC.start.isoformat()]
    assert after[TEST_SPEC.end.isoformat()] != before[TEST_SPEC.end.isoformat()]


def test_generators_are_deterministic(tmp_path):
    ents = build(TEST_SPEC)
    for mod in (gen_organic, gen_ads):
        t1 = mod.generate(TEST_SPEC, ents, tmp_path / "a" / mod.DOMAIN)
        t2 = mod.generate(TEST_SPEC, ents, tmp_path / "b" / mod.DOMAIN)
        assert t1 == t2
    assert file_digest(tmp_path / "a") == file_digest(tmp_path / "b")
    truths = gen_ads.generate(TEST_SPEC, ents, tmp_path / "c")
    rows = [json.loads(x) for x in (tmp_path / "c" / "analytics_daily.jsonl").read_text().splitlines()]
    assert truths["rows"] == len(rows)
    spend: dict = {}
    for r in rows:
        spend[r["currency"]] = spend.get(r["currency"], Decimal(0)) + Decimal(r["costInLocalCurrency"])
    assert {k: str(v) for k, v in sorted(spend.items())} == truths["spend_by_currency"]
