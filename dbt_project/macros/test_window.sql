{#- Data tests of a windowed run look at the run's window only.

    A partitioned run (Dagster sets SKW_DBT_START_DATE / SKW_DBT_END_DATE) rebuilds only its
    days in incremental models; the rows outside the window did not change, and were tested
    when they were built. Likewise a staging view over a dated raw stream: raw changes only in
    the partitions the run loads. So a test of an incremental model or a view that names its
    window column (`meta={'window_column': 'date_day'}` in its config: the reporting day) reads
    the model filtered to the window. A full refresh, a run without a window, and tests of any
    other model (tables rebuilt whole, models with no window column) read everything.

    This is dbt's own hook for a test's `where` config (`get_where_subquery`, dispatched in
    the `dbt` namespace, which dbt_project.yml searches in this project first); a test's own
    `where` still applies, and-ed with the window. Only the tested model is filtered, never
    the other side of a `relationships` test. The window is read only when the test runs
    (`execute`), so changing it does not make dbt re-parse the tests.

    A `rules` test (macros/rules.sql) is not filtered here: it applies the window rule by rule
    (`rules_test_window`), since a key without the window column must be checked against the
    rows outside the window too. -#}

{% macro default__get_where_subquery(relation) -%}
    {%- set filters = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}{%- do filters.append('(' ~ where ~ ')') -%}{%- endif -%}
    {%- set window = run_window_filter_for_test(relation) -%}
    {%- if window and (model.get('test_metadata') or {}).get('name') != 'rules' -%}{%- do filters.append(window) -%}{%- endif -%}
    {%- if filters -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ filters | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}


{#- The window filter for a test of `relation`, or '' when the test reads everything. -#}
{% macro run_window_filter_for_test(relation) -%}
    {%- set window = run_window_of_tested_model() -%}
    {%- if not window -%}{%- do return('') -%}{%- endif -%}
    {%- if (relation.identifier | lower) != (window.node.alias | lower)
           or (relation.schema | lower) != (window.node.schema | lower) -%}
        {%- do return('') -%}
    {%- endif -%}
    {%- do return(window.filter) -%}
{%- endmacro %}


{#- The run's window for the model the running test is attached to, as {column, filter, node}, or
    none when the test reads everything: at parse time, on a full refresh, without a window (both
    SKW_DBT_START_DATE and SKW_DBT_END_DATE), and for a model that is not incremental or a view or
    names no `window_column`. -#}
{% macro run_window_of_tested_model() -%}
    {%- if not execute or flags.FULL_REFRESH -%}{%- do return(none) -%}{%- endif -%}
    {%- set start = env_var('SKW_DBT_START_DATE', '') -%}
    {%- set end = env_var('SKW_DBT_END_DATE', '') -%}
    {%- if not start or not end -%}{%- do return(none) -%}{%- endif -%}
    {%- set node = graph.nodes.get(model.get('attached_node') or '') -%}
    {%- if not node or node.config.materialized not in ('incremental', 'view') -%}{%- do return(none) -%}{%- endif -%}
    {%- set column = node.config.meta.get('window_column') -%}
    {%- if not column -%}{%- do return(none) -%}{%- endif -%}
    {%- do return({
          'column': column,
          'filter': column ~ " between cast('" ~ start ~ "' as date) and cast('" ~ end ~ "' as date)",
          'node': node}) -%}
{%- endmacro %}
