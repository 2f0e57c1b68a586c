"""Checks every load of every stream gets, from its `LoadResult` alone (no Dagster: the
orchestration turns each outcome into an asset check; the outcome says how severe a failure is).

- `load_reconciles` (error): the counts add up, received = loaded + rejected + duplicates +
  conflict copies (`LoadResult.reconciles`). A load that loses or invents records is a bug.
- `reject_share` (error over the threshold): the share of received records rejected (a missing
  key, a value that does not convert). A few bad records are the platform's; a large share means
  the API or the stream declaration changed, and the marts would be built on a fraction of the day.
- `conflicts` (warning; error over the threshold): keys that came in more than one version in one
  load. The last copy read is loaded and every version is kept in raw._rejects (kind 'conflict'),
  so a few are worth a look, not a stop; many mean the declared key is not the record's key.

The threshold is a share in [0, 1]: `SKW_REJECT_THRESHOLD` for every stream (default 0.05), and
`SKW_REJECT_THRESHOLDS` for some streams, as `source/stream=share` pairs separated by commas
(`meta_ads/ads_insights=0.2,x/posts=0`). The same threshold applies to the conflict share.

A failed check names the offending records when given them (`load_samples`, read from
raw._rejects): a rejected record's line and reason (the field and its value), and for a conflict
the key, and each field whose value differs between the versions with both values. Values of
fields that hold people's data are masked (`masked(field)`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from warehouse.loader import LoadResult
from warehouse.settings import REJECT_THRESHOLD_VAR, REJECT_THRESHOLDS_VAR, Settings

ERROR, WARNING = "error", "warning"

DEFAULT_REJECT_THRESHOLD = 0.05


@dataclass(frozen=True)
class CheckOutcome:
    """One check's result. `severity` is what a failure means (an error blocks what is built
    from the asset, a warning shows); a passed check carries it too, as Dagster's checks do.
    `rows` holds the offending rows (for a reconciliation: what was expected and what was got)."""

    check: str
    asset: str
    partition: str | None
    passed: bool
    severity: str
    message: str
    observed: Mapping[str, Any] = field(default_factory=dict)
    rows: tuple[Mapping[str, Any], ...] = ()

    @property
    def failed_error(self) -> bool:
        return not self.passed and self.severity == ERROR


class ThresholdError(ValueError):
    """A threshold setting that cannot be read: the message names the variable and the value."""


def _share(name: str, value: str) -> float:
    try:
        share = float(value)
    except ValueError:
        raise ThresholdError(f"{name}={value!r}: expected a share between 0 and 1, e.g. 0.05") from None
    if not 0 <= share <= 1:
        raise ThresholdError(f"{name}={value!r}: a share must be between 0 and 1 (0.05 is 5%)")
    return share


@dataclass(frozen=True)
class RejectThresholds:
    """The reject (and conflict) share over which a stream's load is an error."""

    default: float = DEFAULT_REJECT_THRESHOLD
    per_stream: Mapping[str, float] = field(default_factory=dict)  # "source/stream" -> share

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RejectThresholds:
        """From the project's settings (read in warehouse/settings.py, like every variable)."""
        settings = Settings.from_env(environ)
        default = settings.reject_threshold
        per_stream = {}
        for entry in filter(None, (e.strip() for e in settings.reject_thresholds.split(","))):
            stream, sep, value = entry.partition("=")
            stream = stream.strip()
            if not sep or stream.count("/") != 1 or not all(stream.split("/")):
                raise ThresholdError(
                    f"{REJECT_THRESHOLDS_VAR}: {entry!r} is not source/stream=share (e.g. meta_ads/ads_insights=0.2)"
                )
            per_stream[stream] = _share(f"{REJECT_THRESHOLDS_VAR} ({stream})", value.strip())
        return cls(_share(REJECT_THRESHOLD_VAR, default) if default else DEFAULT_REJECT_THRESHOLD, per_stream)

    def for_table(self, table: str) -> float:
        """The threshold of a raw table (`raw.<source>__<stream>`)."""
        return self.per_stream.get(stream_key(table), self.default)


