"""Bulk-load landing files into the DuckDB `raw` schema.

DuckDB reads the gzip JSON-lines file itself (`read_ndjson_objects`); no row goes through
Python. Every raw row keeps its whole source record (`_record`) beside the extracted
columns, plus where it came from (`_load_id`, `_loaded_at`, `_source_file`, `_line`).
Writes are idempotent: a partition is deleted and re-inserted in one transaction, or rows
are merged on their primary key, so re-running a load never duplicates anything.
"""

from __future__ import annotations

import contextlib
import os
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
    # DuckDB's own default lets it take 80% of the machine's memory and keep every block it
    # wrote; a cap makes a big load spill to `<warehouse>.tmp/` instead of growing with the data.
    con = duckdb.connect(str(path), read_only=read_only, config={"memory_limit": memory_limit()})
    try:
        yield con
    finally:
        con.close()


DEFAULT_MEMORY_LIMIT = "1GB"


def memory_limit() -> str:
    """DuckDB's memory cap for the project's connections: SKW_DUCKDB_MEMORY_LIMIT, else 1GB."""
    return os.environ.get("SKW_DUCKDB_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params=None):
    """The single value of a query. DuckDB 2 refuses new work on a connection while a result
    is only partly fetched, so fetch it whole."""
    return con.execute(sql, params or []).fetchall()[0][0]


def column_spec(col: str, spec: str) -> tuple[str, str]:
    """(DuckDB type, JSON path or field name) of a column spec `"TYPE"` or `"TYPE <- $.path"`."""
    typ, _, path = spec.partition("<-")
    return typ.strip(), path.strip() or col


def json_path(path: str) -> str:
    """A full JSON path: `$.a.b` as written, a bare field name quoted (`$."createdAt"`)."""
    if path.startswith("$"):
        return path
    return '$."' + path.replace('"', '\\"') + '"'


@dataclass(frozen=True)
class _Extraction:
    """How a table's columns come out of a record, parsing each record once.

    DuckDB's `json_extract_string(json, [paths])` parses a document once for all its paths;
    a separate `json->>'path'` per column parses it once per column (7x slower for a
    17-column stream). `text_paths` are read as text into `_v`, `json_paths` as JSON into
    `_j`; `text[col]` is the SQL for a column's text and `typed[col]` its typed value."""

    text_paths: tuple[str, ...]
    json_paths: tuple[str, ...]
    text: dict[str, str]
    typed: dict[str, str]
    key_text: dict[str, tuple[str, str]]   # key column -> (SQL of its text, path for messages)

    @classmethod
    def of(cls, table: RawTable) -> "_Extraction":
        text_paths: list[str] = []
        json_paths: list[str] = []

        def text_at(path: str) -> str:
            if path not in text_paths:
                text_paths.append(path)
            return f"_v[{text_paths.index(path) + 1}]"

        text, typed = {}, {}
        for col, spec in table.columns.items():
            typ, path = column_spec(col, spec)
            if typ.upper() == "JSON":
                json_paths.append(json_path(path))
                typed[col] = f"_j[{len(json_paths)}]"
                continue
            text[col] = text_at(json_path(path))
            typed[col] = text[col] if typ.upper() == "VARCHAR" else f"try_cast({text[col]} as {typ})"
        key_text = {}
        for k in table.key:
            path = column_spec(k, table.columns.get(k, "VARCHAR"))[1]
            key_text[k] = (text_at(json_path(path)), path)
        return cls(tuple(text_paths), tuple(json_paths), text, typed, key_text)

    def select_lists(self) -> str:
        """The one parse per record: `_v` (texts) and `_j` (JSON values)."""
        quoted = lambda paths: "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"  # noqa: E731
        parts = [f"json_extract_string(json, {quoted(self.text_paths)}) as _v" if self.text_paths
                 else "[]::varchar[] as _v"]
        parts.append(f"json_extract(json, {quoted(self.json_paths)}) as _j" if self.json_paths
                     else "[]::json[] as _j")
        return ", ".join(parts)


def _reject_reason(table: RawTable, ex: _Extraction) -> str:
    """SQL for why a record cannot be loaded (null when it can): a key field missing or
    empty, or a typed field whose value does not convert. Names the field and the value."""
    checks = []
    for k in table.key:
        value, path = ex.key_text[k]
        checks.append(f"case when coalesce({value}, '') = '' then 'missing required field {path}' end")
    for col, spec in table.columns.items():
        typ, path = column_spec(col, spec)
        if typ.upper() not in ("VARCHAR", "JSON"):
            value = ex.text[col]
            checks.append(f"case when {value} is not null and {ex.typed[col]} is null "
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


# DuckDB writes an insert of less than a row group (122,880 rows) to its WAL and copies it
# at commit; such an insert from a temp table ran 6x faster on one thread than on two here
# (115k rows: 0.06 s against 0.35 s), while a bigger one is written straight to the file
# and gains from the threads (920k rows: 2.7 s on two, 3.5 s on one).
ROW_GROUP = 122_880


def _insert_all(con: duckdb.DuckDBPyConnection, table: RawTable, rows: int, select: str, params=None) -> None:
    small = rows < ROW_GROUP
    threads = scalar(con, "select current_setting('threads')") if small else None
    if small:
        con.execute("set threads = 1")
    try:
        con.execute(f"insert into {table.name} by name {select}", params or [])
    finally:
        if small:
            con.execute(f"set threads = {int(threads)}")


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
    ex = _Extraction.of(table)
    key_cols = ", ".join(table.key)
    extracted = ", ".join(f"{ex.typed[c]} as {c}" for c in table.columns)
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
        # One pass over the files: each record parsed once, its typed columns and the reason it
        # cannot be loaded (if any) computed together.
        con.execute(f"""create or replace temp table _checked as
            select {extracted}, json as _record, _line, _load_id, _source_file, _partition,
                   {_reject_reason(table, ex)} as _reason
            from (select *, {ex.select_lists()} from ({reads}))""", read_params)
        received, rejected, loaded, keys = con.execute(f"""
            select count(*), count(*) filter (where _reason is not null), count(*) filter (where _reason is null),
                   count(distinct ({key_cols})) filter (where _reason is null)
            from _checked""").fetchall()[0]
        # a page served twice lands twice; keep the last copy of each key (a window over the
        # whole load, so only when some key does come twice)
        dedupe = (f"qualify row_number() over (partition by {key_cols} order by _source_file desc, _line desc) = 1"
                  if keys < loaded else "")
        incoming = f"""select {', '.join(table.columns)}, _record, _load_id, ?::timestamptz as _loaded_at,
                              _source_file, _line, {row_hash} as _hash
                       from _checked where _reason is null {dedupe}"""
        if table.disposition == "replace_partition":
            # the range lets DuckDB skip row groups of other days (min/max kept per group)
            typ = column_spec(table.partition_column, table.columns[table.partition_column])[0]
            col = table.partition_column
            scope = (f"{col} between cast($first as {typ}) and cast($last as {typ}) "
                     f"and {col}::varchar in (select unnest($partitions::varchar[]))")
        elif table.disposition == "merge":
            scope = f"({key_cols}) in (select ({key_cols}) from _checked where _reason is null)"
        elif table.disposition == "replace":
            scope = "true"   # the whole table: a row the source no longer has is deleted
        else:
            raise ValueError(f"unknown disposition {table.disposition!r} for {table.name}")
        params = ({"partitions": partitions, "first": partitions[0], "last": partitions[-1]}
                  if "$partitions" in scope else {})
        con.execute(f"""create or replace temp table _stored as
                        select {key_cols}, _hash from {table.name} where {scope}""", params)
        if scalar(con, "select count(*) from _stored"):
            # what changed: a stored row equal to the incoming one is left alone
            con.execute(f"create or replace temp table _incoming as {incoming}", [now])
            loaded = scalar(con, "select count(*) from _incoming")
            counts = dict(zip(("insert", "update", "same", "delete"), con.execute(f"""
                select count(*) filter (where t._hash is null), count(*) filter (where i._hash <> t._hash),
                       count(*) filter (where i._hash = t._hash), count(*) filter (where i._hash is null)
                from _incoming i full outer join _stored t on {on_key}""").fetchall()[0]))
            con.execute(f"""delete from {table.name} where {scope} and ({key_cols}) in
                            (select ({key_cols}) from _stored t where not exists
                             (select 1 from _incoming i where {on_key} and i._hash = t._hash))""", params)
            con.execute(f"""insert into {table.name} by name select * from _incoming i where not exists
                            (select 1 from _stored t where {on_key} and i._hash = t._hash)""")
            con.execute("drop table _incoming")
        else:
            # nothing stored in scope: every row is new, written straight from the checked records
            loaded = keys
            _insert_all(con, table, loaded, incoming, [now])
            counts = {"insert": loaded, "update": 0, "same": 0, "delete": 0}
        # The rejects of a partition are those of its latest load (older ones stay in their landing files).
        con.execute(f"""delete from {REJECTS_TABLE} where source = ? and stream = ?
                        and partition in (select unnest(?::varchar[]))""", [table.source, table.stream, partitions])
        con.execute(f"""insert into {REJECTS_TABLE}
            select ?, ?, _partition, _load_id, _source_file, _line, _reason, _record::varchar, ?::timestamptz
            from _checked where _reason is not null order by _source_file, _line""",
                    [table.source, table.stream, now])
        for tmp in ("_checked", "_stored"):
            con.execute(f"drop table {tmp}")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    total = scalar(con, f"select count(*) from {table.name}")
    label = partitions[0] if len(partitions) == 1 else f"{partitions[0]}..{partitions[-1]}"
    return LoadResult(table.name, label, ",".join(f.load_id for f in files), received, loaded, rejected,
                      received - rejected - loaded, counts["insert"], counts["update"],
                      counts["same"], counts["delete"], total)
