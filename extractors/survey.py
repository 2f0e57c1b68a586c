"""CSAT survey responses from the Typeform Responses API, per UTC day of submission.

`GET /forms/{form_id}/responses?since=&until=&page_size=` lists a day's responses newest
first; the next (older) page is asked for with `before=<token of the last item>`, as
Typeform documents. Answers arrive as a list of `{field{id, ref, type}, type, <type>: value}`;
the client adds `answers_by_ref` ({ref: value as sent}) beside them so the warehouse can read
a question by its ref, and leaves everything else as it came. A question the configuration
names but the form no longer has fails the run naming the ref and the setting.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import requests

from extractors.client import SourceClient
from extractors.days import utc_day_bounds
from extractors.http import (
    ApiError,
    AuthError,
    FatalError,
    LoopGuard,
    Paginator,
    RetryableError,
    RetryPolicy,
    retry_after_seconds,
)
from extractors.streams import Stream

log = logging.getLogger(__name__)

SOURCE = "survey"

TYPEFORM_TIME = "%Y-%m-%dT%H:%M:%SZ"
# The form's questions (field refs) the warehouse reads. Configuration, not code.
DEFAULT_ANSWER_REFS: tuple[str, ...] = ("csat_score", "csat_comment")

RESPONSES = Stream(
    SOURCE,
    "responses",
    primary_key=("token",),
    cursor_field="submitted_date",
    restatement_days=0,
    disposition="replace_partition",
    path="forms/{id}/responses",
    records_at="items",
    paginator=lambda: BeforeTokenPaginator(),
    size_param="page_size",
    setting="answer_refs",
    reader="responses",
    columns={
        "token": "VARCHAR",
        "response_id": "VARCHAR",
        "submitted_date": "DATE <- $.submitted_at",
        "submitted_at": "TIMESTAMPTZ",
        "landed_at": "TIMESTAMPTZ",
        "channel": "VARCHAR <- $.hidden.channel",
        "platform": "VARCHAR <- $.hidden.platform",
        "ticket_id": "VARCHAR <- $.hidden.ticket_id",
        "conversation_id": "VARCHAR <- $.hidden.conversation_id",
        "csat_score": "INTEGER <- $.answers_by_ref.csat_score",
        "csat_comment": "VARCHAR <- $.answers_by_ref.csat_comment",
        "answers_by_ref": "JSON",
    },
    description="CSAT survey responses (Typeform) per UTC day of submission, with the support contact "
    "they rate (hidden fields) and the answers by question ref.",
)
STREAMS = (RESPONSES,)


def classify_survey_error(resp: requests.Response, url: str) -> ApiError | None:
    """Typeform's `{"code", "description"}` into a retryable or fatal error that says what to fix."""
    try:
        body = resp.json()
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    code = body.get("code")
    message = body.get("description") or body.get("message") or resp.reason or ""
    if code and code not in str(message):
        message = f"{code}: {message}"
    kw = dict(status=resp.status_code, code=code, url=url, retry_after=retry_after_seconds(resp))
    if resp.status_code in (401, 403) or code in ("AUTHENTICATION_FAILED", "UNAUTHORIZED", "FORBIDDEN"):
        return AuthError(
            SOURCE,
            f"{message}. The token was refused: set a valid personal access "
            "token (scope responses:read) in SURVEY_TOKEN",
            **kw,
        )
    if resp.status_code == 429 or resp.status_code >= 500:
        return RetryableError(SOURCE, message, **kw)
    if code == "FORM_NOT_FOUND":
        return FatalError(SOURCE, f"{message}. Check SURVEY_FORM_ID", **kw)
    return FatalError(SOURCE, message, **kw)


def answer_value(answer: dict) -> Any:
    """An answer's value as sent: the field named by its `type` (number, text, choice, ...)."""
    kind = answer.get("type")
    return answer.get(kind) if kind else None


