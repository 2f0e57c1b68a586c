{#- Employee advocacy per advocate, campaign and platform over all history: what each advocate
    (the employee roster's `advocate` flag) posted about the brand, and the traffic and CRM
    outcomes advocacy links brought (int_partner_activity_daily, program 'employee'). Employees
    are private people: the mart names them by employee_id and team only, never by handle.
    Cost: the var `employee_advocacy_cost_eur` (the programme's cost over the mart's history),
    shared over the advocates' rows by posts, to the cent; unset, cost and CPA are null (never
    0: an unknown cost is not a free programme). A table rebuilt whole: a cost spreads over all
    rows, whatever their days. -#}

{%- set configured_cost = var('employee_advocacy_cost_eur', none) -%}
{%- set programme_cost = "cast('" ~ configured_cost ~ "' as decimal(18, 2))" if configured_cost is not none
                         else "cast(null as decimal(18, 2))" -%}

with

activity as (
    select
        partner_id as employee_id,
        utm_campaign,
        platform,
        min(date_day) as first_activity_date,
        max(date_day) as last_activity_date,
        sum(posts) as posts,
        sum(tracked_posts) as tracked_posts,
        sum(reach) as reach,
        sum(engagements) as engagements,
        sum(sessions) as sessions,
        sum(engaged_sessions) as engaged_sessions,
        sum(referral_sessions) as referral_sessions,
        sum(leads) as leads,
        sum(new_customers) as new_customers,
        sum(new_customer_revenue) as new_customer_revenue,
        sum(attributed_revenue) as attributed_revenue
    from {{ ref('int_partner_activity_daily') }}
    where program = 'employee'
    group by partner_id, utm_campaign, platform
),

roster as (
    select employee_id, team
    from {{ ref('stg_team_config__employees') }}
),

shared as (
    select
        activity.*,
        roster.team,
        -- the programme's cost is shared by the advocates' posts
        case when activity.employee_id <> '(unattributed)' then activity.posts else 0 end as cost_weight,
        sum(case when activity.employee_id <> '(unattributed)' then activity.posts else 0 end) over () as cost_weight_total,
        row_number() over (
            order by case when activity.employee_id <> '(unattributed)' and activity.posts > 0 then 0 else 1 end,
                     activity.employee_id, activity.utm_campaign, activity.platform
        ) as cost_rank
    from activity
    left join roster
        on activity.employee_id = roster.employee_id
),

rounded as (
    select
        *,
        {{ programme_cost }} as programme_cost,
        cast(case when cost_weight > 0 then round({{ programme_cost }} * cost_weight / cost_weight_total, 2) else 0 end
             as decimal(18, 2)) as cost_share
    from shared
),

costed as (
    select
        *,
        -- the first weighted row takes what rounding left, so the shares add up to the cost
        case
            when programme_cost is null or cost_weight_total = 0 then null
            when employee_id = '(unattributed)' then null
            when cost_weight > 0 and cost_rank = 1
                then programme_cost - (sum(cost_share) over () - cost_share)
            else cost_share
        end as cost
    from rounded
),

final as (
    select
        -- keys
        employee_id,
        utm_campaign,
        platform,

        -- attributes
        team,
        employee_id <> '(unattributed)' as is_attributed,
        first_activity_date,
        last_activity_date,

        {{ partner_outcome_columns("'EUR'") }}

    from costed
)

select * from final
