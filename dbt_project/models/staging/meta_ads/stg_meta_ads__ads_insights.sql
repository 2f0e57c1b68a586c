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

        -- numerics: the API sends strings; a value that does not parse becomes null here and
        -- fails the raw-table Great Expectations check, so it cannot pass silently
        try_cast(spend as decimal(18, 4)) as spend,
        try_cast(impressions as bigint) as impressions,
        try_cast(clicks as bigint) as clicks,
        {{ meta_action_sum('actions', var('meta_conversion_action_types'), 'decimal(18, 4)') }} as conversions,
        {{ meta_action_sum('action_values', var('meta_conversion_action_types'), 'decimal(18, 4)') }} as conversion_value,

        -- metadata
        _load_id,
        _loaded_at

    from source
)

select * from renamed
