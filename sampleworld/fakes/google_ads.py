"""A fake of the Google Ads API (REST, v23) GoogleAdsService, in its real shapes.

- `POST /v23/customers/{cid}/googleAds:searchStream` with `{"query": "<GAQL>"}` answers with a
  JSON array of batches (`results`, `fieldMask`, `requestId`; `queryResourceConsumption` in the
  last batch). No paging token.
- `POST /v23/customers/{cid}/googleAds:search` with `query`, `pageSize`, `pageToken`
  (and `returnTotalResultsCount`) answers one page with `nextPageToken` while more remain.
- Headers: `Authorization: Bearer`, `developer-token`, `login-customer-id` (the manager id).

GAQL: `SELECT <fields> FROM customer|campaign|ad_group|customer_client [WHERE <cond> AND ...]
[ORDER BY <field> [ASC|DESC], ...] [LIMIT n]`; conditions `=, !=, >, >=, <, <=, IN (...), NOT IN
(...), LIKE, BETWEEN 'a' AND 'b', DURING TODAY|YESTERDAY|LAST_7_DAYS|LAST_14_DAYS|LAST_30_DAYS`.
Metrics sum over what the query does not segment by (a campaign row without `segments.date` is
the campaign's total over the date filter), as the API does.

Results use proto3 JSON: camelCase keys, int64 values as strings, enums by name, zero or empty
values left out. The resource in FROM always carries its `resourceName`; other resources carry
theirs when one of their fields is selected.

Errors are Google RPC bodies with a GoogleAdsFailure in `details`: 400 `queryError`
(UNRECOGNIZED_FIELD, also for retired fields; PROHIBITED_RESOURCE_TYPE_IN_SELECT_CLAUSE;
BAD_RESOURCE_TYPE_IN_FROM_CLAUSE; EXPECTED_FILTERS_ON_DATE_RANGE; QUERY_ERROR), 401
UNAUTHENTICATED (bad OAuth token, bad developer token), 403 USER_PERMISSION_DENIED (a customer not
under the manager, or a wrong `login-customer-id`), 429 RESOURCE_EXHAUSTED with `retryDelay`.
Conversions and conversion value of the last 14 days before `as_of` are provisional.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import itertools
import json
import re
import threading
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sampleworld import restatement
from sampleworld.fakes.base import App, Request, Response

VERSION = "v23"
DEFAULT_TOKEN = "sample-google-ads-token"
DEFAULT_DEVELOPER_TOKEN = "sample-developer-token"
FAILURE_TYPE = f"type.googleapis.com/google.ads.googleads.{VERSION}.errors.GoogleAdsFailure"
WINDOW = restatement.WINDOWS["google_ads"]
RESOURCES = ("customer", "campaign", "ad_group", "customer_client")
# Resources whose fields a query FROM the key may select.
COMPATIBLE = {
    "customer": {"customer"},
    "campaign": {"customer", "campaign"},
    "ad_group": {"customer", "campaign", "ad_group"},
    "customer_client": {"customer_client"},
}
INT64, DOUBLE, STRING, ENUM, BOOL = "int64", "double", "string", "enum", "bool"
ATTRIBUTES = {
    "customer.id": INT64,
    "customer.resource_name": STRING,
    "customer.descriptive_name": STRING,
    "customer.currency_code": STRING,
    "customer.time_zone": STRING,
    "customer.manager": BOOL,
    "customer.status": ENUM,
    "campaign.id": INT64,
    "campaign.resource_name": STRING,
    "campaign.name": STRING,
    "campaign.status": ENUM,
    "campaign.advertising_channel_type": ENUM,
    "campaign.serving_status": ENUM,
    "ad_group.id": INT64,
    "ad_group.resource_name": STRING,
    "ad_group.name": STRING,
    "ad_group.status": ENUM,
    "ad_group.type": ENUM,
    "ad_group.campaign": STRING,
    "customer_client.id": INT64,
    "customer_client.resource_name": STRING,
    "customer_client.client_customer": STRING,
    "customer_client.descriptive_name": STRING,
    "customer_client.currency_code": STRING,
    "customer_client.time_zone": STRING,
    "customer_client.manager": BOOL,
    "customer_client.level": INT64,
    "customer_client.status": ENUM,
}
SEGMENTS = {"segments.date": STRING, "segments.device": ENUM}
METRICS = {
    "metrics.cost_micros": INT64,
    "metrics.impressions": INT64,
    "metrics.clicks": INT64,
    "metrics.conversions": DOUBLE,
    "metrics.conversions_value": DOUBLE,
    "metrics.ctr": DOUBLE,
    "metrics.average_cpc": DOUBLE,
    "metrics.cost_per_conversion": DOUBLE,
}
FIELDS = {**ATTRIBUTES, **SEGMENTS, **METRICS}
SUMMED = ("cost_micros", "impressions", "clicks", "conversions", "conversions_value")

_QUERY = re.compile(
    r"^\s*SELECT\s+(?P<select>.+?)\s+FROM\s+(?P<res>\w+)"
    r"(?:\s+WHERE\s+(?P<where>.+?))?(?:\s+ORDER\s+BY\s+(?P<order>.+?))?(?:\s+LIMIT\s+(?P<limit>\d+))?"
    r"(?:\s+PARAMETERS\s+(?P<params>.+?))?\s*;?\s*$",
    re.I | re.S,
)
_VAL = r"(?:'[^']*'|\"[^\"]*\"|-?\d+(?:\.\d+)?|\w+)"
_COND = re.compile(
    rf"\s*(?P<f>[a-z_][a-z0-9_.]*)\s+(?:BETWEEN\s+(?P<b1>{_VAL})\s+AND\s+(?P<b2>{_VAL})"
    rf"|(?P<op>!=|>=|<=|=|>|<|NOT\s+IN|IN|NOT\s+LIKE|LIKE|DURING)\s*(?P<v>\([^)]*\)|{_VAL}))\s*(?:AND\b|$)",
    re.I,
)


class QueryFailure(Exception):
    def __init__(self, code: str, message: str, trigger: str | None = None):
        super().__init__(message)
        self.code, self.message, self.trigger = code, message, trigger


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def field_path(field: str) -> tuple[str, str]:
    resource, attr = field.split(".", 1)
    return camel(resource), camel(attr)


def _unquote(v: str):
    v = v.strip()
    if v[:1] in "'\"" and v[-1:] == v[:1]:
        return v[1:-1]
    return v


def _num(v):
    try:
        return Decimal(str(v))
    except Exception:
        return None


def _cmp(value, op: str, arg) -> bool:
    op = re.sub(r"\s+", " ", op.upper())
    if op in ("IN", "NOT IN"):
        items = [_unquote(x) for x in arg.strip()[1:-1].split(",") if x.strip()]
        hit = str(value) in items
        return hit if op == "IN" else not hit
    if op in ("LIKE", "NOT LIKE"):
        pattern = "^" + re.escape(str(arg)).replace("%", ".*").replace("_", ".") + "$"
        hit = re.match(pattern, str(value or "")) is not None
        return hit if op == "LIKE" else not hit
    a, b = _num(value), _num(arg)
    if a is None or b is None:
        a, b = str(value), str(arg)
    return {"=": a == b, "!=": a != b, ">": a > b, ">=": a >= b, "<": a < b, "<=": a <= b}[op]


class GoogleAdsApp(App):
    name = "google_ads"
    batch_size = 10_000  # rows per searchStream batch
    max_page_size = 10_000

    def __init__(self, world_dir: Path, token: str = DEFAULT_TOKEN, developer_token: str = DEFAULT_DEVELOPER_TOKEN):
        world_dir = Path(world_dir)
        self.token, self.developer_token = token, developer_token
        truths_path = world_dir / "truths.json"
        truths = json.loads(truths_path.read_text()) if truths_path.exists() else {}
        self.as_of = date.fromisoformat(truths.get("spec", {}).get("as_of", "2100-01-01"))
        meta = json.loads((world_dir / "google_ads" / "customers.json").read_text())
        self.manager_id = meta["manager_id"]
        self.manager_name = meta.get("manager_name", "Manager")
        self.customers = {c["customer_id"]: c for c in meta["customers"]}
        self.campaigns: dict[str, dict] = {}
        self.ad_groups: dict[str, dict] = {}
        for c in json.loads((world_dir / "google_ads" / "campaigns.json").read_text()):
            self.campaigns[c["campaign_id"]] = c
            for g in c["ad_groups"]:
                self.ad_groups[g["ad_group_id"]] = {
                    **g,
                    "campaign_id": c["campaign_id"],
                    "customer_id": c["customer_id"],
                }
        # Prepared once: rows by customer, then by day (sorted), served by slicing.
        by_cust: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
        with open(world_dir / "google_ads" / "ad_group_daily.jsonl", encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                by_cust[row["customer_id"]][row["date"]].append(row)
        self.days: dict[str, list[str]] = {cid: sorted(d) for cid, d in by_cust.items()}
        self.rows: dict[str, dict[str, list[dict]]] = {cid: dict(d) for cid, d in by_cust.items()}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._pages: dict[str, list[dict]] = {}
        self.calls: dict[str, int] = defaultdict(int)

    # ---- what the fake serves now -------------------------------------------------------
    def served(self, row: dict) -> dict:
        """A row as the API reports it now: conversions and their value on the last 14 days are
        provisional and move with the restatement epoch; cost, impressions and clicks are final."""
        day = date.fromisoformat(row["date"])
        if (self.as_of - day).days >= WINDOW or not (row["conversions"] or row["conversions_value"]):
            return row
        salt = f"{row['ad_group_id']}:{row['device']}"
        f = restatement.factor(day, self.as_of, WINDOW, self.epoch, salt)
        return {
            **row,
            "conversions": round(row["conversions"] * f, 2),
            "conversions_value": float(
                restatement.restated_money(repr(row["conversions_value"]), day, self.as_of, WINDOW, self.epoch, salt)
            ),
        }

    def current_rows(self, customer_id: str | None = None):
        """Every ad group x day x device row as served now (the simulator's current values)."""
        for cid in sorted(self.rows):
            if customer_id and cid != customer_id:
                continue
            for d in self.days[cid]:
                for r in self.rows[cid][d]:
                    yield self.served(r)

    def run_query(self, customer_id: str, query: str) -> tuple[list[dict], list[str]]:
        """The rendered results of a GAQL query on a customer and its field mask (no faults)."""
        q = self._parse(query)
        return [self._render(r, q) for r in self._execute(customer_id, q)], q["select"]

    # ---- HTTP ---------------------------------------------------------------------------
    def _request_id(self) -> str:
        with self._lock:
            n = next(self._ids)
        return base64.urlsafe_b64encode(hashlib.sha256(f"req{n}".encode()).digest()[:16]).decode().rstrip("=")

    def _failure(self, http: int, status: str, message: str, errors: list[dict]) -> Response:
        return Response.json(
            http,
            {
                "error": {
                    "code": http,
                    "message": message,
                    "status": status,
                    "details": [{"@type": FAILURE_TYPE, "errors": errors, "requestId": self._request_id()}],
                }
            },
        )

    def _query_error(self, e: QueryFailure) -> Response:
        err: dict = {"errorCode": {"queryError": e.code}, "message": e.message}
        if e.trigger is not None:
            err["trigger"] = {"stringValue": e.trigger}
        return self._failure(400, "INVALID_ARGUMENT", "Request contains an invalid argument.", [err])

    def server_error(self, status: int) -> Response:
        if status == 502:
            return Response(
                502,
                b"<!DOCTYPE html><html lang=en><title>Error 502 (Server Error)!!1</title>"
                b"<p><b>502.</b> <ins>That's an error.</ins><p>The server encountered a temporary "
                b"error and could not complete your request.<p>Please try again in 30 seconds.",
                {"Content-Type": "text/html; charset=UTF-8"},
            )
        if status == 503:
            return self._failure(
                503,
                "UNAVAILABLE",
                "The service is currently unavailable.",
                [
                    {
                        "errorCode": {"internalError": "TRANSIENT_ERROR"},
                        "message": "The request failed due to a transient error. Please retry.",
                    }
                ],
            )
        return self._failure(
            500,
            "INTERNAL",
            "Internal error encountered.",
            [{"errorCode": {"internalError": "INTERNAL_ERROR"}, "message": "An internal error has occurred."}],
        )

    def rate_limited(self, retry_after_s: int) -> Response:
        return self._failure(
            429,
            "RESOURCE_EXHAUSTED",
            "Resource has been exhausted (e.g. check quota).",
            [
                {
                    "errorCode": {"quotaError": "RESOURCE_TEMPORARILY_EXHAUSTED"},
                    "message": f"Too many requests. Retry in {retry_after_s} seconds.",
                    "details": {
                        "quotaErrorDetails": {
                            "rateScope": "DEVELOPER",
                            "rateName": "Number of operations for basic access",
                            "retryDelay": f"{retry_after_s}s",
                        }
                    },
                }
            ],
        )

    def handle(self, req: Request) -> Response:
        if req.bearer() != self.token:
            return self._failure(
                401,
                "UNAUTHENTICATED",
                "Request had invalid authentication credentials. Expected OAuth 2 access token, "
                "login cookie or other valid authentication credential. See "
                "https://developers.google.com/identity/sign-in/web/devconsole-project.",
                [
                    {
                        "errorCode": {"authenticationError": "OAUTH_TOKEN_INVALID"},
                        "message": "Oauth token in the header is not valid.",
                    }
                ],
            )
        if req.headers.get("developer-token") != self.developer_token:
            return self._failure(
                401,
                "UNAUTHENTICATED",
                "Request is missing required authentication credential.",
                [
                    {
                        "errorCode": {"authenticationError": "DEVELOPER_TOKEN_INVALID"},
                        "message": "The developer token is not valid.",
                    }
                ],
            )
        m = re.fullmatch(rf"/{VERSION}/customers/(\d+)/googleAds:(searchStream|search)", req.path)
        if not m or req.method != "POST":
            return Response.json(
                404,
                {
                    "error": {
                        "code": 404,
                        "message": f"Method not found: {req.method} {req.path}",
                        "status": "NOT_FOUND",
                    }
                },
            )
        cid, method = m.groups()
        login = (req.headers.get("login-customer-id") or "").replace("-", "")
        if login != self.manager_id or (cid != self.manager_id and cid not in self.customers):
            return self._failure(
                403,
                "PERMISSION_DENIED",
                "The caller does not have permission",
                [
                    {
                        "errorCode": {"authorizationError": "USER_PERMISSION_DENIED"},
                        "message": "User doesn't have permission to access customer. Note: If you're accessing a client "
                        "customer, the manager's customer id must be set in the 'login-customer-id' header. "
                        "See https://developers.google.com/google-ads/api/docs/concepts/call-structure#cid",
                    }
                ],
            )
        try:
            body = json.loads(req.body or b"{}")
        except ValueError:
            return Response.json(
                400, {"error": {"code": 400, "message": "Invalid JSON payload received.", "status": "INVALID_ARGUMENT"}}
            )
        self.calls[method] += 1
        if method == "search" and body.get("pageToken"):
            return self._search_page(cid, body)
        query = body.get("query") or ""
        try:
            q = self._parse(query)
        except QueryFailure as e:
            return self._query_error(e)
        if self.restate_on_pull:
            self.restate()
        rows = [self._render(r, q) for r in self._execute(cid, q)]
        mask = ",".join(".".join(field_path(f)) for f in q["select"])
        consumption = str(50 + len(rows) // 10)
        if method == "searchStream":
            batches = []
            for i in range(0, len(rows), self.batch_size):
                batches.append(
                    {
                        "results": self.inject_bad(
                            self.decorate(rows[i : i + self.batch_size]), *bad_record_fields(q["resource"], rows)
                        ),
                        "fieldMask": mask,
                        "requestId": "",
                    }
                )
            if not batches:
                batches.append({"fieldMask": mask, "requestId": ""})
            rid = self._request_id()
            for b in batches:
                b["requestId"] = rid
            batches[-1]["queryResourceConsumption"] = consumption
            return Response.json(200, batches)
        key = hashlib.sha256(f"{cid}|{query}|{self._request_id()}".encode()).hexdigest()[:16]
        with self._lock:
            self._pages[key] = rows
        return self._page(key, rows, 0, body, mask, consumption)

    def _page(self, key: str, rows: list[dict], offset: int, body: dict, mask: str, consumption: str) -> Response:
        size = max(1, min(int(body.get("pageSize") or self.max_page_size), self.max_page_size))
        start, nxt = self.page_window(offset, size)
        out: dict = {}
        page = self.decorate(rows[start : start + size])
        if page:
            page = self.inject_bad(page, *bad_record_fields(None, page))
        if page:
            out["results"] = page
        if nxt < len(rows):
            token = base64.urlsafe_b64encode(
                json.dumps({"k": key, "o": nxt, "m": mask, "c": consumption}).encode()
            ).decode()
            out["nextPageToken"] = token
        if body.get("returnTotalResultsCount"):
            out["totalResultsCount"] = str(len(rows))
        out.update(fieldMask=mask, requestId=self._request_id(), queryResourceConsumption=consumption)
        return Response.json(200, out)

    def _search_page(self, cid: str, body: dict) -> Response:
        try:
            tok = json.loads(base64.urlsafe_b64decode(body["pageToken"].encode()))
            rows = self._pages[tok["k"]]
        except (ValueError, KeyError, TypeError):
            return self._failure(
                400,
                "INVALID_ARGUMENT",
                "Request contains an invalid argument.",
                [{"errorCode": {"requestError": "INVALID_PAGE_TOKEN"}, "message": "Page token is invalid."}],
            )
        return self._page(tok["k"], rows, int(tok["o"]), body, tok["m"], tok["c"])

    # ---- GAQL ---------------------------------------------------------------------------
    def _parse(self, query: str) -> dict:
        m = _QUERY.match(query or "")
        if not m:
            raise QueryFailure("QUERY_ERROR", "Error in query: unexpected input " + (query or "''")[:40] + ".")
        resource = m.group("res").lower()
        if resource not in RESOURCES:
            raise QueryFailure(
                "BAD_RESOURCE_TYPE_IN_FROM_CLAUSE",
                f"Error in FROM clause: invalid resource name '{resource}'.",
                resource,
            )
        select = [f.strip() for f in m.group("select").split(",") if f.strip()]
        conds = []
        where = m.group("where") or ""
        pos = 0
        while pos < len(where.rstrip()):
            c = _COND.match(where, pos)
            if not c or c.end() == pos:
                raise QueryFailure("QUERY_ERROR", f"Error in WHERE clause: unexpected input {where[pos : pos + 30]}.")
            if c.group("b1") is not None:
                conds.append((c.group("f"), ">=", _unquote(c.group("b1"))))
                conds.append((c.group("f"), "<=", _unquote(c.group("b2"))))
            elif c.group("op").upper() == "DURING":
                lo, hi = self._during(c.group("v").upper())
                conds += [(c.group("f"), ">=", lo), (c.group("f"), "<=", hi)]
            else:
                v = c.group("v")
                conds.append((c.group("f"), c.group("op"), v if v.startswith("(") else _unquote(v)))
            pos = c.end()
        order = []
        for part in (m.group("order") or "").split(","):
            bits = part.split()
            if bits:
                order.append((bits[0], len(bits) > 1 and bits[1].upper() == "DESC"))
        for f in [*select, *(c[0] for c in conds), *(o[0] for o in order)]:
            if f not in FIELDS or f in self.faults.retired_metrics:
                raise QueryFailure("UNRECOGNIZED_FIELD", f"Unrecognized field in the query: '{f}'.", f)
            res = f.split(".", 1)[0]
            if res not in ("segments", "metrics") and res not in COMPATIBLE[resource]:
                raise QueryFailure(
                    "PROHIBITED_RESOURCE_TYPE_IN_SELECT_CLAUSE",
                    f"Cannot select fields from the following resource: '{res}', since the resource "
                    f"is incompatible with the resource in FROM clause.",
                    res,
                )
            if resource == "customer_client" and res in ("segments", "metrics"):
                raise QueryFailure(
                    "PROHIBITED_SEGMENT_WITH_METRIC_IN_SELECT_OR_WHERE_CLAUSE",
                    f"'{f}' cannot be used with resource 'customer_client'.",
                    f,
                )
        if "segments.date" in select:
            ops = {op for f, op, _ in conds if f == "segments.date"}
            if not ({">=", ">", "="} & ops and {"<=", "<", "="} & ops):
                raise QueryFailure(
                    "EXPECTED_FILTERS_ON_DATE_RANGE",
                    "Filters on date/week/month/quarter/year date segments must form a finite range.",
                )
        return {
            "resource": resource,
            "select": select,
            "conds": conds,
            "order": order,
            "limit": int(m.group("limit")) if m.group("limit") else None,
        }

    def _during(self, literal: str) -> tuple[str, str]:
        today = self.as_of
        spans = {
            "TODAY": (0, 0),
            "YESTERDAY": (1, 1),
            "LAST_7_DAYS": (7, 1),
            "LAST_14_DAYS": (14, 1),
            "LAST_30_DAYS": (30, 1),
        }
        if literal not in spans:
            raise QueryFailure(
                "INVALID_VALUE_WITH_DURING_OPERATOR", f"Invalid value with DURING operator: '{literal}'.", literal
            )
        back, fwd = spans[literal]
        return (today - timedelta(days=back)).isoformat(), (today - timedelta(days=fwd)).isoformat()

    def _value(self, field: str, row: dict):
        """A field's raw value for a base row or an aggregate (a dict of ids, segments, metrics)."""
        res, attr = field.split(".", 1)
        if res == "metrics":
            if attr in SUMMED:
                return row[attr]
            clicks, imp, cost, conv = row["clicks"], row["impressions"], row["cost_micros"], row["conversions"]
            if attr == "ctr":
                return clicks / imp if imp else 0.0
            if attr == "average_cpc":
                return cost / clicks if clicks else 0.0
            return cost / conv if conv else 0.0
        if res == "segments":
            return row[attr]
        if res == "customer_client":
            c = row["client"]
            return {
                "id": c["customer_id"],
                "descriptive_name": c["descriptive_name"],
                "currency_code": c["currency_code"],
                "time_zone": c["time_zone"],
                "manager": c["customer_id"] == self.manager_id,
                "level": str(row["level"]),
                "status": "ENABLED",
                "client_customer": f"customers/{c['customer_id']}",
                "resource_name": f"customers/{row['owner']}/customerClients/{c['customer_id']}",
            }[attr]
        if res == "customer":
            c = self.customers.get(row["customer_id"]) or self._manager()
            return {
                "id": c["customer_id"],
                "descriptive_name": c["descriptive_name"],
                "currency_code": c["currency_code"],
                "time_zone": c["time_zone"],
                "manager": c["customer_id"] == self.manager_id,
                "status": "ENABLED",
                "resource_name": f"customers/{c['customer_id']}",
            }[attr]
        if res == "campaign":
            c = self.campaigns[row["campaign_id"]]
            ended = date.fromisoformat(c["end_date"]) < self.as_of
            return {
                "id": c["campaign_id"],
                "name": c["name"],
                "status": "ENABLED",
                "advertising_channel_type": c["advertising_channel_type"],
                "serving_status": "ENDED" if ended else "SERVING",
                "resource_name": f"customers/{c['customer_id']}/campaigns/{c['campaign_id']}",
            }[attr]
        g = self.ad_groups[row["ad_group_id"]]
        return {
            "id": g["ad_group_id"],
            "name": g["name"],
            "status": "ENABLED",
            "type": "SEARCH_STANDARD",
            "campaign": f"customers/{g['customer_id']}/campaigns/{g['campaign_id']}",
            "resource_name": f"customers/{g['customer_id']}/adGroups/{g['ad_group_id']}",
        }[attr]

    def _manager(self) -> dict:
        return {
            "customer_id": self.manager_id,
            "descriptive_name": self.manager_name,
            "currency_code": "EUR",
            "time_zone": "Europe/Berlin",
        }

    def _execute(self, cid: str, q: dict) -> list[dict]:
        res, select, conds = q["resource"], q["select"], q["conds"]
        metric_conds = [c for c in conds if c[0].startswith("metrics.")]
        row_conds = [c for c in conds if not c[0].startswith("metrics.")]
        if res == "customer_client":
            clients = (
                [(self._manager(), 0)] + [(c, 1) for _, c in sorted(self.customers.items())]
                if cid == self.manager_id
                else [(self.customers[cid], 0)]
            )
            out = [{"client": c, "level": lvl, "owner": cid} for c, lvl in clients]
        elif not any(f.startswith(("metrics.", "segments.")) for f in [*select, *(c[0] for c in conds)]):
            out = self._entities(cid, res)  # attributes only: every resource, with or without stats
        else:
            out = self._aggregate(cid, q)
        if res not in ("customer_client",) and any(
            f.startswith(("metrics.", "segments.")) for f in [*select, *(c[0] for c in conds)]
        ):
            row_conds = []  # applied to the rows before they were summed
        out = [r for r in out if all(_cmp(self._value(f, r), op, v) for f, op, v in row_conds + metric_conds)]
        for field, desc in reversed(q["order"]):
            out.sort(key=lambda r, f=field: self._value(f, r), reverse=desc)
        return out[: q["limit"]] if q["limit"] is not None else out

    def _entities(self, cid: str, res: str) -> list[dict]:
        if cid == self.manager_id:
            return [{"customer_id": cid}] if res == "customer" else []
        if res == "customer":
            return [{"customer_id": cid}]
        if res == "campaign":
            return [
                {"customer_id": cid, "campaign_id": k} for k, c in self.campaigns.items() if c["customer_id"] == cid
            ]
        return [
            {"customer_id": cid, "campaign_id": g["campaign_id"], "ad_group_id": k}
            for k, g in self.ad_groups.items()
            if g["customer_id"] == cid
        ]

    def _aggregate(self, cid: str, q: dict) -> list[dict]:
        days = self.days.get(cid, [])
        lo, hi = "", "9999-12-31"
        for f, op, v in q["conds"]:
            if f == "segments.date" and op in (">=", ">", "="):
                lo = max(lo, v)
            if f == "segments.date" and op in ("<=", "<", "="):
                hi = min(hi, v)
        pre = [c for c in q["conds"] if not c[0].startswith("metrics.")]
        id_keys = {
            "customer": ("customer_id",),
            "campaign": ("customer_id", "campaign_id"),
            "ad_group": ("customer_id", "campaign_id", "ad_group_id"),
        }[q["resource"]]
        segs = [f.split(".", 1)[1] for f in q["select"] if f.startswith("segments.")]
        groups: dict[tuple, dict] = {}
        for d in days[bisect.bisect_left(days, lo) : bisect.bisect_right(days, hi)]:
            for raw in self.rows[cid][d]:
                row = self.served(raw)
                if pre and not all(_cmp(self._value(f, row), op, v) for f, op, v in pre):
                    continue
                key = tuple(row[k] for k in id_keys) + tuple(row[s] for s in segs)
                agg = groups.get(key)
                if agg is None:
                    agg = groups[key] = {
                        **{k: row[k] for k in id_keys},
                        **{s: row[s] for s in segs},
                        "cost_micros": 0,
                        "impressions": 0,
                        "clicks": 0,
                        "conversions": Decimal(0),
                        "conversions_value": Decimal(0),
                    }
                for k in ("cost_micros", "impressions", "clicks"):
                    agg[k] += row[k]
                agg["conversions"] += Decimal(repr(row["conversions"]))
                agg["conversions_value"] += Decimal(repr(row["conversions_value"]))
        out = []
        for key in sorted(groups):
            agg = groups[key]
            agg["conversions"], agg["conversions_value"] = float(agg["conversions"]), float(agg["conversions_value"])
            out.append(agg)
        return out

    def _render(self, row: dict, q: dict) -> dict:
        out: dict = {}
        main = q["resource"]
        touched = {main} | {f.split(".", 1)[0] for f in q["select"]}
        for res in ("customer", "campaign", "ad_group", "customer_client"):
            if res in touched:
                out.setdefault(camel(res), {})["resourceName"] = self._value(f"{res}.resource_name", row)
        if any(f.startswith("metrics.") for f in q["select"]):
            out["metrics"] = {}
        for f in q["select"]:
            obj, key = field_path(f)
            v = self._value(f, row)
            kind = FIELDS[f]
            if kind == INT64:
                v = str(int(v))
                if v == "0":
                    continue
            elif kind == DOUBLE:
                v = float(v)
                if v == 0:
                    continue
            elif kind == BOOL:
                if not v:
                    continue
            elif v in ("", None):
                continue
            out.setdefault(obj, {})[key] = v
        return out


NAME = "google_ads"
DOMAINS = ("google_ads",)


# The bad-record fault (`App.inject_bad`) needs a key field and a typed field at the top of
# the row, and a Google Ads row holds every field one level down (`adGroup.id`,
# `segments.date`). So the malformed copy loses the whole object holding a key field (its
# resource: `adGroup`, `campaign`, `customer`), or has the object holding the typed field
# (`segments`, whose `date` the raw tables cast to DATE) unreadable: either way the raw
# table finds a required field missing (`$.adGroup.id`, `$.segments.date`, ...) and rejects
# it. A row without segments (customers, campaigns) has `customer` (holding `customer.id`,
# a key of both) made unreadable instead. Metrics are not used: a `metrics` object made
# unreadable leaves only absent numbers, which the raw tables load as NULL.
RESOURCE_OBJECT = {"ad_group": "adGroup", "campaign": "campaign", "customer": "customer"}


def bad_record_fields(resource: str | None, rows: list[dict]) -> tuple[str, str]:
    """(key field, typed field) of `inject_bad` for rows of `resource` (guessed from the rows
    when None, as for a `search` page)."""
    first = rows[0] if rows else {}
    if resource is None:
        resource = next((r for r, obj in RESOURCE_OBJECT.items() if r != "customer" and obj in first), "customer")
    key = RESOURCE_OBJECT.get(resource, "customer")
    return key, "segments" if "segments" in first else "customer"


def make_app(world_dir: Path) -> GoogleAdsApp:
    return GoogleAdsApp(world_dir)


def env(url: str, app: GoogleAdsApp) -> dict[str, str]:
    return {
        "GOOGLE_ADS_BASE_URL": url,
        "GOOGLE_ADS_TOKEN": app.token,
        "GOOGLE_ADS_DEVELOPER_TOKEN": app.developer_token,
        "GOOGLE_ADS_LOGIN_CUSTOMER_ID": app.manager_id,
        "GOOGLE_ADS_CUSTOMER_IDS": ",".join(sorted(app.customers)),
    }
