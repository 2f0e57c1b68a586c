"""$DAGSTER_HOME/dagster.yaml: the settings the project needs (telemetry off, no community
pop-up, runs taking turns on the warehouse, run retries, storage) are merged into what the
user wrote, never over it (orchestration/instance.py)."""

from __future__ import annotations

import yaml
from dagster import DagsterInstance

from orchestration.instance import CODE_LOCATION, FREE_SLOTS_AFTER_RUN_END_SECONDS, ensure_dagster_home
from orchestration.instance import instance as home_instance
from warehouse.settings import Settings

USER_FILE = """# my own settings: keep them
telemetry:
  enabled: true
concurrency:
  runs:
    max_concurrent_runs: 3
    tag_concurrency_limits:
      - key: team
        limit: 2
run_retries:
  max_retries: 5
run_monitoring:
  enabled: true
"""


def settings_for(tmp_path) -> Settings:
    return Settings.from_env({"SKW_DATA_DIR": str(tmp_path / "data"), "DAGSTER_HOME": str(tmp_path / "home")})


def test_a_fresh_home_gets_every_setting_the_project_needs(tmp_path):
    settings = settings_for(tmp_path)
    home = ensure_dagster_home(settings)
    cfg = yaml.safe_load((home / "dagster.yaml").read_text())
    assert cfg["telemetry"] == {"enabled": False} and cfg["nux"] == {"enabled": False}
    assert cfg["concurrency"]["pools"]["default_limit"] == 1
    assert {"key": "dagster/code_location", "value": CODE_LOCATION, "limit": 1} in cfg["concurrency"]["runs"][
        "tag_concurrency_limits"
    ]
    assert cfg["run_retries"]["enabled"] is True and cfg["run_retries"]["retry_on_asset_or_op_failure"] is False
    assert cfg["run_monitoring"]["enabled"] is True
    assert cfg["run_monitoring"]["free_slots_after_run_end_seconds"] == FREE_SLOTS_AFTER_RUN_END_SECONDS
    instance = home_instance(settings)
    try:
        assert instance.event_log_storage.supports_global_concurrency_limits
        assert instance.nux_enabled is False  # the UI opens without the community pop-up
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 2
        assert not instance.run_retries_retry_on_asset_or_op_failure
        # a killed run's pool slot is given back by the monitoring daemon, which Dagster starts only
        # when run monitoring is on
        assert "MONITORING" in instance.get_required_daemon_types()
        assert instance.run_monitoring_settings["free_slots_after_run_end_seconds"] == FREE_SLOTS_AFTER_RUN_END_SECONDS
        assert "EVENT_LOG_CONSUMER" in instance.get_required_daemon_types()  # the run retries' daemon
    finally:
        instance.dispose()


def test_what_the_user_set_is_kept_and_only_what_is_missing_is_added(tmp_path):
    settings = settings_for(tmp_path)
    home = settings.dagster_home
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text(USER_FILE)
    ensure_dagster_home(settings)
    cfg = yaml.safe_load((home / "dagster.yaml").read_text())
    # the user's values, as they were
    assert cfg["telemetry"] == {"enabled": True}
    assert cfg["concurrency"]["runs"]["max_concurrent_runs"] == 3
    assert cfg["concurrency"]["runs"]["tag_concurrency_limits"] == [{"key": "team", "limit": 2}]
    assert cfg["run_retries"]["max_retries"] == 5 and cfg["run_monitoring"]["enabled"] is True
    # what they did not set, added
    assert cfg["nux"] == {"enabled": False} and cfg["concurrency"]["pools"] == {"default_limit": 1}
    assert cfg["run_retries"]["enabled"] is True
    assert cfg["run_monitoring"]["free_slots_after_run_end_seconds"] == FREE_SLOTS_AFTER_RUN_END_SECONDS
    assert cfg["event_log_storage"]["class"] == "PooledSqliteEventLogStorage"
    # `make ui` runs this on every start: a second time changes nothing, byte for byte
    once = (home / "dagster.yaml").read_bytes()
    ensure_dagster_home(settings)
    assert (home / "dagster.yaml").read_bytes() == once


def test_a_file_that_has_everything_is_left_as_it_is(tmp_path):
    settings = settings_for(tmp_path)
    home = ensure_dagster_home(settings)
    text = "# a comment of the user's\n" + (home / "dagster.yaml").read_text() + "# and another\n"
    (home / "dagster.yaml").write_text(text)
    ensure_dagster_home(settings)
    assert (home / "dagster.yaml").read_text() == text


def test_an_ephemeral_instance_takes_the_same_settings():
    from orchestration.instance import instance_settings

    instance = DagsterInstance.ephemeral(settings=instance_settings())
    assert instance.run_retries_enabled and instance.get_concurrency_config().pool_config.default_pool_limit == 1


def test_every_jobs_runs_are_retried_after_a_crash_and_never_after_a_failed_step(tmp_path):
    """Dagster's own retry rule (what its run-retry daemon asks of each failed run), against the
    home's settings and every job's and schedule's run tags: retried, twice, when the run failed
    outside its steps; not when a step failed (bad data, an API's fatal answer)."""
    from datetime import UTC, datetime

    from dagster import build_schedule_context
    from dagster._core.events import RunFailureReason
    from dagster._core.execution.retries import auto_reexecution_should_retry_run
    from dagster._core.storage.dagster_run import DagsterRun, DagsterRunStatus
    from dagster._core.storage.tags import PARENT_RUN_ID_TAG, ROOT_RUN_ID_TAG

    from orchestration.definitions import defs

    requested = {
        s.job_name: s.evaluate_tick(
            build_schedule_context(scheduled_execution_time=datetime(2026, 11, 1, 5, tzinfo=UTC))
        )
        .run_requests[0]
        .tags
        for s in defs.schedules
    }
    jobs = [j.name for j in defs.jobs if not j.name.startswith("__")]
    assert {"main", "transform", "load_inbox"} <= set(jobs) and set(requested) <= set(jobs)
    instance = home_instance(settings_for(tmp_path))
    try:
        assert instance.run_retries_enabled  # else Dagster's retry daemon does not run at all
        for name in jobs:
            tags = {**defs.resolve_job_def(name).tags, **requested.get(name, {})}
            run = DagsterRun(job_name=name, run_id=f"{name}-1", status=DagsterRunStatus.FAILURE, tags=tags)
            instance.add_run(run)
            for reason in (
                RunFailureReason.START_TIMEOUT,
                RunFailureReason.RUN_EXCEPTION,
                RunFailureReason.UNEXPECTED_TERMINATION,
            ):
                assert auto_reexecution_should_retry_run(instance, run, reason), (name, reason)
            assert not auto_reexecution_should_retry_run(instance, run, RunFailureReason.STEP_FAILURE), name
            # two retries, then no more
            for n in (2, 3):
                retry_tags = {**tags, ROOT_RUN_ID_TAG: run.run_id, PARENT_RUN_ID_TAG: f"{name}-{n - 1}"}
                retry = DagsterRun(
                    job_name=name,
                    run_id=f"{name}-{n}",
                    status=DagsterRunStatus.FAILURE,
                    tags=retry_tags,
                    root_run_id=run.run_id,
                    parent_run_id=f"{name}-{n - 1}",
                )
                instance.add_run(retry)
            assert auto_reexecution_should_retry_run(instance, retry, RunFailureReason.RUN_EXCEPTION) is False, name
    finally:
        instance.dispose()
