{#- Social care's macros (models/intermediate/care, models/marts/care): the care team's business
    hours and the business minutes between two UTC timestamps, exact percentiles, and the
    feedback themes' keyword rules. Engine-specific SQL sits behind adapter dispatch (a
    `default__` for DuckDB and a `spark__` each), as in portable.sql.

    Business hours are configuration (dbt vars, dbt_project.yml under `# [care]`):
    business_hours_start / business_hours_end (local "HH:MM", opening before closing on the same
    day), business_days (ISO weekdays, 1 = Monday ... 7 = Sunday), business_timezone (an IANA
    name) and business_holidays (local dates the team is closed).

    How business minutes are counted: a calendar of local days (`business_calendar`) holds each
    business day's opening and closing instants converted to UTC in the business time zone, so
    a day after a daylight-saving switch opens at its own UTC hour, and the business minutes of
    every day before it (a running sum). The business minutes up to an instant are those of the
    days before its local day plus the part of its own day's opening hours already gone
    (`business_minutes_until`); between two instants, the difference of the two
    (`business_minutes_between`). Nights, weekends and holidays add nothing. Each instant joins
    the calendar on its local day (`business_date`): two equi-joins, no range join, so it costs
    the same on any engine. -#}


{#- The business-hours settings, checked, as a dict: start, end ("HH:MM"), days (ISO weekday
    numbers), timezone, holidays ("YYYY-MM-DD" texts). A wrong setting fails the compile naming
    the var. -#}
{% macro business_hours_settings() -%}
    {%- set start = var('business_hours_start', '09:00') | string -%}
    {%- set end = var('business_hours_end', '18:00') | string -%}
    {%- set days = var('business_days', [1, 2, 3, 4, 5]) -%}
    {%- set timezone = var('business_timezone', var('reporting_timezone', 'UTC')) | string -%}
    {%- set holidays = var('business_holidays', []) or [] -%}
    {%- for name, value in [('business_hours_start', start), ('business_hours_end', end)] -%}
        {%- if not modules.re.match('^([01][0-9]|2[0-3]):[0-5][0-9]$', value) -%}
            {{ exceptions.raise_compiler_error("var " ~ name ~ " is '" ~ value ~ "': expected a local time \"HH:MM\" from 00:00 to 23:59 (quoted in dbt_project.yml)") }}
        {%- endif -%}
    {%- endfor -%}
    {%- if start >= end -%}
        {{ exceptions.raise_compiler_error("var business_hours_start (" ~ start ~ ") must be before business_hours_end (" ~ end ~ "): opening hours within one local day") }}
    {%- endif -%}
    {%- if days is string or days is mapping or days is not iterable -%}
        {{ exceptions.raise_compiler_error("var business_days must be a list of ISO weekdays (1 = Monday ... 7 = Sunday), got " ~ days) }}
    {%- endif -%}
    {%- set weekdays = [] -%}
    {%- for day in days -%}
        {%- if (day | string) not in ['1', '2', '3', '4', '5', '6', '7'] -%}
            {{ exceptions.raise_compiler_error("var business_days holds " ~ day ~ ": ISO weekdays are 1 (Monday) to 7 (Sunday)") }}
        {%- endif -%}
        {%- do weekdays.append(day | int) -%}
    {%- endfor -%}
    {%- if not modules.re.match('^[A-Za-z][A-Za-z0-9_+/-]*$', timezone) -%}
        {{ exceptions.raise_compiler_error("var business_timezone is '" ~ timezone ~ "': expected an IANA time zone name such as Europe/Berlin") }}
    {%- endif -%}
    {%- set closed = [] -%}
    {%- for day in holidays -%}
        {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', day | string) -%}
            {{ exceptions.raise_compiler_error("var business_holidays holds '" ~ day ~ "': expected local dates \"YYYY-MM-DD\"") }}
        {%- endif -%}
        {%- do closed.append(day | string) -%}
    {%- endfor -%}
    {{ return({'start': start, 'end': end, 'days': weekdays, 'timezone': timezone, 'holidays': closed}) }}
{%- endmacro %}


{#- The local day (business time zone) of a UTC timestamp: what an instant joins the business
    calendar on. -#}
{% macro business_date(ts_utc) -%}
    {{ return(adapter.dispatch('business_date', 'social_kpi_warehouse')(ts_utc, business_hours_settings().timezone)) }}
{%- endmacro %}

{% macro default__business_date(ts_utc, timezone) -%}
    cast(timezone('{{ timezone }}', timezone('UTC', {{ ts_utc }})) as date)
{%- endmacro %}

{% macro spark__business_date(ts_utc, timezone) -%}
    to_date(from_utc_timestamp({{ ts_utc }}, '{{ timezone }}'))
{%- endmacro %}


{#- The UTC instant of a local wall-clock time ("HH:MM") on a local date, in `timezone`. -#}
{% macro local_time_to_utc(date_expr, hhmm, timezone) -%}
    {{ return(adapter.dispatch('local_time_to_utc', 'social_kpi_warehouse')(date_expr, hhmm, timezone)) }}
{%- endmacro %}

{% macro default__local_time_to_utc(date_expr, hhmm, timezone) -%}
    timezone('UTC', timezone('{{ timezone }}', cast({{ date_expr }} as date) + cast('{{ hhmm }}:00' as time)))
{%- endmacro %}

{% macro spark__local_time_to_utc(date_expr, hhmm, timezone) -%}
    to_utc_timestamp(to_timestamp(concat(cast(cast({{ date_expr }} as date) as string), ' {{ hhmm }}:00')), '{{ timezone }}')
{%- endmacro %}


{#- The ISO weekday of a date: 1 = Monday ... 7 = Sunday. -#}
{% macro iso_weekday(date_expr) -%}
    {{ return(adapter.dispatch('iso_weekday', 'social_kpi_warehouse')(date_expr)) }}
{%- endmacro %}

{% macro default__iso_weekday(date_expr) -%}
    isodow(cast({{ date_expr }} as date))
{%- endmacro %}

{% macro spark__iso_weekday(date_expr) -%}
    extract(DAYOFWEEK_ISO from cast({{ date_expr }} as date))
{%- endmacro %}


{#- Seconds from one timestamp to another (DOUBLE, fractions kept: X's timestamps carry
    milliseconds); negative when `end_ts` is earlier. -#}
{% macro seconds_between(start_ts, end_ts) -%}
    {{ return(adapter.dispatch('seconds_between', 'social_kpi_warehouse')(start_ts, end_ts)) }}
{%- endmacro %}

{% macro default__seconds_between(start_ts, end_ts) -%}
    (epoch({{ end_ts }}) - epoch({{ start_ts }}))
{%- endmacro %}

{% macro spark__seconds_between(start_ts, end_ts) -%}
    (cast(unix_micros({{ end_ts }}) - unix_micros({{ start_ts }}) as double) / 1000000.0)
{%- endmacro %}


{#- A query with one row per local day from `first_day` to `last_day` (scalar SQL expressions,
    both included): use it as a CTE's body. Columns: date_day, is_business_day (its ISO weekday
    is a business day and it is not a holiday), opens_at and closes_at (the day's opening and
    closing in UTC; null on a day off), open_minutes (the day's business minutes, DOUBLE: 540
    for 09:00-18:00, fewer on a daylight-saving night inside the hours) and
    open_minutes_before (the business minutes of the calendar's days before this one). -#}
{% macro business_calendar(first_day, last_day) -%}
    {%- set settings = business_hours_settings() -%}
    select
        date_day,
        is_business_day,
        opens_at,
        closes_at,
        open_minutes,
        coalesce(sum(open_minutes) over (order by date_day rows between unbounded preceding and 1 preceding),
                 cast(0 as double)) as open_minutes_before
    from (
        select
            date_day,
            is_business_day,
            opens_at,
            closes_at,
            case when is_business_day then {{ seconds_between('opens_at', 'closes_at') }} / 60.0
                 else cast(0 as double) end as open_minutes
        from (
            select
                calendar_days.date_day,
                {{ _business_day_condition('calendar_days.date_day', settings) }} as is_business_day,
                case when {{ _business_day_condition('calendar_days.date_day', settings) }}
                     then {{ local_time_to_utc('calendar_days.date_day', settings.start, settings.timezone) }} end as opens_at,
                case when {{ _business_day_condition('calendar_days.date_day', settings) }}
                     then {{ local_time_to_utc('calendar_days.date_day', settings.end, settings.timezone) }} end as closes_at
            from (
                {{ day_series(first_day, last_day) }}
            ) as calendar_days
        ) as business_days
    ) as business_day_minutes
{%- endmacro %}

{% macro _business_day_condition(date_expr, settings) -%}
    {%- if not settings.days -%}
        false
    {%- else -%}
        ({{ iso_weekday(date_expr) }} in ({{ settings.days | join(', ') }})
        {%- if settings.holidays %}
         and cast({{ date_expr }} as date) not in (
            {%- for day in settings.holidays -%}
                cast('{{ day }}' as date){{ ', ' if not loop.last }}
            {%- endfor -%})
        {%- endif -%})
    {%- endif -%}
{%- endmacro %}


{#- Business minutes from the start of the calendar to a UTC instant `ts`, where `calendar` is
    the alias of a `business_calendar` row joined on `business_date(ts) = calendar.date_day`:
    the days before plus the part of the instant's own day's opening hours already gone. -#}
{% macro business_minutes_until(ts, calendar) -%}
    ({{ calendar }}.open_minutes_before + case
        when not {{ calendar }}.is_business_day or {{ ts }} <= {{ calendar }}.opens_at then cast(0 as double)
        when {{ ts }} >= {{ calendar }}.closes_at then {{ calendar }}.open_minutes
        else {{ seconds_between(calendar ~ '.opens_at', ts) }} / 60.0
    end)
{%- endmacro %}


{#- Business minutes between two UTC instants (DOUBLE): only the time inside business hours
    counts, nights, days off and holidays add nothing. Each instant needs its own calendar row
    (`start_calendar`, `end_calendar`: aliases of `business_calendar` rows joined on its
    `business_date`). Null when either instant is null. -#}
{% macro business_minutes_between(start_ts, end_ts, start_calendar, end_calendar) -%}
    ({{ business_minutes_until(end_ts, end_calendar) }} - {{ business_minutes_until(start_ts, start_calendar) }})
{%- endmacro %}


{#- True when a UTC instant falls inside business hours (opening included, closing excluded:
    09:00-18:00 holds 17:59:59 but not 18:00), given its calendar row. -#}
{% macro is_in_business_hours(ts, calendar) -%}
    coalesce({{ calendar }}.is_business_day and {{ ts }} >= {{ calendar }}.opens_at and {{ ts }} < {{ calendar }}.closes_at, false)
{%- endmacro %}


{#- The feedback themes (var `feedback_themes`: theme -> keywords or phrases), checked, as a
    list of {theme, pattern}: the pattern matches the lower-cased text when one of the theme's
    keywords stands there as a whole word (a trailing `*` lets any ending follow: `deliver*`
    matches delivery and delivered; `app` does not match apply). Word edges are any character
    but a-z and 0-9, or the text's start and end. Keywords hold letters, digits, spaces and `-`
    only (so the pattern needs no escaping, and reads the same in RE2 and Java), lower-cased
    here. Themes in the order the var lists them. -#}
{% macro feedback_theme_patterns() -%}
    {%- set themes = var('feedback_themes', {}) -%}
    {%- if themes is not mapping or not themes -%}
        {{ exceptions.raise_compiler_error("var feedback_themes must map each theme to a list of keywords, e.g. {shipping: [ship*, deliver*]}") }}
    {%- endif -%}
    {%- set out = [] -%}
    {%- for theme, keywords in themes.items() -%}
        {%- if not modules.re.match('^[a-z][a-z0-9_]*$', theme | string) -%}
            {{ exceptions.raise_compiler_error("var feedback_themes: theme '" ~ theme ~ "' must be lower-case letters, digits and _") }}
        {%- endif -%}
        {%- if keywords is string or keywords is not iterable or not keywords -%}
            {{ exceptions.raise_compiler_error("var feedback_themes: theme '" ~ theme ~ "' needs a list of keywords") }}
        {%- endif -%}
        {%- set alternatives = [] -%}
        {%- for keyword in keywords -%}
            {%- set word = (keyword | string | trim | lower) -%}
            {%- set stem = word[:-1] if word.endswith('*') else word -%}
            {%- if not modules.re.match('^[^\\W_]([^\\W_]|[ -])*$', stem) -%}
                {{ exceptions.raise_compiler_error("var feedback_themes: keyword '" ~ keyword ~ "' of theme '" ~ theme ~ "' may hold letters, digits, spaces and - only (a trailing * for any ending)") }}
            {%- endif -%}
            {%- do alternatives.append(stem if word.endswith('*') else stem ~ '([^a-z0-9]|$)') -%}
        {%- endfor -%}
        {%- do out.append({'theme': theme | string, 'pattern': '(^|[^a-z0-9])(' ~ alternatives | join('|') ~ ')'}) -%}
    {%- endfor -%}
    {{ return(out) }}
{%- endmacro %}


{#- True when a text matches a regular expression anywhere (a partial match). The pattern is a
    SQL string literal's content; write it without backslashes (character classes instead). -#}
{% macro regexp_contains(text, pattern) -%}
    {{ return(adapter.dispatch('regexp_contains', 'social_kpi_warehouse')(text, pattern)) }}
{%- endmacro %}

{% macro default__regexp_contains(text, pattern) -%}
    regexp_matches({{ text }}, '{{ pattern }}')
{%- endmacro %}

{% macro spark__regexp_contains(text, pattern) -%}
    ({{ text }} rlike '{{ pattern }}')
{%- endmacro %}


{#- The run window's first day as a SQL date (1900-01-01 on a full refresh or a run without a
    window): incremental marts of whole weeks and months read from the start of the period
    holding it. -#}
{% macro run_window_start() -%}
    {%- if is_incremental() -%}
        cast('{{ env_var("SKW_DBT_START_DATE", "1900-01-01") }}' as date)
    {%- else -%}
        cast('1900-01-01' as date)
    {%- endif -%}
{%- endmacro %}


{#- The run window's last day as a SQL date (9999-12-31 on a full refresh or without a window). -#}
{% macro run_window_end() -%}
    {%- if is_incremental() -%}
        cast('{{ env_var("SKW_DBT_END_DATE", "9999-12-31") }}' as date)
    {%- else -%}
        cast('9999-12-31' as date)
    {%- endif -%}
{%- endmacro %}


{#- The incremental care models' window (models/intermediate/care, fct_care_responses). A run
    with a window (SKW_DBT_START_DATE..SKW_DBT_END_DATE) rebuilds every reporting day from
    `care_window_margin_days()` days before the window's first (a raw partition is a UTC day:
    its texts fall on the reporting day before or after it) to the newest: a text's row is
    worked out from its thread or conversation, which the window's raw can change for any
    later text (backfilling older days included). Days before that are rebuilt only where a
    row changed (a reply loaded in the window to an older text; the models say how they find
    them). The first day to rebuild, as a SQL date; 1900-01-01 on a full refresh or a run
    without a window: every day. -#}
{% macro care_rebuild_from_day() -%}
    {%- if is_incremental() -%}
        cast({{ dbt.dateadd('day', -care_window_margin_days(), "cast('" ~ env_var('SKW_DBT_START_DATE', '1900-01-02') ~ "' as date)") }} as date)
    {%- else -%}
        cast('1900-01-01' as date)
    {%- endif -%}
{%- endmacro %}


{#- The earliest instant (UTC timestamp) the incremental care models read texts and replies
    from: midnight UTC the day before care_rebuild_from_day(), so the texts of that reporting
    day and after are all read whatever the reporting time zone (UTC-12 to UTC+14), and every
    reply the window's raw partitions can hold (written on or after SKW_DBT_START_DATE, UTC).
    1900-01-01 on a full refresh or a run without a window. -#}
{% macro care_read_since() -%}
    {%- if is_incremental() -%}
        cast({{ dbt.dateadd('day', -care_window_margin_days() - 1, "cast('" ~ env_var('SKW_DBT_START_DATE', '1900-01-03') ~ "' as date)") }} as {{ dbt.type_timestamp() }})
    {%- else -%}
        cast('1900-01-01 00:00:00' as {{ dbt.type_timestamp() }})
    {%- endif -%}
{%- endmacro %}


{#- var `care_window_margin_days` (dbt_project.yml, `# [inc-care]`), checked: a whole number of
    days, 0 or more. -#}
{% macro care_window_margin_days() -%}
    {%- set margin = var('care_window_margin_days', 1) -%}
    {%- if margin is not number or margin != (margin | int) or margin < 0 -%}
        {{ exceptions.raise_compiler_error("var care_window_margin_days is '" ~ margin ~ "': expected a whole number of days, 0 or more (the reporting days before a run's window its raw partitions' texts can fall on)") }}
    {%- endif -%}
    {{ return(margin | int) }}
{%- endmacro %}


{#- The care inbox's "as of" (fct_care_responses.as_of_at) as an aggregate over the rows of
    int_care_inbound_items: the newest contact or first reply the loaded data holds. One
    expression for the model and the post-hook that carries it to the rows a run did not
    rebuild. -#}
{% macro care_inbox_as_of() -%}
    max(case when first_reply_at > received_at then first_reply_at else received_at end)
{%- endmacro %}


{#- A statement (fct_care_responses' post-hook) giving every row of `relation` the care inbox's
    current "as of" (care_inbox_as_of over `inbound`): a windowed run rebuilds some days only,
    and as_of_at is the same on every row. Only rows holding another value are written. DuckDB
    updates with a subquery; Spark (Delta) updates through a merge, since its UPDATE takes no
    subquery. -#}
{% macro care_refresh_as_of(relation, inbound) -%}
    {{ return(adapter.dispatch('care_refresh_as_of', 'social_kpi_warehouse')(relation, inbound)) }}
{%- endmacro %}

{% macro default__care_refresh_as_of(relation, inbound) -%}
    update {{ relation }}
    set as_of_at = (select {{ care_inbox_as_of() }} from {{ inbound }})
    where as_of_at <> (select {{ care_inbox_as_of() }} from {{ inbound }})
{%- endmacro %}

{% macro spark__care_refresh_as_of(relation, inbound) -%}
    merge into {{ relation }} as target
    using (select {{ care_inbox_as_of() }} as as_of_at from {{ inbound }}) as current_as_of
    on 1 = 1
    when matched and target.as_of_at <> current_as_of.as_of_at
        then update set as_of_at = current_as_of.as_of_at
{%- endmacro %}


{#- The days an incremental feedback mart (fct_feedback_daily, fct_feedback_themes) rebuilds, as
    a filter on a day column of int_feedback_texts' days: the run's window widened by
    `care_window_margin_days()` on each side (a raw partition is a UTC day: the texts a run
    loads fall on the reporting day before or after it too), and the days of the texts the sentiment step scored since the
    mart's read mark (macros/incremental_marks.sql: a new scorer version rescores texts of any
    day, and their day's counts by label change). The mart stores the mark with
    `write_read_mark` in a post-hook. Every day on a full refresh, and once on a table without
    a mark. -#}
{% macro feedback_days_to_rebuild(date_column) -%}
    {%- if is_incremental() -%}
        {%- set scored_since = read_mark(this) if execute else none -%}
        ({{ in_run_window_days(date_column, care_window_margin_days()) }}
         or {{ date_column }} in (
            select feedback_texts.occurred_date
            from {{ ref('int_feedback_texts') }} as feedback_texts
            {%- if scored_since %}
            inner join {{ ref('stg_enrichment__text_sentiments') }} as scores
                on feedback_texts.text_source = scores.text_source
                and feedback_texts.text_id = scores.text_id
            where scores.scored_at > cast('{{ scored_since }}' as {{ dbt.type_timestamp() }})
            {%- endif %}))
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}


{#- The conversations an incremental run of an inbox staging table (stg_facebook__messages,
    stg_instagram__messages) works out again, whole: a message's turn and reply link depend on
    every message of its conversation, and on nothing outside it but the brand's accounts. So:
    - the conversations of raw rows this table has not read (`unread_loads`: a new or changed
      message comes with a new load id);
    - the conversations of messages gone from raw (the post-hook deletes those rows);
    - the conversations whose brand account was unknown when they were built (`owner_column`
      null: an account seen later, in raw's follower snapshots or posts, changes who wrote
      what) or is no longer one of the brand's (`owners`: a select of the brand's account ids).
    Everything the table holds otherwise equals what a full refresh writes. A changed roster
    (Instagram's competitor set, influencers, employees) or PII salt needs a full refresh, as
    everywhere (README). -#}
{% macro inbox_conversations_to_rebuild(raw, owners, owner_column) -%}
    select conversation_id from {{ raw }} where {{ unread_loads() }}
    union
    select built.conversation_id from {{ this }} as built
    where not exists (select 1 from {{ raw }} as r where r.id = built.message_id)
    union
    select conversation_id from {{ this }}
    where {{ owner_column }} is null or {{ owner_column }} not in ({{ owners }})
{%- endmacro %}
