"""Validate warehouse tables with Great Expectations 1.x inside DuckDB, and keep the results.

The plain API (no Dagster here; the asset checks call it):

    validate_table(con_or_path, "raw.meta_ads__ads_insights", days, run_id) -> SuiteResult
    validate_tables(con_or_path, tables or None, days, run_id, data_docs=dir) -> [SuiteResult]
    record_results(con, results)          # rows of quality.check_results
    write_data_docs(dir, run_id)          # GX's static Data Docs of a run
    registry()                            # every suite, each check's severity (expectations/suites.py)

**GX's SQL path on DuckDB.** A table's suite runs as SQL in DuckDB through GX's SQLAlchemy data
source over duckdb-engine: nothing but the failures comes into Python, and only the run's days
are read (`Suite.batch_query`). Its rules are compiled into one GX `UnexpectedRowsExpectation`
(expectations/rules.py says why). What stood in the way, handled here without patching GX:
- GX runs each query in `with engine.connect()` and fetches after the block; leaving the block
  rolls the connection back, and DuckDB drops a connection's open result on any rollback (even
  with SQLAlchemy's `StaticPool` and `pool_reset_on_return=None`, tried: every metric fails with
  "list index out of range"). So the engine is given, through SQLAlchemy's public `creator`
  hook, a duckdb-engine connection whose statements run on a DuckDB cursor of their own
  (`_Connection`): the results live there, and the rollbacks go to another cursor.
- GX's fluent data sources write out the whole context configuration as YAML on every change
  (~20 ms): a session has one query asset, over a temporary view each suite points at its rows.
- GX has no regular expressions or LIKE for the DuckDB dialect: formats use DuckDB's
  `regexp_full_match`.
The warehouse is opened read-only when a path is given, and closed after; a connection given by
the caller (the run's own) is read through cursors of its own and left open.

GX costs ~4 s to import: it is imported once per process, on first use (`prepare()` does it
ahead, e.g. on a thread while a run extracts), and one ephemeral context serves every suite.
Static Data Docs are written by GX's `build_data_docs` (`write_data_docs`): the pages load
Bootstrap, jQuery, Font Awesome and Vega from public CDNs and GX's logo from S3 when viewed;
offline they show every result, unstyled.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from expectations.rules import ERROR, WARNING

RESULTS_TABLE = "quality.check_results"
# One Dagster asset check per severity and table: the error-level one blocks what is built from it.
CHECK_NAMES = {ERROR: "gx_errors", WARNING: "gx_warnings"}

# Raw columns that hold people's data (see tests/test_staging_pii.py): a failure never shows
# their values. Any column whose name says it holds a person or free text is masked as well.
PII_COLUMNS = {
    "raw.hubspot__contacts": {"email", "properties"},
    "raw.hubspot__deals": {"properties"},
    "raw.facebook__comments": {"from_id", "message"},
    "raw.facebook__messages": {"from_id", "message"},
    "raw.facebook__conversations": {"participants", "snippet"},
    "raw.instagram__messages": {"from_id", "message"},
    "raw.instagram__conversations": {"participants", "snippet"},
    "raw.listening__mentions": {"author_id", "author_handle", "text", "url", "links"},
    "raw.x__mentions": {"author_id", "text", "conversation_id"},
    "raw.x__posts": {"text", "in_reply_to_user_id", "entities"},
    "raw.survey__responses": {"csat_comment", "answers_by_ref", "ticket_id", "conversation_id"},
}
_PII_NAMES = re.compile(
    r"email|phone|handle|(^|_)(first|last|full|user|display)_?name$|^name$|text$|message$|snippet|"
    r"caption|comment$|participant|author_id|from_id|_record|^record$|properties|answers|"
    # a record's person as an object (Graph `from`, conversations' `senders`, listening's `author`)
    r"^(from|to|senders?|recipients?|author|customer)$",
    re.I,
)


def is_pii(table: str, column: str | None) -> bool:
    return column is not None and (column in PII_COLUMNS.get(table, ()) or bool(_PII_NAMES.search(column)))


# -- results -----------------------------------------------------------------------------------


@dataclass
class Outcome:
    """One rule's result."""

    check: str
    column: str | None
    severity: str
    passed: bool
    observed: Any = None
    unexpected_count: int | None = None
    sample: list = field(default_factory=list)
    message: str = ""
    error: str | None = None

    def failure(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "column": self.column,
            "severity": self.severity,
            "message": self.message,
            "unexpected_count": self.unexpected_count,
            "sample": self.sample,
            "observed": self.observed,
            "error": self.error,
        }


