with

source as (
    select * from {{ source('google_ads', 'customer_daily') }}
),

renamed as (
    select
        -- ids
        customer_id,
        customer as customer_resource_name,

        -- strings
        currency_code as currency,
        time_zone as account_timezone,

        -- dates (the customer's own time zone)
        segments_date as date_day,

        -- numerics (zero metrics are omitted by the API)
        cast(coalesce(cost_micros, 0) as {{ dbt.type_bigint() }}) as cost_micros,
        {{ to_money('coalesce(cost_micros, 0) / 1000000.0', 'currency_code') }} as cost,
        cast(coalesce(impressions, 0) as {{ dbt.type_bigint() }}) as impressions,
        cast(coalesce(clicks, 0) as {{ dbt.type_bigint() }}) as clicks,
        cast(coalesce(conversions, 0) as double) as conversions,
        {{ to_money('coalesce(conversions_value, 0)', 'currency_code') }} as conversions_value,

        -- metadata
        _load_id,
        _loaded_at

    from source
)

select * from renamed
