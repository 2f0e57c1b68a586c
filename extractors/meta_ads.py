"""Meta Marketing API (the `meta_ads` source): ad insights through the asynchronous report flow.

One report run per ad account and day (as Airbyte does: a day is the unit of restatement),
POSTed to `/act_{id}/insights`, polled on `/{report_run_id}` until `Job Completed`, then
read from `/{report_run_id}/insights` with cursor paging. Numbers arrive as strings and stay
strings here: typing them is the warehouse's job, where a bad value can be seen and kept.

Only `async_status == "Job Completed"` means done (`async_percent_completion` reads 100
while a job still runs). A run that ends `Job Failed` or `Job Skipped` (or outlives
`job_timeout_s`) is started again with a new POST, `report_attempts` times in all; then the
read fails with a FatalError naming the account, the time range, the last report_run_id and
its final status. Token errors (code 190 and friends) come on HTTP 400, not 401: they are
recognised by their code and name META_ACCESS_TOKEN.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date

import requests

from extractors.client import SourceClient, group_by_day
from extractors.http import (
    ApiError,
    AuthError,
    CursorPaginator,
    FatalError,
    PageTooLarge,
    RetryableError,
    RetryPolicy,
    retry_after_seconds,
)
from extractors.streams import Stream

log = logging.getLogger(__name__)

SOURCE = "meta_ads"
API_VERSION = "v23.0"

# What we ask for. Metric names are configuration: a retired one fails the whole request
# with code 100, and the error names this list so the fix is a config change, not code.
DEFAULT_INSIGHTS_FIELDS: tuple[str, ...] = (
    "account_id",
    "account_currency",
    "campaign_id",
    "campaign_name",
    "adset_id",
    "ad_id",
    "date_start",
    "date_stop",
    "spend",
    "impressions",
    "clicks",
    "actions",
    "action_values",
)
# 7d_view and 28d_view stopped being returned on 12 Jan 2026.
DEFAULT_ATTRIBUTION_WINDOWS: tuple[str, ...] = ("1d_click", "7d_click", "28d_click", "1d_view")

ADS_INSIGHTS = Stream(
    SOURCE,
    "ads_insights",
    primary_key=("date_start", "account_id", "ad_id"),
    cursor_field="date_start",
    restatement_days=28,
    disposition="replace_partition",
    range_read=True,
    # rows are read from a completed report run (see `MetaAdsClient.completed_run`)
    path="{version}/{report_run_id}/insights",
    paginator=CursorPaginator,
    per="accounts",
    setting="insights_fields",
    reader="insights",
    columns={
        "account_id": "VARCHAR",
        "account_currency": "VARCHAR",
        "campaign_id": "VARCHAR",
        "campaign_name": "VARCHAR",
        "adset_id": "VARCHAR",
        "ad_id": "VARCHAR",
        "date_start": "DATE",
        "date_stop": "DATE",
        "spend": "VARCHAR",
        "impressions": "VARCHAR",
        "clicks": "VARCHAR",
        "actions": "JSON",
        "action_values": "JSON",
    },
    description="Meta ad insights per ad account, ad and day (level=ad, time_increment=1), as the API sent them.",
)
AD_ACCOUNTS = Stream(
    SOURCE,
    "ad_accounts",
    primary_key=("account_id",),
    disposition="merge",
    path="{version}/act_{id}",
    params={"fields": "account_id,name,currency,timezone_name"},
    per="accounts",
    reader="nodes",
    columns={"account_id": "VARCHAR", "name": "VARCHAR", "currency": "VARCHAR", "timezone_name": "VARCHAR"},
    description="Meta ad accounts with their currency and time zone.",
)
STREAMS = (ADS_INSIGHTS, AD_ACCOUNTS)

# Error codes Meta documents as throttling or transient (Airbyte retries the same set).
_RETRYABLE_CODES = {1, 2, 4, 17, 32, 341, 613, 2601, *range(80000, 80009)}
_RETRYABLE_SUBCODES = {99, 960, 1487742, 1815107}
# Token errors. Meta sends them on HTTP 400 (not 401), so only the code tells them apart:
# 190 invalid or expired token, 102 API session, 104 no token.
TOKEN_ERROR_CODES = frozenset({102, 104, 190})
# What code 190's subcodes mean (Meta's error-handling guide).
_TOKEN_SUBCODES = {
    458: "the app is no longer authorised by the user",
    459: "the user must log in to pass a checkpoint",
    460: "the password changed",
    463: "the token has expired",
    464: "the user is not confirmed",
    467: "the token is no longer valid (logged out or revoked)",
}
TOKEN_VAR = "META_ACCESS_TOKEN"


def token_error(err: dict, message: str, *, source: str = SOURCE, token_var: str = TOKEN_VAR, **kw) -> AuthError | None:
    """The AuthError for a Graph API token error body (whatever its HTTP status), or None.
    Shared by every Meta client: only the source and the setting it names differ."""
    if err.get("code") not in TOKEN_ERROR_CODES:
        return None
    why = _TOKEN_SUBCODES.get(err.get("error_subcode"))
    return AuthError(
        source,
        f"{message}. The access token is invalid or expired{f' ({why})' if why else ''}: "
        f"set a valid token in {token_var} (user tokens lapse after 60 days unused or when the "
        "password changes)",
        **kw,
    )


def classify_meta_error(
    resp: requests.Response, url: str, *, source: str = SOURCE, token_var: str = TOKEN_VAR
) -> ApiError | None:
    """Turn a Graph API error body into a retryable or fatal error with an actionable message."""
    try:
        err = resp.json().get("error") or {}
    except ValueError:
        return None  # not a Graph error body (a proxy's 502 page, say): the core decides
    code, subcode = err.get("code"), err.get("error_subcode")
    message = err.get("message", resp.reason)
    kw = dict(status=resp.status_code, code=code, url=url, retry_after=retry_after_seconds(resp))
    auth = token_error(err, message, source=source, token_var=token_var, **kw)
    if auth is not None:
        return auth
    if code == 1 and "reduce the amount of data" in message:
        return PageTooLarge(source, message, **kw)
    if code == 100 and ("metric" in message or "fields" in message):
        return FatalError(
            source,
            f"{message}. A requested field or metric is not accepted by "
            "the API (retired or misspelt): change `insights_fields` in the "
            "meta_ads resource configuration",
            **kw,
        )
    if (
        code in _RETRYABLE_CODES
        or subcode in _RETRYABLE_SUBCODES
        or err.get("is_transient")
        or resp.status_code >= 500
        or resp.status_code == 429
    ):
        return RetryableError(source, message, **kw)
    return FatalError(source, message, **kw)


def read_meta_throttle(resp: requests.Response, *, threshold_pct: float = 95.0) -> float:
    """Seconds to pause before the next call, from Meta's usage headers.

    `x-ad-account-usage` gives `acc_id_util_pct` and `reset_time_duration` (seconds);
    `x-business-use-case-usage` gives `estimated_time_to_regain_access` (minutes);
    `x-fb-ads-insights-throttle` gives `app_id_util_pct` and `acc_id_util_pct`.
    """
    pause = 0.0
    try:
        acct = json.loads(resp.headers.get("x-ad-account-usage") or "{}")
        if float(acct.get("acc_id_util_pct", 0)) >= threshold_pct:
            pause = max(pause, float(acct.get("reset_time_duration", 0)) or 60.0)
        buc = json.loads(resp.headers.get("x-business-use-case-usage") or "{}")
        for entries in buc.values():
            for entry in entries:
                pause = max(pause, 60.0 * float(entry.get("estimated_time_to_regain_access", 0)))
                if max(float(entry.get(k, 0)) for k in ("call_count", "total_cputime", "total_time")) >= threshold_pct:
                    pause = max(pause, 60.0)
        ins = json.loads(resp.headers.get("x-fb-ads-insights-throttle") or "{}")
        if max(float(ins.get("app_id_util_pct", 0)), float(ins.get("acc_id_util_pct", 0))) >= threshold_pct:
            pause = max(pause, 60.0)
    except (ValueError, TypeError, AttributeError):
        log.warning("[%s] could not read usage headers; not pausing", SOURCE)
    return pause


def consecutive_runs(days: Sequence[date], longest: int) -> Iterator[tuple[date, date]]:
    """(first, last) of each run of consecutive days, split at `longest` days."""
    first = prev = None
    for d in days:
        if first is not None and (d - prev).days == 1 and (d - first).days < longest:
            prev = d
            continue
        if first is not None:
            yield first, prev
        first = prev = d
    if first is not None:
        yield first, prev


# AdReportRun.async_status as Meta documents it. Only "Job Completed" means the rows can be read.
JOB_STATES = ("Job Not Started", "Job Started", "Job Running", "Job Completed", "Job Failed", "Job Skipped")
JOB_ENDED = ("Job Failed", "Job Skipped")  # over without rows: start the report again


@dataclass
class ReportRun:
    report_run_id: str
    account_id: str
    day: date  # the first day of the report's range
    last: date | None = None
    polls: int = 0
    state: str | None = None  # the last async_status seen

    @property
    def time_range(self) -> str:
        return f"{self.day}..{self.last or self.day}"


class ReportRunEnded(RetryableError):
    """A report run that ended without rows (`Job Failed`, `Job Skipped`) or outlived the
    job timeout: a new run of the same report may succeed."""

    def __init__(self, run: ReportRun, message: str):
        self.run = run
        super().__init__(SOURCE, message)


class MetaAdsClient(SourceClient):
    """A client for ad insights. Base URL and token come from the caller (the environment)."""

    SOURCE = SOURCE
    IDS = {"accounts": ("account_ids", "ad accounts", "META_AD_ACCOUNT_IDS")}

    def __init__(
        self,
        base_url: str,
        access_token: str,
        *,
        account_ids: Sequence[str] = (),
        api_version: str = API_VERSION,
        insights_fields: Sequence[str] = DEFAULT_INSIGHTS_FIELDS,
        attribution_windows: Sequence[str] = DEFAULT_ATTRIBUTION_WINDOWS,
        page_size: int = 500,
        poll_initial_s: float = 0.05,
        poll_max_s: float = 10.0,
        job_timeout_s: float = 3600.0,
        range_days: int = 31,
        report_attempts: int = 3,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if not access_token:
            raise AuthError(SOURCE, f"no access token: set {TOKEN_VAR}")
        if report_attempts < 1:
            raise ValueError(f"{SOURCE}: report_attempts must be at least 1, not {report_attempts}")
        super().__init__(STREAMS)
        self.account_ids = [a.removeprefix("act_") for a in account_ids]
        self.version = api_version
        self.fields = tuple(insights_fields)
        # Rows without their key cannot be loaded: a list that leaves a key field out would
        # have every row rejected while the run succeeds.
        missing = [f for f in ADS_INSIGHTS.primary_key if f not in self.fields]
        if missing:
            raise FatalError(
                SOURCE,
                f"`insights_fields` must ask for {missing}: ad insights rows are keyed on "
                f"them (set them back in the meta_ads resource configuration)",
            )
        self.windows = tuple(attribution_windows)
        self.page_size = page_size
        self.poll_initial_s, self.poll_max_s, self.job_timeout_s = poll_initial_s, poll_max_s, job_timeout_s
        # Days per report in a range read: Meta's async jobs fail ("Job Failed") or time out
        # when a report grows too large; a month of ad-level days is well within what they serve.
        self.range_days = range_days
        # Runs of one report (the first and its restarts) before a failed or skipped job is final.
        self.report_attempts = report_attempts
        self._sleep = sleep
        self.http = self.http_core(
            base_url,
            headers={"Authorization": f"Bearer {access_token}"},
            secrets=(access_token,),
            retry=retry,
            classify_error=classify_meta_error,
            read_throttle=read_meta_throttle,
            sleep=sleep,
        )

    @staticmethod
    def _act(account_id: str) -> str:
        return account_id if account_id.startswith("act_") else f"act_{account_id}"

    def read_insights(self, stream: Stream, day: date) -> Iterator[list[dict]]:
        """The ad-level insight rows of `day` for every configured ad account."""
        for account in self.ids(stream):
            yield from self.insights_pages(account, day)

    def range_insights(self, stream: Stream, days: Sequence[date]) -> Iterator[tuple[date, list[dict]]]:
        """(day, rows) for each of `days`: one async report per account and run of up to
        `range_days` consecutive days (time_increment=1 gives a row per ad and day), instead
        of a report, its polls and its pages for every day. A row whose `date_start` is not
        one of `days` (a date the report should not hold) is landed with the range's last
        day rather than dropped."""
        wanted = {d.isoformat(): d for d in days}
        for first, last in consecutive_runs(sorted(wanted.values()), self.range_days):
            for account in self.ids(stream):
                for page in self.insights_pages(account, first, last):
                    yield from group_by_day(page, lambda row, last=last: wanted.get(str(row.get("date_start")), last))

    def account(self, account_id: str) -> dict:
        """The ad account's currency and time zone: every row is stored with them."""
        accounts = self.stream(AD_ACCOUNTS.name)
        return self.http.get_json(self.path(accounts, id=account_id.removeprefix("act_")), params=accounts.params)

    def start_report(self, account_id: str, day: date, last: date | None = None) -> ReportRun:
        """An async report of `day` (to `last`, one row per ad and day: time_increment=1)."""
        last = last or day
        params = {
            "level": "ad",
            "time_increment": "1",
            "time_range": json.dumps({"since": day.isoformat(), "until": last.isoformat()}),
            "fields": ",".join(self.fields),
            "action_breakdowns": json.dumps(["action_type"]),
            "action_attribution_windows": json.dumps(list(self.windows)),
        }
        body = self.http.request_json("POST", f"{self.version}/{self._act(account_id)}/insights", data=params)
        run_id = body.get("report_run_id")
        if not run_id:
            raise FatalError(SOURCE, f"report start returned no report_run_id: {str(body)[:200]}")
        return ReportRun(str(run_id), account_id, day, last)

    def wait_for(self, run: ReportRun) -> dict:
        """Poll until the job completes. `async_percent_completion` can read 100 while the job
        is still running, so only `async_status == "Job Completed"` counts. A job that ends
        `Job Failed` or `Job Skipped`, or runs past `job_timeout_s`, raises ReportRunEnded."""
        delay, started = self.poll_initial_s, time.monotonic()
        while True:
            status = self.http.get_json(f"{self.version}/{run.report_run_id}")
            run.polls += 1
            state = run.state = status.get("async_status")
            if state == "Job Completed":
                return status
            if state in JOB_ENDED:
                raise ReportRunEnded(
                    run,
                    f"report run {run.report_run_id} for {self._act(run.account_id)}, "
                    f"time range {run.time_range}, ended {state!r}",
                )
            if state not in JOB_STATES:
                log.warning(
                    "[%s] report run %s: unknown async_status %r; waiting for 'Job Completed'",
                    SOURCE,
                    run.report_run_id,
                    state,
                )
            if time.monotonic() - started > self.job_timeout_s:
                raise ReportRunEnded(
                    run,
                    f"report run {run.report_run_id} for {self._act(run.account_id)}, "
                    f"time range {run.time_range}, still {state!r} after "
                    f"{self.job_timeout_s:.0f}s (job_timeout_s)",
                )
            self._sleep(delay)
            delay = min(delay * 2, self.poll_max_s)

    def completed_run(self, account_id: str, day: date, last: date | None = None) -> ReportRun:
        """A completed report run of `day` (to `last`). A run that ends without rows is
        started again (a new POST), `report_attempts` runs in all; then a FatalError names the
        account, the time range, the last report_run_id and its final status."""
        ended: list[ReportRunEnded] = []
        for attempt in range(1, self.report_attempts + 1):
            run = self.start_report(account_id, day, last)
            try:
                self.wait_for(run)
                return run
            except ReportRunEnded as exc:
                ended.append(exc)
                if attempt < self.report_attempts:
                    log.warning("%s; starting the report again (run %d of %d)", exc, attempt + 1, self.report_attempts)
        final = ended[-1].run
        earlier = ", ".join(f"{e.run.report_run_id} {e.run.state!r}" for e in ended[:-1])
        raise FatalError(
            SOURCE,
            f"ad insights of {self._act(account_id)} for time range {final.time_range}: "
            f"no report run completed in {len(ended)} (report_attempts={self.report_attempts}); "
            f"the last, report_run_id {final.report_run_id}, has final status {final.state!r}"
            f"{' (job_timeout_s passed)' if final.state not in JOB_ENDED else ''}"
            f"{'; earlier runs: ' + earlier if earlier else ''}. Meta could not build the report: "
            "try again later, or ask for fewer days per report (range_days)",
        )

    def insights_pages(self, account_id: str, day: date, last: date | None = None) -> Iterator[list[dict]]:
        """Each page of ad-level insight rows for one account and day (or days `day`..`last`),
        as the API sent them, from a completed report run (see `completed_run`)."""
        run = self.completed_run(account_id, day, last)
        yield from self.walk(
            self.stream(ADS_INSIGHTS.name), report_run_id=run.report_run_id, params={"limit": str(self.page_size)}
        )
