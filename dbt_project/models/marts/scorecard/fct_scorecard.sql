{#- Every KPI of the team's registry against its target and its previous period, per period:
    - the period of each goal (team_config goals: 'YYYY-Qn', 'YYYY-MM' or 'YYYY');
    - every week (Monday to Sunday) of the last `scorecard_weeks` weeks of data, for every
      registry KPI, with or without a goal.
    The previous period is the same number of days right before the period. A period's value
    comes from int_kpi_values_daily by the KPI's aggregation (int_kpi_mappings): sum, ratio of
    sums, mean per day or median. Status compares the actual with a benchmark (the goal's target,
    pro-rated to the days of data for counts; else the previous period's actual); the movers
    are the KPIs of a period with the largest absolute relative change. A table rebuilt whole:
    a period spans many days and a goal or registry change rewrites every row. -#}

{%- set tolerance = var('scorecard_at_risk_tolerance', 0.1) -%}
{%- set top_movers = var('scorecard_top_movers', 5) -%}
{%- set weeks = var('scorecard_weeks', 13) -%}
{%- set as_of = var('scorecard_as_of', none) -%}

with

registry as (
    select kpi, kpi_name, definition, unit, direction, owner, catalogue_row
    from {{ ref('stg_team_config__kpi_registry') }}
),

mappings as (
    select kpi, aggregation, source_marts from {{ ref('int_kpi_mappings') }}
),

all_kpi_values as (
    select kpi, date_day, numerator, denominator from {{ ref('int_kpi_values_daily') }}
),

-- the scorecard's range: from the earliest day of data to the as-of day, the latest day that at
-- least half of the KPIs with data have reached (a source dating a few rows a day later, or a
-- monthly KPI dated on the 1st, does not move it); var `scorecard_as_of` sets it instead
kpi_last_days as (
    select
        kpi,
        max(date_day) as last_day,
        row_number() over (order by max(date_day) desc, kpi) as recency,
        count(*) over () as kpis_with_data
    from all_kpi_values
    group by kpi
),

data_range as (
    select
        (select min(date_day) from all_kpi_values) as data_first_day,
        {%- if as_of %}
        cast('{{ as_of }}' as date) as data_last_day
        {%- else %}
        max(last_day) as data_last_day
        {%- endif %}
    from kpi_last_days
    where 2 * recency >= kpis_with_data and 2 * (recency - 1) < kpis_with_data
),

kpi_values as (
    select all_kpi_values.*
    from all_kpi_values
    cross join data_range
    where all_kpi_values.date_day between data_range.data_first_day and data_range.data_last_day
),

-- goals: the period text as dates ('2026-Q2' -> 2026-04-01 .. 2026-06-30)
goals_parsed as (
    select
        goal_id,
        kpi,
        period,
        target,
        direction as goal_direction,
        owner as goal_owner,
        {{ dbt.safe_cast('substr(period, 1, 4)', dbt.type_int()) }} as period_year,
        case
            when period like '____-Q_' then ({{ dbt.safe_cast('substr(period, 7, 1)', dbt.type_int()) }} - 1) * 3 + 1
            when period like '____-__' then {{ dbt.safe_cast('substr(period, 6, 2)', dbt.type_int()) }}
            when length(period) = 4 then 1
        end as first_month,
        case
            when period like '____-Q_' then 3
            when period like '____-__' then 1
            when length(period) = 4 then 12
        end as months
    from {{ ref('stg_team_config__goals') }}
),

goals as (
    select
        goals_parsed.*,
        case when period_year is not null and first_month between 1 and 12
             then {{ date_from_parts('period_year', 'first_month', '1') }} end as period_start
    from goals_parsed
),

goal_periods as (
    select
        goals.*,
        cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 'months', 'period_start')) }} as date) as period_end
    from goals
),

goal_rows as (
    select
        kpi,
        'goal' as period_type,
        period,
        period_start,
        period_end,
        goal_id,
        period as goal_period,
        target,
        goal_direction,
        goal_owner,
        {{ dbt.datediff('period_start', 'period_end', 'day') }} + 1 as goal_period_days
    from goal_periods
),

-- weeks: Monday to Sunday, the last `scorecard_weeks` of the data
data_days as (
    {{ day_series('(select data_first_day from data_range)', '(select data_last_day from data_range)') }}
),

week_starts as (
    select distinct cast({{ dbt.date_trunc('week', 'date_day') }} as date) as week_start
    from data_days
),

recent_weeks as (
    select week_start
    from (
        select week_start, row_number() over (order by week_start desc) as recency
        from week_starts
    ) as ranked
    where recency <= {{ weeks }}
),

week_periods as (
    select
        registry.kpi,
        recent_weeks.week_start as period_start,
        cast({{ dbt.dateadd('day', 6, 'recent_weeks.week_start') }} as date) as period_end
    from registry
    cross join recent_weeks
),

