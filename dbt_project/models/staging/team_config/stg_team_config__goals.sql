with

source as (
    select * from {{ source('team_config', 'goals') }}
),

renamed as (
    select
        -- ids
        goal_id,

        -- strings
        period,
        kpi,
        direction,
        owner,

        -- numerics: in the KPI's unit (kpi_registry.unit)
        cast(target as double) as target,

        -- metadata
        _load_id,
        _loaded_at

    from source
)

select * from renamed
