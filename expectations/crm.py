"""CRM: HubSpot contacts and deals in raw, and the funnel, lead, attribution and cohort marts."""

from expectations.paid import currency
from expectations.reference import HUBSPOT_LIFECYCLE_STAGES, HUBSPOT_SOURCES
from expectations.rules import WARNING, in_set, not_negative, number_text, rate, where

RULES = {
    "raw.hubspot__contacts": [
        in_set("lifecyclestage", HUBSPOT_LIFECYCLE_STAGES, name="lifecyclestage_known"),
        in_set("hs_analytics_source", HUBSPOT_SOURCES, WARNING, name="hs_analytics_source_known"),
    ],
    "raw.hubspot__deals": [
        number_text("amount"),
        where("amount_not_negative", "amount", "try_cast(amount as double) < 0", "amount is not negative"),
        currency("deal_currency_code"),
    ],
    "marts.fct_funnel_daily": [
        *(not_negative(c) for c in ("impressions", "clicks", "sessions", "leads", "new_customers")),
        # the step rates divide one day's counts of different people (a day's MQLs by the
        # day's leads), so only click-through is bounded by 1
        rate("click_through_rate"),
    ],
    "marts.fct_leads_daily": [
        not_negative("leads"),
        rate("lead_to_mql_rate"),
        rate("mql_to_sql_rate"),
        rate("lead_to_customer_rate"),
    ],
    "marts.fct_attribution_credits": [rate("credit"), currency("reporting_currency")],
    "marts.fct_attribution_by_channel": [not_negative("attributed_conversions"), not_negative("attributed_revenue")],
    "marts.fct_customer_retention_cohorts": [rate("retention_rate"), not_negative("revenue")],
    "marts.fct_clv_by_channel": [rate("repeat_customer_rate"), not_negative("revenue_to_date")],
}

MEASURES = {
    "marts.fct_funnel_daily": ["sessions"],
    "marts.fct_leads_daily": ["leads"],
}
