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
    same name (JSON for nested values, VARCHAR keeps the API's string numbers as sent), or
    from a JSON path written after the type: `"VARCHAR <- $.campaign.id"`.
    `disposition` is `replace_partition` (the partition becomes what was loaded), `merge`
    (upsert on the key) or `replace` (the whole table becomes what was loaded).
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
    """received = loaded + rejected + duplicates; loaded = inserted + updated + unchanged."""

    table: str
    partition: str
    load_id: str
    received: int
    loaded: int
    rejected: int
    duplicates: int
    inserted: int
    updated: int
    unchanged: int
    deleted: int
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


def column_spec(col: str, spec: str) -> tuple[str, str]:
    """(DuckDB type, JSON path or field name) of a column spec `"TYPE"` or `"TYPE <- $.path"`."""
    typ, _, path = spec.partition("<-")
    return typ.strip(), path.strip() or col


def _field(col: str, spec: str) -> str:
    typ, path = column_spec(col, spec)
    return f"json->'{path}'" if typ.upper() == "JSON" else f"json->>'{path}'"


def _reject_reason(table: RawTable) -> str:
    """SQL for why a record cannot be loaded (null when it can): a key field missing or
    empty, or a typed field whose value does not convert. Names the field and the value."""
    checks = []
    for k in table.key:
        path = column_spec(k, table.columns.get(k, "VARCHAR"))[1]
        checks.append(f"case when coalesce(json->>'{path}', '') = '' then 'missing required field {path}' end")
    for col, spec in table.columns.items():
        typ, path = column_spec(col, spec)
        if typ.upper() not in ("VARCHAR", "JSON"):
            value = f"json->>'{path}'"
            checks.append(f"case when {value} is not null and try_cast({value} as {typ}) is null "
                          f"then 'field {path}: ' || ({value}) || ' is not a valid {typ}' end")
    return f"nullif(concat_ws('; ', {', '.join(checks)}), '')"


def ensure_tables(con: duckdb.DuckDBPyConnection, table: RawTable) -> None:
    con.execute("create schema if not exists raw")
    cols = ", ".join(f"{c} {column_spec(c, t)[0]}" for c, t in table.columns.items())
    con.execute(f"""create table if not exists {table.name} ({cols}, _record JSON, _load_id VARCHAR,
                    _loaded_at TIMESTAMPTZ, _source_file VARCHAR, _line BIGINT, _hash VARCHAR)""")
    con.execute(f"alter table {table.name} add column if not exists _hash VARCHAR")
    con.execute(f"""create table if not exists {REJECTS_TABLE} (source VARCHAR, stream VARCHAR,
                    partition VARCHAR, load_id VARCHAR, source_file VARCHAR, line BIGINT,
                    reason VARCHAR, record VARCHAR, rejected_at TIMESTAMPTZ)""")


def load(con: duckdb.DuckDBPyConnection, table: RawTable, landed: LandedFile | list[LandedFile]) -> LoadResult:
    """Load landing files (one, or one per partition of a run) into their raw table in a
    single transaction.

    Records that lack a key or hold a value that does not convert go to raw._rejects with
    the file, the line and the reason. Only what changed is written: a row whose columns
    equal the stored row's is left alone (so a re-run with no new data writes nothing), a
    changed row is replaced, and with `replace_partition` a stored row the source no longer
    returns for a loaded partition is deleted.
    """
    files = landed if isinstance(landed, list) else [landed]
    if not files:
        raise ValueError(f"nothing to load into {table.name}")
    ensure_tables(con, table)
    now = datetime.now(timezone.utc)
    key_cols = ", ".join(table.key)
    extracted = ", ".join(f"try_cast({_field(c, t)} as {column_spec(c, t)[0]}) as {c}"
                          for c, t in table.columns.items())
    row_hash = f"md5(cast(row({', '.join(table.columns)}) as varchar))"
    on_key = " and ".join(f"i.{k} = t.{k}" for k in table.key)
    partitions = sorted({f.partition for f in files})
    # One reader per file: within a single file DuckDB keeps the line order, which `_line`
    # (reject positions, and "the last copy of a key wins") relies on.
    reads = " union all ".join(
        f"""select json, row_number() over () as _line, ? as _load_id, ? as _source_file, ? as _partition
            from read_ndjson_objects(?, compression = 'gzip')""" for _ in files)
    read_params = [v for f in files for v in (f.load_id, str(f.path), f.partition, str(f.path))]
    con.execute("begin transaction")
    try:
        con.execute(f"""create or replace temp table _checked as
            select *, {_reject_reason(table)} as _reason from ({reads})""", read_params)
        con.execute(f"""create or replace temp table _incoming as
            select {extracted}, json as _record, _load_id, ?::timestamptz as _loaded_at, _source_file, _line
            from _checked
            where _reason is null
            -- a page served twice lands twice; keep the last copy of each key
            qualify row_number() over (partition by {key_cols} order by _source_file desc, _line desc) = 1""",
                    [now])
        con.execute("alter table _incoming add column _hash VARCHAR")
        con.execute(f"update _incoming set _hash = {row_hash}")
        received = scalar(con, "select count(*) from _checked")
        rejected = scalar(con, "select count(*) from _checked where _reason is not null")
        loaded = scalar(con, "select count(*) from _incoming")
        if table.disposition == "replace_partition":
            scope = f"{table.partition_column}::varchar in (select unnest($partitions::varchar[]))"
        elif table.disposition == "merge":
            scope = f"({key_cols}) in (select ({key_cols}) from _incoming)"
        elif table.disposition == "replace":
            scope = "true"   # the whole table: a row the source no longer has is deleted
        else:
            raise ValueError(f"unknown disposition {table.disposition!r} for {table.name}")
        params = {"partitions": partitions} if "$partitions" in scope else {}
        con.execute(f"""create or replace temp table _stored as
                        select {key_cols}, _hash from {table.name} where {scope}""", params)
        con.execute(f"""create or replace temp table _diff as
            select {', '.join(f'coalesce(i.{k}, t.{k}) as {k}' for k in table.key)},
                   case when t._hash is null then 'insert' when i._hash is null then 'delete'
                        when i._hash = t._hash then 'same' else 'update' end as _action
            from _incoming i full outer join _stored t on {on_key}""")
        counts = dict(con.execute("select _action, count(*) from _diff group by 1").fetchall())
        con.execute(f"""delete from {table.name} where {scope} and ({key_cols}) in
                        (select ({key_cols}) from _diff where _action in ('update', 'delete'))""", params)
        con.execute(f"""insert into {table.name} by name select * from _incoming where ({key_cols}) in
                        (select ({key_cols}) from _diff where _action in ('insert', 'update'))""")
        # The rejects of a partition are those of its latest load (older ones stay in their landing files).
        con.execute(f"""delete from {REJECTS_TABLE} where source = ? and stream = ?
                        and partition in (select unnest(?::varchar[]))""", [table.source, table.stream, partitions])
        con.execute(f"""insert into {REJECTS_TABLE}
            select ?, ?, _partition, _load_id, _source_file, _line, _reason, json::varchar, ?::timestamptz
            from _checked where _reason is not null order by _source_file, _line""",
                    [table.source, table.stream, now])
        for tmp in ("_incoming", "_checked", "_stored", "_diff"):
            con.execute(f"drop table {tmp}")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    total = scalar(con, f"select count(*) from {table.name}")
    label = partitions[0] if len(partitions) == 1 else f"{partitions[0]}..{partitions[-1]}"
    return LoadResult(table.name, label, ",".join(f.load_id for f in files), received, loaded, rejected,
                      received - rejected - loaded, counts.get("insert", 0), counts.get("update", 0),
                      counts.get("same", 0), counts.get("delete", 0), total)
