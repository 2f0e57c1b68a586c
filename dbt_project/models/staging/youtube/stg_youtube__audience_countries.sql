{#- A channel's views by viewer country over a trailing window, one row per snapshot day,
    channel and country (as in raw). -#}

with

source as (
    select * from {{ source('youtube', 'audience_country') }}
),

renamed as (
    select
        -- ids
        channel_id,

        -- strings: ISO 3166-1 alpha-2 country code
        country,

        -- dates: the window's last day (the snapshot day) and first day
        snapshot_date,
        start_date as window_start_date,

        -- numerics
        cast(views as {{ dbt.type_bigint() }}) as views,
        cast(estimatedMinutesWatched as {{ dbt.type_bigint() }}) as watch_minutes,

        -- metadata
        _load_id,
        _loaded_at

    from source
)

select * from renamed
