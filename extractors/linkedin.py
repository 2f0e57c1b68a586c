"""LinkedIn Marketing API (`/rest`, versioned): organization page statistics and LinkedIn Ads.

Every call sends `Authorization: Bearer`, `LinkedIn-Version: YYYYMM` and
`X-Restli-Protocol-Version: 2.0.0`. The version is the setting LINKEDIN_VERSION (default
`API_VERSION`). LinkedIn releases a version a month and serves each for about a year; an inactive
one is refused with HTTP 426 NONEXISTENT_VERSION, which fails at once (no retry) naming the
setting and the version, and a version ten or more months old is warned about when the client is
made. Rest.li 2.0 query values are written by hand: the
structure (`(`, `)`, `:`, `,`, `List(...)`) stays as it is and only the values (URNs) are
percent-encoded, which a generic URL encoder would get wrong.

Organic (per configured organization):
- share statistics by day and follower gains by day: `timeIntervals=(timeRange:(start,end),
  timeGranularityType:DAY)` for the partition day; elements carry `timeRange` in epoch ms.
- follower demographics (the lifetime `followerCountsBy*` facets) and network size
  (`firstDegreeSize`) are lifetime values: read as daily snapshots.
Ads (per configured ad account):
- ad accounts and campaigns: `q=search`, start/count paging that follows `paging.links` `next`.
- ad analytics by campaign and day: `q=analytics&pivot=CAMPAIGN&timeGranularity=DAILY`. A request
  may ask for at most 20 fields and return at most 15,000 elements, with no paging: the metric
  list is asked for in chunks (each with `dateRange` and `pivotValues`) whose elements are merged
  on (dateRange, pivotValues) as Airbyte does, and a request over the element cap is split (the
  date range in halves, then the accounts) until each part fits.

The only changes made to a record: dated records get `date` (the UTC day their time range
starts, as ISO text: LinkedIn gives it as epoch ms or a {year, month, day} object, neither of
which the warehouse can partition on), snapshots get `snapshot_date`, and a network size
(which names nothing) gets the `organizationalEntity` it was asked for.

LinkedIn sends no Retry-After on 429: the core's exponential backoff decides the wait.
"""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, quote, urlsplit

import requests

from extractors.client import SourceClient
from extractors.days import epoch_ms, utc_day_of_ms, utc_midnight
from extractors.http import (
    ApiError,
    AuthError,
    FatalError,
    LoopGuard,
    PageTooLarge,
    Paginator,
    RetryableError,
    RetryPolicy,
    retry_after_seconds,
)
from extractors.streams import Stream

log = logging.getLogger(__name__)

SOURCE = "linkedin"
PLATFORM = "LinkedIn"
# October 2026 (202609 was the newest in mid-September 2026): served until about October 2027.
# A version a couple of months old rather than the newest, so it is surely released wherever this
# runs. Move it on before it ages out: tests/test_extract_linkedin.py fails once it is 12 months old.
API_VERSION = "202610"
VERSION_FORMAT = re.compile(r"\d{6}(?:\d{2})?(?:\.\d{2})?")  # YYYYMM, as YYYYMM01 too, or a revision .RR
VERSION_WARN_MONTHS = 10
VERSIONING_DOCS = "https://learn.microsoft.com/en-us/linkedin/marketing/versioning"
RESTLI_PROTOCOL = "2.0.0"
MAX_FIELDS_PER_REQUEST = 20
ALWAYS_FIELDS = ("dateRange", "pivotValues")

# Ad analytics metrics asked for. Names are configuration: an invalid one fails the request.
DEFAULT_ANALYTICS_FIELDS: tuple[str, ...] = (
    "impressions",
    "clicks",
    "landingPageClicks",
    "costInLocalCurrency",
    "costInUsd",
    "externalWebsiteConversions",
    "conversionValueInLocalCurrency",
    "oneClickLeads",
    "likes",
    "comments",
    "shares",
    "follows",
    "totalEngagements",
)

