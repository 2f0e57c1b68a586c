{#- The brand beside each competitor of the set in force, per day and platform: followers,
    posting volume, engagement per post and mentions. Only what a source serves: the brand's
    own accounts give its followers, posts and post engagement; for a competitor the listening
    tool gives mentions and, when it caught a post of the competitor's own account, the follower
    count it reports for that account. Nothing serves a competitor's timeline, so its posts and
    engagement per post are null, never 0. A table rebuilt whole on every run: engagement per
    post is the lifetime engagement of the day's posts (Sprout's post view), which grows for
    weeks after the day as later snapshots arrive. -#}

with

mentions as (
    select * from {{ ref('int_mentions_daily') }}
),

competitor_set as (
    select * from {{ ref('stg_team_config__competitors') }}
),

followers as (
    select * from {{ ref('int_followers_daily') }}
),

posts as (
    select * from {{ ref('int_posts_unioned') }}
),

post_lifetime as (
    select * from {{ ref('int_post_metrics_lifetime') }}
),

-- the brand's followers per platform and day: the sum over its accounts, null unless every
-- account's count is known that day (a platform read only on snapshot days has gaps)
brand_followers as (
    select
        date_day,
        platform,
        case when count(followers) = count(*) then sum(followers) end as followers
    from followers
    group by date_day, platform
),

-- the brand's posts per platform and publication day, with their lifetime engagement
brand_posts as (
    select
        posts.published_date as date_day,
        posts.platform,
        count(*) as posts,
        sum(case when post_lifetime.post_id is not null then 1 else 0 end) as posts_measured,
        sum(post_lifetime.engagements) as post_engagements
    from posts
    left join post_lifetime
        on posts.platform = post_lifetime.platform
        and posts.account_id = post_lifetime.account_id
        and posts.post_id = post_lifetime.post_id
    group by posts.published_date, posts.platform
),

-- platforms whose posts are extracted (LinkedIn's are not: its posts count stays null)
posting_platforms as (
    select distinct platform from posts
),

listening_days as (
    select distinct date_day from mentions
),

platform_days as (
    select distinct date_day, platform from mentions
    union
    select distinct date_day, platform from brand_followers
    union
    select distinct date_day, platform from brand_posts
),

versions_in_force as (
    select
        days.date_day,
        max(competitor_set.set_version) as set_version
    from (select distinct date_day from platform_days) as days
    inner join competitor_set
        on days.date_day >= competitor_set.valid_from
        and (competitor_set.valid_to is null or days.date_day <= competitor_set.valid_to)
    group by days.date_day
),

subjects_in_force as (
    select
        versions_in_force.date_day,
        versions_in_force.set_version,
        lower(trim(competitor_set.entity)) as subject,
        competitor_set.entity_name as subject_name,
        coalesce(competitor_set.is_brand, false) as is_brand,
        {{ normalized_handle('competitor_set.handle') }} as subject_handle
    from versions_in_force
    inner join competitor_set
        on versions_in_force.set_version = competitor_set.set_version
),

subject_mentions as (
    select
        mentions.date_day,
        mentions.platform,
        subjects_in_force.subject,
        sum(mentions.mentions) as mentions,
        sum(mentions.engagements) as mention_engagements,
        sum(mentions.own_account_mentions) as own_account_mentions,
        max(mentions.own_account_followers) as own_account_followers
    from mentions
    inner join subjects_in_force
        on mentions.date_day = subjects_in_force.date_day
        and (mentions.listened_entity = subjects_in_force.subject_handle
             or mentions.listened_entity = subjects_in_force.subject)
    group by mentions.date_day, mentions.platform, subjects_in_force.subject
),

combined as (
    select
        platform_days.date_day,
        platform_days.platform,
        subjects_in_force.subject,
        subjects_in_force.subject_name,
        subjects_in_force.is_brand,
        subjects_in_force.set_version,
        -- followers
        case
            when subjects_in_force.is_brand then brand_followers.followers
            else subject_mentions.own_account_followers
        end as followers,
        case
            when subjects_in_force.is_brand and brand_followers.followers is not null then 'owned_accounts'
            when not subjects_in_force.is_brand and subject_mentions.own_account_followers is not null then 'listening_author'
        end as followers_source,
        -- posting volume and engagement per post: the brand's own accounts only
        case
            when subjects_in_force.is_brand and posting_platforms.platform is not null
                then coalesce(brand_posts.posts, 0)
        end as posts,
        case
            when subjects_in_force.is_brand and posting_platforms.platform is not null
                then coalesce(brand_posts.posts_measured, 0)
        end as posts_measured,
        case when subjects_in_force.is_brand then brand_posts.post_engagements end as post_engagements,
        -- mentions: 0 on a day the listening tool delivered, null on a day it did not
        case when listening_days.date_day is not null then coalesce(subject_mentions.mentions, 0) end as mentions,
        case when listening_days.date_day is not null then coalesce(subject_mentions.mention_engagements, 0) end
            as mention_engagements,
        case when listening_days.date_day is not null then coalesce(subject_mentions.own_account_mentions, 0) end
            as own_account_mentions
    from platform_days
    inner join subjects_in_force
        on platform_days.date_day = subjects_in_force.date_day
    left join subject_mentions
        on platform_days.date_day = subject_mentions.date_day
        and platform_days.platform = subject_mentions.platform
        and subjects_in_force.subject = subject_mentions.subject
    left join brand_followers
        on platform_days.date_day = brand_followers.date_day
        and platform_days.platform = brand_followers.platform
    left join brand_posts
        on platform_days.date_day = brand_posts.date_day
        and platform_days.platform = brand_posts.platform
    left join posting_platforms
        on platform_days.platform = posting_platforms.platform
    left join listening_days
        on platform_days.date_day = listening_days.date_day
),

final as (
    select
        -- keys
        date_day,
        platform,
        subject,

        -- attributes
        subject_name,
        is_brand,
        cast(set_version as {{ dbt.type_bigint() }}) as competitor_set_version,
        followers_source,

        -- audience
        cast(followers as {{ dbt.type_bigint() }}) as followers,

        -- posting volume and engagement per post
        cast(posts as {{ dbt.type_bigint() }}) as posts,
        cast(posts_measured as {{ dbt.type_bigint() }}) as posts_measured,
        cast(post_engagements as {{ dbt.type_bigint() }}) as post_engagements,
        {{ safe_divide('post_engagements', 'posts_measured') }} as engagement_per_post,

        -- mentions (listening)
        cast(mentions as {{ dbt.type_bigint() }}) as mentions,
        cast(mention_engagements as {{ dbt.type_bigint() }}) as mention_engagements,
        cast(own_account_mentions as {{ dbt.type_bigint() }}) as own_account_mentions
    from combined
)

select * from final
