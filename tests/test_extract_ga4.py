"""The GA4 extractor against the fake, faults on: exactly the simulator's rows (flattened from
GA4's positional rows), every injected bad row in the rejects, idempotent re-runs, restatement
of the last 3 days, clear failures for a retired metric, a bad token and a foreign property,
quota back-off as Airbyte does, and the token in no message."""

from __future__ import annotations

import json
import logging
from datetime import date
from decimal import Decimal

import pytest
import requests
from stream_harness import by_key, days, run_stream

from extractors.ga4 import (
    ANALYTICS_REPORT,
    DEFAULT_DIMENSIONS,
    DEFAULT_METRICS,
    GA4Client,
    classify_ga4_error,
    flatten_report,
    report_stream,
)
from extractors.http import AuthError, FatalError, RetryableError, RetryPolicy
from orchestration.assets.streams import raw_table
from sampleworld.fakes.base import EXTRA_FIELD, App, FakeServer, FaultConfig, Request, Response
from sampleworld.fakes.ga4 import DEFAULT_TOKEN, GA4App
from sampleworld.gen.ga4 import PROPERTY as GA4_PROPERTY
from warehouse.landing import land_pages
from warehouse.loader import connect, load

FAST = RetryPolicy(max_attempts=8, backoff_initial_s=0.001, backoff_max_s=0.01)
FAULTS = FaultConfig(
    error_rate=0.05,
    rate_limit_rate=0.05,
    retry_after_s=0,
    truncate_rate=0.05,
    repeat_page_rate=0.1,
    extra_field_rate=0.1,
    bad_record_rate=0.1,
    seed=11,
)
WEEK = days(date(2026, 6, 1), date(2026, 6, 7))
META = (
    "property_id",
    "currency_code",
    "time_zone",
    "report_date",
    "data_loss_from_other_row",
    "subject_to_thresholding",
)
KEY = ANALYTICS_REPORT.primary_key
PROPERTY = GA4_PROPERTY["property_id"]


@pytest.fixture
def fake(world):
    with FakeServer(GA4App(world), FAULTS) as srv:
        yield srv


def client(srv, token=DEFAULT_TOKEN, sleeps=None, **kw) -> GA4Client:
    kw.setdefault("property_ids", sorted(srv.app.properties))
    # quota back-offs (30 s, 1,800 s) are asked for, not slept, in tests
    return GA4Client(
        srv.url, token, page_size=100, retry=FAST, sleep=(sleeps.append if sleeps is not None else lambda s: None), **kw
    )


def expected(app: GA4App, day_list) -> dict[tuple, dict]:
    """What the fake serves now, as the extractor lands it (flattened, with the metadata: the
    day's data-loss flags as the fake decides them)."""
    wanted = {d.strftime("%Y%m%d"): d for d in day_list}
    out = []
    for r in app.current_rows():
        if r["date"] in wanted:
            p, day = app.properties[r["property_id"]], wanted[r["date"]]
            out.append(
                {
                    **r,
                    "currency_code": p["currency_code"],
                    "time_zone": p["time_zone"],
                    "report_date": day.isoformat(),
                    "data_loss_from_other_row": (r["property_id"], day) in app.overflow,
                    "subject_to_thresholding": app.google_signals,
                }
            )
    return by_key(out, KEY)


def assert_rejects_are_the_injected(run, injected):
    got = []
    for text, reason in run.rejects:
        rec = json.loads(text)
        assert reason and "missing required field" in reason, reason
        got.append(json.dumps({k: v for k, v in rec.items() if k not in META}, sort_keys=True))
    assert sorted(got) == sorted(json.dumps(v, sort_keys=True) for v in injected)