SHARE_STATISTICS = Stream(
    SOURCE,
    "share_statistics",
    primary_key=("date", "organization"),
    cursor_field="date",
    restatement_days=2,
    disposition="replace_partition",
    path="rest/organizationalEntityShareStatistics",
    records_at="elements",
    per="organizations",
    reader="time_bound",
    columns={
        "date": "DATE",
        "organization": "VARCHAR <- $.organizationalEntity",
        "time_range_start": "BIGINT <- $.timeRange.start",
        "time_range_end": "BIGINT <- $.timeRange.end",
        "impression_count": "BIGINT <- $.totalShareStatistics.impressionCount",
        "unique_impressions_count": "BIGINT <- $.totalShareStatistics.uniqueImpressionsCount",
        "click_count": "BIGINT <- $.totalShareStatistics.clickCount",
        "like_count": "BIGINT <- $.totalShareStatistics.likeCount",
        "comment_count": "BIGINT <- $.totalShareStatistics.commentCount",
        "share_count": "BIGINT <- $.totalShareStatistics.shareCount",
        "share_mentions_count": "BIGINT <- $.totalShareStatistics.shareMentionsCount",
        "comment_mentions_count": "BIGINT <- $.totalShareStatistics.commentMentionsCount",
        "engagement": "DOUBLE <- $.totalShareStatistics.engagement",
    },
    description="LinkedIn organization page share statistics per organization and day (UTC).",
)
FOLLOWER_GAINS = Stream(
    SOURCE,
    "follower_gains",
    primary_key=("date", "organization"),
    cursor_field="date",
    restatement_days=2,
    disposition="replace_partition",
    path="rest/organizationalEntityFollowerStatistics",
    records_at="elements",
    per="organizations",
    reader="time_bound",
    columns={
        "date": "DATE",
        "organization": "VARCHAR <- $.organizationalEntity",
        "time_range_start": "BIGINT <- $.timeRange.start",
        "time_range_end": "BIGINT <- $.timeRange.end",
        "organic_follower_gain": "BIGINT <- $.followerGains.organicFollowerGain",
        "paid_follower_gain": "BIGINT <- $.followerGains.paidFollowerGain",
    },
    description="LinkedIn organization follower gains (organic, paid) per organization and day (UTC).",
)
FOLLOWER_DEMOGRAPHICS = Stream(
    SOURCE,
    "follower_demographics",
    primary_key=("snapshot_date", "organization"),
    cursor_field="snapshot_date",
    snapshot=True,
    disposition="replace_partition",
    path="rest/organizationalEntityFollowerStatistics",
    records_at="elements",
    per="organizations",
    reader="lifetime",
    columns={
        "snapshot_date": "DATE",
        "organization": "VARCHAR <- $.organizationalEntity",
        "by_seniority": "JSON <- $.followerCountsBySeniority",
        "by_function": "JSON <- $.followerCountsByFunction",
        "by_industry": "JSON <- $.followerCountsByIndustry",
        "by_geo_country": "JSON <- $.followerCountsByGeoCountry",
        "by_geo": "JSON <- $.followerCountsByGeo",
        "by_staff_count_range": "JSON <- $.followerCountsByStaffCountRange",
        "by_association_type": "JSON <- $.followerCountsByAssociationType",
    },
    description="LinkedIn lifetime follower counts by facet (seniority, function, industry, country, company "
    "size) per organization, as read on each day (a daily snapshot).",
)
NETWORK_SIZE = Stream(
    SOURCE,
    "network_size",
    primary_key=("snapshot_date", "organization"),
    cursor_field="snapshot_date",
    snapshot=True,
    disposition="replace_partition",
    path="rest/networkSizes/{id}",
    params={"edgeType": "COMPANY_FOLLOWED_BY_MEMBER"},
    records_at="",
    per="organizations",
    reader="network_size",
    columns={
        "snapshot_date": "DATE",
        "organization": "VARCHAR <- $.organizationalEntity",
        "first_degree_size": "BIGINT <- $.firstDegreeSize",
    },
    description="LinkedIn organization follower total (networkSizes firstDegreeSize), as read on each day.",
)
# Ad accounts and their entities are searched (`q=search`) with start/count paging.
_SEARCHED = dict(
    params={"q": "search"},
    paginator=lambda: StartCountPaginator(),
    records_at="elements",
    size_param="count",
    per="ad_accounts",
)
AD_ACCOUNTS = Stream(
    SOURCE,
    "ad_accounts",
    primary_key=("account_id",),
    disposition="merge",
    path="rest/adAccounts",
    reader="ad_accounts",
    **_SEARCHED,
    columns={
        "account_id": "VARCHAR <- $.id",
        "name": "VARCHAR",
        "currency": "VARCHAR",
        "status": "VARCHAR",
        "type": "VARCHAR",
        "reference": "VARCHAR",
        "test": "BOOLEAN",
    },
    description="LinkedIn ad accounts with their currency.",
)
AD_CAMPAIGNS = Stream(
    SOURCE,
    "ad_campaigns",
    primary_key=("campaign_id",),
    disposition="merge",
    path="rest/adAccounts/{id}/adCampaigns",
    **_SEARCHED,
    columns={
        "campaign_id": "VARCHAR <- $.id",
        "name": "VARCHAR",
        "account": "VARCHAR",
        "campaign_group": "VARCHAR <- $.campaignGroup",
        "status": "VARCHAR",
        "type": "VARCHAR",
        "cost_type": "VARCHAR <- $.costType",
        "objective_type": "VARCHAR <- $.objectiveType",
        "daily_budget_amount": "VARCHAR <- $.dailyBudget.amount",
        "daily_budget_currency": "VARCHAR <- $.dailyBudget.currencyCode",
        "run_schedule_start": "BIGINT <- $.runSchedule.start",
        "run_schedule_end": "BIGINT <- $.runSchedule.end",
    },
    description="LinkedIn ad campaigns with their account, group, names and budgets.",
)
AD_ANALYTICS = Stream(
    SOURCE,
    "ad_analytics_by_campaign",
    primary_key=("date", "campaign"),
    cursor_field="date",
    restatement_days=30,
    disposition="replace_partition",
    path="rest/adAnalytics",
    records_at="elements",
    per="ad_accounts",
    setting="analytics_fields",
    reader="analytics",
    columns={
        "date": "DATE",
        "campaign": "VARCHAR <- $.pivotValues[0]",
        "impressions": "BIGINT",
        "clicks": "BIGINT",
        "landing_page_clicks": "BIGINT <- $.landingPageClicks",
        "cost_in_local_currency": "VARCHAR <- $.costInLocalCurrency",
        "cost_in_usd": "VARCHAR <- $.costInUsd",
        "external_website_conversions": "BIGINT <- $.externalWebsiteConversions",
        "conversion_value_in_local_currency": "VARCHAR <- $.conversionValueInLocalCurrency",
        "one_click_leads": "BIGINT <- $.oneClickLeads",
        "likes": "BIGINT",
        "comments": "BIGINT",
        "shares": "BIGINT",
        "follows": "BIGINT",
        "total_engagements": "BIGINT <- $.totalEngagements",
    },
    description="LinkedIn Ads metrics per campaign and day (UTC), money as sent (strings, the account's "
    "currency and USD); the account's currency comes from ad_accounts via ad_campaigns.",
)
ORGANIC_STREAMS = (SHARE_STATISTICS, FOLLOWER_GAINS, FOLLOWER_DEMOGRAPHICS, NETWORK_SIZE)
ADS_STREAMS = (AD_ACCOUNTS, AD_CAMPAIGNS, AD_ANALYTICS)
STREAMS = ORGANIC_STREAMS + ADS_STREAMS