def with_answers_by_ref(item: dict) -> dict:
    """The item with `answers_by_ref` added ({field ref (else id): value as sent}); the
    answers list itself stays as it came."""
    flat = {}
    for a in item.get("answers") or []:
        if not isinstance(a, dict):
            continue
        f = a.get("field") or {}
        flat[f.get("ref") or f.get("id")] = answer_value(a)
    return {**item, "answers_by_ref": flat}


@dataclass
class BeforeTokenPaginator(Paginator):
    """Typeform paging: `before=<token of the page's last item>` until a page comes back empty
    or every item `total_items` promised has been seen. A token that comes back is a page
    served again (its items repeat; the loader keeps one copy); more than `max_repeats` in a
    row is a loop."""

    items_at: str = "items"
    param: str = "before"
    max_repeats: int = 5
    seen_items: set = field(default_factory=set)
    guard: LoopGuard | None = None

    def next_params(self, body: Any, params: dict) -> dict | None:
        items = body.get(self.items_at) or []
        if not items:
            return None
        tokens = [i.get("token") if isinstance(i, dict) else None for i in items]
        self.seen_items.update(t for t in tokens if t)
        total = body.get("total_items")
        if isinstance(total, int) and len(self.seen_items) >= total:
            return None
        # The oldest item's token. A malformed copy of an item (no token, or a token already on
        # the page) is not where the page ends: paging from it would skip items.
        token = next((t for t in reversed(tokens) if t and tokens.count(t) == 1), None)
        if not token:
            raise FatalError(SOURCE, "no item of the page has a token to page on")
        if self.guard is None:  # an older token coming back is a page served again, not a loop
            self.guard = LoopGuard(SOURCE, "page token", max_repeats=self.max_repeats, refuse_earlier=False)
        self.guard.check(token)
        return {**params, self.param: token}


class SurveyClient(SourceClient):
    """Responses of one form. Base URL, token and form id come from the caller (the environment)."""

    SOURCE = SOURCE

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        form_id: str,
        answer_refs: Sequence[str] = DEFAULT_ANSWER_REFS,
        page_size: int = 1000,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if not token:
            raise AuthError(SOURCE, "no access token: set SURVEY_TOKEN")
        if not form_id:
            raise FatalError(SOURCE, "no form configured: set SURVEY_FORM_ID")
        if not 1 <= page_size <= 1000:
            raise ValueError(f"{SOURCE}: page_size must be 1-1000, got {page_size}")
        super().__init__(STREAMS)
        self.form_id = form_id
        self.answer_refs = tuple(answer_refs)
        self.page_size = page_size
        self._form: dict | None = None
        self.http = self.http_core(
            base_url,
            headers={"Authorization": f"Bearer {token}"},
            secrets=(token,),
            retry=retry,
            classify_error=classify_survey_error,
            sleep=sleep,
        )

    def read_responses(self, stream: Stream, day: date) -> Iterator[list[dict]]:
        self.check_form()
        yield from self.response_pages(day)

    def form(self) -> dict:
        if self._form is None:
            self._form = self.http.get_json(f"forms/{self.form_id}")
        return self._form

    def check_form(self) -> None:
        """Every configured question ref must still be on the form."""
        refs = {f.get("ref") for f in self.form().get("fields") or []}
        missing = [r for r in self.answer_refs if r not in refs]
        if missing:
            raise FatalError(
                SOURCE,
                f"form {self.form_id} has no question(s) {', '.join(missing)} (removed or "
                f"renamed; it has {', '.join(sorted(r for r in refs if r))}): change `answer_refs` "
                "in the survey resource configuration",
            )

    def response_pages(self, day: date) -> Iterator[list[dict]]:
        """Each page of the responses submitted on `day` (UTC), newest first, answers by ref added.
        Typeform's `until` is inclusive to the second: the day ends one second before midnight."""
        start, end = utc_day_bounds(day)
        params = {
            "since": start.strftime(TYPEFORM_TIME),
            "until": (end - timedelta(seconds=1)).strftime(TYPEFORM_TIME),
            "page_size": str(self.page_size),
        }
        for page in self.walk(self.stream(RESPONSES.name), id=self.form_id, params=params):
            yield [with_answers_by_ref(i) for i in page]
