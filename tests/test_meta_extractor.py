"""The Meta Marketing extractor against the fake: exactly the simulator's records, with and
without faults; clear failures for a bad token (code 190 on HTTP 400, as Meta sends it), a
retired metric and an unknown account; report runs that end `Job Failed` or `Job Skipped`
started again a bounded number of times, then a clear failure."""

from __future__ import annotations

import json
from datetime import date

import pytest
from fake_client import canned_response

from extractors.http import AuthError, FatalError, RetryPolicy
from extractors.meta_ads import ADS_INSIGHTS, DEFAULT_INSIGHTS_FIELDS, MetaAdsClient, classify_meta_error
from sampleworld.fakes.base import FakeServer
from sampleworld.fakes.meta_ads import DEFAULT_TOKEN, MetaAdsApp

FAST = RetryPolicy(max_attempts=8, backoff_initial_s=0.001, backoff_max_s=0.01)


def simulator_rows(app, day: date, account: str) -> list[dict]:
    """The simulator's rows as the fake serves them now (recent conversions are provisional)."""
    return [r for r in app.current_rows() if r["date_start"] == day.isoformat() and r["account_id"] == account]


def accounts(world) -> list[str]:
    return [a["account_id"] for a in json.loads((world / "meta_ads" / "accounts.json").read_text())]


def client(url, token=DEFAULT_TOKEN, **kw):
    return MetaAdsClient(url, token, page_size=5, poll_initial_s=0.001, retry=FAST, **kw)


@pytest.mark.parametrize("fake", ["meta_fake", "meta_fake_faulty"])
def test_every_row_exactly_once(request, fake, world):
    srv = request.getfixturevalue(fake)
    c = client(srv.url)
    day = date(2026, 6, 3)
    for account in accounts(world):
        got = {}
        for page in c.insights_pages(account, day):
            for r in page:
                r.pop("x_fake_new_field", None)
                got[r["ad_id"]] = r  # a page served twice repeats records: one per key
        assert list(got.values()) == simulator_rows(srv.app, day, account)
        assert len(got) > 5  # more than one page
    if fake == "meta_fake_faulty":
        assert srv.faults_injected > 0 and c.stats.retries >= srv.faults_injected - 1
        assert c.stats.pages > len(accounts(world)) * 4  # some pages were served twice and asked again


def test_polls_until_completed_not_until_100_percent(meta_fake, meta_app):
    c = client(meta_fake.url)
    run = c.start_report(accounts_of(meta_app)[0], date(2026, 6, 2))
    status = c.wait_for(run)
    assert status["async_status"] == "Job Completed"
    assert run.polls == 3  # Not Started, Running at 100 %, Completed


def accounts_of(app):
    return sorted(app.accounts)


def test_account_has_currency_and_timezone(meta_fake, world):
    acc = client(meta_fake.url).account(accounts(world)[0])
    assert acc["currency"] == "EUR" and acc["timezone_name"] == "Europe/Berlin"


def test_restatement_moves_recent_conversions_only(meta_fake, world):
    c = client(meta_fake.url)
    account = accounts(world)[0]
    recent = date(2026, 6, 7)

    def conversion_values(day):
        return sorted(
            (r["ad_id"], a["value"])
            for page in c.insights_pages(account, day)
            for r in page
            for a in r.get("action_values", [])
        )

    first = conversion_values(recent)
    assert first and conversion_values(recent) == first  # the same epoch serves the same numbers
    meta_fake.app.restate()
    assert conversion_values(recent) != first  # a later pull sees revised conversions
    # Seen from two months later, every day of this world is older than 28 days: frozen at
    # the generator's final values whatever the epoch.
    meta_fake.app.as_of = date(2026, 8, 1)
    final = [r for rows in meta_fake.app.rows.values() for r in rows]
    assert sorted(map(json.dumps, meta_fake.app.current_rows())) == sorted(map(json.dumps, final))


def test_bad_token(meta_fake, world):
    with pytest.raises(AuthError, match="META_ACCESS_TOKEN"):
        client(meta_fake.url, token="wrong").account(accounts(world)[0])


def test_missing_token_fails_before_any_call():
    with pytest.raises(AuthError, match="META_ACCESS_TOKEN"):
        MetaAdsClient("http://127.0.0.1:9", "")