class TooManyElements(PageTooLarge):
    """adAnalytics would return more than 15,000 elements: ask for a narrower range."""


def version_age_months(version: str, today: date) -> int | None:
    """How many months ago the version's month began (0: this month), or None if it names no month."""
    try:
        year, month = int(version[:4]), int(version[4:6])
    except ValueError:
        return None
    if not 1 <= month <= 12:
        return None
    return (today.year - year) * 12 + today.month - month


_warned_versions: set[str] = set()


def warn_if_ageing(version: str, today: date | None = None) -> bool:
    """Log once per version a warning when it is VERSION_WARN_MONTHS or more old: LinkedIn refuses
    it at about 12, and then every LinkedIn asset fails until LINKEDIN_VERSION moves on."""
    age = version_age_months(version, today or datetime.now(UTC).date())
    if age is None or age < VERSION_WARN_MONTHS or version in _warned_versions:
        return False
    _warned_versions.add(version)
    log.warning(
        "[%s] LinkedIn-Version %s is %d months old; LinkedIn retires a version about 12 months after "
        "its release: set LINKEDIN_VERSION to a newer one (YYYYMM, %s)",
        SOURCE,
        version,
        age,
        VERSIONING_DOCS,
    )
    return True


def version_refused(message: str, version: str | None) -> str:
    sent = f"LinkedIn-Version {version} (LINKEDIN_VERSION)" if version else "the LinkedIn-Version (LINKEDIN_VERSION)"
    return (
        f"{message}. {PLATFORM} refused {sent}: set LINKEDIN_VERSION to an active version, the YYYYMM of "
        f"one of the last 12 monthly releases ({VERSIONING_DOCS}); LinkedIn retires each version about "
        "a year after its release"
    )


