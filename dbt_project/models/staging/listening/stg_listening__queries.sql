{#- One row per listening query (raw is merged on `id`). The entity is the competitor set's
    handle the query listens for, so mentions join to the brand or a competitor. -#}

with

source as (
    select * from {{ source('listening', 'queries') }}
),

renamed as (
    select
        -- ids
        id as query_id,

        -- strings
        name as query_name,
        lower(trim(type)) as query_type,
        lower(trim(entity)) as entity,
        boolean_query,

        -- booleans
        lower(trim(type)) = 'brand' as is_brand_query,

        -- metadata
        _load_id,
        _loaded_at

    from source
)

select * from renamed
