{#- Ad performance per day, platform, ad account and campaign across Meta, Google and LinkedIn
    Ads: one CTE per platform mapping its fields, then `union all`; then the team's campaign
    mapping and the dated FX rate of the day.
    - `date_day` is the day as the platform reports it, in the account's time zone (Meta: the
      ad account's, Google: the customer's, LinkedIn: UTC); the FX rate is that day's.
    - Spend is summed exactly (`spend_micros`, millionths of the account currency) and rounded
      to the currency's minor units once per row; `spend_reporting` converts the exact amount,
      then rounds. Sums of the rounded columns can differ from the rounded sum of the exact
      amounts by at most half a minor unit per row.
    - Reach only where the platform reports it at this grain: Meta's reach is per ad and
      cannot be added up to a campaign, Google reports none, LinkedIn's approximateMemberReach
      when the extractor asks for it. -#}

{%- set reporting = var('reporting_currency') -%}

with

meta_accounts as (
    select * from {{ ref('stg_meta_ads__ad_accounts') }}
),

meta as (
    select
        insights.date_day,
        'meta_ads' as platform,
        -- Meta's insights are not split by publisher platform here (Facebook and Instagram together)
        'meta' as social_platform,
        insights.account_id,
        max(meta_accounts.account_timezone) as account_timezone,
        insights.campaign_id,
        insights.currency,
        cast(sum(insights.spend * 1000000) as {{ dbt.type_bigint() }}) as spend_micros,
        sum(insights.impressions) as impressions,
        sum(insights.clicks) as clicks,
        cast(null as {{ dbt.type_bigint() }}) as reach,
        sum(insights.conversions) as platform_conversions,
        sum(insights.conversion_value) as platform_conversion_value,
        sum(insights.leads) as platform_leads
    from {{ ref('stg_meta_ads__ads_insights') }} as insights
    left join meta_accounts on insights.account_id = meta_accounts.account_id
    group by insights.date_day, insights.account_id, insights.campaign_id, insights.currency
),

google as (
    select
        date_day,
        'google_ads' as platform,
        -- search campaigns do not run on a social network
        cast(null as {{ dbt.type_string() }}) as social_platform,
        customer_id as account_id,
        max(account_timezone) as account_timezone,
        campaign_id,
        currency,
        sum(cost_micros) as spend_micros,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        cast(null as {{ dbt.type_bigint() }}) as reach,
        sum(conversions) as platform_conversions,
        sum(conversions_value) as platform_conversion_value,
        -- lead conversions are not reported apart from the other conversions
        cast(null as {{ dbt.type_bigint() }}) as platform_leads
    from {{ ref('stg_google_ads__ad_group_daily') }}
    group by date_day, customer_id, campaign_id, currency
),

linkedin as (
    select
        date_day,
        'linkedin_ads' as platform,
        'linkedin' as social_platform,
        account_id,
        account_timezone,
        campaign_id,
        currency,
        cast(cost * 1000000 as {{ dbt.type_bigint() }}) as spend_micros,
        impressions,
        clicks,
        approximate_member_reach as reach,
        cast(external_website_conversions as double) as platform_conversions,
        conversion_value as platform_conversion_value,
        one_click_leads as platform_leads
    from {{ ref('stg_linkedin_ads__ad_analytics_by_campaign') }}
),

unioned as (
    select * from meta
    union all
    select * from google
    union all
    select * from linkedin
),

campaigns as (
    select * from {{ ref('int_campaigns_mapped') }}
),

fx as (
    select * from {{ ref('int_fx_rates_daily') }}
),

final as (
    select
        -- keys
        unioned.date_day,
        unioned.platform,
        unioned.account_id,
        unioned.campaign_id,

        -- attributes
        unioned.social_platform,
        unioned.account_timezone,
        campaigns.campaign_name,
        campaigns.campaign_key,
        campaigns.utm_campaign,
        unioned.currency,

        -- money in the account's `currency`
        {{ to_money('unioned.spend_micros / 1000000.0', 'unioned.currency') }} as spend,
        cast(unioned.spend_micros as {{ dbt.type_bigint() }}) as spend_micros,
        {{ to_money('unioned.platform_conversion_value', 'unioned.currency') }} as platform_conversion_value,

        -- money in the reporting currency at the day's rate
        '{{ reporting }}' as reporting_currency,
        {{ to_money('unioned.spend_micros / 1000000.0 / fx.rate_per_reporting', "'" ~ reporting ~ "'") }} as spend_reporting,
        {{ to_money('unioned.platform_conversion_value / fx.rate_per_reporting', "'" ~ reporting ~ "'") }} as platform_conversion_value_reporting,
        fx.rate_per_reporting as fx_rate,
        fx.rate_date as fx_rate_date,

        -- counts
        cast(unioned.impressions as {{ dbt.type_bigint() }}) as impressions,
        cast(unioned.clicks as {{ dbt.type_bigint() }}) as clicks,
        cast(unioned.reach as {{ dbt.type_bigint() }}) as reach,
        cast(unioned.platform_conversions as double) as platform_conversions,
        cast(unioned.platform_leads as {{ dbt.type_bigint() }}) as platform_leads

    from unioned
    left join campaigns
        on unioned.platform = campaigns.platform
        and unioned.account_id = campaigns.account_id
        and unioned.campaign_id = campaigns.campaign_id
    left join fx
        on unioned.date_day = fx.date_day
        and unioned.currency = fx.currency
)

select * from final
