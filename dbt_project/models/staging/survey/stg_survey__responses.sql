{#- One row per submitted CSAT response (raw key `token`; replaced per UTC day of submission
    and never restated, so one version of each: no dedupe, the unique test guards it).

    PII: only the columns named here leave raw. Typeform's `answers_by_ref`, `metadata` (user
    agent, referer with the hidden fields in its URL, network id) and any email, name or phone
    answer a form may add are not selected; a respondent email passed as the hidden field
    `email` is kept only as `respondent_email_hash` (the salted hash CRM staging uses too). The
    comment stays as `message_text` for the sentiment step; only `message_text_redacted` may go
    downstream. Typeform sends an unset hidden field as "": null here. -#}

{#- Tests of a windowed run read this view's rows of the run's days (macros/test_window.sql): raw changes only in the partitions a run loads. -#}
{{ config(meta={'window_column': 'submitted_date'}) }}


with

source as (
    select * from {{ source('survey', 'responses') }}
),

renamed as (
    select
        -- ids
        coalesce(nullif(trim(response_id), ''), token) as response_id,
        token as response_token,
        nullif(trim(ticket_id), '') as ticket_id,
        nullif(trim(conversation_id), '') as conversation_id,
        {{ hash_pii(json_text('_record', '$.hidden.email')) }} as respondent_email_hash,

        -- strings: the care contact the survey followed (Typeform hidden fields)
        nullif(lower(trim(channel)), '') as channel,
        nullif(lower(trim(platform)), '') as platform,
        csat_comment as message_text,
        {{ redact_contacts('csat_comment') }} as message_text_redacted,

        -- numerics: the 1-5 rating; satisfied = 4 or 5 (CSAT = satisfied / responses)
        cast(csat_score as {{ dbt.type_bigint() }}) as csat_score,
        csat_score >= 4 as is_satisfied,

        -- timestamps (UTC) and the reporting-time-zone date of submission
        {{ to_utc_timestamp('landed_at') }} as landed_at,
        {{ to_utc_timestamp('submitted_at') }} as submitted_at,
        {{ reporting_date(to_utc_timestamp('submitted_at')) }} as submitted_date,

        -- metadata
        _load_id,
        _loaded_at

    from source
)

select * from renamed
