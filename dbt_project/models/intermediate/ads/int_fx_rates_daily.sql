{#- The team's FX rates as one rate per day and currency, in units of `currency` per 1 unit of
    the reporting currency (var `reporting_currency`): amount_reporting = amount / rate.
    - A quote against another base is crossed through the reporting currency's quote in that
      base on the same day; a base-reporting quote wins when both exist.
    - A day without a quote uses the latest earlier one, and keeps that quote's date in
      `rate_date` (weekends, holidays, a late file).
    - The reporting currency itself is 1 on every day (rate_date = the day).
    - Days run from the first quote to the later of the last quote and today (UTC), or to the
      var `fx_rates_last_day` when set (a pinned, reproducible end). -#}

{%- set reporting = var('reporting_currency') -%}
{%- set last_day = var('fx_rates_last_day', none) -%}

with

rates as (
    select * from {{ ref('stg_team_config__fx_rates') }}
    where rate > 0
),

-- quotes in units of `currency` per 1 reporting-currency unit, one per (rate_date, currency)
quotes as (
    select
        rates.rate_date,
        rates.currency,
        case
            when rates.base_currency = '{{ reporting }}' then rates.rate
            else rates.rate / reporting_leg.rate
        end as rate_per_reporting,
        row_number() over (
            partition by rates.rate_date, rates.currency
            order by case when rates.base_currency = '{{ reporting }}' then 0 else 1 end, rates.base_currency
        ) as preference
    from rates
    left join rates as reporting_leg
        on reporting_leg.rate_date = rates.rate_date
        and reporting_leg.base_currency = rates.base_currency
        and reporting_leg.currency = '{{ reporting }}'
    where rates.currency <> '{{ reporting }}'
      and (rates.base_currency = '{{ reporting }}' or reporting_leg.rate is not null)
),

-- each quote holds from its date until the day before the currency's next quote
quote_periods as (
    select
        rate_date,
        currency,
        rate_per_reporting,
        lead(rate_date) over (partition by currency order by rate_date) as next_rate_date
    from quotes
    where preference = 1
),

days as (
    {{ day_series(
        '(select min(rate_date) from rates)',
        "cast('" ~ last_day ~ "' as date)" if last_day else
        '(select greatest(max(rate_date), cast(' ~ dbt.current_timestamp() ~ ' as date)) from rates)'
    ) }}
),

converted as (
    select
        days.date_day,
        quote_periods.currency,
        quote_periods.rate_per_reporting,
        quote_periods.rate_date
    from days
    inner join quote_periods
        on days.date_day >= quote_periods.rate_date
        and (quote_periods.next_rate_date is null or days.date_day < quote_periods.next_rate_date)
),

reporting_currency as (
    select
        days.date_day,
        '{{ reporting }}' as currency,
        cast(1 as double) as rate_per_reporting,
        days.date_day as rate_date
    from days
),

final as (
    select
        date_day,
        currency,
        cast(rate_per_reporting as double) as rate_per_reporting,
        rate_date
    from converted
    union all
    select
        date_day,
        currency,
        rate_per_reporting,
        rate_date
    from reporting_currency
)

select * from final
