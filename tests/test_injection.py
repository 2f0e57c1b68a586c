"""Injection (issue 17, item 9): values that reach SQL from configuration or API data are bound
parameters or validated names, so hostile ones go through the whole pipeline intact.

- **Through the pipeline**: Meta's fake serves one campaign with a hostile name and hostile
  campaign and ad ids (quotes, a semicolon and a statement, `--` and `/* */` comments, a
  backslash, Jinja and format placeholders, Cyrillic and full-width look-alikes, a right-to-left
  override, a newline). Its insights and every dbt model downstream of them run in Dagster on a
  copy of the session warehouse (tests/conftest.py `materialized`, never modified); raw, staging
  and both paid marts hold the values exactly as served, the campaign's spend equals the
  world's, and no table was dropped or emptied.
- **Names from configuration** become raw tables and columns (GA4's dimensions and metrics,
  YouTube's report metrics): a name that is not letters, digits and `_` is refused when the
  stream is declared, naming the setting (extractors/streams.py), before any SQL is built.
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from decimal import Decimal

import duckdb
import pytest

from sampleworld.fakes.base import FakeServer, FaultConfig
from sampleworld.serve import fake_modules

START, END = date(2026, 6, 1), date(2026, 6, 7)
INSIGHTS = "raw/meta_ads/ads_insights"
LAYERS = {"raw", "enrichment", "staging", "intermediate", "marts"}

HOSTILE_NAME = (
    "Summer'; DROP TABLE raw.meta_ads__ads_insights; -- \"Sale\" \\ %s {{ var('x') }} $1 ? /* "
    "\uff33\uff41\uff4c\uff45 */ Lum\u043era \u202eezis\u202c\nline two"
)
CAMPAIGN_SUFFIX = "' OR '1'='1"
AD_SUFFIX = '"; DELETE FROM raw._rejects; --'


def _victim(world) -> str:
    """The campaign whose records are made hostile: the smallest id of the world's insights."""
    with open(world / "meta_ads" / "insights.jsonl", encoding="utf-8") as f:
        return min(json.loads(line)["campaign_id"] for line in f if line.strip())


