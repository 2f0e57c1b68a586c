"""X API v2: the brand's posts and their metrics, its accounts, mentions and mention counts."""

from typing import ClassVar

from pydantic import Field

from extractors import x
from extractors.x import (DEFAULT_MENTION_FIELDS, DEFAULT_METRIC_FIELDS, DEFAULT_POST_FIELDS, DEFAULT_USER_FIELDS,
                          XClient)
from orchestration.assets.streams import stream_asset
from orchestration.resources import SourceResource

RESOURCE_KEY = "x"

# The competitor set of config/competitors.csv, as X recent-search queries.
DEFAULT_COMPETITOR_QUERIES = {
    "brightwave": "(Brightwave OR @brightwave) -is:retweet",
    "solenne": "(Solenne OR @solenne) -is:retweet",
    "kintsu": "(Kintsu OR @kintsu) -is:retweet",
}


def parse_queries(value: str) -> dict[str, str]:
    """`name=query;name=query` (a query may hold `=` after the first one)."""
    out = {}
    for part in value.split(";"):
        name, sep, query = part.partition("=")
        if sep and name.strip() and query.strip():
            out[name.strip()] = query.strip()
    return out


class XResource(SourceResource):
    """X API v2: X_BASE_URL, X_BEARER_TOKEN (app-only: search, counts), X_USER_ACCESS_TOKEN
    (user context: non-public metrics), X_USER_IDS, X_LISTENING_QUERY (the brand query);
    optional X_COMPETITOR_QUERIES (`name=query;...`, else `competitor_queries`)."""

    BASE_URL_VAR: ClassVar[str] = "X_BASE_URL"
    post_fields: list[str] = Field(default=list(DEFAULT_POST_FIELDS),
                                   description="tweet.fields of the posts stream. A field X retires fails the "
                                               "request: remove it here.")
    metric_fields: list[str] = Field(default=list(DEFAULT_METRIC_FIELDS),
                                     description="tweet.fields of the daily post-metric snapshots (metric groups). "
                                                 "A retired one fails the request: remove it here.")
    mention_fields: list[str] = Field(default=list(DEFAULT_MENTION_FIELDS),
                                      description="tweet.fields of mentions (recent search).")
    user_fields: list[str] = Field(default=list(DEFAULT_USER_FIELDS), description="user.fields of the accounts.")
    metrics_lookback_days: int = Field(default=28, description="Posts published in this many days up to the "
                                                               "snapshot day get a metrics snapshot.")
    brand_query_name: str = Field(default="brand", description="query_name of X_LISTENING_QUERY's rows")
    competitor_queries: dict[str, str] = Field(default=dict(DEFAULT_COMPETITOR_QUERIES),
                                               description="query_name -> X search query, used when "
                                                           "X_COMPETITOR_QUERIES is unset")
    page_size: int = Field(default=100, description="Posts per timeline page (5-100)")
    search_page_size: int = Field(default=100, description="Posts per recent-search page (10-100)")

    def client(self) -> XClient:
        s = self.settings("X_BASE_URL", "X_BEARER_TOKEN", "X_USER_ACCESS_TOKEN", "X_USER_IDS", "X_LISTENING_QUERY",
                          "X_COMPETITOR_QUERIES")
        queries = {self.brand_query_name: s["X_LISTENING_QUERY"]} if s["X_LISTENING_QUERY"] else {}
        queries.update(parse_queries(s["X_COMPETITOR_QUERIES"]) or self.competitor_queries)
        return XClient(s["X_BASE_URL"], s["X_BEARER_TOKEN"], s["X_USER_ACCESS_TOKEN"],
                       user_ids=self.ids(s["X_USER_IDS"]), queries=queries, post_fields=self.post_fields,
                       metric_fields=self.metric_fields, mention_fields=self.mention_fields,
                       user_fields=self.user_fields, metrics_lookback_days=self.metrics_lookback_days,
                       page_size=self.page_size, search_page_size=self.search_page_size)


def resource(fakes) -> XResource:
    return XResource(fakes=fakes)


ASSETS = [stream_asset(s, RESOURCE_KEY) for s in x.STREAMS]
CHECKS: list = []