def stream_key(table: str) -> str:
    """`source/stream` of a raw table name `raw.<source>__<stream>`."""
    name = table.split(".", 1)[-1]
    source, _, stream = name.partition("__")
    return f"{source}/{stream}"


def check_load(
    result: LoadResult,
    reject_threshold: float | None = None,
    samples: Mapping[str, list[Mapping[str, Any]]] | None = None,
) -> list[CheckOutcome]:
    """The load checks of one load (see the module docstring). `reject_threshold`: the share
    over which rejects or conflicts are an error; None reads it from the environment. `samples`:
    the load's offending records by kind ('invalid', 'conflict'), as `load_samples` reads them."""
    threshold = RejectThresholds.from_env().for_table(result.table) if reject_threshold is None else reject_threshold
    if not 0 <= threshold <= 1:
        raise ThresholdError(f"reject threshold {threshold!r} for {result.table}: a share must be between 0 and 1")
    samples = samples or {}
    return [
        _reconciles(result),
        _reject_share(result, threshold, tuple(samples.get("invalid", ()))),
        _conflicts(result, threshold, tuple(samples.get("conflict", ()))),
    ]


# How many offending records a failed load check shows.
SAMPLES = 5
MASK = "<masked>"
_FIELD = re.compile(r"field ([\w.\[\]$]+)")


def load_samples(
    con,
    table: str,
    since: datetime,
    masked: Callable[[str], bool] = lambda field: False,
    limit: int = SAMPLES,
) -> dict[str, list[dict[str, Any]]]:
    """A few of a load's offending records, by kind, from raw._rejects: the rejects of `table`
    (`raw.<source>__<stream>`) written at or after `since` (the load's start). An invalid record
    as its partition, line and reason (the loader's reason names the field and its value; the
    value is masked when `masked(field)`); a conflict as its key and each field whose value
    differs between the versions, with the values of every version (masked likewise)."""
    source, _, stream = table.split(".", 1)[-1].partition("__")
    exists = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'raw' and table_name = '_rejects'"
    ).fetchall()[0][0]
    if not exists:
        return {}
    out: dict[str, list[dict[str, Any]]] = {}
    invalid = con.execute(
        """select partition, line, reason from raw._rejects
           where source = ? and stream = ? and rejected_at >= ? and coalesce(kind, 'invalid') = 'invalid'
           order by partition, source_file, line limit ?""",
        [source, stream, since, limit],
    ).fetchall()
    if invalid:
        out["invalid"] = [
            {"partition": p, "line": line, "reason": _mask_reason(reason, masked)} for p, line, reason in invalid
        ]
    copies = con.execute(
        """select reason, record from raw._rejects
           where source = ? and stream = ? and rejected_at >= ? and kind = 'conflict'
             and reason in (select distinct reason from raw._rejects
                            where source = ? and stream = ? and rejected_at >= ? and kind = 'conflict'
                            order by reason limit ?)
           order by reason, source_file, line""",
        [source, stream, since, source, stream, since, limit],
    ).fetchall()
    by_key: dict[str, list[dict]] = {}
    for reason, record in copies:
        by_key.setdefault(reason, []).append(json.loads(record) if record else {})
    if by_key:
        out["conflict"] = [_conflict_sample(reason, versions, masked) for reason, versions in by_key.items()]
    return out


def _mask_reason(reason: str, masked: Callable[[str], bool]) -> str:
    """A reject reason with the value masked when it names a field of people's data."""
    found = _FIELD.search(reason or "")
    if found and masked(found.group(1).split(".")[-1].strip("$[]")):
        return f"field {found.group(1)}: {MASK}"
    return reason