def test_retired_metric_fails_naming_it_and_the_setting(meta_fake, world):
    c = client(meta_fake.url, insights_fields=[*DEFAULT_INSIGHTS_FIELDS, "post_impressions"])
    with pytest.raises(FatalError) as exc:
        list(c.insights_pages(accounts(world)[0], date(2026, 6, 1)))
    assert "post_impressions" in str(exc.value) and "insights_fields" in str(exc.value)


def test_unknown_account_is_fatal(meta_fake):
    with pytest.raises(FatalError, match="act_999"):
        list(client(meta_fake.url).insights_pages("999", date(2026, 6, 1)))


def test_day_outside_the_world_is_empty_not_an_error(meta_fake, world):
    pages = list(client(meta_fake.url).insights_pages(accounts(world)[0], date(2025, 1, 1)))
    assert pages == [[]]


def test_too_large_pages_are_halved_until_accepted(world):
    from sampleworld.fakes.base import FakeServer
    from sampleworld.fakes.meta_ads import MetaAdsApp

    with FakeServer(MetaAdsApp(world, max_page_rows=4)) as srv:
        c = MetaAdsClient(srv.url, DEFAULT_TOKEN, page_size=10, poll_initial_s=0.001, retry=FAST)
        got = [r for page in c.insights_pages(accounts(world)[0], date(2026, 6, 2)) for r in page]
        limits = srv.app.limits_seen
    assert got == [
        r for r in srv.app.current_rows() if r["date_start"] == "2026-06-02" and r["account_id"] == accounts(world)[0]
    ]
    assert limits[:3] == [10, 5, 2] and set(limits[2:]) == {2} and c.stats.retries == 0


def test_a_range_of_days_is_one_report_per_account_and_month(meta_fake, world):
    """Ad insights are `range_read`: a backfill asks for one async report per account and run
    of up to `range_days` consecutive days (time_increment=1) and gets, day by day, exactly
    the rows of the one-day reports, with far fewer reports started and polled."""
    from datetime import timedelta

    from extractors.meta_ads import ADS_INSIGHTS

    days = [date(2026, 6, 1) + timedelta(days=i) for i in range(5)] + [date(2026, 6, 7)]
    c = client(meta_fake.url, range_days=4, account_ids=accounts(world))
    got: dict[date, list[dict]] = {}
    for day, rows in c.pages_for_days(ADS_INSIGHTS, days):
        got.setdefault(day, []).extend(rows)
    assert sorted(got) == days
    for day in days:
        want = [r for a in accounts(world) for r in simulator_rows(meta_fake.app, day, a)]
        assert sorted(got[day], key=lambda r: (r["account_id"], r["ad_id"])) == sorted(
            want, key=lambda r: (r["account_id"], r["ad_id"])
        ), day
    # 6-1..6-4, 6-5, 6-7: three reports an account instead of six
    one_day = client(meta_fake.url, account_ids=accounts(world))
    for day in days:
        list(one_day.pages(ADS_INSIGHTS, day))
    reports = lambda cl: (cl.stats.requests - cl.stats.pages) // 4  # noqa: E731  (a POST and 3 polls each)
    assert (reports(c), reports(one_day)) == (3 * len(accounts(world)), 6 * len(accounts(world)))
    with pytest.raises(ValueError, match="one day at a time"):
        from extractors.meta_ads import AD_ACCOUNTS

        next(c.pages_for_days(AD_ACCOUNTS, days))


def test_consecutive_runs_split_at_gaps_and_length():
    from extractors.meta_ads import consecutive_runs

    d = [date(2026, 6, i) for i in (1, 2, 3, 4, 5, 9, 10, 30)]
    assert list(consecutive_runs(d, 3)) == [(d[0], d[2]), (d[3], d[4]), (d[5], d[6]), (d[7], d[7])]
    assert list(consecutive_runs([], 3)) == []


# -- token errors come on HTTP 400 --------------------------------------------------------------


@pytest.mark.parametrize(
    "token, subcode, why", [("wrong-token-123", None, None), ("EXPIRED-token-123", 463, "the token has expired")]
)
def test_a_refused_token_on_http_400_is_a_fatal_auth_error_naming_the_setting(meta_fake, world, token, subcode, why):
    """Meta sends code 190 on HTTP 400, not 401: the client knows it by its code, fails at
    once (no retry), says the token is invalid or expired and names META_ACCESS_TOKEN."""
    c = client(meta_fake.url, token=token)
    with pytest.raises(AuthError) as exc:
        c.account(accounts(world)[0])
    err = exc.value
    assert (err.status, err.code, err.retryable) == (400, 190, False)
    assert "invalid or expired" in str(err) and "META_ACCESS_TOKEN" in str(err)
    assert (why or "Cannot parse access token") in str(err)
    assert token not in str(err) and c.stats.requests == 1 and c.stats.retries == 0


