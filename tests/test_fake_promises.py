"""What the README promises about every fake, and what each fake's docstring promises, held
against every fake in one table.

README ("The sample world and the fakes"): each fake "checks its auth header, pages as the real
one does, writes numbers as the real one does, and sends the real rate-limit headers and error
bodies. Recent days are restated (...); older days are frozen. Faults are set per fake
(`FaultConfig`): 5xx, 429 with `Retry-After`, slow responses, truncated bodies, ...".

Per-fake tests walk each fake's endpoints in depth; this module asks the same few questions of
every fake, so a fake that answers one of them in another platform's words (the Meta-shaped
`App.server_error` on a Google API, a 401 where Meta sends 400) shows here, and a new fake
cannot be added without answering them: `TABLE` must have an entry for every module
`sampleworld.serve.fake_modules()` finds. An entry is a probe (one real endpoint, called with the
platform's own auth style, ids and token taken from the module's `env()`) and the platform's
answers: the usage headers of a good call, the status and body for a bad and a missing token, the
body of a 5xx and of the rate-limit fault, and, for a fake that restates, the days it revises.

The expectations are the platforms' (their documentation and published responses, named beside
each), never what a fake happens to send. Where a fake still differs, the entry names the gap and
the case is a strict xfail: it documents the difference and fails (XPASS) as soon as the fake is
fixed, so the mark is removed then. Nothing here reads ../shared.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest
import requests

from sampleworld.fakes.base import FakeServer, FaultConfig
from sampleworld.serve import fake_modules

MODULES = fake_modules()
TIMEOUT = 10
RETRY_AFTER_S = 7
BAD_TOKEN = "not-a-token-this-platform-issued"


@dataclass
class Ctx:
    """A running fake: its base URL, its app and the environment its `env()` gives."""

    url: str
    app: object
    env: dict[str, str]


# ---- how each platform is called ------------------------------------------------------------
def _bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def _graph_token(token: str | None) -> dict[str, str]:
    """Meta clients send the token as the `access_token` parameter (Graph accepts Bearer too)."""
    return {"access_token": token} if token else {}


def _first(ctx: Ctx, var: str) -> str:
    return ctx.env[var].split(",")[0]


def _linkedin_version(ctx: Ctx) -> str:
    """The LinkedIn-Version a run against the fake sends: the fake's `env()` value when it gives
    one, else the client's default (the fake's env leaves the version to the client, as a real
    run does)."""
    if ctx.env.get("LINKEDIN_VERSION"):
        return ctx.env["LINKEDIN_VERSION"]
    from extractors.linkedin import API_VERSION

    return API_VERSION


def _linkedin_headers(ctx: Ctx, token: str | None) -> dict[str, str]:
    return {**_bearer(token), "LinkedIn-Version": _linkedin_version(ctx), "X-Restli-Protocol-Version": "2.0.0"}


def _google_ads_headers(ctx: Ctx, token: str | None) -> dict[str, str]:
    return {
        **_bearer(token),
        "developer-token": ctx.env["GOOGLE_ADS_DEVELOPER_TOKEN"],
        "login-customer-id": ctx.env["GOOGLE_ADS_LOGIN_CUSTOMER_ID"],
    }


def probe_meta_graph(ctx: Ctx, token):
    return requests.get(
        f"{ctx.url}/v23.0/{_first(ctx, 'FACEBOOK_PAGE_IDS')}",
        timeout=TIMEOUT,
        params={"fields": "followers_count,fan_count,name", **_graph_token(token)},
    )


def probe_meta_ads(ctx: Ctx, token):
    return requests.get(
        f"{ctx.url}/v23.0/act_{_first(ctx, 'META_AD_ACCOUNT_IDS')}",
        timeout=TIMEOUT,
        params={"fields": "currency,timezone_name", **_graph_token(token)},
    )


def probe_google_ads(ctx: Ctx, token):
    return requests.post(
        f"{ctx.url}/v23/customers/{_first(ctx, 'GOOGLE_ADS_CUSTOMER_IDS')}/googleAds:searchStream",
        json={"query": "SELECT customer.id, customer.currency_code FROM customer"},
        headers=_google_ads_headers(ctx, token),
        timeout=TIMEOUT,
    )


def probe_ga4(ctx: Ctx, token):
    return requests.post(
        f"{ctx.url}/v1beta/properties/{_first(ctx, 'GA4_PROPERTY_IDS')}:runReport",
        json={"dateRanges": [{"startDate": "7daysAgo", "endDate": "yesterday"}], "metrics": [{"name": "sessions"}]},
        headers=_bearer(token),
        timeout=TIMEOUT,
    )


def probe_hubspot(ctx: Ctx, token):
    return requests.get(
        f"{ctx.url}/crm/v3/objects/contacts", params={"limit": 2}, headers=_bearer(token), timeout=TIMEOUT
    )


def probe_linkedin(ctx: Ctx, token):
    org = f"urn:li:organization:{_first(ctx, 'LINKEDIN_ORGANIZATION_IDS')}"
    return requests.get(
        f"{ctx.url}/rest/networkSizes/{org}",
        params={"edgeType": "COMPANY_FOLLOWED_BY_MEMBER"},
        headers=_linkedin_headers(ctx, token),
        timeout=TIMEOUT,
    )


def probe_listening(ctx: Ctx, token):
    return requests.get(f"{ctx.url}/api/v1/queries", headers=_bearer(token), timeout=TIMEOUT)


def probe_survey(ctx: Ctx, token):
    return requests.get(
        f"{ctx.url}/forms/{ctx.env['SURVEY_FORM_ID']}/responses",
        params={"page_size": 2},
        headers=_bearer(token),
        timeout=TIMEOUT,
    )


def probe_x(ctx: Ctx, token):
    # documented parameters only: X answers any other with a 400
    return requests.get(
        f"{ctx.url}/2/users/{_first(ctx, 'X_USER_IDS')}",
        params={"user.fields": "public_metrics"},
        headers=_bearer(token),
        timeout=TIMEOUT,
    )


def probe_youtube(ctx: Ctx, token):
    return requests.get(
        f"{ctx.url}/youtube/v3/channels",
        timeout=TIMEOUT,
        headers=_bearer(token),
        params={"part": "statistics", "id": _first(ctx, "YOUTUBE_CHANNEL_IDS")},
    )


# ---- the platforms' answers -----------------------------------------------------------------
def _json(resp: requests.Response):
    assert resp.headers.get("Content-Type", "").startswith("application/json"), resp.headers
    return resp.json()


def _ints(resp: requests.Response, names) -> dict[str, int]:
    out = {}
    for name in names:
        value = resp.headers.get(name)
        assert value is not None and re.fullmatch(r"\d+", value), f"{name}: {value!r} in {dict(resp.headers)}"
        out[name] = int(value)
    return out


def _usage_json(resp: requests.Response, name: str) -> dict:
    raw = resp.headers.get(name)
    assert raw, f"no {name} header in {dict(resp.headers)}"
    value = json.loads(raw)
    assert isinstance(value, dict), raw
    return value


RATE_HEADER = re.compile(r"rate.?limit|usage|throttle|quota|retry-after", re.I)


def no_usage_headers(resp, ctx) -> None:
    """Google's APIs (Ads, GA4, YouTube) report quota in bodies and consoles, not in headers."""
    assert not [h for h in resp.headers if RATE_HEADER.search(h)], dict(resp.headers)


