{#- What the brand's partners do and bring, per day: influencers (the team's roster) and
    employee advocates (the employee roster's advocates). Three kinds of rows, summed per
    (program, partner, campaign, platform, day):
    - posts: listening mentions about the brand (the brand's query) written by the partner
      (stg_listening__mentions resolves authors against the rosters); the campaign is the
      utm_campaign of the tracked link the post carries, '(not set)' without one;
    - sessions: GA4 sessions from the partner's tracked links - influencers: channel group
      Influencer (utm_medium influencer), the creator by utm_content = roster handle;
      advocates: utm_medium in var `advocacy_utm_mediums`, the employee by utm_content =
      public handle or employee id - and untagged sessions from the referrer hosts the var
      `partner_referral_hosts` assigns to a program (to no one partner);
    - CRM outcomes of the contacts acquired the same way (their original source, as
      int_crm_contacts reads it): leads on the day they became leads, new customers and their
      first-purchase revenue on the first purchase, and every purchase of those customers
      (first and repeat) as attributed revenue on its close day.
    Anything a program's tag or host brings that names no partner on the roster is kept under
    partner_id '(unattributed)', so a program's totals add up. -#}

{#- A table, not a view: both partner marts and its tests read it, and it scans the listening
    mentions (the largest staging model) and the web sessions. Rebuilt whole each run: a CRM
    contact's purchases land on any day. -#}
{{ config(materialized='table') }}

{%- set advocacy_mediums = var('advocacy_utm_mediums', ['advocacy']) -%}
{%- set referral_hosts = var('partner_referral_hosts', {}) -%}

with

brand_queries as (
    select query_id
    from {{ ref('stg_listening__queries') }}
    where is_brand_query
),

-- what a link's utm_content may name a partner by (a handle listed twice keeps the lowest id)
influencers as (
    select
        {{ normalized_handle('handle') }} as partner_key,
        min(influencer_id) as influencer_id
    from {{ ref('stg_team_config__influencers') }}
    where nullif(trim(handle), '') is not null
    group by {{ normalized_handle('handle') }}
),

advocates as (
    select
        partner_key,
        min(employee_id) as employee_id
    from (
        select {{ normalized_handle('public_handle') }} as partner_key, employee_id
        from {{ ref('stg_team_config__employees') }}
        where is_advocate and nullif(trim(public_handle), '') is not null
        union all
        select {{ normalized_handle('employee_id') }} as partner_key, employee_id
        from {{ ref('stg_team_config__employees') }}
        where is_advocate
    ) as keys
    group by partner_key
),

posts as (
    select
        case when mentions.author_type = 'influencer' then 'influencer' else 'employee' end as program,
        case when mentions.author_type = 'influencer'
             then coalesce(mentions.influencer_id, '(unattributed)')
             else coalesce(mentions.employee_id, '(unattributed)')
        end as partner_id,
        coalesce({{ url_query_param('mentions.links_json', 'utm_campaign') }}, '(not set)') as utm_campaign,
        mentions.platform,
        mentions.published_date as date_day,
        1 as posts,
        case when {{ url_query_param('mentions.links_json', 'utm_campaign') }} is not null then 1 else 0 end as tracked_posts,
        mentions.reach,
        mentions.engagements
    from {{ ref('stg_listening__mentions') }} as mentions
    inner join brand_queries on mentions.query_id = brand_queries.query_id
    where mentions.author_type in ('influencer', 'employee')
),

-- web sessions and CRM contacts in the same terms: which program's tag or host they carry
web as (
    select
        date_day,
        source,
        medium,
        campaign as utm_campaign,
        content as utm_content,
        social_platform as platform,
        channel_group,
        sessions,
        engaged_sessions
    from {{ ref('int_web_sessions_daily') }}
    where not is_other_row
),

web_tagged as (
    select
        web.*,
        case
            when web.channel_group = 'Influencer' then 'influencer'
            {%- if advocacy_mediums %}
            when lower(trim(web.medium)) in ({% for m in advocacy_mediums %}'{{ m | lower }}'{{ ", " if not loop.last }}{% endfor %}) then 'employee'
            {%- endif %}
            {%- for host, program in referral_hosts.items() %}
            when lower(trim(web.source)) = '{{ host | lower }}' and lower(trim(web.medium)) = 'referral' then '{{ program }}'
            {%- endfor %}
        end as program,
        {%- if referral_hosts %}
        lower(trim(web.source)) in ({% for host in referral_hosts %}'{{ host | lower }}'{{ ", " if not loop.last }}{% endfor %})
            and lower(trim(web.medium)) = 'referral' as is_referral
        {%- else %}
        false as is_referral
        {%- endif %}
    from web
),

contacts_tagged as (
    select
        contacts.*,
        case
            when contacts.acquisition_channel = 'Influencer' then 'influencer'
            {%- if advocacy_mediums %}
            when lower(trim(contacts.acquisition_medium)) in ({% for m in advocacy_mediums %}'{{ m | lower }}'{{ ", " if not loop.last }}{% endfor %}) then 'employee'
            {%- endif %}
            {%- for host, program in referral_hosts.items() %}
            when lower(trim(contacts.acquisition_source)) = '{{ host | lower }}' and lower(trim(contacts.acquisition_medium)) = 'referral' then '{{ program }}'
            {%- endfor %}
        end as program
    from {{ ref('int_crm_contacts') }} as contacts
),

-- the partner a tagged session or contact names (utm_content), else '(unattributed)'
web_partners as (
    select
        web_tagged.program,
        coalesce(case when web_tagged.program = 'influencer' then influencers.influencer_id else advocates.employee_id end,
                 '(unattributed)') as partner_id,
        case when web_tagged.is_referral then '(not set)' else coalesce(web_tagged.utm_campaign, '(not set)') end as utm_campaign,
        web_tagged.platform,
        web_tagged.date_day,
        web_tagged.sessions,
        web_tagged.engaged_sessions,
        case when web_tagged.is_referral then web_tagged.sessions else 0 end as referral_sessions
    from web_tagged
    left join influencers
        on web_tagged.program = 'influencer' and not web_tagged.is_referral
        and {{ normalized_handle('web_tagged.utm_content') }} = influencers.partner_key
    left join advocates
        on web_tagged.program = 'employee' and not web_tagged.is_referral
        and {{ normalized_handle('web_tagged.utm_content') }} = advocates.partner_key
    where web_tagged.program is not null
),

contact_partners as (
    select
        contacts_tagged.contact_id,
        contacts_tagged.customer_key,
        contacts_tagged.program,
        coalesce(case when contacts_tagged.program = 'influencer' then influencers.influencer_id else advocates.employee_id end,
                 '(unattributed)') as partner_id,
        coalesce(contacts_tagged.utm_campaign, '(not set)') as utm_campaign,
        contacts_tagged.social_platform as platform,
        contacts_tagged.is_lead,
        contacts_tagged.became_lead_date,
        contacts_tagged.is_new_customer,
        contacts_tagged.first_purchase_date,
        contacts_tagged.first_purchase_amount_reporting
    from contacts_tagged
    left join influencers
        on contacts_tagged.program = 'influencer'
        and {{ normalized_handle('contacts_tagged.utm_content') }} = influencers.partner_key
    left join advocates
        on contacts_tagged.program = 'employee'
        and {{ normalized_handle('contacts_tagged.utm_content') }} = advocates.partner_key
    where contacts_tagged.program is not null
),

purchases as (
    select
        contact_partners.program,
        contact_partners.partner_id,
        contact_partners.utm_campaign,
        contact_partners.platform,
        deals.closed_date as date_day,
        deals.amount_reporting
    from {{ ref('int_crm_deals') }} as deals
    inner join contact_partners
        on deals.customer_key = contact_partners.customer_key
        and contact_partners.is_new_customer
    where deals.is_purchase
),

unioned as (
    select program, partner_id, utm_campaign, platform, date_day,
           posts, tracked_posts, reach, engagements,
           0 as sessions, 0 as engaged_sessions, 0 as referral_sessions,
           0 as leads, 0 as new_customers, 0 as new_customer_revenue, 0 as attributed_revenue
    from posts

    union all

    select program, partner_id, utm_campaign, platform, date_day,
           0, 0, 0, 0,
           sessions, engaged_sessions, referral_sessions,
           0, 0, 0, 0
    from web_partners

    union all

    select program, partner_id, utm_campaign, platform, became_lead_date,
           0, 0, 0, 0,
           0, 0, 0,
           1, 0, 0, 0
    from contact_partners
    where is_lead

    union all

    select program, partner_id, utm_campaign, platform, first_purchase_date,
           0, 0, 0, 0,
           0, 0, 0,
           0, 1, first_purchase_amount_reporting, 0
    from contact_partners
    where is_new_customer

    union all

    select program, partner_id, utm_campaign, platform, date_day,
           0, 0, 0, 0,
           0, 0, 0,
           0, 0, 0, amount_reporting
    from purchases
),

keyed as (
    select
        program,
        partner_id,
        utm_campaign,
        -- a contact or session whose source names no network
        coalesce(platform, '(not set)') as platform,
        date_day,
        posts, tracked_posts, reach, engagements, sessions, engaged_sessions, referral_sessions,
        leads, new_customers, new_customer_revenue, attributed_revenue
    from unioned
),

final as (
    select
        -- keys
        program,
        partner_id,
        utm_campaign,
        platform,
        date_day,

        -- measures
        cast(sum(posts) as {{ dbt.type_bigint() }}) as posts,
        cast(sum(tracked_posts) as {{ dbt.type_bigint() }}) as tracked_posts,
        cast(sum(reach) as {{ dbt.type_bigint() }}) as reach,
        cast(sum(engagements) as {{ dbt.type_bigint() }}) as engagements,
        cast(sum(sessions) as {{ dbt.type_bigint() }}) as sessions,
        cast(sum(engaged_sessions) as {{ dbt.type_bigint() }}) as engaged_sessions,
        cast(sum(referral_sessions) as {{ dbt.type_bigint() }}) as referral_sessions,
        cast(sum(leads) as {{ dbt.type_bigint() }}) as leads,
        cast(sum(new_customers) as {{ dbt.type_bigint() }}) as new_customers,
        cast(sum(new_customer_revenue) as decimal(18, 2)) as new_customer_revenue,
        cast(sum(attributed_revenue) as decimal(18, 2)) as attributed_revenue,
        '{{ var("reporting_currency") }}' as reporting_currency

    from keyed
    group by program, partner_id, utm_campaign, platform, date_day
)

select * from final
