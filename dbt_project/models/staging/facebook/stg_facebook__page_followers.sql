with

source as (
    select * from {{ source('facebook', 'page_followers') }}
),

renamed as (
    select
        -- ids
        page_id,

        -- strings
        name as page_name,

        -- dates: the day the snapshot was read
        snapshot_date,

        -- numerics
        cast(followers_count as {{ dbt.type_bigint() }}) as followers_count,
        cast(fan_count as {{ dbt.type_bigint() }}) as fan_count,

        -- metadata
        _load_id,
        _loaded_at

    from source
)

select * from renamed