def _conflict_sample(reason: str, versions: list[dict], masked: Callable[[str], bool]) -> dict[str, Any]:
    """A conflicting key: the loader's reason (key values, lines) and the fields that differ."""
    fields = sorted({k for v in versions for k in v})
    differ = {}
    for f in fields:
        values = [v.get(f) for v in versions]
        if any(x != values[0] for x in values[1:]):
            differ[f] = [MASK if masked(f) else x for x in values]
    return {"key": reason, "differs": differ}


def _where(result: LoadResult) -> str:
    return f"{result.table} {result.partition} (load {result.load_id})"


def _counts(result: LoadResult, *names: str) -> dict[str, int]:
    return {n: getattr(result, n) for n in names}


def _reconciles(result: LoadResult) -> CheckOutcome:
    observed = _counts(
        result, "received", "loaded", "rejected", "duplicates", "conflict_copies", "inserted", "updated", "unchanged"
    )
    if result.reconciles():
        message = (
            f"{_where(result)}: {result.received} received = {result.loaded} loaded + {result.rejected} "
            f"rejected + {result.duplicates} duplicates + {result.conflict_copies} conflicting copies"
        )
        return CheckOutcome("load_reconciles", result.table, result.partition, True, ERROR, message, observed)
    accounted = result.loaded + result.rejected + result.duplicates + result.conflict_copies
    message = (
        f"{_where(result)} does not reconcile: {result.received} received, but {result.loaded} loaded + "
        f"{result.rejected} rejected + {result.duplicates} duplicates + {result.conflict_copies} conflicting "
        f"copies = {accounted}; and {result.loaded} loaded against {result.inserted} inserted + "
        f"{result.updated} updated + {result.unchanged} unchanged"
    )
    return CheckOutcome("load_reconciles", result.table, result.partition, False, ERROR, message, observed)


def _reject_share(result: LoadResult, threshold: float, samples: tuple = ()) -> CheckOutcome:
    share = result.rejected / result.received if result.received else 0.0
    passed = share <= threshold
    observed = {**_counts(result, "received", "rejected"), "reject_share": round(share, 4), "threshold": threshold}
    verdict = "within" if passed else "over"
    message = (
        f"{_where(result)}: {result.rejected} of {result.received} records rejected (share {share:.2%}, "
        f"{verdict} the threshold {threshold:.2%} of {stream_key(result.table)})"
    )
    if result.rejected:
        message += "; raw._rejects has each record's line and reason (kind 'invalid')"
    if samples:
        first = samples[0]
        message += f"; e.g. partition {first['partition']} line {first['line']}: {first['reason']}"
    return CheckOutcome("reject_share", result.table, result.partition, passed, ERROR, message, observed, samples)


def _conflicts(result: LoadResult, threshold: float, samples: tuple = ()) -> CheckOutcome:
    share = result.conflicts / result.loaded if result.loaded else 0.0
    observed = {
        **_counts(result, "loaded", "conflicts", "conflict_copies"),
        "conflict_share": round(share, 4),
        "threshold": threshold,
    }
    if not result.conflicts:
        return CheckOutcome(
            "conflicts",
            result.table,
            result.partition,
            True,
            WARNING,
            f"{_where(result)}: no key came in more than one version",
            observed,
        )
    severity = ERROR if share > threshold else WARNING
    message = (
        f"{_where(result)}: {result.conflicts} key(s) came in more than one version "
        f"({result.conflicts} of {result.loaded} rows loaded, {share:.2%}; threshold {threshold:.2%}); "
        f"the last copy of each was loaded and every version is in raw._rejects (kind 'conflict')"
    )
    if samples:
        first = samples[0]
        differs = "; ".join(
            f"{f} " + " vs ".join(json.dumps(v, default=str) for v in values) for f, values in first["differs"].items()
        )
        message += f"; e.g. {first['key']}" + (f": {differs}" if differs else "")
    return CheckOutcome("conflicts", result.table, result.partition, False, severity, message, observed, samples)