-- a week's target: the KPI's goal whose period holds the whole week (the shortest, then the first id)
week_goals as (
    select
        week_periods.kpi,
        week_periods.period_start,
        goal_rows.goal_id,
        goal_rows.goal_period,
        goal_rows.target,
        goal_rows.goal_direction,
        goal_rows.goal_owner,
        goal_rows.goal_period_days,
        row_number() over (partition by week_periods.kpi, week_periods.period_start
                           order by goal_rows.goal_period_days, goal_rows.goal_id) as preference
    from week_periods
    inner join goal_rows
        on week_periods.kpi = goal_rows.kpi
        and week_periods.period_start >= goal_rows.period_start
        and week_periods.period_end <= goal_rows.period_end
),

week_rows as (
    select
        week_periods.kpi,
        'week' as period_type,
        cast(week_periods.period_start as {{ dbt.type_string() }}) || '/' || cast(week_periods.period_end as {{ dbt.type_string() }}) as period,
        week_periods.period_start,
        week_periods.period_end,
        week_goals.goal_id,
        week_goals.goal_period,
        week_goals.target,
        week_goals.goal_direction,
        week_goals.goal_owner,
        week_goals.goal_period_days
    from week_periods
    left join week_goals
        on week_periods.kpi = week_goals.kpi
        and week_periods.period_start = week_goals.period_start
        and week_goals.preference = 1
),

periods as (
    select * from goal_rows
    union all
    select * from week_rows
),

-- the previous period: as many days, ending the day before the period starts
periods_aligned as (
    select
        periods.*,
        {{ dbt.datediff('period_start', 'period_end', 'day') }} + 1 as period_days,
        cast({{ dbt.dateadd('day', '-1 - ' ~ dbt.datediff('period_start', 'period_end', 'day'), 'period_start') }} as date) as previous_start,
        cast({{ dbt.dateadd('day', -1, 'period_start') }} as date) as previous_end
    from periods
),

current_values as (
    select
        periods_aligned.kpi,
        periods_aligned.period_type,
        periods_aligned.period,
        sum(kpi_values.numerator) as numerator_sum,
        sum(kpi_values.denominator) as denominator_sum,
        count(distinct kpi_values.date_day) as days_with_data,
        {{ exact_median('kpi_values.numerator') }} as numerator_median
    from periods_aligned
    inner join kpi_values
        on periods_aligned.kpi = kpi_values.kpi
        and kpi_values.date_day between periods_aligned.period_start and periods_aligned.period_end
    group by periods_aligned.kpi, periods_aligned.period_type, periods_aligned.period
),

previous_values as (
    select
        periods_aligned.kpi,
        periods_aligned.period_type,
        periods_aligned.period,
        sum(kpi_values.numerator) as numerator_sum,
        sum(kpi_values.denominator) as denominator_sum,
        count(distinct kpi_values.date_day) as days_with_data,
        {{ exact_median('kpi_values.numerator') }} as numerator_median
    from periods_aligned
    inner join kpi_values
        on periods_aligned.kpi = kpi_values.kpi
        and kpi_values.date_day between periods_aligned.previous_start and periods_aligned.previous_end
    group by periods_aligned.kpi, periods_aligned.period_type, periods_aligned.period
),

-- a period's numerator and denominator by the KPI's aggregation (median: none)
measured as (
    select
        periods_aligned.*,
        registry.kpi is not null as is_in_registry,
        registry.kpi_name,
        registry.definition,
        registry.unit,
        coalesce(registry.direction, periods_aligned.goal_direction) as direction,
        coalesce(periods_aligned.goal_owner, registry.owner) as owner,
        registry.catalogue_row,
        mappings.kpi is not null as is_mapped,
        mappings.aggregation,
        mappings.source_marts,
        data_range.data_first_day,
        data_range.data_last_day,
        case mappings.aggregation
            when 'median' then cast(null as double)
            else current_values.numerator_sum
        end as actual_numerator,
        case mappings.aggregation
            when 'sum' then case when current_values.kpi is not null then 1.0 end
            when 'ratio' then current_values.denominator_sum
            when 'mean_per_day' then current_values.days_with_data
        end as actual_denominator,
        current_values.numerator_median as actual_median,
        case mappings.aggregation
            when 'median' then cast(null as double)
            else previous_values.numerator_sum
        end as previous_numerator,
        case mappings.aggregation
            when 'sum' then case when previous_values.kpi is not null then 1.0 end
            when 'ratio' then previous_values.denominator_sum
            when 'mean_per_day' then previous_values.days_with_data
        end as previous_denominator,
        previous_values.numerator_median as previous_median
    from periods_aligned
    cross join data_range
    left join registry on periods_aligned.kpi = registry.kpi
    left join mappings on periods_aligned.kpi = mappings.kpi
    left join current_values
        on periods_aligned.kpi = current_values.kpi
        and periods_aligned.period_type = current_values.period_type
        and periods_aligned.period = current_values.period
    left join previous_values
        on periods_aligned.kpi = previous_values.kpi
        and periods_aligned.period_type = previous_values.period_type
        and periods_aligned.period = previous_values.period
),