def classify_linkedin_error(resp: requests.Response, url: str, version: str | None = None) -> ApiError | None:
    """Turn LinkedIn's `{"status", "serviceErrorCode", "code", "message"}` body into the right error.
    `version` is the LinkedIn-Version the client sent, named when LinkedIn refuses it."""
    try:
        body = resp.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or not ({"message", "code", "serviceErrorCode"} & body.keys()):
        return None
    http = resp.status_code
    message = str(body.get("message") or resp.reason or "")
    code = body.get("code") or body.get("serviceErrorCode")
    kw = dict(status=http, code=code, url=url, retry_after=retry_after_seconds(resp))
    lower = message.lower()
    if http == 401 or code in ("INVALID_ACCESS_TOKEN", "EXPIRED_ACCESS_TOKEN", "REVOKED_ACCESS_TOKEN"):
        return AuthError(
            SOURCE,
            f"{message}. The access token was refused: set a valid token in LINKEDIN_TOKEN "
            "(access tokens last 60 days; refresh them with the refresh token)",
            **kw,
        )
    if http == 429:
        return RetryableError(
            SOURCE,
            f"{message} (LinkedIn sends no Retry-After: backing off; its daily quotas reset at midnight UTC)",
            **kw,
        )
    if http >= 500:
        return RetryableError(SOURCE, message, **kw)
    if (
        http == 426
        or code in ("VERSION_MISSING", "NONEXISTENT_VERSION")
        or ("version" in lower and http == 400 and "field" not in lower)
    ):
        return FatalError(SOURCE, version_refused(message, version), **kw)
    if http == 400 and (
        "more than the maximum" in lower or "narrow the date range" in lower or "too many elements" in lower
    ):
        return TooManyElements(SOURCE, message, **kw)
    if http == 400 and ("invalid field" in lower or "projection" in lower):
        return FatalError(
            SOURCE,
            f"{message}. {PLATFORM} does not accept a requested ad analytics field "
            "(retired or misspelt): change `analytics_fields` in the linkedin resource "
            "configuration",
            **kw,
        )
    if http == 400 and "too many fields" in lower:
        return FatalError(
            SOURCE,
            f"{message}. Lower `fields_per_request` in the linkedin resource "
            f"configuration (at most {MAX_FIELDS_PER_REQUEST})",
            **kw,
        )
    if http == 403:
        return FatalError(
            SOURCE,
            f"{message}. The token's member cannot read this (not an admin of the "
            "organization or not a user of the ad account, or a scope is missing): check "
            "LINKEDIN_ORGANIZATION_IDS, LINKEDIN_AD_ACCOUNT_IDS and the token's scopes",
            **kw,
        )
    return FatalError(SOURCE, message, **kw)


