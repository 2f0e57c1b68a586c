"""Contract: the Google Ads and LinkedIn fakes answer in the shapes of real published responses.

For every sample in the team's shared fixtures (`real-api-samples/google-ads` and `.../linkedin`,
see their README), the same endpoint is requested from the fake, asking for what the sample
asked for, and the two bodies are compared structurally (tests/contract_shape.py). The samples
stay where they are; nothing is copied into the repository.

LinkedIn's gateway answers (a missing or retired LinkedIn-Version, the throttle) have no file
there: they are checked against the bodies published in issues, cited beside them, and do not
need ../shared. So is the Rest.li protocol header.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from conftest import TEST_SPEC
from contract_shape import compare

from sampleworld.fakes.base import FakeServer, FaultConfig
from sampleworld.fakes.google_ads import VERSION, GoogleAdsApp
from sampleworld.fakes.linkedin import LinkedInApp

SAMPLES = Path("fixtures/real-api-samples")


def _samples(shared_dir: Path, folder: str) -> list[Path]:
    files = sorted((shared_dir / SAMPLES / folder).glob("*.json"))
    if not files:
        pytest.skip(f"no samples under {shared_dir / SAMPLES / folder}")
    return files


def _snake(camel: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in camel)


def _google_post(srv, app, cid, query, **hdr):
    h = {
        "Authorization": f"Bearer {app.token}",
        "developer-token": app.developer_token,
        "login-customer-id": app.manager_id,
        **hdr,
    }
    return requests.post(
        f"{srv.url}/{VERSION}/customers/{cid}/googleAds:searchStream",
        headers=h,
        data=json.dumps({"query": query}),
        timeout=10,
    )


def test_google_ads_samples(shared_dir, world):
    app = GoogleAdsApp(world)
    cid = sorted(app.customers)[0]
    with FakeServer(app) as srv:
        for path in _samples(shared_dir, "google-ads"):
            real = json.loads(path.read_text())
            if path.name.startswith("searchStream"):
                # Ask for the sample's own fields (its fieldMask) from the resource its rows carry.
                fields = [".".join(_snake(p) for p in f.split(".")) for f in real[0]["fieldMask"].split(",")]
                resource = next(k for k in real[0]["results"][0] if k not in ("metrics", "segments"))
                query = (
                    f"SELECT {', '.join(fields)} FROM {_snake(resource)} "
                    f"WHERE segments.date BETWEEN '{TEST_SPEC.start}' AND '{TEST_SPEC.end}'"
                )
                r = _google_post(srv, app, cid, query)
                assert r.status_code == 200, r.text
                assert compare(real, r.json()) == [], path.name
            elif path.name.startswith("error_googleadsfailure_grpc_status"):
                # The published error is the PHP client's rendering of the gRPC Status (README):
                # `{"message", "code": 3, "status", "details"}` at the top. The REST API wraps the same
                # Status in {"error": {...}} with the HTTP code in `code`, so the fake's `error` object is
                # compared with the sample. Ignored: the member of `errorCode`, which names the error
                # family (`keywordPlanIdeaError` from KeywordPlanIdeaService, which this project does not
                # call; the fake answers a bad GAQL field with `queryError`, the family its service uses).
                # (The pattern uses `*`, not `[]`: brackets are a character class to fnmatch.)
                r = _google_post(srv, app, cid, "SELECT metrics.not_a_field FROM customer")
                assert r.status_code == 400
                fake = r.json()
                assert set(fake) == {"error"}
                assert fake["error"]["status"] == real["status"] == "INVALID_ARGUMENT"
                assert fake["error"]["message"] == real["message"]
                assert compare(real, fake["error"], ignore=("$.details*.errorCode.*",)) == [], path.name
                assert fake["error"]["details"][0]["errors"][0]["errorCode"] == {"queryError": "UNRECOGNIZED_FIELD"}
            else:
                pytest.fail(f"no contract request for the new sample {path.name}: add one")


def _active_version() -> str:
    """A LinkedIn-Version served today: two months old (the fake's version clock is today's date)."""
    today = datetime.now(UTC).date()
    index = today.year * 12 + today.month - 1 - 2
    return f"{index // 12:04d}{index % 12 + 1:02d}"


def _linkedin_headers(app, **over) -> dict[str, str]:
    h = {
        "Authorization": f"Bearer {app.token}",
        "LinkedIn-Version": _active_version(),
        "X-Restli-Protocol-Version": "2.0.0",
        **over,
    }
    return {k: v for k, v in h.items() if v is not None}


def _analytics_queries(app) -> list[str]:
    """adAnalytics requests a client makes: by campaigns, by accounts (what this project's
    extractor sends), by campaign group; daily, monthly and over the whole range; one day and the
    whole world."""
    s, e = TEST_SPEC.start, TEST_SPEC.end
    rng = (
        f"dateRange=(start:(year:{s.year},month:{s.month},day:{s.day}),end:(year:{e.year},month:{e.month},day:{e.day}))"
    )
    day = f"(year:{s.year},month:{s.month},day:{s.day})"
    one_day = f"dateRange=(start:{day},end:{day})"
    campaigns = ",".join(quote(f"urn:li:sponsoredCampaign:{c}", safe="") for c in sorted(app.campaigns))
    accounts = ",".join(quote(f"urn:li:sponsoredAccount:{a}", safe="") for a in sorted(app.accounts))
    group = quote(f"urn:li:sponsoredCampaignGroup:{app.groups[0]['campaign_group_id']}", safe="")
    return [
        f"pivot=CAMPAIGN&timeGranularity=DAILY&{rng}&campaigns=List({campaigns})",
        f"pivot=CAMPAIGN&timeGranularity=DAILY&{one_day}&accounts=List({accounts})",
        f"pivot=CAMPAIGN&timeGranularity=MONTHLY&{rng}&campaignGroups=List({group})",
        f"pivot=CAMPAIGN&timeGranularity=ALL&{rng}&accounts=List({accounts})",
        f"pivot=ACCOUNT&timeGranularity=DAILY&{rng}&accounts=List({accounts})",
    ]


def test_linkedin_samples(shared_dir, world):
    """adAnalytics has no paging (every element at once): every call, whatever its facet, pivot,
    granularity or range, answers with the sample's `paging` exactly and elements in the sample's
    shape holding exactly the fields asked for (here the sample's own)."""
    app = LinkedInApp(world)
    with FakeServer(app) as srv:
        for path in _samples(shared_dir, "linkedin"):
            real = json.loads(path.read_text())
            if path.name.startswith("adAnalytics"):
                fields = sorted({k for el in real["elements"] for k in el})
                queries = _analytics_queries(app)
                for query in queries:
                    r = requests.get(
                        f"{srv.url}/rest/adAnalytics?q=analytics&{query}&fields={','.join(fields)}",
                        headers=_linkedin_headers(app),
                        timeout=10,
                    )
                    assert r.status_code == 200, (query, r.text)
                    fake = r.json()
                    assert fake["elements"], query
                    assert compare(real, fake) == [], (path.name, query)
                    assert fake["paging"] == real["paging"], query
                    assert all(set(el) == set(fields) for el in fake["elements"]), query
                assert app.calls["ad_analytics"] == len(queries)
            else:
                pytest.fail(f"no contract request for the new sample {path.name}: add one")


# Bodies LinkedIn's /rest gateway sends, as published (no file of ../shared holds them):
# - 426: n8n-io/n8n#28967, ComposioHQ/composio#3231 (`{"status":426,"code":"NONEXISTENT_VERSION",
#   "message":"Requested version 20250401 is not active"}`), PipedreamHQ/pipedream#14346, airbytehq/airbyte#74240;
#   n8n sent `202504` and LinkedIn named it `20250401`; Composio and Airbyte send the 8-digit form.
# - 400 without the header: a developer's recorded call (2026-08-19), with `X-Restli-Gateway-Error`
#   (whose value `true` LinkedIn sends on gateway errors: linkedin-developers/linkedin-api-python-client#24).
# - 429: `{"serviceErrorCode":101,"message":"Resource level throttle limit for calls to this resource is
#   reached.","status":429}` (Automattic/wp-calypso#32007); no Retry-After, daily quotas reset at midnight UTC.
NONEXISTENT_VERSION = {"status": 426, "code": "NONEXISTENT_VERSION", "message": "Requested version {} is not active"}
VERSION_MISSING = {
    "status": 400,
    "code": "VERSION_MISSING",
    "message": ("A version must be present. Please specify a version by adding the LinkedIn-Version header."),
}


def test_linkedin_version_header_is_required_and_checked(world):
    """The /rest API refuses a request without `LinkedIn-Version` (400 VERSION_MISSING) and one
    whose version it no longer serves (426 NONEXISTENT_VERSION, the version named as YYYYMMDD),
    with the published bodies, from the gateway."""
    app = LinkedInApp(world)
    with FakeServer(app) as srv:

        def get(**hdr):
            return requests.get(
                f"{srv.url}/rest/adAccounts", params={"q": "search"}, timeout=10, headers=_linkedin_headers(app, **hdr)
            )

        r = get(**{"LinkedIn-Version": None})
        assert r.status_code == 400 and r.json() == VERSION_MISSING
        assert r.headers["X-Restli-Gateway-Error"] == "true"
        for sent, named in (
            ("202504", "20250401"),
            ("20250401", "20250401"),
            ("20241101", "20241101"),
            ("202503", "20250301"),
        ):
            r = get(**{"LinkedIn-Version": sent})
            assert r.status_code == 426 and r.json() == {
                **NONEXISTENT_VERSION,
                "message": NONEXISTENT_VERSION["message"].format(named),
            }
            assert r.headers["X-Restli-Gateway-Error"] == "true"
        version = _active_version()
        for sent in (version, version + "01"):
            r = get(**{"LinkedIn-Version": sent})
            assert r.status_code == 200 and r.json()["elements"], sent


def test_linkedin_429_is_the_throttle_body_without_retry_after(world):
    app = LinkedInApp(world)
    with FakeServer(app, FaultConfig(rate_limit_rate=1.0, retry_after_s=7)) as srv:
        r = requests.get(
            f"{srv.url}/rest/adAccounts", params={"q": "search"}, headers=_linkedin_headers(app), timeout=10
        )
    assert r.status_code == 429 and "Retry-After" not in r.headers
    body = r.json()
    assert set(body) == {"status", "serviceErrorCode", "message"}
    assert (body["status"], body["serviceErrorCode"]) == (429, 101)
    assert body["message"].startswith("Resource level throttle")
    assert body["message"].endswith("limit for calls to this resource is reached.")


def test_linkedin_restli_protocol_header(world):
    """Clients send `X-Restli-Protocol-Version: 2.0.0` and the answer says so; without it a
    Rest.li 2.0 value (`List(...)`) is not read (400), while the 1.0 form of the same request is."""
    app = LinkedInApp(world)
    account = sorted(app.accounts)[0]
    s = TEST_SPEC.start
    v2 = (
        f"q=analytics&pivot=CAMPAIGN&timeGranularity=ALL&dateRange=(start:(year:{s.year},month:{s.month},"
        f"day:{s.day}))&accounts=List({quote(f'urn:li:sponsoredAccount:{account}', safe='')})&fields=impressions"
    )
    v1 = (
        f"q=analytics&pivot=CAMPAIGN&timeGranularity=ALL&dateRange.start.year={s.year}"
        f"&dateRange.start.month={s.month}&dateRange.start.day={s.day}"
        f"&accounts[0]={quote(f'urn:li:sponsoredAccount:{account}', safe='')}&fields=impressions"
    )
    with FakeServer(app) as srv:
        r = requests.get(f"{srv.url}/rest/adAnalytics?{v2}", headers=_linkedin_headers(app), timeout=10)
        assert r.status_code == 200 and r.headers["X-RestLi-Protocol-Version"] == "2.0.0"
        by_2 = r.json()["elements"]
        bare = _linkedin_headers(app, **{"X-Restli-Protocol-Version": None})
        r = requests.get(f"{srv.url}/rest/adAnalytics?{v2}", headers=bare, timeout=10)
        assert r.status_code == 400 and r.json()["status"] == 400
        r = requests.get(f"{srv.url}/rest/adAnalytics?{v1}", headers=bare, timeout=10)
        assert r.status_code == 200 and r.headers["X-RestLi-Protocol-Version"] == "1.0.0"
        assert r.json()["elements"] == by_2 and by_2
