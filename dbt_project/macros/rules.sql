{#- Every generic data rule of a model in one test: one dbt node, one query, one Dagster check per
    model instead of one per rule.

    A daily run's cost was dbt's work per node (compiling, a connection, a transaction, logging,
    ~30 ms of CPU each on this machine) more than the SQL: 434 rule tests of a one-day build spent
    about 13 CPU seconds, their SQL alone well under one. Each rule keeps its own meaning: its SQL is
    the generic test of the same name (`unique`, `accepted_values`, `not_null_columns`,
    `unique_combination_of_columns`, `expression_is_true`), called here on the model (filtered to a
    windowed run's days, macros/test_window.sql). The rules are declared beside the model:

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
    own severity or `where` stays a test of its own. -#}

{% test rules(model, not_null_columns=[], unique_combination_of_columns=[], unique=[], accepted_values={}, expression_is_true=[]) %}
    {%- set checks = [] -%}
    {%- if not_null_columns -%}
        {%- do checks.append(
              "select 'not_null_columns' as rule, column_name, null_rows as failures from ("
              ~ test_not_null_columns(model='tested', columns=not_null_columns) ~ ") r") -%}
    {%- endif -%}
    {%- if unique_combination_of_columns -%}
        {%- do checks.append(rules_count('unique_combination_of_columns', unique_combination_of_columns | join(', '),
              test_unique_combination_of_columns(model='tested', combination_of_columns=unique_combination_of_columns))) -%}
    {%- endif -%}
    {%- for column in unique -%}
        {%- do checks.append(rules_count('unique', column, test_unique(model='tested', column_name=column))) -%}
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
    with tested as (select * from {{ model }})
    select rule, column_name, failures from (
        {{ checks | join('\n        union all\n        ') }}
    ) broken
    where failures > 0
{% endtest %}


{#- One rule of `rules`: (rule, column, how many rows its test returns). -#}
{% macro rules_count(rule, column, sql) -%}
    select '{{ rule }}' as rule, '{{ column | replace("'", "''") }}' as column_name, count(*) as failures
    from ({{ sql }}) r
{%- endmacro %}
