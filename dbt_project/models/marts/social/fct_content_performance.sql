{#- Content performance per platform, account, content type, topic tag and publication day
    (with its week), from the posts' lifetime totals. A table rebuilt whole, like
    fct_post_performance, for the same reason. -#}

with

posts as (
    select * from {{ ref('int_posts_unioned') }}
),

lifetime as (
    select * from {{ ref('int_post_metrics_lifetime') }}
),

tags as (
    select * from {{ ref('int_post_topic_tags') }}
),

post_tags as (
    select
        posts.platform,
        posts.account_id,
        posts.post_id,
        posts.content_type,
        posts.published_date,
        coalesce(tags.topic_tag, '(untagged)') as topic_tag
    from posts
    left join tags on posts.platform = tags.platform and posts.post_id = tags.post_id
),

aggregated as (
    select
        post_tags.platform,
        post_tags.account_id,
        post_tags.content_type,
        post_tags.topic_tag,
        post_tags.published_date,
        count(*) as posts,
        count(lifetime.post_id) as posts_with_metrics,
        sum(lifetime.impressions) as impressions,
        sum(lifetime.reach) as reach_sum_over_posts,
        sum(lifetime.engagements) as engagements,
        sum(lifetime.link_clicks) as link_clicks,
        sum(lifetime.video_views) as video_views
    from post_tags
    left join lifetime on post_tags.platform = lifetime.platform and post_tags.post_id = lifetime.post_id
    group by post_tags.platform, post_tags.account_id, post_tags.content_type, post_tags.topic_tag,
             post_tags.published_date
),

final as (
    select
        -- keys
        platform,
        account_id,
        content_type,
        topic_tag,
        published_date,

        -- attributes
        cast({{ dbt.date_trunc('week', 'published_date') }} as date) as published_week,

        -- measures
        cast(posts as {{ dbt.type_bigint() }}) as posts,
        cast(posts_with_metrics as {{ dbt.type_bigint() }}) as posts_with_metrics,
        cast(impressions as {{ dbt.type_bigint() }}) as impressions,
        cast(reach_sum_over_posts as {{ dbt.type_bigint() }}) as reach_sum_over_posts,
        cast(engagements as {{ dbt.type_bigint() }}) as engagements,
        cast(link_clicks as {{ dbt.type_bigint() }}) as link_clicks,
        cast(video_views as {{ dbt.type_bigint() }}) as video_views,

        -- rates
        {{ safe_divide('engagements', 'impressions') }} as engagement_rate,
        {{ safe_divide('link_clicks', 'impressions') }} as ctr

    from aggregated
)

select * from final
