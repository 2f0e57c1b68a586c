{#- The organization's follower total as read each day, one row per organization and snapshot
    day (as in raw). -#}

with

source as (
    select * from {{ source('linkedin', 'network_size') }}
),

renamed as (
    select
        -- ids
        {{ dbt.split_part('organization', "':'", 4) }} as organization_id,
        organization as organization_urn,

        -- dates: the day the snapshot was read
        snapshot_date,

        -- numerics
        cast(first_degree_size as {{ dbt.type_bigint() }}) as followers_total,

        -- metadata
        _load_id,
        _loaded_at

    from source
)

select * from renamed
