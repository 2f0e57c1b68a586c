"""Validate a pandas frame (fetched from DuckDB) against a list of GX 1.x expectations.

Why a frame and not GX's SQL datasource: on DuckDB, GX 1.x's SQL path closes the
connection before the result is fetched and returns nothing, and it ignores the schema of
table assets (see ../shared/docs/stack-notes.md). A frame also releases DuckDB's file lock
before validation starts. GX is imported lazily: it costs about 4 s.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

# Nothing calls out at run time, whatever the user's shell says.
os.environ["GX_ANALYTICS_ENABLED"] = "false"


@dataclass
class SuiteResult:
    suite: str
    success: bool
    rows: int
    evaluated: int
    failed: list[dict[str, Any]] = field(default_factory=list)

    def as_metadata(self) -> dict[str, Any]:
        return {"suite": self.suite, "rows": self.rows, "expectations": self.evaluated,
                "failed_expectations": len(self.failed), "failures": self.failed[:20]}


def _context():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.enable_analytics(False)
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def validate_frame(suite_name: str, frame, expectations: list) -> SuiteResult:
    """Run `expectations` on `frame`; failures carry the expectation, column and sample bad values."""
    import great_expectations as gx

    context = _context()
    source = context.data_sources.add_pandas(f"{suite_name}_source")
    asset = source.add_dataframe_asset(name=suite_name)
    batch = asset.add_batch_definition_whole_dataframe("whole").get_batch(
        batch_parameters={"dataframe": frame})
    suite = gx.ExpectationSuite(name=suite_name, expectations=[e.copy() for e in expectations])
    result = batch.validate(suite, result_format="SUMMARY")
    failed = []
    for r in result.results:
        if r.success:
            continue
        cfg = r.expectation_config
        res = r.result or {}
        failed.append({"expectation": cfg.type, "kwargs": {k: v for k, v in cfg.kwargs.items() if k != "batch_id"},
                       "unexpected_count": res.get("unexpected_count"),
                       "sample": [str(v) for v in (res.get("partial_unexpected_list") or [])[:5]],
                       "observed": str(res.get("observed_value")) if "observed_value" in res else None,
                       "error": (r.exception_info or {}).get("exception_message")})
    return SuiteResult(suite_name, bool(result.success), len(frame), len(result.results), failed)
