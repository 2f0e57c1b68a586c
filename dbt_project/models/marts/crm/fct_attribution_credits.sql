{#- Attribution of every conversion to the touchpoints of its path, under five models; one row
    per (conversion, touchpoint, model), so credit sums to 1 per conversion and model.
    A table rebuilt whole: a path is every touch of a contact up to its conversion, whatever
    day each happened, so a day-window rebuild would cut paths.
    - Conversion: a customer's first purchase (int_crm_deals.is_first_purchase), valued at its
      amount in the reporting currency. Repeat purchases are not re-attributed.
    - Path: the buyer contact's touchpoints (int_touchpoints) at or before the conversion, in
      touch order. A conversion with no such touch (a deal closed before the contact was
      created, a contact not loaded) keeps its credit on one touch: the contact's first
      touch when there is one, else an unattributed touch (channel group 'Other'). -#}

{%- set half_life = var('attribution_half_life_days', 7) -%}

with

conversions as (
    select
        deal_id as conversion_id,
        contact_id,
        closed_at as converted_at,
        closed_date as conversion_date,
        amount_reporting as conversion_value,
        reporting_currency,
        fx_rate,
        fx_rate_date
    from {{ ref('int_crm_deals') }}
    where is_first_purchase
),

touchpoints as (
    select * from {{ ref('int_touchpoints') }}
),

candidate_touches as (
    select
        conversions.*,
        touchpoints.touchpoint_id,
        touchpoints.touch_order,
        touchpoints.touch_at,
        touchpoints.touch_date,
        touchpoints.channel_group,
        touchpoints.social_platform,
        touchpoints.source,
        touchpoints.medium,
        touchpoints.utm_campaign,
        touchpoints.is_paid,
        touchpoints.touch_at <= conversions.converted_at as is_before_conversion,
        max(case when touchpoints.touch_at <= conversions.converted_at then 1 else 0 end)
            over (partition by conversions.conversion_id) as has_touch_before
    from conversions
    left join touchpoints on conversions.contact_id = touchpoints.contact_id
),

-- the path: touches up to the conversion; else the first touch; else one unattributed touch
paths as (
    select
        *,
        row_number() over (partition by conversion_id order by touch_order) as path_position,
        count(*) over (partition by conversion_id) as path_length
    from candidate_touches
    where is_before_conversion
       or (has_touch_before = 0 and (touch_order = 1 or touchpoint_id is null))
),

timed as (
    select
        *,
        case when touch_at is not null then
            greatest(
                cast({{ dbt.datediff('touch_at', 'converted_at', 'second') }} as double) / 86400.0,
                0.0
            )
        end as days_before_conversion
    from paths
),

weighted as (
    select
        *,
        -- time decay: 2^(-days / half_life), normalised over the path below
        power(cast(2 as double), -coalesce(days_before_conversion, 0) / cast({{ half_life }} as double)) as decay_weight
    from timed
),

normalised as (
    select
        *,
        decay_weight / sum(decay_weight) over (partition by conversion_id) as time_decay_credit
    from weighted
),

models as (
    select 'first_touch' as attribution_model
    union all select 'last_touch'
    union all select 'linear'
    union all select 'position_based'
    union all select 'time_decay'
),

credited as (
    select
        normalised.*,
        models.attribution_model,
        case models.attribution_model
            when 'first_touch' then case when path_position = 1 then 1 else 0 end
            when 'last_touch' then case when path_position = path_length then 1 else 0 end
            when 'linear' then 1 / cast(path_length as double)
            when 'position_based' then
                case
                    when path_length = 1 then 1
                    when path_length = 2 then 0.5
                    when path_position = 1 or path_position = path_length then 0.4
                    else 0.2 / cast(path_length - 2 as double)
                end
            when 'time_decay' then time_decay_credit
        end as credit
    from normalised
    cross join models
),

final as (
    select
        -- keys
        conversion_id,
        coalesce(touchpoint_id, conversion_id || ':unattributed') as touchpoint_id,
        attribution_model,

        -- ids
        contact_id,

        -- touch attributes
        coalesce(channel_group, 'Other') as channel_group,
        social_platform,
        source,
        medium,
        coalesce(utm_campaign, '(not set)') as utm_campaign,
        coalesce(is_paid, false) as is_paid,
        cast(path_position as {{ dbt.type_bigint() }}) as touch_position,
        cast(path_length as {{ dbt.type_bigint() }}) as path_length,
        cast(days_before_conversion as double) as days_before_conversion,

        -- credit and the revenue it carries (reporting currency)
        cast(credit as double) as credit,
        conversion_value,
        {{ to_money('credit * conversion_value', "'" ~ var('reporting_currency') ~ "'") }} as attributed_revenue,
        reporting_currency,
        fx_rate,
        fx_rate_date,

        -- timestamps (UTC) and reporting-time-zone dates
        touch_at,
        touch_date,
        converted_at,
        conversion_date

    from credited
)

select * from final