def test_token_error_bodies_are_classified_by_code_whatever_the_status():
    """Meta's documented 190 body (subcode 460, password changed) on HTTP 400: an AuthError
    naming the setting and what the subcode means; code 104 (no token) likewise."""
    body = {
        "error": {
            "message": "Message describing the error",
            "type": "OAuthException",
            "code": 190,
            "error_subcode": 460,
            "error_user_title": "A title",
            "error_user_msg": "A message",
            "fbtrace_id": "EJplcsCHuLu",
        }
    }
    err = classify_meta_error(canned_response(400, json.dumps(body).encode()), "https://graph.facebook.com/x")
    assert type(err) is AuthError and err.status == 400
    assert str(err).startswith(
        "[meta_ads] HTTP 400, code 190: Message describing the error. The access token is "
        "invalid or expired (the password changed): set a valid token in META_ACCESS_TOKEN"
    )
    no_token = {
        "error": {
            "message": "An access token is required to request this resource.",
            "type": "OAuthException",
            "code": 104,
            "fbtrace_id": "x",
        }
    }
    err = classify_meta_error(canned_response(400, json.dumps(no_token).encode()), "u")
    assert type(err) is AuthError and "META_ACCESS_TOKEN" in str(err)


# -- report runs that end Job Failed or Job Skipped ---------------------------------------------


def report_posts(srv) -> int:
    return srv.app.calls[("POST", "account", True)]


@pytest.mark.parametrize("fail_runs, skip_runs", [(1, 0), (0, 1), (1, 1)])
def test_a_failed_or_skipped_run_is_started_again_and_gives_exactly_the_rows(world, caplog, fail_runs, skip_runs):
    day, account = date(2026, 6, 2), accounts(world)[0]
    with FakeServer(MetaAdsApp(world, fail_runs=fail_runs, skip_runs=skip_runs)) as srv:
        c = client(srv.url)
        got = [r for page in c.insights_pages(account, day) for r in page]
        assert got == simulator_rows(srv.app, day, account) and len(got) > 5
        assert report_posts(srv) == fail_runs + skip_runs + 1  # one new POST per run that ended without rows
    ended = {"Job Failed"} if fail_runs else set()
    ended |= {"Job Skipped"} if skip_runs else set()
    assert {s for s in ("Job Failed", "Job Skipped") if s in caplog.text} == ended
    assert "starting the report again" in caplog.text


@pytest.mark.parametrize(
    "app_kw, status, attempts", [({"fail_runs": 9}, "Job Failed", None), ({"skip_runs": 9}, "Job Skipped", 2)]
)
def test_a_report_that_never_completes_fails_clearly_after_report_attempts(world, app_kw, status, attempts):
    """Bounded: `report_attempts` runs (3 unless set), then a FatalError (not a retryable
    one: the caller must see it) that names the account, the time range, the last
    report_run_id and its final status."""
    account = accounts(world)[0]
    kw = {"report_attempts": attempts} if attempts else {}
    with FakeServer(MetaAdsApp(world, **app_kw)) as srv:
        c = client(srv.url, account_ids=[account], **kw)
        with pytest.raises(FatalError) as exc:
            list(c.pages_for_days(ADS_INSIGHTS, [date(2026, 6, 2), date(2026, 6, 3)]))
        runs = sorted(srv.app._jobs)
    attempts = attempts or 3
    msg, err = str(exc.value), exc.value
    assert len(runs) == attempts and report_posts(srv) == attempts
    assert type(err) is FatalError and not err.retryable
    assert f"act_{account}" in msg and "2026-06-02..2026-06-03" in msg
    assert f"report_run_id {runs[-1]}" in msg and f"final status {status!r}" in msg
    assert f"earlier runs: {', '.join(f'{r} {status!r}' for r in runs[:-1])}" in msg
    assert f"report_attempts={attempts}" in msg


def test_report_attempts_must_allow_one_run():
    with pytest.raises(ValueError, match="report_attempts"):
        MetaAdsClient("http://127.0.0.1:9", DEFAULT_TOKEN, report_attempts=0)
