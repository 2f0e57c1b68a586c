{#- Post metrics per day, one row per platform, post and day: what each post gained that day.
    - From lifetime snapshots (Facebook, Instagram, X): the delta of a day is the post's
      snapshot of that day minus its previous snapshot, whatever the gap between them (a
      snapshot after a gap of n days carries the n days' growth on its own day; the day before
      it gets no row). A post's first snapshot counts from publication (the whole lifetime
      value so far). A delta is never negative: a value restated down (the platform revised
      it) gives 0 that day, and the next delta is taken from the lower value, so the sum of a
      post's daily deltas can exceed its latest lifetime value by what was restated away.
      A metric the snapshot does not hold is null.
    - From daily reports (YouTube Analytics per video and day): the day's values as reported.
    - engagements = reactions + comments + shares + saves + clicks of the day (a component the
      platform does not serve counts 0).
    - reach: new people reached that day (the delta of a lifetime unique count); it adds up
      over the days of one post, never across posts. -#}

{%- set metrics = ['impressions', 'reach', 'reactions', 'comments', 'shares', 'saves', 'clicks', 'link_clicks', 'video_views'] -%}

with

snapshots as (
    select * from {{ ref('int_post_snapshots_unioned') }}
),

with_previous as (
    select
        snapshots.*,
        lag(snapshot_date) over (partition by platform, post_id order by snapshot_date) as previous_snapshot_date,
        {% for m in metrics %}
        lag({{ m }}) over (partition by platform, post_id order by snapshot_date) as previous_{{ m }}{{ "," if not loop.last }}
        {% endfor %}
    from snapshots
),

snapshot_deltas as (
    select
        platform,
        account_id,
        post_id,
        snapshot_date as date_day,
        'snapshot_delta' as metric_basis,
        previous_snapshot_date,
        {% for m in metrics %}
        case
            when {{ m }} is null then null
            when previous_{{ m }} is null then {{ m }}
            when {{ m }} >= previous_{{ m }} then {{ m }} - previous_{{ m }}
            else 0
        end as {{ m }}{{ "," if not loop.last }}
        {% endfor %}
    from with_previous
),

youtube_posts as (
    select account_id, post_id from {{ ref('int_posts_unioned') }} where platform = 'youtube'
),

youtube_daily as (
    select
        'youtube' as platform,
        youtube_posts.account_id,
        video_days.video_id as post_id,
        video_days.date_day,
        'daily_report' as metric_basis,
        cast(null as date) as previous_snapshot_date,
        video_days.views as impressions,
        cast(null as {{ dbt.type_bigint() }}) as reach,
        video_days.likes as reactions,
        video_days.comments,
        cast(null as {{ dbt.type_bigint() }}) as shares,
        cast(null as {{ dbt.type_bigint() }}) as saves,
        cast(null as {{ dbt.type_bigint() }}) as clicks,
        cast(null as {{ dbt.type_bigint() }}) as link_clicks,
        video_days.views as video_views
    from {{ ref('stg_youtube__video_analytics_daily') }} as video_days
    inner join youtube_posts on video_days.video_id = youtube_posts.post_id
),

unioned as (
    select * from snapshot_deltas
    union all
    select * from youtube_daily
),

final as (
    select
        -- keys
        platform,
        account_id,
        post_id,
        date_day,

        -- how the day's values were obtained
        metric_basis,
        previous_snapshot_date,

        -- the day's values
        {% for m in metrics %}
        cast({{ m }} as {{ dbt.type_bigint() }}) as {{ m }},
        {% endfor %}
        cast(coalesce(reactions, 0) + coalesce(comments, 0) + coalesce(shares, 0)
             + coalesce(saves, 0) + coalesce(clicks, 0) as {{ dbt.type_bigint() }}) as engagements
    from unioned
)

select * from final
