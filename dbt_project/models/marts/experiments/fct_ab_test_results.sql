{#- A/B test results per experiment and variant, each treatment against its experiment's
    control, over the experiment's dates (int_experiment_variants_daily). The formulas are in
    the YAML beside this file; the normal distribution's CDF and quantile come from
    macros/experiments.sql. A table rebuilt whole: a test's statistics need all its days, and
    an experiment spans any number of them. -#}

with

experiments as (
    select * from {{ ref('stg_team_config__experiments') }}
),

observed as (
    select
        experiment_id,
        variant,
        sum(exposures) as exposures,
        sum(conversions) as conversions,
        min(date_day) as first_observed_date,
        max(date_day) as last_observed_date
    from {{ ref('int_experiment_variants_daily') }}
    group by experiment_id, variant
),

variants as (
    select
        experiments.experiment_id,
        experiments.variant,
        experiments.is_control,
        experiments.platform,
        experiments.primary_metric,
        experiments.exposure_unit,
        experiments.conversion_unit,
        experiments.start_date,
        experiments.end_date,
        experiments.alpha,
        experiments.power,
        experiments.min_detectable_lift,
        observed.first_observed_date,
        observed.last_observed_date,
        cast(coalesce(observed.exposures, 0) as {{ dbt.type_bigint() }}) as exposures,
        cast(coalesce(observed.conversions, 0) as {{ dbt.type_bigint() }}) as conversions
    from experiments
    left join observed
        on experiments.experiment_id = observed.experiment_id
        and experiments.variant = observed.variant
),

controls as (
    select
        experiment_id,
        variant as control_variant,
        exposures as control_exposures,
        conversions as control_conversions
    from variants
    where is_control
),

compared as (
    select
        variants.*,
        controls.control_variant,
        controls.control_exposures,
        controls.control_conversions,
        {{ safe_divide('variants.conversions', 'variants.exposures') }} as conversion_rate,
        {{ safe_divide('controls.control_conversions', 'controls.control_exposures') }} as control_rate,
        {{ safe_divide('variants.conversions + controls.control_conversions',
                       'variants.exposures + controls.control_exposures') }} as pooled_rate,
        {{ normal_quantile('1.0 - variants.alpha / 2.0') }} as z_critical,
        {{ normal_quantile('variants.power') }} as z_power
    from variants
    left join controls
        on variants.experiment_id = controls.experiment_id
),

standard_errors as (
    select
        *,
        case when not is_control then conversion_rate - control_rate end as absolute_difference,
        case when not is_control then (conversion_rate - control_rate) / nullif(control_rate, 0) end as relative_lift,
        case when not is_control and exposures > 0 and control_exposures > 0 then
            sqrt(pooled_rate * (1.0 - pooled_rate) * (1.0 / exposures + 1.0 / control_exposures))
        end as pooled_standard_error,
        case when not is_control and exposures > 0 and control_exposures > 0 then
            sqrt(conversion_rate * (1.0 - conversion_rate) / exposures
                 + control_rate * (1.0 - control_rate) / control_exposures)
        end as unpooled_standard_error,
        -- standard error of ln(rate / control_rate): (1 - p) / (n p) = (1 - p) / conversions
        case when not is_control and conversions > 0 and control_conversions > 0 then
            sqrt((1.0 - conversion_rate) / conversions + (1.0 - control_rate) / control_conversions)
        end as log_ratio_standard_error,
        control_rate * (1.0 + min_detectable_lift) as target_rate
    from compared
),

tested as (
    select
        *,
        absolute_difference / nullif(pooled_standard_error, 0) as z_score
    from standard_errors
),

p_values as (
    select
        *,
        {{ normal_two_sided_p('z_score') }} as p_value
    from tested
),

final as (
    select
        -- keys
        experiment_id,
        variant,

        -- attributes
        is_control,
        control_variant,
        platform,
        primary_metric,
        exposure_unit,
        conversion_unit,
        start_date,
        end_date,
        first_observed_date,
        last_observed_date,
        alpha,
        1.0 - alpha as confidence_level,
        power,
        min_detectable_lift,

        -- measures: this variant and its control
        exposures,
        conversions,
        conversion_rate,
        cast(control_exposures as {{ dbt.type_bigint() }}) as control_exposures,
        cast(control_conversions as {{ dbt.type_bigint() }}) as control_conversions,
        control_rate,

        -- the comparison with the control (null on the control's own row)
        absolute_difference,
        relative_lift,
        z_score,
        p_value,
        case when not is_control then coalesce(p_value < alpha, false) end as is_significant,
        case
            when is_control then 'control'
            when p_value < alpha and absolute_difference > 0 then 'better'
            when p_value < alpha and absolute_difference < 0 then 'worse'
            else 'not_significant'
        end as verdict,
        z_critical,
        absolute_difference - z_critical * unpooled_standard_error as difference_ci_low,
        absolute_difference + z_critical * unpooled_standard_error as difference_ci_high,
        case when log_ratio_standard_error is not null then
            exp(ln(conversion_rate / control_rate) - z_critical * log_ratio_standard_error) - 1.0
        end as lift_ci_low,
        case when log_ratio_standard_error is not null then
            exp(ln(conversion_rate / control_rate) + z_critical * log_ratio_standard_error) - 1.0
        end as lift_ci_high,

        -- sample size for the minimum detectable lift (same for every variant of an experiment)
        cast(case when control_rate > 0 and target_rate < 1 then
            ceil(
                (z_critical * sqrt(2.0 * ((control_rate + target_rate) / 2.0) * (1.0 - (control_rate + target_rate) / 2.0))
                 + z_power * sqrt(control_rate * (1.0 - control_rate) + target_rate * (1.0 - target_rate)))
                * (z_critical * sqrt(2.0 * ((control_rate + target_rate) / 2.0) * (1.0 - (control_rate + target_rate) / 2.0))
                   + z_power * sqrt(control_rate * (1.0 - control_rate) + target_rate * (1.0 - target_rate)))
                / ((target_rate - control_rate) * (target_rate - control_rate))
            )
        end as {{ dbt.type_bigint() }}) as required_sample_per_variant

    from p_values
),

sized as (
    select
        *,
        cast(case when required_sample_per_variant > exposures then required_sample_per_variant - exposures
                  when required_sample_per_variant is not null then 0 end as {{ dbt.type_bigint() }}) as additional_sample_needed
    from final
)

select * from sized
