{#- Lifetime post insights, one row per post and snapshot day (the raw table holds one row per
    post, snapshot day and metric: pivoted here). Only `period = lifetime` entries are read.
    Object-valued metrics are summed (reactions by type) or split (clicks by type); Meta leaves
    a type with no count out of the object, so a type absent from a served object is 0. A
    metric not served for a snapshot is null. -#}

with

source as (
    select * from {{ source('facebook', 'post_insights') }}
    where period = 'lifetime'
),

typed as (
    select
        post_id,
        page_id,
        snapshot_date,
        name,
        -- numbers only for the metrics served as numbers (the by-type ones are objects)
        case when name in ('post_media_view', 'post_total_media_view_unique', 'post_clicks')
             then {{ dbt.safe_cast(json_text('value', '$'), dbt.type_bigint()) }} end as number_value,
        cast(value as {{ dbt.type_string() }}) as json_value,
        _load_id,
        _loaded_at
    from source
),

pivoted as (
    select
        post_id,
        snapshot_date,
        max(page_id) as page_id,
        max(case when name = 'post_media_view' then number_value end) as media_views,
        max(case when name = 'post_total_media_view_unique' then number_value end) as media_viewers,
        max(case when name = 'post_reactions_by_type_total'
                 then coalesce({{ json_object_values_sum('json_value') }}, 0) end) as reactions,
        max(case when name = 'post_reactions_by_type_total' then json_value end) as reactions_by_type,
        max(case when name = 'post_clicks' then number_value end) as clicks,
        max(case when name = 'post_clicks_by_type'
                 then coalesce({{ dbt.safe_cast(json_key_text('json_value', 'link clicks'), dbt.type_bigint()) }}, 0) end) as link_clicks,
        max(case when name = 'post_clicks_by_type'
                 then coalesce({{ dbt.safe_cast(json_key_text('json_value', 'other clicks'), dbt.type_bigint()) }}, 0) end) as other_clicks,
        max(case when name = 'post_clicks_by_type'
                 then coalesce({{ dbt.safe_cast(json_key_text('json_value', 'photo view'), dbt.type_bigint()) }}, 0) end) as photo_views,
        max(case when name = 'post_clicks_by_type' then json_value end) as clicks_by_type,
        max(_load_id) as _load_id,
        max(_loaded_at) as _loaded_at
    from typed
    group by post_id, snapshot_date
),

renamed as (
    select
        -- ids
        post_id,
        page_id,

        -- dates: the day the lifetime values were read (the partition day of the load)
        snapshot_date,

        -- numerics: lifetime values as of the snapshot
        cast(media_views as {{ dbt.type_bigint() }}) as media_views,
        cast(media_viewers as {{ dbt.type_bigint() }}) as media_viewers,
        cast(reactions as {{ dbt.type_bigint() }}) as reactions,
        cast(clicks as {{ dbt.type_bigint() }}) as clicks,
        cast(link_clicks as {{ dbt.type_bigint() }}) as link_clicks,
        cast(other_clicks as {{ dbt.type_bigint() }}) as other_clicks,
        cast(photo_views as {{ dbt.type_bigint() }}) as photo_views,

        -- JSON objects as served (counts by type)
        reactions_by_type,
        clicks_by_type,

        -- metadata
        _load_id,
        _loaded_at

    from pivoted
)

select * from renamed
