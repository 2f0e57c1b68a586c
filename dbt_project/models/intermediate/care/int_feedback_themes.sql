{#- The themes of the customer feedback: one row per feedback text and theme it touches, by
    the keyword rules of var `feedback_themes` (theme -> keywords or phrases, whole words,
    case-insensitive; a trailing `*` for any ending: `feedback_theme_patterns` in
    macros/care.sql). A text may touch several themes, or none (then it has no row here). The
    rules read the text in staging (the redacted form: e-mails and phones replaced) and only
    the ids and the theme leave this model, never the text. The texts are those of
    int_feedback_texts: the sources of var `feedback_text_sources`, not written by the brand,
    X posts only from the brand's queries. -#}

{#- Incremental by occurred_date, the text's day (a table rebuilt whole, the keyword rules ran
    over every text each run: 11.5 s of the one-day build at SF10 for a year; as a view, once
    per reader). A text's themes depend on its text alone, which changes only when its raw
    partition is loaded again: a run with a window reads the texts written since
    `care_read_since()` and rebuilds every day from `care_rebuild_from_day()` on, whole
    (macros/care.sql). The day and the set of texts come from int_feedback_texts, built first.
    A change of var `feedback_themes` needs a full refresh to re-read older texts. -#}
{{ config(materialized='incremental', incremental_strategy=window_strategy(),
          unique_key='occurred_date', on_schema_change='fail',
          meta={'window_column': 'occurred_date'}) }}


{%- set sources = var('feedback_text_sources', []) -%}
{%- set themes = feedback_theme_patterns() -%}
{%- set since = care_read_since() -%}
{#- on a run with a window, the texts written since `since` -#}
{%- set created_since = (" and created_at >= " ~ since) if is_incremental() else "" -%}
{%- set submitted_since = (" and submitted_at >= " ~ since) if is_incremental() else "" -%}

with

texts as (
    {%- set selects = [] -%}
    {%- if 'facebook__comments' in sources -%}
        {%- do selects.append("select 'facebook__comments' as text_source, comment_id as text_id, message_text_redacted as body from " ~ ref('stg_facebook__comments') ~ " where not is_brand_author" ~ created_since) -%}
    {%- endif -%}
    {%- if 'facebook__messages' in sources -%}
        {%- do selects.append("select 'facebook__messages' as text_source, message_id as text_id, message_text_redacted as body from " ~ ref('stg_facebook__messages') ~ " where not is_brand_author" ~ created_since) -%}
    {%- endif -%}
    {%- if 'instagram__messages' in sources -%}
        {%- do selects.append("select 'instagram__messages' as text_source, message_id as text_id, message_text_redacted as body from " ~ ref('stg_instagram__messages') ~ " where not is_brand_author" ~ created_since) -%}
    {%- endif -%}
    {%- if 'x__mentions' in sources -%}
        {%- do selects.append("select distinct 'x__mentions' as text_source, mention_id as text_id, message_text_redacted as body from " ~ ref('stg_x__mentions') ~ " where is_brand_query and not is_brand_author" ~ created_since) -%}
    {%- endif -%}
    {%- if 'survey__responses' in sources -%}
        {%- do selects.append("select 'survey__responses' as text_source, response_id as text_id, message_text_redacted as body from " ~ ref('stg_survey__responses') ~ " where true" ~ submitted_since) -%}
    {%- endif -%}
    {%- if not selects -%}
        {%- do selects.append("select cast(null as " ~ dbt.type_string() ~ ") as text_source, cast(null as " ~ dbt.type_string() ~ ") as text_id, cast(null as " ~ dbt.type_string() ~ ") as body where 1 = 0") -%}
    {%- endif %}
    {{ selects | join('\n    union all\n    ') }}
),

-- the feedback texts' days (and the texts: those of int_feedback_texts)
feedback_texts as (
    select text_source, text_id, occurred_date
    from {{ ref('int_feedback_texts') }}
    {%- if is_incremental() %}
    where occurred_date >= {{ care_rebuild_from_day() }}
    {%- endif %}
),

lowered as (
    select texts.text_source, texts.text_id, feedback_texts.occurred_date, lower(texts.body) as body
    from texts
    inner join feedback_texts
        on texts.text_source = feedback_texts.text_source
        and texts.text_id = feedback_texts.text_id
    where texts.body is not null
)

{% for theme in themes -%}
select
    text_source,
    text_id,
    '{{ theme.theme }}' as theme,
    cast({{ loop.index }} as {{ dbt.type_bigint() }}) as theme_rank,
    occurred_date
from lowered
where {{ regexp_contains('body', theme.pattern) }}
{% if not loop.last %}union all
{% endif -%}
{%- endfor %}
