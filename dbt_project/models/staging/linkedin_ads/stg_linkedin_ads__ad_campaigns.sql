with

source as (
    select * from {{ source('linkedin', 'ad_campaigns') }}
),

renamed as (
    select
        -- ids
        campaign_id,
        {{ dbt.split_part('account', "':'", 4) }} as account_id,
        {{ dbt.split_part('campaign_group', "':'", 4) }} as campaign_group_id,

        -- strings
        name as campaign_name,
        status,
        type as campaign_type,
        cost_type,
        objective_type,

        -- numerics
        {{ to_money('daily_budget_amount', 'daily_budget_currency') }} as daily_budget,
        upper(daily_budget_currency) as daily_budget_currency,

        -- timestamps (epoch ms, UTC)
        {{ epoch_ms_to_utc('run_schedule_start') }} as run_schedule_start_at,
        {{ epoch_ms_to_utc('run_schedule_end') }} as run_schedule_end_at,
        {{ reporting_date(epoch_ms_to_utc('run_schedule_start')) }} as run_schedule_start_date,
        {{ reporting_date(epoch_ms_to_utc('run_schedule_end')) }} as run_schedule_end_date,

        -- metadata
        _load_id,
        _loaded_at

    from source
)

select * from renamed
