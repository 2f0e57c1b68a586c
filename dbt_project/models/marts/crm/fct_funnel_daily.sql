{{
    config(
        materialized='incremental',
        incremental_strategy=window_strategy(),
        unique_key='date_day',
        meta={'window_column': 'date_day'},
        on_schema_change='fail',
    )
}}

{#- The marketing funnel per day, channel group and campaign: impressions and clicks (paid:
    the ad platforms; organic social: the accounts' own), sessions (web analytics), then the
    CRM's leads, MQLs, SQLs and new customers of contacts acquired through that channel and
    campaign. Every step is counted on the day it happened (an event count, so any period's
    total is the sum of its days): a step rate compares two steps of the same period, not a
    cohort of the same people (cohort conversion of leads is in fct_leads_daily).
    - Channel groups are the shared vocabulary (macro channel_group): Meta and LinkedIn Ads are
      Paid Social, Google Ads is Paid Search; the organic accounts' metrics are Organic Social.
    - Campaign: the utm_campaign; '(not set)' when there is none (GA4's labels in parentheses,
      such as `(organic)` and `(referral)`, untagged contacts, organic account metrics).
    - Days: the ad account's (ads), the property's (web) and the reporting time zone's (CRM,
      organic accounts as they report). -#}

with

ads as (
    select
        date_day,
        case when platform = 'google_ads' then 'Paid Search' else 'Paid Social' end as channel_group,
        coalesce(utm_campaign, '(not set)') as utm_campaign,
        impressions,
        clicks
    from {{ ref('int_ad_performance_daily') }}
    where {{ in_run_window('date_day') }}
),

organic as (
    select
        date_day,
        'Organic Social' as channel_group,
        '(not set)' as utm_campaign,
        impressions,
        link_clicks as clicks
    from {{ ref('int_account_metrics_daily') }}
    where {{ in_run_window('date_day') }}
),

reach_days as (
    select
        date_day,
        channel_group,
        utm_campaign,
        sum(impressions) as impressions,
        sum(clicks) as clicks
    from (
        select * from ads
        union all
        select * from organic
    ) as shown
    group by date_day, channel_group, utm_campaign
),

session_days as (
    select
        date_day,
        channel_group,
        case when campaign is null or campaign like '(%)' then '(not set)' else campaign end as utm_campaign,
        sum(sessions) as sessions
    from {{ ref('int_web_sessions_daily') }}
    where {{ in_run_window('date_day') }}
    group by date_day, channel_group, case when campaign is null or campaign like '(%)' then '(not set)' else campaign end
),

contacts as (
    select
        acquisition_channel as channel_group,
        coalesce(utm_campaign, '(not set)') as utm_campaign,
        became_lead_date,
        became_mql_date,
        became_sql_date,
        first_purchase_date
    from {{ ref('int_crm_contacts') }}
),

-- each stage on the day it was reached
crm_events as (
    select became_lead_date as date_day, channel_group, utm_campaign, 'lead' as stage from contacts
    where became_lead_date is not null
    union all
    select became_mql_date, channel_group, utm_campaign, 'mql' from contacts
    where became_mql_date is not null
    union all
    select became_sql_date, channel_group, utm_campaign, 'sql' from contacts
    where became_sql_date is not null
    union all
    select first_purchase_date, channel_group, utm_campaign, 'customer' from contacts
    where first_purchase_date is not null
),

crm_days as (
    select
        date_day,
        channel_group,
        utm_campaign,
        sum(case when stage = 'lead' then 1 else 0 end) as leads,
        sum(case when stage = 'mql' then 1 else 0 end) as mqls,
        sum(case when stage = 'sql' then 1 else 0 end) as sqls,
        sum(case when stage = 'customer' then 1 else 0 end) as new_customers
    from crm_events
    where {{ in_run_window('date_day') }}
    group by date_day, channel_group, utm_campaign
),

keys as (
    select date_day, channel_group, utm_campaign from reach_days
    union
    select date_day, channel_group, utm_campaign from session_days
    union
    select date_day, channel_group, utm_campaign from crm_days
),

joined as (
    select
        keys.date_day,
        keys.channel_group,
        keys.utm_campaign,
        coalesce(reach_days.impressions, 0) as impressions,
        coalesce(reach_days.clicks, 0) as clicks,
        coalesce(session_days.sessions, 0) as sessions,
        coalesce(crm_days.leads, 0) as leads,
        coalesce(crm_days.mqls, 0) as mqls,
        coalesce(crm_days.sqls, 0) as sqls,
        coalesce(crm_days.new_customers, 0) as new_customers
    from keys
    left join reach_days
        on keys.date_day = reach_days.date_day and keys.channel_group = reach_days.channel_group
        and keys.utm_campaign = reach_days.utm_campaign
    left join session_days
        on keys.date_day = session_days.date_day and keys.channel_group = session_days.channel_group
        and keys.utm_campaign = session_days.utm_campaign
    left join crm_days
        on keys.date_day = crm_days.date_day and keys.channel_group = crm_days.channel_group
        and keys.utm_campaign = crm_days.utm_campaign
),

final as (
    select
        -- keys
        date_day,
        channel_group,
        utm_campaign,

        -- attributes
        {{ channel_is_paid('channel_group') }} as is_paid,
        {{ channel_is_social('channel_group') }} as is_social,

        -- measures: each step on its own day
        cast(impressions as {{ dbt.type_bigint() }}) as impressions,
        cast(clicks as {{ dbt.type_bigint() }}) as clicks,
        cast(sessions as {{ dbt.type_bigint() }}) as sessions,
        cast(leads as {{ dbt.type_bigint() }}) as leads,
        cast(mqls as {{ dbt.type_bigint() }}) as mqls,
        cast(sqls as {{ dbt.type_bigint() }}) as sqls,
        cast(new_customers as {{ dbt.type_bigint() }}) as new_customers,

        -- step rates: numerators and denominators are the measures above
        {{ safe_divide('clicks', 'impressions') }} as click_through_rate,
        {{ safe_divide('sessions', 'clicks') }} as click_to_session_rate,
        {{ safe_divide('leads', 'sessions') }} as session_to_lead_rate,
        {{ safe_divide('mqls', 'leads') }} as lead_to_mql_rate,
        {{ safe_divide('sqls', 'mqls') }} as mql_to_sql_rate,
        {{ safe_divide('new_customers', 'sqls') }} as sql_to_customer_rate,
        {{ safe_divide('new_customers', 'leads') }} as lead_to_customer_rate,
        {{ safe_divide('new_customers', 'sessions') }} as session_to_customer_rate

    from joined
)

select * from final
