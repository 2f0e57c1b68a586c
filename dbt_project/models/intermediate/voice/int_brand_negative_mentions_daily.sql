{#- Negative mentions of the brand per day, as the sentiment scorer labels them: the series the
    crisis rule (fct_negative_mentions_daily) watches. Listening mentions only: the tool covers
    every platform, and X's own mentions of the brand are the same conversation seen again
    (counting both would count a post twice). Posts by the brand's or a competitor's own
    account are left out: a crisis is what others say. A day is a row when any mention of the
    brand was loaded that day, so a day without negatives is a 0 and a day without data is no
    row (not a 0). -#}

with

brand_mentions as (
    select * from {{ ref('int_texts_scored') }}
    where text_source = 'listening__mentions'
      and subject = 'brand'
      and author_type not in ('brand', 'competitor')
),

daily as (
    select
        occurred_date as date_day,
        count(*) as brand_mentions,
        sum(case when sentiment_label is not null then 1 else 0 end) as scored_mentions,
        sum(case when sentiment_label = 'negative' then 1 else 0 end) as negative_mentions,
        min(case when sentiment_label = 'negative' then occurred_at end) as first_negative_at
    from brand_mentions
    group by occurred_date
),

final as (
    select
        -- keys
        date_day,

        -- measures
        cast(brand_mentions as {{ dbt.type_bigint() }}) as brand_mentions,
        cast(scored_mentions as {{ dbt.type_bigint() }}) as scored_mentions,
        cast(negative_mentions as {{ dbt.type_bigint() }}) as negative_mentions,

        -- timestamps (UTC)
        first_negative_at
    from daily
)

select * from final
