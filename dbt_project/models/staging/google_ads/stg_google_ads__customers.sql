with

source as (
    select * from {{ source('google_ads', 'customers') }}
),

renamed as (
    select
        -- ids
        customer_id,

        -- strings
        descriptive_name as account_name,
        currency_code as currency,
        time_zone as account_timezone,
        status,

        -- booleans (false is omitted by the API)
        coalesce(manager, false) as is_manager,

        -- metadata
        _load_id,
        _loaded_at

    from source
)

select * from renamed
