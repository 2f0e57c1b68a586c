{{
    config(
        materialized='incremental',
        incremental_strategy=window_strategy(),
        unique_key='date_day',
        meta={'window_column': 'date_day'},
        on_schema_change='fail',
    )
}}

{#- Web traffic from social per day, property and social network, organic and paid side by
    side: the same KPIs for Paid Social and for organic (Organic Social + Influencer) in one row. -#}

with

sessions as (
    select * from {{ ref('int_web_sessions_daily') }}
    where {{ in_run_window('date_day') }}
      and is_social
),

sides as (
    select
        date_day,
        platform,
        property_id,
        property_timezone,
        social_platform,
        currency,
        {%- for side, cond in [('paid', 'is_paid'), ('organic', 'not is_paid'), ('influencer', "channel_group = 'Influencer'")] %}
        cast(sum(case when {{ cond }} then sessions else 0 end) as {{ dbt.type_bigint() }}) as {{ side }}_sessions,
        cast(sum(case when {{ cond }} then engaged_sessions else 0 end) as {{ dbt.type_bigint() }}) as {{ side }}_engaged_sessions,
        cast(sum(case when {{ cond }} then key_events else 0 end) as {{ dbt.type_bigint() }}) as {{ side }}_key_events,
        cast(sum(case when {{ cond }} then purchases else 0 end) as {{ dbt.type_bigint() }}) as {{ side }}_purchases,
        cast(sum(case when {{ cond }} then revenue else 0 end) as decimal(18, 2)) as {{ side }}_revenue,
        {%- endfor %}
        cast(sum(sessions) as {{ dbt.type_bigint() }}) as social_sessions
    from sessions
    group by date_day, platform, property_id, property_timezone, social_platform, currency
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
        currency,

        -- paid social
        paid_sessions,
        paid_engaged_sessions,
        {{ safe_divide('paid_engaged_sessions', 'paid_sessions') }} as paid_engagement_rate,
        paid_key_events,
        {{ safe_divide('paid_key_events', 'paid_sessions') }} as paid_conversion_rate,
        paid_purchases,
        paid_revenue,

        -- organic social (Organic Social + Influencer)
        organic_sessions,
        organic_engaged_sessions,
        {{ safe_divide('organic_engaged_sessions', 'organic_sessions') }} as organic_engagement_rate,
        organic_key_events,
        {{ safe_divide('organic_key_events', 'organic_sessions') }} as organic_conversion_rate,
        organic_purchases,
        organic_revenue,

        -- of which influencer
        influencer_sessions,
        influencer_engaged_sessions,
        influencer_key_events,
        influencer_purchases,
        influencer_revenue,

        -- the split
        social_sessions,
        {{ safe_divide('paid_sessions', 'social_sessions') }} as paid_share_of_sessions

    from sides
)

select * from final
