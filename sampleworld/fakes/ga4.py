"""A fake of the GA4 Data API v1beta `runReport`, in its real shapes.

- `POST /v1beta/properties/{id}:runReport` with Bearer auth and the JSON body of the real API:
  `dateRanges` (YYYY-MM-DD, `today`, `yesterday`, `NdaysAgo`; several ranges add the
  `dateRange` dimension), `dimensions`, `metrics`, `dimensionFilter` (string / inList
  filters, and/or/not groups), `orderBys`, `limit` (default 10,000, at most 250,000 served),
  `offset`, `keepEmptyRows`, `metricAggregations` and `returnPropertyQuota`.
- The response has `dimensionHeaders`, `metricHeaders` (`TYPE_INTEGER`, `TYPE_CURRENCY`,
  `TYPE_FLOAT`), `rows` of `dimensionValues` / `metricValues` strings, `rowCount`,
  `metadata{currencyCode,timeZone}`, `propertyQuota` when asked (tokens consumed per request,
  remaining going down; zero fields left out as proto3 JSON does) and `kind`. With no rows,
  `rows` and `rowCount` are absent. Asking for fewer dimensions aggregates the rows.
- Errors in Google's shape (`{"error":{"code","message","status"}}`): 401 UNAUTHENTICATED for
  a bad token, 403 PERMISSION_DENIED for a property the token cannot read, 400
  INVALID_ARGUMENT for an unknown (or retired: `conversions` is now `keyEvents`) metric or
  dimension, 429 RESOURCE_EXHAUSTED for quota (the rate-limit fault says "Exhausted concurrent
  requests quota.", no Retry-After header, as Google sends none).
- The last 3 days before the world's "today" are provisional: sessions, engaged sessions,
  key events, purchases and revenue move with the restatement epoch (one factor per row).
- The `(other)` row (GA4 help, "About the (other) row"; `ResponseMetaData.dataLossFromOtherRow`):
  a report that asks for a landing page (`landingPage`, `landingPagePlusQueryString`) is
  served from the day's detailed table, which holds at most `row_limit` rows per property and
  day (default 50,000, a standard property's limit; the default world stays far below it, so
  set it low to see one). Beyond it, the least visited rows (fewest sessions, then dimension
  values) are rolled into one row per day whose dimension values are all `(other)` but the
  day's (`date`, `year`, `month`, `yearMonth`), carrying their summed metrics, so totals still
  match. Reports without a landing page come from the smaller summary tables and keep every
  row. `metadata.dataLossFromOtherRow: true` is set when the table a report reads rolled rows
  up on any day of its range, whatever the filters (as documented: the `(other)` row may be
  filtered out and the flag still says data was lost).
- Thresholding (GA4 help, "Data thresholds"): thresholds apply when Google signals is on for
  the property (reporting identity Blended or Observed). `GA4App(google_signals=True)` makes
  every report `metadata.subjectToThresholding: true` and counts it against the
  `potentiallyThresholdedRequestsPerHour` quota (120 an hour; past it, 429 "Exhausted
  potentially thresholded requests quota."). It withholds no rows (the API allows a report
  subject to thresholding with nothing absent), so totals stay exact. Off by default.
  `make run` and `make serve-fakes` take both from `SKW_FAKE_GA4_ROW_LIMIT` and
  `SKW_FAKE_GA4_GOOGLE_SIGNALS` (see `make_app`).
- Both flags are left out when false, as proto3 JSON does (published samples relayed by
  Site Kit's PHP proxy show them as explicit nulls; the API itself sends nothing).
- Campaign labels are the generator's: `(organic)`, `(direct)`, `(referral)` for traffic
  without a campaign, `(not set)` where GA4 cannot tell (`sampleworld/gen/ga4.py`).
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sampleworld import restatement
from sampleworld.entities import CHANNEL_BY_KEY
from sampleworld.fakes.base import App, Request, Response
from sampleworld.gen.ga4 import DIMENSIONS, channel_of

NAME = "ga4"
DOMAINS = ("ga4",)
DEFAULT_TOKEN = "sample-ga4-token"
DEFAULT_LIMIT = 10_000
MAX_LIMIT = 250_000
# Rows a standard property's detailed daily table holds before rolling the rest into (other).
ROW_LIMIT = 50_000
OTHER = "(other)"
# Dimensions that send a report to the detailed (row-limited) table.
DETAIL_DIMENSIONS = frozenset({"landingPage", "landingPagePlusQueryString"})
_DATE_DIMENSIONS = frozenset({"date", "yearMonth", "year", "month"})
WINDOW = restatement.WINDOWS["ga4"]
# Metric name -> (GA4 type, how it is computed from the stored metrics).
INT_METRICS = ("sessions", "engagedSessions", "keyEvents", "ecommercePurchases")
METRIC_TYPES = {
    "sessions": "TYPE_INTEGER",
    "engagedSessions": "TYPE_INTEGER",
    "keyEvents": "TYPE_INTEGER",
    "ecommercePurchases": "TYPE_INTEGER",
    "totalRevenue": "TYPE_CURRENCY",
    "purchaseRevenue": "TYPE_CURRENCY",
    "engagementRate": "TYPE_FLOAT",
}
# Dimensions beyond the stored ones, derived from them.
DERIVED_DIMENSIONS = (
    "sessionSourceMedium",
    "sessionDefaultChannelGroup",
    "yearMonth",
    "year",
    "month",
    "landingPagePlusQueryString",
)
KNOWN_DIMENSIONS = frozenset(DIMENSIONS) | frozenset(DERIVED_DIMENSIONS)
QUOTA = {
    "tokensPerDay": 200_000,
    "tokensPerHour": 40_000,
    "concurrentRequests": 10,
    "serverErrorsPerProjectPerHour": 10,
    "potentiallyThresholdedRequestsPerHour": 120,
    "tokensPerProjectPerHour": 14_000,
}


def google_error(code: int, message: str, status: str) -> Response:
    return Response.json(code, {"error": {"code": code, "message": message, "status": status}})


def _money(x: Decimal) -> str:
    s = f"{x:.2f}".rstrip("0").rstrip(".")
    return s or "0"


def _float(x: float) -> str:
    return repr(float(x)) if x % 1 else str(int(x))


class _BadRequest(Exception):
    pass


class GA4App(App):
    name = "ga4"

    def __init__(
        self,
        world_dir: Path,
        token: str = DEFAULT_TOKEN,
        tokens_per_day: int = QUOTA["tokensPerDay"],
        tokens_per_hour: int = QUOTA["tokensPerHour"],
        row_limit: int = ROW_LIMIT,
        google_signals: bool = False,
    ):
        world_dir = Path(world_dir)
        if not isinstance(row_limit, int) or row_limit < 1:
            raise ValueError(f"GA4 fake: row_limit must be a positive number of rows a day, not {row_limit!r}")
        self.token = token
        self.row_limit = row_limit
        self.google_signals = google_signals
        truths_path = world_dir / "truths.json"
        truths = json.loads(truths_path.read_text()) if truths_path.exists() else {}
        self.as_of = date.fromisoformat(truths.get("spec", {}).get("as_of", "2100-01-01"))
        self.properties = {p["property_id"]: p for p in json.loads((world_dir / "ga4" / "properties.json").read_text())}
        self.quota_limits = {**QUOTA, "tokensPerDay": tokens_per_day, "tokensPerHour": tokens_per_hour}
        # Prepared once: rows by (property, day) as (dimension values, int metrics, revenue).
        self.rows: dict[tuple[str, date], list[tuple[tuple[str, ...], tuple[int, ...], Decimal]]] = defaultdict(list)
        intern: dict[str, str] = {}
        with open(world_dir / "ga4" / "report_rows.jsonl", encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                dims = tuple(intern.setdefault(r[d], r[d]) for d in DIMENSIONS)
                day = date(int(r["date"][:4]), int(r["date"][4:6]), int(r["date"][6:]))
                self.rows[(r["property_id"], day)].append(
                    (dims, tuple(r[m] for m in INT_METRICS), Decimal(r["totalRevenue"]))
                )
        # Days whose detailed table overflows: (rows kept, rows rolled into (other)).
        self.overflow: dict[tuple[str, date], tuple[list, list]] = {}
        for key, rows in self.rows.items():
            if len(rows) > row_limit:
                ranked = sorted(rows, key=lambda row: (-row[1][0], row[0]))
                self.overflow[key] = (ranked[: row_limit - 1], ranked[row_limit - 1 :])
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[int, list, dict, bool]] = {}
        self._used: dict[tuple[str, str, int], int] = defaultdict(int)
        self.calls: dict[str, int] = defaultdict(int)

    # --- the simulator's values -------------------------------------------------------
    def served(self, property_id: str, day: date, row) -> tuple[tuple[str, ...], tuple[int, ...], Decimal]:
        """A stored row as GA4 reports it now: recent days are provisional (one factor per row)."""
        dims, ints, revenue = row
        if (self.as_of - day).days >= WINDOW:
            return row
        salt = f"{property_id}|{'|'.join(dims)}"
        return (
            dims,
            tuple(restatement.restated_int(v, day, self.as_of, WINDOW, self.epoch, salt) for v in ints),
            restatement.restated_money(revenue, day, self.as_of, WINDOW, self.epoch, salt),
        )

    def day_rows(self, property_id: str, day: date, detailed: bool = True):
        """One day's rows as served now, from the detailed table (a landing page asked for:
        at most `row_limit` rows, the rest summed into the `(other)` row) or the summary one."""
        cut = self.overflow.get((property_id, day)) if detailed else None
        if cut is None:
            for row in self.rows.get((property_id, day), ()):
                yield self.served(property_id, day, row)
            return
        kept, rolled = cut
        for row in kept:
            yield self.served(property_id, day, row)
        ints, revenue = [0] * len(INT_METRICS), Decimal(0)
        for row in rolled:  # summed as served now, so the day's totals match on any epoch
            _, r_ints, r_revenue = self.served(property_id, day, row)
            ints = [a + b for a, b in zip(ints, r_ints)]
            revenue += r_revenue
        ymd = day.strftime("%Y%m%d")
        yield tuple(ymd if d == "date" else OTHER for d in DIMENSIONS), tuple(ints), revenue

    def current_rows(self, property_id: str | None = None):
        """Every row at full grain as the fake serves it now: dicts of dimension and metric
        strings (the simulator's current values; the `(other)` row where a day overflows)."""
        for prop, day in sorted(self.rows):
            if property_id is not None and prop != property_id:
                continue
            for dims, ints, revenue in self.day_rows(prop, day):
                yield {
                    "property_id": prop,
                    **dict(zip(DIMENSIONS, dims)),
                    **dict(zip(INT_METRICS, map(str, ints))),
                    "totalRevenue": _money(revenue),
                }

    # --- HTTP ---------------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        if req.bearer() != self.token:
            return google_error(
                401,
                "Request had invalid authentication credentials. Expected OAuth 2 access "
                "token, login cookie or other valid authentication credential. See "
                "https://developers.google.com/identity/sign-in/web/devconsole-project.",
                "UNAUTHENTICATED",
            )
        m = re.fullmatch(r"/v1beta/properties/([^/:]+):runReport", req.path)
        if not m:
            return google_error(404, f"Method not found: {req.method} {req.path}", "NOT_FOUND")
        if req.method != "POST":
            return google_error(405, "Method not allowed.", "METHOD_NOT_ALLOWED")
        prop = m.group(1)
        if prop not in self.properties:
            return google_error(
                403,
                "User does not have sufficient permissions for this property. To learn more "
                "about Property ID, see https://developers.google.com/analytics/devguides/"
                "reporting/data/v1/property-id.",
                "PERMISSION_DENIED",
            )
        try:
            body = json.loads(req.body or b"{}")
            if not isinstance(body, dict):
                raise ValueError
        except ValueError:
            return google_error(400, "Invalid JSON payload received.", "INVALID_ARGUMENT")
        self.calls["runReport"] += 1
        try:
            return self._run_report(prop, body)
        except _BadRequest as exc:
            return google_error(400, str(exc), "INVALID_ARGUMENT")

    def _run_report(self, prop: str, body: dict) -> Response:
        dims = [d.get("name") for d in body.get("dimensions", [])]
        metrics = [x.get("name") for x in body.get("metrics", [])]
        if not metrics and not dims:
            raise _BadRequest("At least one dimension or metric is required.")
        for d in dims:
            if d not in KNOWN_DIMENSIONS:
                raise _BadRequest(
                    f"Field {d} is not a valid dimension. For a list of valid dimensions and metrics, "
                    "see https://developers.google.com/analytics/devguides/reporting/data/v1/api-schema"
                )
        bad = [x for x in metrics if x not in METRIC_TYPES] + self.retired(metrics)
        if bad:
            raise _BadRequest(
                f"Field {bad[0]} is not a valid metric. For a list of valid dimensions and metrics, "
                "see https://developers.google.com/analytics/devguides/reporting/data/v1/api-schema"
            )
        try:
            offset = int(body.get("offset", 0) or 0)
            limit = int(body.get("limit", 0) or 0)
        except (TypeError, ValueError):
            raise _BadRequest("limit and offset must be integers.") from None
        if limit < 0 or offset < 0:
            raise _BadRequest("limit must be positive." if limit < 0 else "offset must be non-negative.")
        limit = min(limit or DEFAULT_LIMIT, MAX_LIMIT)
        ranges = self._date_ranges(body.get("dateRanges") or [])
        if offset == 0 and self.restate_on_pull:
            self.restate()
        key = (
            json.dumps(
                {k: v for k, v in body.items() if k not in ("offset", "limit", "returnPropertyQuota")}, sort_keys=True
            )
            + f"|{prop}"
        )
        with self._lock:
            cached = self._cache.get(key)
        if cached is None or cached[0] != self.epoch:
            rows, aggs, data_loss = self._aggregate(prop, ranges, dims, metrics, body)
            with self._lock:
                if len(self._cache) > 64:
                    self._cache.clear()
                self._cache[key] = (self.epoch, rows, aggs, data_loss)
        else:
            _, rows, aggs, data_loss = cached
        start, _ = self.page_window(offset, limit)
        page = rows[start : start + limit]
        headers_dims = dims + (["dateRange"] if len(ranges) > 1 and "dateRange" not in dims else [])
        out: dict = {
            "dimensionHeaders": [{"name": d} for d in headers_dims],
            "metricHeaders": [{"name": x, "type": METRIC_TYPES[x]} for x in metrics],
        }
        if not headers_dims:
            del out["dimensionHeaders"]
        if page:
            out["rows"] = self.inject_bad(
                self.decorate([self._row(d, v, metrics) for d, v in page]), "dimensionValues", "metricValues"
            )
        out.update(aggs)
        if rows:
            out["rowCount"] = len(rows)
        out["metadata"] = self._metadata(prop, data_loss)
        quota = self._consume(
            prop, 1 + (len(dims) + len(metrics)) // 3 + len(page) // 2500, thresholded=self.google_signals
        )
        if isinstance(quota, str):
            return google_error(429, quota, "RESOURCE_EXHAUSTED")
        if body.get("returnPropertyQuota"):
            out["propertyQuota"] = quota
        out["kind"] = "analyticsData#runReport"
        return Response.json(200, out)

    def _metadata(self, prop: str, data_loss: bool) -> dict:
        """ResponseMetaData in proto3 JSON: the booleans only when true."""
        p = self.properties[prop]
        meta: dict = {"dataLossFromOtherRow": True} if data_loss else {}
        meta.update(currencyCode=p["currency_code"], timeZone=p["time_zone"])
        if self.google_signals:
            meta["subjectToThresholding"] = True
        return meta

    def _row(self, dims: tuple[str, ...], values: list, metrics: list[str]) -> dict:
        row: dict = {}
        if dims:
            row["dimensionValues"] = [{"value": v} for v in dims]
        row["metricValues"] = [{"value": self._fmt(x, v)} for x, v in zip(metrics, values)]
        return row

    @staticmethod
    def _fmt(metric: str, v) -> str:
        t = METRIC_TYPES[metric]
        if t == "TYPE_CURRENCY":
            return _money(v)
        if t == "TYPE_FLOAT":
            return _float(v)
        return str(v)

    def _date_ranges(self, ranges: list[dict]) -> list[tuple[date, date, str]]:
        if not ranges:
            raise _BadRequest("dateRanges is required.")
        if len(ranges) > 4:
            raise _BadRequest("Requests are limited to 4 dateRanges.")
        out = []
        for i, r in enumerate(ranges):
            start, end = self._date(r.get("startDate")), self._date(r.get("endDate"))
            if start > end:
                raise _BadRequest(f"Invalid date range: startDate {start} is after endDate {end}.")
            out.append((start, end, r.get("name") or f"date_range_{i}"))
        return out

    def _date(self, s) -> date:
        if s == "today":
            return self.as_of
        if s == "yesterday":
            return self.as_of - timedelta(days=1)
        m = re.fullmatch(r"(\d+)daysAgo", s or "")
        if m:
            return self.as_of - timedelta(days=int(m.group(1)))
        try:
            return date.fromisoformat(s)
        except (TypeError, ValueError):
            raise _BadRequest(
                f"Invalid date: {s!r}. Dates must be YYYY-MM-DD, NdaysAgo, yesterday, or today."
            ) from None

    @staticmethod
    def _dim_value(name: str, full: dict[str, str]) -> str:
        if name in full:
            return full[name]
        if full["sessionSource"] == OTHER and name not in _DATE_DIMENSIONS and name in KNOWN_DIMENSIONS:
            return OTHER  # the (other) row: every dimension but the day's is (other)
        if name == "sessionSourceMedium":
            return f"{full['sessionSource']} / {full['sessionMedium']}"
        if name == "sessionDefaultChannelGroup":
            ch = channel_of(full["sessionSource"], full["sessionMedium"])
            return CHANNEL_BY_KEY[ch].group if ch else "Unassigned"
        if name == "yearMonth":
            return full["date"][:6]
        if name == "year":
            return full["date"][:4]
        if name == "month":
            return full["date"][4:6]
        if name == "landingPagePlusQueryString":
            return full["landingPage"]
        raise _BadRequest(f"Field {name} is not a valid dimension.")

    def _aggregate(self, prop, ranges, dims, metrics, body) -> tuple[list, dict, bool]:
        """The report's rows (ordered), its metric aggregations, and whether the table it read
        rolled rows into (other) on any of its days (whatever the filter keeps)."""
        flt = body.get("dimensionFilter")
        sums: dict[tuple[str, ...], list] = {}
        multi = len(ranges) > 1
        detailed = not DETAIL_DIMENSIONS.isdisjoint(dims)
        data_loss = False
        for start, end, range_name in ranges:
            d = start
            while d <= end:
                data_loss = data_loss or (detailed and (prop, d) in self.overflow)
                for sdims, ints, revenue in self.day_rows(prop, d, detailed):
                    full = dict(zip(DIMENSIONS, sdims))
                    if flt and not self._match(flt, full):
                        continue
                    key = tuple(self._dim_value(n, full) if n != "dateRange" else range_name for n in dims)
                    if multi and "dateRange" not in dims:
                        key += (range_name,)
                    acc = sums.get(key)
                    if acc is None:
                        acc = sums[key] = [0, 0, 0, 0, Decimal(0)]
                    for i in range(4):
                        acc[i] += ints[i]
                    acc[4] += revenue
                d += timedelta(days=1)
        rows = [(k, [self._metric(x, acc) for x in metrics]) for k, acc in sums.items()]
        rows = self._order(rows, dims, metrics, body.get("orderBys") or [])
        aggs: dict = {}
        names = {
            "TOTAL": ("totals", "RESERVED_TOTAL"),
            "MAXIMUM": ("maximums", "RESERVED_MAX"),
            "MINIMUM": ("minimums", "RESERVED_MIN"),
        }
        n_dims = len(dims) + (1 if multi and "dateRange" not in dims else 0)
        for agg in body.get("metricAggregations") or []:
            if agg not in names or not rows:
                continue
            field, label = names[agg]
            if agg == "TOTAL":
                tot = [0, 0, 0, 0, Decimal(0)]
                for acc in sums.values():
                    for i in range(5):
                        tot[i] += acc[i]
                vals = [self._metric(x, tot) for x in metrics]
            else:
                pick = max if agg == "MAXIMUM" else min
                vals = [pick(r[1][i] for r in rows) for i in range(len(metrics))]
            aggs[field] = [
                {
                    "dimensionValues": [{"value": label}] * n_dims,
                    "metricValues": [{"value": self._fmt(x, v)} for x, v in zip(metrics, vals)],
                }
            ]
        return rows, aggs, data_loss

    @staticmethod
    def _metric(name: str, acc: list):
        if name in INT_METRICS:
            return acc[INT_METRICS.index(name)]
        if name in ("totalRevenue", "purchaseRevenue"):
            return acc[4]
        if name == "engagementRate":
            return round(acc[1] / acc[0], 6) if acc[0] else 0.0
        raise _BadRequest(f"Field {name} is not a valid metric.")

    @staticmethod
    def _order(rows, dims, metrics, order_bys):
        """Sort by the orderBys (stable, last key first); default: first metric descending,
        then the dimension values ascending (a fixed order so offset paging is consistent)."""
        rows.sort(key=lambda r: r[0])
        if not order_bys:
            if metrics:
                rows.sort(key=lambda r: r[1][0], reverse=True)
            return rows
        for ob in reversed(order_bys):
            desc = bool(ob.get("desc"))
            if "metric" in ob:
                name = ob["metric"].get("metricName")
                if name not in metrics:
                    raise _BadRequest(f"orderBys metric {name} must be one of the requested metrics.")
                i = metrics.index(name)
                rows.sort(key=lambda r: r[1][i], reverse=desc)
            elif "dimension" in ob:
                name = ob["dimension"].get("dimensionName")
                if name not in dims:
                    raise _BadRequest(f"orderBys dimension {name} must be one of the requested dimensions.")
                i = dims.index(name)
                rows.sort(key=lambda r: r[0][i], reverse=desc)
        return rows

    def _match(self, expr: dict, full: dict[str, str]) -> bool:
        if "andGroup" in expr:
            return all(self._match(e, full) for e in expr["andGroup"].get("expressions", []))
        if "orGroup" in expr:
            return any(self._match(e, full) for e in expr["orGroup"].get("expressions", []))
        if "notExpression" in expr:
            return not self._match(expr["notExpression"], full)
        f = expr.get("filter") or {}
        name = f.get("fieldName")
        if name not in KNOWN_DIMENSIONS:
            raise _BadRequest(f"Field {name} is not a valid dimension.")
        value = self._dim_value(name, full)
        if "inListFilter" in f:
            return value in f["inListFilter"].get("values", [])
        if "stringFilter" in f:
            sf = f["stringFilter"]
            want, mt = sf.get("value", ""), sf.get("matchType", "EXACT")
            a, b = (value, want) if sf.get("caseSensitive") else (value.lower(), want.lower())
            return {
                "EXACT": a == b,
                "BEGINS_WITH": a.startswith(b),
                "ENDS_WITH": a.endswith(b),
                "CONTAINS": b in a,
                "FULL_REGEXP": re.fullmatch(want, value) is not None,
                "PARTIAL_REGEXP": re.search(want, value) is not None,
            }.get(mt, False)
        raise _BadRequest("Only stringFilter and inListFilter dimension filters are supported by this fake.")

    def _consume(self, prop: str, cost: int, thresholded: bool = False) -> dict | str:
        """Charge the request's tokens (and, for a report subject to thresholding, one of the
        hour's potentially thresholded requests); the quota as GA4 reports it (zeros left
        out), or the 429 message when a bucket is exhausted."""
        now = time.time()
        day_key, hour_key = (prop, "day", int(now // 86400)), (prop, "hour", int(now // 3600))
        thr_key = (prop, "thresholded", int(now // 3600))
        with self._lock:
            if self._used[day_key] + cost > self.quota_limits["tokensPerDay"]:
                return "Exhausted property tokens per day."
            if self._used[hour_key] + cost > self.quota_limits["tokensPerHour"]:
                return "Exhausted property tokens per hour."
            if thresholded and self._used[thr_key] + 1 > self.quota_limits["potentiallyThresholdedRequestsPerHour"]:
                return "Exhausted potentially thresholded requests quota."
            self._used[day_key] += cost
            self._used[hour_key] += cost
            self._used[thr_key] += thresholded
            used_day, used_hour, used_thr = self._used[day_key], self._used[hour_key], self._used[thr_key]

        def status(consumed: int, remaining: int) -> dict:
            return {k: v for k, v in (("consumed", consumed), ("remaining", remaining)) if v}

        q = self.quota_limits
        return {
            "tokensPerDay": status(cost, q["tokensPerDay"] - used_day),
            "tokensPerHour": status(cost, q["tokensPerHour"] - used_hour),
            "concurrentRequests": status(0, q["concurrentRequests"]),
            "serverErrorsPerProjectPerHour": status(0, q["serverErrorsPerProjectPerHour"]),
            "potentiallyThresholdedRequestsPerHour": status(
                int(thresholded), q["potentiallyThresholdedRequestsPerHour"] - used_thr
            ),
            "tokensPerProjectPerHour": status(
                cost, q["tokensPerProjectPerHour"] - min(used_hour, q["tokensPerProjectPerHour"])
            ),
        }

    # --- faults in Google's words ---------------------------------------------------------
    def server_error(self, status: int) -> Response:
        if status == 502:
            return Response(
                502,
                b"<!DOCTYPE html><html lang=en><title>Error 502 (Server Error)!!1</title>"
                b"<p><b>502.</b> <ins>That\xe2\x80\x99s an error.</ins></html>",
                {"Content-Type": "text/html; charset=UTF-8"},
            )
        if status == 503:
            return google_error(503, "The service is currently unavailable.", "UNAVAILABLE")
        return google_error(500, "Internal error encountered.", "INTERNAL")

    def rate_limited(self, retry_after_s: int) -> Response:
        return google_error(429, "Exhausted concurrent requests quota.", "RESOURCE_EXHAUSTED")


ROW_LIMIT_VAR = "SKW_FAKE_GA4_ROW_LIMIT"
GOOGLE_SIGNALS_VAR = "SKW_FAKE_GA4_GOOGLE_SIGNALS"


def make_app(world_dir: Path) -> GA4App:
    """The fake as `make run` and `make serve-fakes` start it. Two settings show GA4's data-loss
    cases through the whole pipeline: `SKW_FAKE_GA4_ROW_LIMIT` (rows a day in the detailed
    table before the `(other)` row; default 50,000, which the default world never reaches) and
    `SKW_FAKE_GA4_GOOGLE_SIGNALS=on` (every report subject to thresholding; default off)."""
    limit = os.environ.get(ROW_LIMIT_VAR, "").strip()
    signals = os.environ.get(GOOGLE_SIGNALS_VAR, "off").strip().lower()
    if limit and not (limit.isdigit() and int(limit) >= 1):
        raise ValueError(f"GA4 fake: {ROW_LIMIT_VAR} must be a positive number of rows a day, not {limit!r}")
    if signals not in ("on", "off"):
        raise ValueError(f"GA4 fake: {GOOGLE_SIGNALS_VAR} must be on or off, not {signals!r}")
    return GA4App(world_dir, row_limit=int(limit) if limit else ROW_LIMIT, google_signals=signals == "on")


def env(url: str, app: GA4App) -> dict[str, str]:
    return {"GA4_BASE_URL": url, "GA4_TOKEN": app.token, "GA4_PROPERTY_IDS": ",".join(sorted(app.properties))}
