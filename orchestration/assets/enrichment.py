"""Enrichment: tables a Python step derives from raw for the dbt models, `enrichment/<table>`.

`enrichment/text_sentiment` scores the comments, messages, mentions and survey comments that
are new in raw (warehouse/sentiment.py does the work; this is the glue). It does not go by the
run's days but by what was loaded: each source's mark (enrichment.text_sentiment_marks) says up
to which load stamp (`_loaded_at`) its rows were read, and a run reads the rows loaded since
(every text when the counts say it must, see `_plan`). So a run over any days leaves every
loaded text scored, a day's run reads a day's texts, not the year's, and a run with nothing new
writes nothing. Partitioned like the raw and dbt assets so the main job and a backfill run it
once, between the loads and the models.
"""

from dagster import AssetExecutionContext, AssetKey, BackfillPolicy, MaterializeResult, asset

from orchestration.partitions import WAREHOUSE_POOL, daily_partitions
from orchestration.resources import WarehouseResource
from warehouse.sentiment import TEXT_SOURCES, score_new_texts

# The raw assets holding the texts (raw/<source>/<stream> for each raw table scored).
TEXT_ASSET_KEYS = [AssetKey(["raw", *src.name.split("__", 1)]) for src in TEXT_SOURCES]


@asset(
    key=AssetKey(["enrichment", "text_sentiment"]),
    deps=TEXT_ASSET_KEYS,
    group_name="enrichment",
    partitions_def=daily_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    pool=WAREHOUSE_POOL,  # one writer of the warehouse at a time, across runs
    kinds={"duckdb", "python"},
    description="Sentiment (score in [-1, 1] and label, language first) of every comment, direct message, "
    "mention and survey comment in raw, scored once per text and scorer version. "
    "Table enrichment.text_sentiment; key (text_source, text_id); no text, no author.",
)
def text_sentiment(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    with warehouse.connect() as con:
        result = score_new_texts(con, log=context.log)
        rows = con.execute("select count(*) from enrichment.text_sentiment").fetchall()[0][0]
    return MaterializeResult(metadata={**result.as_metadata(), "rows_in_table": rows})


enrichment_assets = [text_sentiment]
