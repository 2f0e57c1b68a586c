{#- One row per Messenger conversation of the Page (raw is merged on `id`: its newest version).

    Participants: the Page (one of the Pages read, from the follower snapshots and posts in raw)
    and the person writing to it. The person is private: only a salted hash of their id is kept
    (`counterpart_id_hash`, the same hash as `author_id_hash` of their messages); names and the
    proxy e-mails (`<id>@facebook.com`) are dropped, and so is `snippet` (the latest message's
    text: the messages model holds every text). -#}

{#- A table rebuilt whole each run, not a view: its turns come from window functions over each
    conversation, which keep a filter from reaching raw, so every test and reader recomputed
    the whole inbox (~17 thread-seconds of tests in a one-day run at SF10 for a year). -#}
{{ config(materialized='table') }}


with

source as (
    select * from {{ source('facebook', 'conversations') }}
),

pages as (
    select page_id from {{ source('facebook', 'page_followers') }}
    union
    select page_id from {{ source('facebook', 'posts') }}
),

participants as (
    select
        source.*,
        {{ json_text('source.participants', '$[0].id') }} as first_participant_id,
        {{ json_text('source.participants', '$[1].id') }} as second_participant_id
    from source
),

sides as (
    select
        participants.*,
        case
            when first_pages.page_id is not null then participants.first_participant_id
            when second_pages.page_id is not null then participants.second_participant_id
        end as conversation_page_id,
        case
            when first_pages.page_id is not null then participants.second_participant_id
            when second_pages.page_id is not null then participants.first_participant_id
        end as counterpart_id
    from participants
    left join pages as first_pages
        on participants.first_participant_id = first_pages.page_id
    left join pages as second_pages
        on participants.second_participant_id = second_pages.page_id
),

renamed as (
    select
        -- ids
        id as conversation_id,
        conversation_page_id as page_id,
        {{ hash_pii('counterpart_id') }} as counterpart_id_hash,

        -- strings
        'facebook' as platform,
        'customer' as counterpart_type,

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

    from sides
)

select * from renamed
