"""dbt models as Dagster assets (dagster-dbt): staging views and marts, with dbt tests as
asset checks. Partitioned like the raw assets, so a run rebuilds the marts' days it loaded.

Nothing runs when this module is imported. The assets are read from dbt's manifest when the
definitions are built (`dbt_models()`); `make` prepares the manifest (`python -m
orchestration.assets.dbt parse`), and building the definitions parses the project once if it
is missing. Every dbt process is given its environment from warehouse/settings.py
(`Settings.dbt_env()`: telemetry off, memory limit, PII salt) with the warehouse path of the
run's `warehouse` resource, the same file the raw layer was loaded into: dbt's profile has no
default of its own.
"""

import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from functools import cache, cached_property
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, BackfillPolicy, Output
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from packaging.version import Version

from orchestration.partitions import WAREHOUSE_POOL, daily_partitions
from orchestration.resources import WarehouseResource
from warehouse.dbt_runner import environment_as
from warehouse.settings import WAREHOUSE_PATH_VAR, Settings

DBT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
# The venv's dbt, so nothing depends on the venv being activated.
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")

dbt_project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)


def dbt_env(settings: Settings, warehouse_path: Path | str | None = None) -> dict[str, str]:
    """The environment a dbt process is given (`settings.dbt_env()`), on `warehouse_path` if
    given (the run's warehouse resource)."""
    env = settings.dbt_env()
    if warehouse_path is not None:
        env[WAREHOUSE_PATH_VAR] = str(warehouse_path)
    return env


def prepare_manifest(settings: Settings | None = None, force: bool = False) -> Path:
    """dbt's manifest, parsed if it is missing (or `force`): `make` runs this once per change of
    the dbt project; building the definitions, only when it is missing."""
    if force or not dbt_project.manifest_path.exists():
        env = {**os.environ, **dbt_env(settings or Settings.from_env())}
        subprocess.run(
            [
                DBT_EXECUTABLE,
                "parse",
                "--quiet",
                "--profiles-dir",
                str(DBT_DIR),
                "--target-path",
                str(dbt_project.target_path),
            ],
            cwd=DBT_DIR,
            env=env,
            check=True,
        )
    return dbt_project.manifest_path


