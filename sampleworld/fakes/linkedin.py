"""A fake of LinkedIn's Marketing API (`/rest`, versioned): organization page statistics and
LinkedIn Ads reporting, in their real shapes.

Organic (Community Management):
- `GET /rest/organizationalEntityShareStatistics?q=organizationalEntity&organizationalEntity=<urn>`
  with `timeIntervals=(timeRange:(start:<ms>,end:<ms>),timeGranularityType:DAY)` (or the Rest.li 1.0
  dotted form `timeIntervals.timeRange.start=...`): one element per day; without it, the lifetime
  totals; with `shares=List(<urn>,...)` (or `ugcPosts=List(...)`), each post's lifetime totals.
- `GET /rest/organizationalEntityFollowerStatistics` with the same parameters: `followerGains`
  per day, or the lifetime `followerCountsBy*` facets.
- `GET /rest/networkSizes/<org urn>?edgeType=COMPANY_FOLLOWED_BY_MEMBER`: `{"firstDegreeSize": n}`.
- `GET /rest/posts?q=author&author=<org urn>&start=&count=`: the organization's posts, newest first.
Ads:
- `GET /rest/adAccounts?q=search`, `GET /rest/adAccounts/{id}`,
  `GET /rest/adAccounts/{id}/adCampaignGroups?q=search`, `GET /rest/adAccounts/{id}/adCampaigns?q=search`:
  `paging{start,count,total,links}` with start/count paging.
- `GET /rest/adAnalytics?q=analytics&pivot=CAMPAIGN|CAMPAIGN_GROUP|ACCOUNT&timeGranularity=DAILY|MONTHLY|ALL
  &dateRange=(start:(year:..,month:..,day:..),end:(...))&campaigns=List(urn%3Ali%3AsponsoredCampaign%3A1,...)
  &fields=...` (or `accounts=List(...)`, `campaignGroups=List(...)`): every element at once, no paging;
  more than 20 fields or more than 15,000 elements is a 400. Without `fields` only impressions and
  clicks (with dateRange and pivotValues) come back.

Every request needs `Authorization: Bearer` and an active `LinkedIn-Version`, as the real `/rest`
API does:
- no header (or an empty one) is a 400 `{"status":400,"code":"VERSION_MISSING","message":"A version
  must be present. Please specify a version by adding the LinkedIn-Version header."}` with the header
  `X-Restli-Gateway-Error: true` (a developer's recorded call, 2026-08-19);
- a version that is not active is a 426 `{"status":426,"code":"NONEXISTENT_VERSION","message":
  "Requested version 20250301 is not active"}` (the body reported word for word in n8n-io/n8n#28967,
  ComposioHQ/composio#3231, airbytehq/airbyte#74240). LinkedIn names the version as YYYYMMDD in that
  message whatever the client sent: `202504` comes back as `20250401` (n8n sends YYYYMM, Composio and
  Airbyte send YYYYMM01, and both are served while the version lives), so the fake accepts `YYYYMM`
  and `YYYYMM01` alike and names a refused `YYYYMM` as `YYYYMM01`.
A version is active when it is a month that has begun and is less than 12 months old (LinkedIn
releases one a month and serves each for a year: in April 2026 it listed 202504 to 202603). LinkedIn
retires a version around the middle of its month a year on, and releases the new one around the
middle of its month, so the fake, which counts whole months, refuses an old version up to a few weeks
earlier, and accepts the current month's a few weeks earlier, than LinkedIn. Any other value (a day
other than 01, a revision such as `202610.01`, text) is a version the fake does not have: 426 too.
The clock for this is today's date (UTC), not the sample world's: versions belong to the API, and a
world of June 2026 is served by today's API. `LinkedInApp(today=...)` pins it.

`X-Restli-Protocol-Version: 2.0.0` is what clients send; a structured value in the 2.0 syntax
(`(k:v)`, `List(...)`) without that header is a 400, as Rest.li 1.0 does not read that syntax. The
1.0 dotted parameters (`timeIntervals.timeRange.start=`, which Airbyte sends without the header)
are accepted either way. Every answer says which protocol it used in `X-RestLi-Protocol-Version`
(`2.0.0` when asked for, else `1.0.0`; the injected 5xx and 429 faults say `2.0.0`), except the
gateway's version refusals, which carry `X-Restli-Gateway-Error: true` instead.

Errors are LinkedIn's `{"status", "serviceErrorCode", "code", "message"}` bodies; a 429 is
`{"status":429,"serviceErrorCode":101,"message":"Resource level throttle APPLICATION DAY limit for
calls to this resource is reached."}` and has no Retry-After. Ads conversions of the last 30 days and
page statistics of the last 2 days before `as_of` are provisional.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote, urlencode

from sampleworld import restatement
from sampleworld.fakes.base import App, Request, Response

DEFAULT_TOKEN = "sample-linkedin-token"
DAY_MS = 86_400_000
MAX_FIELDS = 20
MAX_ELEMENTS = 15_000
ADS_WINDOW = restatement.WINDOWS["linkedin_ads"]
PAGE_WINDOW = restatement.WINDOWS["linkedin"]
SHARE_STATS = [
    "uniqueImpressionsCount",
    "shareCount",
    "shareMentionsCount",
    "engagement",
    "clickCount",
    "likeCount",
    "impressionCount",
    "commentMentionsCount",
    "commentCount",
]
COUNT_STATS = [s for s in SHARE_STATS if s != "engagement"]
INT_METRICS = [
    "impressions",
    "clicks",
    "landingPageClicks",
    "externalWebsiteConversions",
    "oneClickLeads",
    "likes",
    "comments",
    "shares",
    "follows",
    "totalEngagements",
]
MONEY_METRICS = ["costInLocalCurrency", "costInUsd", "conversionValueInLocalCurrency"]
ANALYTICS_FIELDS = frozenset(INT_METRICS + MONEY_METRICS + ["dateRange", "pivotValues"])
RESTATED_ADS = ("externalWebsiteConversions", "oneClickLeads", "conversionValueInLocalCurrency")
PIVOTS = {
    "CAMPAIGN": ("campaign_id", "urn:li:sponsoredCampaign:"),
    "CAMPAIGN_GROUP": ("campaign_group_id", "urn:li:sponsoredCampaignGroup:"),
    "ACCOUNT": ("account_id", "urn:li:sponsoredAccount:"),
}


VERSION_LIFETIME_MONTHS = 12
GATEWAY = {"X-Restli-Gateway-Error": "true"}


class BadRequest(Exception):
    pass


def _error(
    status: int, code: str | None, message: str, service_code: int | None = None, headers: dict[str, str] | None = None
) -> Response:
    body: dict = {"status": status}
    if service_code is not None:
        body["serviceErrorCode"] = service_code
    if code is not None:
        body["code"] = code
    body["message"] = message
    return Response.json(status, body, headers if headers is not None else {"X-RestLi-Protocol-Version": "2.0.0"})


# ---- LinkedIn-Version -------------------------------------------------------------------
def version_month(value: str) -> tuple[int, int] | None:
    """(year, month) of a `YYYYMM` or `YYYYMM01` version, or None for anything else."""
    m = re.fullmatch(r"(\d{4})(\d{2})(?:01)?", value)
    if not m or not 1 <= int(m[2]) <= 12:
        return None
    return int(m[1]), int(m[2])


def version_active(value: str, today: date) -> bool:
    """Whether LinkedIn serves this version on `today`: its month has begun and is less than
    `VERSION_LIFETIME_MONTHS` old."""
    ym = version_month(value)
    if ym is None:
        return False
    age = (today.year - ym[0]) * 12 + today.month - ym[1]
    return 0 <= age < VERSION_LIFETIME_MONTHS


def version_refusal(header: str | None, today: date) -> Response | None:
    """The gateway's answer to a missing or inactive `LinkedIn-Version`, or None to go on."""
    value = (header or "").strip()
    if not value:
        return _error(
            400,
            "VERSION_MISSING",
            "A version must be present. Please specify a version by adding the LinkedIn-Version header.",
            headers=GATEWAY,
        )
    if version_active(value, today):
        return None
    named = value + "01" if re.fullmatch(r"\d{6}", value) else value
    return _error(426, "NONEXISTENT_VERSION", f"Requested version {named} is not active", headers=GATEWAY)


