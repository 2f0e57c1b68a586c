{#- YouTube Analytics per channel and day (as in raw). YouTube reports on Pacific-time days:
    `date_day` is that day and `account_timezone` names the zone. A day without views has no
    row. -#}

with

source as (
    select * from {{ source('youtube', 'channel_analytics_daily') }}
),

renamed as (
    select
        -- ids
        channel_id,

        -- strings
        'America/Los_Angeles' as account_timezone,

        -- dates
        day as date_day,

        -- numerics
        cast(views as {{ dbt.type_bigint() }}) as views,
        cast(likes as {{ dbt.type_bigint() }}) as likes,
        cast(comments as {{ dbt.type_bigint() }}) as comments,
        cast(estimatedMinutesWatched as {{ dbt.type_bigint() }}) as watch_minutes,
        cast(subscribersGained as {{ dbt.type_bigint() }}) as subscribers_gained,
        cast(subscribersLost as {{ dbt.type_bigint() }}) as subscribers_lost,

        -- metadata
        _load_id,
        _loaded_at

    from source
)

select * from renamed
