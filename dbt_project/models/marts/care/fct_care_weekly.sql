{#- Response time and response rate per week (Monday, reporting time zone), platform, account
    and kind of contact (KPI practice 13), from fct_care_responses: first contacts received that
    week, how many the brand answered (as of the data's newest event), and the median and p90
    of the time to the first reply on the clock and in business minutes, over the answered
    ones. Percentiles are exact (interpolated, `exact_percentile`) and cannot be added across
    rows: a month's median is read from fct_care_responses, never averaged from weeks.

    A table: it reads fct_care_responses (a table rebuilt whole, see there), and a week's
    figures change whenever a late reply loads. -#}

with

responses as (
    select * from {{ ref('fct_care_responses') }}
),

weekly as (
    select
        received_week as week_start,
        platform,
        account_id,
        item_kind,
        max(as_of_at) as as_of_at,
        cast(count(*) as {{ dbt.type_bigint() }}) as inbound_items,
        cast(sum(case when is_answered then 1 else 0 end) as {{ dbt.type_bigint() }}) as answered_items,
        cast(sum(case when received_in_business_hours then 1 else 0 end) as {{ dbt.type_bigint() }}) as inbound_in_business_hours,
        cast(sum(case when received_in_business_hours and is_answered then 1 else 0 end) as {{ dbt.type_bigint() }})
            as answered_in_business_hours,
        {{ exact_percentile('minutes_to_first_reply', 0.5) }} as median_minutes_to_first_reply,
        {{ exact_percentile('minutes_to_first_reply', 0.9) }} as p90_minutes_to_first_reply,
        {{ exact_percentile('business_minutes_to_first_reply', 0.5) }} as median_business_minutes_to_first_reply,
        {{ exact_percentile('business_minutes_to_first_reply', 0.9) }} as p90_business_minutes_to_first_reply,
        {{ exact_percentile('case when received_in_business_hours then minutes_to_first_reply end', 0.5) }}
            as median_minutes_received_in_business_hours,
        {{ exact_percentile('case when not received_in_business_hours then minutes_to_first_reply end', 0.5) }}
            as median_minutes_received_off_hours
    from responses
    group by received_week, platform, account_id, item_kind
),

final as (
    select
        -- keys
        week_start,
        platform,
        account_id,
        item_kind,

        -- attributes
        as_of_at,

        -- measures
        inbound_items,
        answered_items,
        cast(inbound_items - answered_items as {{ dbt.type_bigint() }}) as unanswered_items,
        inbound_in_business_hours,
        answered_in_business_hours,

        -- rates: numerator and denominator are the counts above
        {{ safe_divide('answered_items', 'inbound_items') }} as response_rate,
        {{ safe_divide('answered_in_business_hours', 'inbound_in_business_hours') }} as response_rate_in_business_hours,

        -- time to first reply over the answered contacts (minutes, DOUBLE)
        median_minutes_to_first_reply,
        p90_minutes_to_first_reply,
        median_business_minutes_to_first_reply,
        p90_business_minutes_to_first_reply,
        median_minutes_received_in_business_hours,
        median_minutes_received_off_hours

    from weekly
)

select * from final
