"""Reconciliation across layers: what one layer holds must add up to what the layer below holds.
SQL over the warehouse, no Dagster (the orchestration turns each outcome into an asset check);
every outcome is an error when it fails and carries the mismatching rows (what was expected
from the layer below, what the layer above holds).

- `staging_equals_raw`: each staging model that stages one raw table has one row per raw key
  (raw after deduplication). The pairs come from dbt's manifest (a staging model's source; of a
  model that joins lookups, the source table it is named after) and the keys from the stream
  declarations. A model that pivots raw rows (one raw row per metric, one staging row per day)
  is compared with raw's distinct rows at its grain (`RESHAPED`).
- `mart_spend_equals_staging`: ad spend per platform, day and currency in the paid marts equals
  the staging spend it is built from; the ROI mart's reporting-currency spend equals the campaign
  mart's.
- `web_sessions_equal_ga4`: sessions per property and day in the web traffic mart equal GA4's
  report rows in raw; social sessions in the social traffic mart equal the web mart's social rows.
- `conversions_counted_once`: the deduplicated CPA mart (fct_campaign_roi_daily) counts each new
  customer and each lead once across platforms and campaigns.

The mart checks cover a window of days (a run's partitions); the staging check covers whole
models (a view is its raw table, and counting is cheap). A relation the warehouse does not have
(a source left out by SKW_SOURCES) is not checked, and the outcome says so.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb

from warehouse.load_checks import ERROR, WARNING, CheckOutcome
from warehouse.settings import REPO_ROOT

MANIFEST = REPO_ROOT / "dbt_project" / "target" / "manifest.json"

# A mismatch lists at most this many rows in an outcome (the message gives the first).
MAX_ROWS = 20


@dataclass(frozen=True)
class Grain:
    """How a staging model that is not its raw table's rows one for one reads it: the raw
    columns one staging row stands for and the raw rows it reads (`where`). `columns` None: a
    raw row becomes several staging rows (an array unnested), so counts are not compared."""

    columns: tuple[str, ...] | None
    where: str = "true"
    why: str = ""


RESHAPED: dict[str, Grain] = {
    "stg_facebook__page_insights": Grain(("page_id", "date"), "period = 'day'", "one raw row per metric, pivoted"),
    "stg_facebook__post_insights": Grain(
        ("post_id", "snapshot_date"), "period = 'lifetime'", "one raw row per metric, pivoted"
    ),
    "stg_instagram__media_insights": Grain(
        ("media_id", "snapshot_date"), "period = 'lifetime'", "one raw row per metric, pivoted"
    ),
    "stg_instagram__account_insights": Grain(
        ("ig_user_id", "date"), "period = 'day'", "one raw row per metric and metric type, pivoted"
    ),
    "stg_linkedin__follower_demographics": Grain(None, why="each raw row's facet arrays are unnested"),
}


@dataclass(frozen=True)
class StagingPair:
    model: str  # dbt model name
    relation: str  # schema.table of the staging model
    raw: str  # schema.table of the raw table it stages


def staging_pairs(manifest: Mapping | Path | None = None) -> list[StagingPair]:
    """(staging model, raw table) pairs from dbt's manifest: a staging model's only source, or,
    where it joins lookups, the source table it is named after (stg_<source>__<table>)."""
    m = _manifest(manifest)
    pairs = []
    for node in m["nodes"].values():
        if node["resource_type"] != "model" or node["fqn"][1] != "staging":
            continue
        sources = [m["sources"][d] for d in node["depends_on"]["nodes"] if d.startswith("source.")]
        named = [s for s in sources if node["name"].split("__", 1)[-1] == s["name"]]
        source = sources[0] if len(sources) == 1 else named[0] if len(named) == 1 else None
        if source is not None:
            pairs.append(
                StagingPair(
                    node["name"], f"{node['schema']}.{node['alias']}", f"{source['schema']}.{source['identifier']}"
                )
            )
    return sorted(pairs, key=lambda p: p.model)


def _manifest(manifest: Mapping | Path | None) -> Mapping:
    if isinstance(manifest, Mapping):
        return manifest
    path = Path(manifest or MANIFEST)
    if not path.exists():
        raise FileNotFoundError(
            f"dbt's manifest {path} is missing: `python -m orchestration.assets.dbt parse` writes it (make does)"
        )
    return json.loads(path.read_text())


def declared_keys() -> dict[str, tuple[str, ...]]:
    """Each raw table's key, from the stream declarations (`STREAMS` of the extractors' modules)."""
    import extractors

    keys = {}
    for info in pkgutil.iter_modules(extractors.__path__):
        for stream in getattr(importlib.import_module(f"extractors.{info.name}"), "STREAMS", ()):
            keys[f"raw.{stream.source}__{stream.name}"] = tuple(stream.primary_key)
    return keys


def reconcile(
    con: duckdb.DuckDBPyConnection,
    start: date,
    end: date,
    *,
    manifest: Mapping | Path | None = None,
    keys: Mapping[str, tuple[str, ...]] | None = None,
) -> list[CheckOutcome]:
    """Every reconciliation: staging against raw (whole models), marts over [start, end]."""
    return [
        *staging_equals_raw(con, manifest, keys),
        *mart_spend_equals_staging(con, start, end),
        *web_sessions_equal_ga4(con, start, end),
        *conversions_counted_once(con, start, end),
    ]


# The marts each cross-layer check is about (`check_targets`): a check's outcomes name these.
MART_TARGETS = (
    ("mart_spend_equals_staging", "marts.fct_campaign_performance_daily"),
    ("mart_spend_equals_staging", "marts.fct_paid_performance_daily"),
    ("mart_spend_equals_staging", "marts.fct_campaign_roi_daily"),
    ("web_sessions_equal_ga4", "marts.fct_web_traffic_daily"),
    ("web_sessions_equal_ga4", "marts.fct_social_traffic_daily"),
    ("conversions_counted_once", "marts.fct_campaign_roi_daily"),
)


def check_targets(manifest: Mapping | Path | None = None) -> list[tuple[str, str]]:
    """Every (check, relation) `reconcile` can report on: `staging_equals_raw` on each staging
    model of dbt's manifest that stages one raw table, and the mart checks on their marts. (The
    orchestration declares one Dagster check per pair before any run.)"""
    return [("staging_equals_raw", p.relation) for p in staging_pairs(manifest)] + list(MART_TARGETS)


# -- helpers --------------------------------------------------------------------------------


def _catalog(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    """Every relation of the warehouse (schema.table) and its columns, read once per check."""
    catalog: dict[str, set[str]] = {}
    for schema, table, column in con.execute(
        "select table_schema, table_name, column_name from information_schema.columns"
    ).fetchall():
        catalog.setdefault(f"{schema}.{table}", set()).add(column)
    return catalog


def _missing(catalog: Mapping[str, set[str]], *relations: str) -> list[str]:
    """The relations of `relations` the warehouse does not have."""
    return [r for r in relations if r not in catalog]


def _not_checked(check: str, asset: str, partition: str | None, missing: list[str]) -> CheckOutcome:
    return CheckOutcome(
        check,
        asset,
        partition,
        True,
        ERROR,
        f"{asset}: not checked, the warehouse has no {', '.join(missing)}",
        {"checked": False, "missing": missing},
    )


def _plain(value):
    """A JSON-friendly value (Decimal and dates as the metadata of a check can show them)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _compare(
    con: duckdb.DuckDBPyConnection,
    check: str,
    asset: str,
    partition: str | None,
    what: str,
    sql: str,
    params: list,
    keys: tuple[str, ...],
) -> CheckOutcome:
    """Run `sql` (rows of `keys`..., expected, got, tolerance) and fail on the rows where got
    differs from expected by more than the tolerance; the message names the first of them."""
    cur = con.execute(
        f"""select * from ({sql}) where expected is distinct from got
                          and (expected is null or got is null or abs(expected - got) > tolerance)
                          order by all""",
        params,
    )
    names = [d[0] for d in cur.description]
    bad = [{n: _plain(v) for n, v in zip(names, row) if n != "tolerance"} for row in cur.fetchall()]
    label = asset if partition is None else f"{asset} {partition}"
    if not bad:
        return CheckOutcome(check, asset, partition, True, ERROR, f"{label}: {what} reconciles", {"mismatches": 0})
    first = bad[0]
    where = ", ".join(f"{k} {first[k]}" for k in keys)
    message = (
        f"{label}: {what} does not reconcile in {len(bad)} row(s); first: {where}: "
        f"expected {first['expected']}, got {first['got']}"
    )
    return CheckOutcome(check, asset, partition, False, ERROR, message, {"mismatches": len(bad)}, tuple(bad[:MAX_ROWS]))


