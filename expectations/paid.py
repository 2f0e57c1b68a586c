"""Paid media: Meta, Google and LinkedIn Ads, raw and the campaign marts.

Money must be a number, never negative, in an ISO currency: a spend that does not parse turns
into a null in staging and drops out of every total; a negative one lowers it.
"""

from expectations.reference import ISO_CURRENCIES
from expectations.rules import WARNING, in_set, matches, not_negative, number_text, rate, where

INTEGER_TEXT = r"\d+"


def spend_text_not_negative(column: str):
    """A spend sent as text (Meta, LinkedIn) is not below zero."""
    return where(f"{column}_not_negative", column, f"try_cast({column} as double) < 0", f"{column} is not negative")


def currency(column: str):
    return in_set(column, ISO_CURRENCIES, name=f"{column}_iso_4217", description=f"{column} is an ISO 4217 currency")


RULES = {
    "raw.meta_ads__ads_insights": [
        number_text("spend"),
        spend_text_not_negative("spend"),
        matches("impressions", INTEGER_TEXT),
        matches("clicks", INTEGER_TEXT),
        currency("account_currency"),
        where(
            "clicks_within_impressions",
            "clicks",
            "try_cast(clicks as bigint) > try_cast(impressions as bigint)",
            "clicks do not exceed impressions",
            WARNING,
            show=("ad_id", "impressions", "clicks"),
        ),
    ],
    "raw.meta_ads__ad_accounts": [currency("currency")],
    "raw.google_ads__ad_group_daily": [
        not_negative("cost_micros"),
        not_negative("impressions"),
        not_negative("clicks"),
        not_negative("conversions"),
        currency("currency_code"),
    ],
    "raw.google_ads__customer_daily": [
        not_negative("cost_micros"),
        not_negative("impressions"),
        not_negative("clicks"),
        currency("currency_code"),
    ],
    "raw.google_ads__customers": [currency("currency_code")],
    "raw.linkedin__ad_analytics_by_campaign": [
        number_text("cost_in_local_currency"),
        spend_text_not_negative("cost_in_local_currency"),
        not_negative("impressions"),
        not_negative("clicks"),
    ],
    "raw.linkedin__ad_accounts": [currency("currency")],
    "raw.linkedin__ad_campaigns": [currency("daily_budget_currency")],
    "marts.fct_campaign_performance_daily": [
        not_negative("spend"),
        not_negative("spend_reporting"),
        not_negative("impressions"),
        not_negative("clicks"),
        currency("currency"),
        currency("reporting_currency"),
        rate("ctr"),
        where("fx_rate_positive", "fx_rate", "fx_rate <= 0", "fx_rate is above 0"),
    ],
    "marts.fct_paid_performance_daily": [
        not_negative("spend"),
        not_negative("impressions"),
        not_negative("clicks"),
        currency("currency"),
        rate("ctr"),
    ],
    "marts.fct_campaign_roi_daily": [
        not_negative("spend_reporting"),
        not_negative("new_customers"),
        not_negative("leads"),
        currency("reporting_currency"),
    ],
}

# Main measures: each day's total against the days before it (a warning).
MEASURES = {
    "raw.google_ads__ad_group_daily": ["cost_micros"],
    "marts.fct_campaign_performance_daily": ["spend_reporting", "impressions"],
}
