{#- One row per contact: raw is merged on `id` (the newest version of each record), so no
    dedupe is needed here; the unique test on contact_id guards it. Properties are read from
    `_record.properties` (strings, as HubSpot sends them). Email is hashed, first and last
    names are dropped: nothing downstream needs them, and they are PII. -#}

{#- Incremental, not a view: every CRM model reads it, and parsing every contact's JSON again in
    each of them (and in each test) was the costliest view of the build (3 s at SF10 for a
    year, read ~10 times a build; 11 s as a table rebuilt whole). A run reads only the
    contacts of loads it has not read (`unread_loads`: new and changed records) and replaces
    them by id; contacts gone from raw (deleted in HubSpot) are deleted after. -#}
{{ config(materialized='incremental', incremental_strategy=upsert_strategy(),
          unique_key='contact_id', on_schema_change='fail',
          post_hook="delete from {{ this }} where contact_id not in (select id from {{ source('hubspot', 'contacts') }})") }}


with

source as (
    select * from {{ source('hubspot', 'contacts') }}
    where {{ unread_loads() }}
),

renamed as (
    select
        -- ids
        id as contact_id,
        {{ hash_pii(json_text('_record', '$.properties.email')) }} as email_hash,

        -- strings: lifecycle
        lower(trim({{ json_text('_record', '$.properties.lifecyclestage') }})) as lifecycle_stage,

        -- strings: original source, as HubSpot classifies it (ORGANIC_SEARCH, PAID_SOCIAL,
        -- SOCIAL_MEDIA, EMAIL_MARKETING, DIRECT_TRAFFIC, REFERRALS, PAID_SEARCH, ...) with its
        -- drill-downs (social: the network, then the campaign or the referring host; paid
        -- search: the campaign, then the keyword; direct: the landing URL; ...)
        upper(trim({{ json_text('_record', '$.properties.hs_analytics_source') }})) as original_source,
        nullif(trim({{ json_text('_record', '$.properties.hs_analytics_source_data_1') }}), '') as original_source_data_1,
        nullif(trim({{ json_text('_record', '$.properties.hs_analytics_source_data_2') }}), '') as original_source_data_2,

        -- strings: latest source (drill-downs and timestamp only when the portal requests them)
        upper(trim({{ json_text('_record', '$.properties.hs_latest_source') }})) as latest_source,
        nullif(trim({{ json_text('_record', '$.properties.hs_latest_source_data_1') }}), '') as latest_source_data_1,
        nullif(trim({{ json_text('_record', '$.properties.hs_latest_source_data_2') }}), '') as latest_source_data_2,

        -- strings: the portal's custom UTM properties (first touch), as captured
        nullif(trim({{ json_text('_record', '$.properties.utm_source') }}), '') as utm_source,
        nullif(trim({{ json_text('_record', '$.properties.utm_medium') }}), '') as utm_medium,
        nullif(trim({{ json_text('_record', '$.properties.utm_campaign') }}), '') as utm_campaign,
        nullif(trim({{ json_text('_record', '$.properties.utm_content') }}), '') as utm_content,

        -- numerics
        {{ dbt.safe_cast(json_text('_record', '$.properties.num_associated_deals'), dbt.type_bigint()) }} as num_associated_deals,

        -- booleans
        coalesce(archived, false) as is_archived,

        -- timestamps (UTC) and their reporting-time-zone dates
        {{ to_utc_timestamp(json_text('_record', '$.properties.createdate')) }} as created_at,
        {{ reporting_date(to_utc_timestamp(json_text('_record', '$.properties.createdate'))) }} as created_date,
        {{ to_utc_timestamp(json_text('_record', '$.properties.lastmodifieddate')) }} as last_modified_at,
        {{ to_utc_timestamp(json_text('_record', '$.properties.hs_latest_source_timestamp')) }} as latest_source_at,
        {{ to_utc_timestamp(json_text('_record', '$.properties.hs_lifecyclestage_lead_date')) }} as became_lead_at,
        {{ to_utc_timestamp(json_text('_record', '$.properties.hs_lifecyclestage_marketingqualifiedlead_date')) }} as became_mql_at,
        {{ to_utc_timestamp(json_text('_record', '$.properties.hs_lifecyclestage_salesqualifiedlead_date')) }} as became_sql_at,
        {{ to_utc_timestamp(json_text('_record', '$.properties.hs_lifecyclestage_opportunity_date')) }} as became_opportunity_at,
        {{ to_utc_timestamp(json_text('_record', '$.properties.hs_lifecyclestage_customer_date')) }} as became_customer_at,

        -- metadata
        _load_id,
        _loaded_at

    from source
)

select * from renamed
