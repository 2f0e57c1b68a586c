{#- A channel's viewers by age group and gender over a trailing window, one row per snapshot
    day, channel, age group and gender (as in raw). `viewer_percentage` is a percentage of the
    window's views (YouTube rounds it to 0.1, so a day's cells sum to about 100). -#}

with

source as (
    select * from {{ source('youtube', 'audience_age_gender') }}
),

renamed as (
    select
        -- ids
        channel_id,

        -- strings: YouTube's values (age13-17 ... age65-; female, male, user_specified)
        age_group,
        gender,

        -- dates: the window's last day (the snapshot day) and first day
        snapshot_date,
        start_date as window_start_date,

        -- numerics
        cast(viewer_percentage as double) as viewer_percentage,

        -- metadata
        _load_id,
        _loaded_at

    from source
)

select * from renamed
