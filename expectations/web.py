"""Web analytics: GA4 in raw and the web, social traffic and UTM hygiene marts.

UTMs: the team's own campaign list must be well formed (an error: see config.py); what
visitors' links carry in GA4 is measured by the UTM hygiene marts, so a badly tagged campaign
there is a warning, not a reason to stop the run.
"""

from expectations.paid import currency
from expectations.reference import UTM_OR_GA4_LABEL
from expectations.rules import WARNING, matches, not_negative, rate, where

RULES = {
    "raw.ga4__analytics_report": [
        matches("date", r"\d{8}", description="date is GA4's YYYYMMDD"),
        matches("property_id", r"\d+", description="property_id is GA4's numeric property id"),
        not_negative("sessions"),
        not_negative("engagedSessions"),
        not_negative("totalRevenue"),
        where(
            "engaged_within_sessions",
            "engagedSessions",
            '"engagedSessions" > sessions',
            "engaged sessions do not exceed sessions",
            show=("date", "sessions", "engagedSessions"),
        ),
        currency("currency_code"),
        matches(
            "sessionCampaignName",
            UTM_OR_GA4_LABEL,
            WARNING,
            "utm_campaign_format",
            "utm_campaign is lower-case words joined by _ or - (or GA4's own label)",
        ),
        matches(
            "sessionMedium",
            UTM_OR_GA4_LABEL,
            WARNING,
            "utm_medium_format",
            "utm_medium is lower-case words joined by _ or - (or GA4's own label)",
        ),
    ],
    "marts.fct_web_traffic_daily": [
        not_negative("sessions"),
        not_negative("revenue"),
        rate("engagement_rate"),
        currency("currency"),
        currency("reporting_currency"),
    ],
    "marts.fct_social_traffic_daily": [
        not_negative("social_sessions"),
        rate("paid_engagement_rate"),
        rate("organic_engagement_rate"),
        rate("paid_share_of_sessions"),
        currency("currency"),
    ],
    "marts.fct_utm_hygiene_daily": [rate("missing_utm_share"), rate("malformed_utm_share"), rate("broken_utm_share")],
    "marts.fct_utm_hygiene_by_campaign": [rate("share_of_platform_social_sessions")],
}

MEASURES = {
    "raw.ga4__analytics_report": ["sessions"],
    "marts.fct_web_traffic_daily": ["sessions"],
}
