{#- The care team's open queue: first contacts with no brand reply as of the data's newest event
    (`as_of_at`, from fct_care_responses: the latest contact or reply the loaded inbox holds,
    not the wall clock, so a rebuild on the same data gives the same ages), oldest first, with
    their age on the clock and in business hours (vars under `# [care]`).

    A table: a snapshot of now, rebuilt whole on every run. -#}

with

responses as (
    select * from {{ ref('fct_care_responses') }}
),

open_items as (
    select * from responses
    where not is_answered
),

calendar as (
    {{ business_calendar(
        '(select min(' ~ business_date('received_at') ~ ') from open_items)',
        '(select max(' ~ business_date('as_of_at') ~ ') from open_items)'
    ) }}
),

final as (
    select
        -- keys
        open_items.item_kind,
        open_items.platform,
        open_items.item_id,

        -- ids
        open_items.text_source,
        open_items.account_id,
        open_items.conversation_id,
        open_items.post_id,

        -- attributes
        open_items.author_type,
        open_items.received_in_business_hours,
        open_items.business_timezone,

        -- timestamps (UTC) and the reporting-time-zone date
        open_items.received_at,
        open_items.received_date,
        open_items.as_of_at,

        -- measures: age as of as_of_at (DOUBLE)
        {{ seconds_between('open_items.received_at', 'open_items.as_of_at') }} / 3600.0 as age_hours,
        {{ business_minutes_between('open_items.received_at', 'open_items.as_of_at', 'received_calendar', 'as_of_calendar') }} / 60.0
            as age_business_hours

    from open_items
    left join calendar as received_calendar
        on {{ business_date('open_items.received_at') }} = received_calendar.date_day
    left join calendar as as_of_calendar
        on {{ business_date('open_items.as_of_at') }} = as_of_calendar.date_day
)

select * from final
