"""A 4xx whose body is not the platform's (a proxy's HTML page, an empty 403, a captive portal's
text) is fatal at once, with a message naming the status and the source: never retried as if
the platform had asked for it, never reported as retryable.

Every source's error classifier is found by name (`classify_*_error` in `extractors/`), so a new
source is held to this without a new test."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from test_http_core import ScriptedApp

import extractors
from extractors.http import ApiError, FatalError, HttpCore, RetryPolicy
from sampleworld.fakes.base import FakeServer, Response

FOREIGN = {
    "empty 403": Response(403, b"", {}),
    "proxy 400 page": Response(
        400,
        b"<html><head><title>400 Bad Request</title></head><body>nginx</body></html>",
        {"Content-Type": "text/html"},
    ),
    "proxy 404 page": Response(
        404, b"<!DOCTYPE html><html><body>Not Found</body></html>", {"Content-Type": "text/html"}
    ),
    "proxy auth 407": Response(
        407, b"Proxy Authentication Required", {"Content-Type": "text/plain", "Proxy-Authenticate": "Basic"}
    ),
    "empty 401": Response(401, b"", {}),
    "JSON of another service": Response.json(403, {"message": "Access denied by corporate proxy policy"}),
}


def classifiers() -> dict[str, object]:
    out = {}
    for info in pkgutil.iter_modules(extractors.__path__):
        mod = importlib.import_module(f"extractors.{info.name}")
        for name, fn in inspect.getmembers(mod, inspect.isfunction):
            if name.startswith("classify_") and name.endswith("_error") and fn.__module__ == mod.__name__:
                out[f"{info.name}.{name}"] = fn
    return out


CLASSIFIERS = classifiers()


def test_every_source_has_a_classifier_here():
    """Guard for the discovery itself: every client module that talks HTTP is covered."""
    modules = {k.split(".")[0] for k in CLASSIFIERS}
    assert {
        "meta_ads",
        "meta_graph",
        "google_ads",
        "ga4",
        "hubspot",
        "linkedin",
        "x",
        "youtube",
        "listening",
        "survey",
    } <= modules, modules


@pytest.mark.parametrize("body", sorted(FOREIGN))
@pytest.mark.parametrize("classifier", sorted(CLASSIFIERS))
def test_a_foreign_4xx_is_fatal_at_once_naming_status_and_source(classifier, body):
    mod = importlib.import_module(f"extractors.{classifier.split('.')[0]}")
    source = getattr(mod, "SOURCE", classifier.split(".")[0])
    app = ScriptedApp(*[FOREIGN[body]] * 6)
    sleeps: list[float] = []
    with FakeServer(app) as srv:
        core = HttpCore(
            source,
            srv.url,
            retry=RetryPolicy(max_attempts=6, backoff_initial_s=0.001, backoff_max_s=0.01),
            classify_error=CLASSIFIERS[classifier],
            sleep=sleeps.append,
        )
        with pytest.raises(ApiError) as exc:
            core.get_json("v1/thing")
    err = exc.value
    assert isinstance(err, FatalError) and not err.retryable, f"{classifier} {body}: {type(err).__name__} {err}"
    assert len(app.seen) == 1 and core.stats.retries == 0 and sleeps == [], "asked again"
    status = FOREIGN[body].status
    assert err.status == status and f"HTTP {status}" in str(err), str(err)
    assert str(err).startswith(f"[{source}]") or str(err).startswith(f"[{getattr(mod, 'FACEBOOK', source)}]"), str(err)
