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
    KRW and the like, 2 for EUR, USD, GBP and most others) and typed DECIMAL(18, 2); null when it
    does not read as a number. `currency` is a SQL expression: a column or a quoted literal. The
    branch stands outside `round` because DuckDB rounds a DECIMAL only to a constant number of
    places, and each branch is typed on its own (measured: a CASE over the two rounded values
    lost the cents). Currencies with three minor units (BHD, KWD, ...) are refused by the
    accepted-currency tests, not silently rounded. -#}
{% macro to_money(amount, currency) -%}
    {%- set exact = dbt.safe_cast(amount, 'decimal(38, 9)') -%}
    case when {{ currency }} in ('JPY', 'KRW', 'CLP', 'ISK', 'VND', 'UGX', 'XOF', 'XAF')
         then cast(round({{ exact }}, 0) as decimal(18, 2))
         else cast(round({{ exact }}, 2) as decimal(18, 2)) end
{%- endmacro %}


{#- dbt's cross-database `safe_cast`, as its name says: null when a value does not convert. dbt's
    default (used by dbt-duckdb) is a plain cast, which fails the whole build on one unreadable
    value; staging reads what the APIs send as text, and such a value must become a null that a
    test reports. Found first through `dispatch` in dbt_project.yml. -#}
{% macro duckdb__safe_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
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


{#- Equality that holds for two nulls too (a join on keys that may hold nulls, as a group by
    treats them): `is not distinct from` on DuckDB, which still hash-joins on it; `<=>` on Spark. -#}
{% macro null_safe_equals(left, right) -%}
    {{ return(adapter.dispatch('null_safe_equals', 'social_kpi_warehouse')(left, right)) }}
{%- endmacro %}

{% macro default__null_safe_equals(left, right) -%}
    {{ left }} is not distinct from {{ right }}
{%- endmacro %}

{% macro spark__null_safe_equals(left, right) -%}
    {{ left }} <=> {{ right }}
{%- endmacro %}


{#- A date from its year, month and day parts (numbers or their text, as in LinkedIn's
    `dateRange` {year, month, day} objects); null when a part is null. -#}
{% macro date_from_parts(year, month, day) -%}
    {{ return(adapter.dispatch('date_from_parts', 'social_kpi_warehouse')(year, month, day)) }}
{%- endmacro %}

{% macro default__date_from_parts(year, month, day) -%}
    make_date(cast({{ year }} as bigint), cast({{ month }} as bigint), cast({{ day }} as bigint))
{%- endmacro %}

{% macro spark__date_from_parts(year, month, day) -%}
    make_date(cast({{ year }} as int), cast({{ month }} as int), cast({{ day }} as int))
{%- endmacro %}


{#- A query with one row per calendar day from `first_day` to `last_day` (both included), in one
    column `date_day` (DATE): use it as a CTE's body. Both are scalar SQL expressions (a scalar
    subquery such as `(select min(d) from x)` works); no row when either is null. -#}
{% macro day_series(first_day, last_day) -%}
    {{ return(adapter.dispatch('day_series', 'social_kpi_warehouse')(first_day, last_day)) }}
{%- endmacro %}

{% macro default__day_series(first_day, last_day) -%}
    select cast(generated_day as date) as date_day
    from (
        select unnest(generate_series(cast({{ first_day }} as date), cast({{ last_day }} as date),
                                      interval 1 day)) as generated_day
    ) as generated_days
{%- endmacro %}

{% macro spark__day_series(first_day, last_day) -%}
    select explode(sequence(to_date({{ first_day }}), to_date({{ last_day }}), interval 1 day)) as date_day
{%- endmacro %}


{#- The sum of the numeric values of a JSON object text (`{"like": 15, "love": 4}` -> 19), for
    metrics served as an object of counts by type (Facebook's post_reactions_by_type_total);
    null when the text is not an object or the object is empty. -#}
{% macro json_object_values_sum(column) -%}
    {{ return(adapter.dispatch('json_object_values_sum', 'social_kpi_warehouse')(column)) }}
{%- endmacro %}

{% macro default__json_object_values_sum(column) -%}
    list_sum(map_values(json_transform(cast({{ column }} as varchar), '"MAP(VARCHAR, BIGINT)"')))
{%- endmacro %}

{% macro spark__json_object_values_sum(column) -%}
    aggregate(map_values(from_json(cast({{ column }} as string), 'map<string,bigint>')),
              cast(null as bigint), (acc, x) -> coalesce(acc, 0) + x)
{%- endmacro %}


{#- One row per match of a regular expression in a text column, as `(parent columns..., item)`
    where `item` is the pattern's first capture group: `{{ regexp_items('src', 'caption',
    '#([A-Za-z0-9_]+)', 'tag') }}` is a FROM clause item producing src.* and tag.item (a row
    without a match produces nothing). Write the pattern without backslashes (character
    classes instead): Spark's string literals would need them doubled. -#}
{% macro regexp_items(relation_alias, text_column, pattern, item_alias) -%}
    {{ return(adapter.dispatch('regexp_items', 'social_kpi_warehouse')(relation_alias, text_column, pattern, item_alias)) }}
{%- endmacro %}

{% macro default__regexp_items(relation_alias, text_column, pattern, item_alias) -%}
    {{ relation_alias }}, unnest(regexp_extract_all({{ relation_alias }}.{{ text_column }}, '{{ pattern }}', 1)) as {{ item_alias }}(item)
{%- endmacro %}

{% macro spark__regexp_items(relation_alias, text_column, pattern, item_alias) -%}
    {{ relation_alias }} lateral view explode(regexp_extract_all({{ relation_alias }}.{{ text_column }}, '{{ pattern }}', 1)) {{ item_alias }} as item
{%- endmacro %}


{#- Free text with the contact details a customer may write in it replaced: e-mail addresses by
    `[email]`, phone numbers by `[phone]`. A phone number is a run of at least 8 digits, with an
    optional leading `+` or `(` and up to two of ` ./()-` between digits (+49 30 1234567,
    (030) 1234 5678, +1 (555) 123-4567, 0171-1234567, 555.123.4567); dates (2026-06-01,
    01.06.2026, 2026/06/01) are kept: they are marked with a private-use character (U+E000)
    for the phone pass and the mark is removed after it (a U+E000 already in the text goes
    too). Order numbers and amounts of up to 7 digits stay. Null stays null; text without
    either comes back unchanged. Only this redacted text may leave staging. -#}
{% macro redact_contacts(text) -%}
    {{ return(adapter.dispatch('redact_contacts', 'social_kpi_warehouse')(text)) }}
{%- endmacro %}

{% macro _redact_contacts_patterns() -%}
    {#- The patterns, written without backslashes so one text serves RE2 (DuckDB) and Java (Spark). -#}
    {{ return({
        'email': '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+[.][A-Za-z]{2,}',
        'date_ymd': '([0-9]{4})([-./])([0-9]{1,2})([-./])([0-9]{1,2})',
        'date_dmy': '([0-9]{1,2})([-./])([0-9]{1,2})([-./])([0-9]{4})',
        'phone': '[+]?[(]?[0-9]([ ./()-]{0,2}[0-9]){7,17}',
        'mark': '\ue000',
    }) }}
{%- endmacro %}

{% macro default__redact_contacts(text) -%}
    {%- set p = _redact_contacts_patterns() -%}
    regexp_replace(
        regexp_replace(
            regexp_replace(
                regexp_replace(
                    regexp_replace({{ text }}, '{{ p.email }}', '[email]', 'g'),
                    '{{ p.date_ymd }}', '\1\2{{ p.mark }}\3\4{{ p.mark }}\5', 'g'),
                '{{ p.date_dmy }}', '\1\2{{ p.mark }}\3\4{{ p.mark }}\5', 'g'),
            '{{ p.phone }}', '[phone]', 'g'),
        '{{ p.mark }}', '', 'g')
{%- endmacro %}

{% macro spark__redact_contacts(text) -%}
    {%- set p = _redact_contacts_patterns() -%}
    regexp_replace(
        regexp_replace(
            regexp_replace(
                regexp_replace(
                    regexp_replace({{ text }}, '{{ p.email }}', '[email]'),
                    '{{ p.date_ymd }}', '$1$2{{ p.mark }}$3$4{{ p.mark }}$5'),
                '{{ p.date_dmy }}', '$1$2{{ p.mark }}$3$4{{ p.mark }}$5'),
            '{{ p.phone }}', '[phone]'),
        '{{ p.mark }}', '')
{%- endmacro %}


{#- A social handle as rosters and platforms are compared: trimmed, without a leading `@`,
    lower-cased. Plain ANSI SQL (no dispatch needed). -#}
{% macro normalized_handle(handle) -%}
    lower(trim(leading '@' from trim({{ handle }})))
{%- endmacro %}


{#- The team's rosters of public accounts as three CTEs (write `with {{ author_roster_ctes() }}, ...`),
    each keyed by `handle_hash`, the salted hash of the normalised handle (`normalized_handle`),
    so an author's hashed handle joins to them without the roster's clear text:
    - `roster_brand_accounts`: the brand and every competitor of any version of the competitor
      set (handle, entity, is_brand); public brand accounts;
    - `roster_influencers`: (handle_hash, platform) with the creator's public handle and
      influencer_id; public accounts the brand pays;
    - `roster_employees`: (handle_hash, platform) with employee_id, is_advocate and the handle in
      clear only for advocates (stg_team_config__employees keeps it so: an advocate posts about
      the brand in public by consent; other employees are private people).
    Handles listed twice keep the lowest id. -#}
{% macro author_roster_ctes() -%}
roster_brand_accounts as (
    select
        {{ hash_pii(normalized_handle('handle')) }} as handle_hash,
        min({{ normalized_handle('handle') }}) as handle,
        min(lower(trim(entity))) as entity,
        max(case when is_brand then 1 else 0 end) = 1 as is_brand
    from {{ ref('stg_team_config__competitors') }}
    where nullif(trim(handle), '') is not null
    group by 1
),

roster_influencers as (
    select
        {{ hash_pii(normalized_handle('handle')) }} as handle_hash,
        platform,
        min({{ normalized_handle('handle') }}) as handle,
        min(influencer_id) as influencer_id
    from {{ ref('stg_team_config__influencers') }}
    where nullif(trim(handle), '') is not null
    group by 1, 2
),

roster_employees as (
    select
        handle_hash,
        platform,
        min({{ normalized_handle('public_handle') }}) as public_handle,
        min(employee_id) as employee_id,
        max(case when is_advocate then 1 else 0 end) = 1 as is_advocate
    from {{ ref('stg_team_config__employees') }}
    where handle_hash is not null
    group by 1, 2
)
{%- endmacro %}


{#- A top-level field of a JSON object text whose key is not a plain name (`"link clicks"`, as
    in Facebook's post_clicks_by_type), as text; null when absent. -#}
{% macro json_key_text(column, key) -%}
    {{ return(adapter.dispatch('json_key_text', 'social_kpi_warehouse')(column, key)) }}
{%- endmacro %}

{% macro default__json_key_text(column, key) -%}
    json_extract_string({{ column }}, '$."{{ key }}"')
{%- endmacro %}

{% macro spark__json_key_text(column, key) -%}
    get_json_object({{ column }}, "$['{{ key }}']")
{%- endmacro %}


{#- The body of a CTE naming the competitor set's entity (brand included) each X query listens
    for: one row per (query_name, query) of `queries_cte` with `entity` and `is_brand`. The
    entity whose name is the query_name wins; else the only one whose `@handle` the query text
    holds as a whole word; else null (none or several). Needs `roster_brand_accounts` from
    `author_roster_ctes()` before it. Plain SQL, no dispatch. -#}
{% macro x_query_entities(queries_cte) -%}
    select
        query_name,
        query,
        coalesce(name_entity, handle_entity) as entity,
        case
            when name_entity is not null then name_is_brand = 1
            when handle_entity is not null then handle_is_brand = 1
            else false
        end as is_brand
    from (
        select
            queries.query_name,
            queries.query,
            min(by_name.entity) as name_entity,
            max(case when by_name.is_brand then 1 else 0 end) as name_is_brand,
            case when count(distinct by_handle.entity) = 1 then min(by_handle.entity) end as handle_entity,
            max(case when by_handle.is_brand then 1 else 0 end) as handle_is_brand
        from {{ queries_cte }} as queries
        left join roster_brand_accounts as by_name
            on lower(trim(queries.query_name)) = by_name.entity
        left join roster_brand_accounts as by_handle
            on position('@' || by_handle.handle || ' ' in
                        ' ' || replace(replace(replace(lower(queries.query), '(', ' '), ')', ' '), '"', ' ') || ' ') > 0
        group by queries.query_name, queries.query
    ) as resolved
{%- endmacro %}


{#- The run's window widened by `margin_days` on both sides, as a filter on a date column, for
    incremental models keyed by a day that is not the reporting day (a raw partition's UTC day,
    say: its rows can fall on the reporting day before or after). Every day when not
    incremental. -#}
{% macro in_run_window_days(date_column, margin_days=1) -%}
    {%- if is_incremental() -%}
        {{ date_column }} between {{ dbt.dateadd('day', -margin_days, "cast('" ~ env_var('SKW_DBT_START_DATE', '1900-01-02') ~ "' as date)") }}
                              and {{ dbt.dateadd('day', margin_days, "cast('" ~ env_var('SKW_DBT_END_DATE', '9999-12-30') ~ "' as date)") }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}


{#- The incremental strategy that replaces rows by their key (a record that changed replaces
    its older version): delete+insert on DuckDB, merge on Spark (Delta tables). -#}
{% macro upsert_strategy() -%}
    {{ return(adapter.dispatch('upsert_strategy', 'social_kpi_warehouse')()) }}
{%- endmacro %}

{% macro default__upsert_strategy() -%}
    {{ return('delete+insert') }}
{%- endmacro %}

{% macro spark__upsert_strategy() -%}
    {{ return('merge') }}
{%- endmacro %}


{#- For staging models built incrementally from a table the loader writes changes-only: the raw
    rows of loads this model has not read yet (a changed record gets the load id of the load
    that changed it; an unchanged one keeps its old one). Exact whatever order loads commit
    in, unlike a `_loaded_at > max(...)` cursor. Every row when not incremental. -#}
{% macro unread_loads(load_id_column='_load_id') -%}
    {%- if is_incremental() -%}
        {{ load_id_column }} not in (select distinct _load_id from {{ this }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}


{#- The exact `fraction` percentile (0-1) of a numeric expression as an aggregate, interpolated
    between the two nearest values (SQL's percentile_cont: the median of 1, 2, 3, 10 is 2.5, its
    p90 is 3 + 0.7 * 7 = 7.9), as DOUBLE; nulls are left out. DuckDB `quantile_cont`, Spark
    `percentile` (exact, interpolated the same way). -#}
{% macro exact_percentile(expr, fraction) -%}
    {{ return(adapter.dispatch('exact_percentile', 'social_kpi_warehouse')(expr, fraction)) }}
{%- endmacro %}

{% macro default__exact_percentile(expr, fraction) -%}
    cast(quantile_cont({{ expr }}, {{ fraction }}) as double)
{%- endmacro %}

{% macro spark__exact_percentile(expr, fraction) -%}
    cast(percentile({{ expr }}, {{ fraction }}) as double)
{%- endmacro %}


{#- The exact median of a numeric expression as an aggregate: `exact_percentile(expr, 0.5)`
    (the mean of the two middle values on an even count), DOUBLE. -#}
{% macro exact_median(expr) -%}
    {{ exact_percentile(expr, 0.5) }}
{%- endmacro %}
