"""The survey (Typeform) extractor against its fake, faults on: every response of a day exactly
once with its answers by ref, every injected bad response in the rejects, idempotent re-runs,
clear failures for a bad token, an unknown form and a question removed from the form, and the
token in no error or log line."""

from __future__ import annotations

import json
import logging
import re
from datetime import date

import pytest
import requests
from stream_harness import by_key, days, run_stream

from extractors.http import AuthError, FatalError, RetryableError, RetryPolicy
from extractors.survey import (
    DEFAULT_ANSWER_REFS,
    RESPONSES,
    BeforeTokenPaginator,
    SurveyClient,
    classify_survey_error,
    with_answers_by_ref,
)
from orchestration.assets.streams import raw_table
from sampleworld.fakes.base import FakeServer, FaultConfig
from sampleworld.fakes.survey import SurveyApp
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
    seed=43,
)
ALL_DAYS = days(date(2026, 6, 1), date(2026, 6, 7))
KEY = RESPONSES.primary_key


@pytest.fixture
def fake(world):
    with FakeServer(SurveyApp(world), FAULTS) as srv:
        yield srv


def client(srv, token=None, **kw) -> SurveyClient:
    kw.setdefault("page_size", 5)
    return SurveyClient(srv.url, token or srv.app.token, form_id=srv.app.form["id"], retry=FAST, **kw)


def served(app: SurveyApp, day_list: list[date]) -> list[dict]:
    """What the fake serves now for the days, as the client hands it on (answers by ref added)."""
    return [with_answers_by_ref(i) for d in day_list for i in app.current_items(f"{d}T00:00:00Z", f"{d}T23:59:59Z")]


def assert_rejects_are_the_injected(run, injected) -> None:
    """The rejects are exactly the injected copies (whole records as the fake served them; the
    client adds `answers_by_ref`), each with a reason that names the field the fake broke: no
    `token`, or `submitted_at` unreadable."""
    got = []
    for text, reason in run.rejects:
        rec = json.loads(text)
        assert rec.pop("answers_by_ref") == with_answers_by_ref(rec)["answers_by_ref"]
        if "token" in rec:  # submitted_date is read from it by a JSON path ($.submitted_at)
            assert rec["submitted_at"] == "not-a-valid-value", rec
            assert re.search(r"field (\$\.)?submitted_at: not-a-valid-value is not a valid", reason), reason
        else:
            assert "missing required field token" in reason, reason
        got.append(json.dumps(rec, sort_keys=True))
    assert sorted(got) == sorted(json.dumps(r, sort_keys=True) for r in injected)