class ProjectTranslator(DagsterDbtTranslator):
    """Asset keys mirror where data sits: raw/<source>/<table>, staging/<model>, marts/<model>;
    a table a Python step derives from raw (schema `enrichment`), enrichment/<table>."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            table = dbt_resource_props["name"]
            if dbt_resource_props["source_name"] == "enrichment":
                return AssetKey(["enrichment", table])
            return AssetKey(["raw", dbt_resource_props["source_name"], table])
        return AssetKey([dbt_resource_props["fqn"][1], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_resource_props["fqn"][1]


def dbt_build_args(artifacts: bool = False, views: bool = True) -> list[str]:
    """The dbt command of a materialization (the Dagster asset; the bench runs the same): build
    the selected models and their data tests, without dbt's unit tests (they test the models'
    code on hand-made inputs, not the data: they run in the test suite, tests/test_marts_build.py;
    measured: 48 of them took 13.5 of the build's 55.6 thread-seconds), and without dbt's JSON
    artifacts (`manifest.json`, `run_results.json`, `graph.gpickle` ... in the run's target folder):
    dagster-dbt reads dbt's event stream and the manifest `make` prepared, nothing reads them, and
    writing them is fixed work on every run. `artifacts=True` writes them (the bench's full build,
    whose SQL its limit replays).

    `views=False` leaves the view models out but keeps every data test, theirs included (a dated
    staging view's test reads the run's window: the new raw rows): for a build of the whole
    project whose views are current (`views_are_current`). Tests are then selected directly
    (`--indirect-selection empty`: dbt's default would drop the tests of the excluded views), so
    this is only for a build without a `--select` of its own, or with `fqn:*`."""
    args = ["build", "--exclude-resource-type", "unit_test", "--write-json" if artifacts else "--no-write-json"]
    if not views:
        args += ["--exclude", "config.materialized:view", "--indirect-selection", "empty"]
    return args


# -- views that need no DDL -----------------------------------------------------------------------
# A view holds no data, only its SQL: re-creating it with the same SQL changes nothing. dbt still
# spends ~35 ms of CPU on each of the 62 (compiling, its materialization, events), ~2-3 CPU s of a
# one-day build, even when macros/materializations/view.sql skips the DDL. So a build of the whole
# project leaves the view models out when nothing they are made of changed since a build that
# created or checked every one of them. VIEWS_STATE, a one-row view in the warehouse (a view, not
# a table: no data, left out of every comparison of tables), records after such a build: the
# fingerprint of what made them (`project_fingerprint`) and a digest of every view's stamp (the
# MD5 of its SQL, macros/materializations/view.sql). A view since re-created with other SQL (dbt
# by hand with other --vars), replaced or dropped by hand has another stamp or none, and the
# next build checks every view again.
VIEWS_STATE = "main.dbt_views_state"
_ENV_VAR_NAMED = re.compile(r"""env_var\(\s*['"]([A-Za-z0-9_]+)['"]""")
# The run window's variables never reach a view's SQL (they are read only in incremental models'
# `is_incremental()` branches and in tests), and change every run.
_WINDOW_VARS = {"SKW_DBT_START_DATE", "SKW_DBT_END_DATE"}


def project_fingerprint(env: Mapping[str, str]) -> str:
    """A digest of everything a view's compiled SQL can depend on: every file of the dbt project
    (but dbt's `target/` and `logs/`: dbt_project.yml and its vars, profiles.yml, models, macros,
    tests), the versions of dbt-core, dbt-duckdb and DuckDB, and the value in `env` (the dbt
    process's environment) of every environment variable the project's files name in `env_var`
    but the run window (the PII salt, the warehouse path: kept as digests only)."""
    digest = hashlib.sha256()
    named: set[str] = set()
    tops = [p for p in DBT_DIR.iterdir() if p.name not in ("target", "logs") and not p.name.startswith(".")]
    files = [p for top in tops for p in ([top] if top.is_file() else top.rglob("*"))]
    for path in sorted(files):
        rel = path.relative_to(DBT_DIR)
        if not path.is_file() or any(part.startswith(".") for part in rel.parts):
            continue
        data = path.read_bytes()
        digest.update(f"{rel.as_posix()}\0{len(data)}\0".encode())
        digest.update(data)
        named.update(_ENV_VAR_NAMED.findall(data.decode("utf-8", "replace")))
    for package in ("dbt-core", "dbt-duckdb", "duckdb"):
        digest.update(f"{package}={installed_version(package)}\0".encode())
    for name in sorted(named - _WINDOW_VARS):
        value = env.get(name)
        digest.update(f"{name}={'-' if value is None else hashlib.sha256(value.encode()).hexdigest()}\0".encode())
    return digest.hexdigest()


def view_nodes(manifest_path: Path | None = None) -> list[dict]:
    """The manifest's view models (`make`'s manifest, by default), read once per version of the file."""
    path = Path(manifest_path or dbt_project.manifest_path)
    return _view_nodes(path, path.stat().st_mtime_ns)


@cache
def _view_nodes(path: Path, _mtime_ns: int) -> list[dict]:
    nodes = json.loads(path.read_text())["nodes"].values()
    return [n for n in nodes if n["resource_type"] == "model" and n["config"].get("materialized") == "view"]


def view_relations(manifest_path: Path | None = None) -> set[str]:
    """`schema.name` of every view model of the manifest (`make`'s, by default)."""
    return {f"{n['schema']}.{n['alias']}".lower() for n in view_nodes(manifest_path)}


def _stamped_views(con) -> dict[str, str]:
    """`schema.view` -> stamp of every view macros/materializations/view.sql made."""
    return {
        f"{schema}.{view}".lower(): comment
        for schema, view, comment in con.execute(
            "select schema_name, view_name, comment from duckdb_views() where comment like 'dbt-sql-md5:%'"
        ).fetchall()
    }


def _digest(stamps: Mapping[str, str]) -> str:
    return hashlib.sha256("".join(f"{k}={v}\n" for k, v in sorted(stamps.items())).encode()).hexdigest()


def views_are_current(warehouse_path: Path | str, fingerprint: str, manifest_path: Path | None = None) -> bool:
    """Whether a build of the whole project may leave the views out: the warehouse's VIEWS_STATE
    holds `fingerprint` (nothing the views are made of changed since a build that created or
    checked them all) and the stamps every view had then (none re-created with other SQL, replaced
    or dropped since), and every view model of the manifest is there, stamped."""
    from warehouse.loader import connect

    if not Path(warehouse_path).exists():
        return False
    schema, name = VIEWS_STATE.split(".")
    with connect(warehouse_path) as con:
        if not con.execute(
            "select 1 from duckdb_views() where schema_name = ? and view_name = ?", [schema, name]
        ).fetchall():
            return False
        recorded = con.execute(f"select fingerprint, views from {VIEWS_STATE}").fetchall()
        stamps = _stamped_views(con)
    return recorded == [(fingerprint, _digest(stamps))] and view_relations(manifest_path) <= set(stamps)


def record_views_current(warehouse_path: Path | str, fingerprint: str) -> None:
    """After a successful build that created or checked every view: they are current for
    `fingerprint`, with the stamps they have now."""
    from warehouse.loader import connect

    if not re.fullmatch("[0-9a-f]+", fingerprint):  # a literal below: a view's SQL takes no parameters
        raise ValueError(f"not a fingerprint: {fingerprint!r}")
    with connect(warehouse_path) as con:
        views = _digest(_stamped_views(con))
        con.execute(
            f"create or replace view {VIEWS_STATE} as select '{fingerprint}' as fingerprint, '{views}' as views"
        )


def forget_views_current(warehouse_path: Path | str) -> None:
    """Before a build that builds the views: until it succeeds, they are not known to be current."""
    from warehouse.loader import connect

    if Path(warehouse_path).exists():
        with connect(warehouse_path) as con:
            con.execute(f"drop view if exists {VIEWS_STATE}")


def dbt_window(start: datetime, end: datetime) -> dict[str, str]:
    """The inclusive day window dbt's incremental marts rebuild, from a run's partition time
    window (whose end is exclusive), as the environment variables the marts read.

    Environment variables, not `--vars`: dbt re-parses the whole project whenever `--vars`
    change (every run: ~1.3 s here), while a changed `env_var` re-parses only the files that
    read it."""
    return {
        "SKW_DBT_START_DATE": start.date().isoformat(),
        "SKW_DBT_END_DATE": (end - timedelta(days=1)).date().isoformat(),
    }


_environ_lock = threading.Lock()


@contextlib.contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """`values` in os.environ while a dbt command runs, one at a time, then put back: at run
    time, never on import. dagster-dbt hands dbt a copy of os.environ and has no public way to
    give it another environment (`DbtCliResource.cli` takes none), it reads dbt's profile in
    this process while starting it, and dbt runs in this process (`OfflineDbtCliResource`)."""
    with _environ_lock, environment_as({**os.environ, **values}):
        yield


def keep_parse_state(run_target: Path) -> None:
    """dagster-dbt gives each dbt invocation a target folder of its own, seeded with the
    project's `target/partial_parse.msgpack`, and dbt leaves what it parsed there. Put that
    back in the project's target, so the next run parses only what changed: state parsed under
    another warehouse path (dbt's profile) alone makes dbt parse everything again, and every
    run would start from the state `make` prepared (the tests' warehouses, a bench run). Replaced
    atomically: runs may finish side by side."""
    parsed = Path(run_target) / "partial_parse.msgpack"
    if not parsed.exists():
        return
    keep = DBT_DIR / dbt_project.target_path / "partial_parse.msgpack"
    tmp = keep.with_name(f".partial_parse.{os.getpid()}.{threading.get_ident()}.tmp")
    shutil.copyfile(parsed, tmp)
    os.replace(tmp, keep)


@cache
def dbt_models() -> AssetsDefinition:
    """Every dbt model and test as assets and checks, from the manifest (parsed if missing)."""
    prepare_manifest()

    @dbt_assets(
        manifest=dbt_project.manifest_path,
        project=dbt_project,
        dagster_dbt_translator=ProjectTranslator(),
        partitions_def=daily_partitions,
        backfill_policy=BackfillPolicy.single_run(),
        name="dbt_models",
        pool=WAREHOUSE_POOL,  # one writer of the warehouse at a time, across runs
    )
    def _dbt_models(context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
        """Build (run and test) the selected models for the run's days, on the run's warehouse
        (`dbt_build_args`: no unit tests, no JSON artifacts). A run of every model leaves the views
        out when they are current (`views_are_current`); each is then reported materialized
        without dbt (its SQL is the one in the warehouse; it reads its upstream when queried)."""
        window = context.partition_time_window
        env = {**dbt_env(Settings.from_env(), warehouse.path), **dbt_window(window.start, window.end)}
        fingerprint = project_fingerprint({**os.environ, **env})
        whole = not context.is_subset  # every model and check: dbt's selection is `fqn:*`
        views = not (whole and views_are_current(warehouse.path, fingerprint))
        if views and whole:
            forget_views_current(warehouse.path)  # until this build succeeds
        # the whole command in `env`: dbt runs in this process (OfflineDbtCliResource) and reads
        # the environment while it compiles each node, not only at start
        with environment(env):
            invocation = dbt.cli(dbt_build_args(views=views), context=context)
            yield from invocation.stream() if views else _with_current_views(context, invocation.stream())
        keep_parse_state(invocation.target_path)
        if views and whole:
            record_views_current(warehouse.path, fingerprint)

    return _dbt_models


def _with_current_views(context: AssetExecutionContext, events: Iterator[Any]) -> Iterator[Any]:
    """dbt's events, with an output for each selected view model dbt was not asked to build
    (`views_are_current`: its SQL is the warehouse's, and it reads its upstream when queried).
    Dagster takes a multi-asset's outputs in dependency order only: a view's output comes as soon
    as every model it reads in this step has come, so before any model that reads it."""
    assets_def = context.assets_def
    selected = context.selected_asset_keys
    translator = ProjectTranslator()
    pending: dict[AssetKey, str] = {}  # view -> its dbt unique_id
    for node in view_nodes():
        key = translator.get_asset_key(node)
        if key in selected:
            pending[key] = node["unique_id"]
    parents = {key: set(assets_def.asset_deps.get(key, ())) & selected for key in pending}
    done: set[AssetKey] = set()

    def ready(final: bool = False) -> Iterator[Output]:
        """The pending views whose parents have all come (at the end: all but other pending views)."""
        progress = True
        while progress:
            progress = False
            for key in list(pending):
                waiting = parents[key] - done
                if final:
                    waiting &= pending.keys()
                if not waiting:
                    yield Output(
                        None,
                        output_name=assets_def.get_output_name_for_asset_key(key),
                        metadata={
                            "unique_id": pending.pop(key),
                            "view": "current: not re-created (its SQL is unchanged)",
                        },
                    )
                    done.add(key)
                    progress = True

    yield from ready()
    for event in events:
        yield event
        if isinstance(event, Output):
            done.add(assets_def.keys_by_output_name[event.output_name])
            yield from ready()
    yield from ready(final=True)


class OfflineDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt resource, with two changes:

    - dagster-dbt runs `dbt --version` before each command to learn dbt's version, and dbt
      answers it by fetching pypi.org (a network call at run time, and about 3 s). The version
      is the installed, locked dbt-core package's: read from there instead (`_cli_version`).
    - dbt runs in the run's own process (warehouse/dbt_runner.py `InProcessDbt`, dbt's
      `dbtRunner`) instead of a `dbt` child process: no Python start and dbt import on every
      materialization, and dbt's events reach dagster-dbt without a JSON round trip of every
      debug event. dagster-dbt reads it as it reads a child process: the same command line,
      environment, JSON events on stdout and exit code, so its selection, events, asset checks
      and errors are dagster-dbt's own (`cli`).

    Both override private members of dagster-dbt (`_cli_version`; the `subprocess` name of
    dagster_dbt.core.dbt_cli_invocation while `cli` starts the command): no public hook exists
    for either. dagster-dbt takes the version from nowhere else, dbt's `--version` always asks
    pypi.org (dbt/version.py `get_latest_version`; `version_check: false` does not cover it),
    and dagster-dbt starts its command with `subprocess.Popen` only. tests/test_dbt_in_process.py
    holds both to dagster-dbt's behaviour."""

    @cached_property
    def _cli_version(self) -> Version:
        return Version(installed_version("dbt-core"))

    def cli(self, args, **kwargs):
        with _dbt_in_this_process():
            return super().cli(args, **kwargs)


_popen_lock = threading.Lock()


@contextlib.contextmanager
def _dbt_in_this_process() -> Iterator[None]:
    """While dagster-dbt starts a command: its `subprocess.Popen` is `InProcessDbt`."""
    import subprocess as real

    from dagster_dbt.core import dbt_cli_invocation

    from warehouse.dbt_runner import InProcessDbt

    shim = type("subprocess", (), {"Popen": InProcessDbt, "PIPE": real.PIPE, "STDOUT": real.STDOUT})
    with _popen_lock:
        saved = dbt_cli_invocation.subprocess
        dbt_cli_invocation.subprocess = shim
        try:
            yield
        finally:
            dbt_cli_invocation.subprocess = saved


def dbt_resource() -> DbtCliResource:
    return OfflineDbtCliResource(project_dir=dbt_project, profiles_dir=str(DBT_DIR), dbt_executable=DBT_EXECUTABLE)


if __name__ == "__main__":
    # `python -m orchestration.assets.dbt parse`: what `make` runs when the dbt project changed.
    if sys.argv[1:] != ["parse"]:
        sys.exit("usage: python -m orchestration.assets.dbt parse")
    print(prepare_manifest(force=True))
