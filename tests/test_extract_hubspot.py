"""The HubSpot extractor against the fake, faults on: contacts and deals by modification day
are exactly the simulator's records, windowed past the search cap and through a tie bigger
than a page; associations complete; injected bad records rejected; idempotent re-runs; a
record modified again moves to its new day and the merge keeps the newest; rate-limit headers
read; a bad token or a missing scope fails with HubSpot's message and the variable to fix."""

from __future__ import annotations

import json
import logging
from datetime import date

import pytest
import requests
from stream_harness import by_key, days, run_stream

from extractors.http import AuthError, FatalError, RetryableError, RetryPolicy
from extractors.hubspot import (
    CONTACTS,
    DEAL_CONTACTS,
    DEALS,
    DEFAULT_CONTACT_PROPERTIES,
    DEFAULT_DEAL_PROPERTIES,
    HubSpotClient,
    classify_hubspot_error,
    read_hubspot_throttle,
)
from sampleworld.fakes.base import FakeServer, FaultConfig
from sampleworld.fakes.hubspot import ALWAYS, CONTACTS_ONLY_TOKEN, DEFAULT_TOKEN, HubSpotApp

FAST = RetryPolicy(max_attempts=8, backoff_initial_s=0.001, backoff_max_s=0.01)
FAULTS = FaultConfig(
    error_rate=0.05,
    rate_limit_rate=0.05,
    retry_after_s=0,
    truncate_rate=0.05,
    repeat_page_rate=0.1,
    extra_field_rate=0.1,
    bad_record_rate=0.1,
    seed=16,
)
WEEK = days(date(2026, 6, 1), date(2026, 6, 7))
PROPS = {"contacts": DEFAULT_CONTACT_PROPERTIES, "deals": DEFAULT_DEAL_PROPERTIES}
MODIFIED = {"contacts": "lastmodifieddate", "deals": "hs_lastmodifieddate"}


def serve(world, faults=FAULTS, **kw):
    return FakeServer(HubSpotApp(world, **kw), faults)


def client(srv, token=DEFAULT_TOKEN, sleeps=None, **kw) -> HubSpotClient:
    kw.setdefault("page_size", 50)
    # rate-limit pauses (10 s windows) are asked for, not slept, in tests
    return HubSpotClient(
        srv.url, token, retry=FAST, sleep=(sleeps.append if sleeps is not None else lambda s: None), **kw
    )


def view(rec: dict, kind: str) -> dict:
    props = sorted(set(PROPS[kind]) | set(ALWAYS[kind]))
    return {**rec, "properties": {p: rec["properties"].get(p) for p in props}}


def expected(app: HubSpotApp, kind: str, day_list) -> dict[tuple, dict]:
    wanted = {d.isoformat() for d in day_list}
    return by_key(
        [view(r, kind) for r in app.current_records(kind) if r["properties"][MODIFIED[kind]][:10] in wanted], ("id",)
    )


def expected_links(app: HubSpotApp, day_list) -> dict[tuple, dict]:
    deals = expected(app, "deals", day_list)
    out = []
    for deal_id, contacts in app.associations("deals", "contacts").items():
        if (deal_id,) in deals:
            for c in contacts:
                out.append(
                    {
                        "deal_id": deal_id,
                        "deal_lastmodifieddate": deals[(deal_id,)]["properties"][MODIFIED["deals"]],
                        "toObjectId": int(c),
                        "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 3, "label": None}],
                    }
                )
    return by_key(out, ("deal_id", "toObjectId"))


def assert_rejects_are_the_injected(run, injected):
    got = sorted(json.dumps(json.loads(text), sort_keys=True) for text, _ in run.rejects)
    assert got == sorted(json.dumps(v, sort_keys=True) for v in injected)
    for _, reason in run.rejects:
        assert "missing required field id" in reason or "field updatedAt: not-a-valid-value" in reason, reason


@pytest.mark.parametrize("stream", [CONTACTS, DEALS], ids=lambda s: s.name)
def test_every_record_exactly_once_with_faults(world, tmp_path, caplog, stream):
    caplog.set_level(logging.DEBUG)
    with serve(world) as srv:
        c = client(srv, page_size=20)
        run = run_stream(c, stream, tmp_path, WEEK)
    assert by_key(run.records, ("id",)) == expected(srv.app, stream.name, WEEK)
    assert len(run.records) == len(srv.app.current_records(stream.name)) > 100
    assert srv.faults_injected > 0 and c.stats.retries > 0
    assert getattr(srv.app, "injected_bad", []), "the seed should inject bad records"
    assert_rejects_are_the_injected(run, srv.app.injected_bad)
    assert DEFAULT_TOKEN not in caplog.text


