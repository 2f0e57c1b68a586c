"""The one HTTP core every API client is built on.

It owns what every connector gets wrong at least once: timeouts on every call, retries
with exponential backoff that honour `Retry-After` and the platform's own usage headers,
a clear split between errors worth retrying and errors that need a human, paging, and
keeping the access token out of every message, log line and exception.

Backoff is tenacity's; the platform-specific parts (how an error body says "retry",
what a usage header says about waiting) are small hooks a client passes in.
"""

from __future__ import annotations

import json as jsonlib
import logging
import math
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
import requests
import tenacity

log = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class ApiError(Exception):
    """An API call that did not give usable data. `retryable` says whether trying again can help."""

    retryable = False

    def __init__(
        self,
        source: str,
        message: str,
        *,
        status: int | None = None,
        code: Any = None,
        retry_after: float | None = None,
        url: str | None = None,
    ):
        self.source = source
        self.status = status
        self.code = code
        self.retry_after = retry_after
        self.url = url
        where = f" ({url})" if url else ""
        status_txt = f"HTTP {status}" if status is not None else "no response"
        code_txt = f", code {code}" if code is not None else ""
        super().__init__(f"[{source}] {status_txt}{code_txt}: {message}{where}")


class RetryableError(ApiError):
    """A failure that usually passes: throttling, a server error, a dropped connection."""

    retryable = True


class FatalError(ApiError):
    """A failure that retrying cannot fix: bad token, bad request, unknown metric or account."""


class PageTooLarge(FatalError):
    """The platform refuses the page size ("Please reduce the amount of data"): asking again
    with the same size cannot help, a smaller page can. `paginate` halves the size and retries."""


class AuthError(FatalError):
    """The token was refused. The message says which environment variable to fix."""


@dataclass
class CallStats:
    """What a client did, for asset metadata and the run summary."""

    requests: int = 0
    retries: int = 0
    pages: int = 0
    throttle_sleep_s: float = 0.0
    retry_sleep_s: float = 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {
            "requests": self.requests,
            "retries": self.retries,
            "pages": self.pages,
            "throttle_sleep_s": round(self.throttle_sleep_s, 3),
            "retry_sleep_s": round(self.retry_sleep_s, 3),
        }


# A hook that turns an error response into the right exception (or None for "use the default").
ErrorClassifier = Callable[[requests.Response, str], ApiError | None]
# A hook that reads usage headers off any response and says how long to pause before the next call.
ThrottleReader = Callable[[requests.Response], float]


def retry_after_seconds(resp: requests.Response) -> float | None:
    value = resp.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


@dataclass
class RetryPolicy:
    max_attempts: int = 6
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 60.0
    # A server asking for a longer pause than this is treated as an outage, not a throttle.
    max_wait_s: float = 900.0


