"""GA4 Data API v1beta: one `runReport` per property and day, paged by offset.

What a row looks like is configuration: the dimensions and metrics asked for are constructor
arguments (defaulting to the module constants below), and a metric GA4 no longer accepts
(`conversions`, renamed `keyEvents` in 2024) fails naming the metric and the setting to change.
The report's declaration is built from them (`report_stream`): its request asks for exactly
the declared dimensions and metrics, and its raw table has a column for each, keyed on the
property, the day and every dimension, so a report configured with other dimensions loads
every row. A response whose headers are not the ones asked for fails the read rather than
landing rows no column or key fits. Another report is another `report_stream` in `STREAMS`
(the settings configure `analytics_report`; a further report's dimensions are its declaration's).

A partition is a day in the property's time zone (GA4 reports dates there, and
`metadata.timeZone` is kept with every row).

Paging follows Airbyte: `offset` advances by the page size while `offset < rowCount`. A page
served twice repeats rows, so rows are deduplicated on their dimension values (the report's
key) within a property and day, and a page of nothing but repeated rows is asked for again at
the same offset rather than skipped past.

Quota: every request asks for `returnPropertyQuota`; the tokens left are logged and a warning
is written when an hourly or daily bucket runs low. A 429 RESOURCE_EXHAUSTED is backed off as
Airbyte's `api_quota.py` does: 30 s for concurrent requests, 1,800 s for the hourly project
and thresholded-request quotas; an exhausted daily quota is fatal (it returns tomorrow).

The one transformation before landing: GA4 rows are positional (`dimensionValues` /
`metricValues` in the order of `dimensionHeaders` / `metricHeaders`), so each row is flattened
to a dict keyed by the header names, with `property_id`, `currency_code` and `time_zone` from
the response (the property's currency and time zone travel with every row) and `report_date`,
the day the report was asked for (ISO; GA4's own `date` dimension is `YYYYMMDD`). Values stay
the strings GA4 sent; any other field of a row is kept as it came. A row whose positional
arrays do not match the headers cannot be flattened: it is landed as it came (plus the same
metadata), and the loader rejects it for the key fields it lacks.

What the report says about its own completeness travels with every row too:
`data_loss_from_other_row` (`metadata.dataLossFromOtherRow`: rows beyond GA4's row limit were
rolled into an `(other)` row) and `subject_to_thresholding` (`metadata.subjectToThresholding`:
rows under Google's privacy thresholds may be missing), both false when GA4 leaves them out
(proto3 JSON omits false; a relay that writes them as null means the same). The `(other)` row
itself is an ordinary row (its dimension values are `(other)`, its metrics the sum of the
rows rolled into it) and is landed like any other: dropping it would lose those sessions from
every total. A report with either flag set is logged as a warning naming the property and day.
Campaign labels such as `(organic)`, `(direct)`, `(referral)` and `(not set)` are values like
any other.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date

import requests

from extractors.client import SourceClient
from extractors.http import ApiError, AuthError, FatalError, RetryableError, RetryPolicy, retry_after_seconds
from extractors.streams import IDENTIFIER, Stream

log = logging.getLogger(__name__)

SOURCE = "ga4"
API_VERSION = "v1beta"
TOKEN_VAR = "GA4_TOKEN"
PROPERTIES_VAR = "GA4_PROPERTY_IDS"

DEFAULT_DIMENSIONS: tuple[str, ...] = (
    "date",
    "sessionSource",
    "sessionMedium",
    "sessionCampaignName",
    "landingPage",
    "sessionManualAdContent",
)
DEFAULT_METRICS: tuple[str, ...] = ("sessions", "engagedSessions", "keyEvents", "ecommercePurchases", "totalRevenue")
# Metrics GA4 renamed: named in the error so the fix is obvious.
RENAMED_METRICS = {"conversions": "keyEvents", "conversionRate": "sessionKeyEventRate"}

# Airbyte's api_quota.py: the 429 message names the quota; each has its own back-off.
QUOTA_BACKOFF_S: dict[str, float] = {
    "Exhausted concurrent requests quota": 30.0,
    "Exhausted property tokens for a project per hour": 1800.0,
    "Exhausted potentially thresholded requests quota": 1800.0,
    "per hour": 1800.0,
}
# Standard-property limits (GA4 docs, PropertyQuota): used to say how low a bucket runs.
QUOTA_LIMITS = {"tokensPerDay": 200_000, "tokensPerHour": 40_000, "tokensPerProjectPerHour": 14_000}
QUOTA_WARN_SHARE = 0.1  # Airbyte's "treshold": warn below 10 % of a bucket left

_DECIMAL = "DECIMAL(38,9)"  # metrics: GA4 sends integer, float and currency values as strings
# What the client adds to every row (the report's property, currency, time zone, day and flags).
REPORT_COLUMNS = {
    "property_id": "VARCHAR",
    "report_date": "DATE",
    "currency_code": "VARCHAR",
    "time_zone": "VARCHAR",
    "data_loss_from_other_row": "BOOLEAN",
    "subject_to_thresholding": "BOOLEAN",
}


def report_stream(
    dimensions: Sequence[str] = DEFAULT_DIMENSIONS,
    metrics: Sequence[str] = DEFAULT_METRICS,
    name: str = "analytics_report",
) -> Stream:
    """The dated stream of a runReport with these dimensions and metrics: keyed by the property,
    the day (GA4's `date` dimension when it is asked for, else the report's day: rows of several
    days loaded together must not share a key) and every dimension; one raw column per header
    (metrics typed as decimals: a value GA4 sent that is not a number is rejected by the loader,
    with its row). Names that are not one column each (empty, repeated, or one of the columns
    the client adds) fail naming the setting."""
    dimensions, metrics = tuple(dimensions), tuple(metrics)
    if not dimensions and not metrics:
        raise FatalError(
            SOURCE,
            f"the {name} report asks for no dimension and no metric: set `dimensions` and "
            "`metrics` in the ga4 resource configuration",
        )
    for setting, names in (("dimensions", dimensions), ("metrics", metrics)):
        # each becomes a raw column: a plain name only (issue 17: no quote, `;` or `--` reaches the SQL);
        # custom dimensions (`customEvent:x`) are not read yet
        if not all(isinstance(n, str) and IDENTIFIER.fullmatch(n) for n in names):
            raise FatalError(
                SOURCE,
                f"`{setting}` of the {name} report must be GA4 API names, each letters, digits and _ "
                f"(got {list(names)}): change it in the ga4 resource configuration",
            )
    clash = sorted({n for n in dimensions + metrics if (dimensions + metrics).count(n) > 1 or n in REPORT_COLUMNS})
    if clash:
        raise FatalError(
            SOURCE,
            f"the {name} report names {clash} more than once (or as a column the client adds: "
            f"{', '.join(REPORT_COLUMNS)}): each of `dimensions` and `metrics` in the ga4 resource "
            "configuration must be a distinct column",
        )
    return Stream(
        SOURCE,
        name,
        primary_key=("property_id", *(() if "date" in dimensions else ("report_date",)), *dimensions),
        columns={**REPORT_COLUMNS, **{d: "VARCHAR" for d in dimensions}, **{m: _DECIMAL for m in metrics}},
        cursor_field="report_date",
        restatement_days=3,
        disposition="replace_partition",
        path="{version}/properties/{id}:runReport",
        records_at="rows",
        per="properties",
        reader="report",
        params={"dimensions": dimensions, "metrics": metrics},
        description="GA4 runReport rows per property and day, flattened by header name ("
        + ", ".join(dimensions)
        + "; "
        + ", ".join(metrics)
        + "), in the property's currency and "
        "time zone, with the report's data-loss flags (rows rolled into `(other)`, thresholding).",
    )


ANALYTICS_REPORT = report_stream()
STREAMS = (ANALYTICS_REPORT,)


def _google_error(resp: requests.Response) -> dict | None:
    try:
        body = resp.json()
    except ValueError:
        return None
    err = body.get("error") if isinstance(body, dict) else None
    return err if isinstance(err, dict) else None


def classify_ga4_error(
    resp: requests.Response, url: str, *, quota_backoff_s: Mapping[str, float] = QUOTA_BACKOFF_S
) -> ApiError | None:
    """Google's `{"error":{"code","message","status"}}` as a retryable or fatal error."""
    err = _google_error(resp)
    if err is None:
        return None  # an HTML 502 page, say: the core decides on the status
    message = str(err.get("message") or resp.reason)
    status = err.get("status")
    kw = dict(status=resp.status_code, code=status, url=url, retry_after=retry_after_seconds(resp))
    if resp.status_code == 401 or status == "UNAUTHENTICATED":
        return AuthError(
            SOURCE, f"{message} The token was refused: set a valid OAuth access token in {TOKEN_VAR}", **kw
        )
    if resp.status_code == 403 or status == "PERMISSION_DENIED":
        return AuthError(
            SOURCE,
            f"{message} The identity behind {TOKEN_VAR} needs Viewer access on the "
            f"property (or the property id in {PROPERTIES_VAR} is wrong)",
            **kw,
        )
    if resp.status_code == 429 or status == "RESOURCE_EXHAUSTED":
        if "per day" in message:
            return FatalError(
                SOURCE,
                f"{message} The property's daily tokens are spent: run again tomorrow "
                "(or ask fewer dimensions/metrics per request)",
                **kw,
            )
        wait = next((s for pattern, s in quota_backoff_s.items() if pattern.lower() in message.lower()), None)
        if wait is not None:
            kw["retry_after"] = max(kw["retry_after"] or 0.0, wait)
        return RetryableError(SOURCE, message, **kw)
    if status == "INVALID_ARGUMENT" and "is not a valid metric" in message:
        bad = message.split("Field ", 1)[-1].split(" ", 1)[0] if "Field " in message else "?"
        hint = f" (renamed {RENAMED_METRICS[bad]!r})" if bad in RENAMED_METRICS else ""
        return FatalError(
            SOURCE,
            f"{message} GA4 does not accept the metric {bad!r}{hint}: change `metrics` "
            "in the ga4 resource configuration",
            **kw,
        )
    if status == "INVALID_ARGUMENT" and "is not a valid dimension" in message:
        return FatalError(SOURCE, f"{message} Change `dimensions` in the ga4 resource configuration", **kw)
    if resp.status_code >= 500 or status in ("UNAVAILABLE", "INTERNAL", "DEADLINE_EXCEEDED", "ABORTED"):
        return RetryableError(SOURCE, message, **kw)
    return FatalError(SOURCE, message, **kw)


