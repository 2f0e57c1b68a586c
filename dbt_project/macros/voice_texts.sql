{#- Macros of int_texts_scored (models/intermediate/voice): which days an incremental run writes. -#}


{#- The days (text, 'YYYY-MM-DD') holding texts whose score int_texts_scored (`relation`) holds is
    not the one `scores` (stg_enrichment__text_sentiments) holds now, other than by a change of
    the text itself (which changes raw, in the partitions a run loads, inside its window):
    - texts scored by another scorer or version than the newest row of `scores` (a new scorer
      version: the sentiment step rescores every text, and every day is written again once;
      while a rescoring cut short is unfinished, the days still holding the older version are
      written again on every run);
    - texts written before the sentiment step had scored them, which it has scored since.
    Read when the model compiles (`execute`, incremental runs only). Cheap when nothing changed:
    the first filter compares two columns with constants, and the join's build side is the
    texts not scored when written (none, usually); a join of the whole table with the scores
    would cost 6 s at SF10 for a year. -#}
{% macro texts_rescored_days(relation, scores) -%}
    {%- set newest = run_query("select scorer, scorer_version from " ~ scores ~ " order by scored_at desc limit 1") -%}
    {%- if newest.rows | length == 1 -%}
        {%- set other_scorer = "(scorer <> '" ~ newest.rows[0][0] ~ "' or scorer_version <> '" ~ newest.rows[0][1] ~ "')" -%}
    {%- else -%}
        {%- set other_scorer = 'true' -%}
    {%- endif -%}
    {%- set days = run_query(
        "select distinct cast(occurred_date as " ~ dbt.type_string() ~ ") from " ~ relation
        ~ " where scorer is not null and " ~ other_scorer
        ~ " union select distinct cast(written.occurred_date as " ~ dbt.type_string() ~ ") from " ~ relation ~ " as written"
        ~ " inner join " ~ scores ~ " as scores on scores.text_source = written.text_source and scores.text_id = written.text_id"
        ~ " where written.scorer is null") -%}
    {{ return(days.columns[0].values() | sort) }}
{%- endmacro %}


{#- int_texts_scored's filter on one text source: in an incremental run, the texts of the run's
    window (widened by `margin_days`, as `in_run_window_days`) and of the `extra_days` (dates as
    'YYYY-MM-DD' text); every text otherwise. Whole days, as the model replaces them. -#}
{% macro texts_to_write(date_column, margin_days, extra_days) -%}
    {%- if is_incremental() -%}
        ({{ in_run_window_days(date_column, margin_days) }}
        {%- if extra_days %}
         or {{ date_column }} in ({% for day in extra_days %}cast('{{ day }}' as date){{ ', ' if not loop.last }}{% endfor %})
        {%- endif %})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
