"""The project's one-statement table and incremental materializations on DuckDB
(dbt_project/macros/materializations/table.sql, incremental.sql) give the rows dbt-duckdb's
own give, fail a changed schema as dbt's on_schema_change='fail' does, and leave every model
they do not cover to dbt-duckdb. Held on a small project that uses the project's own macro
files, each model built twice: once by them, once forced onto dbt-duckdb's materialization."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration.assets.dbt import DBT_DIR
from warehouse.dbt_runner import run_dbt

PROFILE = """lean:
  target: local
  outputs:
    local:
      type: duckdb
      path: "{{ env_var('LEAN_WAREHOUSE') }}"
      threads: 2
"""
PROJECT = """name: lean
version: "1.0"
config-version: 2
profile: lean
flags:
  send_anonymous_usage_stats: false
  version_check: false
"""
# the rows of a day-keyed model, from a var: each run passes the days it rebuilds
ROWS = """
select day, key2, v, cast(v * 1.5 as double) as amount
from (values {{ var('rows') }}) as t(day, key2, v)
"""
# dbt-duckdb's own materialization: incremental predicates are a case the lean one leaves to it
FALLBACK = ", incremental_predicates=['1 = 1']"


def _model(config: str) -> str:
    return "{{ config(" + config + ") }}\n" + ROWS


@pytest.fixture()
def lean(tmp_path: Path) -> dict:
    project = tmp_path / "lean"
    (project / "models").mkdir(parents=True)
    shutil.copytree(DBT_DIR / "macros" / "materializations", project / "macros" / "materializations")
    (project / "dbt_project.yml").write_text(PROJECT)
    (project / "profiles.yml").write_text(PROFILE)
    inc = "materialized='incremental', incremental_strategy='delete+insert', on_schema_change='fail'"
    models = {
        "by_day": _model(inc + ", unique_key='day'"),
        "by_day_duckdb": _model(inc + ", unique_key='day'" + FALLBACK),
        "by_two": _model(inc + ", unique_key=['day', 'key2']"),
        "by_two_duckdb": _model(inc + ", unique_key=['day', 'key2']" + FALLBACK),
        "appended": _model("materialized='incremental', incremental_strategy='append'"),
        "appended_duckdb": _model("materialized='incremental', incremental_strategy='append'" + FALLBACK),
        "whole": _model("materialized='table'"),
        "whole_with_contract": _model("materialized='table'"),
    }
    for name, sql in models.items():
        (project / "models" / f"{name}.sql").write_text(sql)
    (project / "models" / "contract.yml").write_text(
        "models:\n  - name: whole_with_contract\n    config:\n      contract: {enforced: true}\n    columns:\n"
        "      - {name: day, data_type: integer}\n      - {name: key2, data_type: varchar}\n"
        "      - {name: v, data_type: integer}\n      - {name: amount, data_type: double}\n"
    )
    env = {**os.environ, "LEAN_WAREHOUSE": str(tmp_path / "lean.duckdb"), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    args = ["--project-dir", str(project), "--profiles-dir", str(project), "--log-path", str(tmp_path / "logs")]
    args += ["--target-path", str(tmp_path / "target")]
    return {"env": env, "args": args, "warehouse": tmp_path / "lean.duckdb", "target": tmp_path / "target"}


def _run(lean: dict, rows: str, *extra: str):
    return run_dbt(["run", "--vars", f'{{rows: "{rows}"}}', *extra, *lean["args"]], env=lean["env"])


def _rows(lean: dict, table: str) -> list[tuple]:
    with duckdb.connect(str(lean["warehouse"]), read_only=True) as con:
        return con.execute(f"select * from main.{table} order by all").fetchall()


def _statement(lean: dict, model: str) -> str:
    """The model's main statement as dbt ran it (target/run)."""
    return next(lean["target"].glob(f"run/lean/models/{model}.sql")).read_text().lower()


def test_incremental_runs_give_dbt_duckdbs_rows(lean):
    # first build, then a run that restates day 2 (one key2 changed, one gone), adds day 3, and a
    # row with a null key (never matched by a delete, as in dbt-duckdb's strategy SQL)
    _run(lean, "(1, 'a', 10), (2, 'a', 20), (2, 'b', 21)")
    _run(lean, "(2, 'a', 22), (3, 'a', 30), (null, 'z', 0)")
    _run(lean, "(2, 'c', 23), (null, 'z', 1)")
    for lean_model, duckdb_model in (
        ("by_day", "by_day_duckdb"),
        ("by_two", "by_two_duckdb"),
        ("appended", "appended_duckdb"),
    ):
        assert _rows(lean, lean_model) == _rows(lean, duckdb_model), lean_model
    assert [r[:3] for r in _rows(lean, "by_day")] == [
        (1, "a", 10),
        (2, "c", 23),
        (3, "a", 30),
        (None, "z", 0),
        (None, "z", 1),
    ]
    assert [r[:3] for r in _rows(lean, "by_two")] == [
        (1, "a", 10),
        (2, "a", 22),
        (2, "b", 21),
        (2, "c", 23),
        (3, "a", 30),
        (None, "z", 0),
        (None, "z", 1),
    ]
    # which materialization ran: one statement here, dbt-duckdb's temporary relation there
    assert "insert into" in _statement(lean, "by_day") and "by name" in _statement(lean, "by_day")
    assert "by name" not in _statement(lean, "by_day_duckdb")


def test_a_full_refresh_and_a_table_replace_in_one_statement(lean):
    _run(lean, "(1, 'a', 10), (2, 'a', 20)")
    _run(lean, "(5, 'e', 50)", "--full-refresh")
    for model in ("by_day", "by_day_duckdb", "whole", "whole_with_contract"):
        assert [r[:3] for r in _rows(lean, model)] == [(5, "e", 50)], model
    assert _statement(lean, "whole").lstrip().startswith("create or replace table")
    # a contract needs dbt-duckdb's steps (its typed create): left to it
    assert not _statement(lean, "whole_with_contract").lstrip().startswith("create or replace table")


def test_a_view_in_a_tables_place_is_replaced(lean):
    with duckdb.connect(str(lean["warehouse"])) as con:
        con.execute("create view main.whole as select 42 as answer")
        con.execute("create view main.by_day as select 42 as answer")
    _run(lean, "(1, 'a', 10)")
    assert [r[:3] for r in _rows(lean, "whole")] == [(1, "a", 10)]
    assert [r[:3] for r in _rows(lean, "by_day")] == [(1, "a", 10)]


def test_a_changed_schema_fails_as_dbt_says_and_names_the_column(lean):
    _run(lean, "(1, 'a', 10)")
    with duckdb.connect(str(lean["warehouse"])) as con:
        con.execute("alter table main.by_day add column added integer")
        con.execute("alter table main.by_day_duckdb add column added integer")
    with pytest.raises(RuntimeError) as failed:
        _run(lean, "(2, 'a', 20)", "--select", "by_day", "by_day_duckdb")
    message = str(failed.value)
    assert message.count("out of sync") >= 2  # both materializations refuse
    assert "in the table only: added INTEGER" in message
    # nothing written: the day-2 row is in neither
    assert [r[0] for r in _rows(lean, "by_day")] == [1]