def report_flags(body: dict) -> dict[str, bool]:
    """The report's data-loss flags as landed with each row: false when GA4 left them out."""
    meta = body.get("metadata") or {}
    return {
        "data_loss_from_other_row": meta.get("dataLossFromOtherRow") is True,
        "subject_to_thresholding": meta.get("subjectToThresholding") is True,
    }


def flatten_report(body: dict, property_id: str, day: date | None = None) -> list[dict]:
    """The rows of a runReport response as dicts keyed by the header names (see module docstring)."""
    dims = [h.get("name") for h in body.get("dimensionHeaders") or []]
    metrics = [h.get("name") for h in body.get("metricHeaders") or []]
    meta = body.get("metadata") or {}
    extra = {
        "property_id": str(property_id),
        "currency_code": meta.get("currencyCode"),
        "time_zone": meta.get("timeZone"),
        **report_flags(body),
    }
    if day is not None:
        extra["report_date"] = day.isoformat()
    out = []
    for row in body.get("rows") or []:
        dv = row.get("dimensionValues", [] if not dims else None)
        mv = row.get("metricValues", [] if not metrics else None)
        if not (
            isinstance(dv, list)
            and isinstance(mv, list)
            and len(dv) == len(dims)
            and len(mv) == len(metrics)
            and all(isinstance(v, dict) for v in dv + mv)
        ):
            log.warning(
                "[%s] a row of property %s does not match its headers; landed as sent (it will be rejected): %s",
                SOURCE,
                property_id,
                str(row)[:200],
            )
            out.append({**extra, **row})
            continue
        others = {k: v for k, v in row.items() if k not in ("dimensionValues", "metricValues")}
        out.append(
            {
                **extra,
                **others,
                **{n: v.get("value") for n, v in zip(dims, dv)},
                **{n: v.get("value") for n, v in zip(metrics, mv)},
            }
        )
    return out


