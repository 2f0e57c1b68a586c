{#- One row per (deal, contact) association: raw is merged on that pair. -#}

with

source as (
    select * from {{ source('hubspot', 'deal_contacts') }}
),

renamed as (
    select
        -- ids
        deal_id,
        contact_id,

        -- strings: the association types as HubSpot sent them (a JSON array of
        -- {category, typeId, label}); deal -> contact is HUBSPOT_DEFINED typeId 3
        cast(association_types as {{ dbt.type_string() }}) as association_types,

        -- timestamps (UTC): the parent deal's last modification, which dates the row's load
        {{ to_utc_timestamp(json_text('_record', '$.deal_lastmodifieddate')) }} as deal_last_modified_at,

        -- metadata
        _load_id,
        _loaded_at

    from source
)

select * from renamed
