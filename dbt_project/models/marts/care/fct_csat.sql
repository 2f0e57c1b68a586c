{{
    config(
        materialized='incremental',
        incremental_strategy=window_strategy(),
        unique_key=['period', 'period_start'],
        on_schema_change='fail',
    )
}}

{#- CSAT per period (day, ISO week from Monday, calendar month; the reporting time zone's days
    of submission), care channel and platform (KPI practice 25): responses, satisfied responses
    (a 4 or 5 on the 1-5 scale) and CSAT = satisfied / responses.

    Incremental: a run rebuilds every period that overlaps its window of days, whole. It reads
    the responses from the first day of the week or month holding the window's start to the
    last day of the week or month holding its end, so a week or month is never cut at the
    window's edge, and replaces those periods' rows (unique key period + period_start): a full
    refresh gives the same rows. -#}

with

responses as (
    select * from {{ ref('stg_survey__responses') }}
    {% if is_incremental() -%}
    where submitted_date >= least(
              cast({{ dbt.date_trunc('week', run_window_start()) }} as date),
              cast({{ dbt.date_trunc('month', run_window_start()) }} as date))
      and submitted_date <= greatest(
              cast({{ dbt.dateadd('day', 6, dbt.date_trunc('week', run_window_end())) }} as date),
              cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, dbt.date_trunc('month', run_window_end()))) }} as date))
    {%- endif %}
),

dated as (
    select
        channel,
        platform,
        is_satisfied,
        submitted_date as day_start,
        cast({{ dbt.date_trunc('week', 'submitted_date') }} as date) as week_start,
        cast({{ dbt.date_trunc('month', 'submitted_date') }} as date) as month_start
    from responses
),

periods as (
    select 'day' as period, day_start as period_start, day_start as period_end, channel, platform, is_satisfied
    from dated
    union all
    select 'week' as period, week_start as period_start,
           cast({{ dbt.dateadd('day', 6, 'week_start') }} as date) as period_end, channel, platform, is_satisfied
    from dated
    union all
    select 'month' as period, month_start as period_start,
           cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'month_start')) }} as date) as period_end,
           channel, platform, is_satisfied
    from dated
),

counted as (
    select
        period,
        period_start,
        period_end,
        channel,
        platform,
        cast(count(*) as {{ dbt.type_bigint() }}) as responses,
        cast(sum(case when is_satisfied then 1 else 0 end) as {{ dbt.type_bigint() }}) as satisfied_responses
    from periods
    {% if is_incremental() -%}
    where period_end >= {{ run_window_start() }}
      and period_start <= {{ run_window_end() }}
    {%- endif %}
    group by period, period_start, period_end, channel, platform
),

final as (
    select
        -- keys
        period,
        period_start,
        channel,
        platform,

        -- attributes
        period_end,

        -- measures
        responses,
        satisfied_responses,

        -- rate: CSAT = satisfied_responses / responses
        {{ safe_divide('satisfied_responses', 'responses') }} as csat

    from counted
)

select * from final