def no_claim(resp, ctx) -> None:
    """The fake's docstring claims no usage headers and none is checked."""


def meta_buc(resp, owner: str) -> None:
    """X-Business-Use-Case-Usage: {"<business object id>": [{"type", "call_count", "total_cputime",
    "total_time", "estimated_time_to_regain_access"}]} (Graph API rate-limiting docs)."""
    buc = _usage_json(resp, "X-Business-Use-Case-Usage")
    assert owner in buc, (owner, buc)
    for entry in buc[owner]:
        assert isinstance(entry["type"], str)
        for k in ("call_count", "total_cputime", "total_time", "estimated_time_to_regain_access"):
            assert isinstance(entry[k], (int, float)), (k, entry)


def meta_graph_usage(resp, ctx) -> None:
    """X-App-Usage {"call_count","total_cputime","total_time"} (percentages) and the BUC header
    keyed by the Page."""
    app = _usage_json(resp, "X-App-Usage")
    for k in ("call_count", "total_cputime", "total_time"):
        assert isinstance(app[k], (int, float)) and 0 <= app[k] <= 100, app
    meta_buc(resp, _first(ctx, "FACEBOOK_PAGE_IDS"))


def meta_ads_usage(resp, ctx) -> None:
    """x-fb-ads-insights-throttle {"app_id_util_pct","acc_id_util_pct"}, x-ad-account-usage
    {"acc_id_util_pct","reset_time_duration","ads_api_access_tier"}, and the BUC header keyed by
    the ad account (Marketing API rate-limiting and insights best-practice docs)."""
    throttle = _usage_json(resp, "x-fb-ads-insights-throttle")
    for k in ("app_id_util_pct", "acc_id_util_pct"):
        assert isinstance(throttle[k], (int, float)), throttle
    usage = _usage_json(resp, "x-ad-account-usage")
    assert isinstance(usage["acc_id_util_pct"], (int, float)) and isinstance(usage["reset_time_duration"], int)
    assert isinstance(usage["ads_api_access_tier"], str)
    meta_buc(resp, _first(ctx, "META_AD_ACCOUNT_IDS"))


HUBSPOT_LIMITS = (
    "X-HubSpot-RateLimit-Daily",
    "X-HubSpot-RateLimit-Daily-Remaining",
    "X-HubSpot-RateLimit-Interval-Milliseconds",
    "X-HubSpot-RateLimit-Max",
    "X-HubSpot-RateLimit-Remaining",
    "X-HubSpot-RateLimit-Secondly",
    "X-HubSpot-RateLimit-Secondly-Remaining",
)