def test_deal_contacts_of_each_day_with_faults(world, tmp_path):
    with serve(world) as srv:
        run = run_stream(client(srv), DEAL_CONTACTS, tmp_path, WEEK)
    assert by_key(run.records, ("deal_id", "toObjectId")) == expected_links(srv.app, WEEK)
    assert len(run.records) >= len(srv.app.current_records("deals"))
    # the fake injects bad records into searches only (not into associations): a malformed deal
    # from the search is never asked for its associations
    assert run.rejects == []


def test_search_cap_is_windowed_and_a_big_tie_is_paged_by_id(world, tmp_path):
    truths = json.loads((world / "truths.json").read_text())["hubspot"]["ties"]["contacts"]
    tie_day = date.fromisoformat(truths["lastmodifieddate"][:10])
    cap = 60
    assert truths["count"] > cap  # more records share one millisecond than one search can return
    with serve(world, search_cap=cap) as srv:
        c = client(srv, page_size=20, search_cap=cap)
        run = run_stream(c, CONTACTS, tmp_path, [tie_day])
    assert by_key(run.records, ("id",)) == expected(srv.app, "contacts", [tie_day])
    assert c.splits >= 1 and c.tie_walks >= 1


def test_a_tie_longer_than_a_page_is_paged_by_id(world, tmp_path):
    tie = json.loads((world / "truths.json").read_text())["hubspot"]["ties"]["deals"]
    tie_day = date.fromisoformat(tie["hs_lastmodifieddate"][:10])
    with serve(world, faults=FaultConfig.off()) as srv:
        c = client(srv, page_size=10)  # the cap is not reached: only the full page of one timestamp
        run = run_stream(c, DEALS, tmp_path, [tie_day])
    assert tie["count"] > 10 and c.tie_walks >= 1 and c.splits == 0
    assert by_key(run.records, ("id",)) == expected(srv.app, "deals", [tie_day])


def test_same_partition_twice_changes_nothing(world, tmp_path):
    day = date(2026, 6, 5)
    with serve(world) as srv:
        run = run_stream(client(srv), CONTACTS, tmp_path, [day, day])
    first, second = run.results
    assert first.inserted > 100
    assert (second.inserted, second.updated, second.deleted) == (0, 0, 0) and second.unchanged == first.inserted


def _modify(app: HubSpotApp, kind: str, rec_id: str, modified: str, **props) -> dict:
    """Change a record in the fake the way HubSpot would: new values, new modification time."""
    store = app.stores[kind]
    n = store.pos[int(rec_id)]
    rec = store.record(n)
    rec["properties"].update(props, **{MODIFIED[kind]: modified})
    rec["updatedAt"] = modified
    store.replace(n, rec)
    app._search_cache.clear()
    return rec


def test_restate_and_later_modifications(world, tmp_path):
    """HubSpot does not revise records in place: `restate()` changes nothing. A record modified
    again the same day is updated on the re-read; one modified on a later day leaves its old
    day's search and the later day's load (a merge) keeps the newest version."""
    d5, d7 = date(2026, 6, 5), date(2026, 6, 7)
    with serve(world) as srv:
        app = srv.app
        run_stream(client(srv), CONTACTS, tmp_path, [d5, d7])
        app.restate()
        again = run_stream(client(srv), CONTACTS, tmp_path, [d5, d7])
        assert all((r.inserted, r.updated, r.deleted) == (0, 0, 0) for r in again.results)

        on_d7 = next(
            r for r in app.current_records("contacts") if r["properties"]["lastmodifieddate"][:10] == "2026-06-07"
        )
        on_d5 = next(
            r for r in app.current_records("contacts") if r["properties"]["lastmodifieddate"][:10] == "2026-06-05"
        )
        _modify(app, "contacts", on_d7["id"], "2026-06-07T21:59:00.000Z", lifecyclestage="customer")
        _modify(app, "contacts", on_d5["id"], "2026-06-07T21:59:30.000Z", email="moved@example.com")
        run = run_stream(client(srv), CONTACTS, tmp_path, [d5, d7])
        on5, on7 = run.results
        assert (on5.inserted, on5.updated, on5.deleted) == (0, 0, 0)  # the moved record is simply absent
        assert on7.updated == 2 and on7.inserted == 0
        assert by_key(run.records, ("id",)) == expected(app, "contacts", [d5, d7]) | {
            (on_d5["id"],): view(
                app.current_records("contacts")[app.stores["contacts"].pos[int(on_d5["id"])]], "contacts"
            )
        }
        assert len(run.records) == len(expected(app, "contacts", [d5, d7]))


