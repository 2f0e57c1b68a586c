{#- Every generic data rule of a model in one test: one dbt node, one query, one Dagster check per
    model instead of one per rule.

    A daily run's cost was dbt's work per node (compiling, a connection, a transaction, logging,
    ~30 ms of CPU each on this machine) more than the SQL: 434 rule tests of a one-day build spent
    about 13 CPU seconds, their SQL alone well under one. Each rule keeps its own meaning: its SQL is
    the generic test of the same name (`unique`, `accepted_values`, `not_null_columns`,
    `unique_combination_of_columns`, `expression_is_true`), called here on the model. The rules are declared beside the model:

        data_tests:
          - rules:
              arguments:
                not_null_columns: [date_day, platform, spend]
                unique_combination_of_columns: [date_day, platform, campaign_id]
                unique: [event_id]                      # each column unique on its own
                accepted_values: {platform: [meta_ads, google_ads]}
                expression_is_true: ["clicks <= impressions", "ctr between 0 and 1"]

    The test returns a row per broken rule: `rule`, `column_name` (the column, key or expression it
    names) and `failures`, the number of rows the rule's own test returns (for `not_null_columns`
    a row per column with nulls, counting them); dbt's failure count is the number of broken rules,
    and a failed test's log names each (macros/materializations/test.sql). A rule that needs its
    own severity or `where` stays a test of its own.

    In a windowed run (macros/test_window.sql: an incremental model or a dated view naming its
    `window_column`), the rules read the run's window: `not_null_columns`, `accepted_values` and
    `expression_is_true` its rows, a key rule its rows when the key holds the window column, and
    otherwise every row of the model that has one of the window's keys (`rules_key_rows`): a key
    such as (text_source, text_id) can repeat across days, and a duplicate with one copy outside
    the window must still fail. A full refresh, a run without a window and any other model: every
    row. -#}

{% test rules(model, not_null_columns=[], unique_combination_of_columns=[], unique=[], accepted_values={}, expression_is_true=[]) %}
    {%- set window = rules_test_window() -%}
    {%- set keyed = [] -%}
    {%- set checks = [] -%}
    {%- if not_null_columns -%}
        {%- do checks.append(
              "select 'not_null_columns' as rule, column_name, null_rows as failures from ("
              ~ test_not_null_columns(model='tested', columns=not_null_columns) ~ ") r") -%}
    {%- endif -%}
    {%- if unique_combination_of_columns -%}
        {%- set rows = rules_key_rows(unique_combination_of_columns, window, keyed) -%}
        {%- do checks.append(rules_count('unique_combination_of_columns', unique_combination_of_columns | join(', '),
              test_unique_combination_of_columns(model=rows, combination_of_columns=unique_combination_of_columns))) -%}
    {%- endif -%}
    {%- for column in unique -%}
        {%- set rows = rules_key_rows([column], window, keyed) -%}
        {%- do checks.append(rules_count('unique', column, test_unique(model=rows, column_name=column))) -%}
    {%- endfor -%}
    {%- for column, values in accepted_values.items() -%}
        {%- do checks.append(rules_count('accepted_values', column,
              test_accepted_values(model='tested', column_name=column, values=values))) -%}
    {%- endfor -%}
    {%- for expression in expression_is_true -%}
        {%- do checks.append(rules_count('expression_is_true', expression,
              test_expression_is_true(model='tested', expression=expression))) -%}
    {%- endfor -%}
    {%- if not checks -%}
        {{ exceptions.raise_compiler_error("rules test on " ~ model ~ ": no rule declared") }}
    {%- endif %}
    {#- the model is read in place, not through a CTE of its own: DuckDB materializes a CTE read
        more than once, every column of every row -#}
    with
    {%- if window %}
    tested as (select * from {{ model }} where {{ window.filter }}),
    {%- for key in keyed %}
    {{ key.name }} as (
        select {{ key.columns | join(', ') }}
        from (select * from {{ model }}) everything
        where exists (
            select 1 from tested
            where {% for column in key.columns -%}
                {{ null_safe_equals('tested.' ~ column, 'everything.' ~ column) }}{{ ' and ' if not loop.last }}
            {%- endfor %}
        )
    ),
    {%- endfor %}
    {%- else %}
    tested as (select * from {{ model }}),
    {%- endif %}
    broken as (
        {{ checks | join('\n        union all\n        ') }}
    )
    select rule, column_name, failures from broken
    where failures > 0
{% endtest %}


{#- The run's window for a `rules` test (macros/test_window.sql: an incremental model or dated view
    with a `window_column`, in a windowed run), or none: every rule then reads the whole model. -#}
{% macro rules_test_window() -%}
    {{ return(run_window_of_tested_model()) }}
{%- endmacro %}


{#- The rows a key rule (`unique`, `unique_combination_of_columns`) counts: in a windowed run, the
    window's rows when the key holds the window column (a duplicate of such a key has both rows on
    one day, so both in the window); otherwise every row of the model whose key is one of the
    window's keys (compared null-safe), so a duplicate with one row outside the window is counted,
    as on a full refresh; a duplicate with both rows outside was there, and tested, before. Adds
    that key's CTE to `keyed`. Without a window: every row (`tested`). -#}
{% macro rules_key_rows(columns, window, keyed) -%}
    {%- if not window or window.column in columns -%}{{ return('tested') }}{%- endif -%}
    {%- set name = 'keyed_' ~ (keyed | length + 1) -%}
    {%- do keyed.append({'name': name, 'columns': columns}) -%}
    {{ return(name) }}
{%- endmacro %}


{#- One rule of `rules`: (rule, column, how many rows its test returns). -#}
{% macro rules_count(rule, column, sql) -%}
    select '{{ rule }}' as rule, '{{ column | replace("'", "''") }}' as column_name, count(*) as failures
    from ({{ sql }}) r
{%- endmacro %}
