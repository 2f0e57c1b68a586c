"""Real published Google Ads and LinkedIn responses (../shared/fixtures/real-api-samples; skipped
where absent) go through the clients' own request and parsing code (served by a tiny scripted
fake) and land in their streams' raw tables; every published error body is classified, with the
platform's own message in the error raised."""

from __future__ import annotations

import json
from datetime import date

import pytest
from fake_client import canned_response
from stream_harness import land_each_on_its_day

from extractors.google_ads import CUSTOMER_DAILY, GoogleAdsClient, classify_google_ads_error
from extractors.http import FatalError, RetryableError, RetryPolicy
from extractors.linkedin import AD_ANALYTICS, LinkedInClient
from orchestration.assets.streams import raw_table
from sampleworld.fakes.base import App, FakeServer, Response
from warehouse.loader import connect, load

FAST = RetryPolicy(max_attempts=3, backoff_initial_s=0.001, backoff_max_s=0.01)


def samples(shared_dir, platform: str) -> dict[str, bytes]:
    folder = shared_dir / "fixtures" / "real-api-samples" / platform
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.json"))}


class Scripted(App):
    """Answers every request with one published body; remembers what it was asked."""

    name = "scripted"

    def __init__(self, status: int, body: bytes):
        self.status, self.body, self.seen = status, body, []

    def handle(self, req):
        self.seen.append(req)
        return Response(self.status, self.body, {"Content-Type": "application/json"})


def land_and_load(tmp_path, stream, pages):
    """Each record landed under its own day, as the pipeline's one-day reads would have: the
    published bodies span several days (queries over a range)."""
    landed = land_each_on_its_day(tmp_path / "landing", stream, [r for page in pages for r in page])
    table = raw_table(stream)
    with connect(tmp_path / "w.duckdb") as con:
        result = load(con, table, landed)
        cols = ", ".join(table.columns)
        rows = con.execute(f"select {cols} from {table.name} order by all").fetchall()
        rejects = con.execute("select reason from raw._rejects").fetchall()
    return result, rows, rejects


# What each published file is, and which of the clients' readers it goes through.
PUBLISHED = {
    "google-ads/searchStream__1.json",
    "google-ads/error_googleadsfailure_grpc_status__1.json",
    "linkedin/adAnalytics__1.json",
}


def test_every_published_google_and_linkedin_sample_has_a_case(shared_dir):
    found = {f"{p}/{f}" for p in ("google-ads", "linkedin") for f in samples(shared_dir, p)}
    assert found == PUBLISHED


def test_published_search_stream_lands_in_customer_daily(shared_dir, tmp_path):
    """The one published searchStream body is a customer-level daily query (no ids selected,
    only the resource name): exactly the shape of the customer_daily stream."""
    body = samples(shared_dir, "google-ads")["searchStream__1.json"]
    with FakeServer(Scripted(200, body)) as srv:
        c = GoogleAdsClient(srv.url, "t", "d", login_customer_id="1", customer_ids=["123321321"], retry=FAST)
        pages = list(c.pages(CUSTOMER_DAILY, date(2024, 6, 1)))
        req = srv.app.seen[0]
    assert req.path == "/v23/customers/123321321/googleAds:searchStream" and req.method == "POST"
    assert "FROM customer WHERE segments.date BETWEEN '2024-06-01' AND '2024-06-01'" in json.loads(req.body)["query"]
    assert req.headers["developer-token"] == "d" and req.headers["login-customer-id"] == "1"
    assert [len(p) for p in pages] == [13]
    assert pages[0][0] == json.loads(body)[0]["results"][0]  # records as the API sent them
    result, rows, rejects = land_and_load(tmp_path, CUSTOMER_DAILY, pages)
    assert (result.received, result.loaded, result.rejected, result.duplicates) == (13, 13, 0, 0) and not rejects
    first = dict(zip(CUSTOMER_DAILY.columns, rows[0]))
    assert first["segments_date"] == date(2024, 6, 1) and first["customer"] == "customers/123321321"
    assert first["clicks"] == 204 and first["cost_micros"] == 1061083620
    assert first["impressions"] is None and first["conversions"] is None  # not selected: absent, not zero


def test_published_google_ads_failure_is_fatal_with_its_messages(shared_dir):
    body = samples(shared_dir, "google-ads")["error_googleadsfailure_grpc_status__1.json"]
    err = classify_google_ads_error(canned_response(400, body), "https://googleads.googleapis.com/v16/customers/1/x")
    assert type(err) is FatalError
    parsed = json.loads(body)
    assert parsed["message"] in str(err) and parsed["details"][0]["errors"][0]["message"] in str(err)
    assert err.code == "INVALID_VALUE" and parsed["details"][0]["requestId"] in str(err)
    # the same failure in the REST envelope (as searchStream sends it: an array of one) reads the same
    rest = json.dumps([{"error": {**parsed, "code": 400}}]).encode()
    again = classify_google_ads_error(canned_response(400, rest), "https://googleads.googleapis.com/v16/customers/1/x")
    assert type(again) is FatalError and str(again) == str(err)


