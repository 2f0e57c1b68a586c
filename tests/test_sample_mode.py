"""No silent fake data: the sample world is an explicit mode.

Outside sample mode the Dagster definitions hold no fakes resource and import nothing from
sampleworld/; a source without its settings fails the build naming every missing variable
(or is left out by `SKW_SOURCES`), and at run time it fails before its first request. Each
build here runs in a fresh interpreter with only the variables the test gives it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import _SOURCE_PREFIXES
from dagster import materialize

from extractors import meta_ads
from orchestration.assets.streams import raw_assets, stream_asset
from orchestration.resources import MissingSettings, SourceEnvironment, WarehouseResource
from orchestration.sources.meta_ads import MetaAdsResource
from sampleworld.fakes.base import FakeServer
from sampleworld.fakes.meta_ads import MetaAdsApp

REPO = Path(__file__).resolve().parent.parent
# Each source's variables, from .env.example and the platforms' documentation, not from the code.
REQUIRED = {
    "meta_ads": ["META_BASE_URL", "META_ACCESS_TOKEN", "META_AD_ACCOUNT_IDS"],
    "meta_graph": ["META_GRAPH_BASE_URL", "META_PAGE_TOKEN", "FACEBOOK_PAGE_IDS", "INSTAGRAM_USER_IDS"],
    "google_ads": ["GOOGLE_ADS_BASE_URL", "GOOGLE_ADS_TOKEN", "GOOGLE_ADS_DEVELOPER_TOKEN", "GOOGLE_ADS_CUSTOMER_IDS"],
    "linkedin": ["LINKEDIN_BASE_URL", "LINKEDIN_TOKEN", "LINKEDIN_ORGANIZATION_IDS", "LINKEDIN_AD_ACCOUNT_IDS"],
    "ga4": ["GA4_BASE_URL", "GA4_TOKEN", "GA4_PROPERTY_IDS"],
    "hubspot": ["HUBSPOT_BASE_URL", "HUBSPOT_TOKEN"],
    "x": ["X_BASE_URL", "X_BEARER_TOKEN", "X_USER_IDS", "X_LISTENING_QUERY"],
    "youtube": ["YOUTUBE_BASE_URL", "YOUTUBE_ACCESS_TOKEN", "YOUTUBE_CHANNEL_IDS"],
    "listening": ["LISTENING_BASE_URL", "LISTENING_TOKEN", "LISTENING_QUERY_IDS"],
    "survey": ["SURVEY_BASE_URL", "SURVEY_TOKEN", "SURVEY_FORM_ID"],
    "team_config": ["SKW_CONFIG_DIR"],
}
OPTIONAL = [
    "GOOGLE_ADS_LOGIN_CUSTOMER_ID",
    "LINKEDIN_VERSION",
    "X_USER_ACCESS_TOKEN",
    "X_COMPETITOR_QUERIES",
    "YOUTUBE_ANALYTICS_BASE_URL",
]
# The variables the session strips from the shell (conftest), and the source selection.
SOURCE_PREFIXES = (*_SOURCE_PREFIXES, "SKW_SOURCES")

# Build the definitions as Dagster does (the module's `defs`), noting every process started
# (a fake, `dbt parse`) and what was imported; print the outcome as JSON.
BUILD = r"""
import json, os, sys
started = []
def audit(event, args):
    if event == "subprocess.Popen" and "file" not in str(args[0]):   # platform.architecture()'s `file`
        started.append(str(args[1])[:200])
sys.addaudithook(audit)
out = {}
try:
    import orchestration.definitions as d
    defs = d.defs
    graph = defs.resolve_asset_graph()
    out["resources"] = sorted(defs.resources)
    out["executable_raw"] = sorted(k.to_user_string() for k in graph.get_all_asset_keys()
                                   if k.path[0] == "raw" and graph.get(k).is_executable)
    out["jobs"] = sorted(j.name for j in defs.jobs)
except Exception as exc:
    out["error"] = f"{type(exc).__name__}: {exc}"
