"""What keeps a daily run of the dbt project cheap, each shown doing what it says on a copy of
the session warehouse (its own dbt target folder):

- a data test of an incremental model, in a windowed run, reads the run's window only
  (macros/test_window.sql), and everything on a full refresh or without a window; a key without
  the window's day is still checked against every row for the window's keys (macros/rules.sql);
- `stg_hubspot__contacts` and `stg_hubspot__deals` read only the raw records of loads they have
  not read, replace them by id, and delete records gone from raw: the same rows as a full refresh;
- a view whose SQL has not changed is not re-created (macros/materializations/view.sql); one
  whose stamp does not match its SQL is;
- a build of the whole project leaves the view models out while they are current (nothing they
  are made of changed since a build that made them all: `views_are_current`), still running
  their tests, and builds them again after anything that could change one; the Dagster asset
  then reports each view materialized without dbt.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import TEST_SPEC
from test_marts_build import dbt

from orchestration.assets import dbt as dbt_asset
from orchestration.assets.dbt import (
    DBT_DIR,
    dbt_build_args,
    project_fingerprint,
    record_views_current,
    view_relations,
    views_are_current,
)
from warehouse.loader import connect

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def copy(materialized, tmp_path_factory):
    base = tmp_path_factory.mktemp("dbt_run_costs")
    wh = base / "w.duckdb"
    shutil.copy(materialized["warehouse"], wh)
    target = base / "target"
    shutil.copytree(DBT_DIR / "target", target, ignore=shutil.ignore_patterns("dbt_models-*"))
    return wh, target


def test_a_windowed_run_tests_its_window_only(copy):
    wh, target = copy
    with connect(wh) as con:
        first, last = con.execute(
            "select min(date_day), max(date_day) from marts.fct_paid_performance_daily"
        ).fetchone()
        # a duplicate of a row of the first day: the model's key test must catch it
        con.execute(
            """insert into marts.fct_paid_performance_daily
                       select * from marts.fct_paid_performance_daily where date_day = ? limit 1""",
            [first],
        )
    select = ["test", "--select", "fct_paid_performance_daily", "--exclude", "test_type:unit"]
    # a run over the last day only does not read the first day
    dbt(select, wh, target, SKW_DBT_START_DATE=last.isoformat(), SKW_DBT_END_DATE=last.isoformat())
    # one whose window holds the first day, and one without a window, do
    proc = dbt(
        select, wh, target, check=False, SKW_DBT_START_DATE=first.isoformat(), SKW_DBT_END_DATE=first.isoformat()
    )
    assert proc.returncode != 0 and "rules_fct_paid_performance_daily" in proc.stdout
    # the failure names the model's test, the rule and its columns
    assert (
        "rules_fct_paid_performance_daily: unique_combination_of_columns "
        "(date_day, platform, account_id, campaign_id): 1 failing" in proc.stdout
    )
    proc = dbt(select, wh, target, check=False)
    assert proc.returncode != 0
    with connect(wh) as con:  # put the table back for the other tests
        con.execute(
            "create or replace table marts.fct_paid_performance_daily as select distinct * from marts.fct_paid_performance_daily"
        )


def test_a_windowed_run_checks_a_key_without_the_day_across_the_window(own_copy):
    """A key that holds no day (int_texts_scored's text_source, text_id, account_id: a text can be
    written again on another day) is checked in a windowed run against every row, for the window's
    keys (macros/rules.sql `rules_key_rows`): a duplicate with one copy outside the window fails from
    either side; one with both copies outside the window is not read (it was there, and tested,
    before)."""
    wh, target = own_copy
    with connect(wh) as con:
        first, last = con.execute(
            "select min(occurred_date), max(occurred_date) from intermediate.int_texts_scored"
        ).fetchone()
        # a text of the first day, written again on the last day
        con.execute(
            """insert into intermediate.int_texts_scored
                       select * replace (cast(? as date) as occurred_date)
                       from intermediate.int_texts_scored where occurred_date = ? order by all limit 1""",
            [last, first],
        )
    select = ["test", "--select", "int_texts_scored", "--exclude", "test_type:unit"]
    failing = "rules_int_texts_scored: unique_combination_of_columns (text_source, text_id, account_id): 1 failing"
    for day in (last, first):
        proc = dbt(
            select, wh, target, check=False, SKW_DBT_START_DATE=day.isoformat(), SKW_DBT_END_DATE=day.isoformat()
        )
        assert proc.returncode != 0 and failing in proc.stdout, (day, proc.stdout[-3000:])
    # a window holding neither copy does not read them
    middle = (first + (last - first) / 2).isoformat()
    assert first.isoformat() < middle < last.isoformat()
    dbt(select, wh, target, SKW_DBT_START_DATE=middle, SKW_DBT_END_DATE=middle)
    proc = dbt(select, wh, target, check=False)  # no window: every row
    assert proc.returncode != 0 and failing in proc.stdout


def _rows(wh, model: str):
    with connect(wh, read_only=True) as con:
        return sorted(con.execute(f"select * exclude (_loaded_at) from staging.{model}").fetchall(), key=repr)


# the HubSpot staging tables that read only unread loads: model, raw table, key, a property
# changed in HubSpot and the column it lands in
UNREAD_LOADS = [
    ("stg_hubspot__contacts", "raw.hubspot__contacts", "contact_id", "lifecyclestage", "customer", "lifecycle_stage"),
    ("stg_hubspot__deals", "raw.hubspot__deals", "deal_id", "dealstage", "closedlost", "deal_stage"),
]


@pytest.mark.parametrize(
    ("model", "raw", "key", "prop", "value", "column"), UNREAD_LOADS, ids=[u[0] for u in UNREAD_LOADS]
)
def test_hubspot_staging_reads_unread_loads_and_equals_a_full_refresh(copy, model, raw, key, prop, value, column):
    wh, target = copy
    with connect(wh) as con:
        ids = [r[0] for r in con.execute(f"select id from {raw} order by id limit 2").fetchall()]
        assert (
            con.execute(
                f"select count(*) from staging.{model} where {column} = ? and {key} = ?", [value, ids[0]]
            ).fetchone()[0]
            == 0
        )
        # one record changed in HubSpot (a new load wrote it), one deleted there (gone from raw)
        con.execute(
            f"""update {raw}
                set _record = json_merge_patch(_record, '{{"properties": {{"{prop}": "{value}"}}}}'),
                    _load_id = 'load-test-change'
                where id = ?""",
            [ids[0]],
        )
        con.execute(f"delete from {raw} where id = ?", [ids[1]])
    dbt(["run", "--select", model], wh, target)
    with connect(wh, read_only=True) as con:
        got = con.execute(f"select {column}, _load_id from staging.{model} where {key} = ?", [ids[0]]).fetchone()
        assert got == (value, "load-test-change")
        assert con.execute(f"select count(*) from staging.{model} where {key} = ?", [ids[1]]).fetchone()[0] == 0
    incremental = _rows(wh, model)
    dbt(["run", "--select", model, "--full-refresh"], wh, target)
    assert incremental == _rows(wh, model)


def test_an_unchanged_view_is_left_alone_and_a_changed_one_rebuilt(copy):
    wh, target = copy
    view = "stg_youtube__channels"
    dbt(["run", "--select", view], wh, target)
    manifest = json.loads((target / "manifest.json").read_text())
    node = next(n for n in manifest["nodes"].values() if n["name"] == view)
    compiled = Path(target / "compiled" / node["package_name"] / node["original_file_path"]).read_text()
    stamp = "dbt-sql-md5:" + hashlib.md5(compiled.encode()).hexdigest()

    def comment_and_sql():
        with connect(wh, read_only=True) as con:
            return con.execute(
                "select comment, sql from duckdb_views() where schema_name = 'staging' and view_name = ?", [view]
            ).fetchone()

    assert comment_and_sql()[0] == stamp
    # a view carrying the right stamp is trusted: a second run does not re-create it
    with connect(wh) as con:
        con.execute(f"create or replace view staging.{view} as select 1 as sentinel")
        con.execute(f"comment on view staging.{view} is '{stamp}'")
    dbt(["run", "--select", view], wh, target)
    assert "sentinel" in comment_and_sql()[1]
    # a stamp that does not match the model's SQL (the SQL changed) re-creates it
    with connect(wh) as con:
        con.execute(f"comment on view staging.{view} is 'dbt-sql-md5:stale'")
    dbt(["run", "--select", view], wh, target)
    comment, sql = comment_and_sql()
    assert comment == stamp and "sentinel" not in sql
    # and a full refresh always re-creates it
    with connect(wh) as con:
        con.execute(f"create or replace view staging.{view} as select 1 as sentinel")
        con.execute(f"comment on view staging.{view} is '{stamp}'")
    dbt(["run", "--select", view, "--full-refresh"], wh, target)
    assert "sentinel" not in comment_and_sql()[1]


# -- a model's rules in one test (macros/rules.sql) -----------------------------------------------
FOLDED = {
    "not_null_columns",
    "unique_combination_of_columns",
    "unique",
    "accepted_values",
    "expression_is_true",
    "not_null",
}


def test_each_model_has_its_rules_in_one_test():
    """One dbt node (one query, one Dagster check) per model for its generic rules: a rule of these
    kinds declared as a test of its own is one only when it needs its own config (a severity)."""
    nodes = json.loads((DBT_DIR / "target" / "manifest.json").read_text())["nodes"]
    models = {uid: n for uid, n in nodes.items() if n["resource_type"] == "model"}
    rules: dict[str, list[str]] = {}
    for n in nodes.values():
        meta = n.get("test_metadata") or {}
        if meta.get("name") == "rules":
            rules.setdefault(n["attached_node"], []).append(n["name"])
        elif meta.get("name") in FOLDED:
            own_config = n["config"]["severity"].lower() != "error" or n["config"].get("where")
            assert own_config, f"{n['name']}: a rule of its own, not in rules_{n['attached_node'].split('.')[-1]}"
    # every model of the layers is tested, by exactly one rules test named after it (the semantic
    # layer's time spine is a calendar)
    layers = {uid: m for uid, m in models.items() if m["fqn"][1] in ("staging", "intermediate", "marts")}
    assert len(layers) >= 100
    assert {uid: rules.get(uid) for uid in layers} == {uid: [f"rules_{m['name']}"] for uid, m in layers.items()}


@pytest.fixture
def own_copy(materialized, tmp_path):
    wh = tmp_path / "w.duckdb"
    shutil.copy(materialized["warehouse"], wh)
    target = tmp_path / "target"
    shutil.copytree(DBT_DIR / "target", target, ignore=shutil.ignore_patterns("dbt_models-*", "run", "compiled"))
    return wh, target


def test_a_broken_rule_of_each_kind_fails_and_is_named(own_copy):
    """Each kind of rule in a `rules` test catches what its test of its own caught, and the
    failure names the model's test, the rule and the column (or key, or expression)."""
    wh, target = own_copy
    select = ["test", "--select", "fct_paid_performance_daily", "int_crm_deals", "--exclude", "test_type:unit"]
    dbt(select, wh, target)  # all pass first
    with connect(wh) as con:
        day, campaign = con.execute(
            "select date_day, campaign_id from marts.fct_paid_performance_daily order by all limit 1"
        ).fetchone()
        con.execute(  # a duplicate key, then on that row: clicks over impressions, a platform not accepted
            "insert into marts.fct_paid_performance_daily select * from marts.fct_paid_performance_daily "
            "where date_day = ? and campaign_id = ?",
            [day, campaign],
        )
        con.execute(
            "update marts.fct_paid_performance_daily set clicks = impressions + 1, platform = 'tiktok_ads', "
            "spend = null where date_day = ? and campaign_id = ?",
            [day, campaign],
        )
        con.execute("insert into intermediate.int_crm_deals select * from intermediate.int_crm_deals limit 1")
    proc = dbt(select, wh, target, check=False)
    assert proc.returncode != 0
    out = proc.stdout
    for line in (
        "rules_fct_paid_performance_daily: not_null_columns (spend): 2 failing",
        # the duplicate's key now holds platform tiktok_ads: both copies count as one key
        "rules_fct_paid_performance_daily: unique_combination_of_columns "
        "(date_day, platform, account_id, campaign_id): 1 failing",
        "rules_fct_paid_performance_daily: accepted_values (platform): 1 failing",
        "rules_fct_paid_performance_daily: expression_is_true (clicks <= impressions): 2 failing",
        "rules_int_crm_deals: unique (deal_id): 1 failing",
    ):
        assert line in out, out[-4000:]
    # dbt's own summary: which test, how many rules broke
    assert "Failure in test rules_fct_paid_performance_daily" in out and "Got 4 results" in out
    assert "Failure in test rules_int_crm_deals" in out


