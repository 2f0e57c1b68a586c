{#- Negative customer feedback still waiting for the brand: one row per feedback text the
    scorer labels negative, from the last `negative_feedback_queue_days` days (var) before the
    data's newest event (`as_of_at`: the latest feedback text or brand reply loaded, not the
    wall clock, so a rebuild on the same data gives the same ages), that no brand reply
    follows (comments, messages and X posts: int_care_inbound_items; survey comments have no
    reply channel in the data and stay until they age out). Ids, platform, themes, score and
    age only: never the text. Oldest first is `order by occurred_at`.

    A table: a snapshot of now, rebuilt whole on every run (ages move with as_of_at). It reads
    int_feedback_texts twice, not through one CTE: DuckDB would materialize the CTE, every
    column of every text, for the few the queue keeps. -#}

{%- set queue_days = var('negative_feedback_queue_days', 28) | int -%}

with

as_of as (
    select max(case when first_reply_at > occurred_at then first_reply_at else occurred_at end) as as_of_at
    from {{ ref('int_feedback_texts') }}
),

queued as (
    select texts.*, as_of.as_of_at
    from {{ ref('int_feedback_texts') }} as texts
    cross join as_of
    where texts.sentiment_label = 'negative'
      and not coalesce(texts.is_answered, false)
      and texts.occurred_at >= {{ dbt.dateadd('day', -queue_days, 'as_of.as_of_at') }}
),

themes as (
    select
        themes.text_source,
        themes.text_id,
        min(themes.theme_rank) as first_theme_rank,
        cast(count(*) as {{ dbt.type_bigint() }}) as theme_count,
        {{ dbt.listagg('themes.theme', "', '", 'order by themes.theme_rank') }} as themes
    from {{ ref('int_feedback_themes') }} as themes
    inner join queued
        on themes.text_source = queued.text_source
        and themes.text_id = queued.text_id
    group by themes.text_source, themes.text_id
),

primary_themes as (
    select themes.text_source, themes.text_id, ranked.theme as primary_theme, themes.theme_count, themes.themes
    from themes
    inner join {{ ref('int_feedback_themes') }} as ranked
        on themes.text_source = ranked.text_source
        and themes.text_id = ranked.text_id
        and themes.first_theme_rank = ranked.theme_rank
),

calendar as (
    {{ business_calendar(
        '(select min(' ~ business_date('occurred_at') ~ ') from queued)',
        '(select max(' ~ business_date('as_of_at') ~ ') from queued)'
    ) }}
),

final as (
    select
        -- keys
        queued.text_source,
        queued.text_id,

        -- ids
        queued.text_kind,
        queued.platform,
        queued.account_id,
        queued.conversation_id,

        -- attributes
        queued.author_type,
        queued.language,
        coalesce(primary_themes.primary_theme, 'other') as primary_theme,
        coalesce(primary_themes.themes, 'other') as themes,
        coalesce(primary_themes.theme_count, cast(0 as {{ dbt.type_bigint() }})) as theme_count,
        queued.is_answered,

        -- measures
        queued.sentiment_score,

        -- timestamps (UTC) and the reporting-time-zone date
        queued.occurred_at,
        queued.occurred_date,
        queued.as_of_at,

        -- age as of as_of_at (DOUBLE)
        {{ seconds_between('queued.occurred_at', 'queued.as_of_at') }} / 3600.0 as age_hours,
        {{ business_minutes_between('queued.occurred_at', 'queued.as_of_at', 'occurred_calendar', 'as_of_calendar') }} / 60.0
            as age_business_hours

    from queued
    left join primary_themes
        on queued.text_source = primary_themes.text_source
        and queued.text_id = primary_themes.text_id
    left join calendar as occurred_calendar
        on {{ business_date('queued.occurred_at') }} = occurred_calendar.date_day
    left join calendar as as_of_calendar
        on {{ business_date('queued.as_of_at') }} = as_of_calendar.date_day
)

select * from final