def _tables(path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as con:
        names = con.execute(
            "select schema_name || '.' || table_name from duckdb_tables() where schema_name in ('raw', 'quality')"
        ).fetchall()
        return {n: con.execute(f"select count(*) from {n}").fetchone()[0] for (n,) in names}


@pytest.fixture(scope="module")
def hostile(materialized, world, tmp_path_factory):
    """One run of Meta's insights and the models built from them, on a copy of the session
    warehouse, with the victim campaign's records hostile; (result, warehouse, victim, served,
    tables before)."""
    from dagster import AssetKey, AssetSelection, DagsterInstance, Definitions, define_asset_job, in_process_executor

    from orchestration.definitions import build_definitions
    from orchestration.instance import instance_settings
    from orchestration.partitions import daily_partitions

    victim = _victim(world)
    served: list[dict] = []

    def tamper(app: str, records: list[dict]) -> list[dict]:
        out = []
        for r in records:
            if app == "meta_ads" and r.get("campaign_id") == victim:
                r = {
                    **r,
                    "campaign_name": HOSTILE_NAME,
                    "campaign_id": victim + CAMPAIGN_SUFFIX,
                    "ad_id": r["ad_id"] + AD_SUFFIX,
                }
                served.append(r)
            out.append(r)
        return out

    data = tmp_path_factory.mktemp("injection") / "data"
    data.mkdir(parents=True)
    warehouse = data / "warehouse.duckdb"
    shutil.copyfile(materialized["warehouse"], warehouse)
    wal = materialized["warehouse"].with_name(materialized["warehouse"].name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, warehouse.with_name(warehouse.name + ".wal"))
    before = _tables(warehouse)
    mod = {m.NAME: m for m in fake_modules()}["meta_ads"]
    srv = FakeServer(mod.make_app(world), FaultConfig(tamper=tamper)).start()
    mp = pytest.MonkeyPatch()
    try:
        mp.setenv("SKW_DATA_DIR", str(data))
        mp.setenv("SKW_WAREHOUSE_PATH", str(warehouse))
        for k, v in mod.env(srv.url, srv.app).items():
            mp.setenv(k, v)
        defs = build_definitions()
        graph = defs.resolve_asset_graph()
        raw = AssetKey(INSIGHTS.split("/"))
        keys = {k for k in AssetSelection.assets(raw).downstream().resolve(graph) if k.path[0] in LAYERS}
        job = define_asset_job(
            "injection",
            selection=AssetSelection.assets(*keys),
            partitions_def=daily_partitions,
            executor_def=in_process_executor,
        )
        tags = {
            "dagster/asset_partition_range_start": START.isoformat(),
            "dagster/asset_partition_range_end": END.isoformat(),
        }
        result = (
            Definitions.merge(defs, Definitions(jobs=[job]))
            .resolve_job_def("injection")
            .execute_in_process(
                instance=DagsterInstance.ephemeral(settings=instance_settings()), tags=tags, raise_on_error=False
            )
        )
        yield {"result": result, "warehouse": warehouse, "victim": victim, "served": served, "before": before}
    finally:
        mp.undo()
        srv.stop()


@pytest.mark.slow
def test_the_run_with_hostile_names_succeeds_and_nothing_is_dropped_or_emptied(hostile):
    from orchestration.run import failed_steps

    result = hostile["result"]
    assert result.success, failed_steps(result)
    assert hostile["served"], "the fake served no record of the victim campaign"
    built = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert {INSIGHTS, "staging/stg_meta_ads__ads_insights", "marts/fct_campaign_performance_daily"} <= built
    after = _tables(hostile["warehouse"])
    assert set(after) >= set(hostile["before"])  # no table dropped
    # the raw tables (not the loader's own bookkeeping: raw._rejects, raw._deletions)
    raw = {t for t in hostile["before"] if t.startswith("raw.") and not t.startswith("raw._")}
    assert len(raw) > 40
    assert {t: after[t] for t in raw} == {t: hostile["before"][t] for t in raw}  # none emptied, no row lost


@pytest.mark.slow
def test_raw_and_staging_hold_the_hostile_values_as_served(hostile):
    served = hostile["served"]
    expected = sorted((r["date_start"], r["campaign_id"], r["ad_id"], r["campaign_name"]) for r in served)
    with duckdb.connect(str(hostile["warehouse"]), read_only=True) as con:
        raw = con.execute(
            """select date_start::varchar, campaign_id, ad_id, campaign_name from raw.meta_ads__ads_insights
               where campaign_id = ? order by all""",
            [hostile["victim"] + CAMPAIGN_SUFFIX],
        ).fetchall()
        staged = con.execute(
            """select date_day::varchar, campaign_id, ad_id, campaign_name from staging.stg_meta_ads__ads_insights
               where campaign_name = ? order by all""",
            [HOSTILE_NAME],
        ).fetchall()
        original = con.execute(
            "select count(*) from raw.meta_ads__ads_insights where campaign_id = ?", [hostile["victim"]]
        ).fetchone()[0]
        record = con.execute(
            "select _record->>'campaign_name' from raw.meta_ads__ads_insights where campaign_id = ? limit 1",
            [hostile["victim"] + CAMPAIGN_SUFFIX],
        ).fetchone()[0]
    assert [tuple(r) for r in raw] == expected
    assert [tuple(r) for r in staged] == expected
    assert all(r[2].endswith(AD_SUFFIX) for r in raw)
    assert record == HOSTILE_NAME  # the kept record too
    assert original == 0  # the campaign's rows under its old id were replaced, not kept beside


@pytest.mark.slow
def test_the_marts_hold_the_hostile_campaign_with_its_spend(hostile, world):
    victim = hostile["victim"]
    truth: dict[str, Decimal] = {}
    with open(world / "meta_ads" / "insights.jsonl", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line) if line.strip() else {}
            if r.get("campaign_id") == victim and START.isoformat() <= r["date_start"] <= END.isoformat():
                truth[r["date_start"]] = truth.get(r["date_start"], Decimal(0)) + Decimal(r["spend"])
    served: dict[str, Decimal] = {}
    for r in hostile["served"]:
        served[r["date_start"]] = served.get(r["date_start"], Decimal(0)) + Decimal(r["spend"])
    assert served == truth  # what the fake served of the campaign is the world's
    with duckdb.connect(str(hostile["warehouse"]), read_only=True) as con:
        for mart, spend in (
            ("fct_campaign_performance_daily", "spend_micros / 1e6"),
            ("fct_paid_performance_daily", "spend"),
        ):
            rows = con.execute(
                f"""select date_day::varchar, campaign_id, campaign_name, sum({spend})
                    from marts.{mart} where platform = 'meta_ads' and campaign_name = ? group by all order by 1""",
                [HOSTILE_NAME],
            ).fetchall()
            assert {d for d, *_ in rows} == set(truth), mart
            assert {(c, n) for _, c, n, _ in rows} == {(victim + CAMPAIGN_SUFFIX, HOSTILE_NAME)}, mart
            for day, _, _, total in rows:
                assert abs(Decimal(str(total)) - truth[day]) <= Decimal("0.01"), (mart, day, total, truth[day])


@pytest.mark.parametrize(
    "name",
    ["date; drop table raw.ga4__analytics_report; --", 'city"', "sessions--", "sessions'", "s\u0435ssions", "1st"],
)
def test_a_hostile_ga4_dimension_or_metric_is_refused_naming_the_setting(name):
    from extractors.ga4 import DEFAULT_DIMENSIONS, DEFAULT_METRICS, report_stream
    from extractors.http import FatalError

    with pytest.raises(FatalError, match="ga4 resource configuration"):
        report_stream((*DEFAULT_DIMENSIONS, name), DEFAULT_METRICS)
    with pytest.raises(FatalError, match="metrics"):
        report_stream(DEFAULT_DIMENSIONS, (*DEFAULT_METRICS, name))


def test_a_hostile_youtube_metric_is_refused_before_any_sql():
    from extractors.youtube import STREAMS, report_stream

    stream = next(s for s in STREAMS if s.params.get("metrics"))
    with pytest.raises(ValueError, match="not a plain name"):
        report_stream(stream, (*stream.params["metrics"], "views); drop table x; --"))


def test_every_declared_stream_has_plain_names():
    """What the loader writes into SQL as names: tables, columns, JSON paths, types."""
    from extractors.streams import COLUMN_TYPE, IDENTIFIER, JSON_PATH
    from orchestration import sources

    streams = [a.stream for m in sources.modules() for a in m.ASSETS]
    assert len(streams) > 40
    for s in streams:
        assert IDENTIFIER.fullmatch(s.source) and IDENTIFIER.fullmatch(s.name), s.key
        for col, spec in s.columns.items():
            typ, _, path = spec.partition("<-")
            assert IDENTIFIER.fullmatch(col) and COLUMN_TYPE.fullmatch(typ.strip()), (s.key, col, spec)
            assert not path.strip() or JSON_PATH.fullmatch(path.strip()) or IDENTIFIER.fullmatch(path.strip())
