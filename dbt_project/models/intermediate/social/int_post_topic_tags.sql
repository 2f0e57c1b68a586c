{#- The topic tags of each post, one row per platform, post and topic tag (a bridge: a post can
    have several, or none). Tags come from the hashtags the brand writes (Facebook message,
    Instagram caption, YouTube description and tags; X's own `entities.hashtags`), mapped to
    the team's topic vocabulary below; hashtags outside it (the brand tag, campaign tags,
    product names) are not topics. The vocabulary is configuration: add a hashtag here when
    the team starts using it. -#}

{%- set topic_of_hashtag = [
    ('product', 'product'), ('skincare', 'product'),
    ('sustainability', 'sustainability'), ('sustainablebeauty', 'sustainability'),
    ('behind_the_scenes', 'behind_the_scenes'), ('behindthescenes', 'behind_the_scenes'), ('bts', 'behind_the_scenes'),
    ('how_to', 'how_to'), ('howto', 'how_to'), ('skincaretips', 'how_to'),
    ('promotion', 'promotion'), ('sale', 'promotion'),
    ('community', 'community'), ('lumoracommunity', 'community'),
    ('hiring', 'hiring'),
] -%}
{%- set hashtag_pattern = '#([A-Za-z0-9_]+)' -%}

with

vocabulary as (
    {% for hashtag, topic in topic_of_hashtag %}
    select '{{ hashtag }}' as hashtag, '{{ topic }}' as topic_tag
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

facebook_posts as (
    select post_id, message from {{ ref('stg_facebook__posts') }}
),

instagram_media as (
    select media_id, caption from {{ ref('stg_instagram__media') }}
),

x_posts as (
    select post_id, hashtags_json from {{ ref('stg_x__posts') }}
),

youtube_videos as (
    select video_id, description, tags_json from {{ ref('stg_youtube__videos') }}
),

hashtags as (
    select 'facebook' as platform, facebook_posts.post_id, hashtag.item as hashtag
    from {{ regexp_items('facebook_posts', 'message', hashtag_pattern, 'hashtag') }}

    union all

    select 'instagram' as platform, instagram_media.media_id as post_id, hashtag.item as hashtag
    from {{ regexp_items('instagram_media', 'caption', hashtag_pattern, 'hashtag') }}

    union all

    select 'x' as platform, x_posts.post_id, {{ json_text('hashtag.item', '$.tag') }} as hashtag
    from {{ json_array_items('x_posts', 'hashtags_json', 'hashtag') }}

    union all

    select 'youtube' as platform, youtube_videos.video_id as post_id, hashtag.item as hashtag
    from {{ regexp_items('youtube_videos', 'description', hashtag_pattern, 'hashtag') }}

    union all

    select 'youtube' as platform, youtube_videos.video_id as post_id, {{ json_text('video_tag.item', '$') }} as hashtag
    from {{ json_array_items('youtube_videos', 'tags_json', 'video_tag') }}
),

posts as (
    select platform, account_id, post_id from {{ ref('int_posts_unioned') }}
),

tagged as (
    select distinct
        posts.platform,
        posts.account_id,
        posts.post_id,
        vocabulary.topic_tag
    from hashtags
    inner join vocabulary on lower(hashtags.hashtag) = vocabulary.hashtag
    inner join posts on hashtags.platform = posts.platform and hashtags.post_id = posts.post_id
)

select * from tagged
