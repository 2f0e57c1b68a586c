{#- Every conversion's credit sums to 1 under every attribution model (to float precision),
    and every conversion has a row under all five models. -#}
with

per_conversion as (
    select
        conversion_id,
        attribution_model,
        sum(credit) as total_credit
    from {{ ref('fct_attribution_credits') }}
    group by conversion_id, attribution_model
),

models_per_conversion as (
    select conversion_id, count(distinct attribution_model) as models
    from {{ ref('fct_attribution_credits') }}
    group by conversion_id
)

select conversion_id, attribution_model, total_credit, null as models
from per_conversion
where abs(total_credit - 1) > 1e-9

union all

select conversion_id, null, null, models
from models_per_conversion
where models <> 5
