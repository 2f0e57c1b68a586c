with

source as (
    select * from {{ source('team_config', 'competitors') }}
),

renamed as (
    select
        -- ids
        set_version,
        entity,

        -- strings (company names and public brand handles, not people)
        name as entity_name,
        handle,

        -- booleans
        is_brand,

        -- dates
        valid_from,
        valid_to,

        -- metadata
        _load_id,
        _loaded_at

    from source
)

select * from renamed
