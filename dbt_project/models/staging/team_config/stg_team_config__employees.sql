{#- Employees are private people. The roster holds no name or e-mail (were one added to the
    file, it is not selected here); the stable `employee_id` stays, the handle is kept as
    `handle_hash` (salted, so it still joins to other staging models' hashed author handles)
    and in clear only for advocates: an advocate posts about the brand in public under that
    handle (practice 34), which is what the roster's `advocate` flag says. -#}

with

source as (
    select * from {{ source('team_config', 'employees') }}
),

renamed as (
    select
        -- ids
        employee_id,

        -- strings
        {{ hash_pii('handle') }} as handle_hash,
        case when advocate then handle end as public_handle,
        team,
        lower(trim(platform)) as platform,

        -- booleans
        coalesce(advocate, false) as is_advocate,

        -- metadata
        _load_id,
        _loaded_at

    from source
)

select * from renamed
