with

source as (
    select * from {{ source('instagram', 'follower_demographics') }}
),

renamed as (
    select
        -- ids
        ig_user_id,

        -- strings: the breakdown (country, age, gender; comma-joined when several were asked)
        -- and its value (ISO country code, age band such as 25-34, gender F/M/U)
        breakdown,
        dimension_value,

        -- dates: the day the snapshot was read
        snapshot_date,

        -- numerics: followers in that group (lifetime, as of the snapshot)
        cast(value as {{ dbt.type_bigint() }}) as followers,

        -- metadata
        _load_id,
        _loaded_at

    from source
)

select * from renamed
