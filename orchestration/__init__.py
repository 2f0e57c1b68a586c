"""Dagster definitions: thin glue over extractors/, warehouse/ and expectations/.

Importing this package applies the project's run-time policy, whatever the user's shell
says: no usage telemetry from Dagster, dbt or Great Expectations, and the warehouse path
that dbt's profile reads.
"""

import os

from warehouse.settings import Settings

os.environ["DAGSTER_DISABLE_TELEMETRY"] = "1"
os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
os.environ["DO_NOT_TRACK"] = "1"
os.environ["GX_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("SKW_WAREHOUSE_PATH", str(Settings.from_env().warehouse_path))
