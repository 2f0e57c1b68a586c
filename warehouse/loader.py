"""Bulk-load landing files into the DuckDB `raw` schema.

DuckDB reads the gzip JSON-lines file itself (`read_ndjson_objects`); no row goes through
Python. Every raw row keeps its whole source record (`_record`) beside the extracted
columns, plus where it came from (`_load_id`, `_loaded_at`, `_source_file`, `_line`).
Writes are idempotent: a partition is deleted and re-inserted in one transaction, or rows
are merged on their primary key, so re-running a load never duplicates anything.
"""

from __future__ import annotations

import contextlib
import json
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


def _extract(col: str, typ: str) -> str:
    accessor = f"json->'{col}'" if typ.upper() == "JSON" else f"json->>'{col}'"
    return f"cast({accessor} as {typ}) as {col}"


def ensure_tables(con: duckdb.DuckDBPyConnection, table: RawTable) -> None:
    con.execute("create schema if not exists raw")
    cols = ", ".join(f"{c} {t}" for c, t in table.columns.items())
    con.execute(f"""create table if not exists {table.name} ({cols}, _record JSON, _load_id VARCHAR,
                    _loaded_at TIMESTAMPTZ, _source_file VARCHAR, _line BIGINT)""")
    con.execute(f"""create table if not exists {REJECTS_TABLE} (source VARCHAR, stream VARCHAR,
                    partition VARCHAR, load_id VARCHAR, source_file VARCHAR, line BIGINT,
                    reason VARCHAR, record VARCHAR, rejected_at TIMESTAMPTZ)""")


def load(con: duckdb.DuckDBPyConnection, table: RawTable, landed: LandedFile) -> LoadResult:
    """Load one landing file into its raw table in a single transaction."""
    ensure_tables(con, table)
    now = datetime.now(timezone.utc)
    bad_lines = [r.position for r in landed.rejects]
    key_cols = ", ".join(table.key)
    extracted = ", ".join(_extract(c, t) for c, t in table.columns.items())
    con.execute("begin transaction")
    try:
        con.execute(f"""create or replace temp table _incoming as
            with src as (
                select json, row_number() over () as _line
                from read_ndjson_objects(?, compression = 'gzip')
            )
            select {extracted}, json as _record, ? as _load_id, ?::timestamptz as _loaded_at,
                   ? as _source_file, _line
            from src
            where _line not in (select unnest(?::bigint[]))
            -- a page served twice lands twice; keep the last copy of each key
            qualify row_number() over (partition by {key_cols} order by _line desc) = 1""",
                    [str(landed.path), landed.load_id, now, str(landed.path), bad_lines])
        loaded = scalar(con, "select count(*) from _incoming")
        if table.disposition == "replace_partition":
            con.execute(f"delete from {table.name} where {table.partition_column}::varchar = ?",
                        [landed.partition])
        elif table.disposition == "merge":
            con.execute(f"delete from {table.name} where ({key_cols}) in (select ({key_cols}) from _incoming)")
        else:
            raise ValueError(f"unknown disposition {table.disposition!r} for {table.name}")
        con.execute(f"insert into {table.name} by name select * from _incoming")
        con.execute(f"delete from {REJECTS_TABLE} where source = ? and stream = ? and partition = ?",
                    [table.source, table.stream, landed.partition])
        if landed.rejects:
            con.executemany(f"insert into {REJECTS_TABLE} values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            [[table.source, table.stream, landed.partition, landed.load_id,
                              str(landed.path), r.position, r.reason, r.record, now]
                             for r in landed.rejects])
        con.execute("drop table _incoming")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    total = scalar(con, f"select count(*) from {table.name}")
    duplicates = landed.records - len(landed.rejects) - loaded
    return LoadResult(table.name, landed.partition, landed.load_id, landed.records, loaded,
                      len(landed.rejects), duplicates, total)


def describe(result: LoadResult) -> str:
    return json.dumps(result.as_metadata())
