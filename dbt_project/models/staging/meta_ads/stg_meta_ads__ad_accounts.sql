with

source as (
    select * from {{ source('meta_ads', 'ad_accounts') }}
),

renamed as (
    select
        -- ids
        account_id,

        -- strings
        name as account_name,
        currency,
        timezone_name as account_timezone,

        -- metadata
        _load_id,
        _loaded_at

    from source
)

select * from renamed