class HttpCore:
    """A requests session with timeouts, retries, throttling and token redaction.

    `secrets` are strings that must never appear in anything this object raises or logs.
    """

    def __init__(
        self,
        source: str,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        secrets: tuple[str, ...] = (),
        timeout: tuple[float, float] = (5.0, 60.0),
        retry: RetryPolicy | None = None,
        classify_error: ErrorClassifier | None = None,
        read_throttle: ThrottleReader | None = None,
        sleep: Callable[[float], None] = time.sleep,
        stats: CallStats | None = None,
    ):
        self.source = source
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update(headers or {})
        self.session.headers.setdefault("User-Agent", "social-kpi-warehouse")
        # Secrets are masked wherever they appear; one shorter than 8 characters cannot be told
        # apart from ordinary text (and is no real platform's token), so it is not searched for.
        self._secrets = tuple(s for s in secrets if s and len(s) >= 8)
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._classify_error = classify_error
        self._read_throttle = read_throttle
        self._sleep = sleep
        self._pause_until = 0.0
        # A client with several cores (two tokens, two hosts) hands each the same counters.
        self.stats = stats if stats is not None else CallStats()

    # -- redaction -------------------------------------------------------------------
    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return _mask_query_tokens(text)

    # -- one call, retried ------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> requests.Response:
        """One call, retried on retryable failures; returns the successful response."""
        return self._retrying(method, path, params, data, json, parse=False)

    def request_json(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        """One call and its parsed JSON body. A body cut short in transit is fetched again."""
        return self._retrying(method, path, params, data, json, parse=True)

    def get_json(self, path: str, **kwargs) -> Any:
        return self.request_json("GET", path, **kwargs)

    def _retrying(self, method, path, params, data, json, *, parse: bool):
        url = path if path.startswith("http") else f"{self.base_url}/{path.lstrip('/')}"

        def wait(state: tenacity.RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            backoff = tenacity.wait_random_exponential(
                multiplier=self.retry.backoff_initial_s, max=self.retry.backoff_max_s
            )(state)
            server_says = getattr(exc, "retry_after", None) or 0.0
            seconds = max(backoff, server_says)
            self.stats.retry_sleep_s += seconds
            return seconds

        def before_sleep(state: tenacity.RetryCallState) -> None:
            self.stats.retries += 1
            exc = state.outcome.exception()
            log.warning(
                "%s; retry %d of %d in %.1fs",
                exc,
                state.attempt_number,
                self.retry.max_attempts - 1,
                state.next_action.sleep,
            )

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(lambda e: isinstance(e, ApiError) and e.retryable),
            stop=tenacity.stop_after_attempt(self.retry.max_attempts),
            wait=wait,
            before_sleep=before_sleep,
            sleep=self._sleep,
            reraise=True,
        )
        try:
            return retrying(self._send_once, method, url, params, data, json, parse)
        except ApiError as exc:
            if exc.retryable:  # the budget is spent: say so, with how many attempts it took
                attempts = retrying.statistics.get("attempt_number", self.retry.max_attempts)
                exc.attempts = attempts
                exc.args = (f"{exc.args[0]}; gave up after {attempts} attempt{'s' if attempts != 1 else ''}",)
            raise

    def _send_once(self, method, url, params, data, json, parse):
        delay = self._pause_until - time.monotonic()
        if delay > 0:
            self.stats.throttle_sleep_s += delay
            log.info("[%s] pausing %.1fs: the platform's usage headers asked for it", self.source, delay)
            self._sleep(delay)
        self.stats.requests += 1
        shown = self.redact(url)
        try:
            resp = self.session.request(method, url, params=params, data=data, json=json, timeout=self.timeout)
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
            raise RetryableError(self.source, f"{type(exc).__name__}: {self.redact(str(exc))}", url=shown) from None
        if self._read_throttle is not None:
            pause = self._read_throttle(resp)
            if pause > self.retry.max_wait_s:
                raise FatalError(
                    self.source,
                    f"the platform asks to wait {pause:.0f}s, more than "
                    f"max_wait_s={self.retry.max_wait_s:.0f}s; try again later",
                    status=resp.status_code,
                    url=shown,
                )
            if pause > 0:
                self._pause_until = max(self._pause_until, time.monotonic() + pause)
        if resp.status_code >= 400:
            raise self._error_for(resp, shown)
        if not parse:
            return resp

        def cut_short() -> RetryableError:  # a body that ends early: asking again gives it whole
            return RetryableError(
                self.source,
                f"response body is not valid JSON ({len(resp.content)} bytes; cut short in transit?)",
                status=resp.status_code,
                url=shown,
            )

        try:
            return parse_json(resp.content)
        except NotJson as exc:
            raise FatalError(
                self.source,
                f"response body holds {exc}, which no warehouse type keeps",
                status=resp.status_code,
                url=shown,
            ) from None
        except UnicodeDecodeError as exc:
            # issue 17: a byte that is not UTF-8 inside the body is not a body cut short (which
            # ends mid-character: "unexpected end of data", retried below); asking again gives it again.
            if exc.reason == "unexpected end of data":
                raise cut_short() from None
            raise FatalError(
                self.source,
                f"response body is not UTF-8, as JSON must be: byte {exc.object[exc.start : exc.start + 1]!r} "
                f"at offset {exc.start} of {len(resp.content)} ({exc.reason})",
                status=resp.status_code,
                url=shown,
            ) from None
        except ValueError:
            raise cut_short() from None

    def _error_for(self, resp: requests.Response, shown_url: str) -> ApiError:
        if self._classify_error is not None:
            err = self._classify_error(resp, shown_url)
            if err is not None:
                err.args = (self.redact(str(err)),)  # error bodies can echo the token back
                return err
        body = self.redact(resp.text[:500])
        cls = RetryableError if resp.status_code in RETRYABLE_STATUS else FatalError
        if resp.status_code in (401, 403):
            cls = AuthError
        return cls(
            self.source,
            body or resp.reason,
            status=resp.status_code,
            retry_after=retry_after_seconds(resp),
            url=shown_url,
        )

    # -- paging -------------------------------------------------------------------------
    def paginate(
        self,
        path: str,
        paginator: Paginator | None,
        *,
        params: Mapping[str, Any] | None = None,
        records_at: str = "data",
        size_param: str = "limit",
    ) -> Iterator[list[dict]]:
        """Yield the records of each page until the paginator says there is no next page
        (no paginator: the endpoint answers in one page).

        A page whose body arrives cut short is fetched again (see `request_json`); a page the
        platform finds too large is asked for again at half the size (`size_param`).
        """
        params = dict(params or {})
        while True:
            try:
                body = self.request_json("GET", path, params=params)
            except PageTooLarge:
                size = int(params.get(size_param) or 0)
                if size <= 1:
                    raise
                params = {**params, size_param: str(size // 2)}
                log.warning("[%s] page too large; asking for %s=%s", self.source, size_param, params[size_param])
                continue
            self.stats.pages += 1
            records = _dig(body, records_at) or []
            yield records
            nxt = paginator.next_params(body, params) if paginator is not None else None
            if nxt is None:
                return
            params = nxt


# -- Added for issue 17 (secrets): urllib3 logs every request line at DEBUG, query included, so a
# token sent in a URL (Meta's `access_token` in its paging links) reached any debug log.
def _mask_query_tokens(text: str) -> str:
    return re.sub(r"(access_token=)[^&\s\"']+", r"\1***", text)


class _MaskQueryTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if "access_token=" in record.getMessage():
            record.msg, record.args = _mask_query_tokens(record.getMessage()), None
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_MaskQueryTokens())


class NotJson(ValueError):
    """NaN or Infinity in a body: Python's parser accepts them, JSON does not."""


def _refuse_constant(name: str):
    raise NotJson(f"{name} (JSON allows no NaN or Infinity)")


# A run of 19 digits or more: orjson turns an integer beyond 64 bits into a float (silently
# inexact), so a body holding such a run anywhere (in a string too: cheaper to find than to
# place) is parsed by the standard library, which keeps it exactly. Found by mapping every
# digit to "0" and everything else to " " and looking for 19 zeros: about 1 ms for a
# 430 kB page, where a regular expression took 7-12 ms (more than parsing it).
_DIGITS_ONLY = bytes(48 if 48 <= i <= 57 else 32 for i in range(256))
_LONG_RUN = b"0" * 19


def parse_json(content: bytes) -> Any:
    """A response body's JSON. orjson parses in about a third of the standard library's time
    (1.5 ms against 6 ms for a page of 1,000 listening mentions); where it refuses a body (cut short, NaN, a
    number too large for a double) or could lose an integer's digits, the standard library
    parses it, so what reaches the caller and every error are exactly as before."""
    if _LONG_RUN not in content.translate(_DIGITS_ONLY):
        try:
            return orjson.loads(content)
        except orjson.JSONDecodeError:
            pass
    value = jsonlib.loads(content, parse_constant=_refuse_constant, parse_float=_finite_float)
    if b"\\ud" in content or b"\\uD" in content:  # an escaped surrogate: orjson refuses an unpaired one
        _refuse_unpaired_surrogates(value, "")
    return value


# -- Added for issue 17 (bad input): what the standard library accepts and nothing after it keeps. --
def _finite_float(text: str) -> float:
    """A JSON number as a float; one beyond a double's range (`1e400`, which Python reads as
    inf and a landing file would then hold as null) is refused like NaN."""
    number = float(text)
    if math.isinf(number):
        raise NotJson(f"the number {text[:40]} (beyond a double's range)")
    return number


def _refuse_unpaired_surrogates(value: Any, where: str) -> None:
    """NotJson naming the field that holds an unpaired UTF-16 surrogate escape (`"\\ud800"`):
    it is no Unicode character, so no UTF-8 landing file, DuckDB or warehouse text can hold it."""
    if isinstance(value, str):
        if any("\ud800" <= ch <= "\udfff" for ch in value):
            raise NotJson(f"an unpaired UTF-16 surrogate in {where or 'the body'} (not a Unicode character)")
    elif isinstance(value, dict):
        for k, v in value.items():
            _refuse_unpaired_surrogates(k, f"{where}.{k}" if where else "a key")
            _refuse_unpaired_surrogates(v, f"{where}.{k}" if where else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _refuse_unpaired_surrogates(v, f"{where}[{i}]")


def _dig(body: Any, dotted: str) -> Any:
    for part in dotted.split(".") if dotted else []:
        if not isinstance(body, dict):
            return None
        body = body.get(part)
    return body


class Paginator:
    """Says which parameters fetch the next page, or None when there is none."""

    def next_params(self, body: Any, params: dict) -> dict | None:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass
class LoopGuard:
    """What keeps paging from going round for ever; every paginator asks it about each next
    position (cursor, token, offset) before following it.

    A page served again hands back the position it was asked with: its records repeat (they
    are collapsed on their key at load) and asking again is right, but not for ever. With
    `in_a_row` (the default) the same position may come back `max_repeats` times in a row,
    and a position from further back (`refuse_earlier`) is a loop at once: stopping quietly
    could drop pages. Platforms whose positions may legitimately recur count each position's
    returns over the whole walk instead (`in_a_row=False`), `max_repeats` each.
    """

    source: str
    what: str = "cursor"  # how errors name a position
    max_repeats: int = 3
    in_a_row: bool = True
    refuse_earlier: bool = True
    _last: Any = None
    _repeats: int = 0
    _seen: dict = field(default_factory=dict)  # position -> times it came back

    def check(self, position: Any) -> bool:
        """Raise FatalError when following `position` would loop; True when it repeats the last one."""
        shown = str(position)[:40]
        if not self.in_a_row:
            self._seen[position] = self._seen.get(position, 0) + 1
            if self._seen[position] > self.max_repeats:
                raise FatalError(
                    self.source, f"{self.what} {shown!r} came back {self._seen[position]} times; refusing to loop"
                )
            repeated, self._last = position == self._last, position
            return repeated
        if self._seen and position == self._last:
            self._repeats += 1
            if self._repeats > self.max_repeats:
                raise FatalError(
                    self.source, f"{self.what} {shown!r} came back {self._repeats} times in a row; refusing to loop"
                )
            return True
        if self.refuse_earlier and position in self._seen:
            raise FatalError(self.source, f"{self.what} {shown!r} came back after other pages; refusing to loop")
        self._repeats, self._last = 0, position
        self._seen[position] = 1
        return False


@dataclass
class CursorPaginator(Paginator):
    """Graph-API style: `paging.cursors.after`, and no `paging.next` on the last page."""

    cursor_path: str = "paging.cursors.after"
    has_more_path: str = "paging.next"
    param: str = "after"
    max_repeats: int = 3
    guard: LoopGuard | None = None

    def next_params(self, body: Any, params: dict) -> dict | None:
        if not _dig(body, self.has_more_path):
            return None
        cursor = _dig(body, self.cursor_path)
        if not cursor:
            raise FatalError(
                "pagination", f"the page says there is a next page but has no cursor at {self.cursor_path}"
            )
        if self.guard is None:
            self.guard = LoopGuard("pagination", max_repeats=self.max_repeats)
        if self.guard.check(cursor):
            # The server served a page again and points at the same place: ask again (its
            # records repeat and are collapsed on their key at load), but not forever.
            return dict(params)
        return {**params, self.param: cursor}
