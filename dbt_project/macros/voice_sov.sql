{#- Macros of the crisis, share-of-voice and competitor-benchmark models (models/marts/voice:
    fct_negative_mentions_daily, fct_crises, fct_share_of_voice_daily, fct_competitor_benchmark). -#}


{#- Like `in_run_window`, but reaching `lookback_days` days before the run's first day: what a
    model with a trailing baseline must read so the window's first days have their whole
    baseline (it then writes only the window's rows, filtered with `in_run_window`). `true` on a
    full refresh or when the window is unset. Plain SQL through dbt's dateadd. -#}
{% macro in_run_window_with_lookback(date_column, lookback_days) -%}
    {%- if is_incremental() -%}
        {{ date_column }} between
            cast({{ dbt.dateadd('day', -1 * (lookback_days | int),
                                "cast('" ~ env_var('SKW_DBT_START_DATE', '1900-01-01') ~ "' as date)") }} as date)
            and cast('{{ env_var("SKW_DBT_END_DATE", "9999-12-31") }}' as date)
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}


{#- The crisis rule's spread of a baseline: the largest of 1.4826 x MAD (a standard deviation
    estimated from the median absolute deviation), sqrt(median) (the noise of a count, Poisson:
    it keeps a flat baseline, MAD 0, from flagging any small rise) and 1. -#}
{% macro crisis_spread(median, mad) -%}
    greatest(1.4826 * {{ mad }}, sqrt({{ median }}), 1.0)
{%- endmacro %}


{#- The crisis rule's threshold: a day's negative mentions above it are anomalous (given a long
    enough baseline). The largest of median + k x spread (var `crisis_threshold_deviations`),
    ratio x median (var `crisis_min_ratio`) and the minimum count minus one (var
    `crisis_min_negative_mentions`), so "count > threshold" holds exactly when all three
    conditions do. -#}
{% macro crisis_threshold(median, mad) -%}
    greatest({{ median }} + {{ var('crisis_threshold_deviations') }} * {{ crisis_spread(median, mad) }},
             {{ var('crisis_min_ratio') }} * {{ median }},
             {{ var('crisis_min_negative_mentions') }} - 1.0)
{%- endmacro %}