# -- views left out of a build while they are current (orchestration/assets/dbt.py) ----------------
def test_a_build_leaves_current_views_out_but_runs_their_tests(own_copy):
    wh, target = own_copy
    env = {**os.environ, "SKW_WAREHOUSE_PATH": str(wh)}
    fingerprint = project_fingerprint(env)
    assert not views_are_current(wh, fingerprint)  # never recorded for this warehouse
    day = TEST_SPEC.end.isoformat()
    window = {"SKW_DBT_START_DATE": day, "SKW_DBT_END_DATE": day}
    built = dbt(dbt_build_args(), wh, target, **window).stdout
    assert "sql view model staging.stg_youtube__channels" in built
    record_views_current(wh, fingerprint)
    assert views_are_current(wh, fingerprint)
    out = dbt(dbt_build_args(views=False), wh, target, **window).stdout
    assert "sql view model" not in out and "sql incremental model marts.fct_paid_performance_daily" in out
    # every test still runs, the views' too (a dated staging view's test reads the window's raw rows)
    tests = lambda text: {line.split(" test ")[1].split()[0] for line in text.splitlines() if " START test " in line}  # noqa: E731
    assert tests(out) == tests(built) and "rules_stg_youtube__channels" in tests(out)
    assert views_are_current(wh, fingerprint)  # nothing re-created a view