def _window(start: date, end: date) -> str:
    return start.isoformat() if start == end else f"{start.isoformat()}..{end.isoformat()}"


# -- staging equals raw ---------------------------------------------------------------------


def staging_equals_raw(
    con: duckdb.DuckDBPyConnection,
    manifest: Mapping | Path | None = None,
    keys: Mapping[str, tuple[str, ...]] | None = None,
) -> list[CheckOutcome]:
    """One outcome per staging model that stages one raw table: its rows against raw's distinct
    keys (or, for a pivot, raw's distinct rows at the model's grain)."""
    keys = declared_keys() if keys is None else keys
    catalog, outcomes = _catalog(con), []
    for pair in staging_pairs(manifest):
        if _missing(catalog, pair.relation):
            continue  # the model is not built in this warehouse (its source is not configured)
        missing = _missing(catalog, pair.raw)
        if missing:
            outcomes.append(_not_checked("staging_equals_raw", pair.relation, None, missing))
            continue
        grain = RESHAPED.get(pair.model) or Grain(keys.get(pair.raw))
        observed = {"model": pair.model, "raw": pair.raw}
        if grain.columns is None and pair.model in RESHAPED:
            outcomes.append(
                CheckOutcome(
                    "staging_equals_raw",
                    pair.relation,
                    None,
                    True,
                    ERROR,
                    f"{pair.relation}: not compared with {pair.raw} by rows: {grain.why}",
                    {**observed, "checked": False},
                )
            )
            continue
        columns = grain.columns or ("*",)  # no declared key (a table a Python step writes): raw rows as they are
        absent = [c for c in columns if c != "*" and c not in catalog[pair.raw]]
        if absent:
            outcomes.append(
                CheckOutcome(  # a warning: the check could not run, the data may be right
                    "staging_equals_raw",
                    pair.relation,
                    None,
                    False,
                    WARNING,
                    f"{pair.relation}: not compared, {pair.raw} cannot be counted by its key: no column {', '.join(absent)} "
                    "(the stream declaration and the raw table disagree)",
                    {**observed, "checked": False},
                )
            )
            continue
        distinct = "count(*)" if columns == ("*",) else f"count(distinct ({', '.join(columns)}))"
        what = f"rows against {pair.raw}'s distinct ({', '.join(columns)})" + (
            f" where {grain.where}" if grain.where != "true" else ""
        )
        outcomes.append(
            _compare(
                con,
                "staging_equals_raw",
                pair.relation,
                None,
                what,
                f"""select '{pair.model}' as model, '{pair.raw}' as raw,
                       (select {distinct} from {pair.raw} where {grain.where}) as expected,
                       (select count(*) from {pair.relation}) as got, 0 as tolerance""",
                [],
                ("model",),
            )
        )
    return outcomes