@dataclass
class CheckResult:
    """One row of quality.check_results: a table's expectations of one severity."""

    check: str
    asset: str
    table: str
    partition: str | None
    run_id: str
    severity: str
    passed: bool
    observed: dict[str, Any]
    failed_expectations: list[dict[str, Any]]
    checked_at: datetime


@dataclass
class SuiteResult:
    suite: str
    success: bool
    rows: int
    evaluated: int
    failed: list[dict[str, Any]] = field(default_factory=list)
    asset: str = ""
    partition: str | None = None
    run_id: str = ""
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0
    checked_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def blocking(self) -> bool:
        """An error-level expectation failed: what is built from this table must not be."""
        return any(not o.passed and o.severity == ERROR for o in self.outcomes)

    def messages(self, severity: str | None = None) -> list[str]:
        return [o.message for o in self.outcomes if not o.passed and severity in (None, o.severity)]

    def checks(self) -> list[CheckResult]:
        """The suite as one check per severity it has (error, warning)."""
        out = []
        for severity in (ERROR, WARNING):
            mine = [o for o in self.outcomes if o.severity == severity]
            if not mine:
                continue
            out.append(
                CheckResult(
                    check=CHECK_NAMES[severity],
                    asset=self.asset,
                    table=self.suite,
                    partition=self.partition,
                    run_id=self.run_id,
                    severity=severity,
                    passed=all(o.passed for o in mine),
                    observed={"rows": self.rows, **{o.check: o.observed for o in mine}},
                    failed_expectations=[o.failure() for o in mine if not o.passed],
                    checked_at=self.checked_at,
                )
            )
        return out

    def as_metadata(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "rows": self.rows,
            "expectations": self.evaluated,
            "failed_expectations": len(self.failed),
            "failures": self.failed[:20],
        }


# -- GX ----------------------------------------------------------------------------------------

_gx: dict[str, Any] = {}
# One GX context per process, changed by every validation (data sources, stores): validations
# from several threads (a run's assets) take turns.
_LOCK = threading.RLock()


def _context():
    """The process's one ephemeral GX context, created on first use."""
    # Nothing calls out at run time, whatever the user's shell says: GX reads this when it is
    # first imported, which is here (set now, not when this module is imported).
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    with _LOCK:
        if "context" not in _gx:
            _gx["context"] = _new_context()
            _gx["serial"] = 0
        return _gx["context"]


def _new_context():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.enable_analytics(False)
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    # GX gives an ephemeral context a docs site in a new temporary folder: left empty, it
    # would be litter in /tmp after every run; sites are added where docs are written.
    for name, site in dict(context.config.data_docs_sites or {}).items():
        folder = (site.get("store_backend") or {}).get("base_directory")
        context.delete_data_docs_site(name)
        if folder and Path(folder).is_dir() and not any(Path(folder).iterdir()):
            Path(folder).rmdir()
    return context


def prepare() -> None:
    """Import GX and create the context now (about 4 s), not on the first validation."""
    _context()


def _serial() -> int:
    _gx["serial"] += 1
    return _gx["serial"]


def _connection_class():
    """duckdb-engine's connection, running every statement on one DuckDB cursor of its own (see
    the module docstring: a result must outlive the rollback of its connection)."""
    if "connection_class" in _gx:
        return _gx["connection_class"]
    from duckdb_engine import ConnectionWrapper, CursorWrapper

    class _Cursor(CursorWrapper):
        def close(self) -> None:
            pass  # the session's reader, closed with the session

    class _Connection(ConnectionWrapper):
        """`transactions`: a cursor of the caller's connection that takes SQLAlchemy's commits and
        rollbacks (nothing is written); `reader`: another, where the queries run and their
        results live, with the run's rows as the temporary view BATCH_VIEW."""

        def __init__(self, transactions, reader):
            super().__init__(transactions)
            self._reader = reader

        def cursor(self):
            return _Cursor(self._reader, self)

    _gx["connection_class"] = _Connection
    return _Connection


@contextlib.contextmanager
def _open(con_or_path) -> Iterator[Any]:
    """A DuckDB connection: the caller's, or the file at a path opened read-only (closed after)."""
    if isinstance(con_or_path, (str, Path)):
        import duckdb

        from warehouse.loader import memory_limit

        path = Path(con_or_path)
        if not path.exists():
            raise FileNotFoundError(f"warehouse {path} does not exist: nothing to validate")
        con = duckdb.connect(str(path), read_only=True, config={"memory_limit": memory_limit()})
        try:
            yield con
        finally:
            con.close()
    else:
        yield con_or_path


