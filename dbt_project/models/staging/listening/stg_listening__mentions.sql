{#- One row per query and mention (the raw key: a post naming the brand and a competitor is
    stored once per query, which share of voice needs). Raw is replaced per UTC day of
    publication and never restated, so there is one version of each row: no dedupe; the
    unique test on (query_id, mention_id) guards it.

    Authors. Who wrote a mention is resolved against the team's rosters first (the competitor
    set, brand included; the influencer roster on the same platform; the employee roster on
    the same platform), then the listening tool's own `author.author_type`, else 'customer'.
    Only a roster author is public: their id, handle, URL and links stay readable. Anyone else
    (customers, media sites, creators and employees not on a roster or not advocates) is kept
    as salted hashes of id and handle; the name is dropped; the post URL is kept only when it
    does not carry their handle or id (X, Facebook and TikTok URLs do), the links they posted
    are dropped. The text stays as `message_text` for the sentiment step; only
    `message_text_redacted` may go downstream. -#}

{#- Incremental: the largest raw table (5.7 million rows at SF10 for a year), and the roster
    joins made it the costliest view of the build, read by every voice model and test. A run
    rebuilds the raw partitions (UTC days of publication) its window touches: rows are
    replaced per partition, so a mention gone from a partition goes here too. A changed roster
    (competitor set, influencers, employees) needs a full refresh to re-resolve old authors. -#}
{{ config(materialized='incremental', incremental_strategy=window_strategy(),
          unique_key='partition_date', on_schema_change='fail',
          meta={'window_column': 'published_date'}) }}

with

source as (
    select * from {{ source('listening', 'mentions') }}
    where {{ in_run_window_days('published_date') }}
),

{{ author_roster_ctes() }},

authors as (
    select
        source.*,
        lower(trim(source.platform)) as platform_normalized,
        {{ hash_pii('source.author_id') }} as author_id_hash,
        {{ hash_pii(normalized_handle('source.author_handle')) }} as author_handle_hash,
        lower(trim(source.author_type)) as reported_author_type_normalized
    from source
),

matched as (
    select
        authors.*,
        roster_brand_accounts.is_brand as roster_is_brand,
        roster_influencers.influencer_id,
        case when roster_employees.is_advocate then roster_employees.employee_id end as employee_id,
        case
            when roster_brand_accounts.handle_hash is not null and roster_brand_accounts.is_brand then 'brand'
            when roster_brand_accounts.handle_hash is not null then 'competitor'
            when roster_influencers.handle_hash is not null then 'influencer'
            when roster_employees.handle_hash is not null then 'employee'
            when authors.reported_author_type_normalized in
                 ('brand', 'competitor', 'influencer', 'employee', 'media', 'customer')
                then authors.reported_author_type_normalized
            else 'customer'
        end as resolved_author_type,
        -- public: on a roster as a brand, competitor or influencer account, or an advocate
        coalesce(roster_brand_accounts.handle,
                 roster_influencers.handle,
                 roster_employees.public_handle) as public_handle
    from authors
    left join roster_brand_accounts
        on authors.author_handle_hash = roster_brand_accounts.handle_hash
    left join roster_influencers
        on authors.author_handle_hash = roster_influencers.handle_hash
        and authors.platform_normalized = roster_influencers.platform
    left join roster_employees
        on authors.author_handle_hash = roster_employees.handle_hash
        and authors.platform_normalized = roster_employees.platform
),

renamed as (
    select
        -- ids
        id as mention_id,
        query_id,
        case when public_handle is not null then author_id end as author_id,
        author_id_hash,
        author_handle_hash,
        influencer_id,
        employee_id,

        -- strings
        platform_normalized as platform,
        nullif(lower(trim(language)), '') as language,
        public_handle as author_handle,
        resolved_author_type as author_type,
        reported_author_type_normalized as reported_author_type,
        case
            when public_handle is not null then url
            when author_handle_hash is not null
                 and position({{ normalized_handle('author_handle') }} in lower(url)) > 0 then null
            when nullif(trim(author_id), '') is not null
                 and position(trim(author_id) in url) > 0 then null
            else url
        end as url,
        case when public_handle is not null then cast(links as {{ dbt.type_string() }}) end as links_json,
        text as message_text,
        {{ redact_contacts('text') }} as message_text_redacted,

        -- booleans
        resolved_author_type in ('brand', 'competitor') as is_brand_author,
        public_handle is not null as is_public_author,

        -- numerics (BIGINT; engagements = likes + comments + shares, a missing part counting 0)
        cast(author_followers as {{ dbt.type_bigint() }}) as author_followers,
        cast(reach as {{ dbt.type_bigint() }}) as reach,
        cast(likes as {{ dbt.type_bigint() }}) as likes,
        cast(comments as {{ dbt.type_bigint() }}) as comments,
        cast(shares as {{ dbt.type_bigint() }}) as shares,
        cast(coalesce(likes, 0) + coalesce(comments, 0) + coalesce(shares, 0) as {{ dbt.type_bigint() }}) as engagements,

        -- timestamps (UTC) and the reporting-time-zone date
        {{ to_utc_timestamp('published_at') }} as published_at,
        {{ reporting_date(to_utc_timestamp('published_at')) }} as published_date,

        -- metadata
        matched.published_date as partition_date,
        _load_id,
        _loaded_at

    from matched
)

select * from renamed
