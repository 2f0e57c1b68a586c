{#- Lifetime metrics of the brand's X posts, one row per snapshot day and post (as in raw).
    Non-public metrics (link and profile clicks) exist only for posts under 30 days old: null
    (not 0) when X left them out. -#}

with

source as (
    select * from {{ source('x', 'post_metrics') }}
),

renamed as (
    select
        -- ids
        id as post_id,
        author_id,

        -- dates: the day the lifetime values were read (the partition day of the load)
        snapshot_date,

        -- numerics: lifetime values as of the snapshot
        cast(impression_count as {{ dbt.type_bigint() }}) as impressions,
        cast(like_count as {{ dbt.type_bigint() }}) as likes,
        cast(reply_count as {{ dbt.type_bigint() }}) as replies,
        cast(retweet_count as {{ dbt.type_bigint() }}) as retweets,
        cast(quote_count as {{ dbt.type_bigint() }}) as quotes,
        cast(bookmark_count as {{ dbt.type_bigint() }}) as bookmarks,
        cast(url_link_clicks as {{ dbt.type_bigint() }}) as url_link_clicks,
        cast(user_profile_clicks as {{ dbt.type_bigint() }}) as user_profile_clicks,

        -- timestamps (UTC)
        {{ to_utc_timestamp('created_at') }} as created_at,

        -- metadata
        _load_id,
        _loaded_at

    from source
)

select * from renamed
