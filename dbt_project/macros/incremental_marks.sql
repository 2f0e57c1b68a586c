{#- Read marks, for incremental models over a table rewritten in place rather than by day.

    The sentiment step (warehouse/sentiment.py) rescores texts of any age when the scorer's
    name or version changes, or when a text the step had not scored yet comes in, and stamps
    every row it writes with `scored_at` (one value a call, its start). A model reading that
    table by the run's days would miss those rows; reading it whole every run is what the run
    window is there to avoid. So the model keeps, on its own table, the newest stamp it has read
    (its mark), and its next run reads the rows stamped after it, whatever their day.

    The mark lives beside the data, not in a column: DuckDB keeps it as the table's comment,
    Spark as a table property (`skw.read_mark`). A table without one (built by an older version,
    or its comment replaced by something else) has no mark: the model then reads every row
    once, as a full refresh would, and marks the table. -#}


{#- The mark stored on `relation` (text, e.g. '2026-12-06 01:33:33.486385'), or none when it has
    none. Call it only when `execute` and the model is incremental: it queries the catalog. -#}
{% macro read_mark(relation) -%}
    {{ return(adapter.dispatch('read_mark', 'social_kpi_warehouse')(relation)) }}
{%- endmacro %}

{% macro default__read_mark(relation) -%}
    {%- set found = run_query(
          "select comment from duckdb_tables() where database_name = '" ~ relation.database
          ~ "' and schema_name = '" ~ relation.schema ~ "' and table_name = '" ~ relation.identifier ~ "'") -%}
    {{ return(_read_mark_value(found[0][0] if found is not none and found | length == 1 else none)) }}
{%- endmacro %}

{% macro spark__read_mark(relation) -%}
    {%- set found = run_query("show tblproperties " ~ relation ~ " ('skw.read_mark')") -%}
    {{ return(_read_mark_value(found[0][1] if found is not none and found | length == 1 else none)) }}
{%- endmacro %}

{% macro _read_mark_value(stored) -%}
    {%- set prefix = 'skw-read-mark:' -%}
    {%- if stored is string and stored.startswith(prefix) and stored | length > prefix | length -%}
        {{ return(stored[prefix | length:]) }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}


{#- A statement storing on `relation` the mark `value_sql` evaluates to (a scalar subquery such as
    `(select max(scored_at) from ...)`), for a post-hook: run after the model's rows are written,
    in the same transaction, so it marks exactly what the run read (nothing else writes the
    warehouse during a dbt run). An empty mark (the source is empty) reads every row next run. -#}
{% macro write_read_mark(relation, value_sql) -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set found = run_query("select cast(" ~ value_sql ~ " as " ~ dbt.type_string() ~ ")") -%}
    {%- set value = found[0][0] if found is not none and found | length == 1 and found[0][0] is not none else '' -%}
    {{ return(adapter.dispatch('write_read_mark', 'social_kpi_warehouse')(relation, 'skw-read-mark:' ~ value)) }}
{%- endmacro %}

{% macro default__write_read_mark(relation, stored) -%}
    comment on table {{ relation }} is '{{ stored }}'
{%- endmacro %}

{% macro spark__write_read_mark(relation, stored) -%}
    alter table {{ relation }} set tblproperties ('skw.read_mark' = '{{ stored }}')
{%- endmacro %}