def _restli2(req: Request) -> bool:
    return req.headers.get("x-restli-protocol-version", "").strip().startswith("2.")


def ms(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp() * 1000)


# ---- Rest.li 2.0 values -----------------------------------------------------------------
def restli(value: str):
    """Parse a Rest.li 2.0 query value: `(k:v,...)` objects, `List(...)` lists, leaves unquoted."""
    out, i = _restli(value, 0)
    if i != len(value):
        raise BadRequest(f"Malformed Rest.li value: {value}")
    return out


def _restli(s: str, i: int):
    if s.startswith("List(", i):
        i += 5
        items = []
        while i < len(s) and s[i] != ")":
            item, i = _restli(s, i)
            items.append(item)
            if i < len(s) and s[i] == ",":
                i += 1
        return items, i + 1
    if s.startswith("(", i):
        i += 1
        obj = {}
        while i < len(s) and s[i] != ")":
            j = s.index(":", i)
            key = unquote(s[i:j])
            val, i = _restli(s, j + 1)
            obj[key] = val
            if i < len(s) and s[i] == ",":
                i += 1
        return obj, i + 1
    j = i
    while j < len(s) and s[j] not in ",)":
        j += 1
    return unquote(s[i:j]), j


def _dotted(query: dict[str, str], prefix: str) -> dict:
    """Rest.li 1.0 `prefix.a.b=v` parameters as a nested object (`prefix[0]=v` as a list)."""
    obj: dict = {}
    items = []
    for k, v in query.items():
        if k.startswith(prefix + "."):
            node = obj
            parts = k[len(prefix) + 1 :].split(".")
            for p in parts[:-1]:
                node = node.setdefault(p, {})
            node[parts[-1]] = v
        elif re.fullmatch(re.escape(prefix) + r"\[\d+\]", k):
            items.append((int(k[len(prefix) + 1 : -1]), v))
    if items:
        return [v for _, v in sorted(items)]  # type: ignore[return-value]
    return obj


