{{
    config(
        materialized='incremental',
        incremental_strategy=window_strategy(),
        unique_key='date_day',
        meta={'window_column': 'date_day'},
        on_schema_change='fail',
    )
}}

{#- Audience shares per platform, account, day, dimension (age band, gender, country) and
    value. A run rebuilds the days of its window; a day's shares depend on that day's rows
    only, so a full refresh gives the same rows. A (platform, account, day, dimension) whose
    audience is 0 (no views in YouTube's window) has nothing to split and no rows. -#}

with

demographics as (
    select * from {{ ref('int_audience_demographics_daily') }}
    where dimension in ('age_band', 'gender', 'country')
      and {{ in_run_window('date_day') }}
),

totals as (
    select
        platform,
        account_id,
        date_day,
        dimension,
        sum(audience_weight) as audience_total
    from demographics
    group by platform, account_id, date_day, dimension
),

final as (
    select
        -- keys
        demographics.date_day,
        demographics.platform,
        demographics.account_id,
        demographics.dimension,
        demographics.dimension_value,

        -- attributes
        demographics.audience_type,

        -- measures
        demographics.audience_count,
        cast(demographics.audience_weight as double) as share_numerator,
        cast(totals.audience_total as double) as share_denominator,
        {{ safe_divide('demographics.audience_weight', 'totals.audience_total') }} as share

    from demographics
    inner join totals
        on demographics.platform = totals.platform
        and demographics.account_id = totals.account_id
        and demographics.date_day = totals.date_day
        and demographics.dimension = totals.dimension
    where totals.audience_total > 0
)

select * from final
