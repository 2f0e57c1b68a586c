with

source as (
    select * from {{ source('instagram', 'account_followers') }}
),

renamed as (
    select
        -- ids
        ig_user_id,

        -- strings (the brand's own account)
        username,

        -- dates: the day the snapshot was read
        snapshot_date,

        -- numerics
        cast(followers_count as {{ dbt.type_bigint() }}) as followers_count,
        cast(follows_count as {{ dbt.type_bigint() }}) as follows_count,
        cast(media_count as {{ dbt.type_bigint() }}) as media_count,

        -- metadata
        _load_id,
        _loaded_at

    from source
)

select * from renamed
