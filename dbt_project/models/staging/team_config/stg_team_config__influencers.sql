with

source as (
    select * from {{ source('team_config', 'influencers') }}
),

renamed as (
    select
        -- ids
        influencer_id,

        -- strings (a creator's public handle on the platform they are paid to post on)
        handle,
        lower(trim(platform)) as platform,
        contract_copy,

        -- numerics
        cast(followers as {{ dbt.type_bigint() }}) as followers,
        {{ to_money('fee_eur', "'EUR'") }} as fee_eur,
        'EUR' as fee_currency,

        -- metadata
        _load_id,
        _loaded_at

    from source
)

select * from renamed