def test_incremental_rerun_of_the_window_loads_nothing_new(world, tmp_path):
    window = days(date(2026, 6, 6), date(2026, 6, 7))
    with serve(world) as srv:
        for stream in (CONTACTS, DEALS, DEAL_CONTACTS):
            first = run_stream(client(srv), stream, tmp_path / stream.name, window)
            if stream is DEAL_CONTACTS:
                assert by_key(first.records, ("deal_id", "toObjectId")) == expected_links(srv.app, window)
            else:
                assert by_key(first.records, ("id",)) == expected(srv.app, stream.name, window)
            assert first.records and sum(r.inserted for r in first.results) == len(first.records)
            again = run_stream(client(srv), stream, tmp_path / stream.name, window)
            assert all((r.inserted, r.updated, r.deleted) == (0, 0, 0) for r in again.results), stream.name


def test_bad_token_fails_with_hubspots_message_and_never_shows_it(world, caplog):
    caplog.set_level(logging.DEBUG)
    secret = "pat-na1-00000000-not-a-real-hubspot-token"
    with serve(world) as srv:
        with pytest.raises(AuthError, match="HUBSPOT_TOKEN") as exc:
            list(client(srv, token=secret).pages(CONTACTS, date(2026, 6, 1)))
    assert "expired" in str(exc.value)
    assert secret not in str(exc.value) and secret not in caplog.text
    assert all(secret not in r.getMessage() for r in caplog.records)


def test_missing_scope_is_fatal_naming_the_scope(world):
    with serve(world, faults=FaultConfig.off()) as srv:
        list(client(srv, token=CONTACTS_ONLY_TOKEN).pages(CONTACTS, date(2026, 6, 1)))  # allowed
        with pytest.raises(AuthError) as exc:
            list(client(srv, token=CONTACTS_ONLY_TOKEN).pages(DEALS, date(2026, 6, 1)))
    text = str(exc.value)
    assert "hasn't been granted all required scopes" in text and "crm.objects.deals.read" in text
    assert "HUBSPOT_TOKEN" in text and CONTACTS_ONLY_TOKEN not in text


def test_missing_token_fails_before_any_call():
    with pytest.raises(AuthError, match="HUBSPOT_TOKEN"):
        HubSpotClient("http://127.0.0.1:9", "")


def _headers(**h) -> requests.Response:
    resp = requests.Response()
    resp.status_code = 200
    resp.headers.update({f"X-HubSpot-RateLimit-{k.replace('_', '-')}": str(v) for k, v in h.items()})
    return resp


def test_rate_limit_headers_pause_when_low():
    assert read_hubspot_throttle(_headers()) == 0  # search responses carry none
    assert read_hubspot_throttle(_headers(Max=190, Remaining=150, Interval_Milliseconds=10000)) == 0
    assert read_hubspot_throttle(_headers(Max=190, Remaining=3, Interval_Milliseconds=10000)) == 10
    assert read_hubspot_throttle(_headers(Secondly=19, Secondly_Remaining=0)) == 1
    assert read_hubspot_throttle(_headers(Daily=500000, Daily_Remaining=0)) > 60


def test_429_is_retried_after_the_pause_its_headers_ask_for(world, tmp_path):
    sleeps: list[float] = []
    with serve(world, faults=FaultConfig(rate_limit_rate=0.3, retry_after_s=0, seed=9)) as srv:
        c = client(srv, sleeps=sleeps)
        run = run_stream(c, DEAL_CONTACTS, tmp_path, [date(2026, 6, 3)])
    assert by_key(run.records, ("deal_id", "toObjectId")) == expected_links(srv.app, [date(2026, 6, 3)])
    assert c.stats.retries > 0 and c.stats.throttle_sleep_s > 0 and any(s > 5 for s in sleeps)


def _body(status: int, body: dict) -> requests.Response:
    resp = requests.Response()
    resp.status_code = status
    resp._content = json.dumps(body).encode()
    return resp


def test_error_bodies_are_classified():
    err = classify_hubspot_error(
        _body(
            429,
            {
                "status": "error",
                "message": "You have reached your daily limit.",
                "errorType": "RATE_LIMIT",
                "policyName": "DAILY",
            },
        ),
        "u",
    )
    assert type(err) is FatalError and "daily limit" in str(err)
    err = classify_hubspot_error(
        _body(
            429,
            {
                "status": "error",
                "message": "You have reached your secondly limit.",
                "errorType": "RATE_LIMIT",
                "policyName": "SECONDLY",
            },
        ),
        "u",
    )
    assert type(err) is RetryableError
    err = classify_hubspot_error(
        _body(500, {"status": "error", "message": "internal error", "category": "INTERNAL_ERROR"}), "u"
    )
    assert type(err) is RetryableError
