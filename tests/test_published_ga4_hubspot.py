"""Real published GA4 and HubSpot responses (../shared/fixtures/real-api-samples; skipped where
absent) go through the clients themselves, served by a tiny scripted server, and land in
their raw tables; every published HubSpot error body is classified (retryable or fatal) with
HubSpot's own message in the error raised. (No GA4 error body is published there.)"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
import requests

from extractors.ga4 import GA4Client, report_stream
from extractors.http import AuthError, FatalError, RetryableError, RetryPolicy
from extractors.hubspot import DEAL_CONTACTS, DEALS, HubSpotClient, classify_hubspot_error
from orchestration.assets.streams import raw_table
from sampleworld.fakes.base import App, FakeServer, Request, Response
from warehouse.landing import land_pages
from warehouse.loader import connect, load

FAST = RetryPolicy(max_attempts=2, backoff_initial_s=0.001, backoff_max_s=0.01)


def sample(shared_dir, platform: str, name: str) -> bytes:
    return (shared_dir / "fixtures" / "real-api-samples" / platform / name).read_bytes()


def samples(shared_dir, platform: str) -> dict[str, bytes]:
    folder = shared_dir / "fixtures" / "real-api-samples" / platform
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.json"))}


class Scripted(App):
    """Answers every request with one published body; remembers what was asked."""

    name = "scripted"

    def __init__(self, body: bytes, status: int = 200):
        self.body, self.status, self.seen = body, status, []

    def handle(self, req: Request) -> Response:
        self.seen.append(req)
        return Response(self.status, self.body, {"Content-Type": "application/json"})


def land_and_load(tmp_path, stream, day: date, pages):
    landed = land_pages(tmp_path / "landing", stream.source, stream.name, day.isoformat(), pages)
    with connect(tmp_path / "w.duckdb") as con:
        result = load(con, raw_table(stream), landed)
        rows = con.execute(
            f"select * exclude (_record, _load_id, _loaded_at, _source_file, _line, _hash) "
            f"from {raw_table(stream).name}"
        ).fetchall()
        cols = [d[0] for d in con.description]
    return result, [dict(zip(cols, r)) for r in rows]


@pytest.mark.parametrize(
    "name, dims, metrics",
    [
        ("runReport__1.json", ("date",), ("userEngagementDuration",)),
        ("runReport__2.json", ("pagePath", "pageTitle"), ("screenPageViews",)),
    ],
)
def test_published_run_reports_land_in_raw(shared_dir, tmp_path, name, dims, metrics):
    body = sample(shared_dir, "ga4", name)
    published = json.loads(body)
    day = date(2023, 1, 10)
    with FakeServer(Scripted(body)) as srv:
        c = GA4Client(srv.url, "t", property_ids=["123"], dimensions=dims, metrics=metrics, retry=FAST)
        stream = report_stream(dims, metrics)
        result, rows = land_and_load(tmp_path, stream, day, c.pages(stream, day))
        asked = json.loads(srv.app.seen[0].body)
    assert asked["returnPropertyQuota"] is True and [m["name"] for m in asked["metrics"]] == list(metrics)
    assert (result.received, result.rejected, result.loaded) == (len(published["rows"]), 0, len(published["rows"]))
    by_dims = {tuple(r[d] for d in dims): r for r in rows}
    for row in published["rows"]:
        got = by_dims[tuple(v["value"] for v in row["dimensionValues"])]
        assert [got[m] for m in metrics] == [Decimal(v["value"]) for v in row["metricValues"]]
        assert (got["property_id"], got["currency_code"], got["time_zone"], got["report_date"]) == (
            "123",
            "USD",
            "America/Los_Angeles",
            day,
        )
        # the relay's explicit nulls for unset flags land as false (GA4 itself leaves them out)
        assert (got["data_loss_from_other_row"], got["subject_to_thresholding"]) == (False, False)


def test_published_crm_record_lands_as_a_deal(shared_dir, tmp_path):
    record = json.loads(sample(shared_dir, "hubspot", "crm_v3_object_get__1.json"))
    search = json.dumps({"total": 1, "results": [record]}).encode()  # search results hold the same record shape
    day = date.fromisoformat(record["properties"]["hs_lastmodifieddate"][:10])
    with FakeServer(Scripted(search)) as srv:
        c = HubSpotClient(srv.url, "t", retry=FAST)
        result, rows = land_and_load(tmp_path, DEALS, day, c.pages(DEALS, day))
        asked = json.loads(srv.app.seen[0].body)
    assert asked["sorts"] == [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}]
    assert (result.received, result.rejected, result.loaded) == (1, 0, 1)
    assert rows[0]["id"] == "14462501441" and rows[0]["hs_lastmodifieddate"].isoformat().startswith("2024-08-09T15:56")


def test_published_associations_land_in_raw(shared_dir, tmp_path):
    body = sample(shared_dir, "hubspot", "crm_v4_associations_list__1.json")
    with FakeServer(Scripted(body)) as srv:
        c = HubSpotClient(srv.url, "t", retry=FAST)
        result, rows = land_and_load(
            tmp_path, DEAL_CONTACTS, date(2024, 8, 9), c.associations("901", "2024-08-09T15:56:18.886Z")
        )
        assert srv.app.seen[0].path == "/crm/v4/objects/deals/901/associations/contacts"
    assert (result.received, result.rejected, result.loaded) == (2, 0, 2)
    assert sorted(r["contact_id"] for r in rows) == ["12675602284", "13947063307"]
    assert all(r["deal_id"] == "901" and len(json.loads(r["association_types"])) == 2 for r in rows)


HUBSPOT_ERRORS = {
    "error_400_validation_batch_limit__1.json": (400, FatalError),  # a request to fix, not to repeat
    "error_403_missing_scopes__1.json": (403, AuthError),  # a human must grant the scopes
    "error_429_rate_limit__1.json": (429, RetryableError),  # secondly limit: wait and retry
}


def _response(status: int, body: bytes) -> requests.Response:
    resp = requests.Response()
    resp.status_code = status
    resp._content = body
    resp.headers["Content-Type"] = "application/json"
    return resp


@pytest.mark.parametrize("name, expected", sorted(HUBSPOT_ERRORS.items()))
def test_hubspot_error_bodies_are_classified_with_their_message(shared_dir, name, expected):
    status, kind = expected
    body = samples(shared_dir, "hubspot")[name]
    err = classify_hubspot_error(_response(status, body), "https://api.hubapi.com/x")
    assert type(err) is kind
    assert json.loads(body)["message"] in str(err)
    if kind is AuthError:
        assert "crm.objects.custom.read" in str(err) and "HUBSPOT_TOKEN" in str(err)


def test_every_published_hubspot_error_has_a_case(shared_dir):
    assert {f for f in samples(shared_dir, "hubspot") if f.startswith("error")} == set(HUBSPOT_ERRORS)


def test_no_ga4_error_body_is_published(shared_dir):
    # if one appears, classify it here like the HubSpot ones
    assert not [f for f in samples(shared_dir, "ga4") if f.startswith("error")]
