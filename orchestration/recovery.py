"""What a run can still build when a source is down (issue 17: a source down past its retry
budget fails alone; the other sources and the marts that do not need it complete).

In one run of `main`, every stream loads in the raw steps (orchestration/assets/streams.py); a
stream that fails (its source down past its retry budget, or an ERROR check on what it loaded)
does not stop the others, but the step fails at the end, and Dagster then runs nothing
downstream of that step: not the dbt step, which builds every model at once. Dagster has no
way to run one step on part of its inputs, so the rest is built by a second run right after:

- `remainder(events, asset_graph)` reads a finished run's events: the raw assets it planned
  and did not load (or loaded with an ERROR check: "blocked"), and of the assets it planned and
  did not materialize, those that do not need a blocked one (`to_build`) and those that do
  (`left_out`). The serving copy and the KPI report are built either way: they copy every mart
  as it stands, so readers see the new marts beside the last good ones of the down source.
  Nothing is returned when another step failed (dbt itself, a check after it), when no raw
  asset loaded at all (the warehouse was busy, every source is down), or when nothing of the
  warehouse's models is left to build.
- `make run` (orchestration/run.py) runs the remainder at once, in the same process;
- the sensor `build_without_failed_sources` (orchestration/sensors.py, off until turned on) asks
  for the same run after a failed run of `main` launched from the UI or the daemon.

The second run is tagged with the run it follows and the sources it leaves out; a second run
that fails is not followed again. The failed run stays failed (its source is named in its
error); a later run of the down source's days, with the source back, catches up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from dagster import AssetCheckSeverity, AssetKey, AssetSelection, DagsterEventType

FOLLOWS_TAG = "skw/follows_run"  # the failed run a run builds the rest of
WITHOUT_TAG = "skw/without_sources"  # the sources it leaves out
# Tags of the failed run a second run keeps: its days.
KEPT_TAGS = ("dagster/partition", "dagster/asset_partition_range_start", "dagster/asset_partition_range_end")
# Built either way: they read every mart as it stands (orchestration/assets/serving.py, report.py).
WHOLE_COPIES = frozenset({AssetKey(["serving", "publish"]), AssetKey(["serving", "kpi_report"])})
WAREHOUSE_MODELS = ("staging", "intermediate", "marts")


@dataclass(frozen=True)
class Remainder:
    failed_run: str
    blocked: tuple[AssetKey, ...]  # raw assets the run did not load, or loaded with an ERROR check
    to_build: tuple[AssetKey, ...]  # planned, not materialized, needing none of them
    left_out: tuple[AssetKey, ...]  # planned, not materialized, needing one of them: not built
    days: tuple[tuple[str, str], ...] = ()  # the failed run's tags that say its days (KEPT_TAGS)

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(sorted({k.path[1] for k in self.blocked}))

    def tags(self) -> dict[str, str]:
        """The second run's tags: the failed run's days, the run it follows, the sources it leaves out."""
        return {**dict(self.days), FOLLOWS_TAG: self.failed_run, WITHOUT_TAG: ",".join(self.sources)}

    def describe(self) -> str:
        marts = sorted(k.path[-1] for k in self.left_out if k.path[0] == "marts")
        return (
            f"without {', '.join(self.sources)}: building the {len(self.to_build)} assets that do not need "
            f"{'it' if len(self.sources) == 1 else 'them'}; left out {len(self.left_out)}"
            + (f" (marts: {', '.join(marts)})" if marts else "")
        )


def remainder(
    run_id: str, events: Iterable, asset_graph, run_tags: Mapping[str, str] | None = None
) -> Remainder | None:
    """The rest of a failed run whose only failed steps are raw steps (see the module's doc)."""
    run_tags = run_tags or {}
    if run_tags.get(FOLLOWS_TAG):
        return None  # a second run that fails is not followed again
    planned: dict[AssetKey, str | None] = {}
    materialized: set[AssetKey] = set()
    checks_failed: set[AssetKey] = set()
    failed_steps: set[str] = set()
    for ev in events:
        kind = ev.event_type
        if kind == DagsterEventType.ASSET_MATERIALIZATION_PLANNED:
            planned[ev.asset_key] = ev.step_key
        elif kind == DagsterEventType.ASSET_MATERIALIZATION:
            materialized.add(ev.asset_key)
        elif kind == DagsterEventType.ASSET_CHECK_EVALUATION:
            data = ev.asset_check_evaluation_data
            if not data.passed and data.severity == AssetCheckSeverity.ERROR:
                checks_failed.add(data.asset_key)
        elif kind == DagsterEventType.STEP_FAILURE:
            failed_steps.add(ev.step_key)
    raw = {k for k in planned if k.path[0] == "raw"}
    raw_steps = {planned[k] for k in raw}
    if not failed_steps or not failed_steps <= raw_steps:
        return None
    blocked = {k for k in raw if k not in materialized or k in checks_failed}
    if not blocked or blocked == raw:
        return None
    needs_blocked = AssetSelection.assets(*blocked).downstream().resolve(asset_graph)
    unbuilt = set(planned) - materialized - raw
    to_build = {k for k in unbuilt if k not in needs_blocked or k in WHOLE_COPIES}
    if not any(k.path[0] in WAREHOUSE_MODELS for k in to_build):
        return None
    order = lambda keys: tuple(sorted(keys, key=lambda k: k.to_user_string()))  # noqa: E731
    days = tuple(sorted((k, v) for k, v in run_tags.items() if k in KEPT_TAGS))
    return Remainder(run_id, order(blocked), order(to_build), order(unbuilt - to_build), days)


def remainder_of_run(instance, run_id: str, asset_graph) -> Remainder | None:
    """`remainder` of a run recorded in `instance`."""
    run = instance.get_run_by_id(run_id)
    events = [e.dagster_event for e in instance.all_logs(run_id) if e.dagster_event is not None]
    return remainder(run_id, events, asset_graph, run.tags if run else None)
