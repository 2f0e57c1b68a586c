{#- The columns fct_influencer_impact and fct_employee_advocacy share, after their keys and
    attributes: content (listening mentions about the brand), web traffic and CRM outcomes,
    cost and its rates, typed as the marts promise. `cost_currency` is the currency of the
    cost when there is one (an influencer's fee currency; the advocacy programme's EUR). -#}
{% macro partner_outcome_columns(cost_currency) -%}
        -- content (listening mentions about the brand)
        cast(posts as {{ dbt.type_bigint() }}) as posts,
        cast(tracked_posts as {{ dbt.type_bigint() }}) as tracked_posts,
        cast(reach as {{ dbt.type_bigint() }}) as reach,
        cast(engagements as {{ dbt.type_bigint() }}) as engagements,
        cast(null as {{ dbt.type_bigint() }}) as link_clicks,

        -- web traffic and CRM outcomes
        cast(sessions as {{ dbt.type_bigint() }}) as sessions,
        cast(engaged_sessions as {{ dbt.type_bigint() }}) as engaged_sessions,
        cast(referral_sessions as {{ dbt.type_bigint() }}) as referral_sessions,
        cast(leads as {{ dbt.type_bigint() }}) as leads,
        cast(new_customers as {{ dbt.type_bigint() }}) as new_customers,
        cast(new_customer_revenue as decimal(18, 2)) as new_customer_revenue,
        cast(attributed_revenue as decimal(18, 2)) as attributed_revenue,
        '{{ var("reporting_currency") }}' as reporting_currency,

        -- cost and its rates
        cast(cost as decimal(18, 2)) as cost,
        case when cost is not null then {{ cost_currency }} end as cost_currency,
        {{ safe_divide('cost', 'new_customers') }} as cpa,
        {{ safe_divide('1000 * new_customers', 'cost') }} as new_customers_per_1000_cost,
        {{ safe_divide('engagements', 'reach') }} as engagement_rate_by_reach
{%- endmacro %}
