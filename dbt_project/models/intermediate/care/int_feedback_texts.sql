{#- Customer feedback: the texts customers write to the brand or about it on its own channels,
    with their sentiment (int_texts_scored) and whether the brand answered them
    (int_care_inbound_items): one row per text. Which sources count is configuration (var
    `feedback_text_sources`: Facebook comments, Messenger and Instagram Direct messages, X posts
    of the brand's queries and CSAT survey comments by default); of those, the texts not
    written by the brand, and of mentions only those about the brand. Listening mentions on
    other sites are the public's voice (share of voice, brand health), not feedback to answer.
    Ids, times and scores only. -#}

{#- A table rebuilt whole each run, not a view: read by every feedback mart and their tests; built once from the two tables above. Rebuilt whole, since a text's score, reply or engagement can change after its day. -#}
{{ config(materialized='table') }}


{%- set sources = var('feedback_text_sources', []) -%}

with

scored as (
    select * from {{ ref('int_texts_scored') }}
    where text_source in ({% for source in sources %}'{{ source }}'{{ ', ' if not loop.last }}{% endfor %}{% if not sources %}''{% endif %})
      and not is_brand_author
      and (text_kind <> 'mention' or subject = 'brand')
),

texts as (
    -- an X post found by two brand queries once
    select * from (
        select
            scored.*,
            row_number() over (partition by text_source, text_id order by account_id) as text_rank
        from scored
    ) as ranked
    where text_rank = 1
),

inbound as (
    select * from {{ ref('int_care_inbound_items') }}
)

select
    -- keys
    texts.text_source,
    texts.text_id,

    -- ids
    texts.text_kind,
    texts.platform,
    coalesce(inbound.account_id, texts.account_id) as account_id,
    coalesce(inbound.conversation_id, texts.conversation_id) as conversation_id,

    -- attributes
    texts.author_type,
    texts.language,
    texts.sentiment_label,
    inbound.is_answered,

    -- measures
    cast(texts.sentiment_score as double) as sentiment_score,

    -- timestamps (UTC) and the reporting-time-zone date
    texts.occurred_at,
    texts.occurred_date,
    inbound.first_reply_at

from texts
left join inbound
    on texts.text_source = inbound.text_source
    and texts.text_id = inbound.item_id
