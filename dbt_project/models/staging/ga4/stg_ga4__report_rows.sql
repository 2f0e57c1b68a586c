{#- One row per GA4 report row: property, day (the property's time zone), session source /
    medium / campaign, manual ad content and landing page, with its session counts and revenue.
    Raw already holds one row per key (the loader replaces a day on every re-load, and the
    extractor drops rows a repeated page sent twice), so nothing is deduplicated here: the
    uniqueness test on the key says so. -#}

{#- Tests of a windowed run read this view's rows of the run's days (macros/test_window.sql): raw changes only in the partitions a run loads. -#}
{{ config(meta={'window_column': 'date_day'}) }}

with

source as (
    select * from {{ source('ga4', 'analytics_report') }}
),

renamed as (
    select
        -- ids
        property_id,

        -- strings: dimension values as GA4 writes them, its own labels kept: campaigns
        -- `(organic)`, `(direct)`, `(referral)`, `(not set)`; `(other)` on the (other) row
        sessionSource as source,
        sessionMedium as medium,
        sessionCampaignName as campaign,
        sessionManualAdContent as content,
        landingPage as landing_page,
        currency_code as currency,
        time_zone as property_timezone,

        -- flags
        coalesce(sessionSource = '(other)', false) as is_other_row,
        coalesce(sessionCampaignName is not null and sessionCampaignName not like '(%)', false) as has_utm_campaign,
        coalesce(data_loss_from_other_row, false) as data_loss_from_other_row,
        coalesce(subject_to_thresholding, false) as subject_to_thresholding,

        -- numerics: GA4 sends integers as strings, raw types them DECIMAL(38,9); revenue
        -- DECIMAL(18,2) in the property currency, rounded to its minor units (`to_money`)
        cast(sessions as {{ dbt.type_bigint() }}) as sessions,
        cast(engagedSessions as {{ dbt.type_bigint() }}) as engaged_sessions,
        cast(keyEvents as {{ dbt.type_bigint() }}) as key_events,
        cast(ecommercePurchases as {{ dbt.type_bigint() }}) as purchases,
        {{ to_money('totalRevenue', 'currency_code') }} as revenue,

        -- dates: GA4's `date` (YYYYMMDD) is a day in the property's time zone, kept as such
        {{ dbt.safe_cast(dbt.concat(["substr(date, 1, 4)", "'-'", "substr(date, 5, 2)", "'-'", "substr(date, 7, 2)"]),
                         api.Column.translate_type('date')) }} as date_day,
        report_date,

        -- metadata
        _load_id,
        _loaded_at

    from source
)

select * from renamed
