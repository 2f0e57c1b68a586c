"""A fake of the Typeform Responses API serving the CSAT survey.

- `GET /forms/{form_id}` -> the form (fields with ids/refs, hidden field names).
- `GET /forms/{form_id}/responses?page_size=&since=&until=&before=&after=&completed=` ->
  `{"total_items", "page_count", "items": [...]}`, newest first. Paging as Typeform
  documents it: pass the `token` of the last item as `before` to get the next (older) page.
  `page_size` 1-1000 (default 25). `since`/`until` are ISO timestamps (inclusive).
  Each item: landing_id, token, response_id, landed_at, submitted_at, metadata{...},
  hidden{channel, platform, ticket_id, conversation_id} (strings; "" when not set),
  calculated{score}, answers[] (the rating as `{"type":"number","number":n}` and the comment
  as `{"type":"text","text":...}`, left out when the customer skipped it, as Typeform does).

The bad-record fault (`bad_record_rate`) adds a malformed copy of a response to a page (no
`token`, or `submitted_at` unreadable).

Bearer personal access token; errors as Typeform writes them: `{"code": "...", "description": "..."}`
(401 AUTHENTICATION_FAILED, 404 FORM_NOT_FOUND, 400 VALIDATION_ERROR, 429 with Retry-After).
"""

from __future__ import annotations

import bisect
import json
import math
from datetime import UTC, datetime
from pathlib import Path

from sampleworld.fakes.base import App, Request, Response
from sampleworld.jsonl import read_jsonl

NAME = "survey"
DOMAINS = ("survey",)
TOKEN = "tfp_sample_survey_token"


def _error(status: int, code: str, description: str, headers: dict | None = None) -> Response:
    return Response.json(status, {"code": code, "description": description}, headers)


def _norm(ts: str) -> str:
    dt = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    dt = dt if dt.tzinfo else dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SurveyApp(App):
    name = "survey"

    def __init__(self, world_dir: Path, token: str = TOKEN):
        self.token = token
        d = Path(world_dir) / "survey"
        self.form = json.loads((d / "form.json").read_text())
        self.fields = {f["ref"]: f for f in self.form["fields"]}
        # Prepared once: items oldest first with their sort keys; served newest first by slicing.
        self.asc = sorted(
            (self._item(r) for r in read_jsonl(d / "responses.jsonl")), key=lambda i: (i["submitted_at"], i["token"])
        )
        self.keys = [(i["submitted_at"], i["token"]) for i in self.asc]
        self.index = {it["token"]: n for n, it in enumerate(self.asc)}

    def _item(self, r: dict) -> dict:
        answers = [
            {
                "field": {"id": self.fields["csat_score"]["id"], "type": "rating", "ref": "csat_score"},
                "type": "number",
                "number": r["score"],
            }
        ]
        if "comment" in r:
            answers.append(
                {
                    "field": {"id": self.fields["csat_comment"]["id"], "type": "long_text", "ref": "csat_comment"},
                    "type": "text",
                    "text": r["comment"],
                }
            )
        return {
            "landing_id": r["token"],
            "token": r["token"],
            "response_id": r["response_id"],
            "landed_at": r["landed_at"],
            "submitted_at": r["responded_at"],
            "metadata": {
                "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X)",
                "platform": "mobile" if r["channel"].startswith("social") else "other",
                "referer": f"https://lumora.typeform.com/to/{r['form_id']}#channel={r['channel']}",
                "network_id": r["token"][:10],
                "browser": "default",
            },
            "hidden": {
                "channel": r["channel"],
                "platform": r["platform"] or "",
                "ticket_id": r["ticket_id"],
                "conversation_id": r["conversation_id"],
            },
            "calculated": {"score": 0},
            "answers": answers,
        }

    def current_items(self, since: str | None = None, until: str | None = None) -> list[dict]:
        """The responses the API serves for the range, newest first (what a full walk returns)."""
        lo, hi = self._range(since, until)
        return self.asc[lo:hi][::-1]

    def _range(self, since: str | None, until: str | None) -> tuple[int, int]:
        lo = bisect.bisect_left(self.keys, (_norm(since), "")) if since else 0
        hi = bisect.bisect_left(self.keys, (_norm(until), "\uffff")) if until else len(self.keys)
        return lo, max(lo, hi)

    def server_error(self, status: int) -> Response:
        return _error(
            status,
            "INTERNAL_SERVER_ERROR" if status == 500 else "SERVICE_UNAVAILABLE",
            "Something went wrong, please try again later",
        )

    def rate_limited(self, retry_after_s: int) -> Response:
        return _error(
            429, "RATE_LIMIT_EXCEEDED", "Too many requests, please slow down", {"Retry-After": str(retry_after_s)}
        )

    def handle(self, req: Request) -> Response:
        if req.bearer() != self.token:
            return _error(401, "AUTHENTICATION_FAILED", "Authentication credentials not found on the Request Headers")
        parts = req.path.strip("/").split("/")
        if len(parts) < 2 or parts[0] != "forms":
            return _error(404, "NOT_FOUND", "Endpoint not found")
        if parts[1] != self.form["id"]:
            return _error(404, "FORM_NOT_FOUND", f"Non existing form with uid {parts[1]}")
        if len(parts) == 2:
            return Response.json(200, self.form)
        if len(parts) != 3 or parts[2] != "responses":
            return _error(404, "NOT_FOUND", "Endpoint not found")
        try:
            size = int(req.param("page_size", "25"))
            lo, hi = self._range(req.param("since"), req.param("until"))
        except ValueError:
            return _error(400, "VALIDATION_ERROR", "page_size must be an integer; since/until ISO 8601 timestamps")
        if not 1 <= size <= 1000:
            return _error(400, "VALIDATION_ERROR", "page_size must be between 1 and 1000")
        if req.param("completed") == "false":
            hi = lo
        offset = 0
        before = req.param("before")
        if before:
            if before not in self.index:
                return _error(400, "VALIDATION_ERROR", f"The token {before} is not valid")
            offset = max(0, hi - min(hi, self.index[before]))  # items at or after the token, in range
        first, _ = self.page_window(offset, size)
        top = hi - first  # newest first: asc index top-1 downwards
        page = self.asc[max(lo, top - size) : max(lo, top)][::-1]
        total = hi - lo
        return Response.json(
            200,
            {
                "total_items": total,
                "page_count": math.ceil(total / size) if total else 0,
                # bad-record fault: one malformed copy of a response (no `token`,
                # or an unreadable `submitted_at`)
                "items": self.inject_bad(self.decorate(page), "token", "submitted_at"),
            },
        )


def make_app(world_dir: Path) -> SurveyApp:
    return SurveyApp(world_dir)


def env(url: str, app: SurveyApp) -> dict[str, str]:
    return {"SURVEY_BASE_URL": url, "SURVEY_TOKEN": app.token, "SURVEY_FORM_ID": app.form["id"]}
