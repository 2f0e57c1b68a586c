"""The dbt project as a whole, on a copy of the session warehouse:

- every dbt unit test passes (materializations leave them out);
- incremental runs over a few windows of days give exactly the rows of a full refresh, in
  every incremental model (nothing dropped at a window's edge, nothing doubled);
- `dbt docs generate` succeeds and every column of every mart has a description;
- every model of every layer is documented in the YAML beside it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import TEST_SPEC

from orchestration.assets.dbt import DBT_DIR, DBT_EXECUTABLE
from warehouse.loader import connect

pytestmark = pytest.mark.slow


def dbt(args: list[str], warehouse: Path, target: Path, check: bool = True, **env) -> subprocess.CompletedProcess:
    """dbt on `warehouse` with its own target folder; the run window only when given. With
    `check`, a failure fails the test with dbt's output."""
    full_env = {**os.environ, "SKW_WAREHOUSE_PATH": str(warehouse), **env}
    for var in ("SKW_DBT_START_DATE", "SKW_DBT_END_DATE"):
        if var not in env:
            full_env.pop(var, None)
    proc = subprocess.run(
        [
            DBT_EXECUTABLE,
            *args,
            "--profiles-dir",
            str(DBT_DIR),
            "--target-path",
            str(target),
            "--log-path",
            str(target / "logs"),
        ],
        cwd=DBT_DIR,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert not check or proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    return proc


@pytest.fixture(scope="module")
def project_copy(materialized, tmp_path_factory):
    """A copy of the session warehouse and its own dbt target folder (the session's stays as it is)."""
    base = tmp_path_factory.mktemp("dbt_project_copy")
    wh = base / "w.duckdb"
    shutil.copy(materialized["warehouse"], wh)
    target = base / "target"
    shutil.copytree(DBT_DIR / "target", target, ignore=shutil.ignore_patterns("dbt_models-*"))
    return wh, target


def _manifest(target: Path) -> dict:
    return json.loads((target / "manifest.json").read_text())


def _incremental_models(target: Path) -> list[dict]:
    return [
        n
        for n in _manifest(target)["nodes"].values()
        if n["resource_type"] == "model" and n["config"].get("materialized") == "incremental"
    ]


def _rows(con, relation: str) -> list[tuple]:
    return sorted(con.execute(f"select * from {relation}").fetchall(), key=repr)


def test_unit_tests_pass(project_copy):
    """Every dbt unit test (the models' logic on hand-made inputs, answers worked out by hand).
    Materializations leave them out (they test code, not data): they run here."""
    wh, target = project_copy
    proc = dbt(["test", "--select", "test_type:unit"], wh, target)
    results = json.loads((target / "run_results.json").read_text())["results"]
    assert len(results) >= 40 and all(r["status"] == "pass" for r in results), proc.stdout[-3000:]


def test_incremental_windows_equal_a_full_refresh(project_copy):
    wh, target = project_copy
    dbt(["run", "--full-refresh"], wh, target)
    models = _incremental_models(target)
    assert models, "no incremental model"
    with connect(wh, read_only=True) as con:
        full = {m["unique_id"]: _rows(con, f"{m['schema']}.{m['alias']}") for m in models}
    # the range in three windows, as daily and backfill runs would rebuild it
    start, end = TEST_SPEC.start, TEST_SPEC.end
    windows = [
        (start, start + timedelta(days=1)),
        (start + timedelta(days=2), start + timedelta(days=2)),
        (start + timedelta(days=3), end),
    ]
    selector = " ".join(f"+{m['name']}" for m in models)
    for first, last in windows:
        dbt(
            ["run", "--select", selector],
            wh,
            target,
            SKW_DBT_START_DATE=first.isoformat(),
            SKW_DBT_END_DATE=last.isoformat(),
        )
    with connect(wh, read_only=True) as con:
        for m in models:
            got = _rows(con, f"{m['schema']}.{m['alias']}")
            assert got == full[m["unique_id"]], f"{m['name']}: incremental windows differ from a full refresh"
            assert got, f"{m['name']} is empty: nothing to compare"


def test_docs_generate_and_every_mart_column_is_described(project_copy):
    wh, target = project_copy
    dbt(["docs", "generate"], wh, target)
    catalog = json.loads((target / "catalog.json").read_text())
    manifest = _manifest(target)
    missing = []
    for uid, node in manifest["nodes"].items():
        if node["resource_type"] != "model" or node["fqn"][1] != "marts":
            continue
        described = {c.lower() for c, spec in node["columns"].items() if spec.get("description", "").strip()}
        built = catalog["nodes"].get(uid, {}).get("columns", {})
        assert built, f"{node['name']} is not in the catalog"
        missing += [f"{node['name']}.{c}" for c in built if c.lower() not in described]
        assert node.get("description", "").strip(), f"{node['name']} has no description"
    assert missing == [], f"mart columns without a description: {missing}"


def test_every_model_has_a_yaml_entry_beside_it():
    for sql in (DBT_DIR / "models").rglob("*.sql"):
        names = "".join(p.read_text() for p in sql.parent.glob("*.yml"))
        assert f"name: {sql.stem}\n" in names, f"{sql.relative_to(DBT_DIR)} has no entry in a YAML file beside it"
