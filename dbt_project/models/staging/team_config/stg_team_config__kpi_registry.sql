with

source as (
    select * from {{ source('team_config', 'kpi_registry') }}
),

renamed as (
    select
        -- ids
        kpi,

        -- strings
        name as kpi_name,
        definition,
        unit,
        direction,
        owner,

        -- numerics
        cast(catalogue_row as {{ dbt.type_int() }}) as catalogue_row,

        -- metadata
        _load_id,
        _loaded_at

    from source
)

select * from renamed
