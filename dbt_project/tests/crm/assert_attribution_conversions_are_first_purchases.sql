{#- The attribution marts hold exactly the CRM's first purchases: per model, the credit summed
    over all rows equals the number of new customers (int_crm_deals.is_first_purchase).
    Reported in Dagster as a check of the attribution mart (a singular test that reads two
    models names the one it checks). -#}

{{ config(meta={'dagster': {'ref': {'name': 'fct_attribution_by_channel'}}}) }}

with

first_purchases as (
    select count(*) as conversions
    from {{ ref('int_crm_deals') }}
    where is_first_purchase
),

per_model as (
    select attribution_model, sum(attributed_conversions) as credit
    from {{ ref('fct_attribution_by_channel') }}
    group by attribution_model
)

select per_model.attribution_model, per_model.credit, first_purchases.conversions
from per_model
cross join first_purchases
where abs(per_model.credit - first_purchases.conversions) > 1e-6
