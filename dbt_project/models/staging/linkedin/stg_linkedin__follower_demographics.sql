{#- Lifetime follower counts by facet, one row per organization, snapshot day, facet and facet
    value. The raw table holds one row per organization and snapshot day, each facet a JSON
    array of `{<facet key>: <value>, followerCounts: {organicFollowerCount, paidFollowerCount}}`:
    unnested here, one CTE per facet. Values stay as LinkedIn sends them (URNs such as
    `urn:li:geo:101282230`, `urn:li:seniority:3`, or `SIZE_11_TO_50`). -#}

{%- set facets = [
    ('seniority', 'by_seniority', 'seniority'),
    ('function', 'by_function', 'function'),
    ('industry', 'by_industry', 'industry'),
    ('country', 'by_geo_country', 'geo'),
    ('region', 'by_geo', 'geo'),
    ('staff_count_range', 'by_staff_count_range', 'staffCountRange'),
    ('association_type', 'by_association_type', 'associationType'),
] -%}

with

source as (
    select * from {{ source('linkedin', 'follower_demographics') }}
),

{% for facet, column, key in facets %}
{{ facet }}_items as (
    select
        source.organization,
        source.snapshot_date,
        '{{ facet }}' as facet,
        {{ json_text('facet_item.item', '$.' ~ key) }} as facet_value,
        {{ json_text('facet_item.item', '$.followerCounts.organicFollowerCount') }} as organic_followers,
        {{ json_text('facet_item.item', '$.followerCounts.paidFollowerCount') }} as paid_followers,
        source._load_id,
        source._loaded_at
    from {{ json_array_items('source', column, 'facet_item') }}
),
{% endfor %}

unioned as (
    {% for facet, column, key in facets %}
    select * from {{ facet }}_items
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

renamed as (
    select
        -- ids
        {{ dbt.split_part('organization', "':'", 4) }} as organization_id,
        organization as organization_urn,

        -- strings
        facet,
        facet_value,

        -- dates: the day the snapshot was read
        snapshot_date,

        -- numerics
        cast(organic_followers as {{ dbt.type_bigint() }}) as organic_followers,
        cast(paid_followers as {{ dbt.type_bigint() }}) as paid_followers,

        -- metadata
        _load_id,
        _loaded_at

    from unioned
)

select * from renamed