# -- mart spend equals staging spend --------------------------------------------------------

# Spend per platform, day and currency as staging holds it, exact (before any rounding): the
# staging model and the sum of its spend in the account's currency.
STAGING_SPEND = {
    "meta_ads": ("staging.stg_meta_ads__ads_insights", "sum(spend)"),
    "google_ads": ("staging.stg_google_ads__ad_group_daily", "sum(cost_micros) / 1000000"),
    "linkedin_ads": ("staging.stg_linkedin_ads__ad_analytics_by_campaign", "sum(cost)"),
}


def _staging_spend(catalog: Mapping[str, set[str]], platforms: tuple[str, ...]) -> str:
    """SQL of staging's spend (platform, date_day, currency, amount) over [$start, $end], for the
    platforms of `platforms` whose staging model the warehouse has."""
    parts = [
        f"""select '{platform}' as platform, date_day, currency, {amount} as amount
                 from {relation} where date_day between $start and $end group by all"""
        for platform, (relation, amount) in STAGING_SPEND.items()
        if platform in platforms and not _missing(catalog, relation)
    ]
    return " union all ".join(parts) or (
        "select null::varchar as platform, null::date as date_day, "
        "null::varchar as currency, null::decimal as amount where false"
    )


def mart_spend_equals_staging(con: duckdb.DuckDBPyConnection, start: date, end: date) -> list[CheckOutcome]:
    """Ad spend per platform and day (and currency: spend is in the account's) in the paid marts
    against staging. fct_campaign_performance_daily holds every platform's exact spend in
    micros, so it must match to the micro; fct_paid_performance_daily (Meta) rounds each
    campaign-day to cents, so it may differ by half a cent a row; fct_campaign_roi_daily's
    reporting-currency spend against fct_campaign_performance_daily's, per platform and day."""
    window, params = _window(start, end), {"start": start, "end": end}
    catalog, outcomes = _catalog(con), []
    campaign = "marts.fct_campaign_performance_daily"
    missing = _missing(catalog, campaign)
    if missing:
        outcomes.append(_not_checked("mart_spend_equals_staging", campaign, window, missing))
    else:
        outcomes.append(
            _compare(
                con,
                "mart_spend_equals_staging",
                campaign,
                window,
                "spend per platform, day and currency against staging",
                f"""
            with staged as ({_staging_spend(catalog, ("meta_ads", "google_ads", "linkedin_ads"))}),
            mart as (select platform, date_day, currency, sum(spend_micros) / 1000000 as amount
                     from {campaign} where date_day between $start and $end group by all)
            select coalesce(s.platform, m.platform) as platform, coalesce(s.date_day, m.date_day) as date_day,
                   coalesce(s.currency, m.currency) as currency,
                   coalesce(s.amount, 0) as expected, coalesce(m.amount, 0) as got, 0 as tolerance
            from staged s full outer join mart m
              on s.platform = m.platform and s.date_day = m.date_day and s.currency is not distinct from m.currency""",
                params,
                ("platform", "date_day", "currency"),
            )
        )
    paid = "marts.fct_paid_performance_daily"
    missing = _missing(catalog, paid, STAGING_SPEND["meta_ads"][0])
    if missing:
        outcomes.append(_not_checked("mart_spend_equals_staging", paid, window, missing))
    else:
        outcomes.append(
            _compare(
                con,
                "mart_spend_equals_staging",
                paid,
                window,
                "Meta spend per day and currency against staging",
                f"""
            with staged as ({_staging_spend(catalog, ("meta_ads",))}),
            mart as (select platform, date_day, currency, sum(spend) as amount, count(*) as rows
                     from {paid} where date_day between $start and $end group by all)
            select coalesce(s.platform, m.platform) as platform, coalesce(s.date_day, m.date_day) as date_day,
                   coalesce(s.currency, m.currency) as currency,
                   coalesce(s.amount, 0) as expected, coalesce(m.amount, 0) as got,
                   0.005 * coalesce(m.rows, 0) as tolerance
            from staged s full outer join mart m
              on s.platform = m.platform and s.date_day = m.date_day and s.currency is not distinct from m.currency""",
                params,
                ("platform", "date_day", "currency"),
            )
        )
    roi = "marts.fct_campaign_roi_daily"
    missing = _missing(catalog, roi, campaign)
    if missing:
        outcomes.append(_not_checked("mart_spend_equals_staging", roi, window, missing))
    else:
        outcomes.append(
            _compare(
                con,
                "mart_spend_equals_staging",
                roi,
                window,
                f"reporting-currency spend per platform and day against {campaign}",
                f"""
            with campaigns as (select platform, date_day, sum(spend_reporting) as amount
                               from {campaign} where date_day between $start and $end group by all),
            mart as (select platform, date_day, sum(spend_reporting) as amount, count(*) as rows
                     from {roi} where date_day between $start and $end group by all)
            select coalesce(c.platform, m.platform) as platform, coalesce(c.date_day, m.date_day) as date_day,
                   coalesce(c.amount, 0) as expected, coalesce(m.amount, 0) as got,
                   0.005 * coalesce(m.rows, 0) as tolerance
            from campaigns c full outer join mart m on c.platform = m.platform and c.date_day = m.date_day""",
                params,
                ("platform", "date_day"),
            )
        )
    return outcomes


