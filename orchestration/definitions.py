"""The code location: every asset, check, resource, job and schedule of the project.

Nothing is built on import. Dagster (`dagster dev -m orchestration.definitions`, `make ui`, a
run's worker) calls `code_location`, which is where such a process starts: it applies the
run-time policy to the process (telemetry off, warehouse/settings.py `TELEMETRY_OFF`), then
builds the definitions. `build_definitions()` builds them from `Settings`:

- outside sample mode, every source reads its settings from the environment; a source that
  misses any fails the build, each missing variable named, unless `SKW_SOURCES` leaves it out;
  nothing from sampleworld/ is imported and no fake can start;
- in sample mode (`SKW_SAMPLE_MODE=1`), orchestration/sample_mode.py is imported and the
  sources read the embedded fakes of the sample world (those whose endpoint the environment
  sets excepted).

`from orchestration.definitions import defs` builds them on first use (tests, scripts).
"""

from __future__ import annotations

import os
from functools import cache

import dagster as dg
from dagster import AssetSelection, Definitions, define_asset_job, in_process_executor

from orchestration import sources
from orchestration.assets.dbt import dbt_models, dbt_resource
from orchestration.assets.enrichment import enrichment_assets
from orchestration.assets.report import report_assets
from orchestration.assets.serving import serving_assets
from orchestration.assets.streams import raw_assets
from orchestration.checks import quality_after_dbt
from orchestration.partitions import WAREHOUSE_POOL, daily_partitions
from orchestration.resources import MissingSettings, SourceEnvironment, WarehouseResource
from orchestration.schedules import source_job_and_schedule, transform_job_and_schedule, window_of
from orchestration.sensors import build_without_failed_sources, load_inbox, sensors
from warehouse.settings import SOURCES_VAR, TELEMETRY_OFF, Settings, SettingsError


def enabled_sources(settings: Settings) -> list:
    """The source modules to run: every one, or those `SKW_SOURCES` names."""
    modules = sources.modules()
    if settings.sources is None:
        return modules
    known = {m.RESOURCE_KEY: m for m in modules}
    unknown = [n for n in settings.sources if n not in known]
    if unknown:
        raise SettingsError(f"{SOURCES_VAR} names unknown source(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return [known[n] for n in settings.sources]


def source_environment(settings: Settings, modules: list) -> SourceEnvironment:
    """Where the sources read their settings. Outside sample mode, the environment, which must
    hold every required variable of every enabled source (checked here, before any run)."""
    if settings.sample_mode:
        from orchestration.sample_mode import EmbeddedFakesResource

        return EmbeddedFakesResource()
    environment = SourceEnvironment()
    problems = {}
    for m in modules:
        cls = sources.settings_of(m)
        missing = cls.missing(environment.values_for(cls))
        if missing:
            problems[m.RESOURCE_KEY] = missing
    if problems:
        raise MissingSettings(problems)
    return environment


def build_definitions(settings: Settings | None = None) -> Definitions:
    settings = settings or Settings.from_env()
    modules = enabled_sources(settings)
    environment = source_environment(settings, modules)
    main_job = define_asset_job(
        "main",
        selection=AssetSelection.all(),
        partitions_def=daily_partitions,
        # One process for all steps: a process per step re-imports Dagster, dbt and GX each time
        # (measured here: 35 s against 19 s for three assets), and the steps run in sequence anyway.
        executor_def=in_process_executor,
        description="Extract every source for the run's days, load raw, build staging and marts, run every check.",
    )
    dbt_assets_def = dbt_models()
    serving = serving_assets(dbt_assets_def, pool=WAREHOUSE_POOL)  # publish after the build: main and transform
    # staggered: five minutes apart from 05:00 UTC, transform after the last (orchestration/schedules.py)
    source_jobs = [source_job_and_schedule(m.RESOURCE_KEY, m.ASSETS, slot=i) for i, m in enumerate(modules)]
    transform = transform_job_and_schedule(
        dbt_assets_def,
        max((window_of(m.ASSETS) for m in modules), default=0),
        after_slots=len(modules) + 1,
        upstream=enrichment_assets,
        downstream=[*serving, *report_assets],  # the serving copy and the KPI report after the build
    )
    resources = {
        "warehouse": WarehouseResource.from_settings(settings),
        "dbt": dbt_resource(),
        **{m.RESOURCE_KEY: m.resource(environment) for m in modules},
    }
    if settings.sample_mode:
        resources["fakes"] = environment
    return Definitions(
        assets=[
            *raw_assets([a for m in modules for a in m.ASSETS]),
            *enrichment_assets,
            dbt_assets_def,
            *serving,
            *report_assets,  # the KPI report after the marts (orchestration/assets/report.py)
        ],
        asset_checks=[
            *(c for m in modules for c in m.CHECKS),
            # the marts' suites, reconciliation and the sources' freshness, after dbt (issue 15)
            quality_after_dbt([a.key for m in modules for a in m.ASSETS]),
        ],
        jobs=[main_job, transform[0], *(job for job, _ in source_jobs), load_inbox],
        schedules=[transform[1], *(sched for _, sched in source_jobs)],
        # the inbox folder, failed runs, and what a run with a source down can still build
        # (orchestration/sensors.py); off until turned on
        sensors=[*sensors, build_without_failed_sources(main_job)],
        resources=resources,
    )


@dg.definitions
def code_location() -> Definitions:
    """What Dagster loads: the policy applied to this process, then the definitions."""
    os.environ.update(TELEMETRY_OFF)
    return build_definitions()


@cache
def _defs() -> Definitions:
    return build_definitions()


def __getattr__(name: str):
    # `defs`, built on first use rather than on import (Dagster itself loads `code_location`).
    if name == "defs":
        return _defs()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
