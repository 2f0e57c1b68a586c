"""Raw Meta Marketing assets: extract each day, land it, load it."""


import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

from dagster import (AssetExecutionContext, AssetKey, AssetSpec, BackfillPolicy, MaterializeResult,
                     multi_asset)

from orchestration.partitions import daily_partitions
from orchestration.resources import MetaAdsResource, WarehouseResource
from extractors.http import CallStats
from warehouse.landing import LandedFile, land_pages
from warehouse.loader import load
from warehouse.raw_tables import META_AD_ACCOUNTS, META_ADS_INSIGHTS

INSIGHTS_KEY = AssetKey(["raw", "meta_ads", "ads_insights"])
ACCOUNTS_KEY = AssetKey(["raw", "meta_ads", "ad_accounts"])


def days_in(context: AssetExecutionContext) -> list[date]:
    """The days a run covers: one partition, or a range in a single-run backfill."""
    window = context.partition_time_window
    first, end = window.start.date(), window.end.date()
    return [first + timedelta(days=i) for i in range((end - first).days)]


def land_days(meta_ads: MetaAdsResource, landing_root, accounts: list[str], days: list[date],
              workers: int) -> Iterator[tuple[date, LandedFile, CallStats]]:
    """Extract and land each day on a pool of threads (one client per day, so nothing is
    shared between threads); yield the landed files in day order for a single writer to load.

    Report runs for several days are in flight at once, as Meta's async API intends; the
    pool size bounds the pressure on the account's rate limit.
    """
    def one_day(day: date) -> tuple[date, LandedFile, CallStats]:
        client = meta_ads.client()
        pages = (page for account in accounts for page in client.insights_pages(account, day))
        landed = land_pages(landing_root, "meta_ads", "ads_insights", day.isoformat(), pages)
        return day, landed, client.stats

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="meta_ads") as pool:
        yield from pool.map(one_day, days)


@multi_asset(
    specs=[
        AssetSpec(INSIGHTS_KEY, kinds={"duckdb", "meta"}, group_name="meta_ads",
                  description="Meta ad insights per ad and day, as the API sent them "
                              "(raw.meta_ads__ads_insights). A re-run of a day replaces that day."),
        AssetSpec(ACCOUNTS_KEY, kinds={"duckdb", "meta"}, group_name="meta_ads",
                  description="Meta ad accounts with currency and time zone (raw.meta_ads__ad_accounts)."),
    ],
    partitions_def=daily_partitions,
    backfill_policy=BackfillPolicy.single_run(),
)
def meta_ads_raw(context: AssetExecutionContext, meta_ads: MetaAdsResource, warehouse: WarehouseResource):
    """Pull ad insights for every configured ad account and each day of the run.

    Each day's pages land in one immutable gzip JSON-lines file, which DuckDB then loads
    into the raw table, replacing that day. Records without their key are kept in
    raw._rejects with the file and line they came from.
    """
    started = time.monotonic()
    client = meta_ads.client()
    accounts = meta_ads.accounts
    if not accounts:
        raise ValueError("meta_ads: no ad accounts configured: set META_AD_ACCOUNT_IDS")
    days = days_in(context)

    account_pages = [[client.account(a) for a in accounts]]
    landed_accounts = land_pages(warehouse.landing, "meta_ads", "ad_accounts", "current", account_pages)
    counted = ("received", "loaded", "rejected", "duplicates", "inserted", "updated", "unchanged", "deleted")
    totals = {**{k: 0 for k in counted}, "pages": 0,
              "requests": client.stats.requests, "retries": client.stats.retries}
    with warehouse.connect() as con:
        acc_result = load(con, META_AD_ACCOUNTS, landed_accounts)
    for n, (day, landed, stats) in enumerate(
            land_days(meta_ads, warehouse.landing, accounts, days, meta_ads.parallel_days), 1):
        with warehouse.connect() as con:
            result = load(con, META_ADS_INSIGHTS, landed)
        for k in counted:
            totals[k] += getattr(result, k)
        totals["pages"] += landed.pages
        totals["requests"] += stats.requests
        totals["retries"] += stats.retries
        context.log.info(f"meta_ads ads_insights {day} ({n}/{len(days)}): {result.received} received, "
                         f"{result.loaded} loaded ({result.inserted} new, {result.updated} changed, "
                         f"{result.unchanged} unchanged, {result.deleted} gone), {result.rejected} rejected, "
                         f"{landed.pages} pages")
        if result.rejected:
            context.log.warning(f"meta_ads ads_insights {day}: {result.rejected} record(s) of {landed.path} "
                                f"rejected; see raw._rejects for each line and reason")
    seconds = round(time.monotonic() - started, 2)
    yield MaterializeResult(asset_key=INSIGHTS_KEY, metadata={
        **totals, "days": len(days), "accounts": len(accounts), "rows_in_table": result.rows_in_table,
        "seconds": seconds, "table": META_ADS_INSIGHTS.name})
    yield MaterializeResult(asset_key=ACCOUNTS_KEY, metadata={
        **{k: getattr(acc_result, k) for k in counted},
        "rows_in_table": acc_result.rows_in_table, "table": META_AD_ACCOUNTS.name})