@dataclass
class StartCountPaginator(Paginator):
    """LinkedIn start/count paging: the next page is the one `paging.links` rel=next points at
    (its `start`), and there is none when that link is absent. The link is followed rather than
    `start + count` computed: a server that served an earlier page again points at the page it
    skipped, and computing would lose that page. A link pointing back, or at the same page more
    than `max_stalls` times in a row, would loop forever, so it fails instead."""

    start_param: str = "start"
    max_stalls: int = 5
    guard: LoopGuard | None = None

    def next_params(self, body, params: dict) -> dict | None:
        paging = (body or {}).get("paging") or {}
        nxt = next((link for link in paging.get("links") or [] if link.get("rel") == "next"), None)
        if nxt is None:
            return None
        query = parse_qs(urlsplit(str(nxt.get("href", ""))).query)
        if query.get(self.start_param):
            start = int(query[self.start_param][0])
        else:
            start = int(paging.get("start", 0)) + int(paging.get("count", 0))
        current = int(params.get(self.start_param, 0))
        if start < current:
            raise FatalError(
                SOURCE, f"paging: the next page starts at {start} after a request for {current}; refusing to loop"
            )
        if self.guard is None:
            self.guard = LoopGuard(SOURCE, "paging: the next page start", max_repeats=self.max_stalls)
            self.guard.check(current)
        self.guard.check(start)
        return {**params, self.start_param: str(start)}


def ms(d: date) -> int:
    """Epoch milliseconds of `d` 00:00 UTC: the start of a LinkedIn time range."""
    return epoch_ms(utc_midnight(d))


def _ymd(d: date) -> str:
    return f"(year:{d.year},month:{d.month},day:{d.day})"


def _day_of_ymd(obj: dict) -> str:
    return date(int(obj["year"]), int(obj["month"]), int(obj["day"])).isoformat()


def _urn(value: str) -> str:
    return quote(value, safe="")


def merge_analytics_chunks(chunks: Sequence[list[dict]]) -> list[dict]:
    """Elements of the same (dateRange, pivotValues) from several field chunks, as one record
    each (Airbyte merges the same way), with `date` (the day the range starts) added.

    An element that cannot be placed (no readable `dateRange`), or a second element of the
    same key within one chunk, is not merged into anything: it is passed on as it came, so a
    malformed copy cannot overwrite a good element and is rejected at load, naming its field."""
    merged: dict[str, dict] = {}
    loose: list[dict] = []
    for elements in chunks:
        in_chunk: set[str] = set()
        for el in elements:
            start = el.get("dateRange", {}).get("start") if isinstance(el.get("dateRange"), dict) else None
            try:
                day = _day_of_ymd(start)
            except (TypeError, KeyError, ValueError):
                day = None
            key = repr((el.get("dateRange"), el.get("pivotValues")))
            if day is None or key in in_chunk:
                loose.append(el)
                continue
            in_chunk.add(key)
            merged.setdefault(key, {"date": day}).update(el)
    return [*merged.values(), *loose]


def with_day(elements: list[dict]) -> list[dict]:
    """Time-bound organic elements with `date`: the UTC day their `timeRange` starts. An
    element whose time range cannot be read gets no `date` and is rejected at load."""
    out = []
    for el in elements:
        tr = el.get("timeRange")
        start = tr.get("start") if isinstance(tr, dict) else None
        try:
            out.append({**el, "date": utc_day_of_ms(start)} if start is not None else el)
        except (TypeError, ValueError, OverflowError):
            out.append(el)
    return out


