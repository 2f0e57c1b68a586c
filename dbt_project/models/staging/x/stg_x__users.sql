{#- Snapshots of the brand's X accounts (never private people: the stream reads the configured
    accounts only), one row per snapshot day and account. -#}

with

source as (
    select * from {{ source('x', 'users') }}
),

renamed as (
    select
        -- ids
        id as user_id,

        -- strings
        username,
        name as display_name,

        -- dates: the day the snapshot was read
        snapshot_date,

        -- numerics
        cast(followers_count as {{ dbt.type_bigint() }}) as followers_count,
        cast(following_count as {{ dbt.type_bigint() }}) as following_count,
        cast(tweet_count as {{ dbt.type_bigint() }}) as tweet_count,
        cast(listed_count as {{ dbt.type_bigint() }}) as listed_count,

        -- metadata
        _load_id,
        _loaded_at

    from source
)

select * from renamed
