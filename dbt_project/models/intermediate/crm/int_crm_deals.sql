{#- CRM deals with their buyer, in the reporting currency, and which won deal is each
    customer's first purchase.
    - Buyer: a deal's associated contact; when HubSpot associates several, the earliest
      created (then the lowest id), so a deal counts for one person only.
    - Customer: a person, not a contact record: `customer_key` is the email hash (two contact
      records with one email are one customer), else the contact id. A deal without any
      associated contact has no customer and is never a first purchase.
    - First purchase: the customer's earliest won deal by close time (then deal id); later
      won deals are repeat purchases. `dealtype` is not trusted for this (portals set it by
      hand).
    - Money: `amount` stays in the deal's currency; `amount_reporting` converts it at the close
      day's rate (int_fx_rates_daily), keeping the rate and its date. -#}

{#- A table, not a view: read by the ROI, attribution, cohort and CLV marts and by int_crm_contacts. Rebuilt whole each run (deals close and change at any time). -#}
{{ config(materialized='table') }}


{%- set reporting = var('reporting_currency') -%}

with

deals as (
    select * from {{ ref('stg_hubspot__deals') }}
    where not is_archived
),

contacts as (
    select * from {{ ref('stg_hubspot__contacts') }}
    where not is_archived
),

associations as (
    select
        deal_contacts.deal_id,
        deal_contacts.contact_id,
        coalesce(contacts.email_hash, 'contact:' || deal_contacts.contact_id) as customer_key,
        count(*) over (partition by deal_contacts.deal_id) as associated_contacts,
        row_number() over (
            partition by deal_contacts.deal_id
            order by contacts.created_at, deal_contacts.contact_id
        ) as buyer_rank
    from {{ ref('stg_hubspot__deal_contacts') }} as deal_contacts
    left join contacts on deal_contacts.contact_id = contacts.contact_id
),

buyers as (
    select * from associations
    where buyer_rank = 1
),

fx as (
    select * from {{ ref('int_fx_rates_daily') }}
),

joined as (
    select
        deals.*,
        buyers.contact_id,
        buyers.customer_key,
        coalesce(buyers.associated_contacts, 0) as associated_contacts,
        deals.is_closed_won and deals.closed_at is not null and buyers.customer_key is not null as is_purchase,
        fx.rate_per_reporting,
        fx.rate_date
    from deals
    left join buyers on deals.deal_id = buyers.deal_id
    left join fx
        on deals.closed_date = fx.date_day
        and deals.deal_currency_code = fx.currency
),

ranked as (
    select
        *,
        case when is_purchase then
            row_number() over (
                partition by customer_key, is_purchase
                order by closed_at, deal_id
            )
        end as purchase_number
    from joined
),

final as (
    select
        -- ids
        deal_id,
        contact_id,
        customer_key,

        -- strings
        deal_stage,
        pipeline,
        deal_type,

        -- booleans
        is_closed_won as is_won,
        is_purchase,
        coalesce(purchase_number = 1, false) as is_first_purchase,

        -- numerics
        cast(purchase_number as {{ dbt.type_bigint() }}) as purchase_number,
        cast(associated_contacts as {{ dbt.type_bigint() }}) as associated_contacts,

        -- money: in the deal's currency, and in the reporting currency at the close day's rate
        amount,
        deal_currency_code as currency,
        {{ to_money('amount / rate_per_reporting', "'" ~ reporting ~ "'") }} as amount_reporting,
        '{{ reporting }}' as reporting_currency,
        rate_per_reporting as fx_rate,
        rate_date as fx_rate_date,

        -- timestamps (UTC) and reporting-time-zone dates
        created_at,
        created_date,
        closed_at,
        closed_date

    from ranked
)

select * from final
