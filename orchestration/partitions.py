"""Days are the unit of extraction and of restatement. The first day is a setting
(`SKW_PARTITIONS_START`, warehouse/settings.py) so a deployment with longer history can
backfill it; the assets are declared with it, so it is read when this module is imported."""

from dagster import DailyPartitionsDefinition

from warehouse.settings import Settings

daily_partitions = DailyPartitionsDefinition(start_date=Settings.from_env().partitions_start.isoformat())
