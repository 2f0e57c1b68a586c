{#- CRM contacts with their acquisition (the original-source touchpoint of int_touchpoints,
    grouped with the web's channel vocabulary), the lifecycle funnel and the first purchase.
    - Funnel stages "reached": a contact that skipped a stage (created straight as an SQL,
      say) has reached the earlier ones too, when it reached the later one; so the stage
      timestamps are the stage's own date, else the next later stage's. A lead is a contact
      that reached the lead stage or any later one (`became_lead_at` not null); subscribers
      and contacts never given a stage are not leads.
    - The first purchase is the customer's first won deal (int_crm_deals), on the contact that
      made it; a contact whose person had bought before through another contact record has
      none (customers are counted once).
    - `ad_platform`: the ad platform that paid for the acquisition, for the paid channels
      (Meta Ads for paid Facebook/Instagram, LinkedIn Ads for paid LinkedIn, Google Ads for
      paid search from Google), so CRM outcomes join ad spend by platform and campaign. -#}

{#- A table, not a view: the funnel, lead, ROI, attribution, cohort and CLV marts and their tests all read it (4 s at SF10 for a year as a view, ~12 reads a build). Rebuilt whole each run: contacts move through the lifecycle at any time. -#}
{{ config(materialized='table') }}


with

contacts as (
    select * from {{ ref('stg_hubspot__contacts') }}
    where not is_archived
),

acquisition as (
    select * from {{ ref('int_touchpoints') }}
    where touch_type = 'original_source'
),

first_purchases as (
    select * from {{ ref('int_crm_deals') }}
    where is_first_purchase
),

staged as (
    select
        contact_id,
        coalesce(became_lead_at, became_mql_at, became_sql_at, became_opportunity_at, became_customer_at) as became_lead_at,
        coalesce(became_mql_at, became_sql_at, became_opportunity_at, became_customer_at) as became_mql_at,
        coalesce(became_sql_at, became_opportunity_at, became_customer_at) as became_sql_at,
        coalesce(became_opportunity_at, became_customer_at) as became_opportunity_at,
        became_customer_at
    from contacts
),

final as (
    select
        -- ids
        contacts.contact_id,
        contacts.email_hash,
        coalesce(contacts.email_hash, 'contact:' || contacts.contact_id) as customer_key,

        -- strings: lifecycle
        contacts.lifecycle_stage,

        -- strings: acquisition (the original source)
        coalesce(acquisition.channel_group, 'Other') as acquisition_channel,
        acquisition.source as acquisition_source,
        acquisition.medium as acquisition_medium,
        acquisition.utm_campaign,
        acquisition.utm_content,
        acquisition.social_platform,
        contacts.original_source as hubspot_original_source,
        case
            when acquisition.channel_group = 'Paid Social' and acquisition.social_platform in ('facebook', 'instagram')
                then 'meta_ads'
            when acquisition.channel_group = 'Paid Social' and acquisition.social_platform = 'linkedin'
                then 'linkedin_ads'
            when acquisition.channel_group = 'Paid Search' and acquisition.source = 'google'
                then 'google_ads'
        end as ad_platform,

        -- booleans
        coalesce(acquisition.is_paid, false) as is_paid,
        coalesce(acquisition.is_social, false) as is_social,
        staged.became_lead_at is not null as is_lead,
        first_purchases.deal_id is not null as is_new_customer,

        -- numerics: the first purchase, in the reporting currency
        first_purchases.deal_id as first_purchase_deal_id,
        first_purchases.amount_reporting as first_purchase_amount_reporting,
        first_purchases.reporting_currency,

        -- timestamps (UTC) and reporting-time-zone dates
        contacts.created_at,
        contacts.created_date,
        staged.became_lead_at,
        {{ reporting_date('staged.became_lead_at') }} as became_lead_date,
        staged.became_mql_at,
        {{ reporting_date('staged.became_mql_at') }} as became_mql_date,
        staged.became_sql_at,
        {{ reporting_date('staged.became_sql_at') }} as became_sql_date,
        staged.became_opportunity_at,
        {{ reporting_date('staged.became_opportunity_at') }} as became_opportunity_date,
        staged.became_customer_at,
        {{ reporting_date('staged.became_customer_at') }} as became_customer_date,
        first_purchases.closed_at as first_purchase_at,
        first_purchases.closed_date as first_purchase_date

    from contacts
    inner join staged on contacts.contact_id = staged.contact_id
    left join acquisition on contacts.contact_id = acquisition.contact_id
    left join first_purchases on contacts.contact_id = first_purchases.contact_id
)

select * from final
