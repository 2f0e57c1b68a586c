{{
    config(
        materialized='incremental',
        incremental_strategy=window_strategy(),
        unique_key='date_day',
        meta={'window_column': 'date_day'},
        on_schema_change='fail',
    )
}}

{#- Which campaigns and sources cause missing or malformed UTMs: social sessions per day,
    property, social network and (source, medium, campaign), with the parser's verdict and
    reason, and the share of the network's social sessions of the day they make up. -#}

with

sessions as (
    select * from {{ ref('int_web_sessions_daily') }}
    where {{ in_run_window('date_day') }}
      and is_social
),

by_tags as (
    select
        date_day,
        platform,
        property_id,
        property_timezone,
        social_platform,
        source,
        medium,
        campaign,
        channel_group,
        has_utm_campaign,
        campaign_is_mapped,
        utm_status,
        utm_issue,
        cast(sum(sessions) as {{ dbt.type_bigint() }}) as sessions
    from sessions
    -- channel_group, has_utm_campaign, campaign_is_mapped, utm_status and utm_issue are
    -- functions of (source, medium, campaign): grouping by them keeps the grain
    group by date_day, platform, property_id, property_timezone, social_platform, source, medium, campaign,
             channel_group, has_utm_campaign, campaign_is_mapped, utm_status, utm_issue
),

final as (
    select
        -- keys
        date_day,
        platform,
        property_id,
        social_platform,
        source,
        medium,
        campaign,

        -- attributes
        property_timezone,
        channel_group,
        has_utm_campaign,
        campaign_is_mapped,
        utm_status,
        utm_issue,

        -- measures
        sessions,
        cast(case when utm_status = 'missing' then sessions else 0 end as {{ dbt.type_bigint() }}) as sessions_utm_missing,
        cast(case when utm_status = 'malformed' then sessions else 0 end as {{ dbt.type_bigint() }}) as sessions_utm_malformed,
        cast(sum(sessions) over (partition by date_day, property_id, social_platform) as {{ dbt.type_bigint() }})
            as platform_social_sessions,

        -- rate: sessions / platform_social_sessions
        {{ safe_divide('sessions', 'sum(sessions) over (partition by date_day, property_id, social_platform)') }}
            as share_of_platform_social_sessions

    from by_tags
)

select * from final
