"""dbt models as Dagster assets (dagster-dbt): staging views and marts, with dbt tests as
asset checks. Partitioned like the raw assets, so a run rebuilds the marts' days it loaded."""


import json
import subprocess
import sys
from collections.abc import Mapping
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
    """Asset keys mirror where data sits: raw/<source>/<table>, staging/<model>, marts/<model>."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            table = dbt_resource_props["name"]
            return AssetKey(["raw", dbt_resource_props["source_name"], table])
        return AssetKey([dbt_resource_props["fqn"][1], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_resource_props["fqn"][1]


def dbt_vars(start: datetime, end: datetime) -> dict[str, str]:
    """The inclusive day window dbt's incremental marts rebuild, from a run's partition
    time window (whose end is exclusive)."""
    return {"start_date": start.date().isoformat(), "end_date": (end - timedelta(days=1)).date().isoformat()}


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project,
            dagster_dbt_translator=ProjectTranslator(), partitions_def=daily_partitions,
            backfill_policy=BackfillPolicy.single_run(), name="dbt_models")
def dbt_models(context: AssetExecutionContext, dbt: DbtCliResource):
    """Build (run and test) the selected models for the run's days."""
    window = context.partition_time_window
    args = ["build", "--vars", json.dumps(dbt_vars(window.start, window.end))]
    yield from dbt.cli(args, context=context).stream()


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
