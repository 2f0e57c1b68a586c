{#- The KPI -> mart mapping of int_kpi_values_daily as rows (scorecard_kpi_mappings(),
    macros/scorecard.sql): one row per mapped KPI. The `registry_kpis_are_mapped` test compares it
    with the team's KPI registry, so a KPI added to the registry without a mapping fails the
    build. -#}

{%- set mappings = scorecard_kpi_mappings() -%}

with

mappings as (
    {%- for m in mappings %}
    select
        cast('{{ m.kpi }}' as {{ dbt.type_string() }}) as kpi,
        cast('{{ m.aggregation }}' as {{ dbt.type_string() }}) as aggregation,
        cast('{{ m.marts }}' as {{ dbt.type_string() }}) as source_marts,
        cast('{{ m.scope | replace("'", "''") }}' as {{ dbt.type_string() }}) as scope
    {{ "union all" if not loop.last }}
    {%- endfor %}
)

select * from mappings
