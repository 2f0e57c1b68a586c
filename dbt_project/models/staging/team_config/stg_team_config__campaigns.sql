with

source as (
    select * from {{ source('team_config', 'campaigns') }}
),

renamed as (
    select
        -- ids
        campaign_key,

        -- strings
        name as campaign_name,
        utm_campaign,
        channels,
        objective,

        -- dates (the team's calendar: days in the reporting time zone)
        start_date,
        end_date,

        -- numerics (money in EUR, as the file states)
        {{ to_money('daily_budget_eur', "'EUR'") }} as daily_budget_eur,
        {{ to_money('budget_eur', "'EUR'") }} as budget_eur,
        'EUR' as budget_currency,

        -- metadata
        _load_id,
        _loaded_at

    from source
)

select * from renamed
