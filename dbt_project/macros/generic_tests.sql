{#- The two generic tests this project needs, written here because dbt hub packages
    (dbt_utils) cannot be installed offline. -#}

{% test unique_combination_of_columns(model, combination_of_columns) %}
    select {{ combination_of_columns | join(', ') }}, count(*) as n_records
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1
{% endtest %}

{% test expression_is_true(model, expression) %}
    select * from {{ model }} where not ({{ expression }})
{% endtest %}

{#- Columns that must never be null, checked in one scan of the model instead of one `not_null`
    test (one query, one dbt node, one Dagster check) per column: a mart with 20 measures that are
    0 rather than null when nothing happened costs one query, not 20. Fails with a row per
    column that holds nulls, naming it and counting them. -#}
{% test not_null_columns(model, columns) %}
    with counts as (
        select
            {%- for column in columns %}
            sum(case when {{ column }} is null then 1 else 0 end) as nulls_{{ loop.index }}{{ "," if not loop.last }}
            {%- endfor %}
        from {{ model }}
    )
    {%- for column in columns %}
    select '{{ column }}' as column_name, nulls_{{ loop.index }} as null_rows from counts where nulls_{{ loop.index }} > 0
    {{ "union all" if not loop.last }}
    {%- endfor %}
{% endtest %}
