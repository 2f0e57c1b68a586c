"""The Meta Marketing extractor against the fake: exactly the simulator's records, with and
without faults; clear failures for a bad token, a retired metric and an unknown account."""

from __future__ import annotations

import json
from datetime import date

import pytest

from extractors.http import AuthError, FatalError, RetryPolicy
from extractors.meta_marketing import DEFAULT_INSIGHTS_FIELDS, MetaMarketingClient
from sampleworld.fakes.meta_marketing import DEFAULT_TOKEN

FAST = RetryPolicy(max_attempts=8, backoff_initial_s=0.001, backoff_max_s=0.01)


def simulator_rows(app, day: date, account: str) -> list[dict]:
    """The simulator's rows as the fake serves them now (recent conversions are provisional)."""
    return [r for r in app.current_rows() if r["date_start"] == day.isoformat() and r["account_id"] == account]


def accounts(world) -> list[str]:
    return [a["account_id"] for a in json.loads((world / "meta_ads" / "accounts.json").read_text())]


def client(url, token=DEFAULT_TOKEN, **kw):
    return MetaMarketingClient(url, token, page_size=5, poll_initial_s=0.001, retry=FAST, **kw)


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
                got[r["ad_id"]] = r   # a page served twice repeats records: one per key
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
        return sorted((r["ad_id"], a["value"]) for page in c.insights_pages(account, day) for r in page
                      for a in r.get("action_values", []))
    first = conversion_values(recent)
    assert first and conversion_values(recent) == first   # the same epoch serves the same numbers
    meta_fake.app.restate()
    assert conversion_values(recent) != first              # a later pull sees revised conversions
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
        MetaMarketingClient("http://127.0.0.1:9", "")


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
    from sampleworld.fakes.meta_marketing import MetaMarketingApp
    with FakeServer(MetaMarketingApp(world, max_page_rows=4)) as srv:
        c = MetaMarketingClient(srv.url, DEFAULT_TOKEN, page_size=10, poll_initial_s=0.001, retry=FAST)
        got = [r for page in c.insights_pages(accounts(world)[0], date(2026, 6, 2)) for r in page]
        limits = srv.app.limits_seen
    assert got == [r for r in srv.app.current_rows() if r["date_start"] == "2026-06-02" and r["account_id"] == accounts(world)[0]]
    assert limits[:3] == [10, 5, 2] and set(limits[2:]) == {2} and c.stats.retries == 0


def test_a_range_of_days_is_one_report_per_account_and_month(meta_fake, world):
    """Ad insights are `range_read`: a backfill asks for one async report per account and run
    of up to `range_days` consecutive days (time_increment=1) and gets, day by day, exactly
    the rows of the one-day reports, with far fewer reports started and polled."""
    from datetime import timedelta

    from extractors.meta_marketing import ADS_INSIGHTS
    days = [date(2026, 6, 1) + timedelta(days=i) for i in range(5)] + [date(2026, 6, 7)]
    c = client(meta_fake.url, range_days=4, account_ids=accounts(world))
    got: dict[date, list[dict]] = {}
    for day, rows in c.pages_for_days(ADS_INSIGHTS, days):
        got.setdefault(day, []).extend(rows)
    assert sorted(got) == days
    for day in days:
        want = [r for a in accounts(world) for r in simulator_rows(meta_fake.app, day, a)]
        assert sorted(got[day], key=lambda r: (r["account_id"], r["ad_id"])) == \
            sorted(want, key=lambda r: (r["account_id"], r["ad_id"])), day
    # 6-1..6-4, 6-5, 6-7: three reports an account instead of six
    one_day = client(meta_fake.url, account_ids=accounts(world))
    for day in days:
        list(one_day.pages(ADS_INSIGHTS, day))
    reports = lambda cl: (cl.stats.requests - cl.stats.pages) // 4   # noqa: E731  (a POST and 3 polls each)
    assert (reports(c), reports(one_day)) == (3 * len(accounts(world)), 6 * len(accounts(world)))
    with pytest.raises(ValueError, match="one day at a time"):
        from extractors.meta_marketing import AD_ACCOUNTS
        next(c.pages_for_days(AD_ACCOUNTS, days))


def test_consecutive_runs_split_at_gaps_and_length():
    from extractors.meta_marketing import consecutive_runs
    d = [date(2026, 6, i) for i in (1, 2, 3, 4, 5, 9, 10, 30)]
    assert list(consecutive_runs(d, 3)) == [(d[0], d[2]), (d[3], d[4]), (d[5], d[6]), (d[7], d[7])]
    assert list(consecutive_runs([], 3)) == []
