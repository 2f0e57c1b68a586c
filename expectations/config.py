"""The marketing team's configuration files (campaigns, FX rates, rosters, goals, experiments)
and the marts built on them alone (scorecard, experiments, partners).

A mistake in a configuration file reaches every mart at once, so these rules are errors: a
campaign's UTM must be well formed or no session joins it; an FX rate must be above zero.
"""

from expectations.paid import currency
from expectations.reference import SOCIAL_PLATFORMS, UTM_VALUE
from expectations.rules import at_least_one_row, between, in_set, matches, not_negative, rate, where

RULES = {
    "raw.team_config__campaigns": [
        at_least_one_row(),
        matches(
            "utm_campaign",
            UTM_VALUE,
            name="utm_campaign_format",
            description="utm_campaign is lower-case letters and digits joined by _, - or .",
        ),
        not_negative("daily_budget_eur"),
        not_negative("budget_eur"),
        where(
            "starts_before_it_ends",
            "end_date",
            "end_date < start_date",
            "start_date <= end_date",
            show=("campaign_key", "start_date", "end_date"),
        ),
    ],
    "raw.team_config__fx_rates": [
        at_least_one_row(),
        currency("base"),
        currency("currency"),
        where("rate_positive", "rate", "rate <= 0", "rate is above 0", show=("date", "currency", "rate")),
    ],
    "raw.team_config__goals": [at_least_one_row(), in_set("direction", ("higher", "lower"))],
    "raw.team_config__kpi_registry": [at_least_one_row(), in_set("direction", ("higher", "lower"))],
    "raw.team_config__competitors": [at_least_one_row()],
    "raw.team_config__influencers": [
        in_set("platform", SOCIAL_PLATFORMS),
        not_negative("fee_eur"),
        not_negative("followers"),
    ],
    "raw.team_config__employees": [in_set("platform", SOCIAL_PLATFORMS)],
    "raw.team_config__experiments": [
        between("alpha", 0, 1, name="alpha_in_0_1"),
        between("power", 0, 1, name="power_in_0_1"),
    ],
    "marts.fct_ab_test_results": [rate("p_value"), rate("conversion_rate"), not_negative("exposures")],
    "marts.fct_influencer_impact": [not_negative("cost"), not_negative("sessions"), currency("cost_currency")],
    "marts.fct_employee_advocacy": [not_negative("cost"), not_negative("sessions")],
}

MEASURES: dict[str, list[str]] = {}
