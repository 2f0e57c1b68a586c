{#- Response time per inbound first contact (KPI practice 13): one row per customer comment,
    conversation opening or X mention (int_care_inbound_items, is_first_contact), with the
    brand's first reply, the minutes to it on the clock and in business minutes (the care
    team's hours, days, holidays and time zone: vars under `# [care]`, macros/care.sql).

    A table rebuilt whole on every run: a first reply can come any time after the contact, so a
    contact of any past day can change when a reply loads; an incremental window would leave
    old contacts unanswered for ever. (A few thousand rows a month.) -#}

{%- set settings = business_hours_settings() -%}

with

inbound as (
    select * from {{ ref('int_care_inbound_items') }}
),

items as (
    select * from inbound
    where is_first_contact
),

as_of as (
    -- the newest thing the loaded inbox knows: statuses and ages are as of it, not the wall clock
    select max(case when first_reply_at > received_at then first_reply_at else received_at end) as as_of_at
    from inbound
),

calendar as (
    {{ business_calendar(
        '(select min(' ~ business_date('received_at') ~ ') from items)',
        '(select max(' ~ business_date('case when first_reply_at > received_at then first_reply_at else received_at end') ~ ') from items)'
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
