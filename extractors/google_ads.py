"""Google Ads API (REST): ad group and account metrics by day, customers and campaigns (`searchStream`).

Every stream is one GAQL query per configured customer, POSTed to
`/{version}/customers/{cid}:googleAds:searchStream` with the headers `Authorization: Bearer`,
`developer-token` and `login-customer-id` (the manager, digits only). The answer is a JSON
array of batches (`results`, `fieldMask`, `requestId`; `queryResourceConsumption` in the
last); each batch's results are one page. There is no paging token: a body cut short in
transit (a `ChunkedEncodingError`, or JSON that ends early) is asked for again whole, which
for one customer and one day is small.

Results stay as the API sent them (proto3 JSON: camelCase, int64 as strings, zero metrics
left out, nested by resource); raw columns are read from their JSON paths. Metric dates are
in the customer's time zone, so every ad group row carries the customer's `currencyCode` and
`timeZone` (selected from `customer` in the same query).

The SELECT lists are configuration (`ad_group_fields`, `customer_daily_fields`, `customer_fields`,
`campaign_fields`):
a retired or misspelt field fails with `UNRECOGNIZED_FIELD`, and the error names the field
and the setting to change.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import date

import requests

from extractors.client import SourceClient
from extractors.http import ApiError, AuthError, FatalError, RetryableError, RetryPolicy, retry_after_seconds
from extractors.streams import Stream

log = logging.getLogger(__name__)

SOURCE = "google_ads"
PLATFORM = "Google Ads"
API_VERSION = "v23"

# What we ask for. Field names are configuration: change them in the google_ads resource.
DEFAULT_AD_GROUP_FIELDS: tuple[str, ...] = (
    "customer.id",
    "customer.currency_code",
    "customer.time_zone",
    "campaign.id",
    "campaign.name",
    "ad_group.id",
    "ad_group.name",
    "segments.date",
    "metrics.cost_micros",
    "metrics.impressions",
    "metrics.clicks",
    "metrics.conversions",
    "metrics.conversions_value",
)
DEFAULT_CUSTOMER_DAILY_FIELDS: tuple[str, ...] = (
    "customer.id",
    "customer.currency_code",
    "customer.time_zone",
    "segments.date",
    "metrics.cost_micros",
    "metrics.impressions",
    "metrics.clicks",
    "metrics.conversions",
    "metrics.conversions_value",
)
DEFAULT_CUSTOMER_FIELDS: tuple[str, ...] = (
    "customer.id",
    "customer.descriptive_name",
    "customer.currency_code",
    "customer.time_zone",
    "customer.status",
    "customer.manager",
)
DEFAULT_CAMPAIGN_FIELDS: tuple[str, ...] = (
    "customer.id",
    "campaign.id",
    "campaign.name",
    "campaign.status",
    "campaign.advertising_channel_type",
    "campaign.serving_status",
)

# Every stream is one GAQL query a customer: `params` name the resource it selects FROM and the
# fields its SELECT list (the setting named by `setting`) must hold for the stream's key.
SEARCH_STREAM = "{version}/customers/{id}/googleAds:searchStream"
_QUERY = dict(path=SEARCH_STREAM, records_at="results", per="customers", reader="search")

AD_GROUP_DAILY = Stream(
    SOURCE,
    "ad_group_daily",
    primary_key=("segments_date", "customer_id", "ad_group_id"),
    cursor_field="segments_date",
    restatement_days=14,
    disposition="replace_partition",
    setting="ad_group_fields",
    params={"from": "ad_group", "must_select": ("segments.date", "customer.id", "ad_group.id")},
    **_QUERY,
    columns={
        "segments_date": "DATE <- $.segments.date",
        "customer_id": "VARCHAR <- $.customer.id",
        "currency_code": "VARCHAR <- $.customer.currencyCode",
        "time_zone": "VARCHAR <- $.customer.timeZone",
        "campaign_id": "VARCHAR <- $.campaign.id",
        "campaign_name": "VARCHAR <- $.campaign.name",
        "ad_group_id": "VARCHAR <- $.adGroup.id",
        "ad_group_name": "VARCHAR <- $.adGroup.name",
        "cost_micros": "BIGINT <- $.metrics.costMicros",
        "impressions": "BIGINT <- $.metrics.impressions",
        "clicks": "BIGINT <- $.metrics.clicks",
        "conversions": "DOUBLE <- $.metrics.conversions",
        "conversions_value": "DOUBLE <- $.metrics.conversionsValue",
    },
    description="Google Ads metrics per customer, ad group and day (segments.date, in the customer's time "
    "zone), with the customer's currency and time zone; zero metrics are absent (proto3 JSON).",
)
CUSTOMER_DAILY = Stream(
    SOURCE,
    "customer_daily",
    primary_key=("segments_date", "customer"),
    cursor_field="segments_date",
    restatement_days=14,
    disposition="replace_partition",
    setting="customer_daily_fields",
    params={"from": "customer", "must_select": ("segments.date",)},
    **_QUERY,
    columns={
        "segments_date": "DATE <- $.segments.date",
        "customer": "VARCHAR <- $.customer.resourceName",
        "customer_id": "VARCHAR <- $.customer.id",
        "currency_code": "VARCHAR <- $.customer.currencyCode",
        "time_zone": "VARCHAR <- $.customer.timeZone",
        "cost_micros": "BIGINT <- $.metrics.costMicros",
        "impressions": "BIGINT <- $.metrics.impressions",
        "clicks": "BIGINT <- $.metrics.clicks",
        "conversions": "DOUBLE <- $.metrics.conversions",
        "conversions_value": "DOUBLE <- $.metrics.conversionsValue",
    },
    description="Google Ads account totals per customer and day (all campaigns, removed ones included), with "
    "the customer's currency and time zone: the reconciliation total for the ad group rows.",
)
CUSTOMERS = Stream(
    SOURCE,
    "customers",
    primary_key=("customer_id",),
    disposition="merge",
    setting="customer_fields",
    params={"from": "customer", "must_select": ("customer.id",)},
    **_QUERY,
    columns={
        "customer_id": "VARCHAR <- $.customer.id",
        "descriptive_name": "VARCHAR <- $.customer.descriptiveName",
        "currency_code": "VARCHAR <- $.customer.currencyCode",
        "time_zone": "VARCHAR <- $.customer.timeZone",
        "status": "VARCHAR <- $.customer.status",
        "manager": "BOOLEAN <- $.customer.manager",
    },
    description="Google Ads customers (accounts) with their currency and time zone.",
)
CAMPAIGNS = Stream(
    SOURCE,
    "campaigns",
    primary_key=("customer_id", "campaign_id"),
    disposition="merge",
    setting="campaign_fields",
    params={"from": "campaign", "must_select": ("customer.id", "campaign.id")},
    **_QUERY,
    columns={
        "customer_id": "VARCHAR <- $.customer.id",
        "campaign_id": "VARCHAR <- $.campaign.id",
        "name": "VARCHAR <- $.campaign.name",
        "status": "VARCHAR <- $.campaign.status",
        "advertising_channel_type": "VARCHAR <- $.campaign.advertisingChannelType",
        "serving_status": "VARCHAR <- $.campaign.servingStatus",
    },
    description="Google Ads campaigns with their names (mapped to UTM campaigns downstream).",
)
STREAMS = (AD_GROUP_DAILY, CUSTOMER_DAILY, CUSTOMERS, CAMPAIGNS)

_FIELD = re.compile(r"^[a-z_]+(\.[a-z0-9_]+)+$")
_RETRYABLE_STATUS = {"RESOURCE_EXHAUSTED", "UNAVAILABLE", "INTERNAL", "DEADLINE_EXCEEDED", "ABORTED"}
_RETRYABLE_CODES = {
    "TRANSIENT_ERROR",
    "INTERNAL_ERROR",
    "RESOURCE_TEMPORARILY_EXHAUSTED",
    "RESOURCE_EXHAUSTED",
    "DEADLINE_EXCEEDED",
    "CONCURRENT_MODIFICATION",
}


def _duration_s(value) -> float | None:
    """A protobuf Duration in JSON ("30s", "1.5s") as seconds."""
    if isinstance(value, (int, float)):
        return float(value)
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)s\s*", str(value or ""))
    return float(m.group(1)) if m else None


def _customer_of(url: str) -> str | None:
    m = re.search(r"/customers/(\d+)", url or "")
    return m.group(1) if m else None


def classify_google_ads_error(resp: requests.Response, url: str) -> ApiError | None:
    """Turn a Google RPC error body with a GoogleAdsFailure into a retryable or fatal error.

    Handles the REST envelope `{"error": {...}}` (also inside a one-element array, as
    searchStream sends it) and the bare gRPC status rendering `{"code", "message", "status",
    "details"}`. A body that is not JSON (a front end's HTML 502 page) is left to the core.
    """
    try:
        body = resp.json()
    except ValueError:
        return None
    if isinstance(body, list) and body and isinstance(body[0], dict):
        body = body[0]
    if not isinstance(body, dict):
        return None
    err = body.get("error", body)
    if not isinstance(err, dict) or not ({"status", "details", "message"} & err.keys()):
        return None
    status = str(err.get("status") or "")
    failures = [
        e
        for d in err.get("details") or []
        if isinstance(d, dict) and "GoogleAdsFailure" in str(d.get("@type", ""))
        for e in d.get("errors") or []
    ]
    request_id = next(
        (d.get("requestId") for d in err.get("details") or [] if isinstance(d, dict) and d.get("requestId")), None
    )
    codes = [v for e in failures for v in (e.get("errorCode") or {}).values()]
    code = codes[0] if codes else (status or None)
    details = "; ".join(e["message"] for e in failures if e.get("message"))
    message = (
        str(err.get("message") or resp.reason or status)
        + (f" ({details})" if details else "")
        + (f" [requestId {request_id}]" if request_id else "")
    )
    delay = None
    for e in failures:
        delay = delay or _duration_s(((e.get("details") or {}).get("quotaErrorDetails") or {}).get("retryDelay"))
    kw = dict(
        status=resp.status_code,
        code=code,
        url=url,
        retry_after=delay if delay is not None else retry_after_seconds(resp),
    )
    http = resp.status_code
    if status == "UNAUTHENTICATED" or http == 401:
        if any(str(c).startswith("DEVELOPER_TOKEN") for c in codes) or "developer token" in message.lower():
            return AuthError(
                SOURCE,
                f"{message}. The developer token was refused: set a valid one in GOOGLE_ADS_DEVELOPER_TOKEN",
                **kw,
            )
        return AuthError(
            SOURCE,
            f"{message}. The OAuth access token was refused: set a valid token in "
            "GOOGLE_ADS_TOKEN (access tokens last an hour; refresh it from the refresh token)",
            **kw,
        )
    if "UNRECOGNIZED_FIELD" in codes:
        trigger = next(((e.get("trigger") or {}).get("stringValue") for e in failures if e.get("trigger")), None)
        exc = FatalError(
            SOURCE,
            f"{message}. {PLATFORM} does not accept the field {trigger!r} (retired or "
            "misspelt): remove it from the SELECT list in the google_ads resource configuration",
            **kw,
        )
        exc.field, exc.platform_message = trigger, message
        return exc
    if status == "PERMISSION_DENIED" or http == 403:
        if any(str(c).startswith("DEVELOPER_TOKEN") for c in codes):
            return AuthError(
                SOURCE,
                f"{message}. The developer token may not call this API: check "
                "GOOGLE_ADS_DEVELOPER_TOKEN (basic access or higher)",
                **kw,
            )
        cid = _customer_of(url)
        return FatalError(
            SOURCE,
            f"{message}. Customer {cid or '?'} cannot be read with this login: it must be "
            "a client under the manager account set in GOOGLE_ADS_LOGIN_CUSTOMER_ID, so check "
            "that id and GOOGLE_ADS_CUSTOMER_IDS (a disabled customer answers the same way)",
            **kw,
        )
    if status in _RETRYABLE_STATUS or any(c in _RETRYABLE_CODES for c in codes) or http >= 500 or http == 429:
        return RetryableError(SOURCE, message, **kw)
    return FatalError(SOURCE, message, **kw)


def batch_records(body) -> Iterator[list[dict]]:
    """The results of each searchStream batch (or of one `search` page), as the API sent them."""
    batches = body if isinstance(body, list) else [body]
    for batch in batches:
        if not isinstance(batch, dict):
            raise RetryableError(SOURCE, f"searchStream answered something that is not a batch: {str(batch)[:100]}")
        yield list(batch.get("results") or [])


class GoogleAdsClient(SourceClient):
    """A client for Google Ads reports. Base URL, tokens and ids come from the caller (the environment)."""

    SOURCE = SOURCE
    IDS = {"customers": ("customer_ids", "customers", "GOOGLE_ADS_CUSTOMER_IDS")}

    def __init__(
        self,
        base_url: str,
        access_token: str,
        developer_token: str,
        *,
        login_customer_id: str = "",
        customer_ids: Sequence[str] = (),
        api_version: str = API_VERSION,
        ad_group_fields: Sequence[str] = DEFAULT_AD_GROUP_FIELDS,
        customer_daily_fields: Sequence[str] = DEFAULT_CUSTOMER_DAILY_FIELDS,
        customer_fields: Sequence[str] = DEFAULT_CUSTOMER_FIELDS,
        campaign_fields: Sequence[str] = DEFAULT_CAMPAIGN_FIELDS,
        retry: RetryPolicy | None = None,
        timeout: tuple[float, float] = (5.0, 300.0),
        sleep: Callable[[float], None] = time.sleep,
    ):
        if not access_token:
            raise AuthError(SOURCE, "no OAuth access token: set GOOGLE_ADS_TOKEN")
        if not developer_token:
            raise AuthError(SOURCE, "no developer token: set GOOGLE_ADS_DEVELOPER_TOKEN")
        super().__init__(STREAMS)
        self.customer_ids = [c.replace("-", "").strip() for c in customer_ids if c.strip()]
        self.login_customer_id = (login_customer_id or "").replace("-", "").strip()
        self.version = api_version
        self.fields = {
            "ad_group_fields": tuple(ad_group_fields),
            "customer_daily_fields": tuple(customer_daily_fields),
            "customer_fields": tuple(customer_fields),
            "campaign_fields": tuple(campaign_fields),
        }
        for stream in self.streams:
            chosen = self.fields[stream.setting]
            bad = [f for f in chosen if not _FIELD.match(f)]
            if bad:
                raise FatalError(SOURCE, f"`{stream.setting}` holds names that are not GAQL fields: {bad}")
            missing = [f for f in stream.params["must_select"] if f not in chosen]
            if missing:
                raise FatalError(
                    SOURCE, f"`{stream.setting}` must select {missing}: the {stream.name} stream is keyed on them"
                )
        headers = {"Authorization": f"Bearer {access_token}", "developer-token": developer_token}
        if self.login_customer_id:
            headers["login-customer-id"] = self.login_customer_id
        self.http = self.http_core(
            base_url,
            headers=headers,
            secrets=(access_token, developer_token),
            timeout=timeout,
            retry=retry,
            classify_error=classify_google_ads_error,
            sleep=sleep,
        )

    def query(self, stream: Stream, day: date | None = None, until: date | None = None) -> str:
        """The GAQL of a stream (for one day, or `day`..`until`, when the stream is dated)."""
        stream = self.declared(stream)
        gaql = f"SELECT {', '.join(self.fields[stream.setting])} FROM {stream.params['from']}"
        if stream.dated:
            if day is None:
                raise ValueError(f"{stream.key} is dated: give a day")
            gaql += f" WHERE segments.date BETWEEN '{day.isoformat()}' AND '{(until or day).isoformat()}'"
        return gaql

    def read_search(self, stream: Stream, day: date | None) -> Iterator[list[dict]]:
        """Every batch of a stream's rows for every configured customer."""
        for cid in self.ids(stream):
            yield from self.search_stream(cid, self.query(stream, day), setting=stream.setting)

    def search_stream(self, customer_id: str, gaql: str, *, setting: str = "the SELECT list") -> Iterator[list[dict]]:
        """Each batch of one searchStream call, retried whole when it fails or arrives cut short."""
        path = SEARCH_STREAM.format(version=self.version, id=customer_id)
        try:
            body = self.http.request_json("POST", path, json={"query": gaql})
        except FatalError as exc:
            field = getattr(exc, "field", None)
            if exc.code == "UNRECOGNIZED_FIELD":
                raise FatalError(
                    SOURCE,
                    f"{PLATFORM} does not recognise the field {field!r} (retired or "
                    f"misspelt): remove or rename it in `{setting}` of the google_ads resource "
                    f"configuration. The API said: {getattr(exc, 'platform_message', exc)}",
                    status=exc.status,
                    code=exc.code,
                    url=exc.url,
                ) from None
            raise
        for records in batch_records(body):
            self.http.stats.pages += 1
            yield records
