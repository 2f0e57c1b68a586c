"""A fake of the Meta Marketing API's asynchronous ad insights, in its real shapes.

- `POST /v23.0/act_{id}/insights` starts a report run and returns `{"report_run_id": ...}`.
- `GET /v23.0/{report_run_id}` walks `Job Not Started` -> `Job Running` (once at 100%, the
  trap real clients fall into) -> `Job Completed`. Meta's jobs can also end `Job Failed` or
  `Job Skipped` (a client must start the report again): `fail_runs`/`skip_runs` (app
  settings, 0 by default) make the first runs of every report (account and time range) end
  so, deterministically: runs 1..fail_runs fail, the next skip_runs are skipped, later runs
  complete. `async_status` only ever holds the six documented states (`JOB_STATES`).
- `GET /v23.0/{report_run_id}/insights` pages rows with opaque cursors; `paging.next` (with
  the access token in it, as Meta sends it) only while more rows remain. Reading a report
  before it completes fails with code 2601, as the real API does.
- `GET /v23.0/act_{id}` gives the account's currency and time zone.
Every response carries the throttling headers. Token errors come on HTTP 400, as Meta sends
them (not 401): no token gets code 104, a token starting with `EXPIRED` gets code 190 subcode
463 ("Session has expired"), any other wrong token code 190. An unknown field fails the whole
request with code 100. The rate-limit fault throttles as Meta does, on HTTP 400 without
Retry-After (code 17 subcode 2446079 or 80000, `is_transient`); the 5xx fault is Meta's code 2
body.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

from sampleworld import restatement
from sampleworld.fakes.base import App, Request, Response

VERSION = "v23.0"
# Fields the fake accepts; anything else fails like a retired metric does.
KNOWN_FIELDS = frozenset(
    {
        "account_id",
        "account_name",
        "account_currency",
        "campaign_id",
        "campaign_name",
        "adset_id",
        "adset_name",
        "ad_id",
        "ad_name",
        "date_start",
        "date_stop",
        "spend",
        "impressions",
        "clicks",
        "actions",
        "action_values",
        "reach",
        "frequency",
        "cpc",
        "cpm",
        "ctr",
        "objective",
    }
)
RETIRED_WINDOWS = {"7d_view", "28d_view"}
DEFAULT_TOKEN = "sample-meta-token"
# AdReportRun.async_status: the six values Meta documents, and nothing else.
JOB_STATES = ("Job Not Started", "Job Started", "Job Running", "Job Completed", "Job Failed", "Job Skipped")


def _error(status: int, message: str, code: int, subcode: int | None = None, **extra) -> Response:
    err = {"message": message, "type": "OAuthException", "code": code, **extra, "fbtrace_id": "AbCdEfGhIjK"}
    if subcode is not None:
        err["error_subcode"] = subcode
    return Response.json(status, {"error": err})


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _offset(cursor: str) -> int:
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    return int(raw.split(":", 1)[1])


class MetaAdsApp(App):
    name = "meta_ads"

    def __init__(
        self,
        world_dir: Path,
        token: str = DEFAULT_TOKEN,
        polls_to_complete: int = 3,
        max_page_rows: int = 2000,
        fail_runs: int = 0,
        skip_runs: int = 0,
    ):
        self.token = token
        # How many runs of each report end `Job Failed`, then `Job Skipped`, before one completes.
        self.fail_runs, self.skip_runs = fail_runs, skip_runs
        self._runs_of: dict[tuple[str, str, str], int] = defaultdict(int)
        # Larger pages fail with code 1 "Please reduce the amount of data", as Meta's do.
        self.max_page_rows = max_page_rows
        truths = (
            json.loads((Path(world_dir) / "truths.json").read_text())
            if (Path(world_dir) / "truths.json").exists()
            else {}
        )
        self.as_of = date.fromisoformat(truths.get("spec", {}).get("as_of", "2100-01-01"))
        self.polls_to_complete = polls_to_complete
        self.accounts = {
            a["account_id"]: a for a in json.loads((Path(world_dir) / "meta_ads" / "accounts.json").read_text())
        }
        # Prepared once: rows by (account, day), served by slicing.
        self.rows: dict[tuple[str, str], list[dict]] = defaultdict(list)
        with open(Path(world_dir) / "meta_ads" / "insights.jsonl") as f:
            for line in f:
                row = json.loads(line)
                self.rows[(row["account_id"], row["date_start"])].append(row)
        self._jobs: dict[str, dict] = {}
        self._ids = itertools.count(6120000000001)
        self._lock = threading.Lock()
        self.calls = defaultdict(int)
        self.limits_seen: list[int] = []

    def server_error(self, status: int) -> Response:
        """Meta's transient error body (code 2, OAuthException, is_transient, fbtrace_id)."""
        resp = _error(
            status, "An unexpected error has occurred. Please retry your request later.", 2, is_transient=True
        )
        resp.headers.update(self._headers())
        return resp

    def rate_limited(self, retry_after_s: int) -> Response:
        """Meta throttles ad insights on HTTP 400, not 429, and sends no Retry-After: code 17
        (subcode 2446079, the user's request limit) or 80000 (the ad account's business use case),
        `is_transient`; the client reads the usage headers, which ask it to wait."""
        with self._lock:
            self.calls["throttled"] += 1
            n = self.calls["throttled"]
        if n % 2:
            resp = _error(
                400,
                "(#17) User request limit reached",
                17,
                2446079,
                is_transient=True,
                error_user_title="Ads API Rate Limit Reached",
            )
        else:
            resp = _error(
                400,
                "(#80000) There have been too many calls from this ad-account. Wait a bit and "
                "try again. For more info, please refer to https://developers.facebook.com/docs/"
                "graph-api/overview/rate-limiting#ads-management.",
                80000,
                2446079,
                is_transient=True,
            )
        resp.headers.update(self._headers())
        return resp

    def _headers(self, account_id: str | None = None) -> dict[str, str]:
        key = account_id or "0"
        return {
            "x-fb-ads-insights-throttle": json.dumps({"app_id_util_pct": 1.2, "acc_id_util_pct": 3.4}),
            "x-ad-account-usage": json.dumps(
                {"acc_id_util_pct": 9.67, "reset_time_duration": 0, "ads_api_access_tier": "standard_access"}
            ),
            "x-business-use-case-usage": json.dumps(
                {
                    key: [
                        {
                            "type": "ads_insights",
                            "call_count": 3,
                            "total_cputime": 2,
                            "total_time": 2,
                            "estimated_time_to_regain_access": 0,
                        }
                    ]
                }
            ),
        }

    def _token_error(self, token: str | None) -> Response | None:
        """Meta's token errors, on HTTP 400 as Meta sends them (clients that wait for a 401 miss them)."""
        if not token:
            return _error(400, "An access token is required to request this resource.", 104)
        if token.startswith("EXPIRED"):
            expired = self.as_of - timedelta(days=61)
            return _error(
                400,
                f"Error validating access token: Session has expired on {expired:%A, %d-%b-%y} "
                f"06:29:46 PDT. The current time is {self.as_of:%A, %d-%b-%y} 02:11:32 PDT.",
                190,
                463,
            )
        if token != self.token:
            return _error(400, "Invalid OAuth access token - Cannot parse access token", 190)
        return None

    def handle(self, req: Request) -> Response:
        refused = self._token_error(req.bearer())
        if refused is not None:
            return refused
        m = re.fullmatch(rf"/{VERSION}/(act_\d+|\d+)(/insights)?", req.path)
        if not m:
            return _error(400, f"Unknown path components: {req.path}", 2500)
        obj, edge = m.group(1), m.group(2)
        self.calls[(req.method, "account" if obj.startswith("act_") else "report", bool(edge))] += 1
        if obj.startswith("act_"):
            account = self.accounts.get(obj[4:])
            if account is None:
                return _error(
                    400,
                    f"Unsupported get request. Object with ID '{obj}' does not exist, "
                    "cannot be loaded due to missing permissions, or does not support this "
                    "operation.",
                    100,
                    33,
                )
            if edge and req.method == "POST":
                return self._start(req, account)
            if not edge and req.method == "GET":
                return Response.json(
                    200,
                    {
                        "account_id": account["account_id"],
                        "name": account["name"],
                        "currency": account["currency"],
                        "timezone_name": account["timezone_name"],
                        "id": obj,
                    },
                    self._headers(account["account_id"]),
                )
            return _error(400, "Unsupported request method", 100)
        job = self._jobs.get(obj)
        if job is None:
            return _error(400, f"Unsupported get request. Object with ID '{obj}' does not exist", 100, 33)
        return self._results(req, job) if edge else self._status(job)

    def _start(self, req: Request, account: dict) -> Response:
        fields = [f for f in (req.param("fields") or "").split(",") if f]
        bad = [f for f in fields if f not in KNOWN_FIELDS or f in self.faults.retired_metrics]
        if not fields or bad:
            return _error(
                400,
                f"(#100) {', '.join(bad) or 'fields'} is not valid for fields param. "
                "Please check https://developers.facebook.com/docs/marketing-api/reference/"
                "ads-insights/ for all valid values",
                100,
            )
        windows = json.loads(req.param("action_attribution_windows") or "[]")
        try:
            time_range = json.loads(req.param("time_range") or "{}")
            since, until = time_range["since"], time_range["until"]
        except (ValueError, KeyError):
            return _error(400, "(#100) time_range must be a JSON object with since and until", 100)
        if req.param("level", "ad") != "ad" or req.param("time_increment", "1") != "1":
            return _error(400, "(#100) this fake serves level=ad, time_increment=1 only", 100)
        if self.restate_on_pull:
            self.restate()
        rows = [
            self.served(r)
            for (acc, day), rs in sorted(self.rows.items())
            if acc == account["account_id"] and since <= day <= until
            for r in rs
        ]
        keep = set(fields)
        rows = [{k: v for k, v in r.items() if k in keep} for r in rows]
        if windows:
            allowed = {"action_type", "value", *windows} - RETIRED_WINDOWS
            for r in rows:
                for key in ("actions", "action_values"):
                    if key in r:
                        r[key] = [{k: v for k, v in a.items() if k in allowed} for a in r[key]]
        with self._lock:
            run_id = str(next(self._ids))
            report = (account["account_id"], since, until)
            self._runs_of[report] += 1
            self._jobs[run_id] = {
                "id": run_id,
                "account_id": account["account_id"],
                "since": since,
                "until": until,
                "rows": rows,
                "polls": 0,
                "ends": self._run_end(self._runs_of[report]),
            }
        return Response.json(200, {"report_run_id": run_id}, self._headers(account["account_id"]))

    def served(self, row: dict) -> dict:
        """The row as the API reports it now: conversions (actions, action values) of the last
        28 days are provisional and move with the restatement epoch; spend, impressions and
        clicks are final."""
        day = date.fromisoformat(row["date_start"])
        if (self.as_of - day).days >= restatement.WINDOWS["meta"]:
            return row
        out = dict(row)
        for key in ("actions", "action_values"):
            if key in row:
                out[key] = [self._restate_action(a, day, key == "action_values", row["ad_id"]) for a in row[key]]
        return out

    def _restate_action(self, action: dict, day: date, money: bool, salt: str) -> dict:
        if action["action_type"] == "link_click":
            return action
        win = restatement.WINDOWS["meta"]
        out = {}
        for k, v in action.items():
            if k == "action_type":
                out[k] = v
            elif money:
                out[k] = str(restatement.restated_money(v, day, self.as_of, win, self.epoch, salt + k))
            else:
                out[k] = str(restatement.restated_int(int(v), day, self.as_of, win, self.epoch, salt + k))
        return out

    def current_rows(self):
        """Every insight row as the fake would serve it now (the simulator's current values)."""
        for _, rows in sorted(self.rows.items()):
            for r in rows:
                yield self.served(r)

    def restate_to_nothing(self, ad_id: str, day: date) -> int:
        """Meta restates an ad's day to nothing (issue 17; a day found invalid, its delivery
        refunded): a report over that day no longer has a row for the ad. Returns the rows removed."""
        removed = 0
        with self._lock:
            for (_, d), rows in self.rows.items():
                if d == day.isoformat():
                    kept = [r for r in rows if r["ad_id"] != ad_id]
                    removed += len(rows) - len(kept)
                    rows[:] = kept
        return removed

    def _run_end(self, nth: int) -> str:
        """How the nth run of a report ends (see the module docstring)."""
        if nth <= self.fail_runs:
            return "Job Failed"
        if nth <= self.fail_runs + self.skip_runs:
            return "Job Skipped"
        return "Job Completed"

    def _state(self, job: dict, polls: int) -> tuple[str, int]:
        """(async_status, async_percent_completion) at the given poll. A run that completes
        shows 100% while still `Job Running` one poll before it is done; a failing one stops
        half way; a skipped one never starts."""
        ends = job["ends"]
        if polls >= self.polls_to_complete:
            return ends, {"Job Completed": 100, "Job Failed": 50, "Job Skipped": 0}[ends]
        if polls == self.polls_to_complete - 1 and ends != "Job Skipped":
            return "Job Running", 100 if ends == "Job Completed" else 50  # percent says done, status says not yet
        return "Job Not Started", 0

    def _status(self, job: dict) -> Response:
        with self._lock:
            job["polls"] += 1
            polls = job["polls"]
        status, pct = self._state(job, polls)
        return Response.json(
            200,
            {
                "id": job["id"],
                "account_id": job["account_id"],
                "time_ref": 1780000000,
                "async_status": status,
                "async_percent_completion": pct,
                "is_running": status not in ("Job Completed", "Job Failed", "Job Skipped"),
                "date_start": job["since"],
                "date_stop": job["until"],
            },
            self._headers(job["account_id"]),
        )

    def _results(self, req: Request, job: dict) -> Response:
        if job["polls"] < self.polls_to_complete or job["ends"] != "Job Completed":
            return _error(
                400,
                "Error accessing adreport job.",
                2601,
                1815107,
                is_transient=True,
                error_user_title="Loading Async Ads Report Failed",
                error_user_msg="Sorry, the report cannot be loaded successfully. Please check if "
                "your job status is completed instead of failed or running before "
                "fetching the data.",
            )
        limit = max(1, int(req.param("limit", "25")))
        self.limits_seen.append(limit)
        if limit > self.max_page_rows and len(job["rows"]) > self.max_page_rows:
            return Response.json(
                500,
                {
                    "error": {
                        "code": 1,
                        "message": "Please reduce the amount of data you're asking for, then retry your request",
                    }
                },
            )
        offset = _offset(req.param("after")) if req.param("after") else 0
        start, nxt = self.page_window(offset, limit)
        page = self.inject_bad(self.decorate(job["rows"][start : start + limit]), "ad_id", "date_start")
        paging: dict = {"cursors": {"before": _cursor(start), "after": _cursor(nxt)}}
        if nxt < len(job["rows"]):
            query = {"access_token": self.token, "limit": limit, "after": _cursor(nxt)}
            paging["next"] = f"{req.base_url}/{VERSION}/{job['id']}/insights?{urlencode(query)}"
        body = {"data": page, "paging": paging} if page else {"data": []}
        return Response.json(200, body, self._headers(job["account_id"]))


NAME = "meta_ads"
DOMAINS = ("meta_ads",)


def make_app(world_dir: Path) -> MetaAdsApp:
    return MetaAdsApp(world_dir)


def env(url: str, app: MetaAdsApp) -> dict[str, str]:
    return {"META_BASE_URL": url, "META_ACCESS_TOKEN": app.token, "META_AD_ACCOUNT_IDS": ",".join(sorted(app.accounts))}
