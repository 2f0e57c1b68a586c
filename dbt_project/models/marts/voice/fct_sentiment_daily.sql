{{
    config(
        materialized='incremental',
        incremental_strategy=window_strategy(),
        unique_key='date_day',
        on_schema_change='fail',
        meta={'window_column': 'date_day'},
    )
}}

{#- Sentiment per day, platform, text kind and subject (the brand, or a competitor for the
    mentions about it), from int_texts_scored: counts by label, net sentiment, brand health,
    7- and 28-day rolling figures (sums of counts over the window, never averages of daily
    rates) and change points.

    Whose voice: every text except those the brand or a competitor wrote from its own accounts
    (the brand's replies would make its own sentiment).

    Days: every day from a group's first text to the last day of any text gets a row (zeros on
    a day without texts), so a window of N rows is N days.

    Incremental: a run writes the days of its window (delete+insert on date_day) and reads the
    `lookback_days` before them, which the windows need: the 28-day sums reach 27 days back, and
    a day's change-point baseline is the 7-day net sentiment of the 28 days before it, each of
    which reaches 6 days further (28 + 6 = 34). A full refresh gives the same rows: sums of
    scores are rounded to 6 decimals and baseline statistics to 9, below which the order of a
    floating-point sum could show. int_texts_scored is incremental: it writes the window's days
    first (and the days of texts rescored since), so the days read here are as a full refresh
    of it would have them. -#}

{%- set lookback_days = 34 -%}
{%- set k = var('sentiment_change_point_k') -%}
{%- set min_baseline_days = var('sentiment_change_point_min_baseline_days') -%}
{%- set min_texts = var('sentiment_change_point_min_texts') -%}

with

texts as (
    select
        occurred_date,
        platform,
        text_kind,
        coalesce(subject, 'brand') as subject,
        sentiment_label,
        sentiment_score
    from {{ ref('int_texts_scored') }}
    where author_type not in ('brand', 'competitor')
),

