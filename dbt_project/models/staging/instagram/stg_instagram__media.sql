{#- Instagram feed posts and reels, one row per media (stories are not on the /media edge).
    `like_count` and `comments_count` are the live counts as of the latest read; lifetime
    metrics over time are in stg_instagram__media_insights. `caption` is the account's own
    text, kept for the hashtag topic tags (int_post_topic_tags); it goes no further. -#}

with

source as (
    select * from {{ source('instagram', 'media') }}
),

renamed as (
    select
        -- ids
        id as media_id,
        ig_user_id,

        -- strings
        media_type,
        media_product_type,
        caption,
        permalink,
        {{ json_text('_record', '$.shortcode') }} as shortcode,

        -- numerics: live counts as of the latest read
        cast(like_count as {{ dbt.type_bigint() }}) as like_count,
        cast(comments_count as {{ dbt.type_bigint() }}) as comments_count,

        -- timestamps (UTC) and the day in the reporting time zone
        {{ to_utc_timestamp('timestamp') }} as posted_at,
        {{ reporting_date(to_utc_timestamp('timestamp')) }} as posted_date,

        -- metadata
        _load_id,
        _loaded_at

    from source
)

select * from renamed