def test_published_ad_analytics_lands_in_raw(shared_dir, tmp_path):
    body = samples(shared_dir, "linkedin")["adAnalytics__1.json"]
    with FakeServer(Scripted(200, body)) as srv:
        c = LinkedInClient(
            srv.url, "t", ad_account_ids=["1"], analytics_fields=["clicks", "impressions", "costInUsd"], retry=FAST
        )
        pages = list(c.pages(AD_ANALYTICS, date(2023, 1, 2)))
        req = srv.app.seen[0]
    assert req.path == "/rest/adAnalytics" and req.query["pivot"] == "CAMPAIGN"
    assert req.query["dateRange"] == "(start:(year:2023,month:1,day:2),end:(year:2023,month:1,day:2))"
    assert req.query["accounts"] == "List(urn:li:sponsoredAccount:1)"
    assert req.headers["linkedin-version"] and req.headers["x-restli-protocol-version"] == "2.0.0"
    published = json.loads(body)["elements"]
    assert pages == [[{**el, "date": d} for el, d in zip(published, ("2023-01-02", "2023-01-03"))]]
    result, rows, rejects = land_and_load(tmp_path, AD_ANALYTICS, pages)
    assert (result.received, result.loaded, result.rejected) == (2, 2, 0) and not rejects
    first = dict(zip(AD_ANALYTICS.columns, rows[0]))
    assert first["date"] == date(2023, 1, 2) and first["campaign"] == "urn:li:sponsoredCampaign:1111"
    assert (first["clicks"], first["impressions"], first["cost_in_usd"]) == (100, 19090, "209.449")


# Published LinkedIn gateway bodies (GitHub issues; none is in ../shared): the 426 of
# airbytehq/airbyte#74240 (Airbyte sent `20250201`; n8n-io/n8n#28967 and ComposioHQ/composio#3231 have
# the same body for 20250401), and the 400 a request without the header gets.
NONEXISTENT_VERSION_BODY = (
    b'{"status":426,"code":"NONEXISTENT_VERSION","message":"Requested version 20250201 is not active"}'
)
VERSION_MISSING_BODY = (
    b'{"status":400,"code":"VERSION_MISSING","message":"A version must be present. Please '
    b'specify a version by adding the LinkedIn-Version header."}'
)


def test_published_version_refusals_are_fatal_naming_the_setting_and_version():
    from extractors.linkedin import classify_linkedin_error

    url = "https://api.linkedin.com/rest/adAccounts?q=search"
    err = classify_linkedin_error(canned_response(426, NONEXISTENT_VERSION_BODY), url, version="20250201")
    assert type(err) is FatalError and (err.status, err.code) == (426, "NONEXISTENT_VERSION")
    text = str(err)
    assert "Requested version 20250201 is not active" in text
    assert "refused LinkedIn-Version 20250201 (LINKEDIN_VERSION)" in text and "an active version" in text
    err = classify_linkedin_error(canned_response(400, VERSION_MISSING_BODY), url, version="202610")
    assert type(err) is FatalError and err.code == "VERSION_MISSING"
    assert "A version must be present" in str(err) and "LINKEDIN_VERSION" in str(err)


def test_published_426_is_not_retried(tmp_path):
    """Airbyte backed off and retried this 426 (airbytehq/airbyte#74240): one request is all it takes."""
    with FakeServer(Scripted(426, NONEXISTENT_VERSION_BODY)) as srv:
        c = LinkedInClient(srv.url, "t", version="20250201", ad_account_ids=["1"], retry=FAST, sleep=lambda s: None)
        with pytest.raises(FatalError, match=r"refused LinkedIn-Version 20250201 \(LINKEDIN_VERSION\)"):
            list(c.pages(AD_ANALYTICS, date(2026, 3, 3)))
        seen = srv.app.seen
    assert len(seen) == 1 and c.stats.retries == 0 and seen[0].headers["linkedin-version"] == "20250201"


@pytest.mark.parametrize("status, retryable", [(429, True), (500, True), (400, False)])
def test_linkedin_error_bodies_are_classified_with_their_message(status, retryable):
    """No LinkedIn error body has been published (README: 'Not found'); the documented shape is used."""
    from extractors.linkedin import classify_linkedin_error

    body = json.dumps({"status": status, "serviceErrorCode": 100, "code": "X", "message": "the platform says so"})
    err = classify_linkedin_error(canned_response(status, body.encode()), "https://api.linkedin.com/rest/x")
    assert isinstance(err, RetryableError) is retryable and "the platform says so" in str(err)