def test_views_are_checked_again_after_anything_that_could_change_one(own_copy, tmp_path, monkeypatch):
    wh, target = own_copy
    env = {**os.environ, "SKW_WAREHOUSE_PATH": str(wh)}
    fingerprint = project_fingerprint(env)
    assert project_fingerprint(env) == fingerprint
    # the run window is not part of it (no view reads it); the PII salt and the warehouse are
    assert project_fingerprint({**env, "SKW_DBT_START_DATE": "2026-06-03"}) == fingerprint
    assert project_fingerprint({**env, "SKW_PII_SALT": "another salt"}) != fingerprint
    assert project_fingerprint({**env, "SKW_WAREHOUSE_PATH": str(tmp_path / "other.duckdb")}) != fingerprint
    # a changed file of the project (here a copy of it)
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    monkeypatch.setattr(dbt_asset, "DBT_DIR", project)
    assert project_fingerprint(env) == fingerprint
    model = project / "models" / "staging" / "youtube" / "stg_youtube__channels.sql"
    model.write_text(model.read_text() + "\n-- changed\n")
    assert project_fingerprint(env) != fingerprint
    monkeypatch.undo()
    # a view re-created with the same SQL (a full refresh of it) is still current ...
    dbt(["run", "--select", "stg_youtube__channels"], wh, target)  # stamped for this warehouse's name
    record_views_current(wh, fingerprint)
    assert views_are_current(wh, fingerprint)
    dbt(["run", "--select", "stg_youtube__channels", "--full-refresh"], wh, target)
    assert views_are_current(wh, fingerprint)
    # ... one re-created with other SQL (as dbt run by hand with other vars would: another stamp) is not
    with connect(wh) as con:
        (stamp,) = con.execute(
            "select comment from duckdb_views() where schema_name = 'staging' and view_name = 'stg_youtube__channels'"
        ).fetchone()
        con.execute("create or replace view staging.stg_youtube__channels as select 1 as sentinel")
        con.execute("comment on view staging.stg_youtube__channels is 'dbt-sql-md5:other'")
    assert not views_are_current(wh, fingerprint)
    with connect(wh) as con:  # its stamp back: current again
        con.execute(f"comment on view staging.stg_youtube__channels is '{stamp}'")
    assert views_are_current(wh, fingerprint)
    # a view replaced or dropped by hand (no stamp)
    with connect(wh) as con:
        con.execute("create or replace view staging.stg_youtube__channels as select 1 as sentinel")
    assert not views_are_current(wh, fingerprint)
    with connect(wh) as con:
        con.execute("drop view staging.stg_youtube__channels")
    assert not views_are_current(wh, fingerprint)
    # another fingerprint (the project changed since)
    dbt(["run", "--select", "stg_youtube__channels"], wh, target)
    record_views_current(wh, fingerprint)
    assert views_are_current(wh, fingerprint) and not views_are_current(wh, "0" * 64)
    assert "staging.stg_youtube__channels" in view_relations()


