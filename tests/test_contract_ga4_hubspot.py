"""Contract: for every published real GA4 and HubSpot response, the same endpoint of the fake
answers with the same structure (tests/contract_shape.py). The samples stay in the shared
folder; a sample without a request here fails, so a new one is not silently skipped."""

from __future__ import annotations

import json

import pytest
import requests

from contract_shape import compare
from sampleworld.fakes.base import FakeServer, FaultConfig
from sampleworld.fakes.ga4 import DEFAULT_TOKEN as GA4_TOKEN
from sampleworld.fakes.ga4 import GA4App
from sampleworld.fakes.hubspot import CONTACTS_ONLY_TOKEN, HubSpotApp
from sampleworld.fakes.hubspot import DEFAULT_TOKEN as HUBSPOT_TOKEN
from sampleworld.gen.ga4 import PROPERTY

from conftest import TEST_SPEC

# Site Kit relays GA4 through its PHP proxy, which writes unset metadata fields as explicit
# nulls; the raw API (proto3 JSON) leaves them out, as the fake does.
GA4_OPTIONAL = ("$.metadata.dataLossFromOtherRow", "$.metadata.emptyReason", "$.metadata.subjectToThresholding")


def _ga4_request(url: str, dims: list[str]) -> dict:
    body = {"dateRanges": [{"startDate": TEST_SPEC.start.isoformat(), "endDate": TEST_SPEC.end.isoformat()}],
            "dimensions": [{"name": d} for d in dims], "metrics": [{"name": "sessions"}],
            "metricAggregations": ["TOTAL", "MAXIMUM", "MINIMUM"], "limit": "3"}
    r = requests.post(f"{url}/v1beta/properties/{PROPERTY['property_id']}:runReport", json=body,
                      headers={"Authorization": f"Bearer {GA4_TOKEN}"}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def _hs(url: str, path: str, token: str = HUBSPOT_TOKEN, method: str = "GET", **kw) -> requests.Response:
    return requests.request(method, f"{url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10, **kw)


# sample file stem (without the __N suffix) -> (request against the fake, expected status, optional, ignore)
GA4_CASES = {
    # date x one metric with metricAggregations, as Site Kit asks (its metric is userEngagementDuration)
    "runReport": (lambda url, name: _ga4_request(url, ["date"] if name.endswith("__1.json")
                                                 else ["landingPage", "sessionCampaignName"]),
                  GA4_OPTIONAL, ()),
}


def _first_deal(app: HubSpotApp) -> str:
    return str(app.stores["deals"].ids[0])


HUBSPOT_CASES = {
    # custom-object sample: its default created date is `hs_createdate`; contacts and deals call
    # it `createdate` (always returned, checked here by the other paths), so that key is ignored.
    "crm_v3_object_get": (lambda url, app: _hs(url, f"/crm/v3/objects/deals/{_first_deal(app)}",
                                                params={"properties": "hs_lastmodifieddate,hs_object_id"}),
                          200, (), ("$.properties.hs_createdate",)),
    # the sample has a USER_DEFINED labelled association; this portal has only unlabelled
    # HUBSPOT_DEFINED ones, whose label is null (the sample's second type shows exactly that).
    "crm_v4_associations_list": (lambda url, app: _hs(url, f"/crm/v4/objects/deals/{_first_deal(app)}"
                                                           "/associations/contacts"),
                                 200, (), ("$.results[[]].associationTypes[[]].label",)),  # fnmatch: [[] is a literal [
    "error_400_validation_batch_limit": (lambda url, app: _hs(url, "/crm/v3/objects/contacts/batch/read", method="POST",
                                                              json={"inputs": [{"id": str(i)} for i in range(101)]}),
                                         400, (), ()),
    "error_403_missing_scopes": (lambda url, app: _hs(url, "/crm/v3/objects/deals", token=CONTACTS_ONLY_TOKEN),
                                 403, (), ()),
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
    with FakeServer(app) as srv, FakeServer(HubSpotApp(world), FaultConfig(rate_limit_rate=1.0, retry_after_s=0)) as limited:
        for path in samples:
            assert _stem(path) in HUBSPOT_CASES, f"no fake request for the sample {path.name}"
            request, status, optional, ignore = HUBSPOT_CASES[_stem(path)]
            r = request(srv.url, app) if request else _hs(limited.url, "/crm/v3/objects/contacts")
            assert r.status_code == status, (path.name, r.text)
            real = json.loads(path.read_text())
            assert compare(real, r.json(), optional=optional, ignore=ignore) == [], path.name
