"""The GX suite passes good raw rows and fails bad ones, naming the column and values."""

from __future__ import annotations

import pandas as pd
import pytest

from expectations.meta_ads import COLUMNS, ads_insights_expectations
from expectations.runner import validate_frame


def frame(**overrides):
    base = {"date_start": ["2026-06-01", "2026-06-01"], "account_id": ["1", "1"], "ad_id": ["a", "b"],
            "campaign_id": ["c", "c"], "spend": ["1.23", "0"], "impressions": ["10", "0"],
            "clicks": ["1", "0"], "account_currency": ["EUR", "EUR"]}
    base.update(overrides)
    return pd.DataFrame(base)[COLUMNS]


def test_good_rows_pass():
    result = validate_frame("t", frame(), ads_insights_expectations())
    assert result.success and result.failed == [] and result.evaluated >= 10


@pytest.mark.parametrize("overrides, column", [
    ({"spend": ["1.23", "12,50"]}, "spend"),
    ({"impressions": ["10", "1e3"]}, "impressions"),
    ({"account_currency": ["EUR", "euro"]}, "account_currency"),
    ({"ad_id": ["a", None]}, "ad_id"),
])
def test_bad_values_fail_naming_the_column(overrides, column):
    result = validate_frame("t", frame(**overrides), ads_insights_expectations())
    assert not result.success
    assert [f["kwargs"].get("column") for f in result.failed] == [column]


def test_duplicate_keys_fail():
    result = validate_frame("t", frame(ad_id=["a", "a"]), ads_insights_expectations())
    assert [f["expectation"] for f in result.failed] == ["expect_compound_columns_to_be_unique"]


def test_empty_table_fails():
    result = validate_frame("t", frame().iloc[0:0], ads_insights_expectations())
    assert not result.success
