"""Great Expectations suite for the raw Meta ad insights table.

dbt tests guard the typed models; this suite guards the raw landing table, where the API's
string numbers are still strings: a value that would turn into a null in staging fails here.
"""

from __future__ import annotations

DECIMAL = r"^-?\d+(\.\d+)?$"
INTEGER = r"^\d+$"
KEY = ["date_start", "account_id", "ad_id"]


def ads_insights_expectations() -> list:
    import great_expectations.expectations as gxe  # lazy: GX takes seconds to import

    return [
        gxe.ExpectTableRowCountToBeBetween(min_value=1),
        *[gxe.ExpectColumnValuesToNotBeNull(column=c) for c in (*KEY, "campaign_id", "spend", "account_currency")],
        gxe.ExpectCompoundColumnsToBeUnique(column_list=KEY),
        gxe.ExpectColumnValuesToMatchRegex(column="spend", regex=DECIMAL),
        gxe.ExpectColumnValuesToMatchRegex(column="impressions", regex=INTEGER),
        gxe.ExpectColumnValuesToMatchRegex(column="clicks", regex=INTEGER),
        gxe.ExpectColumnValuesToMatchRegex(column="account_currency", regex=r"^[A-Z]{3}$"),
        gxe.ExpectColumnValuesToMatchRegex(column="date_start", regex=r"^\d{4}-\d{2}-\d{2}$"),
    ]


# The columns the suite reads: fetch only these from the warehouse.
COLUMNS = ["date_start", "account_id", "ad_id", "campaign_id", "spend", "impressions", "clicks", "account_currency"]
