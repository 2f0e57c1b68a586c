{#- Lifetime metrics per post as of its latest reading, one row per platform and post (for
    Sprout's "lifetime totals for posts published in the period"): one CTE per platform.
    - Facebook, Instagram, X: the latest snapshot (int_post_snapshots_unioned). Facebook's
      comments and shares are the post object's live counts (as of the latest read of the
      post, taken in the same runs as the snapshots); Instagram's likes and comments fall back
      to the media object's live counts where the insights do not serve them (feed videos).
    - YouTube: the Data API's current statistics of the video (views, likes, comments), read
      with every run; `metrics_as_of_date` is the latest channel snapshot day (same runs).
    - engagements = reactions + comments + shares + saves + clicks (missing components 0). -#}

with

snapshots as (
    select
        snapshots.*,
        row_number() over (partition by platform, post_id order by snapshot_date desc) as recency
    from {{ ref('int_post_snapshots_unioned') }} as snapshots
),

latest as (
    select * from snapshots where recency = 1
),

facebook_posts as (
    select post_id, comments_count, shares_count from {{ ref('stg_facebook__posts') }}
),

instagram_media as (
    select media_id, like_count, comments_count from {{ ref('stg_instagram__media') }}
),

snapshot_platforms as (
    select
        latest.platform,
        latest.account_id,
        latest.post_id,
        latest.snapshot_date as metrics_as_of_date,
        latest.impressions,
        latest.reach,
        case when latest.platform = 'instagram' then coalesce(latest.reactions, instagram_media.like_count)
             else latest.reactions end as reactions,
        case when latest.platform = 'facebook' then facebook_posts.comments_count
             when latest.platform = 'instagram' then coalesce(latest.comments, instagram_media.comments_count)
             else latest.comments end as comments,
        case when latest.platform = 'facebook' then facebook_posts.shares_count
             else latest.shares end as shares,
        latest.saves,
        latest.clicks,
        latest.link_clicks,
        latest.video_views
    from latest
    left join facebook_posts
        on latest.platform = 'facebook' and latest.post_id = facebook_posts.post_id
    left join instagram_media
        on latest.platform = 'instagram' and latest.post_id = instagram_media.media_id
),

youtube_posts as (
    select account_id, post_id from {{ ref('int_posts_unioned') }} where platform = 'youtube'
),

youtube_channel_reads as (
    select channel_id, max(snapshot_date) as latest_snapshot_date
    from {{ ref('stg_youtube__channels') }}
    group by channel_id
),

youtube as (
    select
        'youtube' as platform,
        youtube_posts.account_id,
        videos.video_id as post_id,
        youtube_channel_reads.latest_snapshot_date as metrics_as_of_date,
        videos.view_count as impressions,
        cast(null as {{ dbt.type_bigint() }}) as reach,
        videos.like_count as reactions,
        videos.comment_count as comments,
        cast(null as {{ dbt.type_bigint() }}) as shares,
        cast(null as {{ dbt.type_bigint() }}) as saves,
        cast(null as {{ dbt.type_bigint() }}) as clicks,
        cast(null as {{ dbt.type_bigint() }}) as link_clicks,
        videos.view_count as video_views
    from {{ ref('stg_youtube__videos') }} as videos
    inner join youtube_posts on videos.video_id = youtube_posts.post_id
    left join youtube_channel_reads on videos.channel_id = youtube_channel_reads.channel_id
),

unioned as (
    select * from snapshot_platforms
    union all
    select * from youtube
),

final as (
    select
        -- keys
        platform,
        account_id,
        post_id,

        -- the day the lifetime values were read
        metrics_as_of_date,

        -- lifetime values
        {% for m in ['impressions', 'reach', 'reactions', 'comments', 'shares', 'saves', 'clicks', 'link_clicks', 'video_views'] %}
        cast({{ m }} as {{ dbt.type_bigint() }}) as {{ m }},
        {% endfor %}
        cast(coalesce(reactions, 0) + coalesce(comments, 0) + coalesce(shares, 0)
             + coalesce(saves, 0) + coalesce(clicks, 0) as {{ dbt.type_bigint() }}) as engagements
    from unioned
)

select * from final
