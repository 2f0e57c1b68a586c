{{
    config(
        materialized='incremental',
        incremental_strategy=window_strategy(),
        unique_key='date_day',
        meta={'window_column': 'date_day'},
        on_schema_change='fail',
    )
}}

{#- CPA, ROI and cost per lead per day, ad platform and campaign (utm_campaign): ad spend in
    the reporting currency (int_ad_performance_daily, every account and platform campaign of
    the team's campaign summed) beside the CRM's deduplicated outcomes of the contacts the
    platform and campaign acquired (their original source: HubSpot's first-touch attribution)
    and the platform's own conversion figures.
    - Leads on the day they became leads; new customers on their first purchase (a customer
      counted once, whatever their later purchases or contact records); attributed revenue:
      every won deal of those customers, first and repeat, on its close day.
    - Days: the ad account's day for spend (as the platform reports it), the reporting time
      zone's day for CRM outcomes.
    - A CRM outcome of a platform and campaign with no spend that day gets a row with spend 0
      (and null CPA, ROAS, ROI); a spend row with no outcome has zero leads and customers.
    Every input is dated by an event, so the run's window of days rebuilds exactly. -#}

{%- set reporting = var('reporting_currency') -%}

with

ads as (
    select
        date_day,
        platform,
        coalesce(utm_campaign, '(not mapped)') as utm_campaign,
        account_id,
        currency,
        fx_rate,
        spend_reporting,
        platform_conversion_value_reporting,
        impressions,
        clicks,
        platform_conversions,
        fx_rate_date
    from {{ ref('int_ad_performance_daily') }}
    where {{ in_run_window('date_day') }}
),

-- one row per account first, so the account list names each account once, in order
account_days as (
    select
        date_day,
        platform,
        utm_campaign,
        account_id,
        max(currency) as currency,
        min(fx_rate) as min_fx_rate,
        max(fx_rate) as max_fx_rate,
        max(fx_rate_date) as fx_rate_date,
        sum(spend_reporting) as spend_reporting,
        sum(platform_conversion_value_reporting) as platform_conversion_value_reporting,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        sum(platform_conversions) as platform_conversions
    from ads
    group by date_day, platform, utm_campaign, account_id
),

ad_days as (
    select
        date_day,
        platform,
        utm_campaign,
        {{ dbt.listagg('account_id', "', '", 'order by account_id') }} as account_ids,
        case when min(currency) = max(currency) then min(currency) end as account_currency,
        case when min(currency) = max(currency) and min(min_fx_rate) = max(max_fx_rate) then min(min_fx_rate) end as fx_rate,
        max(fx_rate_date) as fx_rate_date,
        sum(spend_reporting) as spend_reporting,
        sum(platform_conversion_value_reporting) as platform_conversion_value_reporting,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        sum(platform_conversions) as platform_conversions
    from account_days
    group by date_day, platform, utm_campaign
),

contacts as (
    select * from {{ ref('int_crm_contacts') }}
    where ad_platform is not null
),

lead_days as (
    select
        became_lead_date as date_day,
        ad_platform as platform,
        coalesce(utm_campaign, '(not set)') as utm_campaign,
        count(*) as leads
    from contacts
    where is_lead and {{ in_run_window('became_lead_date') }}
    group by became_lead_date, ad_platform, coalesce(utm_campaign, '(not set)')
),

purchases as (
    select
        deals.closed_date as date_day,
        contacts.ad_platform as platform,
        coalesce(contacts.utm_campaign, '(not set)') as utm_campaign,
        deals.is_first_purchase,
        deals.amount_reporting
    from {{ ref('int_crm_deals') }} as deals
    inner join contacts
        on deals.customer_key = contacts.customer_key
        and contacts.is_new_customer
    where deals.is_purchase and {{ in_run_window('deals.closed_date') }}
),

purchase_days as (
    select
        date_day,
        platform,
        utm_campaign,
        sum(case when is_first_purchase then 1 else 0 end) as new_customers,
        sum(case when is_first_purchase then amount_reporting else 0 end) as new_customer_revenue,
        sum(amount_reporting) as attributed_revenue
    from purchases
    group by date_day, platform, utm_campaign
),

keys as (
    select date_day, platform, utm_campaign from ad_days
    union
    select date_day, platform, utm_campaign from lead_days
    union
    select date_day, platform, utm_campaign from purchase_days
),

joined as (
    select
        keys.date_day,
        keys.platform,
        keys.utm_campaign,
        ad_days.account_ids,
        ad_days.account_currency,
        ad_days.fx_rate,
        ad_days.fx_rate_date,
        coalesce(ad_days.spend_reporting, 0) as spend_reporting,
        coalesce(ad_days.platform_conversion_value_reporting, 0) as platform_conversion_value_reporting,
        coalesce(ad_days.impressions, 0) as impressions,
        coalesce(ad_days.clicks, 0) as clicks,
        coalesce(ad_days.platform_conversions, 0) as platform_conversions,
        coalesce(lead_days.leads, 0) as leads,
        coalesce(purchase_days.new_customers, 0) as new_customers,
        coalesce(purchase_days.new_customer_revenue, 0) as new_customer_revenue,
        coalesce(purchase_days.attributed_revenue, 0) as attributed_revenue
    from keys
    left join ad_days
        on keys.date_day = ad_days.date_day and keys.platform = ad_days.platform
        and keys.utm_campaign = ad_days.utm_campaign
    left join lead_days
        on keys.date_day = lead_days.date_day and keys.platform = lead_days.platform
        and keys.utm_campaign = lead_days.utm_campaign
    left join purchase_days
        on keys.date_day = purchase_days.date_day and keys.platform = purchase_days.platform
        and keys.utm_campaign = purchase_days.utm_campaign
),

final as (
    select
        -- keys
        date_day,
        platform,
        utm_campaign,

        -- attributes
        account_ids,
        account_currency,
        '{{ reporting }}' as reporting_currency,
        fx_rate,
        fx_rate_date,

        -- ad platform measures (reporting currency)
        cast(spend_reporting as decimal(18, 2)) as spend_reporting,
        cast(impressions as {{ dbt.type_bigint() }}) as impressions,
        cast(clicks as {{ dbt.type_bigint() }}) as clicks,
        cast(platform_conversions as double) as platform_conversions,
        cast(platform_conversion_value_reporting as decimal(18, 2)) as platform_conversion_value_reporting,

        -- CRM measures (deduplicated)
        cast(leads as {{ dbt.type_bigint() }}) as leads,
        cast(new_customers as {{ dbt.type_bigint() }}) as new_customers,
        cast(new_customer_revenue as decimal(18, 2)) as new_customer_revenue,
        cast(attributed_revenue as decimal(18, 2)) as attributed_revenue,

        -- rates: numerators and denominators are the measures above
        {{ safe_divide('spend_reporting', 'leads') }} as cost_per_lead,
        {{ safe_divide('spend_reporting', 'new_customers') }} as cpa,
        {{ safe_divide('attributed_revenue', 'spend_reporting') }} as roas,
        {{ safe_divide('attributed_revenue - spend_reporting', 'spend_reporting') }} as roi,
        {{ safe_divide('spend_reporting', 'platform_conversions') }} as platform_cpa,
        {{ safe_divide('platform_conversion_value_reporting', 'spend_reporting') }} as platform_roas

    from joined
)

select * from final