def _param(req: Request, name: str):
    """A structured parameter in either protocol: 2.0 `name=(...)`/`List(...)` (only under the
    2.0 header: Rest.li 1.0 does not read that syntax), or 1.0 dotted."""
    raw = req.query.get(name)
    if raw is not None:
        if not raw.startswith(("(", "List(")):
            return raw
        if not _restli2(req):
            raise BadRequest(
                f"Invalid value for param {name}; wrong type or other syntax error: {raw} is "
                "Rest.li 2.0 syntax, which needs the header X-RestLi-Protocol-Version: 2.0.0"
            )
        return restli(raw)
    dotted = _dotted(req.query, name)
    return dotted or None


class LinkedInApp(App):
    name = "linkedin"
    max_elements = MAX_ELEMENTS
    max_fields = MAX_FIELDS
    default_count = 10

    def __init__(self, world_dir: Path, token: str = DEFAULT_TOKEN, today: date | None = None):
        world_dir = Path(world_dir)
        self.token = token
        self.today = today  # the clock for LinkedIn-Version; None: today's UTC date, read per request
        truths_path = world_dir / "truths.json"
        truths = json.loads(truths_path.read_text()) if truths_path.exists() else {}
        self.as_of = date.fromisoformat(truths.get("spec", {}).get("as_of", "2100-01-01"))
        org_dir, ads_dir = world_dir / "linkedin", world_dir / "linkedin_ads"
        self.orgs = {o["urn"]: o for o in json.loads((org_dir / "organizations.json").read_text())}
        self.share_days: dict[str, list[dict]] = defaultdict(list)
        for r in _jsonl(org_dir / "share_statistics_daily.jsonl"):
            self.share_days[f"urn:li:organization:{r['organization_id']}"].append(r)
        self.gain_days: dict[str, list[dict]] = defaultdict(list)
        for r in _jsonl(org_dir / "follower_gains_daily.jsonl"):
            self.gain_days[f"urn:li:organization:{r['organization_id']}"].append(r)
        self.facets: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
        for r in _jsonl(org_dir / "follower_counts_lifetime.jsonl"):
            self.facets[f"urn:li:organization:{r['organization_id']}"][r["facet"]].append(r)
        self.posts: dict[str, list[dict]] = defaultdict(list)
        self.post_by_urn: dict[str, dict] = {}
        for p in _jsonl(org_dir / "posts.jsonl"):
            self.posts[p["author"]].append(p)
            self.post_by_urn[p["id"]] = p
        for ps in self.posts.values():
            ps.sort(key=lambda p: (-p["createdAt"], p["id"]))
        self.accounts = {a["account_id"]: a for a in json.loads((ads_dir / "accounts.json").read_text())}
        self.groups: list[dict] = json.loads((ads_dir / "campaigns.json").read_text())
        self.campaigns: dict[str, dict] = {}
        for g in self.groups:
            for c in g["campaigns"]:
                self.campaigns[c["campaign_id"]] = {**c, "group": g}
        self.analytics: dict[str, list[dict]] = defaultdict(list)  # by campaign, in date order
        for r in _jsonl(ads_dir / "analytics_daily.jsonl"):
            self.analytics[r["campaign_id"]].append(r)
        self.calls: dict[str, int] = defaultdict(int)

    # ---- what the fake serves now -------------------------------------------------------
    def served_share_day(self, row: dict) -> dict:
        day = date.fromisoformat(row["date"])
        if (self.as_of - day).days >= PAGE_WINDOW:
            return row
        out = dict(row)
        for k in COUNT_STATS:
            out[k] = restatement.restated_int(
                row[k], day, self.as_of, PAGE_WINDOW, self.epoch, k + row["organization_id"]
            )
        out["engagement"] = _engagement(out)
        return out

    def served_analytics(self, row: dict) -> dict:
        day = date.fromisoformat(row["date"])
        if (self.as_of - day).days >= ADS_WINDOW:
            return row
        out = dict(row)
        for k in RESTATED_ADS:
            salt = k + row["campaign_id"]
            if k in MONEY_METRICS:
                out[k] = str(restatement.restated_money(row[k], day, self.as_of, ADS_WINDOW, self.epoch, salt))
            else:
                out[k] = restatement.restated_int(row[k], day, self.as_of, ADS_WINDOW, self.epoch, salt)
        return out

    def current_share_days(self, org_urn: str) -> list[dict]:
        return [self.served_share_day(r) for r in self.share_days.get(org_urn, [])]

    def current_analytics(self, campaign_id: str | None = None) -> list[dict]:
        """Every daily campaign element as the fake would serve it now."""
        ids = [campaign_id] if campaign_id else sorted(self.analytics)
        return [self.served_analytics(r) for cid in ids for r in self.analytics.get(cid, [])]

    def network_size(self, org_urn: str) -> int:
        org = self.orgs[org_urn]
        return org["followers_before"] + sum(
            g["organicFollowerGain"] + g["paidFollowerGain"] for g in self.gain_days.get(org_urn, [])
        )

    # ---- HTTP ---------------------------------------------------------------------------
    def server_error(self, status: int) -> Response:
        text = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}.get(status, "Error")
        return _error(status, text.upper().replace(" ", "_"), text)

    def rate_limited(self, retry_after_s: int) -> Response:
        """LinkedIn's throttle: a daily quota, no Retry-After. The body has `serviceErrorCode` 101 and
        no `code` (recorded in Automattic/wp-calypso#32007; the APPLICATION DAY wording is the one
        quoted from the /rest API in 2026)."""
        return _error(
            429, None, "Resource level throttle APPLICATION DAY limit for calls to this resource is reached.", 101
        )

    def version_today(self) -> date:
        return self.today or datetime.now(UTC).date()

    def handle(self, req: Request) -> Response:
        resp = self._handle(req)
        if resp.headers.get("X-Restli-Gateway-Error") != "true":
            resp.headers["X-RestLi-Protocol-Version"] = "2.0.0" if _restli2(req) else "1.0.0"
        return resp

    def _handle(self, req: Request) -> Response:
        token = req.bearer()
        if not token:
            # LinkedIn's error-handling guide: no token at all is serviceErrorCode 401, no `code`
            return _error(401, None, "Empty oauth2_access_token", 401)
        if token != self.token:
            return _error(401, "INVALID_ACCESS_TOKEN", "Invalid access token", 65600)
        refused = version_refusal(req.headers.get("linkedin-version"), self.version_today())
        if refused is not None:
            return refused
        if req.method != "GET":
            return _error(405, "METHOD_NOT_ALLOWED", f"Method {req.method} is not allowed for {req.path}")
        path = unquote(req.path)
        try:
            if path == "/rest/organizationalEntityShareStatistics":
                return self._share_stats(req)
            if path == "/rest/organizationalEntityFollowerStatistics":
                return self._follower_stats(req)
            m = re.fullmatch(r"/rest/networkSizes/(urn:li:organization:\d+)", path)
            if m:
                return self._network_size(req, m.group(1))
            if path == "/rest/posts":
                return self._posts(req)
            if path == "/rest/adAnalytics":
                return self._analytics(req)
            if path == "/rest/adAccounts":
                return self._list(
                    req, "adAccounts", [self._account(a) for _, a in sorted(self.accounts.items())], bad=BAD_ACCOUNT
                )
            m = re.fullmatch(r"/rest/adAccounts/(\d+)(?:/(adCampaignGroups|adCampaigns))?", path)
            if m:
                return self._account_edge(req, m.group(1), m.group(2))
        except BadRequest as e:
            return _error(400, "ILLEGAL_ARGUMENT", str(e), 100)
        return _error(404, "NOT_FOUND", f"No virtual resource found for {path}")

    # ---- organic ----------------------------------------------------------------------
    def _org(self, req: Request, resource: str) -> str:
        if req.query.get("q") != "organizationalEntity":
            raise BadRequest(
                f"Invalid query parameters passed to request: q must be organizationalEntity for {resource}"
            )
        urn = unquote(req.query.get("organizationalEntity") or "")
        if urn not in self.orgs:
            raise _Denied(f"Not enough permissions to access: {resource}.GET.20250301")
        return urn

    def _interval(self, req: Request) -> tuple[int, int] | None:
        ti = _param(req, "timeIntervals")
        if not ti:
            return None
        try:
            gran = ti.get("timeGranularityType", "DAY")
            start = int(ti["timeRange"]["start"])
            end = int(ti["timeRange"].get("end", ms(self.as_of) + DAY_MS))
        except (KeyError, TypeError, ValueError, AttributeError):
            raise BadRequest(
                "Invalid timeIntervals: expected (timeRange:(start:<ms>,end:<ms>),timeGranularityType:DAY)"
            ) from None
        if gran != "DAY":
            raise BadRequest(f"This fake serves timeGranularityType DAY only, not {gran}")
        if end <= start:
            raise BadRequest("timeRange end must be after its start")
        return start, end

    def _share_stats(self, req: Request) -> Response:
        try:
            urn = self._org(req, "organizationalEntityShareStatistics")
            interval = self._interval(req)
        except _Denied as e:
            return _error(403, "ACCESS_DENIED", str(e), 100)
        self.calls["share_statistics"] += 1
        if self.restate_on_pull:
            self.restate()
        posts = _param(req, "shares") or _param(req, "ugcPosts")
        if posts:
            if isinstance(posts, str):
                posts = [posts]
            key = "share" if req.query.get("shares") is not None or "shares[0]" in req.query else "ugcPost"
            elements = []
            for p_urn in posts:
                p = self.post_by_urn.get(p_urn)
                if p is None or p["author"] != urn:
                    continue
                stats = {k: p[k] for k in COUNT_STATS}
                elements.append(
                    {
                        "organizationalEntity": urn,
                        key: p_urn,
                        "totalShareStatistics": {**stats, "engagement": _engagement(stats)},
                    }
                )
        elif interval is None:
            rows = self.current_share_days(urn)
            stats = {k: sum(r[k] for r in rows) for k in COUNT_STATS}
            elements = [
                {"organizationalEntity": urn, "totalShareStatistics": {**stats, "engagement": _engagement(stats)}}
            ]
        else:
            elements = [
                {
                    "organizationalEntity": urn,
                    "timeRange": {"start": ms(d), "end": ms(d) + DAY_MS},
                    "totalShareStatistics": {k: r[k] for k in SHARE_STATS},
                }
                for r in self.current_share_days(urn)
                if interval[0] <= ms(d := date.fromisoformat(r["date"])) < interval[1]
            ]
        return self._collection(elements)

    def _follower_stats(self, req: Request) -> Response:
        try:
            urn = self._org(req, "organizationalEntityFollowerStatistics")
            interval = self._interval(req)
        except _Denied as e:
            return _error(403, "ACCESS_DENIED", str(e), 100)
        self.calls["follower_statistics"] += 1
        if interval is None:
            el: dict = {"organizationalEntity": urn}
            for facet, rows in self.facets.get(urn, {}).items():
                el[facet] = [
                    {
                        r["item_key"]: r["value"],
                        "followerCounts": {
                            "organicFollowerCount": r["organicFollowerCount"],
                            "paidFollowerCount": r["paidFollowerCount"],
                        },
                    }
                    for r in rows
                ]
            elements = [el]
        else:
            elements = [
                {
                    "organizationalEntity": urn,
                    "timeRange": {"start": ms(d), "end": ms(d) + DAY_MS},
                    "followerGains": {
                        "organicFollowerGain": r["organicFollowerGain"],
                        "paidFollowerGain": r["paidFollowerGain"],
                    },
                }
                for r in self.gain_days.get(urn, [])
                if interval[0] <= ms(d := date.fromisoformat(r["date"])) < interval[1]
            ]
        return self._collection(elements)

    def _network_size(self, req: Request, urn: str) -> Response:
        if req.query.get("edgeType") not in ("COMPANY_FOLLOWED_BY_MEMBER", "CompanyFollowedByMember"):
            raise BadRequest("edgeType must be COMPANY_FOLLOWED_BY_MEMBER")
        if urn not in self.orgs:
            return _error(403, "ACCESS_DENIED", "Not enough permissions to access: networkSizes.GET.20250301", 100)
        self.calls["network_sizes"] += 1
        return Response.json(200, {"firstDegreeSize": self.network_size(urn)})

    def _posts(self, req: Request) -> Response:
        if req.query.get("q") != "author":
            raise BadRequest("Invalid query parameters passed to request: q must be author")
        urn = unquote(req.query.get("author") or "")
        if urn not in self.orgs:
            return _error(403, "ACCESS_DENIED", "Not enough permissions to access: posts.FINDER-author.20250301", 100)
        self.calls["posts"] += 1
        return self._list(req, "posts", [self._post(p) for p in self.posts.get(urn, [])])

    def _post(self, p: dict) -> dict:
        link = f"https://lumora.example/{p['topic'].replace('_', '-')}"
        if p["utm_campaign"]:
            link += "?" + urlencode(
                {"utm_source": "linkedin", "utm_medium": "social", "utm_campaign": p["utm_campaign"]}
            )
        return {
            "id": p["id"],
            "author": p["author"],
            "commentary": f"{p['topic'].replace('_', ' ').title()} at Lumora",
            "visibility": "PUBLIC",
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "content": {"article": {"source": link, "title": p["topic"].replace("_", " ").title()}},
            "createdAt": p["createdAt"],
            "publishedAt": p["publishedAt"],
            "lastModifiedAt": p["lastModifiedAt"],
        }

    # ---- ads --------------------------------------------------------------------------
    def _account(self, a: dict) -> dict:
        return {
            "id": int(a["account_id"]),
            "name": a["name"],
            "currency": a["currency"],
            "status": "ACTIVE",
            "type": "BUSINESS",
            "test": False,
            "reference": next(iter(self.orgs), None),
            "notifiedOnCampaignOptimization": False,
            "notifiedOnCreativeApproval": False,
            "notifiedOnCreativeRejection": False,
            "notifiedOnEndOfCampaign": False,
            "servingStatuses": ["RUNNABLE"],
            "version": {"versionTag": "2"},
        }

    def _status(self, end_ms: int) -> str:
        return "COMPLETED" if end_ms < ms(self.as_of) else "ACTIVE"

    def _account_edge(self, req: Request, account_id: str, edge: str | None) -> Response:
        acc = self.accounts.get(account_id)
        if acc is None:
            return _error(403, "ACCESS_DENIED", "Not enough permissions to access: adAccounts.GET.20250301", 100)
        if edge is None:
            return Response.json(200, self._account(acc))
        if req.query.get("q") != "search":
            raise BadRequest("Invalid query parameters passed to request: q must be search")
        acc_urn = f"urn:li:sponsoredAccount:{account_id}"
        if edge == "adCampaignGroups":
            els = [
                {
                    "id": int(g["campaign_group_id"]),
                    "name": g["name"],
                    "account": acc_urn,
                    "status": self._status(g["end"]),
                    "runSchedule": {"start": g["start"], "end": g["end"]},
                    "test": False,
                    "servingStatuses": ["RUNNABLE"],
                }
                for g in self.groups
                if any(c["account_id"] == account_id for c in g["campaigns"])
            ]
        else:
            els = []
            for cid, c in sorted(self.campaigns.items()):
                if c["account_id"] != account_id:
                    continue
                g = c["group"]
                els.append(
                    {
                        "id": int(cid),
                        "name": c["name"],
                        "account": acc_urn,
                        "campaignGroup": f"urn:li:sponsoredCampaignGroup:{g['campaign_group_id']}",
                        "status": self._status(g["end"]),
                        "type": "SPONSORED_UPDATES",
                        "costType": "CPC",
                        "objectiveType": "LEAD_GENERATION",
                        "format": "SINGLE_IMAGE",
                        "dailyBudget": {"amount": c["daily_budget"], "currencyCode": c["currency"]},
                        "runSchedule": {"start": g["start"], "end": g["end"]},
                        "locale": {"country": "US", "language": "en"},
                        "test": False,
                        "servingStatuses": ["RUNNABLE"],
                    }
                )
        return self._list(req, edge, els)

    def _analytics(self, req: Request) -> Response:
        if req.query.get("q") != "analytics":
            raise BadRequest("Invalid query parameters passed to request: q must be analytics")
        pivot = req.query.get("pivot", "CAMPAIGN")
        gran = req.query.get("timeGranularity", "DAILY")
        if pivot not in PIVOTS:
            raise BadRequest(f"Invalid value for param pivot: {pivot}")
        if gran not in ("DAILY", "MONTHLY", "ALL"):
            raise BadRequest(f"Invalid value for param timeGranularity: {gran}")
        fields_raw = req.query.get("fields")
        fields = [f for f in (fields_raw or "").split(",") if f] or [
            "dateRange",
            "pivotValues",
            "impressions",
            "clicks",
        ]
        if len(fields) > self.max_fields:
            raise BadRequest(
                f"Too many fields requested ({len(fields)}). A request may ask for at most {self.max_fields} fields."
            )
        bad = [f for f in fields if f not in ANALYTICS_FIELDS or f in self.faults.retired_metrics]
        if bad:
            raise BadRequest(f"Invalid field(s) in projection: {', '.join(bad)}")
        dr = _param(req, "dateRange")
        try:
            s = dr["start"]
            start = date(int(s["year"]), int(s["month"]), int(s["day"]))
            e = dr.get("end")
            end = date(int(e["year"]), int(e["month"]), int(e["day"])) if e else self.as_of
        except (KeyError, TypeError, ValueError, AttributeError):
            raise BadRequest(
                "Invalid or missing dateRange: expected (start:(year:..,month:..,day:..),end:(...))"
            ) from None
        campaign_ids = self._facet_campaigns(req)
        if self.restate_on_pull:
            self.restate()
        self.calls["ad_analytics"] += 1
        key_field, prefix = PIVOTS[pivot]
        groups: dict[tuple, dict] = {}
        for cid in campaign_ids:
            for raw in self.analytics.get(cid, []):
                d = date.fromisoformat(raw["date"])
                if not (start <= d <= end):
                    continue
                r = self.served_analytics(raw)
                if gran == "DAILY":
                    period = (d, d)
                elif gran == "MONTHLY":
                    first = d.replace(day=1)
                    nxt = (first + timedelta(days=32)).replace(day=1)
                    period = (max(first, start), min(nxt - timedelta(days=1), end))
                else:
                    period = (start, end)
                k = (period, r[key_field])
                agg = groups.get(k)
                if agg is None:
                    agg = groups[k] = {**{m: 0 for m in INT_METRICS}, **{m: Decimal(0) for m in MONEY_METRICS}}
                for m in INT_METRICS:
                    agg[m] += r[m]
                for m in MONEY_METRICS:
                    agg[m] += Decimal(r[m])
        if len(groups) > self.max_elements:
            raise BadRequest(
                f"Request would return {len(groups)} elements, more than the maximum of "
                f"{self.max_elements}. Please narrow the date range or the list of entities."
            )
        elements = []
        for (period, pv), agg in sorted(groups.items()):
            el = {"dateRange": {"start": _ymd(period[0]), "end": _ymd(period[1])}, "pivotValues": [prefix + pv]}
            el.update({m: agg[m] for m in INT_METRICS})
            el.update({m: str(agg[m]) for m in MONEY_METRICS})
            elements.append({f: el[f] for f in fields})
        return Response.json(
            200, {"paging": {"start": 0, "count": 10, "links": []}, "elements": self.decorate(elements)}
        )

    def _facet_campaigns(self, req: Request) -> list[str]:
        found = False
        ids: set[str] = set()
        for name, prefix, pick in (
            ("campaigns", "urn:li:sponsoredCampaign:", lambda v: [v]),
            (
                "campaignGroups",
                "urn:li:sponsoredCampaignGroup:",
                lambda v: [c for c, x in self.campaigns.items() if x["group"]["campaign_group_id"] == v],
            ),
            (
                "accounts",
                "urn:li:sponsoredAccount:",
                lambda v: [c for c, x in self.campaigns.items() if x["account_id"] == v],
            ),
        ):
            val = _param(req, name)
            if val is None:
                continue
            found = True
            for urn in [val] if isinstance(val, str) else list(val):
                if not str(urn).startswith(prefix):
                    raise BadRequest(f"Invalid URN in {name}: {urn}")
                ids.update(c for c in pick(str(urn)[len(prefix) :]) if c in self.campaigns)
        if not found:
            raise BadRequest("At least one of campaigns, campaignGroups, accounts, creatives must be provided")
        return sorted(ids)

    # ---- helpers ----------------------------------------------------------------------
    def _collection(self, elements: list[dict]) -> Response:
        return Response.json(
            200, {"paging": {"count": 10, "start": 0, "links": []}, "elements": self.decorate(elements)}
        )

    def _list(self, req: Request, resource: str, elements: list[dict], bad: tuple[str, str] | None = None) -> Response:
        try:
            offset = max(0, int(req.query.get("start", "0")))
            count = max(1, min(int(req.query.get("count", str(self.default_count))), 1000))
        except ValueError:
            raise BadRequest("start and count must be integers") from None
        first, nxt = self.page_window(offset, count)
        page = self.decorate(elements[first : first + count])
        if bad:
            page = self.inject_bad(page, *bad)
        links = []
        base = {k: v for k, v in req.query.items() if k not in ("start", "count")}
        path = unquote(req.path)
        if first > 0:
            links.append(
                {
                    "type": "application/json",
                    "rel": "prev",
                    "href": f"{path}?{urlencode({**base, 'start': max(0, first - count), 'count': count})}",
                }
            )
        if nxt < len(elements):
            links.append(
                {
                    "type": "application/json",
                    "rel": "next",
                    "href": f"{path}?{urlencode({**base, 'start': nxt, 'count': count})}",
                }
            )
        return Response.json(
            200, {"paging": {"start": first, "count": count, "total": len(elements), "links": links}, "elements": page}
        )