# -- web sessions equal GA4's ---------------------------------------------------------------

GA4_RAW = "raw.ga4__analytics_report"


def web_sessions_equal_ga4(con: duckdb.DuckDBPyConnection, start: date, end: date) -> list[CheckOutcome]:
    """Sessions per property and day: fct_web_traffic_daily (every session, landing pages summed
    away) against GA4's report rows in raw (`date` is the property's day, YYYYMMDD); then
    fct_social_traffic_daily's social sessions (paid and organic) against the web mart's rows
    grouped as social, per property, social network and day."""
    window, params = _window(start, end), {"start": start, "end": end}
    catalog, outcomes = _catalog(con), []
    web, social = "marts.fct_web_traffic_daily", "marts.fct_social_traffic_daily"
    missing = _missing(catalog, web, GA4_RAW)
    if not missing and not {"date", "property_id", "sessions"} <= catalog[GA4_RAW]:
        missing = [f"{GA4_RAW} columns date, property_id and sessions (GA4's `date` dimension is not configured)"]
    if missing:
        outcomes.append(_not_checked("web_sessions_equal_ga4", web, window, missing))
    else:
        outcomes.append(
            _compare(
                con,
                "web_sessions_equal_ga4",
                web,
                window,
                f"sessions per property and day against GA4's report rows ({GA4_RAW})",
                f"""
            with ga4 as (select property_id, strptime(date, '%Y%m%d')::date as date_day, sum(sessions) as sessions
                         from {GA4_RAW} where date between strftime($start, '%Y%m%d') and strftime($end, '%Y%m%d')
                         group by all),
            mart as (select property_id, date_day, sum(sessions) as sessions
                     from {web} where date_day between $start and $end group by all)
            select coalesce(g.property_id, m.property_id) as property_id,
                   coalesce(g.date_day, m.date_day) as date_day,
                   coalesce(g.sessions, 0) as expected, coalesce(m.sessions, 0) as got, 0 as tolerance
            from ga4 g full outer join mart m on g.property_id = m.property_id and g.date_day = m.date_day""",
                params,
                ("property_id", "date_day"),
            )
        )
    missing = _missing(catalog, social, web)
    if missing:
        outcomes.append(_not_checked("web_sessions_equal_ga4", social, window, missing))
    else:
        outcomes.append(
            _compare(
                con,
                "web_sessions_equal_ga4",
                social,
                window,
                f"social sessions per property, network and day against {web}'s social rows",
                f"""
            with web as (select property_id, social_platform, date_day, sum(sessions) as sessions
                         from {web} where is_social and date_day between $start and $end group by all),
            mart as (select property_id, social_platform, date_day, sum(social_sessions) as sessions
                     from {social} where date_day between $start and $end group by all)
            select coalesce(w.property_id, m.property_id) as property_id,
                   coalesce(w.social_platform, m.social_platform) as social_platform,
                   coalesce(w.date_day, m.date_day) as date_day,
                   coalesce(w.sessions, 0) as expected, coalesce(m.sessions, 0) as got, 0 as tolerance
            from web w full outer join mart m
              on w.property_id = m.property_id and w.social_platform is not distinct from m.social_platform
             and w.date_day = m.date_day""",
                params,
                ("property_id", "social_platform", "date_day"),
            )
        )
    return outcomes


