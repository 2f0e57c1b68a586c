"""The plain-`requests` client the fake tests walk endpoints with: it retries what a real
client retries (5xx, 429, a body cut short) and nothing else, so the records it gets back
are exactly what the fake served."""

from __future__ import annotations

from typing import Any

import requests


def request(method: str, url: str, *, attempts: int = 30, **kw) -> tuple[requests.Response, Any]:
    """One request, retried on 5xx, 429 and a body that is not JSON; (response, parsed body)."""
    kw.setdefault("timeout", 10)
    for _ in range(attempts):
        r = requests.request(method, url, **kw)
        if r.status_code >= 500 or r.status_code == 429:
            continue
        try:
            return r, r.json()
        except ValueError:
            continue
    raise AssertionError(f"{method} {url}: no good answer in {attempts} attempts")


def call(method: str, url: str, *, attempts: int = 30, **kw) -> tuple[int, Any]:
    """`request`, giving (status, parsed body)."""
    r, body = request(method, url, attempts=attempts, **kw)
    return r.status_code, body


def canned_response(status: int, body: bytes, headers: dict | None = None) -> requests.Response:
    """A `requests.Response` holding a given body, for feeding a published response (or an
    error body) straight to a client's parsing or error classifier."""
    resp = requests.Response()
    resp.status_code = status
    resp._content = body
    resp.headers.update({"Content-Type": "application/json", **(headers or {})})
    return resp
