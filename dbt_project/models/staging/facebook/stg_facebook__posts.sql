{#- Facebook Page posts, one row per post (the raw table holds one row per id: a re-read
    replaces it). The counts here are the post object's live counts as of the latest read;
    lifetime metrics over time are in stg_facebook__post_insights. `message` is the Page's own
    text, kept for the hashtag topic tags (int_post_topic_tags); it goes no further. -#}

with

source as (
    select * from {{ source('facebook', 'posts') }}
),

renamed as (
    select
        -- ids
        id as post_id,
        page_id,

        -- strings
        status_type,
        permalink_url,
        message,
        {{ json_text('_record', '$.full_picture') }} as full_picture_url,

        -- booleans
        coalesce(is_published, true) as is_published,

        -- numerics: live counts as of the latest read (Graph leaves `shares` out when 0)
        cast(coalesce(shares_count, 0) as {{ dbt.type_bigint() }}) as shares_count,
        cast(reactions_total as {{ dbt.type_bigint() }}) as reactions_count,
        cast(comments_total as {{ dbt.type_bigint() }}) as comments_count,

        -- timestamps (UTC) and the day in the reporting time zone
        {{ to_utc_timestamp('created_time') }} as created_at,
        {{ reporting_date(to_utc_timestamp('created_time')) }} as created_date,
        {{ to_utc_timestamp('updated_time') }} as updated_at,

        -- metadata
        _load_id,
        _loaded_at

    from source
)

select * from renamed
