{#- User-generated vs brand-authored content, per day, platform, subject, author type and content
    source (practice 32). Two kinds of item:
    - listening mentions (stg_listening__mentions): posts by anyone that name the brand or a
      competitor, with the tool's reach and engagement, the author typed from the team's rosters
      (brand, competitor, influencer, employee) or the tool's label (media, customer), and the
      sentiment of their text (int_texts_scored, text_source 'listening__mentions');
    - the brand's own posts (int_posts_unioned with their lifetime totals from
      int_post_metrics_lifetime): brand-authored content, subject 'brand', no sentiment (the
      scorer reads what others write, not the brand's captions).
    X's recent-search mentions (stg_x__mentions) are left out: the listening tool already covers
    X, and counting both would count the same conversation twice. Comments on the brand's posts
    are replies in its inbox, not posts about it: they are in the care and feedback marts. -#}

{#- Incremental: a run writes the listening rows of its window's days and the owned-post rows of
    every day (delete+insert on date_day and content_source, so the two are replaced apart).
    A day's mention rows depend on that day's mentions and their scores only (texts are scored
    before dbt runs; old days rescored later, by a new scorer version, need a full refresh, as
    in fct_sentiment_daily). An owned post's lifetime reach and engagement grow for as long as
    its snapshots are read, whatever its day, and the brand's posts are few (thousands a year:
    cheap to take again each run). A full refresh gives the same rows. Before, a table rebuilt
    whole: 7.9 s of a one-day build at SF10 for a year, grouping every mention's score again. -#}
{{ config(materialized='incremental', incremental_strategy=window_strategy(),
          unique_key=['date_day', 'content_source'], on_schema_change='fail',
          meta={'window_column': 'date_day'}) }}

with

queries as (
    select query_id, entity, is_brand_query from {{ ref('stg_listening__queries') }}
),

mentions as (
    select
        mentions.mention_id,
        mentions.platform,
        mentions.author_type,
        mentions.reach,
        mentions.engagements,
        mentions.published_date,
        case when queries.is_brand_query then 'brand' else queries.entity end as subject
    from {{ ref('stg_listening__mentions') }} as mentions
    left join queries on mentions.query_id = queries.query_id
    where {{ in_run_window('mentions.published_date') }}
),

-- one score per mention text (a mention matched by two queries is one text)
mention_sentiment as (
    select
        text_id,
        min(sentiment_score) as sentiment_score,
        min(sentiment_label) as sentiment_label
    from {{ ref('int_texts_scored') }}
    where text_source = 'listening__mentions'
      -- a mention's occurred_date is its published_date (both from published_at)
      and {{ in_run_window('occurred_date') }}
    group by text_id
),

owned_posts as (
    select
        posts.platform,
        posts.post_id,
        posts.published_date,
        posts.author_type,
        lifetime.reach,
        lifetime.engagements
    from {{ ref('int_posts_unioned') }} as posts
    left join {{ ref('int_post_metrics_lifetime') }} as lifetime
        on posts.platform = lifetime.platform
        and posts.post_id = lifetime.post_id
),

items as (
    select
        mentions.published_date as date_day,
        mentions.platform,
        mentions.subject,
        mentions.author_type,
        'listening_mention' as content_source,
        mentions.reach,
        mentions.engagements,
        mention_sentiment.sentiment_score,
        mention_sentiment.sentiment_label
    from mentions
    left join mention_sentiment on mentions.mention_id = mention_sentiment.text_id

    union all

    select
        published_date as date_day,
        platform,
        'brand' as subject,
        author_type,
        'owned_post' as content_source,
        reach,
        engagements,
        cast(null as double) as sentiment_score,
        cast(null as {{ dbt.type_string() }}) as sentiment_label
    from owned_posts
),

aggregated as (
    select
        date_day,
        platform,
        subject,
        author_type,
        content_source,
        count(*) as items,
        count(reach) as items_with_reach,
        sum(reach) as reach_sum_over_items,
        count(engagements) as items_with_engagements,
        sum(engagements) as engagements,
        count(sentiment_score) as texts_scored,
        sum(case when sentiment_label = 'positive' then 1 else 0 end) as positive_texts,
        sum(case when sentiment_label = 'neutral' then 1 else 0 end) as neutral_texts,
        sum(case when sentiment_label = 'negative' then 1 else 0 end) as negative_texts,
        sum(sentiment_score) as sentiment_score_sum
    from items
    group by date_day, platform, subject, author_type, content_source
),

final as (
    select
        -- keys
        date_day,
        platform,
        subject,
        author_type,
        content_source,

        -- attributes
        author_type = 'customer' as is_ugc,
        author_type = 'brand' as is_brand_authored,

        -- volume, reach and engagement
        cast(items as {{ dbt.type_bigint() }}) as items,
        cast(items_with_reach as {{ dbt.type_bigint() }}) as items_with_reach,
        cast(reach_sum_over_items as {{ dbt.type_bigint() }}) as reach_sum_over_items,
        cast(items_with_engagements as {{ dbt.type_bigint() }}) as items_with_engagements,
        cast(engagements as {{ dbt.type_bigint() }}) as engagements,
        {{ safe_divide('engagements', 'items_with_engagements') }} as engagements_per_item,

        -- sentiment of the items' texts
        cast(texts_scored as {{ dbt.type_bigint() }}) as texts_scored,
        cast(positive_texts as {{ dbt.type_bigint() }}) as positive_texts,
        cast(neutral_texts as {{ dbt.type_bigint() }}) as neutral_texts,
        cast(negative_texts as {{ dbt.type_bigint() }}) as negative_texts,
        cast(sentiment_score_sum as double) as sentiment_score_sum,
        {{ safe_divide('sentiment_score_sum', 'texts_scored') }} as avg_sentiment_score,
        {{ safe_divide('positive_texts - negative_texts', 'texts_scored') }} as net_sentiment
    from aggregated
)

select * from final
