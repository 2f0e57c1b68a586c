{#- Every comment, direct message, mention and survey comment with its sentiment: one field
    mapping per text source (a CTE each, then `union all`), joined to the scores the Python step
    wrote (stg_enrichment__text_sentiments) on (text_source, text_id). A text the step has not
    scored yet keeps its row with null score, label and scorer. No text and no author: ids,
    types and scores only.

    Subject: which entity of the competitor set a mention is about, from the listening query
    (or X query) that found it: 'brand' for the brand's own query, else the competitor's entity.
    A post found by two queries is one text with a row per query (share of voice needs both).
    Owned channels (the brand's comments and inboxes) and survey comments have none. -#}

{#- Incremental by day (delete+insert on occurred_date: a day's texts are replaced together). As a
    table rebuilt whole it was the costliest model of a one-day build (31.8 s at SF10 for a
    year, 7.5 million texts); as a view every reader recomputed it. A run writes
    - the days of its window, widened by var `texts_window_margin_days` on both sides: raw
      partitions are UTC days and a text's day is the reporting time zone's, so a text a run
      loads can fall on the day before or after the window;
    - and, whatever their day, the days holding texts whose score here is not the one the
      sentiment step holds now (texts_rescored_days, macros/voice_texts.sql): a new scorer
      version rescores every text; a text written here before it was scored has been scored
      since. Any other change of a score comes with a change of its text, in raw, inside the
      window. Found by the stored scorer and version, not by comparing every score with this
      table (a join of two 7.5-million-row tables: 6 s at SF10).
    A day written again is read from staging as it is now, so it equals what a full refresh
    writes. Engagement counts and roster matches of other days are as of the run that wrote
    them: raw changes only in the partitions a run loads, and a changed roster needs a full
    refresh (README). -#}
{{ config(materialized='incremental', incremental_strategy=window_strategy(),
          unique_key='occurred_date', on_schema_change='fail',
          meta={'window_column': 'occurred_date'}) }}

{%- set margin_days = var('texts_window_margin_days') | int -%}
{%- set rescored_days = texts_rescored_days(this, ref('stg_enrichment__text_sentiments'))
                        if execute and is_incremental() else [] -%}


with

scores as (
    select * from {{ ref('stg_enrichment__text_sentiments') }}
),

facebook_comments as (
    select
        'facebook__comments' as text_source,
        comment_id as text_id,
        'comment' as text_kind,
        platform,
        page_id as account_id,
        cast(null as {{ dbt.type_string() }}) as conversation_id,
        coalesce(parent_comment_id, post_id) as parent_id,
        author_type,
        is_brand_author,
        cast(null as {{ dbt.type_string() }}) as subject,
        created_at as occurred_at,
        created_date as occurred_date,
        cast(coalesce(like_count, 0) + coalesce(reply_count, 0) as {{ dbt.type_bigint() }}) as engagements
    from {{ ref('stg_facebook__comments') }}
    where {{ texts_to_write('created_date', margin_days, rescored_days) }}
),

facebook_messages as (
    select
        'facebook__messages' as text_source,
        message_id as text_id,
        'message' as text_kind,
        platform,
        page_id as account_id,
        conversation_id,
        cast(null as {{ dbt.type_string() }}) as parent_id,
        author_type,
        is_brand_author,
        cast(null as {{ dbt.type_string() }}) as subject,
        created_at as occurred_at,
        created_date as occurred_date,
        cast(null as {{ dbt.type_bigint() }}) as engagements
    from {{ ref('stg_facebook__messages') }}
    where {{ texts_to_write('created_date', margin_days, rescored_days) }}
),

instagram_messages as (
    select
        'instagram__messages' as text_source,
        message_id as text_id,
        'message' as text_kind,
        platform,
        account_id,
        conversation_id,
        cast(null as {{ dbt.type_string() }}) as parent_id,
        author_type,
        is_brand_author,
        cast(null as {{ dbt.type_string() }}) as subject,
        created_at as occurred_at,
        created_date as occurred_date,
        cast(null as {{ dbt.type_bigint() }}) as engagements
    from {{ ref('stg_instagram__messages') }}
    where {{ texts_to_write('created_date', margin_days, rescored_days) }}
),

listening_mentions as (
    select
        'listening__mentions' as text_source,
        mentions.mention_id as text_id,
        'mention' as text_kind,
        mentions.platform,
        mentions.query_id as account_id,
        cast(null as {{ dbt.type_string() }}) as conversation_id,
        cast(null as {{ dbt.type_string() }}) as parent_id,
        mentions.author_type,
        mentions.author_type = 'brand' as is_brand_author,
        case when queries.is_brand_query then 'brand' else queries.entity end as subject,
        mentions.published_at as occurred_at,
        mentions.published_date as occurred_date,
        mentions.engagements
    from {{ ref('stg_listening__mentions') }} as mentions
    left join {{ ref('stg_listening__queries') }} as queries
        on mentions.query_id = queries.query_id
    where {{ texts_to_write('mentions.published_date', margin_days, rescored_days) }}
),

x_mentions as (
    select
        'x__mentions' as text_source,
        mention_id as text_id,
        'mention' as text_kind,
        platform,
        query_name as account_id,
        cast(null as {{ dbt.type_string() }}) as conversation_id,
        cast(null as {{ dbt.type_string() }}) as parent_id,
        author_type,
        is_brand_author,
        case when is_brand_query then 'brand' else entity end as subject,
        created_at as occurred_at,
        created_date as occurred_date,
        cast(coalesce(like_count, 0) + coalesce(reply_count, 0) + coalesce(retweet_count, 0)
             + coalesce(quote_count, 0) + coalesce(bookmark_count, 0) as {{ dbt.type_bigint() }}) as engagements
    from {{ ref('stg_x__mentions') }}
    where {{ texts_to_write('created_date', margin_days, rescored_days) }}
),

survey_comments as (
    select
        'survey__responses' as text_source,
        response_id as text_id,
        'survey_comment' as text_kind,
        coalesce(platform, channel) as platform,
        cast(null as {{ dbt.type_string() }}) as account_id,
        cast(null as {{ dbt.type_string() }}) as conversation_id,
        cast(null as {{ dbt.type_string() }}) as parent_id,
        'customer' as author_type,
        false as is_brand_author,
        cast(null as {{ dbt.type_string() }}) as subject,
        submitted_at as occurred_at,
        submitted_date as occurred_date,
        cast(null as {{ dbt.type_bigint() }}) as engagements
    from {{ ref('stg_survey__responses') }}
    where nullif(trim(message_text), '') is not null
      and {{ texts_to_write('submitted_date', margin_days, rescored_days) }}
),

texts as (
    select * from facebook_comments
    union all
    select * from facebook_messages
    union all
    select * from instagram_messages
    union all
    select * from listening_mentions
    union all
    select * from x_mentions
    union all
    select * from survey_comments
)

select
    texts.text_source,
    texts.text_id,
    texts.text_kind,
    texts.platform,
    texts.account_id,
    texts.conversation_id,
    texts.parent_id,
    texts.author_type,
    texts.is_brand_author,
    texts.subject,
    texts.occurred_at,
    texts.occurred_date,
    scores.language,
    scores.sentiment_score,
    scores.sentiment_label,
    scores.scorer,
    scores.scorer_version,
    texts.engagements
from texts
left join scores
    on texts.text_source = scores.text_source
    and texts.text_id = scores.text_id
