{#- One row per Instagram Direct message (raw is replaced per UTC day of `created_time`, which
    never changes: no dedupe; the unique test on message_id guards it).

    Authors. The brand writes a message when `from.id` is one of the Instagram accounts read
    (from the account snapshots and media in raw), or its username is the brand's on the
    competitor set. Anyone else is matched by username against
    the team's rosters (competitor set, influencers and employees on Instagram): a roster
    account is public and keeps its id and handle ('competitor', 'influencer', or 'employee'
    when an advocate); everyone else is a private person ('customer', or 'employee' for an
    employee who is not an advocate) kept only as salted hashes of id and username.

    Reply links: as Messenger (stg_facebook__messages), `in_reply_to_id` is the first message
    of the previous turn (a run of messages from one side), null for the first turn.

    The text stays as `message_text` for the sentiment step; only `message_text_redacted` may go
    downstream. -#}

{#- Built as stg_facebook__messages is (why there): incremental by conversation, the changed
    conversations worked out again whole; rebuilt whole every run, this one took ~1.1 s of a
    one-day build at SF10. -#}
{{ config(materialized='incremental', incremental_strategy=upsert_strategy(), unique_key='conversation_id',
          on_schema_change='fail',
          post_hook="delete from {{ this }} where message_id not in (select id from {{ source('instagram', 'messages') }})") }}


with

accounts as (
    select ig_user_id from {{ source('instagram', 'account_followers') }}
    union
    select ig_user_id from {{ source('instagram', 'media') }}
),

source as (
    select * from {{ source('instagram', 'messages') }}
    {%- if is_incremental() %}
    where conversation_id in (
        {{ inbox_conversations_to_rebuild(source('instagram', 'messages'), 'select ig_user_id from accounts', 'account_id') }}
    )
    {%- endif %}
),

{{ author_roster_ctes() }},

messages as (
    select
        source.*,
        {{ to_utc_timestamp('source.created_time') }} as created_at_utc,
        {{ json_text('source._record', '$.from.username') }} as from_username,
        {{ hash_pii(normalized_handle(json_text('source._record', '$.from.username'))) }} as from_handle_hash,
        from_accounts.ig_user_id is not null as from_account,
        coalesce(from_accounts.ig_user_id, to_accounts.ig_user_id) as conversation_account_id
    from source
    left join accounts as from_accounts
        on source.from_id = from_accounts.ig_user_id
    left join accounts as to_accounts
        on {{ json_text('source._record', '$.to.data[0].id') }} = to_accounts.ig_user_id
),

authors as (
    select
        messages.*,
        case
            when messages.from_account then 'brand'
            when roster_brand_accounts.is_brand then 'brand'
            when roster_brand_accounts.handle_hash is not null then 'competitor'
            when roster_influencers.handle_hash is not null then 'influencer'
            when roster_employees.handle_hash is not null then 'employee'
            else 'customer'
        end as resolved_author_type,
        case
            when messages.from_account or roster_brand_accounts.is_brand
                then {{ normalized_handle('messages.from_username') }}
            else coalesce(roster_brand_accounts.handle, roster_influencers.handle, roster_employees.public_handle)
        end as public_handle,
        coalesce(messages.from_account, false) or coalesce(roster_brand_accounts.is_brand, false) as is_brand,
        roster_influencers.influencer_id,
        case when roster_employees.is_advocate then roster_employees.employee_id end as employee_id
    from messages
    left join roster_brand_accounts
        on messages.from_handle_hash = roster_brand_accounts.handle_hash
    left join roster_influencers
        on messages.from_handle_hash = roster_influencers.handle_hash
        and roster_influencers.platform = 'instagram'
    left join roster_employees
        on messages.from_handle_hash = roster_employees.handle_hash
        and roster_employees.platform = 'instagram'
),

turn_starts as (
    select
        authors.*,
        case
            when lag(is_brand) over (partition by conversation_id order by created_at_utc, id) = is_brand then 0
            else 1
        end as starts_turn
    from authors
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
        turns.conversation_account_id as account_id,
        previous_turn.first_message_id as in_reply_to_id,
        case when turns.public_handle is not null then turns.from_id end as author_id,
        {{ hash_pii('turns.from_id') }} as author_id_hash,
        turns.from_handle_hash as author_handle_hash,
        turns.influencer_id,
        turns.employee_id,

        -- strings
        'instagram' as platform,
        turns.resolved_author_type as author_type,
        turns.public_handle as author_handle,
        turns.message as message_text,
        {{ redact_contacts('turns.message') }} as message_text_redacted,

        -- booleans
        turns.is_brand as is_brand_author,
        turns.public_handle is not null as is_public_author,

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