BATCH_VIEW = "gx_run_rows"  # a temporary view on the session's reader: the rows being validated


class Session:
    """One DuckDB connection as one GX SQL data source, for the suites of a run.

    GX's fluent data sources write out the whole context configuration (YAML) on every change,
    ~20 ms each: so the session has one query asset, over a temporary view that each suite
    points at its own rows, instead of an asset per suite."""

    def __init__(self, con, run_id: str, keep_for_docs: bool = False):
        from sqlalchemy.pool import StaticPool

        self.con, self.run_id, self.keep_for_docs = con, run_id, keep_for_docs
        self._columns: dict | None = None
        self.context = _context()
        self._transactions, self._reader = con.cursor(), con.cursor()
        self._reader.execute(f"create or replace temp view {BATCH_VIEW} as select 1 as nothing where false")
        connection = _connection_class()(self._transactions, self._reader)
        self.name = f"warehouse_{_serial()}"
        self.source = self.context.data_sources.add_sql(
            self.name,
            connection_string="duckdb:///:memory:",
            kwargs={"creator": lambda: connection, "poolclass": StaticPool},
        )
        self.batch_definition = self.source.add_query_asset(
            "run_rows", query=f"select * from {BATCH_VIEW}"
        ).add_batch_definition_whole_table("run")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.source.get_execution_engine().engine.dispose()
        with contextlib.suppress(Exception):
            self.context.data_sources.delete(self.name)
        for cur in (self._reader, self._transactions):
            with contextlib.suppress(Exception):
                cur.close()

    def validate(self, s) -> SuiteResult:
        """Run suite `s` (expectations/suites.py) on its days, as one GX expectation: a DuckDB
        query over the run's rows that returns each failing rule (errors and warnings alike: a
        rule's severity is its own). Each failed rule carries a message naming the table, the
        column and a few offending values (PII masked)."""
        import great_expectations as gx
        import great_expectations.expectations as gxe
        from great_expectations.core.run_identifier import RunIdentifier
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
            ValidationResultIdentifier,
        )

        started = time.monotonic()
        columns = self.columns(s.decl.schema, s.decl.name)
        if not columns:
            raise LookupError(f"{s.name} does not exist in the warehouse: nothing to validate")
        outcomes: dict[str, Outcome] = {}
        runnable = []
        for rule in s.rules:
            missing = [c for c in rule.reads if c not in columns]
            if missing:
                outcomes[rule.name] = Outcome(
                    rule.name,
                    rule.column,
                    rule.severity,
                    False,
                    error=f"reads column(s) {missing}, which {s.name} does not have",
                )
            else:
                runnable.append(rule)
        expectation = gxe.UnexpectedRowsExpectation(
            unexpected_rows_query=s.compiled(runnable),
            description=f"{s.name}, {s.partition or 'every row'}: "
            + "; ".join(f"{r.description} ({r.severity})" for r in runnable),
            meta={"checks": {r.name: r.severity for r in runnable}, "days": s.partition},
        )
        self._reader.execute(f"create or replace temp view {BATCH_VIEW} as {s.batch_query()}")
        batch = self.batch_definition.get_batch()
        result = batch.validate(gx.ExpectationSuite(name=s.name, expectations=[expectation]), result_format="COMPLETE")
        if self.keep_for_docs:
            run = RunIdentifier(run_name=self.run_id, run_time=datetime.now(UTC))
            result.meta["run_id"] = run
            self.context.validation_results_store.store_validation_results(
                result,
                ValidationResultIdentifier(
                    expectation_suite_identifier=ExpectationSuiteIdentifier(name=s.name),
                    run_id=run,
                    batch_identifier=batch.id,
                ),
            )
        outcomes.update(_outcomes(runnable, result.results[0]))
        ordered = [outcomes[r.name] for r in s.rules]
        for o, rule in zip(ordered, s.rules):
            if not o.passed:
                if not o.error:
                    o.sample = self._sample(s, rule)
                o.message = _message(s.name, rule, o)
        return SuiteResult(
            suite=s.name,
            success=all(o.passed for o in ordered),
            rows=self._all(f"select count(*) from {BATCH_VIEW}")[0][0],
            evaluated=len(ordered),
            failed=[o.failure() for o in ordered if not o.passed],
            asset=s.decl.asset,
            partition=s.partition,
            run_id=self.run_id,
            outcomes=ordered,
            seconds=time.monotonic() - started,
        )

    def columns(self, schema: str, table: str) -> set[str]:
        """A table's columns (the warehouse's catalog, read once a session)."""
        if self._columns is None:
            self._columns = {}
            for sch, tab, col in self._all("select schema_name, table_name, column_name from duckdb_columns()"):
                self._columns.setdefault((sch, tab), set()).add(col)
        return self._columns.get((schema, table), set())

    def _sample(self, s, rule) -> list:
        """A few of a failed rule's unexpected items (PII masked), read after GX counted them."""
        sql = s.sample_query(rule, lambda c: is_pii(s.name, c)).replace("{batch}", f"(select * from {BATCH_VIEW})")
        return [_one(_json(item)) for (item,) in self._all(sql)]

    def _all(self, sql: str, params=None) -> list[tuple]:
        return self._reader.execute(sql, params or []).fetchall()


