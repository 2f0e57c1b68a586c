{#- One row per Instagram Direct conversation of the account (raw is merged on `id`: its newest
    version).

    Participants: the brand's account (one of the accounts read, from the account snapshots and
    media in raw, or the brand's username on the competitor set) and the person writing to it,
    the counterpart. The counterpart is matched by username against the team's rosters
    (competitor set, influencers and employees on Instagram): a roster account is public and
    keeps its handle; anyone else is private and kept only as salted hashes of id and username
    (the same hashes as `author_id_hash` / `author_handle_hash` of their messages). `snippet`
    (the latest message's text) is dropped: the messages model holds every text. -#}

{#- A table rebuilt whole each run, not a view: its turns come from window functions over each
    conversation, which keep a filter from reaching raw, so every test and reader recomputed
    the whole inbox (~17 thread-seconds of tests in a one-day run at SF10 for a year). -#}
{{ config(materialized='table') }}


with

source as (
    select * from {{ source('instagram', 'conversations') }}
),

accounts as (
    select ig_user_id from {{ source('instagram', 'account_followers') }}
    union
    select ig_user_id from {{ source('instagram', 'media') }}
),

{{ author_roster_ctes() }},

participants as (
    select
        source.*,
        {{ json_text('source.participants', '$[0].id') }} as first_participant_id,
        {{ json_text('source.participants', '$[0].username') }} as first_participant_username,
        {{ json_text('source.participants', '$[1].id') }} as second_participant_id,
        {{ json_text('source.participants', '$[1].username') }} as second_participant_username
    from source
),

flagged as (
    select
        participants.*,
        first_accounts.ig_user_id is not null
            or coalesce(first_brand.is_brand, false) as first_is_brand,
        second_accounts.ig_user_id is not null
            or coalesce(second_brand.is_brand, false) as second_is_brand
    from participants
    left join accounts as first_accounts
        on participants.first_participant_id = first_accounts.ig_user_id
    left join accounts as second_accounts
        on participants.second_participant_id = second_accounts.ig_user_id
    left join roster_brand_accounts as first_brand
        on {{ hash_pii(normalized_handle('participants.first_participant_username')) }} = first_brand.handle_hash
    left join roster_brand_accounts as second_brand
        on {{ hash_pii(normalized_handle('participants.second_participant_username')) }} = second_brand.handle_hash
),

sides as (
    select
        flagged.*,
        case
            when first_is_brand then first_participant_id
            when second_is_brand then second_participant_id
        end as conversation_account_id,
        case
            when first_is_brand then second_participant_id
            when second_is_brand then first_participant_id
        end as counterpart_user_id,
        case
            when first_is_brand then second_participant_username
            when second_is_brand then first_participant_username
        end as counterpart_username
    from flagged
),

counterparts as (
    select
        sides.*,
        {{ hash_pii(normalized_handle('sides.counterpart_username')) }} as counterpart_handle_hash
    from sides
),

matched as (
    select
        counterparts.*,
        case
            when roster_brand_accounts.handle_hash is not null then 'competitor'
            when roster_influencers.handle_hash is not null then 'influencer'
            when roster_employees.handle_hash is not null then 'employee'
            else 'customer'
        end as resolved_counterpart_type,
        coalesce(roster_brand_accounts.handle, roster_influencers.handle, roster_employees.public_handle) as public_handle,
        roster_influencers.influencer_id,
        case when roster_employees.is_advocate then roster_employees.employee_id end as employee_id
    from counterparts
    left join roster_brand_accounts
        on counterparts.counterpart_handle_hash = roster_brand_accounts.handle_hash
        and not roster_brand_accounts.is_brand
    left join roster_influencers
        on counterparts.counterpart_handle_hash = roster_influencers.handle_hash
        and roster_influencers.platform = 'instagram'
    left join roster_employees
        on counterparts.counterpart_handle_hash = roster_employees.handle_hash
        and roster_employees.platform = 'instagram'
),

renamed as (
    select
        -- ids
        id as conversation_id,
        conversation_account_id as account_id,
        case when public_handle is not null then counterpart_user_id end as counterpart_id,
        {{ hash_pii('counterpart_user_id') }} as counterpart_id_hash,
        counterpart_handle_hash,
        influencer_id,
        employee_id,

        -- strings
        'instagram' as platform,
        resolved_counterpart_type as counterpart_type,
        public_handle as counterpart_handle,

        -- booleans
        can_reply,

        -- numerics
        cast(message_count as {{ dbt.type_bigint() }}) as message_count,

        -- timestamps (UTC) and the reporting-time-zone date of the latest message
        {{ to_utc_timestamp('updated_time') }} as updated_at,
        {{ reporting_date(to_utc_timestamp('updated_time')) }} as updated_date,

        -- metadata
        _load_id,
        _loaded_at

    from matched
)

select * from renamed
