{#- Page insights, one row per Page and day (the raw table holds one row per Page, day, metric
    and period: pivoted here). Meta reports Page insights on Pacific days: `date_day` is that
    day and `account_timezone` names the zone. Only `period = day` values are read: the
    extractor stores no other, and a week or 28-day value read here would be counted seven or
    28 times over. -#}

with

source as (
    select * from {{ source('facebook', 'page_insights') }}
    where period = 'day'
),

typed as (
    select
        page_id,
        date as date_day,
        timezone,
        end_time,
        name,
        {{ dbt.safe_cast(json_text('value', '$'), dbt.type_bigint()) }} as number_value,
        _load_id,
        _loaded_at
    from source
),

pivoted as (
    select
        page_id,
        date_day,
        max(timezone) as account_timezone,
        max(end_time) as end_time,
        max(case when name = 'page_follows' then number_value end) as followers,
        max(case when name = 'page_daily_follows_unique' then number_value end) as follows,
        max(case when name = 'page_daily_unfollows_unique' then number_value end) as unfollows,
        max(case when name = 'page_media_view' then number_value end) as media_views,
        max(case when name = 'page_post_engagements' then number_value end) as post_engagements,
        max(_load_id) as _load_id,
        max(_loaded_at) as _loaded_at
    from typed
    group by page_id, date_day
),

renamed as (
    select
        -- ids
        page_id,

        -- strings
        account_timezone,

        -- dates: the Page's reporting day (Pacific); `day_end_at` is its end in UTC
        date_day,
        {{ to_utc_timestamp('end_time') }} as day_end_at,

        -- numerics
        cast(followers as {{ dbt.type_bigint() }}) as followers,
        cast(follows as {{ dbt.type_bigint() }}) as follows,
        cast(unfollows as {{ dbt.type_bigint() }}) as unfollows,
        cast(media_views as {{ dbt.type_bigint() }}) as media_views,
        cast(post_engagements as {{ dbt.type_bigint() }}) as post_engagements,

        -- metadata
        _load_id,
        _loaded_at

    from pivoted
)

select * from renamed
