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
import os
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

from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, BackfillPolicy
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from packaging.version import Version

from orchestration.partitions import WAREHOUSE_POOL, daily_partitions
from orchestration.resources import WarehouseResource
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


def dbt_build_args(artifacts: bool = False) -> list[str]:
    """The dbt command of a materialization (the Dagster asset; the bench runs the same): build
    the selected models and their data tests, without dbt's unit tests (they test the models'
    code on hand-made inputs, not the data: they run in the test suite, tests/test_marts_build.py;
    measured: 48 of them took 13.5 of the build's 55.6 thread-seconds), and without dbt's JSON
    artifacts (`manifest.json`, `run_results.json`, `graph.gpickle` ... in the run's target folder):
    dagster-dbt reads dbt's event stream and the manifest `make` prepared, nothing reads them, and
    writing them is fixed work on every run. `artifacts=True` writes them (the bench's full build,
    whose SQL its limit replays)."""
    return ["build", "--exclude-resource-type", "unit_test", "--write-json" if artifacts else "--no-write-json"]


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
    """`values` in os.environ while a dbt process is started, one at a time, then put back: at
    run time, never on import. dagster-dbt hands dbt a copy of os.environ and has no public
    way to give it another environment (`DbtCliResource.cli` takes none), and it also reads
    dbt's profile in this process while starting it."""
    with _environ_lock:
        saved = {k: os.environ.get(k) for k in values}
        os.environ.update(values)
        try:
            yield
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


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
        (`dbt_build_args`: no unit tests, no JSON artifacts)."""
        window = context.partition_time_window
        with environment({**dbt_env(Settings.from_env(), warehouse.path), **dbt_window(window.start, window.end)}):
            invocation = dbt.cli(dbt_build_args(), context=context)
        yield from invocation.stream()
        keep_parse_state(invocation.target_path)

    return _dbt_models


class OfflineDbtCliResource(DbtCliResource):
    """dagster-dbt runs `dbt --version` before each command to learn dbt's version, and dbt
    answers it by fetching pypi.org (a network call at run time, and about 3 s). The
    version is the installed, locked dbt-core package's: read it from there instead.

    This overrides a private member of dagster-dbt (`_cli_version`): no public hook exists.
    dagster-dbt takes the version from nowhere else, and dbt's `--version` always asks pypi.org
    (dbt/version.py `get_latest_version`; `version_check: false` does not cover it)."""

    @cached_property
    def _cli_version(self) -> Version:
        return Version(installed_version("dbt-core"))


def dbt_resource() -> DbtCliResource:
    return OfflineDbtCliResource(project_dir=dbt_project, profiles_dir=str(DBT_DIR), dbt_executable=DBT_EXECUTABLE)


if __name__ == "__main__":
    # `python -m orchestration.assets.dbt parse`: what `make` runs when the dbt project changed.
    if sys.argv[1:] != ["parse"]:
        sys.exit("usage: python -m orchestration.assets.dbt parse")
    print(prepare_manifest(force=True))