out["sampleworld"] = sorted(m for m in sys.modules if m.startswith("sampleworld"))
out["started"] = started
print("BUILD " + json.dumps(out))
"""


def build(**env: str) -> dict:
    base = {k: v for k, v in os.environ.items() if not k.startswith(SOURCE_PREFIXES)}
    proc = subprocess.run(
        [sys.executable, "-c", BUILD],
        cwd=REPO,
        env={**base, **env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(next(x for x in proc.stdout.splitlines() if x.startswith("BUILD ")).split(" ", 1)[1])


def test_without_sample_mode_or_settings_the_definitions_fail_naming_every_variable():
    out = build()
    assert "error" in out, f"the definitions loaded with no source configured: {out}"
    error = out["error"]
    assert error.startswith("MissingSettings")
    for source, names in REQUIRED.items():
        assert f"[{source}] missing {', '.join(names)}" in error, source
    assert not [n for n in OPTIONAL if n in error]
    assert "SKW_SAMPLE_MODE=1" in error and "SKW_SOURCES" in error
    # no fake started, nothing of the sample world imported, no dbt parsed on the way
    assert out["started"] == [] and out["sampleworld"] == []


def test_sample_mode_off_explicitly_is_the_same(tmp_path):
    assert build(SKW_SAMPLE_MODE="0")["error"].startswith("MissingSettings")
    assert "SKW_SAMPLE_MODE" in build(SKW_SAMPLE_MODE="maybe")["error"]


def test_a_configured_source_runs_and_the_others_are_left_out_by_skw_sources():
    out = build(
        SKW_SOURCES="meta_ads",
        META_BASE_URL="https://graph.facebook.com",
        META_ACCESS_TOKEN="t",
        META_AD_ACCOUNT_IDS="1,2",
    )
    assert "error" not in out, out
    assert out["executable_raw"] == ["raw/meta_ads/ad_accounts", "raw/meta_ads/ads_insights"]
    assert out["resources"] == ["dbt", "meta_ads", "warehouse"]  # no fakes
    assert "ingest_meta_ads" in out["jobs"] and "ingest_ga4" not in out["jobs"]
    assert out["started"] == [] and out["sampleworld"] == []
    # a source left in without its settings still fails, naming only what it lacks
    out = build(
        SKW_SOURCES="meta_ads,hubspot",
        META_BASE_URL="u",
        META_ACCESS_TOKEN="t",
        META_AD_ACCOUNT_IDS="1",
        HUBSPOT_BASE_URL="u",
    )
    assert "[hubspot] missing HUBSPOT_TOKEN." in out["error"] and "[meta_ads]" not in out["error"]
    assert "unknown source(s) metaads" in build(SKW_SOURCES="metaads")["error"]


def test_in_sample_mode_the_sources_read_the_fakes():
    out = build(SKW_SAMPLE_MODE="1")
    assert "error" not in out, out
    assert "fakes" in out["resources"] and len(out["executable_raw"]) > 40
    assert out["started"] == []  # the fakes start with a run that needs them, not with the definitions


def test_a_source_missing_a_setting_fails_before_its_first_request(world, tmp_path, monkeypatch):
    """At run time too (the environment of a run may differ from the one the definitions were
    built in): the stream fails naming the variable, and the API sees no request."""
    for var in ("META_ACCESS_TOKEN", "META_AD_ACCOUNT_IDS"):
        monkeypatch.delenv(var, raising=False)
    with FakeServer(MetaAdsApp(world)) as srv:
        monkeypatch.setenv("META_BASE_URL", srv.url)
        resource = MetaAdsResource(environment=SourceEnvironment())
        with pytest.raises(MissingSettings, match=r"\[meta_ads\] missing META_ACCESS_TOKEN, META_AD_ACCOUNT_IDS"):
            resource.client()
        assets = raw_assets([stream_asset(s, "meta_ads") for s in meta_ads.STREAMS])
        warehouse = WarehouseResource(warehouse_path=str(tmp_path / "w.duckdb"), landing_dir=str(tmp_path / "landing"))
        result = materialize(
            assets,
            partition_key="2026-06-02",
            resources={"meta_ads": resource, "warehouse": warehouse},
            raise_on_error=False,
            selection=["raw/meta_ads/ads_insights"],
        )
        assert not result.success
        assert srv.requests_served == 0
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "META_ACCESS_TOKEN" in str(failure.step_failure_data.error)
