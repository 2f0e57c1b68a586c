with

source as (
    select * from {{ source('google_ads', 'campaigns') }}
),

renamed as (
    select
        -- ids
        customer_id,
        campaign_id,

        -- strings
        name as campaign_name,
        status,
        advertising_channel_type,
        serving_status,

        -- metadata
        _load_id,
        _loaded_at

    from source
)

select * from renamed
