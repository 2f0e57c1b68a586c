{#- Attributed conversions and revenue per conversion day, attribution model, channel group,
    social platform and campaign: fct_attribution_credits summed. A table rebuilt whole with
    the credits it sums. -#}

with

credits as (
    select * from {{ ref('fct_attribution_credits') }}
),

final as (
    select
        -- keys
        conversion_date,
        attribution_model,
        channel_group,
        social_platform,
        utm_campaign,

        -- attributes
        is_paid,
        reporting_currency,

        -- measures
        cast(sum(credit) as double) as attributed_conversions,
        cast(sum(attributed_revenue) as decimal(18, 2)) as attributed_revenue,
        cast(count(distinct conversion_id) as {{ dbt.type_bigint() }}) as touched_conversions,
        cast(sum(case when credit > 0 then 1 else 0 end) as {{ dbt.type_bigint() }}) as credited_touches

    from credits
    group by conversion_date, attribution_model, channel_group, social_platform, utm_campaign, is_paid, reporting_currency
)

select * from final
