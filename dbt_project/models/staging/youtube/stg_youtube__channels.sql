{#- Snapshots of the brand's YouTube channels, one row per snapshot day and channel (as in
    raw). The Data API sends counts as strings; `subscriber_count` is rounded by YouTube to
    three significant figures (8,675 is sent as 8670). -#}

with

source as (
    select * from {{ source('youtube', 'channels') }}
),

renamed as (
    select
        -- ids
        id as channel_id,
        uploads_playlist_id,

        -- strings
        title,
        country,

        -- booleans
        hidden_subscriber_count,

        -- dates: the day the snapshot was read
        snapshot_date,

        -- numerics
        {{ dbt.safe_cast('view_count', dbt.type_bigint()) }} as view_count,
        {{ dbt.safe_cast('subscriber_count', dbt.type_bigint()) }} as subscriber_count,
        {{ dbt.safe_cast('video_count', dbt.type_bigint()) }} as video_count,

        -- metadata
        _load_id,
        _loaded_at

    from source
)

select * from renamed
