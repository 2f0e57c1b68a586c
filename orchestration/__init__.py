"""Dagster definitions: thin glue over extractors/, warehouse/ and expectations/.

Importing any module here changes nothing outside it: no environment variable is written and
no process is started. The run-time policy (telemetry off, where the warehouse is) lives in
warehouse/settings.py and is applied where a process starts: `orchestration/run.py` (`make
run`), the code location Dagster loads (`orchestration/definitions.py`), and the environment
each dbt process is given (`orchestration/assets/dbt.py`).
"""
