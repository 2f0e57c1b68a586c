{#- Metrics the API leaves out because they are zero are 0 here, not null. Cost stays exact in
    micros (millionths of the account currency) beside the rounded money column: a sum over
    ad groups or days is taken in micros and rounded once. -#}

with

source as (
    select * from {{ source('google_ads', 'ad_group_daily') }}
),

renamed as (
    select
        -- ids
        customer_id,
        campaign_id,
        ad_group_id,

        -- strings
        campaign_name,
        ad_group_name,
        currency_code as currency,
        time_zone as account_timezone,

        -- dates (the customer's own time zone, as Google reports them)
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