def _hubspot_limits(resp) -> None:
    v = _ints(resp, HUBSPOT_LIMITS)
    assert v["X-HubSpot-RateLimit-Remaining"] <= v["X-HubSpot-RateLimit-Max"], v
    assert v["X-HubSpot-RateLimit-Daily-Remaining"] <= v["X-HubSpot-RateLimit-Daily"], v
    assert v["X-HubSpot-RateLimit-Secondly-Remaining"] <= v["X-HubSpot-RateLimit-Secondly"], v


def hubspot_usage(resp, ctx) -> None:
    """The X-HubSpot-RateLimit-* headers on list and get; none on search ("search responses
    carry no rate-limit headers", HubSpot's usage guidelines)."""
    _hubspot_limits(resp)
    first = resp.json()["results"][0]["id"]
    got = requests.get(
        f"{ctx.url}/crm/v3/objects/contacts/{first}", headers=_bearer(ctx.env["HUBSPOT_TOKEN"]), timeout=TIMEOUT
    )
    assert got.status_code == 200, got.text
    _hubspot_limits(got)
    found = requests.post(
        f"{ctx.url}/crm/v3/objects/contacts/search",
        json={"limit": 1},
        headers=_bearer(ctx.env["HUBSPOT_TOKEN"]),
        timeout=TIMEOUT,
    )
    assert found.status_code == 200, found.text
    assert not [h for h in found.headers if h.lower().startswith("x-hubspot-ratelimit")], dict(found.headers)


def x_usage(resp, ctx) -> None:
    """x-rate-limit-limit/remaining/reset, integers; reset in epoch seconds (X API v2 docs)."""
    v = _ints(resp, ("x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset"))
    assert v["x-rate-limit-remaining"] <= v["x-rate-limit-limit"], v
    now = time.time()
    assert now - 60 <= v["x-rate-limit-reset"] <= now + 16 * 60, f"reset is not an epoch-seconds time soon: {v}"


def listening_usage(resp, ctx) -> None:
    v = _ints(resp, ("X-RateLimit-Limit", "X-RateLimit-Remaining"))
    assert v["X-RateLimit-Remaining"] <= v["X-RateLimit-Limit"], v


# -- error bodies --
def meta_error(resp, status: int, codes) -> dict:
    """Graph's error object: {"error": {"message", "type", "code", ..., "fbtrace_id"}}."""
    assert resp.status_code == status, (resp.status_code, resp.text)
    err = _json(resp)["error"]
    assert isinstance(err["message"], str) and err["message"], err
    assert err["code"] in codes, err
    return err


def meta_auth(resp, which: str) -> None:
    """Token errors come on HTTP 400, not 401: code 190 for a bad token, 104 for none ("An access
    token is required to request this resource."); Graph API error-handling docs, and reports
    snarfed/bridgy#59, home-assistant/core#152416."""
    err = meta_error(resp, 400, {190} if which == "bad" else {104})
    assert err["type"] == "OAuthException" and err["fbtrace_id"], err


def meta_5xx(resp) -> None:
    """code 2 "An unexpected error has occurred", is_transient (Graph API error-handling docs)."""
    err = meta_error(resp, resp.status_code, {2})
    assert err.get("is_transient") is True, err


# Meta's throttling codes: 4 app, 17 user, 32 page, 613 calls within a minute, 80000-80014 business
# use case (ads insights 80000/80004, pages 80001, Instagram 80002).
META_THROTTLE = {4, 17, 32, 613, *range(80000, 80015)}


def meta_throttled(resp, retry_after_s: int) -> None:
    """Meta throttles with an error body on HTTP 400 (codes 4, 17, 32, 613, 800xx, is_transient)
    and no Retry-After: the client reads the usage headers (Graph and Marketing API rate-limiting
    docs; the published code-4 body is HTTP 400)."""
    err = meta_error(resp, 400, META_THROTTLE)
    assert err.get("is_transient") is True, err
    assert "Retry-After" not in resp.headers, dict(resp.headers)


def google_error(resp, status: int, grpc: str) -> dict:
    """Google's error envelope {"error": {"code", "message", "status"}}."""
    assert resp.status_code == status, (resp.status_code, resp.text)
    err = _json(resp)["error"]
    assert err["code"] == status and err["status"] == grpc and isinstance(err["message"], str), err
    return err


def google_auth(resp, which: str) -> None:
    google_error(resp, 401, "UNAUTHENTICATED")


def google_ads_auth(resp, which: str) -> None:
    """401 UNAUTHENTICATED with a GoogleAdsFailure naming an authenticationError."""
    err = google_error(resp, 401, "UNAUTHENTICATED")
    failure = err["details"][0]
    assert failure["@type"].endswith("errors.GoogleAdsFailure"), failure
    assert "authenticationError" in failure["errors"][0]["errorCode"], failure


