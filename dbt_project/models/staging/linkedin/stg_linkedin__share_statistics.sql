{#- Organization page share statistics, one row per organization and UTC day (as in raw). -#}

with

source as (
    select * from {{ source('linkedin', 'share_statistics') }}
),

renamed as (
    select
        -- ids
        {{ dbt.split_part('organization', "':'", 4) }} as organization_id,
        organization as organization_urn,

        -- strings: LinkedIn's days are UTC days
        'UTC' as account_timezone,

        -- dates
        date as date_day,

        -- numerics
        cast(impression_count as {{ dbt.type_bigint() }}) as impressions,
        cast(unique_impressions_count as {{ dbt.type_bigint() }}) as unique_impressions,
        cast(click_count as {{ dbt.type_bigint() }}) as clicks,
        cast(like_count as {{ dbt.type_bigint() }}) as likes,
        cast(comment_count as {{ dbt.type_bigint() }}) as comments,
        cast(share_count as {{ dbt.type_bigint() }}) as shares,
        cast(share_mentions_count as {{ dbt.type_bigint() }}) as share_mentions,
        cast(comment_mentions_count as {{ dbt.type_bigint() }}) as comment_mentions,
        -- LinkedIn's own rate: (clicks + likes + comments + shares) / impressions
        cast(engagement as double) as engagement_rate,

        -- metadata
        _load_id,
        _loaded_at

    from source
)

select * from renamed
