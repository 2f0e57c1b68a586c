{#- Marketing touchpoints per contact, as far as the CRM records them.

    What a touchpoint is here: a visit source HubSpot stores on the contact, with a time.
    - `original_source`: the first visit that led to the contact (hs_analytics_source, its
      drill-downs and the portal's custom utm_* properties), at the contact's creation (the
      time HubSpot attributes it to). Every contact has one.
    - `latest_source`: the most recent visit source (hs_latest_source with its drill-downs), at
      `hs_latest_source_timestamp`, when that is known and later than the creation (a later
      visit than the first). HubSpot keeps only the newest one, so a path holds at most these
      two touches; a contact with one known touch has a one-touch path.
    Web analytics (GA4) reports aggregates, not visitors, and deals copy the contact's original
    source, so neither adds a touch per contact.

    HubSpot's vocabulary becomes the web's source / medium / campaign first, then the shared
    `channel_group` macro groups it as web sessions are grouped:
    - tagged visits (custom utm_* properties) keep their UTMs;
    - PAID_SOCIAL: the drill-down network (Facebook -> facebook, Twitter -> x, ...) / paid_social,
      campaign from drill-down 2;
    - SOCIAL_MEDIA: the referring host / referral when drill-down 2 is a host (an untagged
      click, as GA4 sees it: `l.instagram.com / referral`), else the network / social with
      drill-down 2 as the campaign;
    - PAID_SEARCH: (not set) / paid_search, campaign from drill-down 1 (the engine is unknown);
    - ORGANIC_SEARCH: the engine (drill-down 1) / organic; EMAIL_MARKETING: drill-down 1 /
      email; REFERRALS and AI_REFERRALS: the referring domain / referral; DIRECT_TRAFFIC:
      (direct) / (none); OTHER_CAMPAIGNS: drill-down 1 / other_campaigns; OFFLINE: (offline) /
      offline. -#}

{#- A table, not a view: read by the attribution marts, int_crm_contacts and their tests (2 s at SF10 for a year as a view). Rebuilt whole each run (HubSpot keeps only a contact's latest source, which changes). -#}
{{ config(materialized='table') }}


with

contacts as (
    select * from {{ ref('stg_hubspot__contacts') }}
    where not is_archived
),

first_purchases as (
    select contact_id, closed_at as converted_at
    from {{ ref('int_crm_deals') }}
    where is_first_purchase
),

-- one row per recorded visit source, in HubSpot's vocabulary
recorded as (
    select
        contact_id,
        'original_source' as touch_type,
        created_at as touch_at,
        original_source as hs_source,
        original_source_data_1 as hs_data_1,
        original_source_data_2 as hs_data_2,
        lower(utm_source) as utm_source,
        lower(utm_medium) as utm_medium,
        utm_campaign,
        utm_content
    from contacts
    where original_source is not null or utm_source is not null or utm_medium is not null

    union all

    select
        contact_id,
        'latest_source' as touch_type,
        latest_source_at as touch_at,
        latest_source as hs_source,
        latest_source_data_1 as hs_data_1,
        latest_source_data_2 as hs_data_2,
        cast(null as {{ dbt.type_string() }}) as utm_source,
        cast(null as {{ dbt.type_string() }}) as utm_medium,
        cast(null as {{ dbt.type_string() }}) as utm_campaign,
        cast(null as {{ dbt.type_string() }}) as utm_content
    from contacts
    where latest_source is not null
      and latest_source_at is not null
      and latest_source_at > created_at
),

-- HubSpot's categories as web source / medium / campaign
mapped as (
    select
        contact_id,
        touch_type,
        touch_at,
        hs_source,
        case
            when utm_source is not null or utm_medium is not null then utm_source
            when hs_source = 'PAID_SOCIAL'
                then coalesce({{ social_platform_of('hs_data_1') }}, lower(hs_data_1))
            when hs_source = 'SOCIAL_MEDIA' and hs_data_2 like '%.%' and hs_data_2 not like '% %'
                then lower(hs_data_2)
            when hs_source = 'SOCIAL_MEDIA'
                then coalesce({{ social_platform_of('hs_data_1') }}, lower(hs_data_1))
            when hs_source = 'PAID_SEARCH' then '(not set)'
            when hs_source = 'DIRECT_TRAFFIC' then '(direct)'
            when hs_source = 'OFFLINE' then '(offline)'
            else coalesce(lower(hs_data_1), '(not set)')
        end as source,
        case
            when utm_source is not null or utm_medium is not null then coalesce(utm_medium, '(not set)')
            when hs_source = 'PAID_SOCIAL' then 'paid_social'
            when hs_source = 'SOCIAL_MEDIA' and hs_data_2 like '%.%' and hs_data_2 not like '% %' then 'referral'
            when hs_source = 'SOCIAL_MEDIA' then 'social'
            when hs_source = 'PAID_SEARCH' then 'paid_search'
            when hs_source = 'ORGANIC_SEARCH' then 'organic'
            when hs_source = 'EMAIL_MARKETING' then 'email'
            when hs_source in ('REFERRALS', 'AI_REFERRALS') then 'referral'
            when hs_source = 'DIRECT_TRAFFIC' then '(none)'
            when hs_source = 'OTHER_CAMPAIGNS' then 'other_campaigns'
            when hs_source = 'OFFLINE' then 'offline'
            else '(not set)'
        end as medium,
        case
            when utm_source is not null or utm_medium is not null then utm_campaign
            when hs_source = 'PAID_SOCIAL' then hs_data_2
            when hs_source = 'SOCIAL_MEDIA' and hs_data_2 like '%.%' and hs_data_2 not like '% %' then null
            when hs_source = 'SOCIAL_MEDIA' then hs_data_2
            when hs_source = 'PAID_SEARCH' then hs_data_1
        end as utm_campaign,
        utm_content
    from recorded
),

with_group as (
    select
        *,
        {{ channel_group('source', 'medium', 'utm_campaign') }} as channel_group
    from mapped
),

-- the network behind a social touch (as int_web_sessions_daily names it); null otherwise
grouped as (
    select
        *,
        case when {{ channel_is_social('channel_group') }} then {{ social_platform_of('source') }} end as social_platform
    from with_group
),

ordered as (
    select
        grouped.*,
        row_number() over (
            partition by grouped.contact_id
            order by grouped.touch_at, case when grouped.touch_type = 'original_source' then 0 else 1 end
        ) as touch_order,
        first_purchases.converted_at
    from grouped
    left join first_purchases on grouped.contact_id = first_purchases.contact_id
),

-- the last touch at or before the first purchase is the converting one
conversion_touches as (
    select contact_id, max(touch_order) as conversion_touch_order
    from ordered
    where converted_at is not null and touch_at <= converted_at
    group by contact_id
),

final as (
    select
        -- ids
        ordered.contact_id || ':' || ordered.touch_type as touchpoint_id,
        ordered.contact_id,

        -- strings
        ordered.touch_type,
        ordered.hs_source as hubspot_source,
        ordered.channel_group,
        ordered.social_platform,
        ordered.source,
        ordered.medium,
        ordered.utm_campaign,
        ordered.utm_content,

        -- booleans
        {{ channel_is_paid('ordered.channel_group') }} as is_paid,
        {{ channel_is_social('ordered.channel_group') }} as is_social,
        coalesce(ordered.touch_order = conversion_touches.conversion_touch_order, false) as is_conversion_touch,

        -- numerics
        cast(ordered.touch_order as {{ dbt.type_bigint() }}) as touch_order,

        -- timestamps (UTC) and reporting-time-zone dates
        ordered.touch_at,
        {{ reporting_date('ordered.touch_at') }} as touch_date

    from ordered
    left join conversion_touches on ordered.contact_id = conversion_touches.contact_id
)

select * from final
