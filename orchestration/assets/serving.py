"""The serving database as a Dagster asset, and the pre-flight that stops a run early when
something outside the pipeline holds the warehouse file. Glue only: warehouse/serving.py
publishes, warehouse/locks.py finds the holder.

`serving/publish` depends on every mart, so it runs after the build in any run that builds
them (`main`, `transform`), and only when the build succeeded (a failed dbt step skips it):
readers of serving.duckdb always see the marts of a whole, successful build.
"""

from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, Failure, MaterializeResult, asset

from orchestration.resources import WarehouseResource
from warehouse import serving
from warehouse.locks import WarehouseBusy, ensure_free
from warehouse.settings import serving_path_for

SERVING_KEY = AssetKey(["serving", "publish"])


def preflight(warehouse: WarehouseResource) -> None:
    """Fail the step with one message naming the process that holds the warehouse file (and
    pointing to the serving file), before anything is extracted."""
    try:
        ensure_free(warehouse.path, serving_path_for(warehouse.path))
    except WarehouseBusy as exc:
        raise Failure(description=str(exc)) from None


def serving_assets(dbt_assets_def: AssetsDefinition, pool: str | None = None) -> list[AssetsDefinition]:
    """`serving/publish`, downstream of every mart of the dbt assets. `pool`: the concurrency
    pool of the assets that hold the warehouse file (publishing reads it: a writer waits)."""
    marts = sorted((k for k in dbt_assets_def.keys if k.path[0] == "marts"), key=lambda k: k.to_user_string())

    @asset(
        key=SERVING_KEY,
        deps=marts,
        group_name="serving",
        kinds={"duckdb", "parquet"},
        pool=pool,
        description="Every mart and the quality results copied to serving.duckdb beside the warehouse (DuckDB "
        f"storage {serving.STORAGE_VERSION}: DuckDB {serving.OLDEST_READER} or later opens it) and to Parquet, each "
        "swapped into place atomically, for BI tools and analysts: readers never hold the warehouse.",
    )
    def publish_serving(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
        result = serving.publish(warehouse.path, serving_path_for(warehouse.path), run_id=context.run_id)
        context.log.info(
            f"published {len(result.tables)} tables ({sum(result.tables.values()):,} rows) to "
            f"{result.serving_path} and {result.parquet_dir} in {result.seconds:.1f} s"
        )
        return MaterializeResult(metadata=result.as_metadata())

    return [publish_serving]
