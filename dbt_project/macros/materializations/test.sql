{#- dbt's test materialization on DuckDB, which names each broken rule of a failed `rules` test.

    dbt reports a failed test as "Got N results": for a test that folds a model's rules into one
    query (macros/rules.sql) that says how many rules broke, not which. When a `rules` test fails
    or warns, this reads its result rows (the rule, the column or expression, how many rows) and
    logs a line for each: "rules_fct_x: unique_combination_of_columns (date_day, platform): 1
    failing", in dbt's output and so in the Dagster run's logs. A passing test costs nothing
    more; every other test runs as dbt's default does. -#}

{%- materialization test, adapter='duckdb' -%}
  {%- set result = dbt.materialization_test_default() -%}
  {%- set meta = model.get('test_metadata') or {} -%}
  {%- if meta.get('name') == 'rules' -%}
    {%- set row = load_result('main').table.rows[0] -%}
    {%- if row[1] or row[2] -%}
      {%- set broken = run_query('select rule, column_name, failures from (' ~ sql ~ ') broken order by 1, 2 limit 100') -%}
      {%- for r in broken.rows -%}
        {%- do log(model.name ~ ": " ~ r[0] ~ " (" ~ r[1] ~ "): " ~ r[2] ~ " failing", info=True) -%}
      {%- endfor -%}
    {%- endif -%}
  {%- endif -%}
  {{ return(result) }}
{%- endmaterialization -%}
