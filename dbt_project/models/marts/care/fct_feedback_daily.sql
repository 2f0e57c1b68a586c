{{
    config(
        materialized='incremental',
        incremental_strategy=window_strategy(),
        unique_key='date_day',
        meta={'window_column': 'date_day'},
        on_schema_change='fail',
        post_hook="{{ write_read_mark(this, '(select max(scored_at) from ' ~ ref('stg_enrichment__text_sentiments') ~ ')') }}",
    )
}}

{#- Customer feedback per day (reporting time zone), platform, account and kind of text (KPI
    practice 20): how much customers wrote (int_feedback_texts: which texts count is var
    `feedback_text_sources`) and its sentiment: texts by label, the unscored ones (a language
    the scorer does not read, or not scored yet), net sentiment and the mean score. Incremental
    by date_day: each day's rows depend on that day's texts only, so a run replaces its window
    of days, widened on each side by var `care_window_margin_days` (a raw partition is a UTC
    day: the texts a run loads fall on the reporting day before or after it too), and the days of texts scored again since
    its last run (`feedback_days_to_rebuild`, macros/care.sql); a full refresh gives the same
    rows. -#}

with

texts as (
    select * from {{ ref('int_feedback_texts') }}
    where {{ feedback_days_to_rebuild('occurred_date') }}
),

counted as (
    select
        occurred_date as date_day,
        platform,
        account_id,
        text_kind,
        cast(count(*) as {{ dbt.type_bigint() }}) as feedback_texts,
        cast(sum(case when sentiment_label is not null then 1 else 0 end) as {{ dbt.type_bigint() }}) as scored_texts,
        cast(sum(case when sentiment_label = 'positive' then 1 else 0 end) as {{ dbt.type_bigint() }}) as positive_texts,
        cast(sum(case when sentiment_label = 'neutral' then 1 else 0 end) as {{ dbt.type_bigint() }}) as neutral_texts,
        cast(sum(case when sentiment_label = 'negative' then 1 else 0 end) as {{ dbt.type_bigint() }}) as negative_texts,
        cast(sum(sentiment_score) as double) as sentiment_score_sum
    from texts
    group by occurred_date, platform, account_id, text_kind
),

final as (
    select
        -- keys
        date_day,
        platform,
        account_id,
        text_kind,

        -- measures
        feedback_texts,
        scored_texts,
        cast(feedback_texts - scored_texts as {{ dbt.type_bigint() }}) as unscored_texts,
        positive_texts,
        neutral_texts,
        negative_texts,
        sentiment_score_sum,

        -- rates: numerators and denominators are the counts above
        {{ safe_divide('positive_texts - negative_texts', 'scored_texts') }} as net_sentiment,
        {{ safe_divide('negative_texts', 'scored_texts') }} as negative_share,
        {{ safe_divide('sentiment_score_sum', 'scored_texts') }} as mean_sentiment_score

    from counted
)

select * from final
