{#- Sum the `value` of the items of a Meta `actions` / `action_values` array whose
    `action_type` is one of `action_types`. `value` is the account's default attribution
    setting; missing arrays (Meta omits empty ones) sum to 0. Dispatched: the array is read
    with each engine's own JSON and list functions. -#}
{% macro meta_action_sum(column, action_types, value_type) -%}
    {{ return(adapter.dispatch('meta_action_sum', 'social_kpi_warehouse')(column, action_types, value_type)) }}
{%- endmacro %}

{% macro default__meta_action_sum(column, action_types, value_type) -%}
    coalesce(list_sum(list_transform(
        list_filter(
            from_json({{ column }}, '[{"action_type": "VARCHAR", "value": "VARCHAR"}]'),
            lambda a: a.action_type in ({% for t in action_types %}'{{ t }}'{% if not loop.last %}, {% endif %}{% endfor %})
        ),
        lambda a: try_cast(a.value as {{ value_type }})
    )), 0)
{%- endmacro %}

{% macro spark__meta_action_sum(column, action_types, value_type) -%}
    coalesce(aggregate(
        filter(
            from_json({{ column }}, 'array<struct<action_type:string,value:string>>'),
            a -> a.action_type in ({% for t in action_types %}'{{ t }}'{% if not loop.last %}, {% endif %}{% endfor %})
        ),
        cast(0 as {{ value_type }}),
        (acc, a) -> acc + coalesce(try_cast(a.value as {{ value_type }}), 0)
    ), 0)
{%- endmacro %}
