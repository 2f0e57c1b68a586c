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

{#- Recurring themes of customer feedback per day (reporting time zone), platform, account, kind
    of text and theme (KPI practice 20): how many feedback texts touch each theme of var
    `feedback_themes` (keyword rules, int_feedback_themes) and how many of them are negative.
    A text touching two themes counts in both, so a day's theme rows add up to more than its
    texts; a text touching none is counted under theme 'other'. Incremental by date_day, as
    fct_feedback_daily (a text's themes carry its day). -#}

with

texts as (
    select * from {{ ref('int_feedback_texts') }}
    where {{ feedback_days_to_rebuild('occurred_date') }}
),

themes as (
    select * from {{ ref('int_feedback_themes') }}
    where {{ feedback_days_to_rebuild('occurred_date') }}
),

text_themes as (
    select
        texts.occurred_date,
        texts.platform,
        texts.account_id,
        texts.text_kind,
        coalesce(themes.theme, 'other') as theme,
        texts.sentiment_label,
        texts.sentiment_score
    from texts
    left join themes
        on texts.text_source = themes.text_source
        and texts.text_id = themes.text_id
),

counted as (
    select
        occurred_date as date_day,
        platform,
        account_id,
        text_kind,
        theme,
        cast(count(*) as {{ dbt.type_bigint() }}) as feedback_texts,
        cast(sum(case when sentiment_label is not null then 1 else 0 end) as {{ dbt.type_bigint() }}) as scored_texts,
        cast(sum(case when sentiment_label = 'positive' then 1 else 0 end) as {{ dbt.type_bigint() }}) as positive_texts,
        cast(sum(case when sentiment_label = 'negative' then 1 else 0 end) as {{ dbt.type_bigint() }}) as negative_texts,
        cast(sum(sentiment_score) as double) as sentiment_score_sum
    from text_themes
    group by occurred_date, platform, account_id, text_kind, theme
),

final as (
    select
        -- keys
        date_day,
        platform,
        account_id,
        text_kind,
        theme,

        -- measures
        feedback_texts,
        scored_texts,
        positive_texts,
        negative_texts,
        sentiment_score_sum,

        -- rates: numerators and denominators are the counts above
        {{ safe_divide('positive_texts - negative_texts', 'scored_texts') }} as net_sentiment,
        {{ safe_divide('negative_texts', 'scored_texts') }} as negative_share

    from counted
)

select * from final
