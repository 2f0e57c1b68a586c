{#- Each mover's change (fct_scorecard.is_mover) split into the platforms and campaigns that
    drove it: one row per mover and segment (platform, campaign) with data in the period or the
    previous one. The contributions of a mover sum to its change (actual - previous_actual):
    - sum (counts): contribution = N_cur,i - N_prev,i;
    - mean_per_day (reach): contribution = N_cur,i / days_cur - N_prev,i / days_prev;
    - ratio: with r = the previous value N_prev / D_prev,
        contribution = (N_cur,i - r * D_cur,i) / D_cur - (N_prev,i - r * D_prev,i) / D_prev.
      Summed over i the first terms give (N_cur - r * D_cur) / D_cur = r_cur - r and the second
      (N_prev - r * D_prev) / D_prev = 0, so the sum is exactly the change. A segment adds to the
      change by how far its own ratio stands from the previous overall rate, times its weight:
      a segment whose share of the denominator and excess over r did not move contributes 0.
      (Sum and mean per day are this formula with D = 1 or days and D_i = 0.)
    - median: no additive split exists, so segments are replaced one at a time, previous by
      current data (the segments with current data first, then by platform and campaign): a
      segment's contribution is the median after its replacement minus the median before;
      the steps telescope from the previous median to the current one. Order-dependent: the
      order is part of the definition.
    A table rebuilt whole with fct_scorecard. -#}

with

movers as (
    select
        kpi,
        period_type,
        period,
        period_start,
        period_end,
        previous_start,
        previous_end,
        aggregation,
        actual,
        previous_actual,
        change,
        actual_denominator,
        previous_denominator,
        data_last_day
    from {{ ref('fct_scorecard') }}
    where is_mover
),

kpi_values as (
    select kpi, date_day, platform, campaign, item_id, numerator, denominator
    from {{ ref('int_kpi_values_daily') }}
),

-- every row of a mover's two windows, tagged with its window
window_rows as (
    select movers.kpi, movers.period_type, movers.period, 'current' as window_name,
           kpi_values.platform, kpi_values.campaign, kpi_values.numerator, kpi_values.denominator
    from movers
    inner join kpi_values
        on movers.kpi = kpi_values.kpi
        and kpi_values.date_day between movers.period_start and movers.period_end
        and kpi_values.date_day <= movers.data_last_day   -- the scorecard's as-of day, as its actual
    union all
    select movers.kpi, movers.period_type, movers.period, 'previous' as window_name,
           kpi_values.platform, kpi_values.campaign, kpi_values.numerator, kpi_values.denominator
    from movers
    inner join kpi_values
        on movers.kpi = kpi_values.kpi
        and kpi_values.date_day between movers.previous_start and movers.previous_end
        and kpi_values.date_day <= movers.data_last_day
),

segments as (
    select
        kpi,
        period_type,
        period,
        platform,
        campaign,
        sum(case when window_name = 'current' then numerator else 0 end) as current_numerator,
        sum(case when window_name = 'current' then denominator else 0 end) as current_denominator,
        sum(case when window_name = 'previous' then numerator else 0 end) as previous_numerator,
        sum(case when window_name = 'previous' then denominator else 0 end) as previous_denominator,
        sum(case when window_name = 'current' then 1 else 0 end) as current_rows,
        sum(case when window_name = 'previous' then 1 else 0 end) as previous_rows
    from window_rows
    group by kpi, period_type, period, platform, campaign
),

-- sum, mean per day and ratio: the closed form above
additive as (
    select
        segments.*,
        movers.aggregation,
        movers.change as kpi_change,
        case movers.aggregation
            when 'sum' then 'difference'
            when 'mean_per_day' then 'per_day_difference'
            else 'ratio_shift'
        end as decomposition,
        case movers.aggregation
            when 'sum' then segments.current_numerator - segments.previous_numerator
            when 'mean_per_day' then segments.current_numerator / movers.actual_denominator
                                   - segments.previous_numerator / movers.previous_denominator
            else (segments.current_numerator - movers.previous_actual * segments.current_denominator) / movers.actual_denominator
                 - (segments.previous_numerator - movers.previous_actual * segments.previous_denominator) / movers.previous_denominator
        end as contribution
    from segments
    inner join movers
        on segments.kpi = movers.kpi
        and segments.period_type = movers.period_type
        and segments.period = movers.period
    where movers.aggregation in ('sum', 'mean_per_day', 'ratio')
),

-- median: sequential replacement, step s = the s-th segment switched to its current data
median_segments as (
    select
        segments.*,
        movers.previous_actual,
        movers.change as kpi_change,
        row_number() over (
            partition by segments.kpi, segments.period_type, segments.period
            order by case when segments.current_rows > 0 then 0 else 1 end, segments.platform, segments.campaign
        ) as replacement_step
    from segments
    inner join movers
        on segments.kpi = movers.kpi
        and segments.period_type = movers.period_type
        and segments.period = movers.period
    where movers.aggregation = 'median'
),

median_step_values as (
    select
        steps.kpi,
        steps.period_type,
        steps.period,
        steps.replacement_step,
        {{ exact_median('window_rows.numerator') }} as median_after_step
    from median_segments as steps
    inner join median_segments as members
        on steps.kpi = members.kpi
        and steps.period_type = members.period_type
        and steps.period = members.period
    inner join window_rows
        on members.kpi = window_rows.kpi
        and members.period_type = window_rows.period_type
        and members.period = window_rows.period
        and members.platform = window_rows.platform
        and members.campaign = window_rows.campaign
        and window_rows.window_name = case when members.replacement_step <= steps.replacement_step
                                           then 'current' else 'previous' end
    group by steps.kpi, steps.period_type, steps.period, steps.replacement_step
),

median_contributions as (
    select
        median_segments.kpi,
        median_segments.period_type,
        median_segments.period,
        median_segments.platform,
        median_segments.campaign,
        median_segments.current_numerator,
        median_segments.current_denominator,
        median_segments.previous_numerator,
        median_segments.previous_denominator,
        median_segments.current_rows,
        median_segments.previous_rows,
        'median' as aggregation,
        median_segments.kpi_change,
        'sequential_replacement' as decomposition,
        median_step_values.median_after_step - coalesce(
            lag(median_step_values.median_after_step) over (
                partition by median_segments.kpi, median_segments.period_type, median_segments.period
                order by median_segments.replacement_step),
            median_segments.previous_actual) as contribution,
        median_segments.replacement_step
    from median_segments
    inner join median_step_values
        on median_segments.kpi = median_step_values.kpi
        and median_segments.period_type = median_step_values.period_type
        and median_segments.period = median_step_values.period
        and median_segments.replacement_step = median_step_values.replacement_step
),

combined as (
    select
        kpi, period_type, period, platform, campaign,
        current_numerator, current_denominator, previous_numerator, previous_denominator,
        current_rows, previous_rows, aggregation, kpi_change, decomposition, contribution,
        cast(null as {{ dbt.type_bigint() }}) as replacement_step
    from additive
    union all
    select
        kpi, period_type, period, platform, campaign,
        current_numerator, current_denominator, previous_numerator, previous_denominator,
        current_rows, previous_rows, aggregation, kpi_change, decomposition, contribution,
        replacement_step
    from median_contributions
),

final as (
    select
        -- keys
        kpi,
        period_type,
        period,
        platform,
        campaign,

        -- how the change is split
        aggregation,
        decomposition,
        cast(replacement_step as {{ dbt.type_bigint() }}) as replacement_step,

        -- the segment in both windows (median: counts of items, no numerator or denominator)
        case when aggregation = 'median' then cast(null as double) else cast(current_numerator as double) end as current_numerator,
        case when aggregation = 'median' then cast(null as double) else cast(current_denominator as double) end as current_denominator,
        case when aggregation = 'median' then cast(null as double) else cast(previous_numerator as double) end as previous_numerator,
        case when aggregation = 'median' then cast(null as double) else cast(previous_denominator as double) end as previous_denominator,
        cast(current_rows as {{ dbt.type_bigint() }}) as current_rows,
        cast(previous_rows as {{ dbt.type_bigint() }}) as previous_rows,

        -- the contribution
        cast(contribution as double) as contribution,
        cast(kpi_change as double) as kpi_change,
        {{ safe_divide('contribution', 'kpi_change') }} as share_of_change,
        cast(row_number() over (partition by kpi, period_type, period
                                order by abs(contribution) desc, platform, campaign) as {{ dbt.type_bigint() }}) as contribution_rank
    from combined
)

select * from final