class LinkedInClient(SourceClient):
    """A client for LinkedIn page statistics and ads reporting."""

    SOURCE = SOURCE
    IDS = {
        "organizations": ("organization_ids", "organizations", "LINKEDIN_ORGANIZATION_IDS"),
        "ad_accounts": ("ad_account_ids", "ad accounts", "LINKEDIN_AD_ACCOUNT_IDS"),
    }

    def __init__(
        self,
        base_url: str,
        access_token: str,
        *,
        version: str = API_VERSION,
        organization_ids: Sequence[str] = (),
        ad_account_ids: Sequence[str] = (),
        analytics_fields: Sequence[str] = DEFAULT_ANALYTICS_FIELDS,
        fields_per_request: int = MAX_FIELDS_PER_REQUEST,
        page_size: int = 100,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if not access_token:
            raise AuthError(SOURCE, "no access token: set LINKEDIN_TOKEN")
        super().__init__(STREAMS)
        version = (version or "").strip()
        if not version:
            raise FatalError(SOURCE, "no API version: set LINKEDIN_VERSION (YYYYMM)")
        if not VERSION_FORMAT.fullmatch(version):
            raise FatalError(
                SOURCE,
                f"LINKEDIN_VERSION {version!r} is not a LinkedIn-Version: give the YYYYMM of "
                f"an active monthly release, e.g. {API_VERSION} ({VERSIONING_DOCS})",
            )
        warn_if_ageing(version)
        if not 3 <= fields_per_request <= MAX_FIELDS_PER_REQUEST:
            raise FatalError(
                SOURCE, f"`fields_per_request` must be 3..{MAX_FIELDS_PER_REQUEST}, not {fields_per_request}"
            )
        self.organization_ids = [o.rsplit(":", 1)[-1].strip() for o in organization_ids if o.strip()]
        self.ad_account_ids = [a.rsplit(":", 1)[-1].strip() for a in ad_account_ids if a.strip()]
        self.analytics_fields = tuple(f for f in analytics_fields if f not in ALWAYS_FIELDS)
        if not self.analytics_fields:
            raise FatalError(SOURCE, "`analytics_fields` is empty: name at least one ad analytics metric")
        self.fields_per_request = fields_per_request
        self.page_size = page_size
        self.version = version
        self.http = self.http_core(
            base_url,
            headers={
                "Authorization": f"Bearer {access_token}",
                "LinkedIn-Version": version,
                "X-Restli-Protocol-Version": RESTLI_PROTOCOL,
            },
            secrets=(access_token,),
            retry=retry,
            classify_error=functools.partial(classify_linkedin_error, version=version),
            sleep=sleep,
        )

    def request_params(self, stream: Stream, day: date | None) -> dict:
        """Searches page from the start, `page_size` elements a page."""
        return {"start": "0", "count": str(self.page_size)} if stream.paginator else {}

    # -- organic ------------------------------------------------------------------------
    def _get(self, stream: Stream, query: str, **path: str):
        """One page of a Rest.li endpoint: the query is written by hand (see module docstring)."""
        body = self.http.get_json(f"{self.path(stream, **path)}?{query}")
        self.http.stats.pages += 1
        return body

    def read_time_bound(self, stream: Stream, day: date) -> Iterator[list[dict]]:
        for org in self.ids(stream):
            yield with_day(self.time_bound(stream, org, day, day))

    def time_bound(self, stream: Stream, org_id: str, first: date, last: date) -> list[dict]:
        """Daily elements of a statistics stream for an organization, `first`..`last`."""
        urn = f"urn:li:organization:{org_id}"
        query = (
            f"q=organizationalEntity&organizationalEntity={_urn(urn)}"
            f"&timeIntervals=(timeRange:(start:{ms(first)},end:{ms(last + timedelta(days=1))}),"
            "timeGranularityType:DAY)"
        )
        return list(self._get(stream, query).get("elements") or [])

    def read_lifetime(self, stream: Stream, day: date) -> Iterator[list[dict]]:
        """Lifetime follower counts by facet, as read on `day`."""
        for org in self.ids(stream):
            urn = f"urn:li:organization:{org}"
            body = self._get(stream, f"q=organizationalEntity&organizationalEntity={_urn(urn)}")
            yield [{**el, "snapshot_date": day.isoformat()} for el in body.get("elements") or []]

    def read_network_size(self, stream: Stream, day: date) -> Iterator[list[dict]]:
        yield [{**self.network_size(stream, org), "snapshot_date": day.isoformat()} for org in self.ids(stream)]

    def network_size(self, stream: Stream, org_id: str) -> dict:
        urn = f"urn:li:organization:{org_id}"
        body = self._get(stream, "&".join(f"{k}={v}" for k, v in stream.params.items()), id=_urn(urn))
        if "firstDegreeSize" not in body:
            raise FatalError(SOURCE, f"networkSizes for {urn} has no firstDegreeSize: {str(body)[:200]}")
        return {"organizationalEntity": urn, **body}

    # -- ads ------------------------------------------------------------------------------
    def read_ad_accounts(self, stream: Stream, day: date | None) -> Iterator[list[dict]]:
        """The configured accounts, from the paged account search (every account must be found)."""
        wanted = set(self.ids(stream))
        seen: set[str] = set()
        for page in self.walk(stream, params=self.request_params(stream, day)):
            mine = [a for a in page if str(a.get("id")) in wanted]
            seen.update(str(a["id"]) for a in mine)
            yield mine
        missing = sorted(wanted - seen)
        if missing:
            raise FatalError(
                SOURCE,
                f"ad account(s) {missing} not visible to this token: check "
                "LINKEDIN_AD_ACCOUNT_IDS and that the token's member is a user of each account",
            )

    def _analytics_query(self, first: date, last: date, accounts: Sequence[str], fields: Sequence[str]) -> str:
        urns = ",".join(_urn(f"urn:li:sponsoredAccount:{a}") for a in accounts)
        return (
            f"q=analytics&pivot=CAMPAIGN&timeGranularity=DAILY"
            f"&dateRange=(start:{_ymd(first)},end:{_ymd(last)})&accounts=List({urns})"
            f"&fields={','.join(fields)}"
        )

    def field_chunks(self) -> list[tuple[str, ...]]:
        n = self.fields_per_request - len(ALWAYS_FIELDS)
        return [ALWAYS_FIELDS + self.analytics_fields[i : i + n] for i in range(0, len(self.analytics_fields), n)]

    def read_analytics(self, stream: Stream, day: date) -> Iterator[list[dict]]:
        yield from self.analytics(day, day)

    def analytics(self, first: date, last: date, accounts: Sequence[str] | None = None) -> Iterator[list[dict]]:
        """Daily campaign elements for `first`..`last`, one page per part that fits the element cap."""
        stream = self.stream(AD_ANALYTICS.name)
        accounts = list(accounts or self.ad_account_ids)
        try:
            chunks = []
            for fields in self.field_chunks():
                body = self.http.get_json(f"{self.path(stream)}?{self._analytics_query(first, last, accounts, fields)}")
                chunks.append(list(body.get(stream.records_at) or []))
        except TooManyElements as exc:
            if last > first:
                mid = first + timedelta(days=(last - first).days // 2)
                log.info("[%s] %s..%s is over the element cap; splitting at %s", SOURCE, first, last, mid)
                yield from self.analytics(first, mid, accounts)
                yield from self.analytics(mid + timedelta(days=1), last, accounts)
                return
            if len(accounts) > 1:
                half = len(accounts) // 2
                yield from self.analytics(first, last, accounts[:half])
                yield from self.analytics(first, last, accounts[half:])
                return
            raise FatalError(
                SOURCE,
                f"ad account {accounts[0]} has more campaign elements on {first} than "
                f"adAnalytics returns in one request: {exc}",
                status=exc.status,
                url=exc.url,
            ) from None
        self.http.stats.pages += 1
        yield merge_analytics_chunks(chunks)
