"""A fake social-listening API, modelled on Brandwatch Consumer Research's mentions API
(queries per project, `GET .../data/mentions?queryId=&startDate=&endDate=&pageSize=&cursor=`
with `resultsTotal`, `resultsPage`, `resultsPageSize`, `results`, `nextCursor`), simplified to
the paths the brief asks for:

- `GET /api/v1/queries` -> `{"resultsTotal": n, "results": [{"id", "name", "type", "entity",
  "boolean_query"}]}`: the brand query and one per competitor.
- `GET /api/v1/mentions?query_id=&start=&end=&limit=&cursor=` (start inclusive, end
  exclusive; ISO dates or timestamps; `limit` 1-1000, default 100) -> `{"resultsTotal",
  "resultsPageSize", "results": [...], "nextCursor"}` oldest first; `nextCursor` only while
  more remain. Each mention: id, query_id, text, author{id, handle, name, followers,
  author_type}, platform, url, reach, engagement{likes, comments, shares}, language,
  published_at, links (when the post carries tracked links). No sentiment: the warehouse
  scores it (the simulator's true label is in the world's `listening/true_sentiment.csv`).

The bad-record fault (`bad_record_rate`) adds a malformed copy of a mention to a page (no
`id`, or `published_at` unreadable). The query list gets none: none of its fields is typed.

Bearer token; 401/404/400 bodies `{"errors":[{"code","message"}]}`; 429 with `Retry-After`;
`X-RateLimit-Limit/Remaining` headers. Mentions are indexed once by (query, time) as byte
offsets into the world's `mentions.jsonl` and read per page: memory stays small at any scale.
"""

from __future__ import annotations

import base64
import bisect
import json
import threading
from array import array
from datetime import UTC, date, datetime
from pathlib import Path

from sampleworld.fakes.base import App, Request, Response

NAME = "listening"
DOMAINS = ("listening",)
TOKEN = "sample-listening-token"
RATE_LIMIT = 30


def _error(status: int, message: str, headers: dict | None = None) -> Response:
    return Response.json(status, {"errors": [{"code": status, "message": message}]}, headers)


def _epoch_ms(value: str) -> int:
    v = value.strip()
    if len(v) == 10:
        d = date.fromisoformat(v)
        dt = datetime(d.year, d.month, d.day, tzinfo=UTC)
    else:
        dt = datetime.fromisoformat(v.replace("Z", "+00:00"))
        dt = dt if dt.tzinfo else dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def _cursor(offset: int, key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([offset, key]).encode()).decode().rstrip("=")


def _uncursor(c: str) -> tuple[int, str] | None:
    try:
        offset, key = json.loads(base64.urlsafe_b64decode(c + "=" * (-len(c) % 4)))
        return int(offset), str(key)
    except Exception:  # noqa: BLE001
        return None


