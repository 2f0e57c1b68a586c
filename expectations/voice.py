"""Voice of the market: listening and X mentions in raw, and the sentiment, share of voice,
crisis and UGC marts. Sentiment scores lie in [-1, 1], shares in [0, 1]."""

from expectations.reference import AUTHOR_TYPES, LISTENING_PLATFORMS
from expectations.rules import WARNING, in_set, matches, not_negative, rate, score

RULES = {
    "raw.listening__mentions": [
        in_set("platform", LISTENING_PLATFORMS, WARNING, name="platform_known"),
        in_set("author_type", AUTHOR_TYPES, name="author_type_known"),
        matches("language", r"[a-z]{2}", description="language is an ISO 639-1 code"),
        not_negative("reach"),
        not_negative("likes"),
    ],
    "raw.x__mentions": [not_negative("like_count"), not_negative("impression_count")],
    "raw.x__mention_counts": [not_negative("tweet_count")],
    "marts.fct_sentiment_daily": [
        score("net_sentiment"),
        score("average_score"),
        score("net_sentiment_7d"),
        score("net_sentiment_28d"),
        rate("brand_health"),
    ],
    "marts.fct_share_of_voice_daily": [rate("share_of_mentions"), rate("share_of_engagement")],
    "marts.fct_negative_mentions_daily": [rate("negative_share"), not_negative("negative_mentions")],
    "marts.fct_crises": [not_negative("duration_days"), not_negative("minutes_to_first_reply")],
    "marts.fct_ugc_vs_brand_daily": [score("avg_sentiment_score"), score("net_sentiment"), not_negative("items")],
    "marts.fct_competitor_benchmark": [not_negative("mentions"), not_negative("followers")],
}

MEASURES = {
    "raw.listening__mentions": ["reach"],
    "marts.fct_sentiment_daily": ["texts"],
}
