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

{#- Incremental by received_date (it was a table rebuilt whole: 11.5 s of the one-day build at
    SF10 for a year; the care marts and their tests all read it, so not a view). A run with a
    window reads the comments and messages written since `care_read_since()` and rebuilds
    every day from `care_rebuild_from_day()` on, whole (from var `care_window_margin_days`
    before the window: a raw partition is a UTC day; macros/care.sql). What a text of those
    days needs from before them is read there: the brand's earlier comments in its thread (a
    comment after one is a follow-up) and the first turn of its conversation (from the
    staging tables, whose turns are numbered over the whole conversation).

    A reply can come days or months after the text. No lookback bounds it: the model reads
    its own rows. A stored row that a reply in the window's raw can change is one still
    unanswered in a thread or conversation the brand wrote in since `since`, or one answered
    on or after `since` (a first reply before `since` stays the first: raw before the window
    does not change); those are "reopened", their first reply looked for again among the
    brand's comments and messages read, and a day before the window holding one whose reply
    changed is written again, whole (its other rows as stored). X posts are few (the brand's
    search mentions: ~7,000 a year at SF10) and worked out whole every run; a day before the
    window whose X rows differ from the stored ones is written again too. So a windowed run
    gives a full refresh's rows as long as raw changes only in the partitions of its window
    (the daily transform's window holds every source's restatement window); a change outside
    them (the brand's X accounts or Pages, a partition loaded without a run over its days)
    needs a full refresh. -#}
{{ config(materialized='incremental', incremental_strategy=window_strategy(),
          unique_key='received_date', on_schema_change='fail',
          meta={'window_column': 'received_date'}) }}

{%- set since = care_read_since() -%}
{%- set rebuild_from = care_rebuild_from_day() -%}
{#- stored rows a run works out again from staging: texts written since `since`, and X posts -#}
{%- set read_again = "(received_at >= " ~ since ~ " or item_kind = 'mention')" -%}

with

comments_read as (
    -- every comment; on a run with a window, those written since `since` and the brand's
    -- (read once: staging joins each comment to its post)
    select
        comment_id,
        post_id,
        page_id,
        parent_comment_id,
        platform,
        author_type,
        is_brand_author,
        created_at,
        coalesce(parent_comment_id, comment_id) as thread_id
    from {{ ref('stg_facebook__comments') }}
    {%- if is_incremental() %}
    where created_at >= {{ since }}
       or is_brand_author
    {%- endif %}
),

comment_threads as (
    -- the comments read: every comment; on a run with a window, those written since `since`
    select * from comments_read
    {%- if is_incremental() %}
    where created_at >= {{ since }}
    {%- endif %}
),

{% if is_incremental() -%}
-- the brand's comments before `since` in the threads read: a comment after one is a follow-up
earlier_brand_comments as (
    select thread_id, comment_id, created_at
    from comments_read
    where is_brand_author
      and created_at < {{ since }}
      and (parent_comment_id in (select thread_id from comment_threads)
           or comment_id in (select thread_id from comment_threads))
),

{% endif -%}

all_messages as (
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

messages as (
    -- the messages read: every message; on a run with a window, those written since `since`
    select * from all_messages
    {%- if is_incremental() %}
    where created_at >= {{ since }}
    {%- endif %}
),

{% if is_incremental() -%}
-- the threads and conversations the brand wrote in since `since`
brand_written_since as (
    select 'facebook__comments' as text_source, thread_id as conversation_id
    from comment_threads
    where is_brand_author
    union
    select text_source, conversation_id
    from messages
    where is_brand_author
),

-- stored texts from before `since` whose first reply a run can change: those unanswered in a
-- thread or conversation the brand wrote in since, and those answered since (a reply can be
-- taken back); a first reply before `since` stays the first (raw before the window does not
-- change)
reopened as (
    select item_kind, platform, item_id, text_source, conversation_id, received_at, received_date,
           first_reply_id, first_reply_at
    from {{ this }}
    where received_at < {{ since }}
      and item_kind <> 'mention'
      and (first_reply_at >= {{ since }}
           or (not is_answered
               and (text_source, conversation_id) in (select text_source, conversation_id from brand_written_since)))
),

{% endif -%}

brand_thread_comments as (
    select thread_id, comment_id, created_at
    from comment_threads
    where is_brand_author
    {%- if is_incremental() %}
    union all
    select thread_id, comment_id, created_at
    from earlier_brand_comments
    {%- endif %}
),

-- the customers' comments whose first reply is looked for: those read, and the reopened ones
reply_seeking_comments as (
    select comment_id, thread_id, created_at
    from comment_threads
    where not is_brand_author
    {%- if is_incremental() %}
    union all
    select item_id as comment_id, conversation_id as thread_id, received_at as created_at
    from reopened
    where item_kind = 'comment'
    {%- endif %}
),

comment_replies as (
    select
        comments.comment_id,
        replies.comment_id as reply_id,
        replies.created_at as reply_at,
        row_number() over (partition by comments.comment_id
                           order by replies.created_at, replies.comment_id) as reply_rank
    from reply_seeking_comments as comments
    inner join brand_thread_comments as replies
        on comments.thread_id = replies.thread_id
        and replies.created_at >= comments.created_at
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

-- the customers' messages whose first reply is looked for, with their turn: those read, and the
-- reopened ones. A brand message of a later turn is written after the customer's, so every
-- candidate reply is among the messages read.
reply_seeking_messages as (
    select text_source, message_id, conversation_id, turn_number
    from messages
    where not is_brand_author
    {%- if is_incremental() %}
    union all
    select all_messages.text_source, all_messages.message_id, all_messages.conversation_id, all_messages.turn_number
    from reopened
    inner join all_messages
        on reopened.text_source = all_messages.text_source
        and reopened.item_id = all_messages.message_id
    where reopened.item_kind = 'message'
    {%- endif %}
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
    from reply_seeking_messages as customer_messages
    inner join messages as brand_messages
        on customer_messages.text_source = brand_messages.text_source
        and customer_messages.conversation_id = brand_messages.conversation_id
        and brand_messages.turn_number > customer_messages.turn_number
        and brand_messages.is_brand_author
),

conversation_openings as (
    -- the first message of each conversation read (its first turn may be before `since`)
    select text_source, message_id
    from (
        select
            first_turn.text_source,
            first_turn.message_id,
            first_turn.is_brand_author,
            row_number() over (partition by first_turn.text_source, first_turn.conversation_id
                               order by first_turn.created_at, first_turn.message_id) as message_rank
        from all_messages as first_turn
        {%- if is_incremental() %}
        inner join (select distinct text_source, conversation_id from messages) as conversations_read
            on first_turn.text_source = conversations_read.text_source
            and first_turn.conversation_id = conversations_read.conversation_id
        {%- endif %}
        where first_turn.turn_number = 1
    ) as first_turns
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
),

-- the rows worked out from staging: the texts read and every X post
worked_out as (
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
)

{% if not is_incremental() -%}

select * from worked_out

{%- else -%}

, reopened_now as (
    -- the reopened texts with the first reply found now
    select
        reopened.item_kind,
        reopened.platform,
        reopened.item_id,
        reopened.received_date,
        coalesce(comment_replies.reply_id, message_replies.reply_id) as first_reply_id,
        coalesce(comment_replies.reply_at, message_replies.reply_at) as first_reply_at,
        reopened.first_reply_id as stored_first_reply_id,
        reopened.first_reply_at as stored_first_reply_at
    from reopened
    left join comment_replies
        on reopened.item_kind = 'comment'
        and reopened.item_id = comment_replies.comment_id
        and comment_replies.reply_rank = 1
    left join message_replies
        on reopened.item_kind = 'message'
        and reopened.text_source = message_replies.text_source
        and reopened.item_id = message_replies.message_id
        and message_replies.reply_rank = 1
),

stored_read_again as (
    select * from {{ this }}
    where received_date < {{ rebuild_from }}
      and {{ read_again }}
),

worked_out_before as (
    select * from worked_out
    where received_date < {{ rebuild_from }}
),

-- the days before rebuild_from whose rows changed: a reopened text's first reply, or a row read
-- again (a text written since `since`, an X post) that differs from the stored one
changed_days as (
    select received_date
    from reopened_now
    where first_reply_id is distinct from stored_first_reply_id
       or first_reply_at is distinct from stored_first_reply_at
    union
    select received_date
    from (
        (select * from worked_out_before except select * from stored_read_again)
        union all
        (select * from stored_read_again except select * from worked_out_before)
    ) as differing
)

select * from worked_out
where received_date >= {{ rebuild_from }}
   or received_date in (select received_date from changed_days)

union all

-- the other rows of a changed day: as stored, a reopened one with its first reply now
select
    stored.item_kind,
    stored.platform,
    stored.item_id,
    stored.text_source,
    stored.account_id,
    stored.conversation_id,
    stored.post_id,
    case when reopened_now.item_id is null then stored.first_reply_id else reopened_now.first_reply_id end as first_reply_id,
    stored.author_type,
    stored.is_first_contact,
    case when reopened_now.item_id is null then stored.is_answered else reopened_now.first_reply_at is not null end as is_answered,
    stored.received_at,
    stored.received_date,
    case when reopened_now.item_id is null then stored.first_reply_at else reopened_now.first_reply_at end as first_reply_at
from {{ this }} as stored
left join reopened_now
    on stored.item_kind = reopened_now.item_kind
    and stored.platform = reopened_now.platform
    and stored.item_id = reopened_now.item_id
where stored.received_date in (select received_date from changed_days)
  and not (stored.received_at >= {{ since }} or stored.item_kind = 'mention')

{%- endif %}
