{{
    config(
        materialized='incremental',
        incremental_strategy=window_strategy(),
        unique_key='date_day',
        on_schema_change='fail',
        meta={'window_column': 'date_day'},
    )
}}

{#- The crisis detector's daily view: the brand's negative mentions of each day against the
    trailing baseline of the days before it, and whether the day is anomalous (the rule and its
    parameters, dbt vars, are in the YAML).

    Two passes, so a crisis does not raise its own baseline: the first flags days against the
    plain trailing baseline; the second takes the baseline again without the days the first
    flagged, and its verdict is the day's. The median and the median absolute deviation (MAD)
    are aggregates over the baseline days joined to each day (a range self-join), not window
    functions, so the SQL stays portable.

    Incremental: a run reads its window plus twice `crisis_baseline_days` before it (the first
    pass's verdicts on the days of the window's baselines need their own baselines) and writes
    only the window's days. A day's row depends on that day and the 2 x baseline days before
    it, so a full refresh gives the same rows. Those days come from int_texts_scored (through
    the view int_brand_negative_mentions_daily), incremental: it writes the window's days
    first, and the earlier days hold what it wrote when they were in a window. -#}

{%- set baseline_days = var('crisis_baseline_days') | int -%}
{%- set min_baseline_days = var('crisis_min_baseline_days') | int -%}

with

days as (
    select * from {{ ref('int_brand_negative_mentions_daily') }}
    where {{ in_run_window_with_lookback('date_day', 2 * baseline_days) }}
),

-- each day with the days of its trailing baseline window
baseline_pairs as (
    select
        days.date_day,
        prior_days.date_day as prior_date_day,
        prior_days.negative_mentions as prior_negative_mentions
    from days
    inner join days as prior_days
        on prior_days.date_day < days.date_day
        and prior_days.date_day >= cast({{ dbt.dateadd('day', -baseline_days, 'days.date_day') }} as date)
),

-- pass 1: the plain trailing baseline
first_medians as (
    select
        date_day,
        count(*) as baseline_days,
        {{ exact_median('prior_negative_mentions') }} as baseline_median
    from baseline_pairs
    group by date_day
),

first_mads as (
    select
        baseline_pairs.date_day,
        {{ exact_median('abs(baseline_pairs.prior_negative_mentions - first_medians.baseline_median)') }} as baseline_mad
    from baseline_pairs
    inner join first_medians
        on baseline_pairs.date_day = first_medians.date_day
    group by baseline_pairs.date_day
),

first_verdicts as (
    select
        days.date_day,
        coalesce(
            first_medians.baseline_days >= {{ min_baseline_days }}
            and days.negative_mentions > {{ crisis_threshold('first_medians.baseline_median', 'first_mads.baseline_mad') }},
            false
        ) as is_spike
    from days
    inner join first_medians
        on days.date_day = first_medians.date_day
    inner join first_mads
        on days.date_day = first_mads.date_day
),

-- pass 2: the baseline without the days pass 1 flagged
clean_pairs as (
    select baseline_pairs.*
    from baseline_pairs
    left join first_verdicts
        on baseline_pairs.prior_date_day = first_verdicts.date_day
    where not coalesce(first_verdicts.is_spike, false)
),

medians as (
    select
        date_day,
        count(*) as baseline_days,
        {{ exact_median('prior_negative_mentions') }} as baseline_median
    from clean_pairs
    group by date_day
),

mads as (
    select
        clean_pairs.date_day,
        {{ exact_median('abs(clean_pairs.prior_negative_mentions - medians.baseline_median)') }} as baseline_mad
    from clean_pairs
    inner join medians
        on clean_pairs.date_day = medians.date_day
    group by clean_pairs.date_day
),

baselines as (
    select
        days.date_day,
        days.brand_mentions,
        days.scored_mentions,
        days.negative_mentions,
        days.first_negative_at,
        coalesce(medians.baseline_days, 0) as baseline_days,
        medians.baseline_median,
        mads.baseline_mad,
        -- null without a baseline day (greatest() skips nulls and would make them 1 and min - 1)
        case when medians.baseline_median is not null
             then {{ crisis_spread('medians.baseline_median', 'mads.baseline_mad') }} end as baseline_spread,
        case when medians.baseline_median is not null
             then {{ crisis_threshold('medians.baseline_median', 'mads.baseline_mad') }} end as threshold,
        coalesce(
            medians.baseline_days >= {{ min_baseline_days }}
            and days.negative_mentions > {{ crisis_threshold('medians.baseline_median', 'mads.baseline_mad') }},
            false
        ) as is_anomalous
    from days
    left join medians
        on days.date_day = medians.date_day
    left join mads
        on days.date_day = mads.date_day
    where {{ in_run_window('days.date_day') }}
),

final as (
    select
        -- keys
        date_day,

        -- volumes
        cast(brand_mentions as {{ dbt.type_bigint() }}) as brand_mentions,
        cast(scored_mentions as {{ dbt.type_bigint() }}) as scored_mentions,
        cast(negative_mentions as {{ dbt.type_bigint() }}) as negative_mentions,
        {{ safe_divide('negative_mentions', 'scored_mentions') }} as negative_share,
        first_negative_at,

        -- the trailing baseline (pass 2)
        cast(baseline_days as {{ dbt.type_bigint() }}) as baseline_days,
        cast(baseline_median as double) as baseline_negative_mentions,
        cast(baseline_mad as double) as baseline_mad,
        cast(baseline_spread as double) as baseline_spread,
        cast(threshold as double) as threshold_negative_mentions,
        cast(negative_mentions - baseline_median as double) as excess_negative_mentions,
        cast((negative_mentions - baseline_median) / baseline_spread as double) as robust_z,

        -- the verdict
        baseline_days >= {{ min_baseline_days }} as has_baseline,
        is_anomalous
    from baselines
)

select * from final
