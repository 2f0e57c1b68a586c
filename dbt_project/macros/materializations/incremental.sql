{#- dbt's incremental materialization on DuckDB, with its incremental run in one statement.

    dbt-duckdb's incremental run creates a temporary table of the new rows, then asks DuckDB
    for the temporary table's and the target's columns twice (schema changes, then the column
    list of the insert: each a fresh macro context in dbt), widens column types, runs the
    strategy, and on the way looks up grants, indexes and docs: ~50 ms of dbt's single-threaded
    Python a model, 26 models on every daily run. Here the same work is one multi-statement
    query, inside the model's transaction:

      create the temporary table of the new rows;
      on_schema_change='fail' (every incremental model here): stop with dbt's message when the
        new rows' columns (names and types, in DuckDB's catalog) differ from the table's;
      the strategy: `delete+insert` deletes the table's rows whose `unique_key` is among the new
        rows' (as dbt-duckdb's strategy SQL does), `append` deletes nothing; then the new rows
        are inserted by column name;
      drop the temporary table.

    A first build or a full refresh replaces the table in one statement (`create or replace
    table`). Any other case (another strategy, another on_schema_change, incremental
    predicates, a Python model or a feature `lean_table_model` rules out) gets dbt-duckdb's
    materialization unchanged. tests/test_lean_materializations.py holds both to dbt-duckdb's
    results, and tests/test_marts_build.py a daily run of every mart to a full refresh. -#}

{%- materialization incremental, adapter='duckdb', supported_languages=['sql', 'python'] -%}

  {%- set strategy = config.get('incremental_strategy') or 'delete+insert' -%}
  {%- set on_schema_change = config.get('on_schema_change') or 'ignore' -%}
  {%- if not lean_table_model(model, this)
        or strategy not in ('delete+insert', 'append')
        or on_schema_change not in ('fail', 'ignore')
        or config.get('incremental_predicates') or config.get('predicates') -%}
    {{ return(dbt.materialization_incremental_duckdb()) }}
  {%- endif -%}

  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type='table') -%}
  {%- set unique_key = config.get('unique_key') -%}
  {%- set rebuild = existing_relation is none or should_full_refresh() or not existing_relation.is_table -%}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {%- if rebuild -%}
    {{ replace_table(existing_relation, target_relation, sql) }}
  {%- else -%}
    {%- set new_rows = make_temp_relation(target_relation) -%}
    {%- set keys = [] if not unique_key else ([unique_key] if unique_key is string else unique_key) -%}
    {% call statement('main') -%}
      create or replace temporary table {{ new_rows.identifier }} as (
        {{ sql }}
      );
      {%- if on_schema_change == 'fail' %}
      {{ _schema_unchanged_or_error(target_relation, new_rows.identifier) }};
      {%- endif %}
      {%- if strategy == 'delete+insert' and keys %}
      delete from {{ target_relation }} as target
      where exists (
        select 1 from {{ new_rows.identifier }} as new_rows
        where {% for key in keys %}new_rows.{{ key }} = target.{{ key }}{{ " and " if not loop.last }}{% endfor %}
      );
      {%- endif %}
      insert into {{ target_relation }} by name select * from {{ new_rows.identifier }};
      drop table {{ new_rows.identifier }}
    {%- endcall %}
  {%- endif -%}

  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {{ adapter.commit() }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}

  {{ return({'relations': [target_relation]}) }}

{%- endmaterialization -%}


{#- A query that fails, with dbt's on_schema_change='fail' message and the columns that differ,
    when the temporary table `new_rows` and `target` differ in a column's name or type. -#}
{% macro _schema_unchanged_or_error(target, new_rows) -%}
  with target_columns as (
    select column_name, data_type from duckdb_columns()
    where database_name = '{{ target.database }}' and schema_name = '{{ target.schema }}'
      and table_name = '{{ target.identifier }}'
  ), new_columns as (
    select column_name, data_type from duckdb_columns()
    where database_name = 'temp' and table_name = '{{ new_rows }}'
  ), differing as (
    (select 'in the table only: ' || column_name || ' ' || data_type as d from (from target_columns except from new_columns))
    union all
    (select 'in the new rows only: ' || column_name || ' ' || data_type from (from new_columns except from target_columns))
  )
  select error(
    'The source and target schemas on this incremental model are out of sync! They can be '
    || 'reconciled in several ways: set the `on_schema_change` config to either append_new_columns '
    || 'or sync_all_columns, depending on your situation, or re-run the incremental model with '
    || '`full_refresh: True` to update the target schema. Columns that differ in '
    || '{{ target }}: ' || string_agg(d, '; ' order by d)
  )
  from differing
  having count(*) > 0
{%- endmacro %}
