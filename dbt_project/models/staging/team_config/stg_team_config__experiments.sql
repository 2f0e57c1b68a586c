{#- The team's A/B experiments, one row per variant. Blank alpha and power take the usual
    defaults (0.05 and 0.8): the file states them only when a test departs from those. -#}

with

source as (
    select * from {{ source('team_config', 'experiments') }}
),

renamed as (
    select
        -- ids
        trim(experiment_id) as experiment_id,
        trim(variant) as variant,

        -- strings: what the variant maps to (a platform's ads, or a utm_content on the web)
        lower(trim(platform)) as platform,
        nullif(replace(trim(ad_ids), ' ', ''), '') as ad_ids,
        nullif(trim(utm_content), '') as utm_content,
        lower(trim(primary_metric)) as primary_metric,
        -- the metric's denominator and numerator
        case lower(trim(primary_metric))
            when 'conversions_per_click' then 'click'
            when 'clicks_per_impression' then 'impression'
            when 'purchases_per_session' then 'session'
        end as exposure_unit,
        case lower(trim(primary_metric))
            when 'conversions_per_click' then 'conversion'
            when 'clicks_per_impression' then 'click'
            when 'purchases_per_session' then 'purchase'
        end as conversion_unit,

        -- booleans
        coalesce(is_control, false) as is_control,

        -- dates (the team's calendar; both included)
        start_date,
        end_date,

        -- numerics
        cast(coalesce(alpha, 0.05) as double) as alpha,
        cast(coalesce(power, 0.8) as double) as power,
        cast(min_detectable_lift as double) as min_detectable_lift,

        -- metadata
        {{ json_text('_record', '$.source_file') }} as source_file,
        cast({{ json_text('_record', '$.source_line') }} as {{ dbt.type_int() }}) as source_line,
        _load_id,
        _loaded_at

    from source
)

select * from renamed
