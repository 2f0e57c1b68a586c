{#- Influencer impact per creator, campaign and platform over all history: what each roster
    creator posted about the brand, the traffic and CRM outcomes their tracked links brought,
    their fee and CPA (int_partner_activity_daily, program 'influencer'). The fee is the
    roster's, one per creator: it is shared over the creator's campaigns by tracked posts (the
    deliverables it pays for), to the cent; a creator with no tracked post carries the whole
    fee on their '(not set)' row on the roster's platform. A table rebuilt whole: a fee spreads
    over all of a creator's campaigns, whatever their days. -#}

with

activity as (
    select
        partner_id as influencer_id,
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
    where program = 'influencer'
    group by partner_id, utm_campaign, platform
),

roster as (
    select
        influencer_id,
        handle,
        platform as roster_platform,
        fee_eur,
        fee_currency
    from {{ ref('stg_team_config__influencers') }}
),

tracked_per_influencer as (
    select influencer_id, sum(tracked_posts) as tracked_posts
    from activity
    group by influencer_id
),

-- a creator without a tracked post still has a row, where the fee is
fee_only as (
    select
        roster.influencer_id,
        '(not set)' as utm_campaign,
        roster.roster_platform as platform
    from roster
    left join tracked_per_influencer
        on roster.influencer_id = tracked_per_influencer.influencer_id
    where coalesce(tracked_per_influencer.tracked_posts, 0) = 0
),

keys as (
    select influencer_id, utm_campaign, platform from activity
    union
    select influencer_id, utm_campaign, platform from fee_only
),

weighted as (
    select
        keys.influencer_id,
        keys.utm_campaign,
        keys.platform,
        roster.handle,
        roster.fee_eur,
        roster.fee_currency,
        activity.first_activity_date,
        activity.last_activity_date,
        coalesce(activity.posts, 0) as posts,
        coalesce(activity.tracked_posts, 0) as tracked_posts,
        coalesce(activity.reach, 0) as reach,
        coalesce(activity.engagements, 0) as engagements,
        coalesce(activity.sessions, 0) as sessions,
        coalesce(activity.engaged_sessions, 0) as engaged_sessions,
        coalesce(activity.referral_sessions, 0) as referral_sessions,
        coalesce(activity.leads, 0) as leads,
        coalesce(activity.new_customers, 0) as new_customers,
        coalesce(activity.new_customer_revenue, 0) as new_customer_revenue,
        coalesce(activity.attributed_revenue, 0) as attributed_revenue,
        -- what the fee is shared by: tracked posts, or the fee-only row
        case
            when fee_only.influencer_id is not null then 1
            else coalesce(activity.tracked_posts, 0)
        end as fee_weight
    from keys
    left join activity
        on keys.influencer_id = activity.influencer_id
        and keys.utm_campaign = activity.utm_campaign
        and keys.platform = activity.platform
    left join roster
        on keys.influencer_id = roster.influencer_id
    left join fee_only
        on keys.influencer_id = fee_only.influencer_id
        and keys.utm_campaign = fee_only.utm_campaign
        and keys.platform = fee_only.platform
),

shared as (
    select
        *,
        sum(fee_weight) over (partition by influencer_id) as fee_weight_total,
        row_number() over (
            partition by influencer_id
            order by case when fee_weight > 0 then 0 else 1 end, utm_campaign, platform
        ) as fee_rank
    from weighted
),

rounded as (
    select
        *,
        cast(case when fee_weight > 0 then round(fee_eur * fee_weight / fee_weight_total, 2) else 0 end as decimal(18, 2)) as fee_share
    from shared
),

costed as (
    select
        *,
        -- the first weighted row takes what rounding left, so the shares add up to the fee
        case
            when fee_eur is null then null
            when fee_weight > 0 and fee_rank = 1
                then fee_eur - (sum(fee_share) over (partition by influencer_id) - fee_share)
            else fee_share
        end as cost
    from rounded
),

final as (
    select
        -- keys
        influencer_id,
        utm_campaign,
        platform,

        -- attributes
        handle,
        influencer_id <> '(unattributed)' as is_attributed,
        first_activity_date,
        last_activity_date,

        {{ partner_outcome_columns("fee_currency") }}

    from costed
)

select * from final
