"""HubSpot CRM: contacts and deals through the v3 search API, deal -> contact associations (v4).

Contacts and deals are dated streams partitioned by modification day: partition D holds the
records whose `lastmodifieddate` (contacts) / `hs_lastmodifieddate` (deals) falls on day D in
UTC, and the raw table is merged on `id`. A record modified again later leaves D's search and
arrives in the later day's partition, where the merge keeps the newest version.

Reading one day respects the search API's limits:
- A search returns at most 10,000 results (`search_cap`); asking past them is a 400. A window
  whose `total` exceeds the cap is split in two halves of time until each fits.
- Within a window the results come sorted by the modification time and are paged with the
  `after` offset. Many records can share one millisecond (a workflow or an import touches them
  at once): when a full page holds a single timestamp, that timestamp is read by itself, paged
  by `hs_object_id` (`EQ ts` and `id > last id`, sorted by id; no offset, so no cap), and the
  window goes on after it. A one-millisecond window over the cap is read the same way.
- Searches repeat records (a page served twice, a tie re-read): identical copies are dropped
  here, and the loader keeps one row per key.

Deletions (issue 17): search never returns an archived (deleted) record, so the read of day D
also lists `GET /crm/v3/objects/{type}?archived=true` and lands the records archived on D (by
`archivedAt`, UTC) beside the modified ones: merged on `id`, the archived version replaces the
stored one (`archived` true, `archivedAt` kept in `_record`: when and why), and staging and the
marts leave it out. A contact merged into another is not archived: it leaves every listing,
and the surviving contact, modified by the merge, names it in `hs_merged_object_ids` (asked for
with the contact properties); warehouse/deletions.py removes the merged-away row from raw and
logs it. A deal's association read replaces what was stored for that deal (warehouse/deletions.py).

Records are landed as HubSpot sent them (`id`, `properties`, `createdAt`, `updatedAt`,
`archived`, and `archivedAt` for archived ones). Associations add the parent deal's `deal_id` and `deal_lastmodifieddate` (which
places the row in its partition) to each `toObjectId` result, as dlt does for child resources.

HubSpot does not revise old records in place (a change moves a record to the day of the
change), so the re-read window is short: 2 days, because the search index trails writes by
a little and a record modified just before midnight can show up in the search after the
day's first read.

Rate limits: non-search responses carry `X-HubSpot-RateLimit-*`; when the remaining calls of
the rolling interval (or of the second) run low the client pauses for the interval, and a
spent daily allowance is fatal. A 429 (`errorType: RATE_LIMIT`) is retried; 401 (bad or
expired token) and 403 (`MISSING_SCOPES`, with the scopes HubSpot names) are fatal.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta

import requests

from extractors.client import SourceClient
from extractors.days import epoch_ms, utc_day_bounds
from extractors.http import ApiError, AuthError, FatalError, RetryableError, RetryPolicy, retry_after_seconds
from extractors.streams import Stream

log = logging.getLogger(__name__)

SOURCE = "hubspot"
TOKEN_VAR = "HUBSPOT_TOKEN"
SEARCH_CAP = 10_000
MAX_SEARCH_PAGE = 200
MAX_LIST_PAGE = 100  # GET /crm/v3/objects/{type}: at most 100 a page

DEFAULT_CONTACT_PROPERTIES: tuple[str, ...] = (
    "email",
    "firstname",
    "lastname",
    "lifecyclestage",
    "hs_analytics_source",
    "hs_analytics_source_data_1",
    "hs_analytics_source_data_2",
    "hs_latest_source",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "hs_lifecyclestage_lead_date",
    "hs_lifecyclestage_marketingqualifiedlead_date",
    "hs_lifecyclestage_salesqualifiedlead_date",
    "hs_lifecyclestage_opportunity_date",
    "hs_lifecyclestage_customer_date",
    "num_associated_deals",
    "hs_merged_object_ids",
    "hs_marketable_status",
    "hs_object_id",
    "createdate",
    "lastmodifieddate",
)
DEFAULT_DEAL_PROPERTIES: tuple[str, ...] = (
    "dealname",
    "amount",
    "deal_currency_code",
    "dealstage",
    "pipeline",
    "dealtype",
    "closedate",
    "hs_is_closed_won",
    "hs_date_entered_closedwon",
    "hs_analytics_source",
    "hs_analytics_source_data_1",
    "hs_analytics_source_data_2",
    "hs_object_id",
    "createdate",
    "hs_lastmodifieddate",
)

_RECORD_COLUMNS = {
    "id": "VARCHAR",
    "created_at": "TIMESTAMPTZ <- createdAt",
    "updated_at": "TIMESTAMPTZ <- updatedAt",
    "archived": "BOOLEAN",
    "properties": "JSON",
}
# Contacts and deals are searched by the property their cursor is (their modification time).
CONTACTS = Stream(
    SOURCE,
    "contacts",
    primary_key=("id",),
    cursor_field="lastmodifieddate",
    path="crm/v3/objects/contacts/search",
    records_at="results",
    setting="contact_properties",
    reader="modified",
    columns={
        **_RECORD_COLUMNS,
        "lastmodifieddate": "TIMESTAMPTZ <- $.properties.lastmodifieddate",
        "createdate": "TIMESTAMPTZ <- $.properties.createdate",
        "email": "VARCHAR <- $.properties.email",
        "lifecyclestage": "VARCHAR <- $.properties.lifecyclestage",
        "hs_analytics_source": "VARCHAR <- $.properties.hs_analytics_source",
    },
    restatement_days=2,
    disposition="merge",
    description="HubSpot contacts by the UTC day they were last modified (search API), merged on id: "
    "lifecycle stage and dates, original source and UTM properties.",
)
DEALS = Stream(
    SOURCE,
    "deals",
    primary_key=("id",),
    cursor_field="hs_lastmodifieddate",
    path="crm/v3/objects/deals/search",
    records_at="results",
    setting="deal_properties",
    reader="modified",
    columns={
        **_RECORD_COLUMNS,
        "hs_lastmodifieddate": "TIMESTAMPTZ <- $.properties.hs_lastmodifieddate",
        "createdate": "TIMESTAMPTZ <- $.properties.createdate",
        "closedate": "TIMESTAMPTZ <- $.properties.closedate",
        "amount": "VARCHAR <- $.properties.amount",
        "deal_currency_code": "VARCHAR <- $.properties.deal_currency_code",
        "dealstage": "VARCHAR <- $.properties.dealstage",
    },
    restatement_days=2,
    disposition="merge",
    description="HubSpot deals by the UTC day they were last modified (search API), merged on id: "
    "amount and currency, stage, close date, original source.",
)
DEAL_CONTACTS = Stream(
    SOURCE,
    "deal_contacts",
    primary_key=("deal_id", "contact_id"),
    cursor_field="deal_lastmodifieddate",
    path="crm/v4/associations/deals/contacts/batch/read",
    records_at="results",
    reader="deal_contacts",
    columns={
        "deal_id": "VARCHAR",
        "contact_id": "VARCHAR <- toObjectId",
        "deal_lastmodifieddate": "TIMESTAMPTZ",
        "association_types": "JSON <- associationTypes",
    },
    restatement_days=2,
    disposition="merge",
    description="HubSpot deal -> contact associations (v4) of the deals modified on the partition day.",
)
STREAMS = (CONTACTS, DEALS, DEAL_CONTACTS)
ASSOCIATION_BATCH = 100


def classify_hubspot_error(resp: requests.Response, url: str) -> ApiError | None:
    """HubSpot's `{"status":"error","message","category"|"errorType",...}` as the right error."""
    try:
        body = resp.json()
    except ValueError:
        return None  # Cloudflare's HTML 502/503 page: the core decides on the status
    if not isinstance(body, dict):
        return None
    message = str(body.get("message") or resp.reason)
    category = body.get("category") or body.get("errorType")
    kw = dict(status=resp.status_code, code=category, url=url, retry_after=retry_after_seconds(resp))
    if resp.status_code == 401:
        return AuthError(
            SOURCE, f"{message} The token was refused: set a valid private-app or OAuth token in {TOKEN_VAR}", **kw
        )
    if resp.status_code == 403 or category == "MISSING_SCOPES":
        scopes = sorted(
            {
                s
                for e in body.get("errors") or []
                if isinstance(e, dict)
                for s in (e.get("context") or {}).get("requiredScopes") or []
            }
        )
        need = (
            f" Grant the app behind {TOKEN_VAR} the scopes: {', '.join(scopes)}"
            if scopes
            else f" The token in {TOKEN_VAR} lacks a permission this call needs"
        )
        return AuthError(SOURCE, message + need, **kw)
    if resp.status_code == 429 or body.get("errorType") == "RATE_LIMIT":
        if str(body.get("policyName", "")).upper() == "DAILY":
            return FatalError(SOURCE, f"{message} The portal's daily API allowance is spent: run again tomorrow", **kw)
        return RetryableError(SOURCE, message, **kw)
    if resp.status_code >= 500:
        return RetryableError(SOURCE, message, **kw)
    return FatalError(SOURCE, message, **kw)