class ListeningApp(App):
    name = "listening"

    def __init__(self, world_dir: Path, token: str = TOKEN):
        self.token = token
        self.dir = Path(world_dir) / "listening"
        self.queries = json.loads((self.dir / "queries.json").read_text())
        self.query_by_id = {q["id"]: q for q in self.queries}
        self.path = self.dir / "mentions.jsonl"
        # per query: published_at (ms) and byte offset of each mention, in file (= time) order
        self.times = {q["id"]: array("q") for q in self.queries}
        self.offsets = {q["id"]: array("q") for q in self.queries}
        with open(self.path, "rb") as f:
            pos = 0
            for line in f:
                qid = line[line.index(b'"query_id":"') + 12 :].split(b'"', 1)[0].decode()
                ts = line[line.index(b'"published_at":"') + 16 :].split(b'"', 1)[0].decode()
                self.times[qid].append(_epoch_ms(ts))
                self.offsets[qid].append(pos)
                pos += len(line)
        self._file = open(self.path, "rb")
        self._lock = threading.Lock()
        self._calls = 0

    def _read(self, offsets) -> list[dict]:
        out = []
        with self._lock:
            for off in offsets:
                self._file.seek(off)
                out.append(json.loads(self._file.readline()))
        return out

    def _read_raw(self, offsets) -> list[bytes]:
        """The stored lines themselves (each a mention as the API serves it)."""
        with self._lock:
            out = []
            for off in offsets:
                self._file.seek(off)
                out.append(self._file.readline().rstrip(b"\n"))
            return out

    def _range(self, qid: str, start_ms: int, end_ms: int) -> tuple[int, int]:
        t = self.times[qid]
        return bisect.bisect_left(t, start_ms), bisect.bisect_left(t, end_ms)

    def current_mentions(self, query_id: str, start: str, end: str) -> list[dict]:
        """Every mention the API serves for the query and range (what a full walk must return)."""
        lo, hi = self._range(query_id, _epoch_ms(start), _epoch_ms(end))
        return self._read(self.offsets[query_id][lo:hi])

    def server_error(self, status: int) -> Response:
        return _error(status, "Internal server error" if status == 500 else "Service temporarily unavailable")

    def rate_limited(self, retry_after_s: int) -> Response:
        return _error(
            429,
            "Rate limit exceeded: 30 requests per 10 minutes",
            {"Retry-After": str(retry_after_s), "X-RateLimit-Limit": str(RATE_LIMIT), "X-RateLimit-Remaining": "0"},
        )

    def handle(self, req: Request) -> Response:
        if req.bearer() != self.token:
            return _error(401, "invalid_token: the access token provided is invalid or has expired")
        with self._lock:
            self._calls += 1
            remaining = RATE_LIMIT - 1 - (self._calls - 1) % RATE_LIMIT
        headers = {"X-RateLimit-Limit": str(RATE_LIMIT), "X-RateLimit-Remaining": str(remaining)}
        if req.path == "/api/v1/queries":
            return Response.json(
                200,
                {
                    "resultsTotal": len(self.queries),
                    "results": [
                        {
                            "id": q["id"],
                            "name": q["name"],
                            "type": q["type"],
                            "entity": q["entity"],
                            "boolean_query": q["boolean"],
                        }
                        for q in self.queries
                    ],
                },
                headers,
            )
        if req.path != "/api/v1/mentions":
            return _error(404, f"No endpoint {req.method} {req.path}")
        qid = req.param("query_id")
        if qid not in self.query_by_id:
            return _error(404 if qid else 400, f"Query {qid} not found" if qid else "query_id is required")
        if not req.param("start") or not req.param("end"):
            return _error(400, "start and end are required")
        try:
            start_ms, end_ms = _epoch_ms(req.param("start")), _epoch_ms(req.param("end"))
            limit = int(req.param("limit", "100"))
        except ValueError:
            return _error(400, "start/end must be ISO 8601 dates or timestamps; limit an integer")
        if not 1 <= limit <= 1000:
            return _error(400, "limit must be between 1 and 1000")
        key = f"{qid}:{start_ms}:{end_ms}"
        offset = 0
        if req.param("cursor"):
            parsed = _uncursor(req.param("cursor"))
            if parsed is None or parsed[1] != key:
                return _error(400, "cursor is invalid or does not belong to this query and range")
            offset = parsed[0]
        lo, hi = self._range(qid, start_ms, end_ms)
        total = hi - lo
        first, nxt = self.page_window(offset, limit)
        window = self.offsets[qid][lo + first : lo + min(total, first + limit)]
        if not (self.faults.extra_field_rate or self.faults.bad_record_rate):
            # nothing to change in the records: splice the stored lines into the body as they
            # are, so serving costs the fake next to nothing and a benchmark measures the client
            head = json.dumps({"resultsTotal": total, "resultsPageSize": limit}, separators=(",", ":"))
            tail = f',"nextCursor":"{_cursor(nxt, key)}"' if nxt < total else ""
            body = b"".join(
                [head[:-1].encode(), b',"results":[', b",".join(self._read_raw(window)), b"]", tail.encode(), b"}"]
            )
            return Response(200, body, {"Content-Type": "application/json; charset=UTF-8", **headers})
        page = self._read(window)
        # bad-record fault: one malformed copy of a mention (no `id`, or an unreadable `published_at`)
        body = {
            "resultsTotal": total,
            "resultsPageSize": limit,
            "results": self.inject_bad(self.decorate(page), "id", "published_at"),
        }
        if nxt < total:
            body["nextCursor"] = _cursor(nxt, key)
        return Response.json(200, body, headers)


def make_app(world_dir: Path) -> ListeningApp:
    return ListeningApp(world_dir)


def env(url: str, app: ListeningApp) -> dict[str, str]:
    return {
        "LISTENING_BASE_URL": url,
        "LISTENING_TOKEN": app.token,
        "LISTENING_QUERY_IDS": ",".join(q["id"] for q in app.queries),
    }
