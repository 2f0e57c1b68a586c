"""Great Expectations suites as Dagster asset checks (dbt tests arrive through dagster-dbt)."""

from dagster import AssetCheckResult, AssetCheckSeverity, asset_check

from expectations import meta_ads as meta_ads_suite
from extractors.meta_ads import ADS_INSIGHTS
from orchestration.assets.streams import asset_key, raw_table
from orchestration.resources import WarehouseResource

INSIGHTS_KEY = asset_key(ADS_INSIGHTS)


@asset_check(
    asset=INSIGHTS_KEY,
    name="gx_raw_ads_insights",
    description="Great Expectations suite expectations/meta_ads.py on raw.meta_ads__ads_insights: "
    "keys present and unique, numbers that parse, ISO currencies.",
)
def gx_raw_ads_insights(warehouse: WarehouseResource) -> AssetCheckResult:
    from expectations.runner import validate_frame

    cols = ", ".join(f"cast({c} as varchar) as {c}" for c in meta_ads_suite.COLUMNS)
    with warehouse.connect(read_only=True) as con:
        frame = con.execute(f"select {cols} from {raw_table(ADS_INSIGHTS).name}").df()
    result = validate_frame("raw_meta_ads__ads_insights", frame, meta_ads_suite.ads_insights_expectations())
    return AssetCheckResult(passed=result.success, severity=AssetCheckSeverity.ERROR, metadata=result.as_metadata())
