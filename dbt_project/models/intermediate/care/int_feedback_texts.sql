{#- Customer feedback: the texts customers write to the brand or about it on its own channels,
    with their sentiment (int_texts_scored) and whether the brand answered them
    (int_care_inbound_items): one row per text. Which sources count is configuration (var
    `feedback_text_sources`: Facebook comments, Messenger and Instagram Direct messages, X posts
    of the brand's queries and CSAT survey comments by default); of those, the texts not
    written by the brand, and of mentions only those about the brand. Listening mentions on
    other sites are the public's voice (share of voice, brand health), not feedback to answer.
    Ids, times and scores only. -#}

{#- Incremental by occurred_date (it was a table rebuilt whole: 7.7 s of the one-day build at
    SF10 for a year; every feedback mart and its tests read it, so not a view). A run with a
    window rebuilds every day from `care_rebuild_from_day()` on (macros/care.sql), and the
    earlier days holding a text whose row changed, whole:
    - a text whose brand reply changed: int_care_inbound_items closes older texts when a reply
      loads, and a first reply before `care_read_since()` never changes there, so the days
      holding a text answered since then, here or there, are written again (a few days);
    - a text the sentiment step scored since this model last read the scores (its read mark,
      macros/incremental_marks.sql): a new scorer version rescores texts of any day, and
      int_texts_scored writes them again whatever their day.
    Otherwise int_texts_scored changes only on the days of the run's window, widened on each
    side by its own margin (var `texts_window_margin_days`, the same reason as
    `care_window_margin_days` here), so reading those days of it is enough. -#}
{{ config(materialized='incremental', incremental_strategy=window_strategy(),
          unique_key='occurred_date', on_schema_change='fail',
          meta={'window_column': 'occurred_date'},
          post_hook="{{ write_read_mark(this, '(select max(scored_at) from ' ~ ref('stg_enrichment__text_sentiments') ~ ')') }}") }}


{%- set sources = var('feedback_text_sources', []) -%}
{%- set since = care_read_since() -%}
{%- set rebuild_from = care_rebuild_from_day() -%}
{%- set scored_since = read_mark(this) if execute and is_incremental() else none -%}

with

{% if is_incremental() -%}
-- the days before rebuild_from to write again (see above)
changed_days as (
    -- a text whose first reply int_care_inbound_items holds, or held, on or after `since`:
    -- answered in this run, or its reply taken back (a few recent days, and each such day)
    select received_date as occurred_date
    from {{ ref('int_care_inbound_items') }}
    where received_date < {{ rebuild_from }}
      and first_reply_at >= {{ since }}
    union
    select occurred_date
    from {{ this }}
    where occurred_date < {{ rebuild_from }}
      and first_reply_at >= {{ since }}
    union
    -- a text scored since this model last read the scores
    select occurred_date
    from {{ this }}
    where occurred_date < {{ rebuild_from }}
    {%- if scored_since %}
      and (text_source, text_id) in (
          select text_source, text_id
          from {{ ref('stg_enrichment__text_sentiments') }}
          where scored_at > cast('{{ scored_since }}' as {{ dbt.type_timestamp() }}))
    {%- else %}
    -- (no read mark: a table built by an older version; every day, once)
    {%- endif %}
),

{% endif -%}

{%- set feedback_filter -%}
    text_source in ({% for source in sources %}'{{ source }}'{{ ', ' if not loop.last }}{% endfor %}{% if not sources %}''{% endif %})
      and not is_brand_author
      and (text_kind <> 'mention' or subject = 'brand')
{%- endset %}

scored as (
    select * from {{ ref('int_texts_scored') }}
    where {{ feedback_filter }}
    {%- if is_incremental() %}
      and occurred_date >= {{ rebuild_from }}
    union all
    select * from {{ ref('int_texts_scored') }}
    where {{ feedback_filter }}
      and occurred_date in (select occurred_date from changed_days)
    {%- endif %}
),

texts as (
    -- an X post found by two brand queries once
    select * from (
        select
            scored.*,
            row_number() over (partition by text_source, text_id order by account_id) as text_rank
        from scored
    ) as ranked
    where text_rank = 1
),

inbound as (
    select * from {{ ref('int_care_inbound_items') }}
    {%- if is_incremental() %}
    -- the same days: an item's received_date is its text's occurred_date (the same instant's
    -- day in the reporting time zone)
    where received_date >= {{ rebuild_from }}
    union all
    select * from {{ ref('int_care_inbound_items') }}
    where received_date in (select occurred_date from changed_days)
    {%- endif %}
)

select
    -- keys
    texts.text_source,
    texts.text_id,

    -- ids
    texts.text_kind,
    texts.platform,
    coalesce(inbound.account_id, texts.account_id) as account_id,
    coalesce(inbound.conversation_id, texts.conversation_id) as conversation_id,

    -- attributes
    texts.author_type,
    texts.language,
    texts.sentiment_label,
    inbound.is_answered,

    -- measures
    cast(texts.sentiment_score as double) as sentiment_score,

    -- timestamps (UTC) and the reporting-time-zone date
    texts.occurred_at,
    texts.occurred_date,
    inbound.first_reply_at

from texts
left join inbound
    on texts.text_source = inbound.text_source
    and texts.text_id = inbound.item_id