def youtube_auth(resp, which: str) -> None:
    """401 UNAUTHENTICATED, `errors[]` with the legacy reason (authError for a bad token)."""
    err = google_error(resp, 401, "UNAUTHENTICATED")
    assert err["errors"] and err["errors"][0]["domain"] == "global", err
    if which == "bad":
        assert err["errors"][0]["reason"] == "authError", err


GOOGLE_5XX = {500: "INTERNAL", 502: "UNAVAILABLE", 503: "UNAVAILABLE"}


def google_5xx(resp) -> None:
    """Google's envelope; a 502 may be the front end's HTML page ("Error 502 (Server Error)!!1")."""
    if resp.status_code == 502 and resp.headers.get("Content-Type", "").startswith("text/html"):
        assert b"502" in resp.content, resp.content
        return
    google_error(resp, resp.status_code, GOOGLE_5XX[resp.status_code])


def google_ads_throttled(resp, retry_after_s: int) -> None:
    """429 RESOURCE_EXHAUSTED; the wait is the GoogleAdsFailure's quotaErrorDetails.retryDelay."""
    err = google_error(resp, 429, "RESOURCE_EXHAUSTED")
    details = err["details"][0]["errors"][0]["details"]["quotaErrorDetails"]
    assert details["retryDelay"] == f"{retry_after_s}s", details


def ga4_throttled(resp, retry_after_s: int) -> None:
    """429 RESOURCE_EXHAUSTED and no Retry-After header (the fake's docstring: Google sends none)."""
    google_error(resp, 429, "RESOURCE_EXHAUSTED")
    assert "Retry-After" not in resp.headers, dict(resp.headers)


def youtube_throttled(resp, retry_after_s: int) -> None:
    err = google_error(resp, 429, "RESOURCE_EXHAUSTED")
    assert err["errors"][0]["reason"] == "rateLimitExceeded", err


def hubspot_error(resp, status: int) -> dict:
    """{"status": "error", "message", "correlationId", "category"} (HubSpot error-handling docs)."""
    assert resp.status_code == status, (resp.status_code, resp.text)
    body = _json(resp)
    assert body["status"] == "error" and isinstance(body["message"], str) and body["correlationId"], body
    assert isinstance(body["category"], str) and body["category"], body
    return body


def hubspot_auth(resp, which: str) -> None:
    body = hubspot_error(resp, 401)
    expected = {"INVALID_AUTHENTICATION", "EXPIRED_AUTHENTICATION"} if which == "bad" else {"INVALID_AUTHENTICATION"}
    assert body["category"] in expected, body


def hubspot_5xx(resp) -> None:
    """HubSpot's body on a 500; its CDN's (Cloudflare's) HTML page on a 502 or 503."""
    if resp.status_code in (502, 503) and resp.headers.get("Content-Type", "").startswith("text/html"):
        assert str(resp.status_code).encode() in resp.content, resp.content
        return
    hubspot_error(resp, resp.status_code)


def hubspot_throttled(resp, retry_after_s: int) -> None:
    """{"status":"error","message":"You have reached your ten_secondly_rolling limit.",
    "errorType":"RATE_LIMIT","policyName":...,"correlationId":...}."""
    assert resp.status_code == 429, resp.text
    body = _json(resp)
    assert body["status"] == "error" and body["errorType"] == "RATE_LIMIT" and body["policyName"], body
    assert body["correlationId"] and isinstance(body["message"], str), body


def x_problem(resp, status: int) -> dict:
    """X's problem-details body {"title", "detail", "type", "status"}."""
    assert resp.status_code == status, (resp.status_code, resp.text)
    body = _json(resp)
    assert body["status"] == status and isinstance(body["title"], str) and isinstance(body["type"], str), body
    assert isinstance(body["detail"], str), body
    return body


def x_auth(resp, which: str) -> None:
    body = x_problem(resp, 401)
    assert body["title"] == "Unauthorized" and body["type"] == "about:blank", body


def x_5xx(resp) -> None:
    x_problem(resp, resp.status_code)


def x_throttled(resp, retry_after_s: int) -> None:
    """429 "Too Many Requests"; the wait is x-rate-limit-reset (epoch seconds), remaining 0."""
    body = x_problem(resp, 429)
    assert body["title"] == "Too Many Requests", body
    v = _ints(resp, ("x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset"))
    assert v["x-rate-limit-remaining"] == 0, v
    assert abs(v["x-rate-limit-reset"] - (time.time() + retry_after_s)) <= 3, v


def linkedin_error(resp, status: int) -> dict:
    """LinkedIn's {"status", "serviceErrorCode", "code", "message"} (not Meta's {"error": ...})."""
    assert resp.status_code == status, (resp.status_code, resp.text)
    body = _json(resp)
    assert body["status"] == status and isinstance(body["message"], str) and "error" not in body, body
    return body


def linkedin_auth(resp, which: str) -> None:
    """A bad token: {"status":401,"serviceErrorCode":65600,"code":"INVALID_ACCESS_TOKEN",
    "message":"Invalid access token"}. None: {"message":"Empty oauth2_access_token",
    "serviceErrorCode":401,"status":401}, LinkedIn's own sample (learn.microsoft.com,
    linkedin/shared/api-guide/concepts/error-handling)."""
    body = linkedin_error(resp, 401)
    if which == "bad":
        assert body["serviceErrorCode"] == 65600 and body["code"] == "INVALID_ACCESS_TOKEN", body
    else:
        assert body["serviceErrorCode"] == 401 and "empty" in body["message"].lower(), body


