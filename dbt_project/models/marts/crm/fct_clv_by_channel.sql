{#- Historical customer lifetime value by acquisition channel and cohort: per acquisition
    month, channel and social platform, the customers acquired, every purchase they made to
    date (first and repeat) and CLV = cumulative revenue to date / customers acquired.
    Historical, not predicted: revenue already booked in the CRM (won deals, reporting
    currency), nothing projected. A table rebuilt whole, since any old cohort's revenue grows
    with a repeat purchase today. -#}

with

customers as (
    select
        customer_key,
        acquisition_channel,
        social_platform,
        cast({{ dbt.date_trunc('month', 'first_purchase_date') }} as date) as cohort_month
    from {{ ref('int_crm_contacts') }}
    where is_new_customer
),

purchases as (
    select * from {{ ref('int_crm_deals') }}
    where is_purchase
),

per_customer as (
    select
        customers.customer_key,
        customers.cohort_month,
        customers.acquisition_channel,
        customers.social_platform,
        count(*) as purchases,
        sum(case when purchases.is_first_purchase then purchases.amount_reporting else 0 end) as first_purchase_revenue,
        sum(case when purchases.is_first_purchase then 0 else purchases.amount_reporting end) as repeat_revenue,
        max(purchases.closed_date) as last_purchase_date
    from customers
    inner join purchases on customers.customer_key = purchases.customer_key
    group by customers.customer_key, customers.cohort_month, customers.acquisition_channel, customers.social_platform
),

final as (
    select
        -- keys
        cohort_month,
        acquisition_channel,
        social_platform,

        -- attributes
        '{{ var("reporting_currency") }}' as reporting_currency,
        max(last_purchase_date) as last_purchase_date,

        -- measures
        cast(count(*) as {{ dbt.type_bigint() }}) as customers,
        cast(sum(case when purchases > 1 then 1 else 0 end) as {{ dbt.type_bigint() }}) as repeat_customers,
        cast(sum(purchases) as {{ dbt.type_bigint() }}) as purchases,
        cast(sum(first_purchase_revenue) as decimal(18, 2)) as first_purchase_revenue,
        cast(sum(repeat_revenue) as decimal(18, 2)) as repeat_revenue,
        cast(sum(first_purchase_revenue + repeat_revenue) as decimal(18, 2)) as revenue_to_date,
        {{ safe_divide('sum(first_purchase_revenue + repeat_revenue)', 'count(*)') }} as clv,
        {{ safe_divide('sum(case when purchases > 1 then 1 else 0 end)', 'count(*)') }} as repeat_customer_rate

    from per_customer
    group by cohort_month, acquisition_channel, social_platform
)

select * from final
