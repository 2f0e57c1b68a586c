{#- Lifetime media insights, one row per media and snapshot day (the raw table holds one row
    per media, snapshot day and metric: pivoted here). Only `period = lifetime` entries are
    read. Which metrics a media has depends on its kind (Meta refuses e.g. `views` for
    carousels, `shares` for image posts): a metric not served is null, not 0.
    `profile_activity` is the total of the profile actions the media led to (bio link taps,
    email and direction taps; the extractor does not ask for the action_type breakdown). -#}

with

source as (
    select * from {{ source('instagram', 'media_insights') }}
    where period = 'lifetime'
),

typed as (
    select
        media_id,
        ig_user_id,
        media_product_type,
        snapshot_date,
        name,
        coalesce({{ dbt.safe_cast(json_text('value', '$'), dbt.type_bigint()) }},
                 {{ dbt.safe_cast(json_text('total_value', '$.value'), dbt.type_bigint()) }}) as number_value,
        _load_id,
        _loaded_at
    from source
),

pivoted as (
    select
        media_id,
        snapshot_date,
        max(ig_user_id) as ig_user_id,
        max(media_product_type) as media_product_type,
        max(case when name = 'reach' then number_value end) as reach,
        max(case when name = 'views' then number_value end) as views,
        max(case when name = 'likes' then number_value end) as likes,
        max(case when name = 'comments' then number_value end) as comments,
        max(case when name = 'saved' then number_value end) as saved,
        max(case when name = 'shares' then number_value end) as shares,
        max(case when name = 'replies' then number_value end) as replies,
        max(case when name = 'total_interactions' then number_value end) as total_interactions,
        max(case when name = 'profile_activity' then number_value end) as profile_activity,
        max(_load_id) as _load_id,
        max(_loaded_at) as _loaded_at
    from typed
    group by media_id, snapshot_date
),

renamed as (
    select
        -- ids
        media_id,
        ig_user_id,

        -- strings
        media_product_type,

        -- dates: the day the lifetime values were read (the partition day of the load)
        snapshot_date,

        -- numerics: lifetime values as of the snapshot
        cast(reach as {{ dbt.type_bigint() }}) as reach,
        cast(views as {{ dbt.type_bigint() }}) as views,
        cast(likes as {{ dbt.type_bigint() }}) as likes,
        cast(comments as {{ dbt.type_bigint() }}) as comments,
        cast(saved as {{ dbt.type_bigint() }}) as saved,
        cast(shares as {{ dbt.type_bigint() }}) as shares,
        cast(replies as {{ dbt.type_bigint() }}) as replies,
        cast(total_interactions as {{ dbt.type_bigint() }}) as total_interactions,
        cast(profile_activity as {{ dbt.type_bigint() }}) as profile_activity,

        -- metadata
        _load_id,
        _loaded_at

    from pivoted
)

select * from renamed
