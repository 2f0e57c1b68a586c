{#- Every ad platform campaign with the team's campaign it belongs to (team_config campaigns:
    campaign_key, utm_campaign, objective). The team's file names campaigns, not platform
    ids, so the mapping is by name:
    - `exact_name`: the platform campaign's name is the team campaign's `name` (Meta, Google);
    - `name_prefix`: it starts with the team campaign's name and ' - ' (LinkedIn runs one
      campaign per audience, "Lead Magnet - DACH", in a group named for the team's campaign).
    An exact match wins over a prefix, a longer team name over a shorter one. Unmapped
    campaigns keep null team columns. Names are compared trimmed and case-insensitively. -#}

with

meta_campaigns as (
    select
        account_id,
        campaign_id,
        campaign_name,
        cast(null as {{ dbt.type_string() }}) as platform_objective,
        cast(null as {{ dbt.type_string() }}) as platform_status,
        row_number() over (partition by account_id, campaign_id order by date_day desc) as recency
    from {{ ref('stg_meta_ads__ads_insights') }}
),

google_listed as (
    select
        customer_id as account_id,
        campaign_id,
        campaign_name,
        advertising_channel_type as platform_objective,
        status as platform_status
    from {{ ref('stg_google_ads__campaigns') }}
),

-- campaigns with metrics but absent from the campaign list (removed since) keep their name
google_seen as (
    select
        customer_id as account_id,
        campaign_id,
        campaign_name,
        row_number() over (partition by customer_id, campaign_id order by date_day desc) as recency
    from {{ ref('stg_google_ads__ad_group_daily') }}
),

linkedin_campaigns as (
    select
        account_id,
        campaign_id,
        campaign_name,
        objective_type as platform_objective,
        status as platform_status
    from {{ ref('stg_linkedin_ads__ad_campaigns') }}
),

platform_campaigns as (
    select 'meta_ads' as platform, 'meta_paid' as channel_key, account_id, campaign_id, campaign_name,
           platform_objective, platform_status
    from meta_campaigns
    where recency = 1

    union all

    select 'google_ads' as platform, 'google_cpc' as channel_key, account_id, campaign_id, campaign_name,
           platform_objective, platform_status
    from google_listed

    union all

    select 'google_ads' as platform, 'google_cpc' as channel_key, google_seen.account_id, google_seen.campaign_id,
           google_seen.campaign_name, cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }})
    from google_seen
    left join google_listed
        on google_seen.account_id = google_listed.account_id
        and google_seen.campaign_id = google_listed.campaign_id
    where google_seen.recency = 1 and google_listed.campaign_id is null

    union all

    select 'linkedin_ads' as platform, 'linkedin_paid' as channel_key, account_id, campaign_id, campaign_name,
           platform_objective, platform_status
    from linkedin_campaigns
),

team_campaigns as (
    select * from {{ ref('stg_team_config__campaigns') }}
),

candidates as (
    select
        platform_campaigns.platform,
        platform_campaigns.account_id,
        platform_campaigns.campaign_id,
        team_campaigns.campaign_key,
        case
            when lower(trim(platform_campaigns.campaign_name)) = lower(trim(team_campaigns.campaign_name))
                then 'exact_name'
            else 'name_prefix'
        end as mapping_rule,
        row_number() over (
            partition by platform_campaigns.platform, platform_campaigns.account_id, platform_campaigns.campaign_id
            order by
                case when lower(trim(platform_campaigns.campaign_name)) = lower(trim(team_campaigns.campaign_name))
                     then 0 else 1 end,
                {{ dbt.length('team_campaigns.campaign_name') }} desc,
                team_campaigns.campaign_key
        ) as preference
    from platform_campaigns
    inner join team_campaigns
        on lower(trim(platform_campaigns.campaign_name)) = lower(trim(team_campaigns.campaign_name))
        or {{ dbt.position(dbt.concat(["lower(trim(team_campaigns.campaign_name))", "' - '"]), 'lower(trim(platform_campaigns.campaign_name))') }} = 1
),

final as (
    select
        -- keys
        platform_campaigns.platform,
        platform_campaigns.account_id,
        platform_campaigns.campaign_id,

        -- platform attributes
        platform_campaigns.campaign_name,
        platform_campaigns.channel_key,
        platform_campaigns.platform_objective,
        platform_campaigns.platform_status,

        -- the team's campaign (null when unmapped)
        team_campaigns.campaign_key,
        team_campaigns.campaign_name as team_campaign_name,
        team_campaigns.utm_campaign,
        team_campaigns.objective,
        team_campaigns.start_date as campaign_start_date,
        team_campaigns.end_date as campaign_end_date,
        candidates.mapping_rule,
        -- the team's file lists the channel for this campaign (`channels`)
        case
            when team_campaigns.campaign_key is null then null
            else {{ dbt.position(dbt.concat(["'|'", 'platform_campaigns.channel_key', "'|'"]), dbt.concat(["'|'", 'team_campaigns.channels', "'|'"])) }} > 0
        end as is_planned_channel

    from platform_campaigns
    left join candidates
        on candidates.platform = platform_campaigns.platform
        and candidates.account_id = platform_campaigns.account_id
        and candidates.campaign_id = platform_campaigns.campaign_id
        and candidates.preference = 1
    left join team_campaigns on candidates.campaign_key = team_campaigns.campaign_key
)

select * from final
