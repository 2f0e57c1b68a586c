{#- One row per scored text (the table's key: text_source, text_id; the Python step writes one
    row per key). Typed and renamed only: the rules (language first, VADER's thresholds) live in
    warehouse/sentiment.py, which wrote the rows. -#}

with

source as (
    select * from {{ source('enrichment', 'text_sentiment') }}
),

renamed as (
    select
        -- ids
        text_source,
        cast(text_id as {{ dbt.type_string() }}) as text_id,
        text_sha256,

        -- strings
        language,
        sentiment_label,
        scorer,
        scorer_version,

        -- numerics
        cast(sentiment_score as {{ dbt.type_float() }}) as sentiment_score,

        -- timestamps (UTC)
        scored_at

    from source
)

select * from renamed