valued as (
    select
        measured.*,
        case when aggregation = 'median' then actual_median
             else {{ safe_divide('actual_numerator', 'actual_denominator') }} end as actual,
        case when aggregation = 'median' then previous_median
             else {{ safe_divide('previous_numerator', 'previous_denominator') }} end as previous_actual,
        -- days of the period (and of the previous one) inside the data's range
        case when period_start is null or period_start > data_last_day or period_end < data_first_day then 0
             else {{ dbt.datediff('case when period_start > data_first_day then period_start else data_first_day end',
                                  'case when period_end < data_last_day then period_end else data_last_day end', 'day') }} + 1
        end as days_covered,
        case when previous_start > data_last_day or previous_end < data_first_day then 0
             else {{ dbt.datediff('case when previous_start > data_first_day then previous_start else data_first_day end',
                                  'case when previous_end < data_last_day then previous_end else data_last_day end', 'day') }} + 1
        end as previous_days_covered
    from measured
),

-- the benchmark: the target (counts pro-rated to the days covered), else the previous actual
-- (counts scaled to the same number of days)
benchmarked as (
    select
        valued.*,
        case
            when actual is null then cast(null as double)
            when target is not null and aggregation = 'sum' then target * days_covered / goal_period_days
            when target is not null then target
            when previous_actual is not null and aggregation = 'sum' then previous_actual * days_covered / previous_days_covered
            when previous_actual is not null then previous_actual
        end as benchmark,
        case
            when actual is null then cast(null as {{ dbt.type_string() }})
            when target is not null then 'target'
            when previous_actual is not null then 'previous_period'
        end as status_basis
    from valued
),

statused as (
    select
        benchmarked.*,
        case
            when not is_in_registry then 'not in registry'
            when not is_mapped then 'unmapped'
            when period_start is null then 'unknown period'
            when actual is null then 'no data'
            when benchmark is null then 'no benchmark'
            when direction = 'higher' and actual >= benchmark then 'on track'
            when direction = 'lower' and actual <= benchmark then 'on track'
            when direction = 'higher' and actual >= benchmark - {{ tolerance }} * abs(benchmark) then 'at risk'
            when direction = 'lower' and actual <= benchmark + {{ tolerance }} * abs(benchmark) then 'at risk'
            else 'off track'
        end as status,
        actual - previous_actual as change,
        case when previous_actual <> 0 then (actual - previous_actual) / abs(previous_actual) end as relative_change
    from benchmarked
),

ranked as (
    select
        statused.*,
        case when relative_change is not null and change <> 0 then
            row_number() over (
                partition by period_type, period,
                             case when relative_change is not null and change <> 0 then 1 else 0 end
                order by abs(relative_change) desc, kpi)
        end as mover_rank
    from statused
),

final as (
    select
        -- keys
        kpi,
        period_type,
        period,

        -- the KPI (registry) and its mapping
        kpi_name,
        definition,
        unit,
        direction,
        owner,
        catalogue_row,
        is_in_registry,
        is_mapped,
        aggregation,
        source_marts,

        -- the period and the previous one
        period_start,
        period_end,
        cast(period_days as {{ dbt.type_bigint() }}) as period_days,
        cast(days_covered as {{ dbt.type_bigint() }}) as days_covered,
        previous_start,
        previous_end,
        cast(previous_days_covered as {{ dbt.type_bigint() }}) as previous_days_covered,
        data_last_day,

        -- actual
        cast(actual_numerator as double) as actual_numerator,
        cast(actual_denominator as double) as actual_denominator,
        cast(actual as double) as actual,

        -- target and status
        goal_id,
        goal_period,
        cast(target as double) as target,
        cast(benchmark as double) as benchmark,
        status_basis,
        status,

        -- previous period and change
        cast(previous_numerator as double) as previous_numerator,
        cast(previous_denominator as double) as previous_denominator,
        cast(previous_actual as double) as previous_actual,
        cast(change as double) as change,
        cast(relative_change as double) as relative_change,
        case when change > 0 then direction = 'higher'
             when change < 0 then direction = 'lower' end as change_is_better,
        cast(mover_rank as {{ dbt.type_bigint() }}) as mover_rank,
        coalesce(mover_rank <= {{ top_movers }}, false) as is_mover
    from ranked
)

select * from final
