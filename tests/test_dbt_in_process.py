"""dbt in the run's own process (warehouse/dbt_runner.py `InProcessDbt`) gives dagster-dbt what
a `dbt` child process gave: the same events of level info and above, the same exit codes, an
error it can report, an interrupt that stops it; and it leaves the process as it found it (its
environment, the warehouse's file lock). Held against the real `dbt` executable on a project of
three nodes, and on the project's own build through Dagster."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from orchestration.assets.dbt import DBT_EXECUTABLE
from warehouse.dbt_runner import InProcessDbt, run_dbt

PROFILE = """tiny:
  target: local
  outputs:
    local:
      type: duckdb
      path: "{{ env_var('TINY_WAREHOUSE') }}"
      threads: 2
"""
PROJECT = """name: tiny
version: "1.0"
config-version: 2
profile: tiny
flags:
  send_anonymous_usage_stats: false
  version_check: false
"""


@pytest.fixture()
def tiny(tmp_path: Path) -> dict:
    """A dbt project of one model, one passing and one failing test, and its warehouse."""
    project = tmp_path / "tiny"
    (project / "models").mkdir(parents=True)
    (project / "tests").mkdir()
    (project / "dbt_project.yml").write_text(PROJECT)
    (project / "profiles.yml").write_text(PROFILE)
    (project / "models" / "numbers.sql").write_text(
        "select range as n, '{{ env_var('TINY_LABEL', 'none') }}' as label from range({{ var('rows', 3) }})"
    )
    (project / "models" / "numbers.yml").write_text(
        "models:\n  - name: numbers\n    columns:\n      - name: n\n        data_tests: [not_null]\n"
    )
    (project / "tests" / "no_big_numbers.sql").write_text("select * from {{ ref('numbers') }} where n > 5")
    env = {
        **os.environ,
        "TINY_WAREHOUSE": str(tmp_path / "tiny.duckdb"),
        "TINY_LABEL": "from-env",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_LOG_FORMAT": "json",  # what dagster-dbt sets for its child process
    }
    args = ["--project-dir", str(project), "--profiles-dir", str(project), "--log-path", str(tmp_path / "logs")]
    return {"project": project, "env": env, "args": args, "warehouse": tmp_path / "tiny.duckdb", "tmp": tmp_path}


def _events(lines) -> list[dict]:
    return [json.loads(line) for line in lines if line.strip().startswith(b"{")]


def _child(tiny: dict, args: list[str]) -> tuple[int, list[dict]]:
    """The same command as a `dbt` child process, as dagster-dbt starts it."""
    proc = subprocess.run(
        [DBT_EXECUTABLE, *args, *tiny["args"], "--target-path", str(tiny["tmp"] / "child")],
        env=tiny["env"],
        cwd=tiny["project"],
        capture_output=True,
    )
    return proc.returncode, _events(proc.stdout.splitlines())


def _here(tiny: dict, args: list[str]) -> tuple[int, list[dict]]:
    command = InProcessDbt(
        [DBT_EXECUTABLE, *args, *tiny["args"], "--target-path", str(tiny["tmp"] / "here")], env=tiny["env"]
    )
    events = _events(list(command.stdout))
    return command.wait(timeout=120), events


def _results(events: list[dict]) -> dict[str, str]:
    """Each node's result event, as dagster-dbt reads them: unique_id -> status."""
    return {
        e["data"]["node_info"]["unique_id"]: e["data"]["node_info"]["node_status"]
        for e in events
        if e["info"]["name"] in ("LogModelResult", "LogTestResult")
    }


def test_the_same_events_and_exit_codes_as_a_dbt_process(tiny):
    """A build with a failing test: exit 1 both ways, the same result events with the same
    statuses, the same names of every info-level-and-above event, and only those levels."""
    code_child, child = _child(tiny, ["build", "--vars", "{rows: 8}"])
    code_here, here = _here(tiny, ["build", "--vars", "{rows: 8}"])
    assert (code_here, code_child) == (1, 1)
    assert _results(here) == _results(child)
    results = {uid.rsplit(".", 1)[0] if uid.count(".") > 2 else uid: s for uid, s in _results(here).items()}
    assert results == {
        "model.tiny.numbers": "success",
        "test.tiny.not_null_numbers_n": "pass",
        "test.tiny.no_big_numbers": "fail",
    }
    assert sorted({e["info"]["name"] for e in here}) == sorted({e["info"]["name"] for e in child})
    assert {e["info"]["level"] for e in here} <= {"info", "warn", "error"}
    # the model read the command's environment, not only this process's
    assert duckdb.connect(str(tiny["warehouse"]), read_only=True).execute(
        "select distinct label from numbers"
    ).fetchall() == [("from-env",)]


