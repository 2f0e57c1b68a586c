{#- The scorecard's macros (models/intermediate/scorecard, models/marts/scorecard). -#}


{#- The KPI -> mart mapping of the team's KPI registry: one entry per KPI that
    int_kpi_values_daily computes (a CTE named `kpi_<kpi>` there), with how a period's value is
    built from the daily rows (`aggregation`) and which marts serve it. int_kpi_values_daily
    unions one CTE per entry, int_kpi_mappings lists the entries; a registry KPI missing here
    fails the build (the `registry_kpis_are_mapped` test on int_kpi_mappings), never shows as 0.
    Aggregations, over a period's rows:
    - sum: sum(numerator) (counts; denominator 1);
    - ratio: sum(numerator) / sum(denominator) (rates; never an average of daily rates);
    - mean_per_day: sum(numerator) / days with a row (non-additive counts such as reach, which
      platforms report per day and must not be summed across days);
    - median: the median of `numerator` over the period's rows, one row per measured item
      (`item_id`). -#}
{% macro scorecard_kpi_mappings() -%}
    {{ return([
        {'kpi': 'impressions', 'aggregation': 'sum',
         'marts': 'fct_channel_performance_daily, fct_campaign_performance_daily',
         'scope': 'organic impressions of the brand accounts (campaign (not set)) + paid social impressions per ad campaign (Meta Ads as platform meta, LinkedIn Ads as linkedin)'},
        {'kpi': 'reach', 'aggregation': 'mean_per_day',
         'marts': 'fct_channel_performance_daily, fct_campaign_performance_daily',
         'scope': 'daily reach as each platform reports it (organic accounts; ad campaigns that report reach), summed across platforms within a day, averaged over the days: reach is never summed across days'},
        {'kpi': 'engagement_rate', 'aggregation': 'ratio',
         'marts': 'fct_channel_performance_daily',
         'scope': 'organic engagements / organic impressions of the days (rows reporting both)'},
        {'kpi': 'ctr', 'aggregation': 'ratio',
         'marts': 'fct_channel_performance_daily, fct_campaign_performance_daily',
         'scope': 'organic link clicks / impressions (rows reporting link clicks) + paid social clicks / impressions per ad campaign'},
        {'kpi': 'conversion_rate', 'aggregation': 'ratio',
         'marts': 'fct_web_traffic_daily',
         'scope': 'web: key events / sessions of social sessions (organic, paid and influencer social), per social network and utm campaign; the ads-side rate is fct_campaign_performance_daily.platform_conversion_rate'},
        {'kpi': 'follower_growth_rate_28d', 'aggregation': 'ratio',
         'marts': 'fct_channel_performance_daily',
         'scope': 'sum of growth_28d / sum of followers_28d_before over the organic account-days that know both (one day: the 28-day growth rate; a period: its days averaged, weighted by follower base)'},
        {'kpi': 'content_engagement_rate', 'aggregation': 'ratio',
         'marts': 'fct_post_performance',
         'scope': 'lifetime engagements / lifetime impressions of the posts published in the period (Sprout post view), per platform; by content type and topic in fct_content_performance'},
        {'kpi': 'roi', 'aggregation': 'ratio',
         'marts': 'fct_campaign_roi_daily',
         'scope': '(attributed revenue - spend) / spend, every ad platform, reporting currency'},
        {'kpi': 'roas', 'aggregation': 'ratio',
         'marts': 'fct_campaign_roi_daily',
         'scope': 'attributed revenue / spend, every ad platform, reporting currency'},
        {'kpi': 'social_sessions', 'aggregation': 'sum',
         'marts': 'fct_web_traffic_daily',
         'scope': 'web sessions with a social channel group (Organic Social, Paid Social, Influencer), per social network and utm campaign; equals fct_social_traffic_daily.social_sessions'},
        {'kpi': 'clv_eur', 'aggregation': 'ratio',
         'marts': 'fct_clv_by_channel',
         'scope': 'revenue to date / customers of the cohorts acquired through a social channel group, dated on the cohort month (a monthly KPI: it has a value in the periods holding a cohort month start)'},
        {'kpi': 'leads', 'aggregation': 'sum',
         'marts': 'fct_leads_daily',
         'scope': 'CRM contacts acquired through a social channel group that became leads, per social network and utm campaign'},
        {'kpi': 'cost_per_lead_eur', 'aggregation': 'ratio',
         'marts': 'fct_campaign_roi_daily',
         'scope': 'spend / CRM leads acquired by the ad platforms, every ad platform, reporting currency'},
        {'kpi': 'retention_m3', 'aggregation': 'ratio',
         'marts': 'fct_customer_retention_cohorts',
         'scope': 'active customers / cohort customers at month 3 of the cohorts acquired through a social channel group, dated on the month measured (no value until a cohort is 3 months old)'},
        {'kpi': 'cpa_eur', 'aggregation': 'ratio',
         'marts': 'fct_campaign_roi_daily',
         'scope': 'spend / new customers (CRM, deduplicated) acquired by the ad platforms, every ad platform, reporting currency'},
        {'kpi': 'paid_share', 'aggregation': 'ratio',
         'marts': 'fct_channel_performance_daily, fct_campaign_performance_daily',
         'scope': 'paid social impressions / all impressions (organic + paid social): organic rows add to the denominator only'},
        {'kpi': 'campaign_response_rate', 'aggregation': 'ratio',
         'marts': 'fct_campaign_performance_daily',
         'scope': 'responses (clicks + leads + conversions) / response base (reach where reported, else impressions) per ad campaign, every ad platform'},
        {'kpi': 'ugc_volume', 'aggregation': 'sum',
         'marts': 'fct_ugc_vs_brand_daily',
         'scope': 'listening mentions about the brand written by customers'},
        {'kpi': 'net_sentiment', 'aggregation': 'ratio',
         'marts': 'fct_sentiment_daily',
         'scope': '(positive - negative) / scored mentions about the brand (text_kind mention, subject brand), per listening platform'},
        {'kpi': 'brand_health', 'aggregation': 'ratio',
         'marts': 'fct_sentiment_daily',
         'scope': 'positive / (positive + negative) mentions about the brand, per listening platform'},
        {'kpi': 'sentiment_7d', 'aggregation': 'ratio',
         'marts': 'fct_sentiment_daily',
         'scope': 'score sum / scored texts about the brand (comments, messages, mentions, survey comments): a week is the 7-day rolling mean at its last day, a longer period its mean'},
        {'kpi': 'share_of_voice', 'aggregation': 'ratio',
         'marts': 'fct_share_of_voice_daily',
         'scope': 'brand mentions / all mentions of the competitor set in force, per listening platform'},
        {'kpi': 'engagement_per_post_vs_competitors', 'aggregation': 'ratio',
         'marts': 'fct_competitor_benchmark',
         'scope': "brand post engagements / (brand posts measured x the competitors' median engagement per post of the day and platform), where both are known: no source serves competitors' posts, so no value until one does"},
        {'kpi': 'median_response_minutes', 'aggregation': 'median',
         'marts': 'fct_care_responses',
         'scope': 'median minutes on the clock from a customer first contact (comment, conversation, X post) to the first brand reply, answered contacts, dated on the contact'},
        {'kpi': 'response_rate', 'aggregation': 'ratio',
         'marts': 'fct_care_responses',
         'scope': 'answered / inbound customer first contacts, dated on the contact (as of the data: recent contacts may still be answered)'},
        {'kpi': 'ab_lift', 'aggregation': 'ratio',
         'marts': 'fct_ab_test_results',
         'scope': '(treatment rate - control rate) / control rate per experiment treatment (campaign = experiment_id:variant), dated on its last observed day; several treatments pool as sum of differences / sum of control rates'},
        {'kpi': 'influencer_cpa_eur', 'aggregation': 'ratio',
         'marts': 'fct_influencer_impact, int_partner_activity_daily',
         'scope': "roster creators' fees (fct_influencer_impact.cost, spread over the days of each row's tracked posts) / new customers of their links on their first purchase day, reporting currency"},
        {'kpi': 'negative_feedback', 'aggregation': 'sum',
         'marts': 'fct_feedback_daily',
         'scope': 'feedback texts labelled negative: the text sources of var feedback_text_sources (Facebook comments, Messenger and Instagram Direct messages, X mentions about the brand, survey comments)'},
        {'kpi': 'csat', 'aggregation': 'ratio',
         'marts': 'fct_csat',
         'scope': 'satisfied (4-5) / survey responses, daily rows, per platform of the care contact, else its channel'},
        {'kpi': 'crisis_time_to_first_response_minutes', 'aggregation': 'ratio',
         'marts': 'fct_crises',
         'scope': "minutes from a brand crisis's start to the brand's first reply (minutes_to_first_reply), dated on its start, platform (all); several crises: their mean; an unanswered crisis has no value"},
        {'kpi': 'advocacy_sessions', 'aggregation': 'sum',
         'marts': 'int_partner_activity_daily (behind fct_employee_advocacy)',
         'scope': 'web sessions from employee advocacy links and the programme referrer hosts, per platform and utm campaign'},
    ]) }}
{%- endmacro %}


{#- Fails when the team's KPI registry (`registry`, a relation with a `kpi` column) holds a KPI
    that the model (`int_kpi_mappings`) does not map: a KPI with no mart behind it breaks the build
    instead of showing as 0 or as nothing. The query raises an error whose message names every
    unmapped KPI (a plain failing test would print only how many), one row per KPI otherwise. -#}
{% test registry_kpis_are_mapped(model, registry) %}
    with unmapped as (
        select registry.kpi
        from {{ registry }} as registry
        left join {{ model }} as mappings on registry.kpi = mappings.kpi
        where mappings.kpi is null
    ),
    listed as (
        select {{ dbt.listagg('kpi', "', '", 'order by kpi') }} as kpis from unmapped
    )
    select
        unmapped.kpi as unmapped_kpi,
        {{ scorecard_raise("'registry KPIs with no mart behind them (map each in scorecard_kpi_mappings, macros/scorecard.sql, and int_kpi_values_daily): ' || listed.kpis") }} as failure
    from unmapped
    cross join listed
{% endtest %}


{#- Raise a query error with a message (a SQL text expression), for tests that must name what
    failed. Evaluated per row: a query with no row raises nothing. Dispatched: DuckDB `error`,
    Spark `raise_error`. -#}
{% macro scorecard_raise(message) -%}
    {{ return(adapter.dispatch('scorecard_raise', 'social_kpi_warehouse')(message)) }}
{%- endmacro %}

{% macro default__scorecard_raise(message) -%}
    error({{ message }})
{%- endmacro %}

{% macro spark__scorecard_raise(message) -%}
    raise_error({{ message }})
{%- endmacro %}


{#- Fails for every group of a decomposition whose parts do not add up to its total: one row per
    group where abs(sum(part) - max(total)) > tolerance (a group with a null total is skipped).
    `group_by` is a list of columns; `total` a column repeating the group's total on every row. -#}
{% test parts_sum_to_total(model, group_by, part, total, tolerance=1e-9) %}
    select {{ group_by | join(', ') }}, sum({{ part }}) as parts_sum, max({{ total }}) as total
    from {{ model }}
    group by {{ group_by | join(', ') }}
    having max({{ total }}) is not null
       and abs(sum({{ part }}) - max({{ total }})) > {{ tolerance }} * (1 + abs(max({{ total }})))
{% endtest %}


