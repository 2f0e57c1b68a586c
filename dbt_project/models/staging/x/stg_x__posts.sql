{#- The brand accounts' posts on X, one row per post (the raw table is merged on id): their own
    posts and their replies to other people. The text is dropped: a reply opens with the
    customer's handle and first name (PII). What the marts need from it comes from X's own
    entities instead: the hashtags (`hashtags_json`) and the first link. The id of the person
    a reply answers is hashed (`hash_pii`), so replies still join to mentions hashed the same
    way. -#}

with

source as (
    select * from {{ source('x', 'posts') }}
),

renamed as (
    select
        -- ids
        id as post_id,
        author_id,
        conversation_id,
        {{ hash_pii('in_reply_to_user_id') }} as in_reply_to_user_id_hash,
        {{ json_text('referenced_tweets', '$[0].id') }} as referenced_post_id,

        -- strings
        {{ json_text('referenced_tweets', '$[0].type') }} as referenced_type,
        lang,
        {{ json_text('entities', '$.hashtags') }} as hashtags_json,
        {{ json_text('entities', '$.urls[0].expanded_url') }} as link_url,
        {{ json_text('_record', '$.attachments.media_keys[0]') }} as media_key,

        -- booleans: a reply to another account (customer care), not one of the account's own
        -- posts or threads
        (in_reply_to_user_id is not null and in_reply_to_user_id <> author_id) as is_reply,

        -- timestamps (UTC) and the day in the reporting time zone
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ reporting_date(to_utc_timestamp('created_at')) }} as created_date,

        -- metadata
        _load_id,
        _loaded_at

    from source
)

select * from renamed
