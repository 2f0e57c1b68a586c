"""The GA4 fake against plain `requests`: every page of every report, with and without faults,
is exactly the simulator's rows as served now; totals per channel equal the funnel; errors,
quota, restatement and the generator's determinism."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import fake_client
import pytest
import requests
from conftest import TEST_SPEC

from sampleworld.entities import build
from sampleworld.fakes.base import EXTRA_FIELD, FakeServer, FaultConfig
from sampleworld.fakes.ga4 import DEFAULT_TOKEN, GA4App
from sampleworld.gen import ga4 as ga4_gen
from sampleworld.gen.ga4 import DIMENSIONS, channel_of
from sampleworld.world import WorldSpec, planted_truths

PROPERTY = ga4_gen.PROPERTY["property_id"]
METRICS = ["sessions", "engagedSessions", "keyEvents", "ecommercePurchases", "totalRevenue"]
FAULTS = FaultConfig(
    error_rate=0.1,
    rate_limit_rate=0.08,
    retry_after_s=0,
    truncate_rate=0.08,
    repeat_page_rate=0.2,
    extra_field_rate=0.2,
    seed=11,
)


def call(method: str, url: str, token: str = DEFAULT_TOKEN, attempts: int = 60, **kw) -> tuple[int, dict]:
    return fake_client.call(method, url, attempts=attempts, headers={"Authorization": f"Bearer {token}"}, **kw)


def report(url: str, body: dict, limit: int = 100, prop: str = PROPERTY) -> tuple[list[dict], list[str]]:
    """Every row of a report, paging by offset until rowCount; rows keyed by their dimension
    values (a repeated page repeats rows: keep one). Returns (rows as dicts, headers)."""
    rows: dict[tuple, dict] = {}
    offset, headers = 0, []
    while True:
        status, out = call(
            "POST",
            f"{url}/v1beta/properties/{prop}:runReport",
            json={**body, "limit": str(limit), "offset": str(offset)},
        )
        assert status == 200, out
        dims = [h["name"] for h in out.get("dimensionHeaders", [])]
        metrics = [h["name"] for h in out["metricHeaders"]]
        headers = dims + metrics
        fresh = 0
        for r in out.get("rows", []):
            r = {k: v for k, v in r.items() if k != EXTRA_FIELD}
            key = tuple(v["value"] for v in r.get("dimensionValues", []))
            fresh += key not in rows
            rows[key] = {**dict(zip(dims, key)), **dict(zip(metrics, (v["value"] for v in r["metricValues"])))}
        if out.get("rows") and not fresh:
            continue  # the previous page again (offset paging: ask for this offset once more)
        offset += limit
        if offset >= out.get("rowCount", 0):
            return list(rows.values()), headers


def full_body(start: date = TEST_SPEC.start, end: date = TEST_SPEC.end, metrics=METRICS) -> dict:
    return {
        "dateRanges": [{"startDate": start.isoformat(), "endDate": end.isoformat()}],
        "dimensions": [{"name": d} for d in DIMENSIONS],
        "metrics": [{"name": m} for m in metrics],
        "keepEmptyRows": False,
        "returnPropertyQuota": True,
    }


def simulator(app: GA4App) -> dict[tuple, dict]:
    return {
        tuple(r[d] for d in DIMENSIONS): {k: v for k, v in r.items() if k != "property_id"}
        for r in app.current_rows(PROPERTY)
    }


@pytest.mark.parametrize("faults", [None, FAULTS], ids=["faults_off", "faults_on"])
def test_every_row_exactly_once(world, faults):
    app = GA4App(world)
    with FakeServer(app, faults) as srv:
        rows, _ = report(srv.url, full_body())
        if faults:
            assert srv.faults_injected > 0
    want = simulator(app)
    assert len(rows) == len(want) > 1000
    assert {tuple(r[d] for d in DIMENSIONS): r for r in rows} == want


def test_fewer_dimensions_aggregate(world):
    app = GA4App(world)
    with FakeServer(app) as srv:
        rows, _ = report(
            srv.url,
            {**full_body(), "dimensions": [{"name": "date"}, {"name": "sessionSource"}, {"name": "sessionMedium"}]},
            limit=50,
        )
    want: dict[tuple, list] = defaultdict(lambda: [0, 0, 0, 0, Decimal(0)])
    for r in app.current_rows(PROPERTY):
        acc = want[(r["date"], r["sessionSource"], r["sessionMedium"])]
        for i, m in enumerate(METRICS[:4]):
            acc[i] += int(r[m])
        acc[4] += Decimal(r["totalRevenue"])
    got = {
        (r["date"], r["sessionSource"], r["sessionMedium"]): [int(r[m]) for m in METRICS[:4]]
        + [Decimal(r["totalRevenue"])]
        for r in rows
    }
    assert got == dict(want)


def test_totals_per_channel_equal_the_funnel(world):
    truths = json.loads((world / "truths.json").read_text())
    planted = truths["planted"]["totals_per_channel"]
    # The generator's rows (final values) total exactly the funnel, channel by channel.
    final: dict[str, list] = defaultdict(lambda: [0, 0, 0, Decimal(0)])
    for line in (world / "ga4" / "report_rows.jsonl").read_text().splitlines():
        r = json.loads(line)
        acc = final[channel_of(r["sessionSource"], r["sessionMedium"])]
        acc[0] += r["sessions"]
        acc[1] += r["keyEvents"] - r["ecommercePurchases"]
        acc[2] += r["ecommercePurchases"]
        acc[3] += Decimal(r["totalRevenue"])
    assert None not in final
    assert {
        k: [v["sessions"], v["leads"], v["new_customers"], Decimal(v["revenue_eur"])] for k, v in planted.items()
    } == dict(final)
    untagged = defaultdict(int)
    for line in (world / "ga4" / "report_rows.jsonl").read_text().splitlines():
        r = json.loads(line)
        if r["sessionMedium"] == "referral":
            assert r["sessionCampaignName"] == "(referral)"
            untagged[channel_of(r["sessionSource"], r["sessionMedium"])] += r["sessions"]
    assert dict(untagged) == {k: v["sessions_untagged"] for k, v in planted.items() if v["sessions_untagged"]}
    # The fake serves those final values for every day out of the 3-day restatement window.
    app = GA4App(world)
    frozen_end = app.as_of - timedelta(days=4)
    with FakeServer(app) as srv:
        rows, _ = report(
            srv.url, {**full_body(end=frozen_end), "dimensions": [{"name": "sessionSource"}, {"name": "sessionMedium"}]}
        )
    served: dict[str, list] = defaultdict(lambda: [0, Decimal(0)])
    for r in rows:
        served[channel_of(r["sessionSource"], r["sessionMedium"])][0] += int(r["sessions"])
        served[channel_of(r["sessionSource"], r["sessionMedium"])][1] += Decimal(r["totalRevenue"])
    spec_rows = [json.loads(x) for x in (world / "ga4" / "report_rows.jsonl").read_text().splitlines()]
    want: dict[str, list] = defaultdict(lambda: [0, Decimal(0)])
    for r in spec_rows:
        if r["date"] <= frozen_end.strftime("%Y%m%d"):
            want[channel_of(r["sessionSource"], r["sessionMedium"])][0] += r["sessions"]
            want[channel_of(r["sessionSource"], r["sessionMedium"])][1] += Decimal(r["totalRevenue"])
    assert dict(served) == dict(want)


def test_response_shape_quota_and_empty(world):
    with FakeServer(GA4App(world)) as srv:
        url = f"{srv.url}/v1beta/properties/{PROPERTY}:runReport"
        _, first = call("POST", url, json={**full_body(), "limit": 5})
        _, second = call("POST", url, json={**full_body(), "limit": 5})
        assert first["kind"] == "analyticsData#runReport"
        assert first["metadata"] == {"currencyCode": "EUR", "timeZone": "Europe/Berlin"}
        assert [h["type"] for h in first["metricHeaders"]] == ["TYPE_INTEGER"] * 4 + ["TYPE_CURRENCY"]
        assert len(first["rows"]) == 5 and first["rowCount"] > 5
        assert all(isinstance(v["value"], str) for r in first["rows"] for v in r["metricValues"] + r["dimensionValues"])
        q1, q2 = first["propertyQuota"], second["propertyQuota"]
        assert q2["tokensPerDay"]["remaining"] < q1["tokensPerDay"]["remaining"]
        assert "consumed" not in q1["concurrentRequests"]  # proto3 JSON leaves out zeros
        _, empty = call("POST", url, json=full_body(start=date(2020, 1, 1), end=date(2020, 1, 2)))
        assert "rows" not in empty and "rowCount" not in empty and "dimensionHeaders" in empty
        _, limited = call("POST", url, json={**full_body(), "limit": "999999999"})
        assert len(limited["rows"]) == limited["rowCount"]  # capped at 250,000, more than this world has


def test_errors(world):
    app = GA4App(world)
    with FakeServer(app, FaultConfig(retired_metrics=("engagedSessions",))) as srv:
        url = f"{srv.url}/v1beta/properties/{PROPERTY}:runReport"
        status, body = call("POST", url, token="wrong", json=full_body())
        assert status == 401 and body["error"]["status"] == "UNAUTHENTICATED"
        status, body = call("POST", url, json=full_body(metrics=["sessions", "conversions"]))
        assert (
            status == 400
            and body["error"]["status"] == "INVALID_ARGUMENT"
            and "conversions" in body["error"]["message"]
        )
        status, body = call("POST", url, json=full_body(metrics=["engagedSessions"]))
        assert status == 400 and "engagedSessions" in body["error"]["message"]
        status, body = call("POST", f"{srv.url}/v1beta/properties/999:runReport", json=full_body())
        assert status == 403 and body["error"]["status"] == "PERMISSION_DENIED"
    with FakeServer(GA4App(world), FaultConfig(rate_limit_rate=1.0, retry_after_s=0)) as srv:
        r = requests.post(
            f"{srv.url}/v1beta/properties/{PROPERTY}:runReport",
            json=full_body(),
            headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"},
            timeout=10,
        )
        assert r.status_code == 429
        assert r.json() == {
            "error": {"code": 429, "message": "Exhausted concurrent requests quota.", "status": "RESOURCE_EXHAUSTED"}
        }
    with FakeServer(GA4App(world, tokens_per_day=8)) as srv:
        statuses = [
            requests.post(
                f"{srv.url}/v1beta/properties/{PROPERTY}:runReport",
                json={**full_body(), "limit": 1},
                headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"},
                timeout=10,
            ).status_code
            for _ in range(3)
        ]
        assert statuses == [200, 200, 429]  # 4 tokens a request, 8 a day
    with FakeServer(GA4App(world, tokens_per_hour=8)) as srv:
        answers = [
            requests.post(
                f"{srv.url}/v1beta/properties/{PROPERTY}:runReport",
                json={**full_body(), "limit": 1},
                headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"},
                timeout=10,
            )
            for _ in range(3)
        ]
        assert [a.status_code for a in answers] == [200, 200, 429]
        assert answers[2].json()["error"]["message"] == "Exhausted property tokens per hour."  # retryable, not fatal


def test_restatement_moves_only_the_last_three_days(world):
    app = GA4App(world)
    with FakeServer(app) as srv:
        before, _ = report(srv.url, full_body(), limit=5000)
        app.restate()
        after, _ = report(srv.url, full_body(), limit=5000)
    key = lambda r: tuple(r[d] for d in DIMENSIONS)  # noqa: E731
    b, a = {key(r): r for r in before}, {key(r): r for r in after}
    recent = {(app.as_of - timedelta(days=i)).strftime("%Y%m%d") for i in range(1, 4)}
    changed = {k[0] for k in b if b[k] != a[k]}
    assert changed and changed <= recent
    assert a == simulator(app)
    # provisional values rise toward the final ones
    final = {
        tuple(r[d] for d in DIMENSIONS): r
        for r in map(json.loads, (world / "ga4" / "report_rows.jsonl").read_text().splitlines())
    }
    for k, r in a.items():
        assert int(r["sessions"]) <= final[k]["sessions"]


def test_generator_is_deterministic(tmp_path):
    ents = build(TEST_SPEC)
    one = ga4_gen.generate(TEST_SPEC, ents, tmp_path / "a")
    two = ga4_gen.generate(TEST_SPEC, ents, tmp_path / "b")
    assert one == two
    for name in ("properties.json", "report_rows.jsonl"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


# --- what the issue asked to see: GA4's campaign labels, creators on their own platforms ------


def _default_world_ga4(tmp_path):
    """The GA4 domain of `make run`'s world (the default spec), generated alone."""
    spec = WorldSpec()
    ents = build(spec)
    ga4_gen.generate(spec, ents, tmp_path / "ga4")
    return ents, planted_truths(spec, ents, {})