def linkedin_5xx(resp) -> None:
    linkedin_error(resp, resp.status_code)


def linkedin_throttled(resp, retry_after_s: int) -> None:
    """429 with serviceErrorCode 101 and no Retry-After (a daily quota: nothing to wait for)."""
    body = linkedin_error(resp, 429)
    assert isinstance(body["serviceErrorCode"], int), body
    assert "Retry-After" not in resp.headers, dict(resp.headers)


def listening_error(resp, status: int) -> dict:
    """The docstring's {"errors": [{"code", "message"}]}."""
    assert resp.status_code == status, (resp.status_code, resp.text)
    errors = _json(resp)["errors"]
    assert errors and errors[0]["code"] == status and isinstance(errors[0]["message"], str), errors
    return errors[0]


def listening_auth(resp, which: str) -> None:
    listening_error(resp, 401)


def listening_5xx(resp) -> None:
    listening_error(resp, resp.status_code)


def listening_throttled(resp, retry_after_s: int) -> None:
    listening_error(resp, 429)
    assert resp.headers.get("Retry-After") == str(retry_after_s), dict(resp.headers)
    assert resp.headers.get("X-RateLimit-Remaining") == "0", dict(resp.headers)


def typeform_error(resp, status: int, code: str | None = None) -> dict:
    """Typeform's {"code": "UPPER_CASE", "description"}."""
    assert resp.status_code == status, (resp.status_code, resp.text)
    body = _json(resp)
    assert re.fullmatch(r"[A-Z_]+", body["code"]) and isinstance(body["description"], str), body
    if code:
        assert body["code"] == code, body
    return body


def typeform_auth(resp, which: str) -> None:
    typeform_error(resp, 401, "AUTHENTICATION_FAILED")


def typeform_5xx(resp) -> None:
    typeform_error(resp, resp.status_code)


def typeform_throttled(resp, retry_after_s: int) -> None:
    typeform_error(resp, 429)
    assert resp.headers.get("Retry-After") == str(retry_after_s), dict(resp.headers)


