"""A source down past its retry budget in one run of `main` (issue 17, item 2): it fails alone,
with a clear error; the other sources and the marts that do not need it complete; a later run
catches up with nothing missing.

`make run`'s own command (`python -m orchestration.run`) runs on the crash tests' base (a copy of
the session's warehouse with the run's days of listening and GA4 taken out of raw:
tests/crash_harness.py), with the social-listening API answering every request with a server error (500, 502 or 503) and a
retry budget of 2 attempts set in the environment (`SKW_HTTP_MAX_ATTEMPTS`). Then the same
command with the API back must end equal to an uninterrupted run, row for row.

Which marts need listening is checked both ways: by the asset graph, and by name for a few whose
SQL reads it (share of voice, sentiment) or does not (web traffic from GA4).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from crash_harness import base as crash_base
from crash_harness import env as run_env
from crash_harness import log_of, reference, scenario, table_differences
from crash_harness import run_to_end as harness_run_to_end

from sampleworld.fakes.base import FakeServer, FaultConfig
from sampleworld.serve import fake_modules

DOWN = "listening"
ATTEMPTS = 2


def _run(root: Path, fakes, world: Path, extra: dict[str, str], log_name: str) -> int:
    """The harness's run (`python -m orchestration.run` in a process group of its own) with
    `extra` in its environment."""
    import crash_harness

    made = crash_harness.env
    crash_harness.env = lambda *args, **kwargs: {**made(*args, **kwargs), **extra}
    try:
        return harness_run_to_end(root, fakes, world, log_name)
    finally:
        crash_harness.env = made


def _materialized_by_run(home: Path) -> dict[str, tuple[dict, set[str]]]:
    """run id -> (its tags, the asset keys it materialized, its status)."""
    from dagster import DagsterEventType, DagsterInstance

    with DagsterInstance.from_config(str(home)) as instance:
        out = {}
        for run in instance.get_runs():
            logs = instance.all_logs(run.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION)
            keys = {e.dagster_event.asset_key.to_user_string() for e in logs}
            out[run.run_id] = (dict(run.tags), keys, run.status.value)
        return out


@pytest.fixture(scope="module")
def outage(world):
    mods = {m.NAME: m for m in fake_modules()}
    server = FakeServer(mods[DOWN].make_app(world), FaultConfig(error_rate=1.0, seed=3)).start()
    try:
        yield server, mods[DOWN].env(server.url, server.app)
    finally:
        server.stop()


@pytest.mark.slow
def test_a_source_down_in_one_main_run_fails_alone_and_the_rest_is_built(
    materialized, fakes, world, outage, tmp_path_factory
):
    server, down_env = outage
    root = scenario(crash_base(materialized, tmp_path_factory), tmp_path_factory.mktemp("source-down"))
    before = duckdb.connect(str(root / "data" / "serving.duckdb"), read_only=True)
    try:
        served_before = before.execute("select count(*) from marts.fct_web_traffic_daily").fetchone()[0]
    finally:
        before.close()
    budget = {"SKW_HTTP_MAX_ATTEMPTS": str(ATTEMPTS), "SKW_HTTP_BACKOFF_MAX_S": "0.05"}
    rc = _run(root, fakes, world, {**down_env, **budget}, "down")
    log = log_of(root, "down")
    assert rc == 1, log[-3000:]

    # 1. the failure is the down source's alone, named with its status and the budget spent
    failed_lines = [line for line in log.splitlines() if line.strip().startswith(f"{DOWN}/")]
    assert failed_lines, log[-3000:]
    for line in failed_lines:
        assert f"[{DOWN}] HTTP 50" in line and f"gave up after {ATTEMPTS} attempts" in line, line
    assert not [line for line in log.splitlines() if line.strip().startswith("ga4/") and "[ga4]" in line]
    assert server.requests_served % ATTEMPTS == 0 and server.requests_served >= ATTEMPTS

    # 2. a second run built what does not need listening, and succeeded
    assert f"without {DOWN}: building the " in log, log[-3000:]
    runs = _materialized_by_run(root / "home")
    first = [r for r, (tags, _, _) in runs.items() if "skw/follows_run" not in tags]
    second = [r for r, (tags, _, _) in runs.items() if tags.get("skw/follows_run") in first]
    assert len(first) == 1 and len(second) == 1, runs
    tags, built, status = runs[second[0]]
    _, loaded_first, status_first = runs[first[0]]
    assert status_first == "FAILURE" and status == "SUCCESS", (status_first, status)
    assert tags["skw/without_sources"] == DOWN
    assert tags["dagster/asset_partition_range_start"] == "2026-06-04"
    # the other source loaded in the first run; nothing of the down one did
    assert any(k.startswith("raw/ga4/") for k in loaded_first)
    assert not any(k.startswith(f"raw/{DOWN}/") for k in loaded_first | built)
    # by the asset graph: everything built needs no listening stream; everything that does was left out
    from dagster import AssetSelection

    from orchestration.definitions import build_definitions
    from warehouse.settings import Settings

    defs = build_definitions(Settings.from_env(run_env(root, fakes, world)))
    graph = defs.resolve_asset_graph()
    down_keys = [k for k in graph.get_all_asset_keys() if k.path[:2] == ["raw", DOWN]]
    needs_down = {k.to_user_string() for k in AssetSelection.assets(*down_keys).downstream().resolve(graph)}
    models = {k for k in built if k.split("/")[0] in ("staging", "intermediate", "marts")}
    assert models and not models & needs_down, sorted(models & needs_down)
    assert "marts/fct_web_traffic_daily" in built and "marts/fct_social_traffic_daily" in built
    assert "marts/fct_share_of_voice_daily" not in built and "marts/fct_sentiment_daily" not in built
    assert {"marts/fct_share_of_voice_daily", "marts/fct_sentiment_daily"} <= needs_down
    assert "marts/fct_web_traffic_daily" not in needs_down
    # the serving copy and the report were written by the second run
    assert {"serving/publish", "serving/kpi_report"} <= built
    assert f"run            succeeded  (run id {second[0]}: without {DOWN}" in log
    # the sensor asks for the same second run after the failed one (a run launched from the UI)
    from dagster import DagsterEventType, DagsterInstance, RunRequest, build_run_status_sensor_context

    with DagsterInstance.from_config(str(root / "home")) as instance:
        failed_run = instance.get_run_by_id(first[0])
        failure = next(
            e.dagster_event
            for e in instance.all_logs(failed_run.run_id)
            if e.dagster_event is not None and e.dagster_event.event_type == DagsterEventType.RUN_FAILURE
        )
        sensor = defs.get_sensor_def("build_without_failed_sources")
        request = sensor(
            build_run_status_sensor_context(
                sensor_name=sensor.name,
                dagster_event=failure,
                dagster_instance=instance,
                dagster_run=failed_run,
                repository_def=defs.get_repository_def(),
            ).for_run_failure()
        )
        assert isinstance(request, RunRequest), request
        assert set(request.asset_selection) == set(instance.get_run_by_id(second[0]).asset_selection)
        assert request.tags["skw/follows_run"] == first[0] and request.tags["skw/without_sources"] == DOWN

    # 3. GA4's marts hold the run's days: equal to an uninterrupted run's, and served
    ref = reference(materialized, fakes, world, tmp_path_factory)
    wh = root / "data" / "warehouse.duckdb"
    ref_wh = ref / "data" / "warehouse.duckdb"
    diffs = table_differences(wh, ref_wh)
    for table in ("marts.fct_web_traffic_daily", "marts.fct_social_traffic_daily", "staging.stg_ga4__report_rows"):
        assert table not in diffs, (table, diffs[table])
    assert "raw.ga4__report_rows" not in diffs
    assert any(t.startswith(f"raw.{DOWN}__") for t in diffs), diffs  # listening's days are still missing
    con = duckdb.connect(str(root / "data" / "serving.duckdb"), read_only=True)
    try:
        served = con.execute("select count(*) from marts.fct_web_traffic_daily").fetchone()[0]
    finally:
        con.close()
    con = duckdb.connect(str(wh), read_only=True)
    try:
        assert served == con.execute("select count(*) from marts.fct_web_traffic_daily").fetchone()[0]
    finally:
        con.close()
    assert served >= served_before

    # 4. the next run, listening back: everything equal to an uninterrupted run
    rc = _run(root, fakes, world, {}, "again")
    assert rc == 0, log_of(root, "again")[-3000:]
    assert table_differences(wh, ref_wh) == {}


def test_the_retry_budget_is_a_setting_each_source_client_gets(monkeypatch):
    from orchestration.sources import survey
    from warehouse.settings import Settings, SettingsError

    monkeypatch.setenv("SKW_HTTP_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("SKW_HTTP_BACKOFF_MAX_S", "0.5")
    env = {"SURVEY_BASE_URL": "http://127.0.0.1:9", "SURVEY_TOKEN": "t", "SURVEY_FORM_ID": "f"}
    client = survey.SurveyResource.client_from(env)
    assert (client.http.retry.max_attempts, client.http.retry.backoff_max_s) == (3, 0.5)
    # the resource's own field wins over the environment (run config can set one source's budget)
    client = survey.SurveyResource.client_from(env, max_attempts=9)
    assert client.http.retry.max_attempts == 9
    monkeypatch.delenv("SKW_HTTP_MAX_ATTEMPTS")
    assert Settings.from_env().http_max_attempts == 6
    for bad in ("0", "-1", "two", "2.5"):
        monkeypatch.setenv("SKW_HTTP_MAX_ATTEMPTS", bad)
        with pytest.raises(SettingsError, match="SKW_HTTP_MAX_ATTEMPTS"):
            Settings.from_env()


def test_a_request_that_spends_its_budget_says_how_many_attempts_it_made(world):
    from extractors.http import HttpCore, RetryableError, RetryPolicy

    mods = {m.NAME: m for m in fake_modules()}
    with FakeServer(mods["survey"].make_app(world), FaultConfig(error_rate=1.0, seed=5)) as server:
        http = HttpCore(
            "survey", server.url, retry=RetryPolicy(max_attempts=4, backoff_initial_s=0), sleep=lambda s: None
        )
        with pytest.raises(RetryableError) as caught:
            http.get_json("/forms")
    assert str(caught.value).startswith("[survey] HTTP 50") and str(caught.value).endswith("gave up after 4 attempts")
    assert caught.value.attempts == 4 and server.requests_served == 4
