{#- Response time per inbound first contact (KPI practice 13): one row per customer comment,
    conversation opening or X mention (int_care_inbound_items, is_first_contact), with the
    brand's first reply, the minutes to it on the clock and in business minutes (the care
    team's hours, days, holidays and time zone: vars under `# [care]`, macros/care.sql).

    Incremental by received_date (a table rebuilt whole took 9.3 s of the one-day build at SF10
    for a year). A first reply can come any time after the contact, so a run with a window
    rebuilds every day from `care_rebuild_from_day()` on (macros/care.sql) and, whole, the
    earlier days holding a contact whose first reply may have changed: int_care_inbound_items
    closes older contacts when their reply loads and never changes a first reply before
    `care_read_since()`, so those are the days of the contacts answered since then, there or
    here (a reply taken back).
    as_of_at is on every row and moves with each run: the rebuilt rows get it from the model,
    the others from the post-hook (`care_refresh_as_of`). The business calendar starts on the
    first contact's day in every run, as on a full refresh, so the business minutes of a
    rebuilt row are the same doubles a full refresh computes. -#}
{{ config(materialized='incremental', incremental_strategy=window_strategy(),
          unique_key='received_date', on_schema_change='fail',
          meta={'window_column': 'received_date'},
          post_hook="{{ care_refresh_as_of(this, ref('int_care_inbound_items')) }}") }}

{%- set settings = business_hours_settings() -%}
{%- set since = care_read_since() -%}
{%- set rebuild_from = care_rebuild_from_day() -%}

{#- int_care_inbound_items is read where it is needed, not through one CTE: DuckDB would
    materialize a CTE read five times, every column of every row. -#}
{%- set inbound = ref('int_care_inbound_items') -%}

with

{% if is_incremental() -%}
-- the days before rebuild_from whose contacts' first reply may have changed (see above)
changed_days as (
    select received_date
    from {{ inbound }}
    where received_date < {{ rebuild_from }}
      and is_first_contact
      and first_reply_at >= {{ since }}
    union
    select received_date
    from {{ this }}
    where received_date < {{ rebuild_from }}
      and first_reply_at >= {{ since }}
),

{% endif -%}

items as (
    select * from {{ inbound }}
    where is_first_contact
    {%- if is_incremental() %}
      and received_date >= {{ rebuild_from }}
    union all
    select * from {{ inbound }}
    where is_first_contact
      and received_date in (select received_date from changed_days)
    {%- endif %}
),

as_of as (
    -- the newest thing the loaded inbox knows: statuses and ages are as of it, not the wall clock
    select {{ care_inbox_as_of() }} as as_of_at
    from {{ inbound }}
),

calendar as (
    -- from the first contact's day to the newest reply's, over every contact: the running sum of
    -- business minutes starts on the same day in every run
    {{ business_calendar(
        '(select ' ~ business_date('min(received_at)') ~ ' from ' ~ inbound ~ ' where is_first_contact)',
        '(select ' ~ business_date(care_inbox_as_of()) ~ ' from ' ~ inbound ~ ' where is_first_contact)'
    ) }}
),

timed as (
    select
        items.*,
        as_of.as_of_at,
        {{ is_in_business_hours('items.received_at', 'received_calendar') }} as received_in_business_hours,
        {{ seconds_between('items.received_at', 'items.first_reply_at') }} / 60.0 as minutes_to_first_reply,
        {{ business_minutes_between('items.received_at', 'items.first_reply_at', 'received_calendar', 'reply_calendar') }}
            as business_minutes_to_first_reply
    from items
    cross join as_of
    left join calendar as received_calendar
        on {{ business_date('items.received_at') }} = received_calendar.date_day
    left join calendar as reply_calendar
        on {{ business_date('items.first_reply_at') }} = reply_calendar.date_day
),

final as (
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
        is_answered,
        received_in_business_hours,
        '{{ settings.timezone }}' as business_timezone,

        -- timestamps (UTC), the reporting-time-zone date and its week (Monday)
        received_at,
        received_date,
        cast({{ dbt.date_trunc('week', 'received_date') }} as date) as received_week,
        first_reply_at,
        as_of_at,

        -- measures: null while unanswered
        minutes_to_first_reply,
        business_minutes_to_first_reply

    from timed
)

select * from final
