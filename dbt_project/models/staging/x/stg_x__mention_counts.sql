{#- One row per query and day bucket (`counts/recent`, granularity=day: UTC days; raw is
    replaced per day for the last days X still serves: no dedupe, the unique test on
    (query_name, bucket_start_at) guards it). The day is X's UTC day, kept with its zone
    (`day_timezone`): a count cannot be moved to a reporting-time-zone day.

    The query's entity: as in stg_x__mentions (the competitor set's entity named by the
    query_name, else the one whose `@handle` the query holds). -#}

with

source as (
    select * from {{ source('x', 'mention_counts') }}
),

{{ author_roster_ctes() }},

queries as (
    select distinct query_name, query from source
),

query_entities as (
    {{ x_query_entities('queries') }}
),

renamed as (
    select
        -- ids
        source.query_name,

        -- strings
        'x' as platform,
        source.query,
        query_entities.entity,
        'UTC' as day_timezone,

        -- booleans
        coalesce(query_entities.is_brand, false) as is_brand_query,

        -- numerics
        cast(source.tweet_count as {{ dbt.type_bigint() }}) as mention_count,

        -- timestamps (UTC) and X's day
        source.day as date_day,
        {{ to_utc_timestamp('source.bucket_start') }} as bucket_start_at,
        {{ to_utc_timestamp('source.bucket_end') }} as bucket_end_at,

        -- metadata
        source._load_id,
        source._loaded_at

    from source
    left join query_entities
        on source.query_name = query_entities.query_name
        and source.query = query_entities.query
)

select * from renamed
