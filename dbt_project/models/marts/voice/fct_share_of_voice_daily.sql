{{
    config(
        materialized='incremental',
        incremental_strategy=window_strategy(),
        unique_key='date_day',
        on_schema_change='fail',
        meta={'window_column': 'date_day'},
    )
}}

{#- Share of voice per day, platform and subject of the competitor set in force that day (the
    brand and every competitor), by mentions and by engagement. Every subject of the set gets a
    row on every (day, platform) where any of them was mentioned, so a subject nobody mentioned
    has 0 mentions and a share of 0, not a missing row. A run rebuilds the days of its window
    (delete+insert on date_day); a day's rows depend on that day's mentions and the set in force
    that day only, so a full refresh gives the same rows. int_mentions_daily is incremental too
    and writes the same window's days first, so its rows of the window are current. -#}

with

mentions as (
    select * from {{ ref('int_mentions_daily') }}
    where {{ in_run_window('date_day') }}
),

competitor_set as (
    select * from {{ ref('stg_team_config__competitors') }}
),

mention_days as (
    select distinct date_day from mentions
),

-- the set version in force each day: the latest version whose validity covers the day
versions_in_force as (
    select
        mention_days.date_day,
        max(competitor_set.set_version) as set_version
    from mention_days
    inner join competitor_set
        on mention_days.date_day >= competitor_set.valid_from
        and (competitor_set.valid_to is null or mention_days.date_day <= competitor_set.valid_to)
    group by mention_days.date_day
),

subjects_in_force as (
    select
        versions_in_force.date_day,
        versions_in_force.set_version,
        lower(trim(competitor_set.entity)) as subject,
        competitor_set.entity_name as subject_name,
        coalesce(competitor_set.is_brand, false) as is_brand,
        {{ normalized_handle('competitor_set.handle') }} as subject_handle
    from versions_in_force
    inner join competitor_set
        on versions_in_force.set_version = competitor_set.set_version
),

-- the listening query of each subject (matched on the handle it listens for, or the entity key)
subject_mentions as (
    select
        mentions.date_day,
        mentions.platform,
        subjects_in_force.subject,
        mentions.mentions,
        mentions.engagements
    from mentions
    inner join subjects_in_force
        on mentions.date_day = subjects_in_force.date_day
        and (mentions.listened_entity = subjects_in_force.subject_handle
             or mentions.listened_entity = subjects_in_force.subject)
),

platform_days as (
    select distinct date_day, platform from subject_mentions
),

subject_platform_days as (
    select
        platform_days.date_day,
        platform_days.platform,
        subjects_in_force.set_version,
        subjects_in_force.subject,
        subjects_in_force.subject_name,
        subjects_in_force.is_brand,
        coalesce(sum(subject_mentions.mentions), 0) as mentions,
        coalesce(sum(subject_mentions.engagements), 0) as engagements
    from platform_days
    inner join subjects_in_force
        on platform_days.date_day = subjects_in_force.date_day
    left join subject_mentions
        on platform_days.date_day = subject_mentions.date_day
        and platform_days.platform = subject_mentions.platform
        and subjects_in_force.subject = subject_mentions.subject
    group by
        platform_days.date_day, platform_days.platform, subjects_in_force.set_version,
        subjects_in_force.subject, subjects_in_force.subject_name, subjects_in_force.is_brand
),

totals as (
    select
        date_day,
        platform,
        count(*) as subjects_in_set,
        sum(mentions) as total_mentions,
        sum(engagements) as total_engagements
    from subject_platform_days
    group by date_day, platform
),

final as (
    select
        -- keys
        subject_platform_days.date_day,
        subject_platform_days.platform,
        subject_platform_days.subject,

        -- attributes
        subject_platform_days.subject_name,
        subject_platform_days.is_brand,
        cast(subject_platform_days.set_version as {{ dbt.type_bigint() }}) as competitor_set_version,
        cast(totals.subjects_in_set as {{ dbt.type_bigint() }}) as subjects_in_set,

        -- by mentions
        cast(subject_platform_days.mentions as {{ dbt.type_bigint() }}) as mentions,
        cast(totals.total_mentions as {{ dbt.type_bigint() }}) as total_mentions,
        {{ safe_divide('subject_platform_days.mentions', 'totals.total_mentions') }} as share_of_mentions,

        -- by engagement
        cast(subject_platform_days.engagements as {{ dbt.type_bigint() }}) as engagements,
        cast(totals.total_engagements as {{ dbt.type_bigint() }}) as total_engagements,
        {{ safe_divide('subject_platform_days.engagements', 'totals.total_engagements') }} as share_of_engagement
    from subject_platform_days
    inner join totals
        on subject_platform_days.date_day = totals.date_day
        and subject_platform_days.platform = totals.platform
)

select * from final
