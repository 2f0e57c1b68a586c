{#- Audience composition per platform, account, day, dimension and value, one row each: one CTE
    per platform mapping its demographics to shared dimensions and values, then `union all`.
    `audience_weight` is what shares are computed from within a (platform, account, day,
    dimension): followers (Instagram, LinkedIn), views (YouTube countries) or percentage
    points of views (YouTube age and gender, which YouTube serves only as percentages).
    - Instagram follower demographics (lifetime, as of the snapshot day): age (13-17 ... 65+),
      gender (F, M, U -> female, male, unknown), country (ISO code); audience = followers.
    - YouTube (the window of views ending on the snapshot day): age groups `age18-24` ->
      `18-24`, `age65-` -> `65+`; genders female, male, user_specified; the age-by-gender
      percentages are summed per age band and per gender. Countries: views by ISO code.
      Audience = viewers.
    - LinkedIn follower counts by facet (lifetime, organic + paid): country (geo URNs of
      countries mapped to ISO codes below, the markets the team follows; an unmapped one keeps
      its URN until it is added), and the B2B facets
      seniority, function, industry, region, staff_count_range, association_type as LinkedIn
      sends them (URNs). LinkedIn serves no age or gender. Audience = followers. -#}

{%- set linkedin_geo_countries = [
    ('101282230', 'DE'), ('103644278', 'US'), ('105015875', 'FR'), ('101165590', 'GB'),
    ('102890719', 'NL'), ('105646813', 'ES'), ('103350119', 'IT'), ('103883259', 'AT'),
    ('106693272', 'CH'), ('105117694', 'SE'),
] -%}

with

instagram as (
    select
        'instagram' as platform,
        ig_user_id as account_id,
        snapshot_date as date_day,
        case breakdown when 'age' then 'age_band' else breakdown end as dimension,
        case
            when breakdown = 'gender' and dimension_value = 'F' then 'female'
            when breakdown = 'gender' and dimension_value = 'M' then 'male'
            when breakdown = 'gender' and dimension_value = 'U' then 'unknown'
            else dimension_value
        end as dimension_value,
        'followers' as audience_type,
        followers as audience_count,
        cast(followers as double) as audience_weight
    from {{ ref('stg_instagram__follower_demographics') }}
    where breakdown in ('age', 'gender', 'country')
),

youtube_cells as (
    select
        channel_id,
        snapshot_date,
        case
            when age_group like '%-' then {{ dbt.concat([dbt.replace(dbt.replace('age_group', "'age'", "''"), "'-'", "''"), "'+'"]) }}
            else {{ dbt.replace('age_group', "'age'", "''") }}
        end as age_band,
        gender,
        viewer_percentage
    from {{ ref('stg_youtube__audience_age_gender') }}
),

youtube_age as (
    select
        'youtube' as platform,
        channel_id as account_id,
        snapshot_date as date_day,
        'age_band' as dimension,
        age_band as dimension_value,
        'viewers' as audience_type,
        cast(null as {{ dbt.type_bigint() }}) as audience_count,
        sum(viewer_percentage) as audience_weight
    from youtube_cells
    group by channel_id, snapshot_date, age_band
),

youtube_gender as (
    select
        'youtube' as platform,
        channel_id as account_id,
        snapshot_date as date_day,
        'gender' as dimension,
        gender as dimension_value,
        'viewers' as audience_type,
        cast(null as {{ dbt.type_bigint() }}) as audience_count,
        sum(viewer_percentage) as audience_weight
    from youtube_cells
    group by channel_id, snapshot_date, gender
),

youtube_country as (
    select
        'youtube' as platform,
        channel_id as account_id,
        snapshot_date as date_day,
        'country' as dimension,
        country as dimension_value,
        'viewers' as audience_type,
        views as audience_count,
        cast(views as double) as audience_weight
    from {{ ref('stg_youtube__audience_countries') }}
),

linkedin_geo_countries as (
    {% for geo_id, country in linkedin_geo_countries %}
    select 'urn:li:geo:{{ geo_id }}' as geo_urn, '{{ country }}' as country_code
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

linkedin as (
    select
        'linkedin' as platform,
        facets.organization_id as account_id,
        facets.snapshot_date as date_day,
        facets.facet as dimension,
        case when facets.facet = 'country' then coalesce(linkedin_geo_countries.country_code, facets.facet_value)
             else facets.facet_value end as dimension_value,
        'followers' as audience_type,
        coalesce(facets.organic_followers, 0) + coalesce(facets.paid_followers, 0) as audience_count,
        cast(coalesce(facets.organic_followers, 0) + coalesce(facets.paid_followers, 0) as double) as audience_weight
    from {{ ref('stg_linkedin__follower_demographics') }} as facets
    left join linkedin_geo_countries on facets.facet_value = linkedin_geo_countries.geo_urn
),

unioned as (
    select * from instagram
    union all
    select * from youtube_age
    union all
    select * from youtube_gender
    union all
    select * from youtube_country
    union all
    select * from linkedin
),

final as (
    select
        -- keys
        platform,
        account_id,
        date_day,
        dimension,
        dimension_value,

        -- attributes
        audience_type,

        -- measures
        cast(audience_count as {{ dbt.type_bigint() }}) as audience_count,
        cast(audience_weight as double) as audience_weight
    from unioned
)

select * from final
