{#- Every post the brand's accounts published, one row per platform and post: one CTE per
    platform mapping its fields, then `union all`.
    - Facebook: published Page posts; content type from `status_type` (a `/reel/` permalink is a
      reel). Instagram: feed posts and reels (stories are not on the /media edge the extractor
      reads); content type from media_product_type and media_type. X: the accounts' own posts
      and threads; replies to other people are customer care (the inbox models), not content;
      content type from the first media key (X's prefixes: 3_ photo, 7_ video, 13_ amplify
      video, 16_ animated GIF) or a link in the entities. YouTube: every upload is a video.
    - LinkedIn organization posts are not extracted (no raw table), so LinkedIn has no posts.
    - Free text (messages, captions, descriptions) stays in staging; topic tags are in
      int_post_topic_tags. -#}

with

facebook as (
    select
        'facebook' as platform,
        page_id as account_id,
        post_id,
        created_at as published_at,
        created_date as published_date,
        case
            when permalink_url like '%/reel/%' then 'reel'
            when status_type = 'added_video' then 'video'
            when status_type = 'added_photos' then 'image'
            when status_type = 'shared_story' then 'link'
            else 'text'
        end as content_type,
        'brand' as author_type,
        permalink_url as permalink
    from {{ ref('stg_facebook__posts') }}
    where is_published
),

instagram as (
    select
        'instagram' as platform,
        ig_user_id as account_id,
        media_id as post_id,
        posted_at as published_at,
        posted_date as published_date,
        case
            when media_product_type = 'REELS' then 'reel'
            when media_product_type = 'STORY' then 'story'
            when media_type = 'CAROUSEL_ALBUM' then 'carousel'
            when media_type = 'VIDEO' then 'video'
            else 'image'
        end as content_type,
        'brand' as author_type,
        permalink
    from {{ ref('stg_instagram__media') }}
),

x as (
    select
        'x' as platform,
        author_id as account_id,
        post_id,
        created_at as published_at,
        created_date as published_date,
        case
            when {{ dbt.split_part('media_key', "'_'", 1) }} in ('7', '13', '16') then 'video'
            when {{ dbt.split_part('media_key', "'_'", 1) }} = '3' then 'image'
            when link_url is not null then 'link'
            else 'text'
        end as content_type,
        'brand' as author_type,
        {{ dbt.concat(["'https://x.com/i/web/status/'", 'post_id']) }} as permalink
    from {{ ref('stg_x__posts') }}
    where not is_reply
),

youtube as (
    select
        'youtube' as platform,
        channel_id as account_id,
        video_id as post_id,
        published_at,
        published_date,
        'video' as content_type,
        'brand' as author_type,
        {{ dbt.concat(["'https://www.youtube.com/watch?v='", 'video_id']) }} as permalink
    from {{ ref('stg_youtube__videos') }}
),

unioned as (
    select * from facebook
    union all
    select * from instagram
    union all
    select * from x
    union all
    select * from youtube
)

select * from unioned
