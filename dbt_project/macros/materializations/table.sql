{#- dbt's table materialization on DuckDB, in one statement.

    dbt-duckdb's builds the new table under a temporary name, renames the old one away, renames
    the new one in, drops the old one, and on the way looks up indexes, foreign keys, grants and
    docs: 7-8 statements and about 40 macro calls from Python for each table, ~45 ms of dbt's
    single-threaded Python a table (27 tables on every daily run). DuckDB replaces a table in
    one statement, inside the model's transaction, atomically: `create or replace table`.

    This is used for a SQL model with none of the features that need dbt-duckdb's steps (a
    contract, indexes, grants, partitioning or sorting, docs persisted to the database, a
    DuckLake or MotherDuck target); any other table model gets dbt-duckdb's materialization
    unchanged (`lean_table_model`). A view or other relation of the same name is dropped first,
    as dbt-duckdb's rename would have replaced it. Other adapters keep their own. -#}

{%- materialization table, adapter='duckdb', supported_languages=['sql', 'python'] -%}

  {%- if not lean_table_model(model, this) -%}
    {{ return(dbt.materialization_table_duckdb()) }}
  {%- endif -%}

  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type='table') -%}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {{ replace_table(existing_relation, target_relation, sql) }}

  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {{ adapter.commit() }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}

  {{ return({'relations': [target_relation]}) }}

{%- endmaterialization -%}


{#- Whether a table or incremental model can be built by this project's one-statement
    materializations: SQL, and none of the features that need dbt-duckdb's own. -#}
{% macro lean_table_model(model, relation) -%}
  {%- set cfg = model.config -%}
  {%- set lean = model.language == 'sql'
        and not (cfg.get('contract') or {}).get('enforced', false)
        and not cfg.get('indexes')
        and not cfg.get('grants')
        and not cfg.get('partitioned_by')
        and not cfg.get('sorted_by')
        and not (cfg.get('persist_docs') or {}).get('relation')
        and not (cfg.get('persist_docs') or {}).get('columns')
        and not adapter.is_motherduck()
        and not adapter.is_ducklake(relation) -%}
  {{- return(lean) -}}
{%- endmacro %}


{#- The model's main statement when a table is built whole (a table model; an incremental
    model's first build or full refresh): `create or replace table`, after dropping a view or
    other relation of the same name. -#}
{% macro replace_table(existing_relation, target_relation, sql) -%}
  {%- if existing_relation is not none and not existing_relation.is_table -%}
    {{ adapter.drop_relation(existing_relation) }}
  {%- endif -%}
  {% call statement('main') -%}
    create or replace table {{ target_relation }} as (
      {{ sql }}
    )
  {%- endcall %}
{%- endmacro %}
