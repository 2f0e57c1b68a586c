{#- Account insights, one row per account and day (the raw table holds one row per account,
    day, metric and metric type: pivoted here). Meta reports them on Pacific days: `date_day`
    is that day and `account_timezone` names the zone. Only `period = day` values are read.
    `reach` is the time series' (unique accounts that day), falling back to the total_value
    form when only that was asked. -#}

with

source as (
    select * from {{ source('instagram', 'account_insights') }}
    where period = 'day'
),

typed as (
    select
        ig_user_id,
        date as date_day,
        timezone,
        metric_type,
        name,
        coalesce({{ dbt.safe_cast(json_text('value', '$'), dbt.type_bigint()) }},
                 {{ dbt.safe_cast(json_text('total_value', '$.value'), dbt.type_bigint()) }}) as number_value,
        _load_id,
        _loaded_at
    from source
),

pivoted as (
    select
        ig_user_id,
        date_day,
        max(timezone) as account_timezone,
        coalesce(max(case when name = 'reach' and metric_type = 'time_series' then number_value end),
                 max(case when name = 'reach' then number_value end)) as reach,
        max(case when name = 'follower_count' then number_value end) as new_followers,
        max(case when name = 'views' then number_value end) as views,
        max(case when name = 'accounts_engaged' then number_value end) as accounts_engaged,
        max(case when name = 'total_interactions' then number_value end) as total_interactions,
        max(_load_id) as _load_id,
        max(_loaded_at) as _loaded_at
    from typed
    group by ig_user_id, date_day
),

renamed as (
    select
        -- ids
        ig_user_id,

        -- strings
        account_timezone,

        -- dates: the account's reporting day (Pacific)
        date_day,

        -- numerics
        cast(reach as {{ dbt.type_bigint() }}) as reach,
        cast(new_followers as {{ dbt.type_bigint() }}) as new_followers,
        cast(views as {{ dbt.type_bigint() }}) as views,
        cast(accounts_engaged as {{ dbt.type_bigint() }}) as accounts_engaged,
        cast(total_interactions as {{ dbt.type_bigint() }}) as total_interactions,

        -- metadata
        _load_id,
        _loaded_at

    from pivoted
)

select * from renamed
