{#- Each A/B variant's exposures and conversions per day of its experiment, in the units of the
    experiment's primary metric (stg_team_config__experiments):
    - conversions_per_click: link clicks and the platform's conversions (Meta's actions of the
      types in var `meta_conversion_action_types`) of the variant's ads;
    - clicks_per_impression: impressions and link clicks of the variant's ads;
    - purchases_per_session: GA4 sessions carrying the variant's utm_content and their
      e-commerce purchases.
    Ads match by id (`ad_ids` is a `|`-separated list); days are the platform's (Meta: the ad
    account's time zone, GA4: the property's), from start_date to end_date included. One row
    per (experiment_id, variant, date_day) with data. -#}

with

experiments as (
    select * from {{ ref('stg_team_config__experiments') }}
),

ad_days as (
    select
        experiments.experiment_id,
        experiments.variant,
        insights.date_day,
        sum(insights.impressions) as impressions,
        sum(insights.clicks) as clicks,
        sum(insights.conversions) as platform_conversions
    from experiments
    inner join {{ ref('stg_meta_ads__ads_insights') }} as insights
        on '|' || experiments.ad_ids || '|' like '%|' || insights.ad_id || '|%'
        and insights.date_day between experiments.start_date and experiments.end_date
    where experiments.platform = 'meta_ads'
    group by experiments.experiment_id, experiments.variant, insights.date_day
),

web_days as (
    select
        experiments.experiment_id,
        experiments.variant,
        sessions.date_day,
        sum(sessions.sessions) as sessions,
        sum(sessions.purchases) as purchases
    from experiments
    inner join {{ ref('int_web_sessions_daily') }} as sessions
        on sessions.content = experiments.utm_content
        and sessions.date_day between experiments.start_date and experiments.end_date
    where experiments.platform = 'ga4'
    group by experiments.experiment_id, experiments.variant, sessions.date_day
),

measured as (
    select
        ad_days.experiment_id,
        ad_days.variant,
        ad_days.date_day,
        case when experiments.primary_metric = 'clicks_per_impression' then ad_days.impressions else ad_days.clicks end as exposures,
        case when experiments.primary_metric = 'clicks_per_impression' then ad_days.clicks else ad_days.platform_conversions end as conversions
    from ad_days
    inner join experiments
        on ad_days.experiment_id = experiments.experiment_id
        and ad_days.variant = experiments.variant

    union all

    select
        experiment_id,
        variant,
        date_day,
        sessions as exposures,
        purchases as conversions
    from web_days
),

final as (
    select
        -- keys
        measured.experiment_id,
        measured.variant,
        measured.date_day,

        -- attributes
        experiments.platform,
        experiments.primary_metric,
        experiments.exposure_unit,
        experiments.conversion_unit,

        -- measures
        cast(measured.exposures as {{ dbt.type_bigint() }}) as exposures,
        cast(measured.conversions as {{ dbt.type_bigint() }}) as conversions

    from measured
    inner join experiments
        on measured.experiment_id = experiments.experiment_id
        and measured.variant = experiments.variant
)

select * from final
