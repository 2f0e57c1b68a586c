{#- One row per post with its lifetime totals as of the latest reading (Sprout's "lifetime
    totals for posts published in the period"). A table rebuilt whole, not incremental: any
    post's totals can change on any run (snapshots of posts up to 28 days old, YouTube's
    statistics of every video), and posts are few. -#}

with

posts as (
    select * from {{ ref('int_posts_unioned') }}
),

lifetime as (
    select * from {{ ref('int_post_metrics_lifetime') }}
),

tags as (
    select
        platform,
        post_id,
        {{ dbt.listagg('topic_tag', "','", 'order by topic_tag') }} as topic_tags,
        count(*) as topic_tag_count
    from {{ ref('int_post_topic_tags') }}
    group by platform, post_id
),

final as (
    select
        -- keys
        posts.platform,
        posts.account_id,
        posts.post_id,

        -- attributes
        posts.published_at,
        posts.published_date,
        posts.content_type,
        tags.topic_tags,
        cast(coalesce(tags.topic_tag_count, 0) as {{ dbt.type_bigint() }}) as topic_tag_count,
        posts.author_type,
        posts.permalink,
        lifetime.metrics_as_of_date,

        -- lifetime totals
        lifetime.impressions,
        lifetime.reach,
        lifetime.engagements,
        lifetime.reactions,
        lifetime.comments,
        lifetime.shares,
        lifetime.saves,
        lifetime.clicks,
        lifetime.link_clicks,
        lifetime.video_views,

        -- rates (numerators and denominators are the columns above)
        {{ safe_divide('lifetime.engagements', 'lifetime.impressions') }} as engagement_rate,
        {{ safe_divide('lifetime.engagements', 'lifetime.reach') }} as engagement_rate_by_reach,
        {{ safe_divide('lifetime.link_clicks', 'lifetime.impressions') }} as ctr

    from posts
    left join lifetime on posts.platform = lifetime.platform and posts.post_id = lifetime.post_id
    left join tags on posts.platform = tags.platform and posts.post_id = tags.post_id
)

select * from final
