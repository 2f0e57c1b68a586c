{#- Followers per platform, account and day, with the day's net adds and the follower counts 7
    and 28 days before (for growth), one row per platform, account and day. Three ways,
    depending on what the platform serves:
    - 'daily_total' (Facebook): Page insights give the day's follower total (page_follows)
      and its follows and unfollows (page_daily_follows_unique / page_daily_unfollows_unique);
      net_adds = follows - unfollows (the day-on-day change of the total when they are
      missing). Pacific days.
    - 'anchored_daily_gains' (LinkedIn: organic + paid follower gains, UTC days; YouTube:
      subscribersGained - subscribersLost, Pacific days): the day's net adds are served, the
      level is not; it is anchored on a follower-total snapshot (LinkedIn networkSizes, YouTube
      channel subscriberCount) and rebuilt from the gains: followers(d) = snapshot(S) +
      (sum of net adds up to d) - (sum of net adds up to S), where S is the latest snapshot
      day on or before d, or else the first one after it. A snapshot is taken as the count at
      the end of its day. YouTube rounds subscriberCount to three significant figures, so
      YouTube's levels carry that rounding (net adds do not). Days between an account's first
      and last day without a gains row count 0 net adds (YouTube sends no row for a day
      without views) and have null net_adds.
    - 'snapshot' (Instagram: followers_count of the account snapshots; X: users'
      followers_count): the level on the days a snapshot was read, null on other days;
      net_adds = the change from the previous day's snapshot (null without one). Instagram
      also serves new followers per day (follower_count) as `gained`, not unfollows: lost =
      gained - net_adds when both are known. Snapshot days are the load's partition days.
    followers_7d_before / followers_28d_before: the same account's followers on date_day - 7
    and - 28 (null when unknown). -#}

with

facebook as (
    select
        'facebook' as platform,
        page_id as account_id,
        date_day,
        account_timezone,
        'daily_total' as followers_method,
        followers,
        follows as gained,
        unfollows as lost,
        coalesce(
            follows - unfollows,
            followers - lag(followers) over (partition by page_id order by date_day)
        ) as net_adds
    from {{ ref('stg_facebook__page_insights') }}
),

-- anchored on snapshots, rebuilt from the daily gains
anchored_inputs_raw as (
    select
        'linkedin' as platform,
        organization_id as account_id,
        date_day,
        account_timezone,
        organic_follower_gain + paid_follower_gain as gained,
        cast(null as {{ dbt.type_bigint() }}) as lost,
        organic_follower_gain + paid_follower_gain as net_adds,
        cast(null as {{ dbt.type_bigint() }}) as snapshot_followers
    from {{ ref('stg_linkedin__follower_gains') }}

    union all

    select
        'linkedin' as platform,
        organization_id as account_id,
        snapshot_date as date_day,
        'UTC' as account_timezone,
        cast(null as {{ dbt.type_bigint() }}) as gained,
        cast(null as {{ dbt.type_bigint() }}) as lost,
        cast(null as {{ dbt.type_bigint() }}) as net_adds,
        followers_total as snapshot_followers
    from {{ ref('stg_linkedin__network_sizes') }}

    union all

    select
        'youtube' as platform,
        channel_id as account_id,
        date_day,
        account_timezone,
        subscribers_gained as gained,
        subscribers_lost as lost,
        subscribers_gained - subscribers_lost as net_adds,
        cast(null as {{ dbt.type_bigint() }}) as snapshot_followers
    from {{ ref('stg_youtube__channel_analytics_daily') }}

    union all

    select
        'youtube' as platform,
        channel_id as account_id,
        snapshot_date as date_day,
        'America/Los_Angeles' as account_timezone,
        cast(null as {{ dbt.type_bigint() }}) as gained,
        cast(null as {{ dbt.type_bigint() }}) as lost,
        cast(null as {{ dbt.type_bigint() }}) as net_adds,
        case when not coalesce(hidden_subscriber_count, false) then subscriber_count end as snapshot_followers
    from {{ ref('stg_youtube__channels') }}
),

anchored_inputs as (
    select
        platform,
        account_id,
        date_day,
        max(account_timezone) as account_timezone,
        max(gained) as gained,
        max(lost) as lost,
        max(net_adds) as net_adds,
        max(snapshot_followers) as snapshot_followers
    from anchored_inputs_raw
    group by platform, account_id, date_day
),

anchored_accounts as (
    select
        platform,
        account_id,
        max(account_timezone) as account_timezone,
        min(date_day) as first_day,
        max(date_day) as last_day
    from anchored_inputs
    group by platform, account_id
),

calendar as (
    {{ day_series('(select min(date_day) from anchored_inputs)', '(select max(date_day) from anchored_inputs)') }}
),

anchored_days as (
    select
        anchored_accounts.platform,
        anchored_accounts.account_id,
        anchored_accounts.account_timezone,
        calendar.date_day
    from anchored_accounts
    inner join calendar
        on calendar.date_day between anchored_accounts.first_day and anchored_accounts.last_day
),

anchored_running as (
    select
        anchored_days.platform,
        anchored_days.account_id,
        anchored_days.account_timezone,
        anchored_days.date_day,
        anchored_inputs.gained,
        anchored_inputs.lost,
        anchored_inputs.net_adds,
        anchored_inputs.snapshot_followers,
        sum(coalesce(anchored_inputs.net_adds, 0)) over (
            partition by anchored_days.platform, anchored_days.account_id order by anchored_days.date_day
            rows between unbounded preceding and current row) as cumulative_net_adds,
        max(case when anchored_inputs.snapshot_followers is not null then anchored_days.date_day end) over (
            partition by anchored_days.platform, anchored_days.account_id order by anchored_days.date_day
            rows between unbounded preceding and current row) as anchor_before,
        min(case when anchored_inputs.snapshot_followers is not null then anchored_days.date_day end) over (
            partition by anchored_days.platform, anchored_days.account_id order by anchored_days.date_day
            rows between current row and unbounded following) as anchor_after
    from anchored_days
    left join anchored_inputs
        on anchored_days.platform = anchored_inputs.platform
        and anchored_days.account_id = anchored_inputs.account_id
        and anchored_days.date_day = anchored_inputs.date_day
),

anchored as (
    select
        day_rows.platform,
        day_rows.account_id,
        day_rows.date_day,
        day_rows.account_timezone,
        'anchored_daily_gains' as followers_method,
        anchor.snapshot_followers + day_rows.cumulative_net_adds - anchor.cumulative_net_adds as followers,
        day_rows.gained,
        day_rows.lost,
        day_rows.net_adds
    from anchored_running as day_rows
    left join anchored_running as anchor
        on day_rows.platform = anchor.platform
        and day_rows.account_id = anchor.account_id
        and anchor.date_day = coalesce(day_rows.anchor_before, day_rows.anchor_after)
),

-- snapshots of the level
snapshot_inputs_raw as (
    select
        'instagram' as platform,
        ig_user_id as account_id,
        snapshot_date as date_day,
        followers_count as followers,
        cast(null as {{ dbt.type_bigint() }}) as gained
    from {{ ref('stg_instagram__account_followers') }}

    union all

    select
        'instagram' as platform,
        ig_user_id as account_id,
        date_day,
        cast(null as {{ dbt.type_bigint() }}) as followers,
        new_followers as gained
    from {{ ref('stg_instagram__account_insights') }}

    union all

    select
        'x' as platform,
        user_id as account_id,
        snapshot_date as date_day,
        followers_count as followers,
        cast(null as {{ dbt.type_bigint() }}) as gained
    from {{ ref('stg_x__users') }}
),

snapshot_inputs as (
    select
        platform,
        account_id,
        date_day,
        max(followers) as followers,
        max(gained) as gained
    from snapshot_inputs_raw
    group by platform, account_id, date_day
),

snapshot_levels as (
    select
        today.platform,
        today.account_id,
        today.date_day,
        case when today.platform = 'x' then 'UTC' else 'America/Los_Angeles' end as account_timezone,
        'snapshot' as followers_method,
        today.followers,
        today.gained,
        today.followers - yesterday.followers as net_adds
    from snapshot_inputs as today
    left join snapshot_inputs as yesterday
        on today.platform = yesterday.platform
        and today.account_id = yesterday.account_id
        and yesterday.date_day = cast({{ dbt.dateadd('day', -1, 'today.date_day') }} as date)
),

snapshots as (
    select
        platform,
        account_id,
        date_day,
        account_timezone,
        followers_method,
        followers,
        gained,
        gained - net_adds as lost,
        net_adds
    from snapshot_levels
),

unioned as (
    select * from facebook
    union all
    select * from anchored
    union all
    select * from snapshots
),

final as (
    select
        -- keys
        today.platform,
        today.account_id,
        today.date_day,

        -- attributes
        today.account_timezone,
        today.followers_method,

        -- measures
        cast(today.followers as {{ dbt.type_bigint() }}) as followers,
        cast(today.gained as {{ dbt.type_bigint() }}) as gained,
        cast(today.lost as {{ dbt.type_bigint() }}) as lost,
        cast(today.net_adds as {{ dbt.type_bigint() }}) as net_adds,
        cast(week_before.followers as {{ dbt.type_bigint() }}) as followers_7d_before,
        cast(four_weeks_before.followers as {{ dbt.type_bigint() }}) as followers_28d_before
    from unioned as today
    left join unioned as week_before
        on today.platform = week_before.platform
        and today.account_id = week_before.account_id
        and week_before.date_day = cast({{ dbt.dateadd('day', -7, 'today.date_day') }} as date)
    left join unioned as four_weeks_before
        on today.platform = four_weeks_before.platform
        and today.account_id = four_weeks_before.account_id
        and four_weeks_before.date_day = cast({{ dbt.dateadd('day', -28, 'today.date_day') }} as date)
)

select * from final
