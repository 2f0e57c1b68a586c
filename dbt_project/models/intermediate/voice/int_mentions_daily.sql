{#- Listening mentions per day, platform and listened entity: the volume and engagement share
    of voice and the competitor benchmark compare. One row per query's mention counts (a post
    naming the brand and a competitor counts for both, as the listening tool matches it once per
    query). Every mention counts, whoever wrote it (the tool's own totals do the same); the
    subject's own-account posts the tool caught are counted apart, with the follower count the
    tool reports for that account (the only source of a competitor's followers). -#}

{#- Incremental by day, not a view: fct_competitor_benchmark, a table rebuilt whole, read every
    mention of history through it each run (5.7 million at SF10 for a year: most of its cost).
    A day's rows depend on that day's mentions only, and stg_listening__mentions holds every
    day a run's window touches as of now (it rebuilds the raw partitions of the window), so a
    run writes its window's days and a full refresh gives the same rows. -#}
{{ config(materialized='incremental', incremental_strategy=window_strategy(),
          unique_key='date_day', on_schema_change='fail',
          meta={'window_column': 'date_day'}) }}

with

mentions as (
    select * from {{ ref('stg_listening__mentions') }}
    where {{ in_run_window('published_date') }}
),

queries as (
    select * from {{ ref('stg_listening__queries') }}
),

daily as (
    select
        mentions.published_date as date_day,
        mentions.platform,
        queries.entity as listened_entity,
        count(*) as mentions,
        sum(mentions.engagements) as engagements,
        sum(case when mentions.is_brand_author and mentions.author_handle = queries.entity then 1 else 0 end)
            as own_account_mentions,
        max(case when mentions.is_brand_author and mentions.author_handle = queries.entity
                 then mentions.author_followers end) as own_account_followers
    from mentions
    inner join queries
        on mentions.query_id = queries.query_id
    group by mentions.published_date, mentions.platform, queries.entity
),

final as (
    select
        -- keys
        date_day,
        platform,
        listened_entity,

        -- measures
        cast(mentions as {{ dbt.type_bigint() }}) as mentions,
        cast(engagements as {{ dbt.type_bigint() }}) as engagements,
        cast(own_account_mentions as {{ dbt.type_bigint() }}) as own_account_mentions,
        cast(own_account_followers as {{ dbt.type_bigint() }}) as own_account_followers
    from daily
)

select * from final
