{#- The care team's open queue: first contacts with no brand reply as of the data's newest event
    (`as_of_at`, from fct_care_responses: the latest contact or reply the loaded inbox holds,
    not the wall clock, so a rebuild on the same data gives the same ages), oldest first, with
    their age on the clock and in business hours (vars under `# [care]`).

    A table: a snapshot of now, rebuilt whole on every run, since every open contact's age
    moves with as_of_at. It reads only fct_care_responses' open rows (a table), which a run with
    a window keeps as a full refresh has them: a contact answered by a reply the run loads is
    closed there, whatever its day, and as_of_at is carried to every row by its post-hook; so
    the queue after a one-day run is the one a full build gives. -#}

{#- fct_care_responses is read where it is needed, not through a CTE read three times: DuckDB
    would materialize it, every column of every open row. The calendar's bounds are the local
    days of the first and last instants (the same days as the first and last local days). -#}
{%- set responses = ref('fct_care_responses') -%}

with

open_items as (
    select * from {{ responses }}
    where not is_answered
),

calendar as (
    {{ business_calendar(
        '(select ' ~ business_date('min(received_at)') ~ ' from ' ~ responses ~ ' where not is_answered)',
        '(select ' ~ business_date('max(as_of_at)') ~ ' from ' ~ responses ~ ' where not is_answered)'
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
