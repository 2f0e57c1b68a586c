{#- Listening mentions per day, platform and listened entity: the volume and engagement share
    of voice and the competitor benchmark compare. One row per query's mention counts (a post
    naming the brand and a competitor counts for both, as the listening tool matches it once per
    query). Every mention counts, whoever wrote it (the tool's own totals do the same); the
    subject's own-account posts the tool caught are counted apart, with the follower count the
    tool reports for that account (the only source of a competitor's followers). -#}

with

mentions as (
    select * from {{ ref('stg_listening__mentions') }}
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
