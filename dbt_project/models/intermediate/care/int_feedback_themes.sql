{#- The themes of the customer feedback: one row per feedback text and theme it touches, by
    the keyword rules of var `feedback_themes` (theme -> keywords or phrases, whole words,
    case-insensitive; a trailing `*` for any ending: `feedback_theme_patterns` in
    macros/care.sql). A text may touch several themes, or none (then it has no row here). The
    rules read the text in staging (the redacted form: e-mails and phones replaced) and only
    the ids and the theme leave this model, never the text. The texts are those of
    int_feedback_texts: the sources of var `feedback_text_sources`, not written by the brand,
    X posts only from the brand's queries. -#}

{#- A table rebuilt whole each run, not a view: the keyword rules run once per text instead of once per reader (8 s per test at SF10 for a year as a view). Rebuilt whole, since a text's score, reply or engagement can change after its day. -#}
{{ config(materialized='table') }}


{%- set sources = var('feedback_text_sources', []) -%}
{%- set themes = feedback_theme_patterns() -%}

with

texts as (
    {%- set selects = [] -%}
    {%- if 'facebook__comments' in sources -%}
        {%- do selects.append("select 'facebook__comments' as text_source, comment_id as text_id, message_text_redacted as body from " ~ ref('stg_facebook__comments') ~ " where not is_brand_author") -%}
    {%- endif -%}
    {%- if 'facebook__messages' in sources -%}
        {%- do selects.append("select 'facebook__messages' as text_source, message_id as text_id, message_text_redacted as body from " ~ ref('stg_facebook__messages') ~ " where not is_brand_author") -%}
    {%- endif -%}
    {%- if 'instagram__messages' in sources -%}
        {%- do selects.append("select 'instagram__messages' as text_source, message_id as text_id, message_text_redacted as body from " ~ ref('stg_instagram__messages') ~ " where not is_brand_author") -%}
    {%- endif -%}
    {%- if 'x__mentions' in sources -%}
        {%- do selects.append("select distinct 'x__mentions' as text_source, mention_id as text_id, message_text_redacted as body from " ~ ref('stg_x__mentions') ~ " where is_brand_query and not is_brand_author") -%}
    {%- endif -%}
    {%- if 'survey__responses' in sources -%}
        {%- do selects.append("select 'survey__responses' as text_source, response_id as text_id, message_text_redacted as body from " ~ ref('stg_survey__responses')) -%}
    {%- endif -%}
    {%- if not selects -%}
        {%- do selects.append("select cast(null as " ~ dbt.type_string() ~ ") as text_source, cast(null as " ~ dbt.type_string() ~ ") as text_id, cast(null as " ~ dbt.type_string() ~ ") as body where 1 = 0") -%}
    {%- endif %}
    {{ selects | join('\n    union all\n    ') }}
),

lowered as (
    select text_source, text_id, lower(body) as body
    from texts
    where body is not null
)

{% for theme in themes -%}
select
    text_source,
    text_id,
    '{{ theme.theme }}' as theme,
    cast({{ loop.index }} as {{ dbt.type_bigint() }}) as theme_rank
from lowered
where {{ regexp_contains('body', theme.pattern) }}
{% if not loop.last %}union all
{% endif -%}
{%- endfor %}
