"""The raw tables: which fields of each stream's records become columns, their key, and how
a load writes them. Values stay as the API sent them (string numbers stay VARCHAR); typing
happens in dbt staging, where a bad value is visible rather than a failed load."""

from warehouse.loader import RawTable

META_ADS_INSIGHTS = RawTable(
    source="meta_ads", stream="ads_insights",
    columns={"account_id": "VARCHAR", "account_currency": "VARCHAR", "campaign_id": "VARCHAR",
             "campaign_name": "VARCHAR", "adset_id": "VARCHAR", "ad_id": "VARCHAR",
             "date_start": "DATE", "date_stop": "DATE", "spend": "VARCHAR", "impressions": "VARCHAR",
             "clicks": "VARCHAR", "actions": "JSON", "action_values": "JSON"},
    key=("date_start", "account_id", "ad_id"), partition_column="date_start",
    disposition="replace_partition",
)

META_AD_ACCOUNTS = RawTable(
    source="meta_ads", stream="ad_accounts",
    columns={"account_id": "VARCHAR", "name": "VARCHAR", "currency": "VARCHAR", "timezone_name": "VARCHAR"},
    key=("account_id",), disposition="merge",
)
