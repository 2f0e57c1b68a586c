{#- Every KPI of the team's registry as daily values, in long format: one CTE per KPI (named
    `kpi_<kpi>`) reads the mart that serves it and writes (date_day, platform, campaign,
    numerator, denominator), so any period's value - and its split into platforms and campaigns
    - is a sum over rows. The list of mapped KPIs and how a period aggregates them is
    `scorecard_kpi_mappings()` (macros/scorecard.sql); a registry KPI missing from it fails the
    `registry_kpis_are_mapped` test of int_kpi_mappings. Conventions: campaign is the team's
    utm_campaign, else the platform's campaign id, '(not set)' when the row has none (organic
    activity, untagged traffic); counts have denominator 1. -#}

{#- A table rebuilt whole each run, not a view: fct_scorecard, fct_scorecard_contributions and
    this model's two data tests each recomputed it (1.9 s of CPU at SF10 for a year, 0.9 million
    rows: one per measured care contact for the median KPIs), about 7.6 s of CPU a one-day build;
    built once, it is read as a table. Rebuilt whole: a day's values follow the marts it reads,
    and some of those change old days (a care contact answered later, a post's lifetime totals). -#}
{{ config(materialized='table') }}

{%- set mappings = scorecard_kpi_mappings() -%}
{%- set social_channels = "('Organic Social', 'Paid Social', 'Influencer')" -%}

with

organic_days as (
    select * from {{ ref('fct_channel_performance_daily') }}
    where not is_paid
),

paid_social_campaign_days as (
    select * from {{ ref('fct_campaign_performance_daily') }}
    where social_platform is not null
),

social_web_sessions as (
    select * from {{ ref('fct_web_traffic_daily') }}
    where is_social
),

campaign_roi_days as (
    select * from {{ ref('fct_campaign_roi_daily') }}
),

-- practice 5: organic + paid social impressions
kpi_impressions as (
    select date_day, platform, '(not set)' as campaign, impressions as numerator, 1 as denominator
    from organic_days
    where impressions is not null
    union all
    select date_day, social_platform, coalesce(utm_campaign, campaign_id), impressions, 1
    from paid_social_campaign_days
),

-- practice 5: reach per day as reported (averaged over days by the scorecard, never summed)
kpi_reach as (
    select date_day, platform, '(not set)' as campaign, reach as numerator, 1 as denominator
    from organic_days
    where reach is not null
    union all
    select date_day, social_platform, coalesce(utm_campaign, campaign_id), reach, 1
    from paid_social_campaign_days
    where reach is not null
),

-- practice 6: engagements / impressions (organic activity)
kpi_engagement_rate as (
    select date_day, platform, '(not set)' as campaign, engagements as numerator, impressions as denominator
    from organic_days
    where engagements is not null and impressions is not null
),

-- practice 7: link clicks / impressions, organic and paid social
kpi_ctr as (
    select date_day, platform, '(not set)' as campaign, link_clicks as numerator, impressions as denominator
    from organic_days
    where link_clicks is not null and impressions is not null
    union all
    select date_day, social_platform, coalesce(utm_campaign, campaign_id), clicks, impressions
    from paid_social_campaign_days
),

-- practice 8: key events / sessions of social web sessions
kpi_conversion_rate as (
    select date_day, social_platform as platform, campaign, key_events as numerator, sessions as denominator
    from social_web_sessions
),

-- practice 10: 28-day follower growth
kpi_follower_growth_rate_28d as (
    select date_day, platform, '(not set)' as campaign, growth_28d as numerator, followers_28d_before as denominator
    from organic_days
    where growth_28d is not null and followers_28d_before is not null
),

-- practice 12: lifetime engagement rate of the posts published on the day
kpi_content_engagement_rate as (
    select published_date as date_day, platform, '(not set)' as campaign, engagements as numerator, impressions as denominator
    from {{ ref('fct_post_performance') }}
    where engagements is not null and impressions is not null
),

-- practice 17: ROI and ROAS
kpi_roi as (
    select date_day, platform, utm_campaign as campaign,
           attributed_revenue - spend_reporting as numerator, spend_reporting as denominator
    from campaign_roi_days
),

kpi_roas as (
    select date_day, platform, utm_campaign as campaign,
           attributed_revenue as numerator, spend_reporting as denominator
    from campaign_roi_days
),

-- practice 18: sessions from social
kpi_social_sessions as (
    select date_day, social_platform as platform, campaign, sessions as numerator, 1 as denominator
    from social_web_sessions
),

-- practice 19: historical CLV of the social-acquired cohorts, dated on the cohort month
kpi_clv_eur as (
    select cohort_month as date_day, social_platform as platform, '(not set)' as campaign,
           revenue_to_date as numerator, customers as denominator
    from {{ ref('fct_clv_by_channel') }}
    where acquisition_channel in {{ social_channels }}
),

-- practice 23: leads from social, and cost per lead of the ad platforms
kpi_leads as (
    select date_day, social_platform as platform, utm_campaign as campaign, leads as numerator, 1 as denominator
    from {{ ref('fct_leads_daily') }}
    where is_social
),

kpi_cost_per_lead_eur as (
    select date_day, platform, utm_campaign as campaign, spend_reporting as numerator, leads as denominator
    from campaign_roi_days
),

-- practice 24: month-3 retention of the social-acquired cohorts, dated on the month measured
kpi_retention_m3 as (
    select activity_month as date_day, social_platform as platform, '(not set)' as campaign,
           active_customers as numerator, cohort_customers as denominator
    from {{ ref('fct_customer_retention_cohorts') }}
    where months_since_acquisition = 3
      and acquisition_channel in {{ social_channels }}
),

-- practice 26: CPA (CRM new customers, deduplicated)
kpi_cpa_eur as (
    select date_day, platform, utm_campaign as campaign, spend_reporting as numerator, new_customers as denominator
    from campaign_roi_days
),

-- practice 29: paid share of impressions
kpi_paid_share as (
    select date_day, platform, '(not set)' as campaign, 0 as numerator, impressions as denominator
    from organic_days
    where impressions is not null
    union all
    select date_day, social_platform, coalesce(utm_campaign, campaign_id), impressions, impressions
    from paid_social_campaign_days
),

-- practice 31: campaign response rate
kpi_campaign_response_rate as (
    select date_day, platform, coalesce(utm_campaign, campaign_id) as campaign,
           responses as numerator, response_base as denominator
    from {{ ref('fct_campaign_performance_daily') }}
),

-- practice 32: UGC volume about the brand
kpi_ugc_volume as (
    select date_day, platform, '(not set)' as campaign, items as numerator, 1 as denominator
    from {{ ref('fct_ugc_vs_brand_daily') }}
    where is_ugc and subject = 'brand' and content_source = 'listening_mention'
),

-- practices 9, 21, 28: sentiment of what others write (fct_sentiment_daily)
kpi_net_sentiment as (
    select date_day, platform, '(not set)' as campaign,
           positive_texts - negative_texts as numerator, scored_texts as denominator
    from {{ ref('fct_sentiment_daily') }}
    where text_kind = 'mention' and subject = 'brand'
),

kpi_brand_health as (
    select date_day, platform, '(not set)' as campaign,
           positive_texts as numerator, positive_texts + negative_texts as denominator
    from {{ ref('fct_sentiment_daily') }}
    where text_kind = 'mention' and subject = 'brand'
),

kpi_sentiment_7d as (
    select date_day, platform, '(not set)' as campaign, score_sum as numerator, scored_texts as denominator
    from {{ ref('fct_sentiment_daily') }}
    where subject = 'brand'
),

-- practice 22: share of voice by mentions against the competitor set in force
kpi_share_of_voice as (
    select date_day, platform, '(not set)' as campaign, mentions as numerator, total_mentions as denominator
    from {{ ref('fct_share_of_voice_daily') }}
    where is_brand
),

-- practice 14: the brand's engagement per post against the competitors' median, per day and
-- platform where both are known (no source serves competitors' posts yet: no rows until one does)
competitor_engagement_per_post as (
    select date_day, platform, {{ exact_median('engagement_per_post') }} as competitor_median_engagement_per_post
    from {{ ref('fct_competitor_benchmark') }}
    where not is_brand and engagement_per_post is not null
    group by date_day, platform
),

kpi_engagement_per_post_vs_competitors as (
    select brand.date_day, brand.platform, '(not set)' as campaign,
           brand.post_engagements as numerator,
           brand.posts_measured * competitors.competitor_median_engagement_per_post as denominator
    from {{ ref('fct_competitor_benchmark') }} as brand
    inner join competitor_engagement_per_post as competitors
        on brand.date_day = competitors.date_day
        and brand.platform = competitors.platform
    where brand.is_brand and brand.posts_measured > 0
),

-- practice 13: response time (one row per answered customer contact) and response rate
care_customer_contacts as (
    select * from {{ ref('fct_care_responses') }}
    where author_type = 'customer'
),

kpi_median_response_minutes as (
    select received_date as date_day, platform, '(not set)' as campaign,
           item_kind || ':' || item_id as item_id,
           minutes_to_first_reply as numerator, 1 as denominator
    from care_customer_contacts
    where is_answered
),

kpi_response_rate as (
    select received_date as date_day, platform, '(not set)' as campaign,
           case when is_answered then 1 else 0 end as numerator, 1 as denominator
    from care_customer_contacts
),

-- practice 15: relative lift of each treatment, dated on its last observed day
kpi_ab_lift as (
    select last_observed_date as date_day, platform, experiment_id || ':' || variant as campaign,
           conversion_rate - control_rate as numerator, control_rate as denominator
    from {{ ref('fct_ab_test_results') }}
    where not is_control and control_rate > 0 and conversion_rate is not null and last_observed_date is not null
),

-- practice 16: influencer fee / new customers of the creators' links. Each creator row's fee
-- share (fct_influencer_impact.cost, shared by tracked posts) is spread over the days of those
-- tracked posts (a row without any on its first activity day); customers on their first purchase
influencer_days as (
    select partner_id as influencer_id, utm_campaign, platform, date_day, tracked_posts, new_customers
    from {{ ref('int_partner_activity_daily') }}
    where program = 'influencer' and partner_id <> '(unattributed)'
),

influencer_rows as (
    select
        impact.influencer_id, impact.utm_campaign, impact.platform, impact.cost, impact.first_activity_date,
        coalesce(sum(influencer_days.tracked_posts), 0) as tracked_posts
    from {{ ref('fct_influencer_impact') }} as impact
    left join influencer_days
        on impact.influencer_id = influencer_days.influencer_id
        and impact.utm_campaign = influencer_days.utm_campaign
        and impact.platform = influencer_days.platform
    where impact.is_attributed
    group by impact.influencer_id, impact.utm_campaign, impact.platform, impact.cost, impact.first_activity_date
),

influencer_cost_days as (
    select influencer_days.date_day, influencer_days.platform, influencer_days.utm_campaign,
           influencer_rows.cost * influencer_days.tracked_posts / influencer_rows.tracked_posts as cost
    from influencer_rows
    inner join influencer_days
        on influencer_rows.influencer_id = influencer_days.influencer_id
        and influencer_rows.utm_campaign = influencer_days.utm_campaign
        and influencer_rows.platform = influencer_days.platform
    where influencer_rows.tracked_posts > 0 and influencer_days.tracked_posts > 0
    union all
    select first_activity_date, platform, utm_campaign, cost
    from influencer_rows
    where tracked_posts = 0 and cost <> 0
),

kpi_influencer_cpa_eur as (
    select date_day, platform, utm_campaign as campaign, cost as numerator, 0 as denominator
    from influencer_cost_days
    union all
    select date_day, platform, utm_campaign, 0, new_customers
    from influencer_days
    where new_customers > 0
),

-- practice 20: negative comments, messages, mentions and survey comments (fct_feedback_daily)
kpi_negative_feedback as (
    select date_day, platform, '(not set)' as campaign, negative_texts as numerator, 1 as denominator
    from {{ ref('fct_feedback_daily') }}
),

-- practice 25: CSAT, daily rows of fct_csat
kpi_csat as (
    select period_start as date_day, coalesce(platform, channel) as platform, '(not set)' as campaign,
           satisfied_responses as numerator, responses as denominator
    from {{ ref('fct_csat') }}
    where period = 'day'
),

-- practice 33: minutes from a crisis's start to the brand's first reply, dated on its start
kpi_crisis_time_to_first_response_minutes as (
    select start_date as date_day, '(all)' as platform, '(not set)' as campaign,
           minutes_to_first_reply as numerator, 1 as denominator
    from {{ ref('fct_crises') }}
    where subject = 'brand' and minutes_to_first_reply is not null
),

-- practice 34: sessions from employee advocacy links (the daily rows behind fct_employee_advocacy)
kpi_advocacy_sessions as (
    select date_day, platform, utm_campaign as campaign, sessions as numerator, 1 as denominator
    from {{ ref('int_partner_activity_daily') }}
    where program = 'employee'
),

unioned as (
    {%- for m in mappings %}
    select
        '{{ m.kpi }}' as kpi,
        date_day,
        platform,
        campaign,
        {% if m.aggregation == 'median' -%} cast(item_id as {{ dbt.type_string() }}) {%- else -%} cast(null as {{ dbt.type_string() }}) {%- endif %} as item_id,
        cast(numerator as double) as numerator,
        cast(denominator as double) as denominator
    from kpi_{{ m.kpi }}
    {{ "union all" if not loop.last }}
    {%- endfor %}
),

final as (
    select
        -- keys
        kpi,
        date_day,
        coalesce(platform, '(unknown)') as platform,
        coalesce(campaign, '(not set)') as campaign,
        item_id,

        -- measures
        sum(numerator) as numerator,
        sum(denominator) as denominator,
        {{ safe_divide('sum(numerator)', 'sum(denominator)') }} as value
    from unioned
    where date_day is not null
    group by kpi, date_day, coalesce(platform, '(unknown)'), coalesce(campaign, '(not set)'), item_id
)

select * from final
