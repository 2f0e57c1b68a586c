"""The serving database (warehouse/serving.py, orchestration/assets/serving.py): what a publish
copies, the atomic swap seen by readers in other processes while publishes run, the Parquet
export and its views, the Dagster asset after the build, and a BI tool's SQLAlchemy read."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from warehouse import serving
from warehouse.serving import PublishError, parquet_root, publish

A_ROWS, B_ROWS = 60_000, 20_000  # plus the generation, so a row count names its publish


def build_warehouse(path: Path, gen: int) -> None:
    """A small warehouse whose every published row carries `gen`; staging is never published."""
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema if not exists marts; create schema if not exists quality")
        con.execute("create schema if not exists staging")
        con.execute("create or replace table staging.stg_x as select 1 as x")
        con.execute(
            f"""create or replace table marts.fct_a as select {gen} as gen, range as id,
                (range / 7)::decimal(18, 2) as spend, 'EUR' as currency from range({A_ROWS + gen})"""
        )
        con.execute(
            f"create or replace table marts.fct_b as select {gen} as gen, range as id from range({B_ROWS + gen})"
        )
        con.execute("create or replace view marts.v_small as select gen, id from marts.fct_b where id < 5")
        con.execute(
            f"""create or replace table quality.check_results as
                select 'gx' as "check", {gen} as gen, true as passed, '{{"rows": 1}}'::json as observed"""
        )
    finally:
        con.close()


def read_all(con) -> dict:
    return {
        "a": con.execute("select min(gen), max(gen), count(*), sum(spend)::varchar from marts.fct_a").fetchall()[0],
        "b": con.execute("select min(gen), max(gen), count(*) from marts.fct_b").fetchall()[0],
        "q": con.execute("select min(gen), max(gen) from quality.check_results").fetchall()[0],
    }


@pytest.fixture
def paths(tmp_path):
    return tmp_path / "wh.duckdb", tmp_path / "out" / "serving.duckdb"


def test_publish_copies_the_marts_and_quality_results_and_nothing_else(paths):
    wh, srv = paths
    build_warehouse(wh, 1)
    result = publish(wh, srv, run_id="run-1")
    assert result.tables == {
        "marts.fct_a": A_ROWS + 1,
        "marts.fct_b": B_ROWS + 1,
        "marts.v_small": 5,
        "quality.check_results": 1,
    }
    con = duckdb.connect(str(srv), read_only=True)
    try:
        kinds = con.execute(
            "select table_schema, table_name, table_type from information_schema.tables order by 1, 2"
        ).fetchall()
        # a view of the warehouse becomes a table: what it reads (staging, intermediate) is not published
        assert [k for k in kinds if k[0] != "meta"] == [
            ("marts", "fct_a", "BASE TABLE"),
            ("marts", "fct_b", "BASE TABLE"),
            ("marts", "v_small", "BASE TABLE"),
            ("quality", "check_results", "BASE TABLE"),
        ]
        got = read_all(con)
        published = con.execute("select run_id, warehouse, parquet_dir, tables, rows from meta.published").fetchall()
        per_table = dict(con.execute("select table_schema || '.' || table_name, rows from meta.tables").fetchall())
    finally:
        con.close()
    source = duckdb.connect(str(wh), read_only=True)
    try:
        assert got == read_all(source)
    finally:
        source.close()
    assert published == [("run-1", str(wh.resolve()), str(result.parquet_dir), 4, sum(result.tables.values()))]
    assert per_table == result.tables
    # nothing left behind but the file and the Parquet folder
    assert sorted(p.name for p in srv.parent.iterdir()) == ["serving.duckdb", "serving_parquet"]


def test_a_warehouse_without_marts_fails_naming_it_and_keeps_the_previous_publish(paths):
    wh, srv = paths
    build_warehouse(wh, 1)
    publish(wh, srv)
    before = srv.read_bytes()
    con = duckdb.connect(str(wh))
    con.execute("drop schema marts cascade")
    con.close()
    with pytest.raises(PublishError, match=rf"cannot publish {wh.resolve()}: it holds no marts"):
        publish(wh, srv)
    assert srv.read_bytes() == before
    assert sorted(p.name for p in srv.parent.iterdir()) == ["serving.duckdb", "serving_parquet"]
    assert [p.name for p in parquet_root(srv).iterdir() if p.name.startswith(".")] == []
    with pytest.raises(PublishError, match="no such warehouse file"):
        publish(wh.with_name("absent.duckdb"), srv)


def test_parquet_views_use_absolute_paths_and_old_publishes_are_pruned(paths, tmp_path, monkeypatch):
    wh, srv = paths
    results = []
    for gen in range(1, 6):
        build_warehouse(wh, gen)
        results.append(publish(wh, srv))
    root = parquet_root(srv)
    versions = sorted(p.name for p in root.iterdir() if p.name.startswith("v"))
    assert versions == sorted(r.parquet_dir.name for r in results[-serving.KEEP_PARQUET_VERSIONS :])
    assert (root / "current").resolve() == results[-1].parquet_dir
    # from another working folder, in a fresh in-memory DuckDB: the views read the newest publish whole
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    views = (root / "current" / "views.sql").read_text()
    # each view names this publish's folder, never the pointer: a reader resolves it once, never mixing publishes
    assert "read_parquet('/" in views and "current" not in views.split("\n", 3)[-1]
    con = duckdb.connect()
    try:
        con.execute(views)
        got = read_all(con)
    finally:
        con.close()
    assert got["a"][:3] == (5, 5, A_ROWS + 5) and got["b"] == (5, 5, B_ROWS + 5) and got["q"] == (5, 5)
    # an abandoned temporary file of a publish whose process is gone is cleared by the next one
    dead = srv.parent / f".{srv.name}.20260101T000000000000Z-999999999.tmp"
    dead.write_bytes(b"half a file")
    publish(wh, srv)
    assert not dead.exists()


READER = textwrap.dedent(
    """
    import json, os, sys, time
    import duckdb

    serving, root, stop, out = sys.argv[1:5]
    A_ROWS, B_ROWS = int(sys.argv[5]), int(sys.argv[6])


    def observe():
        # a fresh connection each time, closed after: the way to see a new publish
        con = duckdb.connect(serving, read_only=True)
        try:
            a = con.execute("select min(gen), max(gen), count(*) from marts.fct_a").fetchall()[0]
            b = con.execute("select min(gen), max(gen), count(*) from marts.fct_b").fetchall()[0]
            q = con.execute("select min(gen), max(gen) from quality.check_results").fetchall()[0]
            run = con.execute("select run_id from meta.published").fetchall()[0][0]
        finally:
            con.close()
        gen = a[0]
        problems = []
        if not (a[:2] == b[:2] == q == (gen, gen) and run == f"gen-{gen}"):
            problems.append(f"mixed: a={a} b={b} q={q} run={run}")
        if (a[2], b[2]) != (A_ROWS + gen, B_ROWS + gen):
            problems.append(f"partial: a={a} b={b}")
        # the Parquet export, through the current publish's views
        pq = duckdb.connect()
        try:
            with open(os.path.join(root, "current", "views.sql")) as f:
                pq.execute(f.read())
            pa = pq.execute("select min(gen), max(gen), count(*) from marts.fct_a").fetchall()[0]
            pb = pq.execute("select min(gen), max(gen), count(*) from marts.fct_b").fetchall()[0]
        finally:
            pq.close()
        if not (pa[0] == pa[1] == pb[0] == pb[1] and (pa[2], pb[2]) == (A_ROWS + pa[0], B_ROWS + pa[0])):
            problems.append(f"parquet mixed or partial: a={pa} b={pb}")
        return gen, pa[0], problems


    seen, errors = [], []
    while not os.path.exists(stop):
        try:
            gen, pgen, problems = observe()
            seen.append([gen, pgen])
            errors.extend(problems)
        except Exception as exc:
            errors.append(repr(exc))
    final = observe()  # after the last publish: reconnecting shows it
    with open(out, "w") as f:
        json.dump({"seen": seen, "errors": errors + final[2], "final": [final[0], final[1]]}, f)
    """
)


def test_readers_in_other_processes_see_whole_publishes_while_publishes_run(paths, tmp_path, monkeypatch):
    """A reader querying the serving file in a loop from another process, while the warehouse
    changes and is published again and again: no error, never a half-built or mixed result
    (DuckDB file and Parquet views alike), and the newest data after reconnecting. A reader
    holding the file open does not hold up a publish; it keeps its old copy until it reconnects."""
    monkeypatch.setattr(serving, "KEEP_PARQUET_VERSIONS", 100)  # a slow reader's folder is never pruned here
    wh, srv = paths
    build_warehouse(wh, 1)
    publish(wh, srv, run_id="gen-1")
    held = duckdb.connect(str(srv), read_only=True)  # a BI connection left open all along
    script, stop, out = tmp_path / "reader.py", tmp_path / "stop", tmp_path / "seen.json"
    script.write_text(READER)
    reader = subprocess.Popen(
        [sys.executable, str(script), str(srv), str(parquet_root(srv)), str(stop), str(out), str(A_ROWS), str(B_ROWS)]
    )
    try:
        time.sleep(1.0)  # the reader is up and reading generation 1
        last = 8
        for gen in range(2, last + 1):
            build_warehouse(wh, gen)
            started = time.monotonic()
            publish(wh, srv, run_id=f"gen-{gen}")
            assert time.monotonic() - started < 30  # never waits on the readers
            time.sleep(0.2)
        stop.touch()
        assert reader.wait(timeout=120) == 0
    finally:
        if reader.poll() is None:
            reader.kill()
    report = json.loads(out.read_text())
    assert report["errors"] == []
    gens = [g for g, _ in report["seen"]]
    assert len(report["seen"]) > 20
    assert gens == sorted(gens) and len(set(gens)) >= 3  # it saw publishes come in while it read
    assert report["final"] == [last, last]
    # The connection held open in this process still reads the file it opened (generation 1),
    # and so does any new connection of this process while it is open (DuckDB keeps one
    # database per path): in the same process, close every connection to see new data.
    assert read_all(held)["a"][:3] == (1, 1, A_ROWS + 1)
    again = duckdb.connect(str(srv), read_only=True)
    assert read_all(again)["a"][0] == 1
    again.close()
    held.close()
    fresh = duckdb.connect(str(srv), read_only=True)
    try:
        assert read_all(fresh)["a"][:3] == (last, last, A_ROWS + last)
    finally:
        fresh.close()


# --- the Dagster asset, on the session's warehouse (the main job, as `make run` runs it) ----------


def test_the_main_job_publishes_the_serving_database_after_the_build(materialized):
    from orchestration.assets.dbt import dbt_models
    from orchestration.assets.serving import SERVING_KEY

    result = materialized["result"]
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key == SERVING_KEY]
    steps = [(e.event_type_value, e.step_key) for e in result.all_events if e.step_key]
    assert steps.index(("STEP_SUCCESS", "dbt_models")) < steps.index(("STEP_START", "serving__publish"))
    metadata = event.step_materialization_data.materialization.metadata
    rows = json.loads(metadata["rows_per_table"].value)
    marts = {k.path[1] for k in dbt_models().keys if k.path[0] == "marts"}
    assert {t.split(".", 1)[1] for t in rows if t.startswith("marts.")} == marts
    srv = materialized["warehouse"].parent / "serving.duckdb"
    assert metadata["serving_path"].value == str(srv)
    con = duckdb.connect(str(srv), read_only=True)
    try:
        assert con.execute("select run_id from meta.published").fetchall() == [(result.run_id,)]
        for table, n in rows.items():
            assert con.execute(f"select count(*) from {table}").fetchall()[0][0] == n, table
    finally:
        con.close()
    assert rows["marts.fct_paid_performance_daily"] > 0


def test_publish_runs_in_main_and_transform_after_every_mart():
    from orchestration.assets.serving import SERVING_KEY
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    marts = {k for k in graph.get_all_asset_keys() if k.path[0] == "marts"}
    assert marts and set(graph.get(SERVING_KEY).parent_keys) == marts
    for name in ("main", "transform"):
        job = defs.resolve_job_def(name)
        assert SERVING_KEY in job.asset_layer.asset_graph.get_all_asset_keys(), name


def test_a_bi_tool_reads_a_mart_through_sqlalchemy_read_only(materialized):
    """As Superset connects: SQLAlchemy with duckdb-engine, `connect_args={"read_only": True}`."""
    import pandas as pd
    from sqlalchemy import create_engine, inspect, text
    from sqlalchemy.pool import NullPool

    srv = materialized["warehouse"].parent / "serving.duckdb"
    engine = create_engine(f"duckdb:///{srv}", connect_args={"read_only": True}, poolclass=NullPool)
    try:
        assert "fct_paid_performance_daily" in inspect(engine).get_table_names(schema="marts")
        with engine.connect() as conn:
            frame = pd.read_sql(
                text(
                    "select currency, sum(spend) as spend, count(*) as n from marts.fct_paid_performance_daily group by 1"
                ),
                conn,
            )
            with pytest.raises(Exception, match="read-only"):
                conn.execute(text("create table marts.scratch as select 1 as x"))
    finally:
        engine.dispose()
    con = duckdb.connect(str(srv), read_only=True)
    try:
        expected = con.execute(
            "select currency, sum(spend), count(*) from marts.fct_paid_performance_daily group by 1"
        ).fetchall()
    finally:
        con.close()
    got = sorted((r.currency, float(r.spend), int(r.n)) for r in frame.itertuples())
    assert got == sorted((c, float(s), n) for c, s, n in expected) and sum(n for *_, n in got) > 0


def test_serve_info_publishes_by_hand_and_says_how_to_connect(paths, monkeypatch, capsys):
    """`python -m warehouse.serving [info|publish]` (`make serve-info`)."""
    wh, srv = paths
    monkeypatch.setenv("SKW_WAREHOUSE_PATH", str(wh))
    monkeypatch.setenv("SKW_SERVING_PATH", str(srv))
    assert serving._main(["info"]) == 1
    assert f"no serving database yet at {srv}" in capsys.readouterr().err
    build_warehouse(wh, 3)
    assert serving._main(["publish"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"published 4 tables ({A_ROWS + B_ROWS + 3 + 3 + 5 + 1:,} rows)")
    assert f"serving     {srv}  (DuckDB {serving.OLDEST_READER} or later opens it, read-only)" in out
    assert f'create_engine("duckdb:///{srv}", connect_args={{"read_only": True}})' in out
    assert f"{parquet_root(srv)}/v" in out and "views.sql" in out
