"""Bulk-load landing files into the DuckDB `raw` schema.

DuckDB reads the gzip JSON-lines file itself (`read_ndjson_objects`); no row goes through
Python. Every raw row keeps its whole source record (`_record`) beside the extracted
columns, plus where it came from (`_load_id`, `_loaded_at`, `_source_file`, `_line`).
Writes are idempotent: a partition is deleted and re-inserted in one transaction, or rows
are merged on their primary key, so re-running a load never duplicates anything.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from warehouse.landing import LandedFile

REJECTS_TABLE = "raw._rejects"


@dataclass(frozen=True)
class RawTable:
    """A raw table built from one stream's landing files.

    `columns` maps a column to its DuckDB type; each is read from the record's field of the
    same name (JSON for nested values, VARCHAR keeps the API's string numbers as sent).
    `disposition` is `replace_partition` (delete the partition, insert) or `merge` (upsert on key).
    """

    source: str
    stream: str
    columns: dict[str, str]
    key: tuple[str, ...]
    partition_column: str | None = None
    disposition: str = "replace_partition"

    @property
    def name(self) -> str:
        return f"raw.{self.source}__{self.stream}"


@dataclass
class LoadResult:
    table: str
    partition: str
    load_id: str
    received: int
    loaded: int
    rejected: int
    duplicates: int
    rows_in_table: int

    def as_metadata(self) -> dict:
        return {k: v for k, v in self.__dict__.items()}


@contextlib.contextmanager
def connect(path: Path | str, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived connection: DuckDB's file lock allows one writer process, so hold it briefly."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    try:
        yield con
    finally:
        con.close()


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params=None):
    """The single value of a query. DuckDB 2 refuses new work on a connection while a result
    is only partly fetched, so fetch it whole."""
    return con.execute(sql, params or []).fetchall()[0][0]


def _field(col: str, typ: str) -> str:
    return f"json->'{col}'" if typ.upper() == "JSON" else f"json->>'{col}'"


def _reject_reason(table: RawTable) -> str:
    """SQL for why a record cannot be loaded (null when it can): a key field missing or
    empty, or a typed field whose value does not convert. Names the field and the value."""
    checks = [f"case when coalesce(json->>'{k}', '') = '' then 'missing required field {k}' end"
              for k in table.key]
    for col, typ in table.columns.items():
        if typ.upper() not in ("VARCHAR", "JSON"):
            checks.append(f"case when json->>'{col}' is not null and try_cast(json->>'{col}' as {typ}) is null "
                          f"then 'field {col}: ' || (json->>'{col}') || ' is not a valid {typ}' end")
    return f"nullif(concat_ws('; ', {', '.join(checks)}), '')"


def ensure_tables(con: duckdb.DuckDBPyConnection, table: RawTable) -> None:
    con.execute("create schema if not exists raw")
    cols = ", ".join(f"{c} {t}" for c, t in table.columns.items())
    con.execute(f"""create table if not exists {table.name} ({cols}, _record JSON, _load_id VARCHAR,
                    _loaded_at TIMESTAMPTZ, _source_file VARCHAR, _line BIGINT)""")
    con.execute(f"""create table if not exists {REJECTS_TABLE} (source VARCHAR, stream VARCHAR,
                    partition VARCHAR, load_id VARCHAR, source_file VARCHAR, line BIGINT,
                    reason VARCHAR, record VARCHAR, rejected_at TIMESTAMPTZ)""")


def load(con: duckdb.DuckDBPyConnection, table: RawTable, landed: LandedFile) -> LoadResult:
    """Load one landing file into its raw table in a single transaction.

    Records that lack a key or hold a value that does not convert go to raw._rejects with
    the file, the line and the reason; received = loaded + rejected + duplicates collapsed.
    """
    ensure_tables(con, table)
    now = datetime.now(timezone.utc)
    key_cols = ", ".join(table.key)
    extracted = ", ".join(f"try_cast({_field(c, t)} as {t}) as {c}" for c, t in table.columns.items())
    con.execute("begin transaction")
    try:
        con.execute(f"""create or replace temp table _checked as
            select json, row_number() over () as _line, {_reject_reason(table)} as _reason
            from read_ndjson_objects(?, compression = 'gzip')""", [str(landed.path)])
        con.execute(f"""create or replace temp table _incoming as
            select {extracted}, json as _record, ? as _load_id, ?::timestamptz as _loaded_at,
                   ? as _source_file, _line
            from _checked
            where _reason is null
            -- a page served twice lands twice; keep the last copy of each key
            qualify row_number() over (partition by {key_cols} order by _line desc) = 1""",
                    [landed.load_id, now, str(landed.path)])
        received = scalar(con, "select count(*) from _checked")
        rejected = scalar(con, "select count(*) from _checked where _reason is not null")
        loaded = scalar(con, "select count(*) from _incoming")
        if table.disposition == "replace_partition":
            con.execute(f"delete from {table.name} where {table.partition_column}::varchar = ?",
                        [landed.partition])
        elif table.disposition == "merge":
            con.execute(f"delete from {table.name} where ({key_cols}) in (select ({key_cols}) from _incoming)")
        else:
            raise ValueError(f"unknown disposition {table.disposition!r} for {table.name}")
        con.execute(f"insert into {table.name} by name select * from _incoming")
        # The rejects of a partition are those of its latest load (older ones stay in their landing files).
        con.execute(f"delete from {REJECTS_TABLE} where source = ? and stream = ? and partition = ?",
                    [table.source, table.stream, landed.partition])
        con.execute(f"""insert into {REJECTS_TABLE}
            select ?, ?, ?, ?, ?, _line, _reason, json::varchar, ?::timestamptz
            from _checked where _reason is not null order by _line""",
                    [table.source, table.stream, landed.partition, landed.load_id, str(landed.path), now])
        con.execute("drop table _incoming")
        con.execute("drop table _checked")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    total = scalar(con, f"select count(*) from {table.name}")
    return LoadResult(table.name, landed.partition, landed.load_id, received, loaded, rejected,
                      received - rejected - loaded, total)