# ---- restatement: what each restating fake serves per day -------------------------------------
def _graph_get(ctx: Ctx, url: str, params: dict | None = None) -> dict:
    """GET on a Meta fake; a `paging.next` URL carries its token already (as Meta writes it)."""
    token = (
        {}
        if "access_token=" in url
        else _graph_token(ctx.env.get("META_PAGE_TOKEN") or ctx.env.get("META_ACCESS_TOKEN"))
    )
    r = requests.get(url, params={**(params or {}), **token}, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    return r.json()


def days_meta_ads(ctx: Ctx, start: date, end: date) -> dict[str, list]:
    """Every ad's actions and action values per day, through the async report."""
    acc = _first(ctx, "META_AD_ACCOUNT_IDS")
    r = requests.post(
        f"{ctx.url}/v23.0/act_{acc}/insights",
        timeout=TIMEOUT,
        data={
            "level": "ad",
            "time_increment": "1",
            "fields": "ad_id,date_start,actions,action_values",
            "time_range": json.dumps({"since": start.isoformat(), "until": end.isoformat()}),
            "access_token": ctx.env["META_ACCESS_TOKEN"],
        },
    )
    assert r.status_code == 200, r.text
    run = r.json()["report_run_id"]
    for _ in range(20):
        if _graph_get(ctx, f"{ctx.url}/v23.0/{run}")["async_status"] == "Job Completed":
            break
    else:
        raise AssertionError(f"report {run} never completed")
    out: dict[str, list] = {}
    page = _graph_get(ctx, f"{ctx.url}/v23.0/{run}/insights", {"limit": 500})
    while True:
        for row in page["data"]:
            out.setdefault(row["date_start"], []).append(row)
        nxt = page.get("paging", {}).get("next")
        if not nxt:
            break
        page = _graph_get(ctx, nxt)
    return out


def days_meta_graph(ctx: Ctx, start: date, end: date) -> dict[str, list]:
    """A Page's daily media views and post engagements (flows Meta revises for 28 days)."""
    page = _graph_get(
        ctx,
        f"{ctx.url}/v23.0/{_first(ctx, 'FACEBOOK_PAGE_IDS')}/insights",
        {
            "metric": "page_media_view,page_post_engagements",
            "period": "day",
            "since": start.isoformat(),
            "until": (end + timedelta(days=1)).isoformat(),
        },
    )
    out: dict[str, list] = {}
    for entry in page["data"]:
        for v in entry["values"]:
            # end_time is the end of the Pacific day: 07:00 or 08:00 UTC of the next day
            day = (datetime.strptime(v["end_time"], "%Y-%m-%dT%H:%M:%S%z") - timedelta(days=1)).date()
            out.setdefault(day.isoformat(), []).append([entry["name"], v["value"]])
    return out


def days_google_ads(ctx: Ctx, start: date, end: date) -> dict[str, list]:
    """Conversions and their value per ad group, device and day, on every customer."""
    out: dict[str, list] = {}
    query = (
        "SELECT ad_group.id, segments.date, segments.device, metrics.conversions, metrics.conversions_value "
        f"FROM ad_group WHERE segments.date BETWEEN '{start}' AND '{end}'"
    )
    for cid in ctx.env["GOOGLE_ADS_CUSTOMER_IDS"].split(","):
        r = requests.post(
            f"{ctx.url}/v23/customers/{cid}/googleAds:searchStream",
            json={"query": query},
            headers=_google_ads_headers(ctx, ctx.env["GOOGLE_ADS_TOKEN"]),
            timeout=TIMEOUT,
        )
        assert r.status_code == 200, r.text
        for batch in r.json():
            for row in batch.get("results", []):
                out.setdefault(row["segments"]["date"], []).append(row)
    return out


def days_ga4(ctx: Ctx, start: date, end: date) -> dict[str, list]:
    out: dict[str, list] = {}
    for prop in ctx.env["GA4_PROPERTY_IDS"].split(","):
        r = requests.post(
            f"{ctx.url}/v1beta/properties/{prop}:runReport",
            headers=_bearer(ctx.env["GA4_TOKEN"]),
            timeout=TIMEOUT,
            json={
                "dateRanges": [{"startDate": start.isoformat(), "endDate": end.isoformat()}],
                "dimensions": [{"name": "date"}],
                "metrics": [{"name": "sessions"}, {"name": "keyEvents"}, {"name": "totalRevenue"}],
            },
        )
        assert r.status_code == 200, r.text
        for row in r.json().get("rows", []):
            d = row["dimensionValues"][0]["value"]
            out.setdefault(f"{d[:4]}-{d[4:6]}-{d[6:]}", []).append([prop, row["metricValues"]])
    return out


def _ms(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp() * 1000)


def days_linkedin(ctx: Ctx, start: date, end: date) -> dict[str, list]:
    """Each organization's daily share statistics (LinkedIn revises the last 2 days)."""
    out: dict[str, list] = {}
    for org in ctx.env["LINKEDIN_ORGANIZATION_IDS"].split(","):
        # Rest.li 2.0: the structure's parentheses, colons and commas stay as they are
        query = (
            f"q=organizationalEntity&organizationalEntity=urn%3Ali%3Aorganization%3A{org}"
            f"&timeIntervals=(timeRange:(start:{_ms(start)},end:{_ms(end + timedelta(days=1))}),"
            "timeGranularityType:DAY)"
        )
        r = requests.get(
            f"{ctx.url}/rest/organizationalEntityShareStatistics?{query}",
            timeout=TIMEOUT,
            headers=_linkedin_headers(ctx, ctx.env["LINKEDIN_TOKEN"]),
        )
        assert r.status_code == 200, r.text
        for el in r.json()["elements"]:
            day = datetime.fromtimestamp(el["timeRange"]["start"] / 1000, UTC).date().isoformat()
            out.setdefault(day, []).append([org, el["totalShareStatistics"]])
    return out


def days_x(ctx: Ctx, start: date, end: date) -> dict[str, list]:
    """Every account's posts with their public metrics, by the day they were posted."""
    out: dict[str, list] = {}
    for uid in ctx.env["X_USER_IDS"].split(","):
        params = {"tweet.fields": "created_at,public_metrics", "max_results": 100, "start_time": f"{start}T00:00:00Z"}
        while True:
            r = requests.get(
                f"{ctx.url}/2/users/{uid}/tweets",
                params=params,
                timeout=TIMEOUT,
                headers=_bearer(ctx.env["X_BEARER_TOKEN"]),
            )
            assert r.status_code == 200, r.text
            body = r.json()
            for post in body.get("data", []):
                out.setdefault(post["created_at"][:10], []).append([post["id"], post["public_metrics"]])
            if not body["meta"].get("next_token"):
                break
            params["pagination_token"] = body["meta"]["next_token"]
    return out


def days_youtube(ctx: Ctx, start: date, end: date) -> dict[str, list]:
    out: dict[str, list] = {}
    for channel in ctx.env["YOUTUBE_CHANNEL_IDS"].split(","):
        r = requests.get(
            f"{ctx.url}/v2/reports",
            headers=_bearer(ctx.env["YOUTUBE_ACCESS_TOKEN"]),
            timeout=TIMEOUT,
            params={
                "ids": f"channel=={channel}",
                "startDate": start.isoformat(),
                "endDate": end.isoformat(),
                "metrics": "views,likes,comments,estimatedMinutesWatched",
                "dimensions": "day",
            },
        )
        assert r.status_code == 200, r.text
        for row in r.json().get("rows", []):
            out.setdefault(row[0], []).append([channel, row[1:]])
    return out


@dataclass(frozen=True)
class Restate:
    """How a fake restates: the days it revises (`window`: a day `window` or more days before the
    fake's today is frozen), and the per-day numbers of one endpoint. `move_clock`: the session
    world (a week) is shorter than the window, so the fake's today is put `window` days after the
    world's first day, making that day the first frozen one and the others provisional."""

    days: Callable[[Ctx, date, date], dict[str, list]]
    window: int
    move_clock: bool = False


# ---- the table --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Fake:
    probe: Callable[[Ctx, str | None], requests.Response]  # one real endpoint, the platform's auth style
    token: str  # the env() variable holding the good token
    usage: Callable  # the usage headers of a good answer
    auth: Callable  # a bad ("bad") or missing ("none") token
    server_error: Callable  # the body of a 5xx
    throttled: Callable  # the rate-limit fault
    restate: Restate | None = None
    # Where the fake still answers otherwise than the platform: check name -> the difference.
    gaps: dict[str, str] = field(default_factory=dict)


TABLE: dict[str, Fake] = {
    "meta_graph": Fake(
        probe_meta_graph,
        "META_PAGE_TOKEN",
        meta_graph_usage,
        meta_auth,
        meta_5xx,
        meta_throttled,
        Restate(days_meta_graph, 28, move_clock=True),
    ),
    "meta_ads": Fake(
        probe_meta_ads,
        "META_ACCESS_TOKEN",
        meta_ads_usage,
        meta_auth,
        meta_5xx,
        meta_throttled,
        Restate(days_meta_ads, 28, move_clock=True),
    ),
    "google_ads": Fake(
        probe_google_ads,
        "GOOGLE_ADS_TOKEN",
        no_usage_headers,
        google_ads_auth,
        google_5xx,
        google_ads_throttled,
        Restate(days_google_ads, 14, move_clock=True),
    ),
    "ga4": Fake(probe_ga4, "GA4_TOKEN", no_usage_headers, google_auth, google_5xx, ga4_throttled, Restate(days_ga4, 3)),
    "hubspot": Fake(probe_hubspot, "HUBSPOT_TOKEN", hubspot_usage, hubspot_auth, hubspot_5xx, hubspot_throttled),
    "linkedin": Fake(
        probe_linkedin,
        "LINKEDIN_TOKEN",
        no_claim,
        linkedin_auth,
        linkedin_5xx,
        linkedin_throttled,
        Restate(days_linkedin, 2),
    ),
    "listening": Fake(
        probe_listening, "LISTENING_TOKEN", listening_usage, listening_auth, listening_5xx, listening_throttled
    ),
    "survey": Fake(probe_survey, "SURVEY_TOKEN", no_claim, typeform_auth, typeform_5xx, typeform_throttled),
    "x": Fake(probe_x, "X_BEARER_TOKEN", x_usage, x_auth, x_5xx, x_throttled, Restate(days_x, 3)),
    "youtube": Fake(
        probe_youtube,
        "YOUTUBE_ACCESS_TOKEN",
        no_usage_headers,
        youtube_auth,
        google_5xx,
        youtube_throttled,
        Restate(days_youtube, 3),
    ),
}


def entry(mod) -> Fake:
    if mod.NAME not in TABLE:
        pytest.fail(
            f"fake {mod.NAME} ({mod.__name__}) has no entry in TABLE of {__name__}: add its probe and "
            "its platform's answers"
        )
    return TABLE[mod.NAME]


def cases(check: str, only=None) -> list:
    """One case per fake module (those `only` keeps), a strict xfail where TABLE names a gap."""
    out = []
    for mod in MODULES:
        gap = TABLE[mod.NAME].gaps.get(check) if mod.NAME in TABLE else None
        marks = [pytest.mark.xfail(reason=f"{mod.NAME}: {gap}", strict=True)] if gap else []
        if only is None or only(mod):
            out.append(pytest.param(mod, id=mod.NAME, marks=marks))
    return out


def serve(mod, world, faults: FaultConfig | None = None) -> FakeServer:
    return FakeServer(mod.make_app(world), faults)


def ctx_of(mod, srv: FakeServer) -> Ctx:
    return Ctx(srv.url, srv.app, mod.env(srv.url, srv.app))


# ---- the checks -------------------------------------------------------------------------------
def test_every_fake_has_an_entry():
    names = {m.NAME for m in MODULES}
    assert names, "sampleworld.serve.fake_modules() found no fake"
    assert not names - TABLE.keys(), f"fakes without an entry in TABLE: {sorted(names - TABLE.keys())}"
    assert not TABLE.keys() - names, f"entries for fakes that do not exist: {sorted(TABLE.keys() - names)}"


RESTATES = re.compile(r"restat|provisional", re.I)


@pytest.mark.parametrize("mod", cases("docstring"))
def test_a_fake_whose_docstring_restates_has_a_restatement_probe(mod):
    if RESTATES.search(mod.__doc__ or ""):
        assert entry(mod).restate is not None, f"{mod.__name__} says it restates: give its entry a Restate probe"


@pytest.mark.parametrize("mod", cases("usage"))
def test_good_token_gets_200_and_the_platform_usage_headers(mod, world):
    fake = entry(mod)
    with serve(mod, world) as srv:
        ctx = ctx_of(mod, srv)
        resp = fake.probe(ctx, ctx.env[fake.token])
        assert resp.status_code == 200, resp.text
        assert resp.json() is not None
        fake.usage(resp, ctx)


@pytest.mark.parametrize("mod", cases("auth_bad"))
def test_bad_token_gets_the_platform_status_and_body(mod, world):
    fake = entry(mod)
    with serve(mod, world) as srv:
        fake.auth(fake.probe(ctx_of(mod, srv), BAD_TOKEN), "bad")


@pytest.mark.parametrize("mod", cases("auth_none"))
def test_missing_token_gets_the_platform_status_and_body(mod, world):
    fake = entry(mod)
    with serve(mod, world) as srv:
        fake.auth(fake.probe(ctx_of(mod, srv), None), "none")


@pytest.mark.parametrize("mod", cases("server_error"))
def test_5xx_fault_is_in_the_platform_error_shape(mod, world):
    """Every 5xx the fault draws (500, 502, 503) is in the platform's own shape."""
    fake = entry(mod)
    seen = set()
    with serve(mod, world, FaultConfig(error_rate=1.0, seed=3)) as srv:
        ctx = ctx_of(mod, srv)
        for _ in range(15):
            resp = fake.probe(ctx, ctx.env[fake.token])
            assert resp.status_code in (500, 502, 503), (resp.status_code, resp.text)
            seen.add(resp.status_code)
            fake.server_error(resp)
    assert seen == {500, 502, 503}, f"15 faults drew only {sorted(seen)}"


@pytest.mark.parametrize("mod", cases("throttled"))
def test_rate_limit_fault_is_the_platform_throttle_answer(mod, world):
    fake = entry(mod)
    with serve(mod, world, FaultConfig(rate_limit_rate=1.0, retry_after_s=RETRY_AFTER_S)) as srv:
        ctx = ctx_of(mod, srv)
        fake.throttled(fake.probe(ctx, ctx.env[fake.token]), RETRY_AFTER_S)


@pytest.mark.parametrize("mod", cases("truncated"))
def test_truncated_fault_is_a_200_whose_body_does_not_parse(mod, world):
    fake = entry(mod)
    with serve(mod, world, FaultConfig(truncate_rate=1.0)) as srv:
        ctx = ctx_of(mod, srv)
        resp = fake.probe(ctx, ctx.env[fake.token])
    assert resp.status_code == 200 and resp.content, (resp.status_code, resp.content)
    with pytest.raises(ValueError):
        json.loads(resp.content)


@pytest.mark.parametrize("mod", cases("slow"))
def test_slow_fault_answers_after_the_delay(mod, world):
    fake = entry(mod)
    with serve(mod, world, FaultConfig(slow_rate=1.0, slow_s=0.25)) as srv:
        ctx = ctx_of(mod, srv)
        began = time.monotonic()
        resp = fake.probe(ctx, ctx.env[fake.token])
        took = time.monotonic() - began
    assert resp.status_code == 200 and resp.json() is not None, resp.text
    assert took >= 0.25, f"answered in {took:.3f} s, before the slow fault's 0.25 s"


def _world_days(world) -> tuple[date, date]:
    spec = json.loads((world / "truths.json").read_text())["spec"]
    return date.fromisoformat(spec["start"]), date.fromisoformat(spec["end"])


@pytest.mark.parametrize("mod", cases("restate", only=lambda m: m.NAME not in TABLE or TABLE[m.NAME].restate))
def test_restate_moves_recent_days_and_leaves_older_days_frozen(mod, world):
    """After `app.restate()` the youngest day's numbers differ, and every day `window` or more
    days before the fake's today is served exactly as before."""
    fake = entry(mod)
    start, end = _world_days(world)
    with serve(mod, world) as srv:
        app = srv.app
        if fake.restate.move_clock:
            app.as_of = start + timedelta(days=fake.restate.window)
        ctx = ctx_of(mod, srv)
        before = fake.restate.days(ctx, start, end)
        app.restate()
        after = fake.restate.days(ctx, start, end)
    frozen = [d for d in before if (app.as_of - date.fromisoformat(d)).days >= fake.restate.window]
    assert frozen, f"no day {fake.restate.window} or more days before {app.as_of} served: {sorted(before)}"
    assert sorted(before) == sorted(after)
    for d in frozen:
        assert json.dumps(after[d], sort_keys=True) == json.dumps(before[d], sort_keys=True), f"frozen day {d} moved"
    youngest = end.isoformat()
    assert before.get(youngest), f"nothing served for {youngest}"
    assert json.dumps(after[youngest], sort_keys=True) != json.dumps(before[youngest], sort_keys=True), (
        f"{youngest} ({(app.as_of - end).days} days before {app.as_of}) did not move on restate"
    )