def test_make_runs_world_labels_campaigns_as_ga4_and_splits_influencers_by_platform(tmp_path):
    """The rows `make run` serves: untagged social sessions under `(referral)`, organic search
    under `(organic)`, direct under `(direct)`; influencer sessions from Instagram and YouTube,
    each creator from the platform the roster says, summing to the planted split."""
    ents, planted = _default_world_ga4(tmp_path)
    app = GA4App(tmp_path)
    with FakeServer(app) as srv:
        rows, _ = report(
            srv.url,
            {
                **full_body(WorldSpec().start, WorldSpec().end),
                "dimensions": [
                    {"name": d}
                    for d in ("sessionSource", "sessionMedium", "sessionCampaignName", "sessionManualAdContent")
                ],
            },
            limit=40,
        )
    labels = defaultdict(set)
    for r in rows:
        labels[(channel_of(r["sessionSource"], r["sessionMedium"]), r["sessionMedium"] == "referral")].add(
            r["sessionCampaignName"]
        )
    social = {
        "facebook_organic",
        "instagram_organic",
        "x_organic",
        "linkedin_organic",
        "youtube_organic",
        "influencer",
        "employee",
    }
    assert {ch for ch, untagged in labels if untagged} == social  # every social channel has untagged visits
    assert all(labels[(ch, True)] == {"(referral)"} for ch in social)
    assert labels[("organic_search", False)] == {"(organic)"} and labels[("direct", False)] == {"(direct)"}
    campaigns = {c.utm_campaign for c in ents.campaigns} | {"employee_advocacy"}
    for (ch, untagged), names in labels.items():
        if not untagged and ch not in ("organic_search", "direct"):
            assert names <= campaigns | {"(not set)"}, ch  # tagged without utm_campaign: GA4 cannot tell
    assert "(not set)" in labels[("email", False)]
    # Influencers: each creator's tagged sessions come from the roster's platform ...
    roster = {i["handle"]: i["platform"] for i in ents.influencers}
    by_platform: dict[str, int] = defaultdict(int)
    untagged_by_host: dict[str, int] = defaultdict(int)
    for r in rows:
        if r["sessionMedium"] == "influencer":
            assert r["sessionSource"] == roster[r["sessionManualAdContent"]]
            by_platform[r["sessionSource"]] += int(r["sessions"])
        elif channel_of(r["sessionSource"], r["sessionMedium"]) == "influencer":
            untagged_by_host[r["sessionSource"]] += int(r["sessions"])
    # ... and untagged ones from the platform's referrer: l.instagram.com, youtube.com
    by_platform["instagram"] += untagged_by_host.pop("l.instagram.com", 0)
    by_platform["youtube"] += untagged_by_host.pop("youtube.com", 0)
    assert not untagged_by_host
    split = planted["influencer_totals_per_platform"]
    assert dict(by_platform) == {p: t["sessions"] for p, t in split.items()}
    assert set(split) == {"instagram", "youtube"} and all(
        t["sessions"] > t["sessions_untagged"] > 0 for t in split.values()
    )
    assert {p: t["handles"] for p, t in split.items()} == {
        p: sorted(h for h, q in roster.items() if q == p) for p in ("instagram", "youtube")
    }