def test_every_response_exactly_once_with_faults(fake, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    c = client(fake)
    run = run_stream(c, RESPONSES, tmp_path, ALL_DAYS)
    want = served(fake.app, ALL_DAYS)
    assert len(want) == len(fake.app.asc) > 100  # the days cover every response
    assert by_key(run.records, KEY) == by_key(want, KEY)
    assert getattr(fake.app, "injected_bad", []), "the seed should inject bad responses"
    assert_rejects_are_the_injected(run, fake.app.injected_bad)
    assert fake.faults_injected > 0 and c.stats.retries > 0
    assert sum(r.duplicates for r in run.results) > 0  # pages served twice, kept once
    assert fake.app.token not in caplog.text


def test_answers_are_flattened_as_they_come_and_typed_in_raw(fake, tmp_path):
    run = run_stream(client(fake), RESPONSES, tmp_path, [date(2026, 6, 2)])
    with_comment = next(r for r in run.records if "csat_comment" in r["answers_by_ref"])
    assert isinstance(with_comment["answers_by_ref"]["csat_score"], int)
    assert with_comment["answers"][1]["text"] == with_comment["answers_by_ref"]["csat_comment"]
    with connect(tmp_path / "w.duckdb") as con:
        rows = con.execute("select csat_score, channel, submitted_date from raw.survey__responses").fetchall()
        skipped = con.execute("select count(*) from raw.survey__responses where csat_comment is null").fetchall()[0][0]
    assert {r[2] for r in rows} == {date(2026, 6, 2)} and all(1 <= r[0] <= 5 and r[1] for r in rows)
    assert skipped > 0  # a skipped comment is absent, as Typeform leaves it out


def test_rerun_restate_and_incremental_load_nothing_new(fake, tmp_path):
    day = [date(2026, 6, 7)]
    first = run_stream(client(fake), RESPONSES, tmp_path, day)
    assert first.results[0].inserted > 0
    second = run_stream(client(fake), RESPONSES, tmp_path, day)
    r = second.results[0]
    assert (r.inserted, r.updated, r.deleted) == (0, 0, 0) and r.unchanged == first.results[0].loaded
    # Survey responses are final once submitted (restatement 0): a restatement epoch changes nothing.
    fake.app.restate()
    after = run_stream(client(fake), RESPONSES, tmp_path, day)
    assert by_key(after.records, KEY) == by_key(served(fake.app, day), KEY)
    assert after.results[0].updated == 0
    nxt = run_stream(client(fake), RESPONSES, tmp_path, [date(2026, 6, 8)])
    assert (nxt.results[0].received, nxt.results[0].inserted) == (0, 0)
    assert len(nxt.records) == len(after.records)


def test_a_question_removed_from_the_form_fails_naming_it_and_the_setting(fake):
    c = client(fake, answer_refs=[*DEFAULT_ANSWER_REFS, "nps_score"])
    with pytest.raises(FatalError) as exc:
        list(c.pages(RESPONSES, date(2026, 6, 1)))
    text = str(exc.value)
    assert "[survey]" in text and "nps_score" in text and "answer_refs" in text


def test_bad_token_fails_naming_the_variable_and_never_shows_it(world, caplog):
    caplog.set_level(logging.DEBUG)
    secret = "tfp_wrong_survey_token_77"
    with FakeServer(SurveyApp(world)) as srv:
        with pytest.raises(AuthError) as exc:
            list(client(srv, token=secret).pages(RESPONSES, date(2026, 6, 1)))
    assert "SURVEY_TOKEN" in str(exc.value) and "Authentication credentials" in str(exc.value)
    assert secret not in str(exc.value) and secret not in caplog.text


def test_unknown_form_fails_naming_the_setting(fake):
    c = SurveyClient(fake.url, fake.app.token, form_id="nope123", retry=FAST)
    with pytest.raises(FatalError, match="SURVEY_FORM_ID") as exc:
        list(c.pages(RESPONSES, date(2026, 6, 1)))
    assert "nope123" in str(exc.value)


def test_missing_settings_fail_before_any_call():
    with pytest.raises(AuthError, match="SURVEY_TOKEN"):
        SurveyClient("http://127.0.0.1:9", "", form_id="x")
    with pytest.raises(FatalError, match="SURVEY_FORM_ID"):
        SurveyClient("http://127.0.0.1:9", "t", form_id="")


def _resp(status: int, body: dict, headers: dict | None = None) -> requests.Response:
    r = requests.Response()
    r.status_code, r._content = status, json.dumps(body).encode()
    r.headers.update(headers or {})
    return r


@pytest.mark.parametrize(
    "status, code, description, expected",
    [
        (401, "AUTHENTICATION_FAILED", "Authentication credentials not found on the Request Headers", AuthError),
        (404, "FORM_NOT_FOUND", "Non existing form with uid abc", FatalError),
        (400, "VALIDATION_ERROR", "page_size must be between 1 and 1000", FatalError),
        (429, "RATE_LIMIT_EXCEEDED", "Too many requests, please slow down", RetryableError),
        (500, "INTERNAL_SERVER_ERROR", "Something went wrong, please try again later", RetryableError),
        (503, "SERVICE_UNAVAILABLE", "Something went wrong, please try again later", RetryableError),
    ],
)
def test_error_bodies_are_classified_with_their_message(status, code, description, expected):
    err = classify_survey_error(
        _resp(status, {"code": code, "description": description}, {"Retry-After": "3"}),
        "https://api.typeform.com/forms/x/responses",
    )
    assert type(err) is expected and description in str(err) and code in str(err)
    assert err.retry_after == 3.0


def test_paging_stops_on_empty_page_or_when_all_items_are_seen_and_skips_bad_copies():
    p = BeforeTokenPaginator()
    assert p.next_params({"items": []}, {}) is None
    page = {"total_items": 4, "items": [{"token": "a"}, {"token": "b"}, {"token": "a", "x": 1}]}
    assert p.next_params(page, {}) == {"before": "b"}  # "a" twice: the copy is not where the page ends
    assert p.next_params({"total_items": 4, "items": [{"token": "c"}, {"token": "d"}]}, {"before": "b"}) is None


def test_a_malformed_response_goes_to_rejects_with_its_reason(world, tmp_path):
    app = SurveyApp(world)
    good = served(app, [date(2026, 6, 3)])[:3]
    no_token = {k: v for k, v in good[0].items() if k != "token"}
    bad_score = {**good[1], "answers_by_ref": {**good[1]["answers_by_ref"], "csat_score": "not-a-valid-value"}}
    landed = land_pages(tmp_path / "landing", "survey", "responses", "2026-06-03", [[*good, no_token, bad_score]])
    with connect(tmp_path / "w.duckdb") as con:
        result = load(con, raw_table(RESPONSES), landed)
        reasons = [r for (r,) in con.execute("select reason from raw._rejects order by line").fetchall()]
    assert (result.loaded, result.rejected, result.duplicates) == (3, 2, 0)
    assert "missing required field token" in reasons[0] and "csat_score" in reasons[1]