-- over all history (a run's window needs them to start the days where a full refresh does)
groups as (
    select platform, text_kind, subject, min(occurred_date) as first_day
    from texts
    group by platform, text_kind, subject
),

days as (
    {{ day_series('(select min(first_day) from groups)', '(select max(occurred_date) from texts)') }}
),

spine as (
    select
        days.date_day,
        groups.platform,
        groups.text_kind,
        groups.subject
    from groups
    inner join days
        on days.date_day >= groups.first_day
    where {{ in_run_window_with_lookback('days.date_day', lookback_days) }}
),

daily as (
    select
        occurred_date as date_day,
        platform,
        text_kind,
        subject,
        count(*) as texts,
        sum(case when sentiment_label = 'positive' then 1 else 0 end) as positive_texts,
        sum(case when sentiment_label = 'neutral' then 1 else 0 end) as neutral_texts,
        sum(case when sentiment_label = 'negative' then 1 else 0 end) as negative_texts,
        sum(case when sentiment_label is null then 1 else 0 end) as unscored_texts,
        round(sum(sentiment_score), 6) as score_sum
    from texts
    where {{ in_run_window_with_lookback('occurred_date', lookback_days) }}
    group by occurred_date, platform, text_kind, subject
),

counted as (
    select
        spine.date_day,
        spine.platform,
        spine.text_kind,
        spine.subject,
        cast(coalesce(daily.texts, 0) as {{ dbt.type_bigint() }}) as texts,
        cast(coalesce(daily.positive_texts, 0) as {{ dbt.type_bigint() }}) as positive_texts,
        cast(coalesce(daily.neutral_texts, 0) as {{ dbt.type_bigint() }}) as neutral_texts,
        cast(coalesce(daily.negative_texts, 0) as {{ dbt.type_bigint() }}) as negative_texts,
        cast(coalesce(daily.unscored_texts, 0) as {{ dbt.type_bigint() }}) as unscored_texts,
        cast(coalesce(daily.positive_texts, 0) + coalesce(daily.neutral_texts, 0)
             + coalesce(daily.negative_texts, 0) as {{ dbt.type_bigint() }}) as scored_texts,
        cast(coalesce(daily.score_sum, 0) as double) as score_sum
    from spine
    left join daily
        on spine.date_day = daily.date_day
        and spine.platform = daily.platform
        and spine.text_kind = daily.text_kind
        and spine.subject = daily.subject
),

rolling as (
    select
        counted.*,
        {%- for days in [7, 28] %}
        cast(sum(positive_texts) over (partition by platform, text_kind, subject order by date_day
                                       rows between {{ days - 1 }} preceding and current row) as {{ dbt.type_bigint() }}) as positive_texts_{{ days }}d,
        cast(sum(negative_texts) over (partition by platform, text_kind, subject order by date_day
                                       rows between {{ days - 1 }} preceding and current row) as {{ dbt.type_bigint() }}) as negative_texts_{{ days }}d,
        cast(sum(scored_texts) over (partition by platform, text_kind, subject order by date_day
                                     rows between {{ days - 1 }} preceding and current row) as {{ dbt.type_bigint() }}) as scored_texts_{{ days }}d,
        round(sum(score_sum) over (partition by platform, text_kind, subject order by date_day
                                   rows between {{ days - 1 }} preceding and current row), 6) as score_sum_{{ days }}d{{ "," if not loop.last }}
        {%- endfor %}
    from counted
),

rated as (
    select
        rolling.*,
        {{ safe_divide('positive_texts - negative_texts', 'scored_texts') }} as net_sentiment,
        {{ safe_divide('positive_texts', 'positive_texts + negative_texts') }} as brand_health,
        {{ safe_divide('score_sum', 'scored_texts') }} as average_score,
        {{ safe_divide('positive_texts_7d - negative_texts_7d', 'scored_texts_7d') }} as net_sentiment_7d,
        {{ safe_divide('score_sum_7d', 'scored_texts_7d') }} as average_score_7d,
        {{ safe_divide('positive_texts_28d - negative_texts_28d', 'scored_texts_28d') }} as net_sentiment_28d,
        {{ safe_divide('score_sum_28d', 'scored_texts_28d') }} as average_score_28d
    from rolling
),

baselined as (
    select
        rated.*,
        round(avg(net_sentiment_7d) over (partition by platform, text_kind, subject order by date_day
                                          rows between 28 preceding and 1 preceding), 9) as baseline_net_sentiment_7d,
        round(stddev_samp(net_sentiment_7d) over (partition by platform, text_kind, subject order by date_day
                                                  rows between 28 preceding and 1 preceding), 9) as baseline_stddev_7d,
        cast(count(net_sentiment_7d) over (partition by platform, text_kind, subject order by date_day
                                           rows between 28 preceding and 1 preceding) as {{ dbt.type_bigint() }}) as baseline_days
    from rated
),

scored_changes as (
    select
        baselined.*,
        case
            when baseline_days >= {{ min_baseline_days }}
                 and baseline_stddev_7d > 0
                 and scored_texts_7d >= {{ min_texts }}
                then round((net_sentiment_7d - baseline_net_sentiment_7d) / baseline_stddev_7d, 9)
        end as change_z_score
    from baselined
),

final as (
    select
        -- keys
        date_day,
        platform,
        text_kind,
        subject,

        -- the day's counts by label
        texts,
        positive_texts,
        neutral_texts,
        negative_texts,
        unscored_texts,
        scored_texts,
        score_sum,

        -- the day's rates
        net_sentiment,
        brand_health,
        average_score,

        -- rolling windows (sums over the window's days)
        positive_texts_7d,
        negative_texts_7d,
        scored_texts_7d,
        score_sum_7d,
        net_sentiment_7d,
        average_score_7d,
        positive_texts_28d,
        negative_texts_28d,
        scored_texts_28d,
        score_sum_28d,
        net_sentiment_28d,
        average_score_28d,

        -- change points
        baseline_net_sentiment_7d,
        baseline_stddev_7d,
        baseline_days,
        change_z_score,
        coalesce(abs(change_z_score) > {{ k }}, false) as is_change_point,
        case
            when abs(change_z_score) > {{ k }} and change_z_score > 0 then 'up'
            when abs(change_z_score) > {{ k }} then 'down'
        end as change_direction
    from scored_changes
    where {{ in_run_window('date_day') }}
)

select * from final