# --- the (other) row and the data-loss flags ------------------------------------------------


def _by_day(rows: list[dict]) -> dict[str, list]:
    out: dict[str, list] = defaultdict(lambda: [0, 0, 0, 0, Decimal(0)])
    for r in rows:
        acc = out[r["date"]]
        for i, m in enumerate(METRICS[:4]):
            acc[i] += int(r[m])
        acc[4] += Decimal(r["totalRevenue"])
    return dict(out)


def test_rows_beyond_the_row_limit_roll_into_the_other_row(world):
    limit = 60
    full, capped = GA4App(world), GA4App(world, row_limit=limit)
    per_day = defaultdict(int)
    for r in full.current_rows(PROPERTY):
        per_day[r["date"]] += 1
    assert max(per_day.values()) > limit  # the test world overflows a 60-row table
    with FakeServer(capped) as srv:
        rows, _ = report(srv.url, full_body(), limit=97)
        url = f"{srv.url}/v1beta/properties/{PROPERTY}:runReport"
        _, first = call("POST", url, json={**full_body(), "limit": 5})
        _, summary = call(
            "POST", url, json={**full_body(), "dimensions": [{"name": "date"}, {"name": "sessionSource"}]}
        )
        _, filtered = call(
            "POST",
            url,
            json={
                **full_body(),
                "dimensionFilter": {"filter": {"fieldName": "sessionSource", "stringFilter": {"value": "google"}}},
            },
        )
        _, derived = call(
            "POST",
            url,
            json={
                **full_body(),
                "dimensions": [
                    {"name": "date"},
                    {"name": "landingPagePlusQueryString"},
                    {"name": "sessionSourceMedium"},
                    {"name": "sessionDefaultChannelGroup"},
                ],
            },
        )
    others = [r for r in rows if r["sessionSource"] == "(other)"]
    # one (other) row a day that overflowed, the day's date kept, every other dimension (other)
    assert sorted(r["date"] for r in others) == sorted(d for d, n in per_day.items() if n > limit)
    assert all(r[d] == "(other)" for r in others for d in DIMENSIONS if d != "date")
    counted = defaultdict(int)
    for r in rows:
        counted[r["date"]] += 1
    assert all(counted[d] == min(n, limit) for d, n in per_day.items())
    # its metrics are the rolled-up rows' sum: every day's totals still match
    assert {tuple(r[d] for d in DIMENSIONS): r for r in rows} == simulator(capped)
    assert _by_day(rows) == _by_day(list(full.current_rows(PROPERTY)))
    # the most visited rows are the ones kept
    kept = {tuple(r[d] for d in DIMENSIONS) for r in rows}
    for d in {r["date"] for r in others}:
        day = [r for r in full.current_rows(PROPERTY) if r["date"] == d]
        lost = [int(r["sessions"]) for r in day if tuple(r[x] for x in DIMENSIONS) not in kept]
        stayed = [int(r["sessions"]) for r in day if tuple(r[x] for x in DIMENSIONS) in kept]
        assert len(lost) == per_day[d] - limit + 1 and min(stayed) >= max(lost)
    assert first["metadata"] == {"dataLossFromOtherRow": True, "currencyCode": "EUR", "timeZone": "Europe/Berlin"}
    # a report without a landing page reads the summary table: no (other) row, no flag
    assert "dataLossFromOtherRow" not in summary["metadata"]
    assert all(v["value"] != "(other)" for r in summary["rows"] for v in r["dimensionValues"])
    # a filter drops the (other) row, the flag still says data was lost (as documented)
    assert filtered["metadata"]["dataLossFromOtherRow"] is True
    assert {r["dimensionValues"][1]["value"] for r in filtered["rows"]} == {"google"}
    # derived dimensions of the (other) row are (other) too, its day's are not
    other_derived = [
        [v["value"] for v in r["dimensionValues"]]
        for r in derived["rows"]
        if r["dimensionValues"][1]["value"] == "(other)"
    ]
    assert other_derived and all(v[0] != "(other)" and v[1:] == ["(other)"] * 3 for v in other_derived)


