{#- One row per comment or reply on the Page's posts (raw is replaced per UTC day of
    `created_time`, which never changes, so one version of each: no dedupe; the unique test on
    comment_id guards it).

    The post: a comment id is `<post object id>_<comment object id>` and a Page post id is
    `<page id>_<post object id>`, so the post (and its Page) is found among the Page's posts in
    raw; null when that post is not loaded. The brand answers when `from.id` is the post's
    Page (Meta: "Page replies have from.id == page_id"); when the post is not loaded, when it is
    any of the Pages read. Everyone else is a private person ('customer': Facebook gives no
    handle to match the rosters against): their id is kept only as a salted hash and their name
    is dropped. The text stays as `message_text` for the sentiment step; only
    `message_text_redacted` may go downstream. -#}

{#- Tests of a windowed run read this view's rows of the run's days (macros/test_window.sql): raw changes only in the partitions a run loads. -#}
{{ config(meta={'window_column': 'created_date'}) }}


with

source as (
    select * from {{ source('facebook', 'comments') }}
),

posts as (
    select distinct
        id as post_id,
        page_id,
        {{ dbt.split_part('id', "'_'", 2) }} as post_object_id
    from {{ source('facebook', 'posts') }}
),

pages as (
    select page_id from {{ source('facebook', 'page_followers') }}
    union
    select page_id from {{ source('facebook', 'posts') }}
),

comments as (
    select
        source.*,
        posts.post_id,
        posts.page_id,
        coalesce(source.from_id = posts.page_id, author_pages.page_id is not null) as from_page
    from source
    left join posts
        on {{ dbt.split_part('source.id', "'_'", 1) }} = posts.post_object_id
    left join pages as author_pages
        on source.from_id = author_pages.page_id
),

renamed as (
    select
        -- ids
        id as comment_id,
        post_id,
        page_id,
        parent_id as parent_comment_id,
        case when from_page then from_id end as author_id,
        {{ hash_pii('from_id') }} as author_id_hash,

        -- strings
        'facebook' as platform,
        case when from_page then 'brand' else 'customer' end as author_type,
        {{ json_text('_record', '$.permalink_url') }} as permalink_url,
        message as message_text,
        {{ redact_contacts('message') }} as message_text_redacted,

        -- booleans
        from_page as is_brand_author,
        parent_id is not null as is_reply,
        is_hidden,

        -- numerics
        cast(like_count as {{ dbt.type_bigint() }}) as like_count,
        cast(comment_count as {{ dbt.type_bigint() }}) as reply_count,

        -- timestamps (UTC) and the reporting-time-zone date
        {{ to_utc_timestamp('created_time') }} as created_at,
        {{ reporting_date(to_utc_timestamp('created_time')) }} as created_date,

        -- metadata
        _load_id,
        _loaded_at

    from comments
)

select * from renamed
