{#- Leads per day, acquisition channel, source, medium and campaign, with how far each day's
    leads have gone since: MQL, SQL, opportunity, customer (lead cohorts). A lead is counted
    once, on the day it became a lead (int_crm_contacts.became_lead_date), under its original
    source. A table rebuilt whole: a lead from any past day can qualify or buy today, which
    changes its day's row. -#}

with

leads as (
    select * from {{ ref('int_crm_contacts') }}
    where is_lead
),

final as (
    select
        -- keys
        became_lead_date as date_day,
        acquisition_channel,
        coalesce(acquisition_source, '(not set)') as acquisition_source,
        coalesce(acquisition_medium, '(not set)') as acquisition_medium,
        coalesce(utm_campaign, '(not set)') as utm_campaign,

        -- attributes
        'hubspot' as platform,
        social_platform,
        ad_platform,
        is_paid,
        is_social,

        -- measures: this day's leads, then those of them that reached each later stage to date
        cast(count(*) as {{ dbt.type_bigint() }}) as leads,
        cast(sum(case when became_mql_at is not null then 1 else 0 end) as {{ dbt.type_bigint() }}) as leads_reached_mql,
        cast(sum(case when became_sql_at is not null then 1 else 0 end) as {{ dbt.type_bigint() }}) as leads_reached_sql,
        cast(sum(case when became_opportunity_at is not null then 1 else 0 end) as {{ dbt.type_bigint() }}) as leads_reached_opportunity,
        cast(sum(case when is_new_customer then 1 else 0 end) as {{ dbt.type_bigint() }}) as leads_converted,

        -- rates: numerators and denominators are the measures above
        {{ safe_divide('sum(case when became_mql_at is not null then 1 else 0 end)', 'count(*)') }} as lead_to_mql_rate,
        {{ safe_divide('sum(case when became_sql_at is not null then 1 else 0 end)', 'sum(case when became_mql_at is not null then 1 else 0 end)') }} as mql_to_sql_rate,
        {{ safe_divide('sum(case when is_new_customer then 1 else 0 end)', 'count(*)') }} as lead_to_customer_rate

    from leads
    group by
        became_lead_date, acquisition_channel, coalesce(acquisition_source, '(not set)'),
        coalesce(acquisition_medium, '(not set)'), coalesce(utm_campaign, '(not set)'),
        social_platform, ad_platform, is_paid, is_social
)

select * from final
