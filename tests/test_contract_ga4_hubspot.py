"""Contract: for every published real GA4 and HubSpot response, the same endpoint of the fake
answers with the same structure (tests/contract_shape.py). The samples stay in the shared
folder; a sample without a request here fails, so a new one is not silently skipped.

Below them, what GA4's documentation promises and no published sample shows (these need no
shared folder): the campaign labels, the metadata flags left out when false, the `(other)`
row's shape, and offset paging to the end over several calls."""

from __future__ import annotations

import json
import re

import pytest
import requests
from conftest import TEST_SPEC
from contract_shape import compare

from sampleworld.fakes.base import FakeServer, FaultConfig
from sampleworld.fakes.ga4 import DEFAULT_TOKEN as GA4_TOKEN
from sampleworld.fakes.ga4 import GA4App
from sampleworld.fakes.hubspot import CONTACTS_ONLY_TOKEN, HubSpotApp
from sampleworld.fakes.hubspot import DEFAULT_TOKEN as HUBSPOT_TOKEN
from sampleworld.gen.ga4 import PROPERTY

# Site Kit relays GA4 through its PHP proxy, which writes unset metadata fields as explicit
# nulls; the raw API (proto3 JSON) leaves them out, as the fake does.
GA4_OPTIONAL = ("$.metadata.dataLossFromOtherRow", "$.metadata.emptyReason", "$.metadata.subjectToThresholding")


