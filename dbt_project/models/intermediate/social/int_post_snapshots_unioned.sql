{#- Lifetime post metrics as read on each snapshot day, one row per platform, post and snapshot
    day: one CTE per platform mapping its lifetime insights to the shared metrics, then
    `union all`. A metric the platform does not serve for the post is null, not 0.
    - Facebook (post insights): impressions = post_media_view, reach =
      post_total_media_view_unique, reactions = the sum of post_reactions_by_type_total,
      clicks = post_clicks (link, photo and other clicks), link_clicks = its "link clicks".
      Comments and shares are not lifetime insights (they are live counts of the post object,
      used for the lifetime totals in int_post_metrics_lifetime): null here.
    - Instagram (media insights): impressions = views (Meta serves none for carousels and feed
      videos: null), reach, reactions = likes, comments, saves = saved, shares = shares, or for
      image posts (Meta refuses `shares` there) total_interactions minus likes, comments,
      saves and story replies; clicks = link_clicks = profile_activity (bio link taps and the
      other profile actions the media led to: Instagram has no link clicks on posts).
    - X (post metrics): impressions, reactions = likes, comments = replies, shares = retweets +
      quotes, saves = bookmarks, clicks = url_link_clicks + user_profile_clicks, link_clicks =
      url_link_clicks (null for posts over 30 days old, whose non-public metrics X no longer
      serves). Reach: X reports none.
    - YouTube is not here: YouTube Analytics reports daily values, not lifetime snapshots.
    Only posts of int_posts_unioned (X replies to customers are left out). -#}

with

posts as (
    select platform, account_id, post_id from {{ ref('int_posts_unioned') }}
),

facebook as (
    select
        'facebook' as platform,
        post_id,
        snapshot_date,
        media_views as impressions,
        media_viewers as reach,
        reactions,
        cast(null as {{ dbt.type_bigint() }}) as comments,
        cast(null as {{ dbt.type_bigint() }}) as shares,
        cast(null as {{ dbt.type_bigint() }}) as saves,
        clicks,
        link_clicks,
        cast(null as {{ dbt.type_bigint() }}) as video_views
    from {{ ref('stg_facebook__post_insights') }}
),

instagram as (
    select
        'instagram' as platform,
        media_id as post_id,
        snapshot_date,
        views as impressions,
        reach,
        likes as reactions,
        comments,
        coalesce(
            shares,
            case when total_interactions is not null
                 then total_interactions - coalesce(likes, 0) - coalesce(comments, 0)
                      - coalesce(saved, 0) - coalesce(replies, 0)
            end
        ) as shares,
        saved as saves,
        profile_activity as clicks,
        profile_activity as link_clicks,
        cast(null as {{ dbt.type_bigint() }}) as video_views
    from {{ ref('stg_instagram__media_insights') }}
),

x as (
    select
        'x' as platform,
        post_id,
        snapshot_date,
        impressions,
        cast(null as {{ dbt.type_bigint() }}) as reach,
        likes as reactions,
        replies as comments,
        retweets + quotes as shares,
        bookmarks as saves,
        url_link_clicks + user_profile_clicks as clicks,
        url_link_clicks as link_clicks,
        cast(null as {{ dbt.type_bigint() }}) as video_views
    from {{ ref('stg_x__post_metrics') }}
),

unioned as (
    select * from facebook
    union all
    select * from instagram
    union all
    select * from x
),

final as (
    select
        -- keys
        unioned.platform,
        posts.account_id,
        unioned.post_id,
        unioned.snapshot_date,

        -- lifetime values as of the snapshot
        cast(unioned.impressions as {{ dbt.type_bigint() }}) as impressions,
        cast(unioned.reach as {{ dbt.type_bigint() }}) as reach,
        cast(unioned.reactions as {{ dbt.type_bigint() }}) as reactions,
        cast(unioned.comments as {{ dbt.type_bigint() }}) as comments,
        cast(unioned.shares as {{ dbt.type_bigint() }}) as shares,
        cast(unioned.saves as {{ dbt.type_bigint() }}) as saves,
        cast(unioned.clicks as {{ dbt.type_bigint() }}) as clicks,
        cast(unioned.link_clicks as {{ dbt.type_bigint() }}) as link_clicks,
        cast(unioned.video_views as {{ dbt.type_bigint() }}) as video_views
    from unioned
    inner join posts on unioned.platform = posts.platform and unioned.post_id = posts.post_id
)

select * from final