def _outcomes(rules, r) -> dict[str, Outcome]:
    """Each rule's outcome from the rows the suite's query returned: a row per failing rule with
    its count (or the query's error, which every rule shares)."""
    error = next(
        (
            e.get("exception_message")
            for e in (r.exception_info or {}).values()
            if isinstance(e, dict) and e.get("raised_exception")
        ),
        None,
    )
    if error is None and (r.exception_info or {}).get("raised_exception"):
        error = r.exception_info.get("exception_message")
    found = {
        row["check"]: int(row["unexpected"])
        for row in ((r.result or {}).get("details") or {}).get("unexpected_rows") or []
    }
    return {
        rule.name: Outcome(
            rule.name,
            rule.column,
            rule.severity,
            passed=error is None and found.get(rule.name, 0) == 0,
            observed=found.get(rule.name, 0),
            unexpected_count=found.get(rule.name, 0),
            error=error,
        )
        for rule in rules
    }


def _json(value):
    """A JSON value as DuckDB's driver hands it over: text, or already parsed."""
    return json.loads(value) if isinstance(value, (str, bytes)) else value


def _one(item):
    """A one-column item as its value, several as a dict."""
    return next(iter(item.values())) if isinstance(item, dict) and len(item) == 1 else item


def _message(table: str, rule, o: Outcome) -> str:
    where = (
        f"{table}.{o.column}" if o.column and "," not in o.column else (f"{table} ({o.column})" if o.column else table)
    )
    if o.error:
        return f"{where}: {o.check} could not run ({rule.description}): {o.error}"
    values = ", ".join(json.dumps(v, default=str) for v in o.sample)
    return f"{where}: {o.check} failed ({rule.description}): {o.unexpected_count} unexpected" + (
        f", e.g. {values}" if values else ""
    )


# -- the API -----------------------------------------------------------------------------------


def _days(partitions) -> list[date] | None:
    if partitions is None:
        return None
    if isinstance(partitions, (str, date)):
        partitions = [partitions]
    return [p if isinstance(p, date) else date.fromisoformat(str(p)) for p in partitions]


def _all_days(con, decl) -> list[date] | None:
    """Every day a dated table holds (a validation without partitions checks them all)."""
    if decl.day_column is None:
        return None
    from expectations.rules import day_expr

    rows = con.execute(
        f"select distinct {day_expr(decl.day_column, decl.day_type)} from {decl.table} "
        f"where {decl.day_column} is not null order by 1"
    ).fetchall()
    return [r[0] for r in rows] or None


def validate_tables(
    con_or_path,
    tables: list[str] | None = None,
    partitions=None,
    run_id: str | None = None,
    manifest: Path | str | None = None,
    data_docs: Path | str | None = None,
    keep_for_docs: bool = False,
) -> list[SuiteResult]:
    """Validate `tables` (schema.name; None: every raw table in the warehouse and every mart of
    dbt's manifest) on the run's `partitions` (days; None: every day each holds). Writes GX's
    Data Docs of the run to `data_docs` when given; `keep_for_docs` keeps the GX results in
    memory for a later `write_data_docs` of the run (validations in several calls)."""
    from expectations.suites import declarations, suite

    run_id = run_id or datetime.now(UTC).strftime("manual-%Y%m%dT%H%M%SZ")
    days = _days(partitions)
    results = []
    with _LOCK, _open(con_or_path) as con:
        decls = declarations(con, manifest)
        names = list(decls) if tables is None else tables
        unknown = [t for t in names if t not in decls]
        if unknown:
            raise KeyError(f"no suite for {unknown}: not a raw table of this warehouse nor a mart of dbt's manifest")
        session = Session(con, run_id, keep_for_docs or data_docs is not None)
        try:
            for t in names:
                d = decls[t]
                results.append(session.validate(suite(d, days if days is not None else _all_days(con, d))))
        finally:
            session.close()
    if data_docs is not None:
        write_data_docs(data_docs, run_id)
    return results


