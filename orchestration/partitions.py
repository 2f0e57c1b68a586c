from __future__ import annotations

import os

from dagster import DailyPartitionsDefinition

# Days are the unit of extraction and of restatement. The first day is configurable so a
# deployment with longer history can backfill it.
daily_partitions = DailyPartitionsDefinition(start_date=os.environ.get("SKW_PARTITIONS_START", "2026-01-01"))
