"""Social care: conversations, messages and CSAT surveys in raw, and the care and feedback marts."""

from expectations.rules import between, not_negative, rate, score

RULES = {
    "raw.facebook__conversations": [not_negative("message_count")],
    "raw.instagram__conversations": [not_negative("message_count")],
    "raw.survey__responses": [
        between("csat_score", 1, 5, name="csat_score_in_1_5", description="csat_score is an answer on the 1-5 scale")
    ],
    "marts.fct_care_responses": [
        not_negative("minutes_to_first_reply"),
        not_negative("business_minutes_to_first_reply"),
    ],
    "marts.fct_care_weekly": [
        rate("response_rate"),
        rate("response_rate_in_business_hours"),
        not_negative("inbound_items"),
    ],
    "marts.fct_care_unanswered_queue": [not_negative("age_hours")],
    "marts.fct_csat": [rate("csat"), not_negative("responses")],
    "marts.fct_feedback_daily": [score("net_sentiment"), score("mean_sentiment_score"), rate("negative_share")],
    "marts.fct_feedback_themes": [score("net_sentiment"), rate("negative_share")],
    "marts.fct_negative_feedback_queue": [score("sentiment_score"), not_negative("age_hours")],
}

MEASURES = {
    "marts.fct_feedback_daily": ["feedback_texts"],
}
