{{
    config(
        materialized='incremental',
        incremental_strategy=window_strategy(),
        unique_key='date_day',
        meta={'window_column': 'date_day'},
        on_schema_change='fail',
    )
}}

{#- UTM hygiene per day, property and social network: how many social sessions arrived with
    missing or malformed UTMs. Social sessions only (Paid Social, Organic Social, Influencer):
    untagged search, direct and referral traffic is nobody's tagging mistake. -#}

with

sessions as (
    select * from {{ ref('int_web_sessions_daily') }}
    where {{ in_run_window('date_day') }}
      and is_social
),

counted as (
    select
        date_day,
        platform,
        property_id,
        property_timezone,
        social_platform,
        cast(sum(sessions) as {{ dbt.type_bigint() }}) as social_sessions,
        cast(sum(case when utm_status = 'ok' then sessions else 0 end) as {{ dbt.type_bigint() }}) as sessions_utm_ok,
        cast(sum(case when utm_status = 'missing' then sessions else 0 end) as {{ dbt.type_bigint() }}) as sessions_utm_missing,
        cast(sum(case when utm_status = 'malformed' then sessions else 0 end) as {{ dbt.type_bigint() }}) as sessions_utm_malformed
    from sessions
    group by date_day, platform, property_id, property_timezone, social_platform
),

final as (
    select
        -- keys
        date_day,
        platform,
        property_id,
        social_platform,

        -- attributes
        property_timezone,

        -- measures
        social_sessions,
        sessions_utm_ok,
        sessions_utm_missing,
        sessions_utm_malformed,
        cast(sessions_utm_missing + sessions_utm_malformed as {{ dbt.type_bigint() }}) as sessions_utm_broken,

        -- rates: numerators are the measures above, the denominator is social_sessions
        {{ safe_divide('sessions_utm_missing', 'social_sessions') }} as missing_utm_share,
        {{ safe_divide('sessions_utm_malformed', 'social_sessions') }} as malformed_utm_share,
        {{ safe_divide('sessions_utm_missing + sessions_utm_malformed', 'social_sessions') }} as broken_utm_share

    from counted
)

select * from final
