with

source as (
    select * from {{ source('team_config', 'fx_rates') }}
),

renamed as (
    select
        -- ids
        date as rate_date,
        upper(trim(base)) as base_currency,
        upper(trim(currency)) as currency,

        -- numerics: units of `currency` per 1 unit of `base_currency`
        cast(rate as double) as rate,

        -- metadata
        {{ json_text('_record', '$.source_file') }} as source_file,
        cast({{ json_text('_record', '$.source_line') }} as {{ dbt.type_int() }}) as source_line,
        _load_id,
        _loaded_at

    from source
)

select * from renamed