def test_every_row_exactly_once_with_faults(fake, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    c = client(fake)
    run = run_stream(c, ANALYTICS_REPORT, tmp_path, WEEK)
    assert by_key(run.records, KEY) == expected(fake.app, WEEK)
    assert len(run.records) > 2000 and c.stats.pages >= 3 * len(WEEK)  # several pages a day
    assert fake.faults_injected > 0 and c.stats.retries > 0
    assert getattr(fake.app, "injected_bad", []), "the seed should inject bad rows"
    assert_rejects_are_the_injected(run, fake.app.injected_bad)
    assert DEFAULT_TOKEN not in caplog.text
    # the property quota was read and logged
    assert c.quota["tokensPerDay"]["remaining"] > 0 and "quota left" in caplog.text


def test_repeated_pages_are_asked_again_not_skipped(world, tmp_path, caplog):
    with FakeServer(GA4App(world), FaultConfig(repeat_page_rate=0.5, seed=2)) as srv:
        run = run_stream(client(srv), ANALYTICS_REPORT, tmp_path, [date(2026, 6, 2)])
    assert by_key(run.records, KEY) == expected(srv.app, [date(2026, 6, 2)])
    assert "repeated rows already read" in caplog.text


def test_same_partition_twice_changes_nothing(fake, tmp_path):
    day = date(2026, 6, 3)
    run = run_stream(client(fake), ANALYTICS_REPORT, tmp_path, [day, day])
    first, second = run.results
    assert first.inserted > 300
    assert (second.inserted, second.updated, second.deleted) == (0, 0, 0)
    assert second.unchanged == first.inserted


def test_restatement_updates_recent_days_only(fake, tmp_path):
    recent, old = date(2026, 6, 7), date(2026, 6, 1)  # as_of 2026-06-08: the 7th is provisional
    run_stream(client(fake), ANALYTICS_REPORT, tmp_path, [old, recent])
    fake.app.restate()
    run = run_stream(client(fake), ANALYTICS_REPORT, tmp_path, [old, recent])
    on_old, on_recent = run.results
    assert (on_old.inserted, on_old.updated, on_old.deleted) == (0, 0, 0)
    assert on_recent.updated > 0 and on_recent.inserted == 0
    assert by_key(run.records, KEY) == expected(fake.app, [old, recent])


def test_incremental_rerun_of_the_window_loads_nothing_new(fake, tmp_path):
    window = days(date(2026, 6, 5), date(2026, 6, 7))
    run_stream(client(fake), ANALYTICS_REPORT, tmp_path, window)
    again = run_stream(client(fake), ANALYTICS_REPORT, tmp_path, window)
    assert all((r.inserted, r.updated, r.deleted) == (0, 0, 0) for r in again.results)
    assert by_key(again.records, KEY) == expected(fake.app, window)


@pytest.mark.parametrize("metrics, bad", [((*DEFAULT_METRICS, "conversions"), "conversions")])
def test_renamed_metric_fails_naming_it_and_the_setting(fake, metrics, bad):
    c = client(fake, metrics=metrics)
    with pytest.raises(FatalError) as exc:
        list(c.pages(c.stream(ANALYTICS_REPORT.name), date(2026, 6, 1)))
    text = str(exc.value)
    assert "[ga4]" in text and bad in text and "`metrics`" in text and "keyEvents" in text


def test_retired_metric_fails_naming_it_and_the_setting(world):
    with FakeServer(GA4App(world), FaultConfig(retired_metrics=("engagedSessions",))) as srv:
        with pytest.raises(FatalError) as exc:
            list(client(srv).pages(ANALYTICS_REPORT, date(2026, 6, 1)))
    assert "[ga4]" in str(exc.value) and "engagedSessions" in str(exc.value) and "`metrics`" in str(exc.value)


def test_bad_token_fails_naming_the_variable_and_never_shows_it(fake, caplog):
    caplog.set_level(logging.DEBUG)
    secret = "ya29.not-a-real-ga4-token-0123456789"
    with pytest.raises(AuthError, match="GA4_TOKEN") as exc:
        list(client(fake, token=secret).pages(ANALYTICS_REPORT, date(2026, 6, 1)))
    assert "invalid authentication credentials" in str(exc.value)
    assert secret not in str(exc.value) and secret not in caplog.text
    assert all(secret not in r.getMessage() for r in caplog.records)


def test_missing_token_fails_before_any_call():
    with pytest.raises(AuthError, match="GA4_TOKEN"):
        GA4Client("http://127.0.0.1:9", "")


def test_property_without_access_names_the_setting(fake):
    with pytest.raises(AuthError, match="GA4_PROPERTY_IDS") as exc:
        list(client(fake, property_ids=["999"]).pages(ANALYTICS_REPORT, date(2026, 6, 1)))
    assert "sufficient permissions" in str(exc.value)


def _google_response(status: int, message: str, state: str) -> requests.Response:
    resp = requests.Response()
    resp.status_code = status
    resp._content = json.dumps({"error": {"code": status, "message": message, "status": state}}).encode()
    return resp


@pytest.mark.parametrize(
    "message, kind, wait",
    [
        ("Exhausted concurrent requests quota.", RetryableError, 30),
        ("Exhausted property tokens for a project per hour.", RetryableError, 1800),
        ("Exhausted potentially thresholded requests quota.", RetryableError, 1800),
        ("Exhausted property tokens per day.", FatalError, None),
    ],
)
def test_quota_errors_back_off_as_airbyte_does(message, kind, wait):
    err = classify_ga4_error(_google_response(429, message, "RESOURCE_EXHAUSTED"), "u")
    assert type(err) is kind and message in str(err)
    if wait:
        assert err.retry_after == wait


def test_concurrent_quota_429_waits_30_seconds(world, tmp_path):
    sleeps: list[float] = []
    with FakeServer(GA4App(world), FaultConfig(rate_limit_rate=0.3, retry_after_s=0, seed=4)) as srv:
        run = run_stream(client(srv, sleeps=sleeps), ANALYTICS_REPORT, tmp_path, [date(2026, 6, 4)])
    assert by_key(run.records, KEY) == expected(srv.app, [date(2026, 6, 4)])
    assert sleeps and all(s >= 30 for s in sleeps)


def test_dimensions_and_metrics_are_configuration(fake, tmp_path):
    stream = report_stream(("date", "sessionSource"), ("sessions", "totalRevenue"))
    c = client(fake, dimensions=("date", "sessionSource"), metrics=("sessions", "totalRevenue"))
    run = run_stream(c, stream, tmp_path, [date(2026, 6, 2)])
    rows = by_key(run.records, stream.primary_key)
    full = [r for r in fake.app.current_rows() if r["date"] == "20260602"]
    assert sum(int(r["sessions"]) for r in rows.values()) == sum(int(r["sessions"]) for r in full)
    assert {r["sessionSource"] for r in rows.values()} == {r["sessionSource"] for r in full}
    assert set(next(iter(rows.values()))) - {EXTRA_FIELD} == {
        *META,
        "date",
        "sessionSource",
        "sessions",
        "totalRevenue",
    }
    assert ANALYTICS_REPORT.primary_key == ("property_id", *DEFAULT_DIMENSIONS)


def _land_and_load_together(c: GA4Client, stream, tmp_path, day_list):
    """As a run of several days does: each day landed, then all loaded in one transaction."""
    files = [
        land_pages(tmp_path / "landing", stream.source, stream.name, d.isoformat(), c.pages(stream, d))
        for d in day_list
    ]
    with connect(tmp_path / "w.duckdb") as con:
        result = load(con, raw_table(stream), files)
        cols = [*stream.columns]
        rows = [
            dict(zip(cols, r))
            for r in con.execute(f"select {', '.join(cols)} from {raw_table(stream).name}").fetchall()
        ]
    return result, rows


def test_a_report_configured_with_other_dimensions_loads_every_row(world, tmp_path):
    """The raw schema follows the configured dimensions and metrics: a report by source and medium
    (no `date` dimension) over three days, loaded together as a run loads them, keeps every row
    GA4 served, each in its own day, with the totals GA4 served."""
    dims, metrics = ("sessionSource", "sessionMedium"), ("sessions", "totalRevenue")
    three = days(date(2026, 6, 2), date(2026, 6, 4))
    with FakeServer(GA4App(world)) as srv:
        c = client(srv, dimensions=dims, metrics=metrics)
        stream = c.stream(ANALYTICS_REPORT.name)
        result, rows = _land_and_load_together(c, stream, tmp_path, three)
        served = list(srv.app.current_rows())
    assert stream.primary_key == ("property_id", "report_date", *dims)
    assert set(stream.columns) >= {*dims, *metrics} and "landingPage" not in stream.columns
    assert result.received > 3 and (result.loaded, result.rejected, result.duplicates) == (result.received, 0, 0)
    for day in three:
        mine = [r for r in rows if r["report_date"] == day]
        theirs = [r for r in served if r["date"] == day.strftime("%Y%m%d")]
        assert sum(r["sessions"] for r in mine) == sum(int(r["sessions"]) for r in theirs) > 0
        assert sum(r["totalRevenue"] for r in mine) == sum(Decimal(r["totalRevenue"]) for r in theirs)
        assert {(r["sessionSource"], r["sessionMedium"]) for r in mine} == {
            (r["sessionSource"], r["sessionMedium"]) for r in theirs
        }


def test_a_run_of_the_pipeline_engine_loads_every_row_of_a_report_configured_otherwise(world, tmp_path):
    """As the raw asset runs it (warehouse/engine.py, given the module's declaration and a client
    factory): the client's settings decide what is read and the raw table it lands in."""
    from warehouse import engine

    dims, metrics = ("sessionSource", "sessionMedium", "landingPage"), ("sessions", "keyEvents")
    three = days(date(2026, 6, 2), date(2026, 6, 4))
    with FakeServer(GA4App(world)) as srv:
        meta = engine.run_stream(
            ANALYTICS_REPORT,
            lambda: client(srv, dimensions=dims, metrics=metrics),
            landing_root=tmp_path / "landing",
            warehouse_path=tmp_path / "w.duckdb",
            days=three,
        )
        served = [r for r in srv.app.current_rows() if r["date"] in {d.strftime("%Y%m%d") for d in three}]
    assert meta["received"] >= len(three) and meta["rejected"] == 0
    assert meta["loaded"] == meta["received"] == meta["rows_in_table"]
    with connect(tmp_path / "w.duckdb") as con:
        got = con.execute(
            "select sum(sessions), sum(keyEvents), count(distinct report_date) from raw.ga4__analytics_report"
        ).fetchall()[0]
    assert got == (sum(int(r["sessions"]) for r in served), sum(int(r["keyEvents"]) for r in served), 3)


def test_the_default_declaration_is_refused_by_a_client_configured_otherwise(world):
    """Read for a table built from the module's default declaration, a client whose settings ask
    for other dimensions fails before any request, saying which declaration to load with:
    today's rows would all be rejected while the run succeeds."""
    with FakeServer(GA4App(world)) as srv:
        c = client(srv, dimensions=("sessionSource",), metrics=("sessions",))
        with pytest.raises(FatalError) as exc:
            list(c.pages(ANALYTICS_REPORT, date(2026, 6, 2)))
        assert srv.app.calls["runReport"] == 0
    text = str(exc.value)
    assert "[ga4]" in text and "sessionSource" in text and "client.stream('analytics_report')" in text
    default = GA4Client("http://127.0.0.1:9", "t", property_ids=["1"])
    assert default.streams == (ANALYTICS_REPORT,) and default.stream("analytics_report") == ANALYTICS_REPORT


def test_a_response_whose_headers_are_not_the_request_fails(tmp_path):
    """Rows named by other headers than the ones asked for would fit no column or key of the
    raw table: the read fails naming property, day and both lists instead of landing them."""
    body = {
        "dimensionHeaders": [{"name": "date"}, {"name": "country"}],
        "metricHeaders": [{"name": "sessions"}],
        "rows": [{"dimensionValues": [{"value": "20260602"}, {"value": "DE"}], "metricValues": [{"value": "3"}]}],
        "rowCount": 1,
        "metadata": {"currencyCode": "EUR", "timeZone": "Europe/Berlin"},
    }
    with FakeServer(_Canned(json.dumps(body).encode())) as srv:
        c = GA4Client(
            srv.url, "t", property_ids=["123"], dimensions=("date", "sessionSource"), metrics=("sessions",), retry=FAST
        )
        with pytest.raises(FatalError) as exc:
            list(c.pages(c.stream("analytics_report"), date(2026, 6, 2)))
    text = str(exc.value)
    assert "property 123, 2026-06-02" in text and "['date', 'country']" in text and "['date', 'sessionSource']" in text


@pytest.mark.parametrize(
    "dims, metrics, words",
    [
        ((), (), "no dimension and no metric"),
        (("date", "date"), ("sessions",), "more than once"),
        (("date",), ("property_id",), "more than once"),
        (("date", ""), ("sessions",), "`dimensions`"),
    ],
)
def test_settings_that_cannot_make_a_table_fail_naming_them(dims, metrics, words):
    with pytest.raises(FatalError, match=words):
        GA4Client("http://127.0.0.1:9", "t", property_ids=["1"], dimensions=dims, metrics=metrics)


class _Canned(App):
    def __init__(self, body: bytes):
        self.body = body

    def handle(self, req: Request) -> Response:
        return Response(200, self.body, {"Content-Type": "application/json"})


def test_other_row_and_data_loss_flags_land_in_raw_and_are_warned_about(world, tmp_path, caplog):
    """A report whose rows were rolled into `(other)` (row limit) and that is subject to
    thresholding (Google signals): the `(other)` row lands as a row like any other, both flags
    are on every landed row of that day and in their raw columns, and a warning names the
    property and the day."""
    caplog.set_level(logging.WARNING)
    app = GA4App(world, row_limit=300, google_signals=True)
    overflowing = sorted(d for p, d in app.overflow)
    assert overflowing and len(overflowing) < len(WEEK), "some days of the test world should overflow 300 rows"
    with FakeServer(app, FAULTS) as srv:
        run = run_stream(client(srv), ANALYTICS_REPORT, tmp_path, WEEK)
    assert by_key(run.records, KEY) == expected(app, WEEK)
    others = [r for r in run.records if r["sessionSource"] == "(other)"]
    assert sorted(r["report_date"] for r in others) == [d.isoformat() for d in overflowing]
    assert all(r[d] == "(other)" for r in others for d in DEFAULT_DIMENSIONS if d != "date")
    with connect(tmp_path / "w.duckdb") as con:
        flags = con.execute(f"""
            select report_date, bool_and(data_loss_from_other_row), bool_or(data_loss_from_other_row),
                   bool_and(subject_to_thresholding), sum(sessions) filter (where landingPage = '(other)')
            from {raw_table(ANALYTICS_REPORT).name} group by 1 order by 1""").fetchall()
    assert [(d, a, o, t) for d, a, o, t, _ in flags] == [(d, d in overflowing, d in overflowing, True) for d in WEEK]
    assert all(s > 0 for d, *_, s in flags if d in overflowing)  # the rolled-up sessions are in raw
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    for day in WEEK:
        about = [m for m in warnings if f"property {PROPERTY}, {day}:" in m]
        assert sum("(other)" in m and "dataLossFromOtherRow" in m for m in about) == (day in overflowing)
        assert sum("subjectToThresholding" in m for m in about) == 1  # once a report, not once a page


def test_reports_without_data_loss_land_false_flags_and_warn_nothing(fake, tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    run = run_stream(client(fake), ANALYTICS_REPORT, tmp_path, [date(2026, 6, 2)])
    assert run.records and all(
        r["data_loss_from_other_row"] is False and r["subject_to_thresholding"] is False for r in run.records
    )
    assert not [
        r
        for r in caplog.records
        if "dataLossFromOtherRow" in r.getMessage() or "subjectToThresholding" in r.getMessage()
    ]


@pytest.mark.parametrize(
    "metadata, flags",
    [
        ({"currencyCode": "EUR", "timeZone": "Europe/Berlin"}, (False, False)),  # proto3: false left out
        ({"dataLossFromOtherRow": None, "subjectToThresholding": None}, (False, False)),  # a relay's explicit nulls
        ({"dataLossFromOtherRow": True}, (True, False)),
        ({"subjectToThresholding": True}, (False, True)),
    ],
)
def test_flags_are_read_from_the_report_metadata(metadata, flags):
    body = {
        "dimensionHeaders": [{"name": "date"}],
        "metricHeaders": [{"name": "sessions", "type": "TYPE_INTEGER"}],
        "rows": [{"dimensionValues": [{"value": "(other)"}], "metricValues": [{"value": "7"}]}],
        "metadata": metadata,
    }
    (row,) = flatten_report(body, "1", date(2026, 6, 1))
    assert (row["data_loss_from_other_row"], row["subject_to_thresholding"]) == flags
    assert row["date"] == "(other)" and row["sessions"] == "7"
