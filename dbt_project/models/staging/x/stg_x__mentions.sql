{#- One row per query and post (the raw key without its day, which a post's id fixes: a post
    matching the brand's and a competitor's query is kept once per query, which share of voice
    needs). Raw is replaced per UTC day of posting for the last days X still serves: no dedupe;
    the unique test on (query_name, mention_id) guards it.

    The query's entity: the competitor set's entity (brand included) whose name is the
    query_name, else the one whose `@handle` the query holds (null when none or several do).

    Authors. Recent search returns `author_id` only (no username without the author
    expansion), so the rosters cannot be matched: the author is the brand ('brand') when
    `author_id` is one of the brand's accounts read (x users in raw), else a private person
    ('customer') kept only as a salted hash of the id. `in_reply_to_user_id` likewise: in clear
    when it is a brand account (a reply to the brand), hashed otherwise.

    Reply links: `conversation_id` (the thread's first post), `in_reply_to_id` (the post replied
    to, from `referenced_tweets` of type replied_to) and `quoted_id` (type quoted).

    The text stays as `message_text` for the sentiment step; only `message_text_redacted` may
    go downstream. -#}

with

source as (
    select * from {{ source('x', 'mentions') }}
),

brand_accounts as (
    select distinct id as user_id from {{ source('x', 'users') }}
),

{{ author_roster_ctes() }},

queries as (
    select distinct query_name, query from source
),

query_entities as (
    {{ x_query_entities('queries') }}
),

mentions as (
    select
        source.*,
        {{ json_text('source._record', '$.in_reply_to_user_id') }} as replied_to_user_id,
        case
            when {{ json_text('source._record', '$.referenced_tweets[0].type') }} = 'replied_to'
                then {{ json_text('source._record', '$.referenced_tweets[0].id') }}
            when {{ json_text('source._record', '$.referenced_tweets[1].type') }} = 'replied_to'
                then {{ json_text('source._record', '$.referenced_tweets[1].id') }}
        end as replied_to_post_id,
        case
            when {{ json_text('source._record', '$.referenced_tweets[0].type') }} = 'quoted'
                then {{ json_text('source._record', '$.referenced_tweets[0].id') }}
            when {{ json_text('source._record', '$.referenced_tweets[1].type') }} = 'quoted'
                then {{ json_text('source._record', '$.referenced_tweets[1].id') }}
        end as quoted_post_id,
        author_accounts.user_id is not null as from_brand
    from source
    left join brand_accounts as author_accounts
        on source.author_id = author_accounts.user_id
),

renamed as (
    select
        -- ids
        mentions.id as mention_id,
        mentions.query_name,
        mentions.conversation_id,
        mentions.replied_to_post_id as in_reply_to_id,
        mentions.quoted_post_id as quoted_id,
        case when mentions.from_brand then mentions.author_id end as author_id,
        {{ hash_pii('mentions.author_id') }} as author_id_hash,
        replied_to_accounts.user_id as in_reply_to_user_id,
        {{ hash_pii('mentions.replied_to_user_id') }} as in_reply_to_user_id_hash,

        -- strings
        'x' as platform,
        mentions.query,
        query_entities.entity,
        case when mentions.from_brand then 'brand' else 'customer' end as author_type,
        nullif(lower(trim(mentions.lang)), '') as language,
        mentions.text as message_text,
        {{ redact_contacts('mentions.text') }} as message_text_redacted,

        -- booleans
        mentions.from_brand as is_brand_author,
        coalesce(query_entities.is_brand, false) as is_brand_query,
        replied_to_accounts.user_id is not null as is_reply_to_brand,

        -- numerics (public metrics as read on the day's last load)
        cast(mentions.impression_count as {{ dbt.type_bigint() }}) as impression_count,
        cast(mentions.like_count as {{ dbt.type_bigint() }}) as like_count,
        cast(mentions.retweet_count as {{ dbt.type_bigint() }}) as retweet_count,
        cast(mentions.reply_count as {{ dbt.type_bigint() }}) as reply_count,
        cast(mentions.quote_count as {{ dbt.type_bigint() }}) as quote_count,
        cast(mentions.bookmark_count as {{ dbt.type_bigint() }}) as bookmark_count,

        -- timestamps (UTC) and the reporting-time-zone date
        {{ to_utc_timestamp('mentions.created_at') }} as created_at,
        {{ reporting_date(to_utc_timestamp('mentions.created_at')) }} as created_date,

        -- metadata
        mentions._load_id,
        mentions._loaded_at

    from mentions
    left join brand_accounts as replied_to_accounts
        on mentions.replied_to_user_id = replied_to_accounts.user_id
    left join query_entities
        on mentions.query_name = query_entities.query_name
        and mentions.query = query_entities.query
)

select * from renamed