def test_a_passing_build_exits_0_and_an_unrunnable_command_2(tiny):
    assert _here(tiny, ["build", "--vars", "{rows: 3}"])[0] == 0
    code, events = _here(tiny, ["build", "--no-such-flag"])
    assert code == 2
    assert [e for e in events if e["info"]["level"] == "error"], "no error line for dagster-dbt to report"
    with pytest.raises(RuntimeError, match="exited 2"):
        run_dbt(["build", "--select", "no_such_model+", "--no-such-flag", *tiny["args"]], env=tiny["env"])


def test_the_environment_and_the_warehouse_are_left_as_they_were(tiny):
    before = dict(os.environ)
    assert "TINY_WAREHOUSE" not in before
    run_dbt(["build", *tiny["args"], "--target-path", str(tiny["tmp"] / "t")], env=tiny["env"])
    assert dict(os.environ) == before
    # the file lock is released: another process writes it, and this one opens it with other settings
    other = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import duckdb; duckdb.connect({str(tiny['warehouse'])!r}).execute('create table x as select 1')",
        ],
        capture_output=True,
        text=True,
    )
    assert other.returncode == 0, other.stderr
    duckdb.connect(str(tiny["warehouse"]), config={"threads": 1}).close()


def test_debug_events_are_dropped_unless_a_log_writes_them(tiny, monkeypatch):
    """No message is built for a debug event nobody reads (stdout is at `none`, the callback reads
    info and above): with dbt's file log at debug they are built, and written there. The event
    manager and the garbage collector's settings are the process's own again after each command."""
    import gc

    from dbt_common.events import event_manager, event_manager_client

    built: list[str] = []
    real = event_manager.msg_from_base_event

    def counting(event, level=None):
        msg = real(event, level=level)
        built.append(msg.info.level)
        return msg

    monkeypatch.setattr(event_manager, "msg_from_base_event", counting)
    manager, thresholds, frozen = event_manager_client.get_event_manager(), gc.get_threshold(), gc.get_freeze_count()

    assert _here(tiny, ["build", "--vars", "{rows: 3}"])[0] == 0
    assert built and "debug" not in built, sorted(set(built))
    assert not (tiny["tmp"] / "logs" / "dbt.log").exists()

    built.clear()
    code, events = _here(tiny, ["build", "--vars", "{rows: 3}", "--log-level-file", "debug"])
    assert code == 0 and {e["info"]["level"] for e in events} <= {"info", "warn", "error"}
    assert "debug" in built
    logged = _events((tiny["tmp"] / "logs" / "dbt.log").read_bytes().splitlines())  # JSON: DBT_LOG_FORMAT
    assert any(e["info"]["name"] == "SQLQuery" and e["info"]["level"] == "debug" for e in logged)

    assert event_manager_client.get_event_manager() is manager
    assert (gc.get_threshold(), gc.get_freeze_count()) == (thresholds, frozen)


