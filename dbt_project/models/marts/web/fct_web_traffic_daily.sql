{{
    config(
        materialized='incremental',
        incremental_strategy=window_strategy(),
        unique_key='date_day',
        meta={'window_column': 'date_day'},
        on_schema_change='fail',
    )
}}

{#- Web traffic per day (the property's time zone), property and traffic source: source /
    medium / campaign / content with the channel group it belongs to. Landing pages are summed
    away. A run rebuilds only its window of days (`in_run_window`): every row of those days is
    replaced, so GA4's restated recent days are replaced too. -#}

{%- set reporting = var('reporting_currency') -%}

with

sessions as (
    select * from {{ ref('int_web_sessions_daily') }}
    where {{ in_run_window('date_day') }}
),

fx as (
    select * from {{ ref('int_fx_rates_daily') }}
),

traffic as (
    select
        date_day,
        platform,
        property_id,
        property_timezone,
        source,
        medium,
        campaign,
        content,
        channel_group,
        is_social,
        is_paid,
        social_platform,
        has_utm_campaign,
        utm_status,
        utm_issue,
        is_other_row,
        currency,
        cast(sum(sessions) as {{ dbt.type_bigint() }}) as sessions,
        cast(sum(engaged_sessions) as {{ dbt.type_bigint() }}) as engaged_sessions,
        cast(sum(key_events) as {{ dbt.type_bigint() }}) as key_events,
        cast(sum(purchases) as {{ dbt.type_bigint() }}) as purchases,
        cast(sum(revenue) as decimal(18, 2)) as revenue,
        max(case when data_loss_from_other_row then 1 else 0 end) = 1 as data_loss_from_other_row,
        max(case when subject_to_thresholding then 1 else 0 end) = 1 as subject_to_thresholding
    from sessions
    -- channel_group ... utm_issue are functions of (source, medium, campaign); property
    -- time zone and currency of the property: grouping by them keeps the grain
    group by date_day, platform, property_id, property_timezone, source, medium, campaign, content, channel_group,
             is_social, is_paid, social_platform, has_utm_campaign, utm_status, utm_issue, is_other_row, currency
),

final as (
    select
        -- keys
        traffic.date_day,
        traffic.platform,
        traffic.property_id,
        traffic.source,
        traffic.medium,
        traffic.campaign,
        traffic.content,

        -- attributes
        traffic.property_timezone,
        traffic.channel_group,
        traffic.is_social,
        traffic.is_paid,
        traffic.social_platform,
        traffic.has_utm_campaign,
        traffic.utm_status,
        traffic.utm_issue,
        traffic.is_other_row,

        -- measures
        traffic.sessions,
        traffic.engaged_sessions,
        traffic.key_events,
        traffic.purchases,
        traffic.revenue,
        traffic.currency,

        -- rates: numerator and denominator are the measures above
        {{ safe_divide('traffic.engaged_sessions', 'traffic.sessions') }} as engagement_rate,
        {{ safe_divide('traffic.key_events', 'traffic.sessions') }} as conversion_rate,

        -- revenue in the reporting currency at the day's rate (team_config fx_rates)
        {{ to_money('traffic.revenue / fx.rate_per_reporting', "'" ~ reporting ~ "'") }} as revenue_reporting,
        '{{ reporting }}' as reporting_currency,
        fx.rate_per_reporting as fx_rate,
        fx.rate_date as fx_rate_date,

        -- completeness of the GA4 reports behind the row
        traffic.data_loss_from_other_row,
        traffic.subject_to_thresholding

    from traffic
    left join fx
        on traffic.date_day = fx.date_day
        and traffic.currency = fx.currency
)

select * from final
