{#- Organization follower gains, one row per organization and UTC day (as in raw): net gains
    (follows minus unfollows), organic and from LinkedIn Ads. -#}

with

source as (
    select * from {{ source('linkedin', 'follower_gains') }}
),

renamed as (
    select
        -- ids
        {{ dbt.split_part('organization', "':'", 4) }} as organization_id,
        organization as organization_urn,

        -- strings: LinkedIn's days are UTC days
        'UTC' as account_timezone,

        -- dates
        date as date_day,

        -- numerics
        cast(organic_follower_gain as {{ dbt.type_bigint() }}) as organic_follower_gain,
        cast(paid_follower_gain as {{ dbt.type_bigint() }}) as paid_follower_gain,

        -- metadata
        _load_id,
        _loaded_at

    from source
)

select * from renamed
