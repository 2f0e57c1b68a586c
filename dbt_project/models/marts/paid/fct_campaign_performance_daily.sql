{{
    config(
        materialized='incremental',
        incremental_strategy=window_strategy(),
        unique_key='date_day',
        meta={'window_column': 'date_day'},
        on_schema_change='fail',
    )
}}

{#- Campaign performance across Meta, Google and LinkedIn Ads per day, platform, ad account and
    campaign: the money in the account's currency and in the reporting currency at the day's
    team FX rate (its date kept), the platform-reported conversions, and every rate beside its
    numerator and denominator. A partitioned run rebuilds only its window of days
    (in_run_window), so a restated day is replaced; a full refresh gives the same rows. -#}

with

performance as (
    select * from {{ ref('int_ad_performance_daily') }}
    where {{ in_run_window('date_day') }}
),

measured as (
    select
        performance.*,
        -- responses (practice 31): every response action the platform counts
        clicks + coalesce(platform_leads, 0) + platform_conversions as responses,
        case when reach is not null then 'reach' else 'impressions' end as response_rate_denominator,
        coalesce(reach, impressions) as response_base
    from performance
),

final as (
    select
        -- keys
        date_day,
        platform,
        account_id,
        campaign_id,

        -- attributes
        social_platform,
        account_timezone,
        campaign_name,
        campaign_key,
        utm_campaign,

        -- money in the account's currency
        currency,
        spend,
        spend_micros,
        platform_conversion_value,

        -- money in the reporting currency
        reporting_currency,
        spend_reporting,
        platform_conversion_value_reporting,
        fx_rate,
        fx_rate_date,

        -- counts
        impressions,
        clicks,
        reach,
        platform_conversions,
        platform_leads,
        cast(responses as double) as responses,
        cast(response_base as {{ dbt.type_bigint() }}) as response_base,
        response_rate_denominator,

        -- rates: numerator and denominator are columns of this row
        {{ safe_divide('clicks', 'impressions') }} as ctr,
        {{ safe_divide('spend', 'clicks') }} as cpc,
        {{ safe_divide('spend_reporting', 'clicks') }} as cpc_reporting,
        {{ safe_divide('platform_conversions', 'clicks') }} as platform_conversion_rate,
        {{ safe_divide('spend', 'platform_conversions') }} as platform_cpa,
        {{ safe_divide('spend_reporting', 'platform_conversions') }} as platform_cpa_reporting,
        {{ safe_divide('platform_conversion_value', 'spend') }} as platform_roas,
        {{ safe_divide('responses', 'response_base') }} as response_rate

    from measured
)

select * from final
