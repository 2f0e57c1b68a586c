{{
    config(
        materialized='incremental',
        incremental_strategy=window_strategy(),
        unique_key='date_day',
        meta={'window_column': 'date_day'},
        on_schema_change='fail',
    )
}}

{#- Organic and paid performance side by side, per day, platform, account and is_paid. A run
    rebuilds the days of its window (every row of those days is deleted and inserted again);
    each day's rows and totals depend on that day's inputs only (growth is computed upstream
    over all history in int_followers_daily), so a full refresh gives the same rows. -#}

{%- set reporting = var('reporting_currency') -%}

with

account_days as (
    select * from {{ ref('int_account_metrics_daily') }}
    where {{ in_run_window('date_day') }}
),

follower_days as (
    select * from {{ ref('int_followers_daily') }}
    where {{ in_run_window('date_day') }}
),

ad_days as (
    select * from {{ ref('int_ad_performance_daily') }}
    where social_platform is not null
      and {{ in_run_window('date_day') }}
),

organic as (
    select
        coalesce(account_days.date_day, follower_days.date_day) as date_day,
        coalesce(account_days.platform, follower_days.platform) as platform,
        coalesce(account_days.account_id, follower_days.account_id) as account_id,
        false as is_paid,
        coalesce(account_days.account_timezone, follower_days.account_timezone) as account_timezone,
        coalesce(account_days.metrics_source, 'followers_only') as metrics_source,
        cast(null as {{ dbt.type_string() }}) as ad_platform,
        account_days.impressions,
        account_days.reach,
        account_days.engagements,
        account_days.link_clicks,
        cast(null as {{ dbt.type_string() }}) as currency,
        cast(null as decimal(18, 2)) as spend,
        cast(null as decimal(18, 2)) as spend_reporting,
        cast(null as double) as fx_rate,
        cast(null as date) as fx_rate_date,
        follower_days.followers,
        follower_days.net_adds,
        follower_days.followers_7d_before,
        follower_days.followers_28d_before
    from account_days
    full outer join follower_days
        on account_days.platform = follower_days.platform
        and account_days.account_id = follower_days.account_id
        and account_days.date_day = follower_days.date_day
),

paid as (
    select
        date_day,
        social_platform as platform,
        account_id,
        true as is_paid,
        max(account_timezone) as account_timezone,
        'ad_performance' as metrics_source,
        platform as ad_platform,
        sum(impressions) as impressions,
        -- reach is unique people: campaigns' reach cannot be added up (a person reached by
        -- two campaigns counts once), so it is kept only when one campaign ran that day
        case when count(*) = 1 then max(reach) end as reach,
        cast(null as {{ dbt.type_bigint() }}) as engagements,
        sum(clicks) as link_clicks,
        currency,
        sum(spend) as spend,
        sum(spend_reporting) as spend_reporting,
        max(fx_rate) as fx_rate,
        max(fx_rate_date) as fx_rate_date,
        cast(null as {{ dbt.type_bigint() }}) as followers,
        cast(null as {{ dbt.type_bigint() }}) as net_adds,
        cast(null as {{ dbt.type_bigint() }}) as followers_7d_before,
        cast(null as {{ dbt.type_bigint() }}) as followers_28d_before
    from ad_days
    group by date_day, social_platform, account_id, platform, currency
),

combined as (
    select * from organic
    union all
    select * from paid
),

day_totals as (
    select
        date_day,
        sum(impressions) as day_total_impressions,
        sum(engagements) as day_total_engagements,
        sum(link_clicks) as day_total_link_clicks
    from combined
    group by date_day
),

final as (
    select
        -- keys
        combined.date_day,
        combined.platform,
        combined.account_id,
        combined.is_paid,

        -- attributes
        combined.account_timezone,
        combined.metrics_source,
        combined.ad_platform,

        -- reach and activity of the day
        cast(combined.impressions as {{ dbt.type_bigint() }}) as impressions,
        cast(combined.reach as {{ dbt.type_bigint() }}) as reach,
        cast(combined.engagements as {{ dbt.type_bigint() }}) as engagements,
        cast(combined.link_clicks as {{ dbt.type_bigint() }}) as link_clicks,
        {{ safe_divide('combined.engagements', 'combined.impressions') }} as engagement_rate,
        {{ safe_divide('combined.engagements', 'combined.reach') }} as engagement_rate_by_reach,
        {{ safe_divide('combined.link_clicks', 'combined.impressions') }} as ctr,

        -- spend: in the account's currency and in the reporting currency at the day's rate
        combined.currency,
        cast(combined.spend as decimal(18, 2)) as spend,
        cast(case when combined.is_paid then '{{ reporting }}' end as {{ dbt.type_string() }}) as reporting_currency,
        cast(combined.spend_reporting as decimal(18, 2)) as spend_reporting,
        cast(combined.fx_rate as double) as fx_rate,
        cast(combined.fx_rate_date as date) as fx_rate_date,

        -- followers and growth
        cast(combined.followers as {{ dbt.type_bigint() }}) as followers,
        cast(combined.net_adds as {{ dbt.type_bigint() }}) as net_adds,
        cast(combined.followers_7d_before as {{ dbt.type_bigint() }}) as followers_7d_before,
        cast(combined.followers - combined.followers_7d_before as {{ dbt.type_bigint() }}) as growth_7d,
        {{ safe_divide('combined.followers - combined.followers_7d_before', 'combined.followers_7d_before') }} as growth_rate_7d,
        cast(combined.followers_28d_before as {{ dbt.type_bigint() }}) as followers_28d_before,
        cast(combined.followers - combined.followers_28d_before as {{ dbt.type_bigint() }}) as growth_28d,
        {{ safe_divide('combined.followers - combined.followers_28d_before', 'combined.followers_28d_before') }} as growth_rate_28d,

        -- share of the day's total across platforms, accounts, organic and paid
        cast(day_totals.day_total_impressions as {{ dbt.type_bigint() }}) as day_total_impressions,
        {{ safe_divide('combined.impressions', 'day_totals.day_total_impressions') }} as impressions_share,
        cast(day_totals.day_total_engagements as {{ dbt.type_bigint() }}) as day_total_engagements,
        {{ safe_divide('combined.engagements', 'day_totals.day_total_engagements') }} as engagements_share,
        cast(day_totals.day_total_link_clicks as {{ dbt.type_bigint() }}) as day_total_link_clicks,
        {{ safe_divide('combined.link_clicks', 'day_totals.day_total_link_clicks') }} as link_clicks_share

    from combined
    inner join day_totals on combined.date_day = day_totals.date_day
)

select * from final