def validate_table(
    con_or_path,
    table: str,
    partitions=None,
    run_id: str | None = None,
    manifest: Path | str | None = None,
    keep_for_docs: bool = False,
) -> SuiteResult:
    """Validate one table (schema.name) on the run's partitions (days, or None: every day)."""
    return validate_tables(con_or_path, [table], partitions, run_id, manifest, keep_for_docs=keep_for_docs)[0]


def record_results(con, results: list[SuiteResult]) -> int:
    """Append each suite's checks (one row per table and severity) to quality.check_results in
    the caller's read-write connection; returns the rows written."""
    return record_checks(con, [c for r in results for c in r.checks()])


def record_checks(con, checks: list[CheckResult]) -> int:
    """Append check results (a suite's, a load check's, a reconciliation's, a freshness
    evaluation's) to quality.check_results in the caller's read-write connection."""
    con.execute("create schema if not exists quality")
    con.execute(f"""create table if not exists {RESULTS_TABLE} (
        "check" VARCHAR, asset VARCHAR, "table" VARCHAR, "partition" VARCHAR, run_id VARCHAR, severity VARCHAR,
        passed BOOLEAN, observed JSON, failed_expectations JSON, checked_at TIMESTAMPTZ)""")
    rows = [
        (
            c.check,
            c.asset,
            c.table,
            c.partition,
            c.run_id,
            c.severity,
            c.passed,
            json.dumps(c.observed, default=str),
            json.dumps(c.failed_expectations, default=str),
            c.checked_at,
        )
        for c in checks
    ]
    if rows:
        con.executemany(f"insert into {RESULTS_TABLE} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return len(rows)


def outcome_check(outcome, asset: str, run_id: str, checked_at: datetime | None = None) -> CheckResult:
    """A check outcome of warehouse/load_checks.py or warehouse/reconcile.py (`CheckOutcome`:
    check, asset (its table), partition, passed, severity, message, observed, rows) as a row of
    quality.check_results for the Dagster asset `asset`; a failure is one failed expectation
    with its message and offending rows."""
    failed = (
        []
        if outcome.passed
        else [
            {
                "check": outcome.check,
                "severity": outcome.severity,
                "message": outcome.message,
                "sample": [dict(r) for r in outcome.rows][:SAMPLE_ROWS],
            }
        ]
    )
    return CheckResult(
        check=outcome.check,
        asset=asset,
        table=outcome.asset,
        partition=outcome.partition,
        run_id=run_id,
        severity=outcome.severity,
        passed=outcome.passed,
        observed={**dict(outcome.observed), "message": outcome.message},
        failed_expectations=failed,
        checked_at=checked_at or datetime.now(UTC),
    )


SAMPLE_ROWS = 5


def data_docs_dir(data_dir: Path | str | None = None) -> Path:
    """Where a run's Data Docs go: `<SKW_DATA_DIR>/quality/data_docs`."""
    if data_dir is None:
        from warehouse.settings import Settings

        data_dir = Settings.from_env().data_dir
    return Path(data_dir) / "quality" / "data_docs"


def write_data_docs(directory: Path | str, run_id: str) -> Path:
    """GX's static Data Docs of the run's validations (those kept for docs in this process) in
    `directory`, in place of the previous run's pages. A run's steps each call it (the raw
    tables' suites, then the marts'): the run's results are kept until another run's docs are
    written, so the site shows all of the run, and a long-lived process holds one run's results
    at most. Returns the site's index.html."""
    directory = Path(directory).resolve()
    site = f"local_{abs(hash(str(directory)))}"
    with _LOCK:
        context = _context()
        if site not in (context.config.data_docs_sites or {}):
            context.add_data_docs_site(
                site,
                {
                    "class_name": "SiteBuilder",
                    "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(directory)},
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                },
            )
        store = context.validation_results_store
        keys = [k for k in store.list_keys() if k.run_id.run_name == run_id]
        if not keys:
            raise LookupError(
                f"no validation of run {run_id!r} was kept for Data Docs in this process "
                f"(validate with data_docs= or keep_for_docs=True)"
            )
        for key in store.list_keys():
            if key.run_id.run_name != run_id:  # an earlier run's: its pages go too
                store.remove_key(key)
        shutil.rmtree(directory / "validations", ignore_errors=True)
        context.build_data_docs(site_names=[site], resource_identifiers=keys)
    return directory / "index.html"
