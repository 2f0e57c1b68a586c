"""A tiny threaded HTTP server on 127.0.0.1 with seeded fault injection.

Each fake API is an `App` that maps a request to a response; the server adds faults in
front of it. Faults are drawn from a seeded generator so a run with faults is repeatable.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

log = logging.getLogger(__name__)


def multi_dict(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Query or form pairs as one value a name, a repeated name's values joined by commas.

    HubSpot's and Google's own clients send a list parameter as repeated keys
    (`properties=a&properties=b`, OpenAPI's collection format `multi`); the platforms read that
    as the list `a,b`, the same as a comma list. Keeping only the last value (what `dict()` over
    the pairs does) would answer such a client with one property and hide a client that sends
    the wrong thing. Every fake reads a list parameter by splitting on commas, so joining the
    repeated values is how each of them reads both forms alike.
    """
    out: dict[str, str] = {}
    for key, value in pairs:
        out[key] = f"{out[key]},{value}" if key in out else value
    return out


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    headers: dict[str, str]
    body: bytes
    base_url: str

    def param(self, name: str, default: str | None = None) -> str | None:
        return self.form.get(name, self.query.get(name, default))

    def values(self, name: str) -> list[str]:
        """Every value of a list parameter, sent as repeated keys, a comma list or both."""
        raw = self.param(name)
        return [v for v in raw.split(",") if v] if raw else []

    def bearer(self) -> str | None:
        auth = self.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        return self.param("access_token")


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str]

    @classmethod
    def json(cls, status: int, payload, headers: dict[str, str] | None = None) -> Response:
        return cls(
            status,
            json.dumps(payload, separators=(",", ":")).encode(),
            {"Content-Type": "application/json; charset=UTF-8", **(headers or {})},
        )


@dataclass
class FaultConfig:
    """Probabilities per request. `retry_after_s` is what a 429 asks the client to wait."""

    error_rate: float = 0.0  # 500/502/503 with the platform's error body
    rate_limit_rate: float = 0.0  # 429 with Retry-After
    retry_after_s: int = 1
    slow_rate: float = 0.0  # answer after `slow_s` (a client timeout below it sees a timeout)
    slow_s: float = 0.0
    truncate_rate: float = 0.0  # a 200 whose JSON body is cut short
    repeat_page_rate: float = 0.0  # a page served again before the next one (its records repeat)
    extra_field_rate: float = 0.0  # records of a page carry a field no client has seen
    retired_metrics: tuple[str, ...] = ()  # metrics the fake refuses with the platform's error
    bad_record_rate: float = 0.0  # a page carries one extra record that lacks its key or holds a bad value
    seed: int = 0
    # Bad data of the tests' choosing: `tamper(app_name, records) -> records` rewrites every page of
    # records a fake serves (after the extra-field fault): a negative spend, an unknown currency, a
    # key sent twice with different values, a day served short. Must be deterministic (retries).
    tamper: Callable[[str, list[dict]], list[dict]] | None = None

    @classmethod
    def off(cls) -> FaultConfig:
        return cls()

    @classmethod
    def default_on(cls, seed: int = 0) -> FaultConfig:
        """The faults `make run` serves: server errors, bodies cut short, repeated pages and new
        fields. Rate limits are left to the tests: each client waits as long as its platform
        asks (GA4's concurrent-request quota: 30 s), which would make the demo crawl."""
        return cls(
            error_rate=0.03,
            rate_limit_rate=0.0,
            retry_after_s=1,
            truncate_rate=0.01,
            repeat_page_rate=0.02,
            extra_field_rate=0.02,
            seed=seed,
        )


EXTRA_FIELD = "x_fake_new_field"


