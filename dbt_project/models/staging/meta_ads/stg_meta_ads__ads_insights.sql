with

source as (
    select * from {{ source('meta_ads', 'ads_insights') }}
),

renamed as (
    select
        -- ids
        account_id,
        campaign_id,
        adset_id,
        ad_id,

        -- strings
        campaign_name,
        account_currency as currency,

        -- dates (the ad account's own time zone, as Meta reports them)
        date_start as date_day,

        -- numerics: the API sends strings. Counts BIGINT, money rounded to the currency's minor
        -- units, conversions DOUBLE (a count of actions; other platforms report fractions)
        {{ to_money('spend', 'account_currency') }} as spend,
        {{ dbt.safe_cast('impressions', dbt.type_bigint()) }} as impressions,
        {{ dbt.safe_cast('clicks', dbt.type_bigint()) }} as clicks,
        -- unique people reached by this ad on this day: only when the extractor asks for `reach`
        -- (null otherwise); not additive across ads or days
        cast({{ json_text('_record', '$.reach') }} as {{ dbt.type_bigint() }}) as reach,
        cast({{ meta_action_sum('actions', var('meta_conversion_action_types'), 'double') }} as double) as conversions,
        -- leads: actions of the types in the var `meta_lead_action_types` (default: Meta's `lead`)
        cast({{ meta_action_sum('actions', var('meta_lead_action_types', ['lead']), 'double') }} as {{ dbt.type_bigint() }}) as leads,
        {{ to_money(meta_action_sum('action_values', var('meta_conversion_action_types'), 'decimal(18, 4)'), 'account_currency') }} as conversion_value,

        -- metadata
        _load_id,
        _loaded_at

    from source
)

select * from renamed