def read_hubspot_throttle(resp: requests.Response, *, low_share: float = 0.1) -> float:
    """Seconds to pause before the next call, from `X-HubSpot-RateLimit-*` (absent on search)."""
    h = resp.headers
    try:
        pause = 0.0
        if (
            h.get("X-HubSpot-RateLimit-Daily-Remaining") is not None
            and int(h["X-HubSpot-RateLimit-Daily-Remaining"]) <= 0
        ):
            now = datetime.now(UTC)
            pause = max(
                pause,
                (datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC) - now).total_seconds(),
            )
        if h.get("X-HubSpot-RateLimit-Remaining") is not None:
            remaining = int(h["X-HubSpot-RateLimit-Remaining"])
            limit = int(h.get("X-HubSpot-RateLimit-Max") or 100)
            if remaining <= max(1, int(limit * low_share)):
                pause = max(pause, int(h.get("X-HubSpot-RateLimit-Interval-Milliseconds") or 10_000) / 1000)
        if (
            h.get("X-HubSpot-RateLimit-Secondly-Remaining") is not None
            and int(h["X-HubSpot-RateLimit-Secondly-Remaining"]) <= 1
        ):
            pause = max(pause, 1.0)
        return pause
    except (TypeError, ValueError):
        log.warning("[%s] could not read the rate-limit headers; not pausing", SOURCE)
        return 0.0