class App:
    """A fake API. Subclasses implement `handle`, and may override the fault bodies.

    The server binds `faults` and a seeded `rng` to the app; the helpers below apply the
    faults that need the app's knowledge of its pages and metrics. `epoch` is the
    restatement epoch (see sampleworld/restatement.py).
    """

    name = "fake"
    faults: FaultConfig = FaultConfig()
    epoch: int = 0
    restate_on_pull: bool = False

    def bind(self, faults: FaultConfig, rng: random.Random, lock: threading.Lock) -> None:
        self.faults, self._rng, self._fault_lock = faults, rng, lock

    def _chance(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self._fault_lock:
            return self._rng.random() < rate

    def restate(self) -> int:
        """Move recent days' provisional values (a later pull sees different numbers)."""
        self.epoch += 1
        return self.epoch

    def page_window(self, offset: int, limit: int) -> tuple[int, int]:
        """(first row to serve, offset the next page starts at). With a repeat-page fault the
        previous page is served again and the next page starts where this one should have:
        records repeat, none are lost."""
        if offset >= limit and self._chance(self.faults.repeat_page_rate):
            return offset - limit, offset
        return offset, offset + limit

    def decorate(self, records: list[dict]) -> list[dict]:
        """With an extra-field fault, every record of the page carries a field never seen before;
        with a `tamper` fault, the page is what it returns."""
        if records and self._chance(self.faults.extra_field_rate):
            records = [{**r, EXTRA_FIELD: "added by the platform"} for r in records]
        if self.faults.tamper is not None:
            records = self.faults.tamper(self.name, [dict(r) for r in records])
        return records

    def inject_bad(self, records: list[dict], key_field: str, typed_field: str) -> list[dict]:
        """With a bad-record fault, add one malformed copy of a record to the page: its key
        field removed, or its typed field unreadable. The real records are all still there;
        every injected record is kept in `injected_bad` for tests to find in the rejects."""
        if not records or not self._chance(self.faults.bad_record_rate):
            return records
        with self._fault_lock:
            victim = dict(self._rng.choice(records))
            broken_key = self._rng.random() < 0.5
        if broken_key:
            victim.pop(key_field, None)
        else:
            victim[typed_field] = "not-a-valid-value"
        if not hasattr(self, "injected_bad"):
            self.injected_bad = []
        self.injected_bad.append(victim)
        return [*records, victim]

    def retired(self, requested) -> list[str]:
        """The requested metrics the platform has retired (each fake words its own error)."""
        return [m for m in requested if m in self.faults.retired_metrics]

    def handle(self, req: Request) -> Response:  # pragma: no cover - interface
        raise NotImplementedError

    def server_error(self, status: int) -> Response:
        return Response.json(
            status, {"error": {"message": "An unexpected error has occurred.", "code": 2, "is_transient": True}}
        )

    def rate_limited(self, retry_after_s: int) -> Response:
        return Response.json(
            429,
            {"error": {"message": "Too many calls", "code": 4, "is_transient": True}},
            {"Retry-After": str(retry_after_s)},
        )


class FakeServer:
    """Serve an App on 127.0.0.1 (port 0 picks a free one) in a daemon thread."""

    def __init__(self, app: App, faults: FaultConfig | None = None, port: int = 0):
        self.app = app
        self.faults = faults or FaultConfig.off()
        self._rng = random.Random(self.faults.seed)
        self._lock = threading.Lock()
        app.bind(self.faults, random.Random(self.faults.seed + 1), threading.Lock())
        self.requests_served = 0
        self.faults_injected = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes: without this a kept-alive client waits
            # ~40 ms per request on delayed ACKs (measured 43 ms against 0.8 ms).
            disable_nagle_algorithm = True

            def log_message(self, fmt, *args):  # keep test output quiet
                log.debug("%s %s", server.app.name, fmt % args)

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                split = urlsplit(self.path)
                form = {}
                if body and "application/x-www-form-urlencoded" in (self.headers.get("Content-Type") or ""):
                    form = multi_dict(parse_qsl(body.decode(), keep_blank_values=True))
                req = Request(
                    self.command,
                    split.path,
                    multi_dict(parse_qsl(split.query, keep_blank_values=True)),
                    form,
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                    server.url,
                )
                resp = server._respond(req)
                self.send_response(resp.status)
                for k, v in resp.headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(resp.body)))
                self.end_headers()
                self.wfile.write(resp.body)

            do_GET = do_POST = do_DELETE = do_PUT = _serve

        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _draw(self) -> tuple[str | None, float]:
        f = self.faults
        with self._lock:
            self.requests_served += 1
            r = self._rng.random()
            slow = self._rng.random() < f.slow_rate
        kind = None
        for name, rate in (("error", f.error_rate), ("rate_limit", f.rate_limit_rate), ("truncate", f.truncate_rate)):
            if r < rate:
                kind = name
                break
            r -= rate
        return kind, (f.slow_s if slow else 0.0)

    def _respond(self, req: Request) -> Response:
        fault, delay = self._draw()
        if delay:
            time.sleep(delay)
        if fault == "error":
            self.faults_injected += 1
            return self.app.server_error(self._rng.choice((500, 502, 503)))
        if fault == "rate_limit":
            self.faults_injected += 1
            return self.app.rate_limited(self.faults.retry_after_s)
        injected_before = len(getattr(self.app, "injected_bad", ()))
        try:
            resp = self.app.handle(req)
        except Exception as exc:  # a bug in a fake must show, not hang the client
            log.exception("fake %s failed", self.app.name)
            return Response.json(500, {"error": {"message": f"fake error: {exc}", "code": 1}})
        if fault == "truncate" and resp.status == 200 and len(resp.body) > 2:
            self.faults_injected += 1
            resp = Response(200, resp.body[: len(resp.body) // 2], resp.headers)
            # a bad record in a body the client never gets was never delivered
            if hasattr(self.app, "injected_bad"):
                del self.app.injected_bad[injected_before:]
        return resp

    def start(self) -> FakeServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name=f"fake-{self.app.name}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
