"""dbt models as Dagster assets (dagster-dbt): staging views and marts, with dbt tests as
asset checks. Partitioned like the raw assets, so a run rebuilds the marts' days it loaded."""


import contextlib
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from functools import cached_property
from importlib.metadata import version as installed_version
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetKey, BackfillPolicy
from packaging.version import Version
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from orchestration.partitions import daily_partitions

DBT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
# The venv's dbt, so nothing depends on the venv being activated.
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")

dbt_project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)
if not dbt_project.manifest_path.exists():
    # `make` builds the manifest ahead of time; this covers a bare `dagster dev` or pytest.
    subprocess.run([DBT_EXECUTABLE, "parse", "--quiet", "--profiles-dir", str(DBT_DIR)],
                   cwd=DBT_DIR, check=True)


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


def dbt_window(start: datetime, end: datetime) -> dict[str, str]:
    """The inclusive day window dbt's incremental marts rebuild, from a run's partition time
    window (whose end is exclusive), as the environment variables the marts read.

    Environment variables, not `--vars`: dbt re-parses the whole project whenever `--vars`
    change (every run: ~1.3 s here), while a changed `env_var` re-parses only the files that
    read it."""
    return {"SKW_DBT_START_DATE": start.date().isoformat(),
            "SKW_DBT_END_DATE": (end - timedelta(days=1)).date().isoformat()}


_environ_lock = threading.Lock()


@contextlib.contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """`values` in os.environ while a dbt process is started (dagster-dbt hands dbt a copy of
    os.environ and takes no other environment); one at a time, then put back."""
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
    back in the project's target, so the next run parses only what changed: the state `make`
    prepares was parsed under another warehouse path (dbt's profile), which alone makes dbt
    parse everything again, every run. Replaced atomically: runs may finish side by side."""
    parsed = Path(run_target) / "partial_parse.msgpack"
    if not parsed.exists():
        return
    keep = DBT_DIR / dbt_project.target_path / "partial_parse.msgpack"
    tmp = keep.with_name(f".partial_parse.{os.getpid()}.{threading.get_ident()}.tmp")
    shutil.copyfile(parsed, tmp)
    os.replace(tmp, keep)


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project,
            dagster_dbt_translator=ProjectTranslator(), partitions_def=daily_partitions,
            backfill_policy=BackfillPolicy.single_run(), name="dbt_models")
def dbt_models(context: AssetExecutionContext, dbt: DbtCliResource):
    """Build (run and test) the selected models for the run's days. dbt's unit tests check the
    models' logic on hand-made inputs, not the data: they run in the test suite
    (tests/test_marts_build.py), not on every materialization (measured: 48 of them took 13.5
    of the build's 55.6 thread-seconds)."""
    window = context.partition_time_window
    with environment(dbt_window(window.start, window.end)):
        invocation = dbt.cli(["build", "--exclude-resource-type", "unit_test"], context=context)
    yield from invocation.stream()
    keep_parse_state(invocation.target_path)


class OfflineDbtCliResource(DbtCliResource):
    """dagster-dbt runs `dbt --version` before each command to learn dbt's version, and dbt
    answers it by fetching pypi.org (a network call at run time, and about 3 s). The
    version is the installed, locked dbt-core package's: read it from there instead."""

    @cached_property
    def _cli_version(self) -> Version:
        return Version(installed_version("dbt-core"))


def dbt_resource() -> DbtCliResource:
    return OfflineDbtCliResource(project_dir=dbt_project, profiles_dir=str(DBT_DIR),
                                 dbt_executable=DBT_EXECUTABLE)
