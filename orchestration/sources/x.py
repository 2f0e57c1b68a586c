"""X API v2: the brand's posts and their metrics, its accounts, mentions and mention counts."""

from typing import ClassVar

from pydantic import Field, SecretStr

from extractors import x
from extractors.x import (
    DEFAULT_MENTION_FIELDS,
    DEFAULT_METRIC_FIELDS,
    DEFAULT_POST_FIELDS,
    DEFAULT_USER_FIELDS,
    XClient,
)
from orchestration.assets.streams import stream_asset
from orchestration.resources import Ids, SourceEnvironment, SourceResource, SourceSettings

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


class XSettings(SourceSettings):
    SOURCE: ClassVar[str] = RESOURCE_KEY

    base_url: str = Field(alias="X_BASE_URL", description="e.g. https://api.x.com")
    bearer_token: SecretStr = Field(alias="X_BEARER_TOKEN", description="app-only: search and counts")
    user_access_token: SecretStr = Field(
        default=SecretStr(""),
        alias="X_USER_ACCESS_TOKEN",
        description="user context: non-public metrics; without it posts are read without them (and the run says so)",
    )
    user_ids: Ids = Field(alias="X_USER_IDS", description="comma-separated ids of the brand's accounts")
    listening_query: str = Field(alias="X_LISTENING_QUERY", description="the brand's recent-search query")
    competitor_queries: str = Field(
        default="",
        alias="X_COMPETITOR_QUERIES",
        description="`name=query;...`; unset: the resource's `competitor_queries`",
    )


class XResource(SourceResource):
    """X API v2 (settings: XSettings)."""

    SETTINGS: ClassVar[type[SourceSettings]] = XSettings
    post_fields: list[str] = Field(
        default=list(DEFAULT_POST_FIELDS),
        description="tweet.fields of the posts stream. A field X retires fails the request: remove it here.",
    )
    metric_fields: list[str] = Field(
        default=list(DEFAULT_METRIC_FIELDS),
        description="tweet.fields of the daily post-metric snapshots (metric groups). "
        "A retired one fails the request: remove it here.",
    )
    mention_fields: list[str] = Field(
        default=list(DEFAULT_MENTION_FIELDS), description="tweet.fields of mentions (recent search)."
    )
    user_fields: list[str] = Field(default=list(DEFAULT_USER_FIELDS), description="user.fields of the accounts.")
    metrics_lookback_days: int = Field(
        default=28, description="Posts published in this many days up to the snapshot day get a metrics snapshot."
    )
    brand_query_name: str = Field(default="brand", description="query_name of X_LISTENING_QUERY's rows")
    competitor_queries: dict[str, str] = Field(
        default=dict(DEFAULT_COMPETITOR_QUERIES),
        description="query_name -> X search query, used when X_COMPETITOR_QUERIES is unset",
    )
    page_size: int = Field(default=100, description="Posts per timeline page (5-100)")
    search_page_size: int = Field(default=100, description="Posts per recent-search page (10-100)")

    def make_client(self, s: XSettings) -> XClient:
        queries = {self.brand_query_name: s.listening_query}
        queries.update(parse_queries(s.competitor_queries) or self.competitor_queries)
        return XClient(
            s.base_url,
            s.bearer_token.get_secret_value(),
            s.user_access_token.get_secret_value(),
            user_ids=list(s.user_ids),
            queries=queries,
            post_fields=self.post_fields,
            metric_fields=self.metric_fields,
            mention_fields=self.mention_fields,
            user_fields=self.user_fields,
            metrics_lookback_days=self.metrics_lookback_days,
            page_size=self.page_size,
            search_page_size=self.search_page_size,
            retry=self.retry_policy(),
        )


def resource(environment: SourceEnvironment) -> XResource:
    return XResource(environment=environment)


ASSETS = [stream_asset(s, RESOURCE_KEY) for s in x.STREAMS]
CHECKS: list = []
