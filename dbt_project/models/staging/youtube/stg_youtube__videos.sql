{#- The channels' videos, one row per video (the raw table is merged on id), with their
    current lifetime statistics (strings in the Data API, typed here). `description` is the
    channel's own text, kept for the hashtag topic tags (int_post_topic_tags); it goes no
    further. -#}

with

source as (
    select * from {{ source('youtube', 'videos') }}
),

renamed as (
    select
        -- ids
        id as video_id,
        channel_id,

        -- strings
        title,
        {{ json_text('snippet', '$.description') }} as description,
        {{ json_text('snippet', '$.tags') }} as tags_json,
        duration as duration_iso8601,

        -- numerics: lifetime statistics as of the latest read
        {{ dbt.safe_cast('view_count', dbt.type_bigint()) }} as view_count,
        {{ dbt.safe_cast('like_count', dbt.type_bigint()) }} as like_count,
        {{ dbt.safe_cast('comment_count', dbt.type_bigint()) }} as comment_count,

        -- timestamps (UTC) and the day in the reporting time zone
        {{ to_utc_timestamp('published_at') }} as published_at,
        {{ reporting_date(to_utc_timestamp('published_at')) }} as published_date,

        -- metadata
        _load_id,
        _loaded_at

    from source
)

select * from renamed
