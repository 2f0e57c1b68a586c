{#- One row per deal: raw is merged on `id` (the newest version of each record). The deal
    name is dropped: portals often put a person's or company's name in it. A deal without
    `deal_currency_code` is in the portal's company currency (var `hubspot_company_currency`,
    default: the reporting currency). -#}

{#- Incremental, as stg_hubspot__contacts and for its reason: parsing every deal's JSON again
    each time int_crm_deals and this model's test read it was the first step of the CRM chain
    every build waits on (1.1 s at SF10 for a year). A run reads only the deals of loads it has
    not read (`unread_loads`) and replaces them by id; deals gone from raw are deleted after. -#}
{{ config(materialized='incremental', incremental_strategy=upsert_strategy(),
          unique_key='deal_id', on_schema_change='fail',
          post_hook="delete from {{ this }} where deal_id not in (select id from {{ source('hubspot', 'deals') }})") }}

with

source as (
    select * from {{ source('hubspot', 'deals') }}
    where {{ unread_loads() }}
),

typed as (
    select
        *,
        coalesce(
            upper(nullif(trim({{ json_text('_record', '$.properties.deal_currency_code') }}), '')),
            '{{ var("hubspot_company_currency", var("reporting_currency")) }}'
        ) as deal_currency,
        {{ to_utc_timestamp(json_text('_record', '$.properties.closedate')) }} as closedate_utc,
        {{ to_utc_timestamp(json_text('_record', '$.properties.createdate')) }} as createdate_utc
    from source
),

renamed as (
    select
        -- ids
        id as deal_id,

        -- strings
        lower(trim({{ json_text('_record', '$.properties.dealstage') }})) as deal_stage,
        lower(trim({{ json_text('_record', '$.properties.pipeline') }})) as pipeline,
        lower(trim({{ json_text('_record', '$.properties.dealtype') }})) as deal_type,
        upper(trim({{ json_text('_record', '$.properties.hs_analytics_source') }})) as original_source,
        nullif(trim({{ json_text('_record', '$.properties.hs_analytics_source_data_1') }}), '') as original_source_data_1,
        nullif(trim({{ json_text('_record', '$.properties.hs_analytics_source_data_2') }}), '') as original_source_data_2,

        -- money: the amount in the deal's currency, rounded to its minor units
        {{ to_money(json_text('_record', '$.properties.amount'), 'deal_currency') }} as amount,
        deal_currency as deal_currency_code,

        -- booleans: won when HubSpot says so, or when the stage is the default pipeline's
        -- closed-won stage (portals that do not request hs_is_closed_won)
        coalesce(
            lower({{ json_text('_record', '$.properties.hs_is_closed_won') }}) = 'true',
            lower(trim({{ json_text('_record', '$.properties.dealstage') }})) = 'closedwon'
        ) as is_closed_won,
        coalesce(archived, false) as is_archived,

        -- timestamps (UTC) and their reporting-time-zone dates
        createdate_utc as created_at,
        {{ reporting_date('createdate_utc') }} as created_date,
        closedate_utc as closed_at,
        {{ reporting_date('closedate_utc') }} as closed_date,
        {{ to_utc_timestamp(json_text('_record', '$.properties.hs_lastmodifieddate')) }} as last_modified_at,

        -- metadata
        _load_id,
        _loaded_at

    from typed
)

select * from renamed
