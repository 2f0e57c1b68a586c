"""The KPI report as an asset, `serving/kpi_report`: written after the marts on every run, with
dbt's docs as one static page beside it (warehouse/report.py does the work; this is the glue). Partitioned like the dbt assets, with
one run for a range of days, so the main job and a backfill write it once, after the marts."""

from dagster import AssetExecutionContext, AssetKey, BackfillPolicy, MaterializeResult, MetadataValue, asset

from orchestration.partitions import WAREHOUSE_POOL, daily_partitions
from orchestration.resources import WarehouseResource
from warehouse.report import CHARTS, build_docs, build_report, report_path

# The marts the report reads: it is written once they are built.
REPORT_MARTS = sorted({c.model for c in CHARTS} | {m for c in CHARTS for m, _ in c.columns} | {"fct_scorecard"})


@asset(
    key=AssetKey(["serving", "kpi_report"]),
    deps=[AssetKey(["marts", m]) for m in REPORT_MARTS],
    group_name="serving",
    partitions_def=daily_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    kinds={"html", "python"},
    pool=WAREHOUSE_POOL,  # reads the warehouse, and dbt's catalog query opens it as dbt's profile does
    description="The KPI report: one self-contained HTML page (scorecard and trend charts, each with its "
    "definition, freshness and quality status; plotly.js inlined, no network) at "
    "<SKW_DATA_DIR>/report/kpi-report.html, and dbt's docs as one static page at <SKW_DATA_DIR>/docs/index.html.",
)
def kpi_report(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    path = build_report(warehouse.path, report_path())
    context.log.info(f"KPI report: {path}")
    docs = build_docs(warehouse_path=warehouse.path)
    context.log.info(f"dbt docs: {docs}")
    return MaterializeResult(
        metadata={
            "path": MetadataValue.path(str(path)),
            "bytes": path.stat().st_size,
            "dbt_docs": MetadataValue.path(str(docs)),
        }
    )


report_assets = [kpi_report]
