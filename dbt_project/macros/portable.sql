{#- Engine-specific SQL behind adapter-dispatched macros, so staging and marts read the same on
    DuckDB today and on another engine (Apache Spark) later: a model calls these, never a
    DuckDB-only function directly. Each has a `default__` (DuckDB here) and a `spark__`
    version. dbt's own cross-database macros (dbt.dateadd, dbt.datediff, dbt.date_trunc,
    dbt.safe_cast, dbt.type_*) are used directly where they exist. -#}


{#- A timestamp text as the APIs write it (ISO 8601 with `Z`, `+0000` or `+00:00`, with or
    without milliseconds; null when it does not parse) as a UTC timestamp without time zone. -#}
{% macro to_utc_timestamp(text) -%}
    {{ return(adapter.dispatch('to_utc_timestamp', 'social_kpi_warehouse')(text)) }}
{%- endmacro %}

{% macro default__to_utc_timestamp(text) -%}
    timezone('UTC', try_cast({{ text }} as timestamptz))
{%- endmacro %}

{% macro spark__to_utc_timestamp(text) -%}
    to_utc_timestamp(try_to_timestamp({{ text }}), 'UTC')
{%- endmacro %}


{#- Epoch milliseconds (a number or its text) as a UTC timestamp without time zone. -#}
{% macro epoch_ms_to_utc(ms) -%}
    {{ return(adapter.dispatch('epoch_ms_to_utc', 'social_kpi_warehouse')(ms)) }}
{%- endmacro %}

{% macro default__epoch_ms_to_utc(ms) -%}
    timezone('UTC', epoch_ms(cast({{ ms }} as bigint)))
{%- endmacro %}

{% macro spark__epoch_ms_to_utc(ms) -%}
    timestamp_millis(cast({{ ms }} as bigint))
{%- endmacro %}


{#- The calendar day of a UTC timestamp in the reporting time zone (var `reporting_timezone`). -#}
{% macro reporting_date(ts_utc) -%}
    {{ return(adapter.dispatch('reporting_date', 'social_kpi_warehouse')(ts_utc)) }}
{%- endmacro %}

{% macro default__reporting_date(ts_utc) -%}
    cast(timezone('{{ var("reporting_timezone") }}', timezone('UTC', {{ ts_utc }})) as date)
{%- endmacro %}

{% macro spark__reporting_date(ts_utc) -%}
    to_date(from_utc_timestamp({{ ts_utc }}, '{{ var("reporting_timezone") }}'))
{%- endmacro %}


{#- A string field of a JSON text, by JSONPath (`$.a.b`); null when absent. -#}
{% macro json_text(column, path) -%}
    {{ return(adapter.dispatch('json_text', 'social_kpi_warehouse')(column, path)) }}
{%- endmacro %}

{% macro default__json_text(column, path) -%}
    json_extract_string({{ column }}, '{{ path }}')
{%- endmacro %}

{% macro spark__json_text(column, path) -%}
    get_json_object({{ column }}, '{{ path }}')
{%- endmacro %}


{#- One row per item of a JSON array text, as `(parent columns..., item)` where `item` is the
    item's JSON text: `{{ json_array_items('src', 'id', 'values_json', 'v') }}` is a FROM clause
    item producing src.id and v.item. -#}
{% macro json_array_items(relation_alias, array_column, item_alias) -%}
    {{ return(adapter.dispatch('json_array_items', 'social_kpi_warehouse')(relation_alias, array_column, item_alias)) }}
{%- endmacro %}

{% macro default__json_array_items(relation_alias, array_column, item_alias) -%}
    {{ relation_alias }}, unnest(cast(json_extract({{ relation_alias }}.{{ array_column }}, '$[*]') as varchar[])) as {{ item_alias }}(item)
{%- endmacro %}

{% macro spark__json_array_items(relation_alias, array_column, item_alias) -%}
    {{ relation_alias }} lateral view explode(from_json({{ relation_alias }}.{{ array_column }}, 'array<string>')) {{ item_alias }} as item
{%- endmacro %}


{#- A salted SHA-256 of a person's identifier (email, phone, name, handle): the same person
    hashes the same everywhere, so joins still work, and the value cannot be read back. The
    salt is the environment variable SKW_PII_SALT; a build without it fails rather than hash
    with a guessable salt. Emails and handles are trimmed and lower-cased first. -#}
{% macro hash_pii(expr) -%}
    {%- set salt = env_var('SKW_PII_SALT', '') -%}
    {%- if execute and not salt -%}
        {{ exceptions.raise_compiler_error("SKW_PII_SALT is not set: staging hashes emails, phones, names and handles with it (a long random string kept secret; the same one on every run, or joins across runs break)") }}
    {%- endif -%}
    {{ return(adapter.dispatch('hash_pii', 'social_kpi_warehouse')(expr, salt)) }}
{%- endmacro %}

{% macro default__hash_pii(expr, salt) -%}
    case when nullif(trim({{ expr }}), '') is not null
         then sha256('{{ salt }}' || lower(trim({{ expr }}))) end
{%- endmacro %}

{% macro spark__hash_pii(expr, salt) -%}
    case when nullif(trim({{ expr }}), '') is not null
         then sha2(concat('{{ salt }}', lower(trim({{ expr }}))), 256) end
{%- endmacro %}


{#- Money: a decimal text or number rounded to its currency's minor units (ISO 4217: 0 for JPY,
    KRW and the like, 2 for EUR, USD, GBP and most others) and typed DECIMAL(18, 2). Currencies
    with three minor units (BHD, KWD, ...) are refused by the accepted-currency tests, not
    silently rounded. -#}
{% macro to_money(amount, currency) -%}
    cast(round({{ dbt.safe_cast(amount, 'decimal(38, 9)') }},
               case when {{ currency }} in ('JPY', 'KRW', 'CLP', 'ISK', 'VND', 'UGX', 'XOF', 'XAF') then 0 else 2 end)
         as decimal(18, 2))
{%- endmacro %}


{#- The incremental strategy that replaces a run's window of days: `delete+insert` on DuckDB,
    `insert_overwrite` (by partition) on Spark, which has no delete+insert. A model writes
    `incremental_strategy=window_strategy()` and never names one. -#}
{% macro window_strategy() -%}
    {{ return(adapter.dispatch('window_strategy', 'social_kpi_warehouse')()) }}
{%- endmacro %}

{% macro default__window_strategy() -%}
    {{ return('delete+insert') }}
{%- endmacro %}

{% macro spark__window_strategy() -%}
    {{ return('insert_overwrite') }}
{%- endmacro %}


{#- The run's window of days as a filter on a date column, for incremental models: the days a
    partitioned run rebuilds (SKW_DBT_START_DATE..SKW_DBT_END_DATE, set by Dagster; every day
    when unset or on a full refresh). -#}
{% macro in_run_window(date_column) -%}
    {%- if is_incremental() -%}
        {{ date_column }} between cast('{{ env_var("SKW_DBT_START_DATE", "1900-01-01") }}' as date)
                              and cast('{{ env_var("SKW_DBT_END_DATE", "9999-12-31") }}' as date)
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