class GA4Client(SourceClient):
    """runReport for every configured property. Base URL and token come from the caller. Its
    report stream is declared from its `dimensions` and `metrics` (see `report_stream`)."""

    SOURCE = SOURCE
    IDS = {"properties": ("property_ids", "GA4 properties", PROPERTIES_VAR)}
    version = API_VERSION

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        property_ids: Sequence[str] = (),
        dimensions: Sequence[str] = DEFAULT_DIMENSIONS,
        metrics: Sequence[str] = DEFAULT_METRICS,
        page_size: int = 100_000,
        quota_backoff_s: Mapping[str, float] = QUOTA_BACKOFF_S,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if not token:
            raise AuthError(SOURCE, f"no access token: set {TOKEN_VAR}")
        self.dimensions = tuple(dimensions)
        self.metrics = tuple(metrics)
        super().__init__(
            report_stream(self.dimensions, self.metrics, s.name) if s.name == ANALYTICS_REPORT.name else s
            for s in STREAMS
        )
        self.property_ids = [p.removeprefix("properties/") for p in property_ids]
        self.page_size = page_size
        self.quota: dict[str, dict] = {}
        backoff = dict(quota_backoff_s)
        self.http = self.http_core(
            base_url,
            headers={"Authorization": f"Bearer {token}"},
            secrets=(token,),
            retry=retry,
            sleep=sleep,
            classify_error=lambda r, u: classify_ga4_error(r, u, quota_backoff_s=backoff),
        )

    def read_report(self, stream: Stream, day: date) -> Iterator[list[dict]]:
        for prop in self.ids(stream):
            yield from self.report_pages(prop, day, stream)

    def request_body(self, day: date, offset: int, stream: Stream | None = None) -> dict:
        """The runReport body of a report stream (this client's own by default) for one day."""
        report = (stream or self.stream(ANALYTICS_REPORT.name)).params
        return {
            "dateRanges": [{"startDate": day.isoformat(), "endDate": day.isoformat()}],
            "dimensions": [{"name": d} for d in report["dimensions"]],
            "metrics": [{"name": m} for m in report["metrics"]],
            "limit": str(self.page_size),
            "offset": str(offset),
            "keepEmptyRows": False,
            "returnPropertyQuota": True,
        }

    def report_pages(self, property_id: str, day: date, stream: Stream | None = None) -> Iterator[list[dict]]:
        """Each page of one property's report for one day, flattened, without repeated rows.

        GA4 says nothing about which rows a page holds, so a page whose rows were all seen
        already (a page served twice) is asked for again at the same offset instead of moving
        on: moving on would skip the page that should have come.
        """
        stream = stream or self.stream(ANALYTICS_REPORT.name)
        dimensions = stream.params["dimensions"]
        seen: set[tuple] = set()
        offset, repeats, row_count = 0, 0, 0
        warned: set[str] = set()
        while True:
            body = self.http.request_json(
                "POST", self.path(stream, id=property_id), json=self.request_body(day, offset, stream)
            )
            self.stats.pages += 1
            self._check_headers(stream, property_id, day, body)
            self._note_quota(property_id, body.get("propertyQuota"))
            self._note_data_loss(property_id, day, body, warned)
            row_count = int(body.get("rowCount") or 0)
            page, fresh, rows = [], 0, 0
            for rec in flatten_report(body, property_id, day):
                if "dimensionValues" in rec or "metricValues" in rec:
                    page.append(rec)  # malformed: no key to dedupe on, the loader rejects it
                    continue
                rows += 1
                key = tuple(rec.get(d) for d in dimensions)
                if key in seen:
                    continue
                seen.add(key)
                fresh += 1
                page.append(rec)
            yield page
            if rows and not fresh:
                repeats += 1
                if repeats > 10:
                    raise RetryableError(
                        SOURCE,
                        f"property {property_id}, {day}: the page at offset {offset} keeps repeating rows already read",
                    )
                log.warning(
                    "[%s] property %s, %s: page at offset %d repeated rows already read; asking again",
                    SOURCE,
                    property_id,
                    day,
                    offset,
                )
                continue
            repeats = 0
            offset += self.page_size
            if offset >= row_count:
                break
        if len(seen) < row_count:
            log.warning(
                "[%s] property %s, %s: %d distinct rows read of the %d GA4 reported (the report "
                "changed while it was paged?)",
                SOURCE,
                property_id,
                day,
                len(seen),
                row_count,
            )

    @staticmethod
    def _check_headers(stream: Stream, property_id: str, day: date, body: dict) -> None:
        """The report's rows are named by its headers: headers other than the dimensions and
        metrics asked for would land rows that no column or key of the raw table fits (every
        one rejected while the run succeeds), so they fail the read instead."""
        if not body.get("rows"):
            return
        got = (
            [h.get("name") for h in body.get("dimensionHeaders") or []],
            [h.get("name") for h in body.get("metricHeaders") or []],
        )
        asked = (list(stream.params["dimensions"]), list(stream.params["metrics"]))
        if got != asked:
            raise FatalError(
                SOURCE,
                f"property {property_id}, {day}: the report answered dimensions {got[0]} and "
                f"metrics {got[1]}, not the {asked[0]} and {asked[1]} asked for and declared for "
                f"{stream.key}: its rows would not fit the raw table",
            )

    @staticmethod
    def _note_data_loss(property_id: str, day: date, body: dict, warned: set[str]) -> None:
        """Warn once per report (property and day) for each data-loss flag GA4 set on it."""
        flags = report_flags(body)
        if flags["data_loss_from_other_row"] and "other" not in warned:
            warned.add("other")
            log.warning(
                "[%s] property %s, %s: GA4 rolled rows beyond its row limit into an (other) row "
                "(metadata.dataLossFromOtherRow); the (other) row is loaded as sent, totals hold but "
                "those rows' dimension values are lost (ask fewer or coarser dimensions, or a shorter "
                "range, to avoid it)",
                SOURCE,
                property_id,
                day,
            )
        if flags["subject_to_thresholding"] and "thresholding" not in warned:
            warned.add("thresholding")
            log.warning(
                "[%s] property %s, %s: the report is subject to thresholding "
                "(metadata.subjectToThresholding); rows under Google's privacy thresholds may be missing "
                "(Google signals or demographic dimensions trigger it)",
                SOURCE,
                property_id,
                day,
            )

    def _note_quota(self, property_id: str, quota: dict | None) -> None:
        if not quota:
            return
        self.quota = quota
        left = {k: (v or {}).get("remaining", 0) for k, v in quota.items() if k in QUOTA_LIMITS}
        log.info(
            "[%s] property %s quota left: %s",
            SOURCE,
            property_id,
            ", ".join(f"{k}={v}" for k, v in sorted(left.items())),
        )
        for bucket, remaining in left.items():
            if remaining < QUOTA_WARN_SHARE * QUOTA_LIMITS[bucket]:
                log.warning(
                    "[%s] property %s has %s tokens left in %s (of %s): requests will soon be refused",
                    SOURCE,
                    property_id,
                    remaining,
                    bucket,
                    QUOTA_LIMITS[bucket],
                )