def test_the_asset_reports_current_views_materialized_and_tests_them(materialized, tmp_path):
    """Two runs of the dbt asset on a copy: the first builds the views with dbt, the second leaves
    them to Dagster (materialized, with no dbt run) and still evaluates their checks."""
    from dagster import DagsterInstance, materialize

    from orchestration.assets.dbt import dbt_models, dbt_resource
    from orchestration.instance import instance_settings
    from orchestration.resources import WarehouseResource

    wh = tmp_path / "w.duckdb"
    shutil.copy(materialized["warehouse"], wh)
    resources = {"dbt": dbt_resource(), "warehouse": WarehouseResource(warehouse_path=str(wh))}
    view = "staging/stg_youtube__channels"
    results = []
    for _ in range(2):
        with DagsterInstance.ephemeral(settings=instance_settings()) as instance:
            result = materialize(
                [dbt_models()], partition_key=TEST_SPEC.end.isoformat(), resources=resources, instance=instance
            )
            assert result.success
            mats = {e.asset_key.to_user_string(): e.materialization for e in result.get_asset_materialization_events()}
            checks = {e.asset_key.to_user_string() for e in result.get_asset_check_evaluations()}
            results.append((mats, checks))
    (first, first_checks), (second, second_checks) = results
    assert set(first) == set(second) and view in second and "marts/fct_paid_performance_daily" in second
    assert "view" not in first[view].metadata  # built by dbt
    assert second[view].metadata["view"].value.startswith("current")  # left out of dbt
    assert "unique_id" in second["marts/fct_paid_performance_daily"].metadata
    assert first_checks == second_checks and view in second_checks
