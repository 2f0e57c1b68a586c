{#- Web sessions per day (the property's time zone) and GA4 report row, with the shared channel
    grouping and the UTM parser's verdict. One field mapping: GA4 is the one web source today;
    another web analytics source would be a CTE of its own here, then `union all`. -#}

{#- Incremental, not a view: the UTM parsing and channel grouping of every report row ran again
    in each web mart and each test that read it (7 s per test at SF10 for a year). A run
    rebuilds its window's days (GA4's restated days are in the daily run's window). A change
    of the team's campaign list (team_config campaigns) or of the grouping rules needs a full
    refresh to re-classify old days. -#}
{{ config(materialized='incremental', incremental_strategy=window_strategy(),
          unique_key='date_day', on_schema_change='fail',
          meta={'window_column': 'date_day'}) }}

with

report_rows as (
    select * from {{ ref('stg_ga4__report_rows') }}
    where {{ in_run_window('date_day') }}
),

-- the team's campaign-to-UTM mapping (team_config campaigns): a tagged session whose campaign
-- is not one of these is malformed
team_campaigns as (
    select distinct utm_campaign
    from {{ ref('stg_team_config__campaigns') }}
    where utm_campaign is not null
),

grouped as (
    select
        report_rows.*,
        {{ channel_group('report_rows.source', 'report_rows.medium', 'report_rows.campaign') }} as channel_group,
        team_campaigns.utm_campaign is not null as campaign_is_mapped
    from report_rows
    left join team_campaigns
        on report_rows.campaign = team_campaigns.utm_campaign
),

parsed as (
    select
        grouped.*,
        {{ channel_is_social('channel_group') }} as is_social,
        {{ channel_is_paid('channel_group') }} as is_paid,
        case when {{ channel_is_social('channel_group') }} then {{ social_platform_of('source') }} end as social_platform,
        {{ utm_issue('source', 'medium', 'campaign', 'campaign_is_mapped', channel_group_expr='channel_group') }} as utm_issue
    from grouped
),

final as (
    select
        -- keys: day and property, then the report row's dimensions
        date_day,
        'ga4' as platform,
        property_id,
        property_timezone,
        source,
        medium,
        campaign,
        content,
        landing_page,

        -- channel and UTM attributes
        channel_group,
        is_social,
        is_paid,
        social_platform,
        has_utm_campaign,
        campaign_is_mapped,
        {{ utm_status('source', 'medium', 'campaign', 'campaign_is_mapped',
                      channel_group_expr='channel_group', utm_issue_expr='utm_issue') }} as utm_status,
        utm_issue,

        -- measures
        sessions,
        engaged_sessions,
        key_events,
        purchases,
        revenue,
        currency,

        -- completeness of the report the row came from
        is_other_row,
        data_loss_from_other_row,
        subject_to_thresholding

    from parsed
)

select * from final
