with

source as (
    select * from {{ source('linkedin', 'ad_accounts') }}
),

renamed as (
    select
        -- ids
        account_id,
        reference as organization_urn,

        -- strings
        name as account_name,
        upper(currency) as currency,
        status,
        type as account_type,
        -- LinkedIn reports ad analytics by UTC day whatever the account's settings
        'UTC' as account_timezone,

        -- booleans
        coalesce(test, false) as is_test,

        -- metadata
        _load_id,
        _loaded_at

    from source
)

select * from renamed
