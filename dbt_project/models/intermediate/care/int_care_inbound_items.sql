{#- Everything people write to the brand on its own channels, with the brand's first reply to
    it: one row per inbound text (a comment on the brand's posts, a direct message, a post on X
    mentioning the brand), one field mapping per source. Only ids and times: no text.

    First contact (what care KPIs count, as the sample world and help-desk tools do):
    - a comment whose thread (its top-level comment and the replies under it) holds no brand
      comment before it: the thread is still waiting for the brand's first answer;
    - the first message of a conversation's opening turn, when the customer opened it (a
      turn is a run of messages from one side, numbered in staging): response time counts from
      the customer's first message. Later turns are follow-ups ("Thanks!" needs no answer);
    - every X post of the brand's search queries not written by the brand.

    First reply: the brand's first comment in the same thread at or after the comment; the
    first message of the brand's next turn in the conversation; the brand's first X reply to
    the post (`referenced_tweets` replied_to). Null while unanswered. -#}

{#- A table rebuilt whole each run, not a view: the care marts and their tests all read it, and as a view each recomputed every inbound text's first reply (9 s per test at SF10 for a year). Rebuilt whole, since a text's score, reply or engagement can change after its day. -#}
{{ config(materialized='table') }}


with

facebook_comments as (
    select * from {{ ref('stg_facebook__comments') }}
),

comment_threads as (
    select
        facebook_comments.*,
        coalesce(parent_comment_id, comment_id) as thread_id
    from facebook_comments
),

brand_thread_comments as (
    select thread_id, comment_id, created_at
    from comment_threads
    where is_brand_author
),

comment_replies as (
    select
        comments.comment_id,
        replies.comment_id as reply_id,
        replies.created_at as reply_at,
        row_number() over (partition by comments.comment_id
                           order by replies.created_at, replies.comment_id) as reply_rank
    from comment_threads as comments
    inner join brand_thread_comments as replies
        on comments.thread_id = replies.thread_id
        and replies.created_at >= comments.created_at
    where not comments.is_brand_author
),

comments_answered_before as (
    select comments.comment_id
    from comment_threads as comments
    inner join brand_thread_comments as earlier
        on comments.thread_id = earlier.thread_id
        and earlier.created_at < comments.created_at
    where not comments.is_brand_author
    group by comments.comment_id
),

comment_items as (
    select
        'comment' as item_kind,
        'facebook__comments' as text_source,
        comments.platform,
        comments.comment_id as item_id,
        comments.page_id as account_id,
        comments.thread_id as conversation_id,
        comments.post_id,
        comments.author_type,
        answered_before.comment_id is null as is_first_contact,
        comments.created_at as received_at,
        replies.reply_id as first_reply_id,
        replies.reply_at as first_reply_at
    from comment_threads as comments
    left join comment_replies as replies
        on comments.comment_id = replies.comment_id
        and replies.reply_rank = 1
    left join comments_answered_before as answered_before
        on comments.comment_id = answered_before.comment_id
    where not comments.is_brand_author
),

messages as (
    select
        'facebook__messages' as text_source, platform, message_id, conversation_id,
        page_id as account_id, author_type, is_brand_author, turn_number, created_at
    from {{ ref('stg_facebook__messages') }}
    union all
    select
        'instagram__messages' as text_source, platform, message_id, conversation_id,
        account_id, author_type, is_brand_author, turn_number, created_at
    from {{ ref('stg_instagram__messages') }}
),

message_replies as (
    select
        customer_messages.text_source,
        customer_messages.message_id,
        brand_messages.message_id as reply_id,
        brand_messages.created_at as reply_at,
        row_number() over (partition by customer_messages.text_source, customer_messages.message_id
                           order by brand_messages.turn_number, brand_messages.created_at,
                                    brand_messages.message_id) as reply_rank
    from messages as customer_messages
    inner join messages as brand_messages
        on customer_messages.text_source = brand_messages.text_source
        and customer_messages.conversation_id = brand_messages.conversation_id
        and brand_messages.turn_number > customer_messages.turn_number
        and brand_messages.is_brand_author
    where not customer_messages.is_brand_author
),

conversation_openings as (
    select text_source, message_id
    from (
        select
            text_source,
            message_id,
            is_brand_author,
            row_number() over (partition by text_source, conversation_id
                               order by created_at, message_id) as message_rank
        from messages
        where turn_number = 1
    ) as first_turn
    where message_rank = 1
      and not is_brand_author
),

message_items as (
    select
        'message' as item_kind,
        messages.text_source,
        messages.platform,
        messages.message_id as item_id,
        messages.account_id,
        messages.conversation_id,
        cast(null as {{ dbt.type_string() }}) as post_id,
        messages.author_type,
        openings.message_id is not null as is_first_contact,
        messages.created_at as received_at,
        replies.reply_id as first_reply_id,
        replies.reply_at as first_reply_at
    from messages
    left join message_replies as replies
        on messages.text_source = replies.text_source
        and messages.message_id = replies.message_id
        and replies.reply_rank = 1
    left join conversation_openings as openings
        on messages.text_source = openings.text_source
        and messages.message_id = openings.message_id
    where not messages.is_brand_author
),

brand_x_accounts as (
    select case when count(distinct user_id) = 1 then min(user_id) end as only_account_id
    from {{ ref('stg_x__users') }}
),

x_mentions as (
    -- a post found by several brand queries once
    select
        mention_id,
        min(platform) as platform,
        min(conversation_id) as conversation_id,
        min(in_reply_to_user_id) as in_reply_to_user_id,
        min(author_type) as author_type,
        min(created_at) as created_at
    from {{ ref('stg_x__mentions') }}
    where is_brand_query
      and not is_brand_author
    group by mention_id
),

x_replies as (
    select
        referenced_post_id as mention_id,
        post_id as reply_id,
        author_id,
        created_at as reply_at,
        row_number() over (partition by referenced_post_id order by created_at, post_id) as reply_rank
    from {{ ref('stg_x__posts') }}
    where referenced_type = 'replied_to'
),

mention_items as (
    select
        'mention' as item_kind,
        'x__mentions' as text_source,
        mentions.platform,
        mentions.mention_id as item_id,
        coalesce(mentions.in_reply_to_user_id, replies.author_id, brand_x_accounts.only_account_id) as account_id,
        mentions.conversation_id,
        cast(null as {{ dbt.type_string() }}) as post_id,
        mentions.author_type,
        true as is_first_contact,
        mentions.created_at as received_at,
        replies.reply_id as first_reply_id,
        replies.reply_at as first_reply_at
    from x_mentions as mentions
    cross join brand_x_accounts
    left join x_replies as replies
        on mentions.mention_id = replies.mention_id
        and replies.reply_rank = 1
        and replies.reply_at >= mentions.created_at
),

items as (
    select * from comment_items
    union all
    select * from message_items
    union all
    select * from mention_items
)

select
    -- keys
    item_kind,
    platform,
    item_id,

    -- ids
    text_source,
    account_id,
    conversation_id,
    post_id,
    first_reply_id,

    -- attributes
    author_type,
    is_first_contact,
    first_reply_at is not null as is_answered,

    -- timestamps (UTC) and the reporting-time-zone date
    received_at,
    {{ reporting_date('received_at') }} as received_date,
    first_reply_at

from items