def test_the_projects_profile_caps_dbts_memory_once_per_database(tiny):
    """dbt's connection to the warehouse has the project's memory cap (SKW_DUCKDB_MEMORY_LIMIT), given
    when the database is opened (`config_options`), as the loader gives it: not as dbt-duckdb's
    `settings`, a SET on every cursor (one per node; measured: ~0.5 s of a one-day build)."""
    import yaml

    from orchestration.assets.dbt import DBT_DIR

    output = yaml.safe_load((DBT_DIR / "profiles.yml").read_text())["social_kpi_warehouse"]["outputs"]["local"]
    assert "memory_limit" in output["config_options"]
    assert not output.get("settings"), "a setting in `settings` is SET again on every node's cursor"

    (tiny["project"] / "dbt_project.yml").write_text(PROJECT.replace("profile: tiny", "profile: social_kpi_warehouse"))
    (tiny["project"] / "models" / "cap.sql").write_text(
        "{{ config(materialized='table') }} select current_setting('memory_limit') as memory_limit"
    )
    env = {**tiny["env"], "SKW_WAREHOUSE_PATH": str(tiny["warehouse"]), "SKW_DUCKDB_MEMORY_LIMIT": "777MB"}
    args = [
        "--project-dir",
        str(tiny["project"]),
        "--profiles-dir",
        str(DBT_DIR),
        "--log-path",
        str(tiny["tmp"] / "logs"),
    ]
    run_dbt(["run", "--select", "cap", *args, "--target-path", str(tiny["tmp"] / "cap")], env=env)
    expected = duckdb.connect(config={"memory_limit": "777MB"}).execute("select current_setting('memory_limit')")
    with duckdb.connect(str(tiny["warehouse"]), read_only=True) as con:
        assert con.execute("select memory_limit from main.cap").fetchall() == expected.fetchall()


def test_an_interrupt_stops_a_long_query(tiny):
    """dagster-dbt forwards a run's termination as SIGINT to dbt: here it cancels the running
    query and ends the command with a non-zero code, long before the query would have ended."""
    (tiny["project"] / "models" / "slow.sql").write_text(
        "{{ config(materialized='table') }} select count(*) as n from range(100000000000) a where hash(a.range) = 0"
    )
    command = InProcessDbt(
        [DBT_EXECUTABLE, "run", "--select", "slow", *tiny["args"], "--target-path", str(tiny["tmp"] / "s")],
        env=tiny["env"],
    )
    lines: list[bytes] = []
    reader = threading.Thread(target=lambda: lines.extend(command.stdout))
    reader.start()
    deadline = time.monotonic() + 60
    while not any(b'"NodeStart"' in line or b"START sql" in line for line in lines) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    started = time.monotonic()
    command.send_signal(2)
    assert command.wait(timeout=30) != 0
    assert time.monotonic() - started < 20
    reader.join(timeout=10)


def test_the_dagster_resource_runs_dbt_in_this_process(monkeypatch):
    """The project's dbt resource (what every dbt asset runs through) starts no `dbt` process:
    dagster-dbt's invocation holds an `InProcessDbt`, reads its events, and its module's
    `subprocess` is its own again afterwards."""
    from dagster_dbt.core import dbt_cli_invocation

    from orchestration.assets.dbt import dbt_project, dbt_resource, prepare_manifest

    prepare_manifest()
    started = []
    real_popen = subprocess.Popen

    def popen(args, *a, **k):
        started.append(args)
        return real_popen(args, *a, **k)

    monkeypatch.setattr(subprocess, "Popen", popen)
    invocation = dbt_resource().cli(
        ["ls", "--select", "fct_scorecard", "--resource-type", "model"], manifest=dbt_project.manifest_path
    )
    events = list(invocation.stream_raw_events())
    assert isinstance(invocation.process, InProcessDbt)
    assert invocation.is_successful()
    assert any("fct_scorecard" in str(e.raw_event["info"]["msg"]) for e in events)
    assert not [a for a in started if "dbt" in str(a)]
    assert dbt_cli_invocation.subprocess is subprocess


def test_relative_paths_resolve_against_the_commands_folder(tiny, tmp_path, monkeypatch):
    """dagster-dbt hands its child process relative target and log folders (DBT_TARGET_PATH,
    DBT_LOG_PATH) and the project folder as its working folder: they land in the project, not
    in this process's working folder."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    env = {
        **tiny["env"],
        "DBT_TARGET_PATH": "target/run-1",
        "DBT_LOG_PATH": "target/run-1",
        "DBT_LOG_LEVEL_FILE": "debug",
    }
    project = tiny["project"]
    command = InProcessDbt(
        [DBT_EXECUTABLE, "run", "--project-dir", str(project), "--profiles-dir", "."], env=env, cwd=project
    )
    list(command.stdout)
    assert command.wait(timeout=120) == 0
    assert (project / "target" / "run-1" / "dbt.log").exists()
    assert (project / "target" / "run-1" / "run_results.json").exists()
    assert list(elsewhere.iterdir()) == []
