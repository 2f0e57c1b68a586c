"""Organic social: Facebook, Instagram, X, LinkedIn and YouTube in raw, and the channel, post,
content and audience marts. Counts the platforms report are never negative."""

from expectations.rules import between, in_set, matches, not_negative, rate

URL = r"https?://\S+"

RULES = {
    "raw.facebook__page_followers": [not_negative("followers_count")],
    "raw.facebook__posts": [
        matches("permalink_url", URL),
        not_negative("shares_count"),
        not_negative("reactions_total"),
        not_negative("comments_total"),
    ],
    "raw.facebook__comments": [not_negative("like_count")],
    "raw.instagram__account_followers": [not_negative("followers_count"), not_negative("media_count")],
    "raw.instagram__media": [
        matches("permalink", URL),
        not_negative("like_count"),
        not_negative("comments_count"),
        in_set("media_type", ("IMAGE", "VIDEO", "CAROUSEL_ALBUM")),
    ],
    "raw.instagram__follower_demographics": [
        not_negative("value"),
        in_set("breakdown", ("age", "gender", "country", "city")),
    ],
    "raw.x__users": [not_negative("followers_count")],
    "raw.x__post_metrics": [not_negative("impression_count"), not_negative("like_count")],
    "raw.linkedin__share_statistics": [not_negative("impression_count"), not_negative("click_count")],
    "raw.linkedin__network_size": [not_negative("first_degree_size")],
    "raw.youtube__channel_analytics_daily": [not_negative("views"), not_negative("estimatedMinutesWatched")],
    "raw.youtube__video_analytics_daily": [not_negative("views")],
    "raw.youtube__audience_age_gender": [between("viewer_percentage", 0, 100, name="viewer_percentage_in_0_100")],
    "raw.youtube__audience_country": [matches("country", r"[A-Z]{2}", description="country is ISO 3166 alpha-2")],
    "marts.fct_channel_performance_daily": [
        not_negative("impressions"),
        not_negative("engagements"),
        not_negative("followers"),
        rate("ctr"),
        rate("impressions_share"),
        rate("engagements_share"),
    ],
    "marts.fct_post_performance": [
        not_negative("impressions"),
        not_negative("engagements"),
        rate("ctr"),
    ],
    "marts.fct_content_performance": [not_negative("posts"), rate("ctr")],
    "marts.fct_audience_demographics_daily": [rate("share"), not_negative("audience_count")],
}

MEASURES = {
    "marts.fct_channel_performance_daily": ["impressions"],
}