def _ga4_request(url: str, dims: list[str]) -> dict:
    body = {
        "dateRanges": [{"startDate": TEST_SPEC.start.isoformat(), "endDate": TEST_SPEC.end.isoformat()}],
        "dimensions": [{"name": d} for d in dims],
        "metrics": [{"name": "sessions"}],
        "metricAggregations": ["TOTAL", "MAXIMUM", "MINIMUM"],
        "limit": "3",
    }
    r = requests.post(
        f"{url}/v1beta/properties/{PROPERTY['property_id']}:runReport",
        json=body,
        headers={"Authorization": f"Bearer {GA4_TOKEN}"},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return r.json()


def _hs(url: str, path: str, token: str = HUBSPOT_TOKEN, method: str = "GET", **kw) -> requests.Response:
    return requests.request(method, f"{url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10, **kw)


# sample file stem (without the __N suffix) -> (request against the fake, expected status, optional, ignore)
GA4_CASES = {
    # date x one metric with metricAggregations, as Site Kit asks (its metric is userEngagementDuration)
    "runReport": (
        lambda url, name: _ga4_request(
            url, ["date"] if name.endswith("__1.json") else ["landingPage", "sessionCampaignName"]
        ),
        GA4_OPTIONAL,
        (),
    ),
}


def _first_deal(app: HubSpotApp) -> str:
    return str(app.stores["deals"].ids[0])


HUBSPOT_CASES = {
    # custom-object sample: its default created date is `hs_createdate`; contacts and deals call
    # it `createdate` (always returned, checked here by the other paths), so that key is ignored.
    "crm_v3_object_get": (
        lambda url, app: _hs(
            url, f"/crm/v3/objects/deals/{_first_deal(app)}", params={"properties": "hs_lastmodifieddate,hs_object_id"}
        ),
        200,
        (),
        ("$.properties.hs_createdate",),
    ),
    # the sample has a USER_DEFINED labelled association; this portal has only unlabelled
    # HUBSPOT_DEFINED ones, whose label is null (the sample's second type shows exactly that).
    "crm_v4_associations_list": (
        lambda url, app: _hs(url, f"/crm/v4/objects/deals/{_first_deal(app)}/associations/contacts"),
        200,
        (),
        ("$.results[[]].associationTypes[[]].label",),
    ),  # fnmatch: [[] is a literal [
    "error_400_validation_batch_limit": (
        lambda url, app: _hs(
            url,
            "/crm/v3/objects/contacts/batch/read",
            method="POST",
            json={"inputs": [{"id": str(i)} for i in range(101)]},
        ),
        400,
        (),
        (),
    ),
    "error_403_missing_scopes": (
        lambda url, app: _hs(url, "/crm/v3/objects/deals", token=CONTACTS_ONLY_TOKEN),
        403,
        (),
        (),
    ),
    # the sample is the legacy API-key body (2018) with `groupName` and `requestId`; the current
    # TEN_SECONDLY_ROLLING body (source-apis.md section 5) has neither.
    "error_429_rate_limit": (None, 429, ("$.groupName", "$.requestId"), ()),
}


def _samples(shared_dir, platform: str):
    folder = shared_dir / "fixtures" / "real-api-samples" / platform
    if not folder.exists():
        pytest.skip(f"{folder} is absent")
    return sorted(folder.glob("*.json"))


def _stem(path) -> str:
    return path.name.rsplit("__", 1)[0]


def test_ga4_samples(shared_dir, world):
    samples = _samples(shared_dir, "ga4")
    assert samples
    with FakeServer(GA4App(world)) as srv:
        for path in samples:
            assert _stem(path) in GA4_CASES, f"no fake request for the sample {path.name}"
            request, optional, ignore = GA4_CASES[_stem(path)]
            real = json.loads(path.read_text())
            assert compare(real, request(srv.url, path.name), optional=optional, ignore=ignore) == [], path.name


def test_hubspot_samples(shared_dir, world):
    samples = _samples(shared_dir, "hubspot")
    assert samples
    app = HubSpotApp(world)
    with (
        FakeServer(app) as srv,
        FakeServer(HubSpotApp(world), FaultConfig(rate_limit_rate=1.0, retry_after_s=0)) as limited,
    ):
        for path in samples:
            assert _stem(path) in HUBSPOT_CASES, f"no fake request for the sample {path.name}"
            request, status, optional, ignore = HUBSPOT_CASES[_stem(path)]
            r = request(srv.url, app) if request else _hs(limited.url, "/crm/v3/objects/contacts")
            assert r.status_code == status, (path.name, r.text)
            real = json.loads(path.read_text())
            assert compare(real, r.json(), optional=optional, ignore=ignore) == [], path.name


# --- GA4 as documented (no published sample) ---------------------------------------------


def _ga4(url: str, dims: list[str], **body) -> dict:
    full = {
        "dateRanges": [{"startDate": TEST_SPEC.start.isoformat(), "endDate": TEST_SPEC.end.isoformat()}],
        "dimensions": [{"name": d} for d in dims],
        "metrics": [{"name": "sessions"}, {"name": "totalRevenue"}],
        **body,
    }
    r = requests.post(
        f"{url}/v1beta/properties/{PROPERTY['property_id']}:runReport",
        json=full,
        headers={"Authorization": f"Bearer {GA4_TOKEN}"},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return r.json()


def _values(row: dict) -> list[str]:
    return [v["value"] for v in row["dimensionValues"]]


def test_ga4_campaign_labels_are_the_documented_ones(world):
    """sessionCampaignName without a campaign names the kind of traffic: `(direct)` for
    `(direct) / (none)`, `(organic)` for organic search, `(referral)` for referrals, and
    `(not set)` only where a tagged link had no campaign; no other value in parentheses."""
    with FakeServer(GA4App(world)) as srv:
        body = _ga4(srv.url, ["sessionSource", "sessionMedium", "sessionCampaignName"], limit="100000")
    labels: dict[str, set] = {}
    for row in body["rows"]:
        source, medium, campaign = _values(row)
        if campaign.startswith("("):
            labels.setdefault(campaign, set()).add(medium if campaign != "(direct)" else f"{source} / {medium}")
    assert set(labels) == {"(direct)", "(organic)", "(referral)", "(not set)"}
    assert (labels["(direct)"], labels["(organic)"], labels["(referral)"]) == (
        {"(direct) / (none)"},
        {"organic"},
        {"referral"},
    )
    assert labels["(not set)"] and not labels["(not set)"] & {"organic", "referral", "(none)"}


def test_ga4_metadata_flags_are_left_out_when_false(world):
    """proto3 JSON omits false booleans: no `dataLossFromOtherRow` / `subjectToThresholding`
    key (and no null) unless the flag is true; when true it is the JSON boolean."""
    with FakeServer(GA4App(world)) as srv:
        r = requests.post(
            f"{srv.url}/v1beta/properties/{PROPERTY['property_id']}:runReport",
            json={
                "dateRanges": [{"startDate": "2026-06-01", "endDate": "2026-06-02"}],
                "dimensions": [{"name": "landingPage"}],
                "metrics": [{"name": "sessions"}],
            },
            headers={"Authorization": f"Bearer {GA4_TOKEN}"},
            timeout=10,
        )
    assert r.json()["metadata"] == {"currencyCode": "EUR", "timeZone": "Europe/Berlin"}
    assert b"null" not in r.content and b"dataLossFromOtherRow" not in r.content
    with FakeServer(GA4App(world, row_limit=20, google_signals=True)) as srv:
        meta = _ga4(srv.url, ["date", "landingPage"])["metadata"]
    assert meta == {
        "dataLossFromOtherRow": True,
        "currencyCode": "EUR",
        "timeZone": "Europe/Berlin",
        "subjectToThresholding": True,
    }


def test_ga4_other_row_shape(world):
    """The `(other)` row is a row like the others: one `{"value"}` per dimension header, the day
    kept and `(other)` for the rest, metric values as strings of the header's type."""
    with FakeServer(GA4App(world, row_limit=20)) as srv:
        body = _ga4(srv.url, ["date", "sessionSource", "landingPage"], limit="100000")
    others = [row for row in body["rows"] if "(other)" in _values(row)]
    assert len(others) == len({_values(row)[0] for row in body["rows"]})  # one a day
    for row in others:
        assert set(row) == {"dimensionValues", "metricValues"}
        assert all(set(v) == {"value"} for v in row["dimensionValues"] + row["metricValues"])
        day, *rest = _values(row)
        assert re.fullmatch(r"\d{8}", day) and rest == ["(other)", "(other)"]
        sessions, revenue = (v["value"] for v in row["metricValues"])
        assert re.fullmatch(r"[1-9]\d*", sessions) and re.fullmatch(r"\d+(\.\d{1,2})?", revenue)
    assert [h["type"] for h in body["metricHeaders"]] == ["TYPE_INTEGER", "TYPE_CURRENCY"]


def test_ga4_offset_paging_reaches_the_end_over_several_calls(world):
    """`limit`/`offset` until `rowCount`: every call says the same `rowCount` (the whole
    result, whatever limit and offset), each page holds the next rows in the same order, the
    last is short, and an offset at the end returns no `rows` but still the `rowCount`."""
    with FakeServer(GA4App(world)) as srv:
        whole = _ga4(srv.url, ["date", "sessionSource"], limit="100000")
        pages, offset = [], 0
        while True:
            page = _ga4(srv.url, ["date", "sessionSource"], limit="7", offset=str(offset))
            pages.append(page)
            offset += 7
            if offset >= page["rowCount"]:
                break
        past = _ga4(srv.url, ["date", "sessionSource"], limit="7", offset=str(offset))
    total = whole["rowCount"]
    assert total == len(whole["rows"]) > 14 and len(pages) == -(-total // 7)
    assert {p["rowCount"] for p in pages} == {total}
    assert [len(p["rows"]) for p in pages] == [7] * (len(pages) - 1) + [total - 7 * (len(pages) - 1)]
    assert [row for p in pages for row in p["rows"]] == whole["rows"]
    assert "rows" not in past and past["rowCount"] == total
