{#- LinkedIn sends money without its currency: `costInLocalCurrency` is in the ad account's
    currency, found through the campaign (ad_campaigns.account -> ad_accounts.currency), so
    the money columns are typed after that lookup. The day comes from the element's
    `dateRange` ({year, month, day}, a UTC day); the loader's `date` is the fallback. -#}

with

source as (
    select * from {{ source('linkedin', 'ad_analytics_by_campaign') }}
),

campaigns as (
    select
        campaign_id,
        {{ dbt.split_part('account', "':'", 4) }} as account_id
    from {{ source('linkedin', 'ad_campaigns') }}
),

accounts as (
    select account_id, upper(currency) as currency
    from {{ source('linkedin', 'ad_accounts') }}
),

with_account as (
    select
        source.*,
        {{ dbt.split_part('source.campaign', "':'", 4) }} as campaign_id,
        campaigns.account_id,
        accounts.currency
    from source
    left join campaigns on {{ dbt.split_part('source.campaign', "':'", 4) }} = campaigns.campaign_id
    left join accounts on campaigns.account_id = accounts.account_id
),

renamed as (
    select
        -- ids
        campaign_id,
        campaign as campaign_urn,
        account_id,

        -- strings
        currency,
        'UTC' as account_timezone,

        -- dates (UTC days, as LinkedIn reports them)
        coalesce(
            {{ date_from_parts(json_text('_record', '$.dateRange.start.year'),
                               json_text('_record', '$.dateRange.start.month'),
                               json_text('_record', '$.dateRange.start.day')) }},
            date
        ) as date_day,
        {{ date_from_parts(json_text('_record', '$.dateRange.end.year'),
                           json_text('_record', '$.dateRange.end.month'),
                           json_text('_record', '$.dateRange.end.day')) }} as date_range_end,

        -- numerics: counts (LinkedIn sends 0, but a metric not asked for is absent: 0 here)
        cast(coalesce(impressions, 0) as {{ dbt.type_bigint() }}) as impressions,
        cast(coalesce(clicks, 0) as {{ dbt.type_bigint() }}) as clicks,
        cast(coalesce(landing_page_clicks, 0) as {{ dbt.type_bigint() }}) as landing_page_clicks,
        cast(coalesce(external_website_conversions, 0) as {{ dbt.type_bigint() }}) as external_website_conversions,
        cast(coalesce(one_click_leads, 0) as {{ dbt.type_bigint() }}) as one_click_leads,
        cast(coalesce(likes, 0) as {{ dbt.type_bigint() }}) as likes,
        cast(coalesce(comments, 0) as {{ dbt.type_bigint() }}) as comments,
        cast(coalesce(shares, 0) as {{ dbt.type_bigint() }}) as shares,
        cast(coalesce(follows, 0) as {{ dbt.type_bigint() }}) as follows,
        cast(coalesce(total_engagements, 0) as {{ dbt.type_bigint() }}) as total_engagements,
        -- unique members reached: only when asked for (approximateMemberReach); null otherwise
        cast({{ json_text('_record', '$.approximateMemberReach') }} as {{ dbt.type_bigint() }}) as approximate_member_reach,

        -- money: in `currency` (the account's), and in USD as LinkedIn converts it
        {{ to_money('coalesce(cost_in_local_currency, \'0\')', 'currency') }} as cost,
        {{ to_money('coalesce(conversion_value_in_local_currency, \'0\')', 'currency') }} as conversion_value,
        {{ to_money('coalesce(cost_in_usd, \'0\')', "'USD'") }} as cost_usd,

        -- metadata
        _load_id,
        _loaded_at

    from with_account
)

select * from renamed
