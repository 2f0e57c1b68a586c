{#- Organic activity per platform, account and day ("profile metrics as activity during the
    period", as Sprout counts them), one row per platform, account and day: one CTE per
    platform mapping its daily account-level figures, then `union all`. `date_day` is the day
    as the platform reports it, in `account_timezone`. A measure the platform does not serve
    is null, not 0.
    - Facebook (Page insights, Pacific days): impressions = page_media_view (Meta's
      replacement of page_impressions), engagements = page_post_engagements; reach is not
      asked (null).
    - Instagram (account insights, Pacific days): impressions = views, reach = reach (unique
      accounts that day), engagements = total_interactions.
    - X (no account-level daily figures): the sums of the daily deltas of the accounts' posts
      (int_post_metrics_daily) on the snapshot day (UTC); no reach.
    - LinkedIn (share statistics, UTC days): impressions = impressionCount, reach =
      uniqueImpressionsCount, engagements = clicks + likes + comments + shares (LinkedIn's
      own engagement numerator), link_clicks = clickCount (LinkedIn does not split link
      clicks from other clicks).
    - YouTube (channel analytics, Pacific days): impressions = views (the Analytics API
      serves no impressions; a view is the closest count of times the content was shown),
      engagements = likes + comments, video_views = views, watch_minutes.
    - link_clicks of Facebook and Instagram: no daily account figure, so the sums of their
      posts' daily link-click deltas (post_clicks_by_type "link clicks"; Instagram's
      profile_activity) on the snapshot day. -#}

with

post_days as (
    select
        platform,
        account_id,
        date_day,
        sum(impressions) as impressions,
        sum(engagements) as engagements,
        sum(reactions) as reactions,
        sum(comments) as comments,
        sum(shares) as shares,
        sum(saves) as saves,
        sum(link_clicks) as link_clicks
    from {{ ref('int_post_metrics_daily') }}
    where platform in ('facebook', 'instagram', 'x')
    group by platform, account_id, date_day
),

facebook_pages as (
    select
        'facebook' as platform,
        page_id as account_id,
        date_day,
        account_timezone,
        'page_insights' as metrics_source,
        media_views as impressions,
        cast(null as {{ dbt.type_bigint() }}) as reach,
        post_engagements as engagements,
        cast(null as {{ dbt.type_bigint() }}) as reactions,
        cast(null as {{ dbt.type_bigint() }}) as comments,
        cast(null as {{ dbt.type_bigint() }}) as shares,
        cast(null as {{ dbt.type_bigint() }}) as saves,
        cast(null as {{ dbt.type_bigint() }}) as video_views,
        cast(null as {{ dbt.type_bigint() }}) as watch_minutes
    from {{ ref('stg_facebook__page_insights') }}
),

instagram_accounts as (
    select
        'instagram' as platform,
        ig_user_id as account_id,
        date_day,
        account_timezone,
        'account_insights' as metrics_source,
        views as impressions,
        reach,
        total_interactions as engagements,
        cast(null as {{ dbt.type_bigint() }}) as reactions,
        cast(null as {{ dbt.type_bigint() }}) as comments,
        cast(null as {{ dbt.type_bigint() }}) as shares,
        cast(null as {{ dbt.type_bigint() }}) as saves,
        cast(null as {{ dbt.type_bigint() }}) as video_views,
        cast(null as {{ dbt.type_bigint() }}) as watch_minutes
    from {{ ref('stg_instagram__account_insights') }}
),

meta_accounts as (
    select * from facebook_pages
    union all
    select * from instagram_accounts
),

meta_post_days as (
    select * from post_days where platform in ('facebook', 'instagram')
),

-- Facebook and Instagram: the account's figures, plus the link clicks of its posts that day
-- (a day with post deltas but no account figures still gets a row)
meta as (
    select
        coalesce(meta_accounts.platform, meta_post_days.platform) as platform,
        coalesce(meta_accounts.account_id, meta_post_days.account_id) as account_id,
        coalesce(meta_accounts.date_day, meta_post_days.date_day) as date_day,
        coalesce(meta_accounts.account_timezone, 'America/Los_Angeles') as account_timezone,
        coalesce(meta_accounts.metrics_source, 'post_snapshot_deltas') as metrics_source,
        meta_accounts.impressions,
        meta_accounts.reach,
        meta_accounts.engagements,
        meta_accounts.reactions,
        meta_accounts.comments,
        meta_accounts.shares,
        meta_accounts.saves,
        meta_post_days.link_clicks,
        meta_accounts.video_views,
        meta_accounts.watch_minutes
    from meta_accounts
    full outer join meta_post_days
        on meta_accounts.platform = meta_post_days.platform
        and meta_accounts.account_id = meta_post_days.account_id
        and meta_accounts.date_day = meta_post_days.date_day
),

x as (
    select
        'x' as platform,
        account_id,
        date_day,
        'UTC' as account_timezone,
        'post_snapshot_deltas' as metrics_source,
        impressions,
        cast(null as {{ dbt.type_bigint() }}) as reach,
        engagements,
        reactions,
        comments,
        shares,
        saves,
        link_clicks,
        cast(null as {{ dbt.type_bigint() }}) as video_views,
        cast(null as {{ dbt.type_bigint() }}) as watch_minutes
    from post_days
    where platform = 'x'
),

linkedin as (
    select
        'linkedin' as platform,
        organization_id as account_id,
        date_day,
        account_timezone,
        'share_statistics' as metrics_source,
        impressions,
        unique_impressions as reach,
        clicks + likes + comments + shares as engagements,
        likes as reactions,
        comments,
        shares,
        cast(null as {{ dbt.type_bigint() }}) as saves,
        clicks as link_clicks,
        cast(null as {{ dbt.type_bigint() }}) as video_views,
        cast(null as {{ dbt.type_bigint() }}) as watch_minutes
    from {{ ref('stg_linkedin__share_statistics') }}
),

youtube as (
    select
        'youtube' as platform,
        channel_id as account_id,
        date_day,
        account_timezone,
        'channel_analytics' as metrics_source,
        views as impressions,
        cast(null as {{ dbt.type_bigint() }}) as reach,
        likes + comments as engagements,
        likes as reactions,
        comments,
        cast(null as {{ dbt.type_bigint() }}) as shares,
        cast(null as {{ dbt.type_bigint() }}) as saves,
        cast(null as {{ dbt.type_bigint() }}) as link_clicks,
        views as video_views,
        watch_minutes
    from {{ ref('stg_youtube__channel_analytics_daily') }}
),

unioned as (
    select * from meta
    union all
    select * from x
    union all
    select * from linkedin
    union all
    select * from youtube
),

final as (
    select
        -- keys
        platform,
        account_id,
        date_day,

        -- attributes
        account_timezone,
        metrics_source,

        -- measures of the day
        {% for m in ['impressions', 'reach', 'engagements', 'reactions', 'comments', 'shares', 'saves', 'link_clicks', 'video_views', 'watch_minutes'] %}
        cast({{ m }} as {{ dbt.type_bigint() }}) as {{ m }}{{ "," if not loop.last }}
        {% endfor %}
    from unioned
)

select * from final
