{{
    config(
        materialized='incremental',
        incremental_strategy=window_strategy(),
        unique_key='date_day',
        meta={'window_column': 'date_day'},
        on_schema_change='fail',
    )
}}

{#- A partitioned run rebuilds only its days (in_run_window: SKW_DBT_START_DATE..SKW_DBT_END_DATE,
    set by Dagster; unset: every day): every row of those days is deleted and inserted again,
    so a restated day is replaced. Environment variables, not --vars: dbt re-parses the whole
    project when --vars change, this file alone when the variables it reads change.
    Meta only; fct_campaign_performance_daily has Meta, Google and LinkedIn Ads. -#}

with

insights as (
    select * from {{ ref('stg_meta_ads__ads_insights') }}
    where {{ in_run_window('date_day') }}
),

accounts as (
    select * from {{ ref('stg_meta_ads__ad_accounts') }}
),

campaign_days as (
    select
        insights.date_day,
        insights.account_id,
        insights.campaign_id,
        max(insights.campaign_name) as campaign_name,
        insights.currency,
        -- typed as a BI tool expects: DuckDB sums BIGINT to HUGEINT and DECIMAL to DECIMAL(38, s)
        cast(sum(insights.spend) as decimal(18, 2)) as spend,
        cast(sum(insights.impressions) as {{ dbt.type_bigint() }}) as impressions,
        cast(sum(insights.clicks) as {{ dbt.type_bigint() }}) as clicks,
        cast(sum(insights.conversions) as double) as conversions,
        cast(sum(insights.conversion_value) as decimal(18, 2)) as conversion_value
    from insights
    group by insights.date_day, insights.account_id, insights.campaign_id, insights.currency
),

final as (
    select
        -- keys
        campaign_days.date_day,
        'meta_ads' as platform,
        campaign_days.account_id,
        campaign_days.campaign_id,

        -- attributes
        accounts.account_name,
        accounts.account_timezone,
        campaign_days.campaign_name,
        campaign_days.currency,

        -- measures (spend and conversion value in `currency`)
        campaign_days.spend,
        campaign_days.impressions,
        campaign_days.clicks,
        campaign_days.conversions,
        campaign_days.conversion_value,

        -- rates: numerator and denominator are the measures above
        {{ safe_divide('campaign_days.clicks', 'campaign_days.impressions') }} as ctr,
        {{ safe_divide('campaign_days.spend', 'campaign_days.clicks') }} as cpc,
        {{ safe_divide('campaign_days.spend', 'campaign_days.conversions') }} as cpa,
        {{ safe_divide('campaign_days.conversion_value', 'campaign_days.spend') }} as roas,
        {{ safe_divide('campaign_days.conversions', 'campaign_days.clicks') }} as conversion_rate

    from campaign_days
    left join accounts on campaign_days.account_id = accounts.account_id
)

select * from final
