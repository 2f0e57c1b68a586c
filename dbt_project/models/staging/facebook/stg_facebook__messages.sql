{#- One row per Messenger message (raw is replaced per UTC day of `created_time`, which never
    changes: no dedupe; the unique test on message_id guards it).

    The brand writes a message when `from.id` is one of the Pages read (from the Page follower
    snapshots and posts in raw); the other party is a private person ('customer'): their id is
    kept only as a salted hash, their name and proxy e-mail (`<id>@facebook.com`) are dropped.

    Reply links. Messenger has no reply pointer, so a conversation is read as turns: a turn is
    a run of messages from one side. `in_reply_to_id` is the first message of the previous
    turn (for a brand message, the customer's first unanswered message: response time counts
    from it; for a customer message, the brand's first message of its last answer); null for
    the first turn. Only the messages loaded so far count: a conversation whose earlier days
    are not loaded starts at its first loaded message.

    The text stays as `message_text` for the sentiment step; only `message_text_redacted` may go
    downstream. -#}

{#- A table, not a view: its turns come from window functions over each conversation, which
    keep a filter from reaching raw, so every test and reader recomputed the whole inbox (~17
    thread-seconds of tests in a one-day run at SF10 for a year). Incremental by conversation:
    a run works out again, whole, only the conversations that changed
    (`inbox_conversations_to_rebuild`, macros/care.sql): rebuilt whole every run it took ~0.7 s
    of a one-day build at SF10. Messages gone from raw are deleted (post-hook). -#}
{{ config(materialized='incremental', incremental_strategy=upsert_strategy(), unique_key='conversation_id',
          on_schema_change='fail',
          post_hook="delete from {{ this }} where message_id not in (select id from {{ source('facebook', 'messages') }})") }}


with

pages as (
    select page_id from {{ source('facebook', 'page_followers') }}
    union
    select page_id from {{ source('facebook', 'posts') }}
),

source as (
    select * from {{ source('facebook', 'messages') }}
    {%- if is_incremental() %}
    where conversation_id in (
        {{ inbox_conversations_to_rebuild(source('facebook', 'messages'), 'select page_id from pages', 'page_id') }}
    )
    {%- endif %}
),

messages as (
    select
        source.*,
        {{ to_utc_timestamp('source.created_time') }} as created_at_utc,
        from_pages.page_id is not null as from_page,
        coalesce(from_pages.page_id, to_pages.page_id) as conversation_page_id
    from source
    left join pages as from_pages
        on source.from_id = from_pages.page_id
    left join pages as to_pages
        on {{ json_text('source._record', '$.to.data[0].id') }} = to_pages.page_id
),

turn_starts as (
    select
        messages.*,
        case
            when lag(from_page) over (partition by conversation_id order by created_at_utc, id) = from_page then 0
            else 1
        end as starts_turn
    from messages
),

turns as (
    select
        turn_starts.*,
        sum(starts_turn) over (partition by conversation_id order by created_at_utc, id
                               rows between unbounded preceding and current row) as turn_number
    from turn_starts
),

turn_first_messages as (
    select conversation_id, turn_number, id as first_message_id
    from turns
    where starts_turn = 1
),

renamed as (
    select
        -- ids
        turns.id as message_id,
        turns.conversation_id,
        turns.conversation_page_id as page_id,
        previous_turn.first_message_id as in_reply_to_id,
        case when turns.from_page then turns.from_id end as author_id,
        {{ hash_pii('turns.from_id') }} as author_id_hash,

        -- strings
        'facebook' as platform,
        case when turns.from_page then 'brand' else 'customer' end as author_type,
        turns.message as message_text,
        {{ redact_contacts('turns.message') }} as message_text_redacted,

        -- booleans
        turns.from_page as is_brand_author,

        -- numerics
        cast(turns.turn_number as {{ dbt.type_bigint() }}) as turn_number,

        -- timestamps (UTC) and the reporting-time-zone date
        turns.created_at_utc as created_at,
        {{ reporting_date('turns.created_at_utc') }} as created_date,

        -- metadata
        turns._load_id,
        turns._loaded_at

    from turns
    left join turn_first_messages as previous_turn
        on turns.conversation_id = previous_turn.conversation_id
        and turns.turn_number - 1 = previous_turn.turn_number
)

select * from renamed