def to_ms(value) -> int | None:
    """A HubSpot datetime (ISO with Z, or epoch ms) as epoch ms; None when unreadable."""
    if value is None or value == "":
        return None
    s = str(value)
    try:
        if s.lstrip("-").isdigit():
            return int(s)
        return int(datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None


def day_bounds_ms(day: date) -> tuple[int, int]:
    """A UTC day in epoch ms, as search filters take it: `GTE` the first, `LT` the second."""
    lo, hi = utc_day_bounds(day)
    return epoch_ms(lo), epoch_ms(hi)


class HubSpotClient(SourceClient):
    """Contacts, deals and deal associations for one portal. Base URL and token from the caller."""

    SOURCE = SOURCE

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        contact_properties: Sequence[str] = DEFAULT_CONTACT_PROPERTIES,
        deal_properties: Sequence[str] = DEFAULT_DEAL_PROPERTIES,
        page_size: int = MAX_SEARCH_PAGE,
        search_cap: int = SEARCH_CAP,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if not token:
            raise AuthError(SOURCE, f"no access token: set {TOKEN_VAR}")
        if not 1 <= page_size <= MAX_SEARCH_PAGE:
            raise ValueError(f"page_size must be 1..{MAX_SEARCH_PAGE}")
        super().__init__(STREAMS)
        self.contact_properties, self.deal_properties = tuple(contact_properties), tuple(deal_properties)
        for stream in (CONTACTS, DEALS):  # a record without its modification time has no partition day
            if stream.cursor_field not in getattr(self, stream.setting):
                raise FatalError(
                    SOURCE,
                    f"`{stream.setting}` must ask for {stream.cursor_field}: {stream.name} are "
                    "partitioned by it (set it back in the hubspot resource configuration)",
                )
        self.page_size = page_size
        self.search_cap = search_cap
        self.tie_walks = 0
        self.splits = 0
        self.http = self.http_core(
            base_url,
            headers={"Authorization": f"Bearer {token}"},
            secrets=(token,),
            retry=retry,
            classify_error=classify_hubspot_error,
            read_throttle=read_hubspot_throttle,
            sleep=sleep,
        )

    # -- search ------------------------------------------------------------------------------
    def _search(self, kind: str, filters: list[dict], sort: str, after: int = 0) -> dict:
        stream = self.stream(kind)
        body = {
            "filterGroups": [{"filters": filters}],
            "sorts": [{"propertyName": sort, "direction": "ASCENDING"}],
            "properties": list(getattr(self, stream.setting)),
            "limit": self.page_size,
            "after": str(after),
        }
        resp = self.http.request_json("POST", self.path(stream), json=body)
        self.stats.pages += 1
        return resp

    def read_modified(self, stream: Stream, day: date) -> Iterator[list[dict]]:
        """The records modified on `day`, then those archived on `day` (search leaves them out)."""
        yield from self.modified_on(stream.name, day)
        yield from self.archived_on(stream.name, day)

    def archived_on(self, kind: str, day: date) -> Iterator[list[dict]]:
        """Every record of `kind` archived on `day` (UTC, by `archivedAt`), from the archived
        listing (`GET /crm/v3/objects/{kind}?archived=true`, id order, paged by `after`), with
        the properties the search asks for. The listing has no date filter: it is walked whole."""
        lo, hi = day_bounds_ms(day)
        params = {
            "archived": "true",
            "limit": str(MAX_LIST_PAGE),
            "properties": ",".join(getattr(self, self.stream(kind).setting)),
        }
        seen: set[str] = set()
        while True:
            body = self.http.get_json(f"crm/v3/objects/{kind}", params=params)
            self.stats.pages += 1
            page = []
            for rec in body.get("results") or []:
                at = to_ms(rec.get("archivedAt")) if isinstance(rec, dict) else None
                if at is None or not lo <= at < hi:
                    continue
                fp = json.dumps(rec, sort_keys=True)
                if fp not in seen:
                    seen.add(fp)
                    page.append(rec)
            if page:
                yield page
            nxt = ((body.get("paging") or {}).get("next") or {}).get("after")
            if not nxt:
                return
            params = {**params, "after": str(nxt)}

    def modified_on(self, kind: str, day: date) -> Iterator[list[dict]]:
        """Every record of `kind` last modified on `day` (UTC), page by page, exact copies dropped."""
        seen: set[str] = set()
        lo, hi = day_bounds_ms(day)
        for page in self._window(kind, lo, hi):
            fresh = []
            for rec in page:
                fp = json.dumps(rec, sort_keys=True)
                if fp not in seen:
                    seen.add(fp)
                    fresh.append(rec)
            yield fresh

    def _window(self, kind: str, lo: int, hi: int) -> Iterator[list[dict]]:
        """Records modified in [lo, hi) ms: split when over the cap, ties paged by id."""
        prop = self.stream(kind).cursor_field  # what the search filters and sorts by
        filters = [
            {"propertyName": prop, "operator": "GTE", "value": str(lo)},
            {"propertyName": prop, "operator": "LT", "value": str(hi)},
        ]
        body = self._search(kind, filters, prop)
        total = int(body.get("total") or 0)
        if total > self.search_cap:
            if hi - lo <= 1:
                yield from self._tie(kind, lo)
                return
            mid = (lo + hi) // 2
            self.splits += 1
            log.info(
                "[%s] %d %s modified in [%d, %d) is more than one search returns (%d): splitting",
                SOURCE,
                total,
                kind,
                lo,
                hi,
                self.search_cap,
            )
            yield from self._window(kind, lo, mid)
            yield from self._window(kind, mid, hi)
            return
        while True:
            results = body.get("results") or []
            yield results
            nxt = ((body.get("paging") or {}).get("next") or {}).get("after")
            if not nxt:
                return
            stamps = {to_ms((r.get("properties") or {}).get(prop)) for r in results if isinstance(r, dict)}
            stamps.discard(None)
            if len(results) >= self.page_size and len(stamps) == 1:
                # a full page of one millisecond: the tie may be longer than a page, read it by id
                (ts,) = stamps
                yield from self._tie(kind, ts)
                if ts + 1 < hi:
                    yield from self._window(kind, ts + 1, hi)
                return
            if int(nxt) >= self.search_cap:  # cannot happen when total <= cap; never ask for a 400
                raise FatalError(
                    SOURCE,
                    f"search of {kind} in [{lo}, {hi}) wants to page past the "
                    f"{self.search_cap}-result cap (the result set grew while read?)",
                )
            body = self._search(kind, filters, prop, after=int(nxt))

    def _tie(self, kind: str, ts: int) -> Iterator[list[dict]]:
        """Every record modified at exactly `ts` ms, paged by id (no offset: no cap)."""
        self.tie_walks += 1
        prop, last_id = self.stream(kind).cursor_field, 0
        while True:
            body = self._search(
                kind,
                [
                    {"propertyName": prop, "operator": "EQ", "value": str(ts)},
                    {"propertyName": "hs_object_id", "operator": "GT", "value": str(last_id)},
                ],
                "hs_object_id",
            )
            results = body.get("results") or []
            yield results
            ids = [int(r["id"]) for r in results if isinstance(r, dict) and str(r.get("id", "")).isdigit()]
            if not (body.get("paging") or {}).get("next") or not ids or max(ids) <= last_id:
                return
            last_id = max(ids)

    # -- associations ----------------------------------------------------------------------------
    def read_deal_contacts(self, stream: Stream, day: date) -> Iterator[list[dict]]:
        """The contacts associated with the deals modified on `day`: one batch read per 100
        deals (HubSpot allows about 19 calls a second, so one call per deal would crawl)."""
        deals: dict[str, str | None] = {}
        for page in self.modified_on("deals", day):
            for rec in page:
                if str(rec.get("id", "")).isdigit() and to_ms(rec.get("updatedAt")) is not None:
                    deals[rec["id"]] = (rec.get("properties") or {}).get(DEALS.cursor_field)
        ids = sorted(deals, key=int)
        for i in range(0, len(ids), ASSOCIATION_BATCH):
            chunk = ids[i : i + ASSOCIATION_BATCH]
            body = self.http.request_json("POST", self.path(stream), json={"inputs": [{"id": d} for d in chunk]})
            self.stats.pages += 1
            page, more = [], []
            for result in body.get(stream.records_at) or []:
                deal_id = str((result.get("from") or {}).get("id"))
                if deal_id not in deals:
                    continue
                if (result.get("paging") or {}).get("next"):
                    more.append(deal_id)  # over 500 contacts: read that deal on its own, paged
                    continue
                seen: set[str] = set()
                for r in result.get("to") or []:
                    to = str(r.get("toObjectId"))
                    if to not in seen:
                        seen.add(to)
                        page.append({"deal_id": deal_id, "deal_lastmodifieddate": deals[deal_id], **r})
            for err in body.get("errors") or []:
                log.warning("[%s] association batch: %s", SOURCE, err.get("message"))
            yield page
            for deal_id in more:
                yield from self.associations(deal_id, deals[deal_id])

    def associations(self, deal_id: str, modified: str | None) -> Iterator[list[dict]]:
        seen: set[str] = set()
        params: dict[str, str] = {"limit": "500"}
        while True:
            body = self.http.get_json(f"crm/v4/objects/deals/{deal_id}/associations/contacts", params=params)
            self.stats.pages += 1
            page = []
            for r in body.get("results") or []:
                to = str(r.get("toObjectId"))
                if to in seen:
                    continue
                seen.add(to)
                page.append({"deal_id": deal_id, "deal_lastmodifieddate": modified, **r})
            yield page
            nxt = ((body.get("paging") or {}).get("next") or {}).get("after")
            if not nxt:
                return
            params = {**params, "after": str(nxt)}