def test_the_other_row_sums_restated_values_on_provisional_days(world):
    full, capped = GA4App(world), GA4App(world, row_limit=60)
    full.restate()
    capped.restate()
    assert _by_day(list(capped.current_rows(PROPERTY))) == _by_day(list(full.current_rows(PROPERTY)))


def test_google_signals_make_reports_subject_to_thresholding(world):
    with FakeServer(GA4App(world, google_signals=True)) as srv:
        url = f"{srv.url}/v1beta/properties/{PROPERTY}:runReport"
        _, one = call("POST", url, json={**full_body(), "limit": 5})
        _, two = call("POST", url, json={**full_body(), "limit": 5})
    assert one["metadata"]["subjectToThresholding"] is True and "dataLossFromOtherRow" not in one["metadata"]
    assert one["propertyQuota"]["potentiallyThresholdedRequestsPerHour"] == {"consumed": 1, "remaining": 119}
    assert two["propertyQuota"]["potentiallyThresholdedRequestsPerHour"] == {"consumed": 1, "remaining": 118}
    with FakeServer(GA4App(world, google_signals=True)) as srv:
        srv.app.quota_limits["potentiallyThresholdedRequestsPerHour"] = 1
        url = f"{srv.url}/v1beta/properties/{PROPERTY}:runReport"
        statuses = [
            requests.post(
                url, json={**full_body(), "limit": 1}, timeout=10, headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"}
            )
            for _ in range(2)
        ]
    assert statuses[0].status_code == 200 and statuses[1].status_code == 429
    assert statuses[1].json()["error"]["message"] == "Exhausted potentially thresholded requests quota."


def test_row_limit_must_be_a_positive_number_of_rows(world):
    with pytest.raises(ValueError, match="row_limit"):
        GA4App(world, row_limit=0)


def test_row_limit_and_google_signals_come_from_the_environment_for_make_run(world, monkeypatch):
    from sampleworld.fakes.ga4 import make_app

    default = make_app(world)
    assert (default.row_limit, default.google_signals, default.overflow) == (50_000, False, {})
    monkeypatch.setenv("SKW_FAKE_GA4_ROW_LIMIT", "100")
    monkeypatch.setenv("SKW_FAKE_GA4_GOOGLE_SIGNALS", "on")
    app = make_app(world)
    assert (app.row_limit, app.google_signals) == (100, True) and app.overflow
    for name, value in (("SKW_FAKE_GA4_ROW_LIMIT", "-3"), ("SKW_FAKE_GA4_GOOGLE_SIGNALS", "yes")):
        monkeypatch.setenv("SKW_FAKE_GA4_ROW_LIMIT", "100")
        monkeypatch.setenv("SKW_FAKE_GA4_GOOGLE_SIGNALS", "off")
        monkeypatch.setenv(name, value)
        with pytest.raises(ValueError, match=name):
            make_app(world)
