{#- Retention of customers by acquisition month and channel: for each cohort (the month of the
    customers' first purchase, their acquisition channel and social platform) and each month
    since acquisition (0 = the acquisition month) up to the month of the latest CRM data, how
    many of the cohort's customers purchased in that month, the month's revenue and the
    cumulative revenue per customer (historical CLV to that month).
    A table rebuilt whole: a cohort's later months change whenever any of its customers buys
    again, however long ago the cohort was acquired. -#}

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
    select
        customer_key,
        cast({{ dbt.date_trunc('month', 'closed_date') }} as date) as purchase_month,
        amount_reporting,
        reporting_currency
    from {{ ref('int_crm_deals') }}
    where is_purchase
),

-- the latest day the CRM data reaches: the last month of every cohort's grid
as_of as (
    select max(last_day) as as_of_date
    from (
        select max(created_date) as last_day from {{ ref('int_crm_contacts') }}
        union all
        select max(closed_date) as last_day from {{ ref('int_crm_deals') }}
    ) as last_days
),

months as (
    select distinct cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start
    from ({{ day_series('(select min(cohort_month) from customers)', '(select as_of_date from as_of)') }}) as days
),

cohorts as (
    select
        cohort_month,
        acquisition_channel,
        social_platform,
        count(*) as cohort_customers
    from customers
    group by cohort_month, acquisition_channel, social_platform
),

grid as (
    select
        cohorts.*,
        months.month_start as activity_month,
        as_of.as_of_date,
        {{ dbt.datediff('cohorts.cohort_month', 'months.month_start', 'month') }} as months_since_acquisition
    from cohorts
    inner join months on months.month_start >= cohorts.cohort_month
    cross join as_of
),

activity as (
    select
        customers.cohort_month,
        customers.acquisition_channel,
        customers.social_platform,
        purchases.purchase_month,
        count(distinct purchases.customer_key) as active_customers,
        count(*) as purchases,
        sum(purchases.amount_reporting) as revenue
    from customers
    inner join purchases on customers.customer_key = purchases.customer_key
    group by customers.cohort_month, customers.acquisition_channel, customers.social_platform, purchases.purchase_month
),

joined as (
    select
        grid.*,
        coalesce(activity.active_customers, 0) as active_customers,
        coalesce(activity.purchases, 0) as purchases,
        coalesce(activity.revenue, 0) as revenue
    from grid
    left join activity
        on grid.cohort_month = activity.cohort_month
        and grid.acquisition_channel = activity.acquisition_channel
        and coalesce(grid.social_platform, '') = coalesce(activity.social_platform, '')
        and grid.activity_month = activity.purchase_month
),

final as (
    select
        -- keys
        cohort_month,
        acquisition_channel,
        social_platform,
        cast(months_since_acquisition as {{ dbt.type_bigint() }}) as months_since_acquisition,

        -- attributes
        activity_month,
        {{ dbt.dateadd('month', 1, 'activity_month') }} > {{ dbt.dateadd('day', 1, 'as_of_date') }} as is_partial_month,
        '{{ var("reporting_currency") }}' as reporting_currency,

        -- measures
        cast(cohort_customers as {{ dbt.type_bigint() }}) as cohort_customers,
        cast(active_customers as {{ dbt.type_bigint() }}) as active_customers,
        {{ safe_divide('active_customers', 'cohort_customers') }} as retention_rate,
        cast(purchases as {{ dbt.type_bigint() }}) as purchases,
        cast(revenue as decimal(18, 2)) as revenue,
        cast(sum(revenue) over (
            partition by cohort_month, acquisition_channel, social_platform
            order by months_since_acquisition
            rows between unbounded preceding and current row
        ) as decimal(18, 2)) as cumulative_revenue,
        {{ safe_divide(
            'sum(revenue) over (partition by cohort_month, acquisition_channel, social_platform order by months_since_acquisition rows between unbounded preceding and current row)',
            'cohort_customers') }} as clv_to_month

    from joined
)

select * from final