# -- no conversion counted twice ------------------------------------------------------------


def conversions_counted_once(con: duckdb.DuckDBPyConnection, start: date, end: date) -> list[CheckOutcome]:
    """fct_campaign_roi_daily (the deduplicated CPA) summed over every platform and campaign of a
    day against the distinct people behind it in the CRM layer: new customers (distinct customers
    whose first purchase closed that day and whose buying contact came through an ad platform) and
    leads (distinct contacts that became leads that day, acquired through an ad platform). A sum
    above the distinct count is a conversion counted for two platforms or campaigns."""
    window, params = _window(start, end), {"start": start, "end": end}
    catalog, roi = _catalog(con), "marts.fct_campaign_roi_daily"
    contacts, deals = "intermediate.int_crm_contacts", "intermediate.int_crm_deals"
    missing = _missing(catalog, roi, contacts, deals)
    if missing:
        return [_not_checked("conversions_counted_once", roi, window, missing)]
    return [
        _compare(
            con,
            "conversions_counted_once",
            roi,
            window,
            "new customers and leads per day, summed over platforms, against distinct people",
            f"""
        with crm as (
            select 'new_customers' as measure, deals.closed_date as date_day,
                   count(distinct deals.customer_key) as people
            from {deals} as deals
            where deals.is_first_purchase and deals.closed_date between $start and $end
              and exists (select 1 from {contacts} as c where c.customer_key = deals.customer_key
                          and c.is_new_customer and c.ad_platform is not null)
            group by all
            union all
            select 'leads', became_lead_date, count(distinct contact_id)
            from {contacts}
            where is_lead and ad_platform is not null and became_lead_date between $start and $end
            group by all
        ),
        mart as (
            unpivot (select date_day, sum(new_customers) as new_customers, sum(leads) as leads
                     from {roi} where date_day between $start and $end group by all)
            on new_customers, leads into name measure value counted
        )
        select coalesce(crm.measure, mart.measure) as measure, coalesce(crm.date_day, mart.date_day) as date_day,
               coalesce(crm.people, 0) as expected, coalesce(mart.counted, 0) as got, 0 as tolerance
        from crm full outer join mart on crm.measure = mart.measure and crm.date_day = mart.date_day
        where coalesce(crm.people, 0) <> 0 or coalesce(mart.counted, 0) <> 0""",
            params,
            ("measure", "date_day"),
        )
    ]