# The bad-record fault (`App.inject_bad`) is served in the ad account search only: a copy
# without `id` (the key of raw ad_accounts) or with `test` (cast to BOOLEAN) unreadable.
# Elsewhere a malformed copy would not reach the rejects as served: the organic statistics
# have no top-level typed field (an unreadable `timeRange` is what the extractor reads the
# day from), campaigns have none either (`runSchedule` is an object), demographics are JSON,
# and ad analytics elements are merged across field chunks by (dateRange, pivotValues), where
# a bad copy would overwrite its good original.
BAD_ACCOUNT = ("id", "test")


class _Denied(Exception):
    pass


def _engagement(stats: dict) -> float:
    imp = stats["impressionCount"]
    if not imp:
        return 0.0
    return round((stats["clickCount"] + stats["likeCount"] + stats["commentCount"] + stats["shareCount"]) / imp, 12)


def _ymd(d: date) -> dict:
    return {"year": d.year, "month": d.month, "day": d.day}


def _jsonl(path: Path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


NAME = "linkedin"
DOMAINS = ("linkedin", "linkedin_ads")


def make_app(world_dir: Path) -> LinkedInApp:
    return LinkedInApp(world_dir)


def env(url: str, app: LinkedInApp) -> dict[str, str]:
    """Where the fake is and what it serves. No LINKEDIN_VERSION: the version is the client's own
    setting, and the client's default is what a run against the fake should send, as a real run does."""
    return {
        "LINKEDIN_BASE_URL": url,
        "LINKEDIN_TOKEN": app.token,
        "LINKEDIN_ORGANIZATION_IDS": ",".join(sorted(o["organization_id"] for o in app.orgs.values())),
        "LINKEDIN_AD_ACCOUNT_IDS": ",".join(sorted(app.accounts)),
    }
