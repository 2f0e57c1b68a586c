"""Bulk-load landing files into the DuckDB `raw` schema.

DuckDB reads the gzip JSON-lines file itself (`read_ndjson_objects`); no row goes through
Python. Every raw row keeps its whole source record (`_record`) beside the extracted
columns, plus where it came from (`_load_id`, `_loaded_at`, `_source_file`, `_line`).
Writes are idempotent: a partition is deleted and re-inserted in one transaction, or rows
are merged on their primary key, so re-running a load never duplicates anything.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from warehouse.landing import LandedFile
from warehouse.settings import Settings

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
    """What one load did with the records it received:

        received = loaded + rejected + duplicates + conflict_copies
        loaded   = inserted + updated + unchanged

    - `loaded`: keys written or confirmed (one row per key);
    - `rejected`: records with a missing key or a value that does not convert (raw._rejects,
      kind 'invalid');
    - `duplicates`: further copies of a key whose copies are all identical (same row hash: the
      platform served a page twice, which is normal);
    - `conflicts`: keys that came in more than one version (same key, different values); the
      last copy read is loaded, and every copy of such a key, the loaded one included, is in
      raw._rejects (kind 'conflict') so both versions can be compared;
    - `conflict_copies`: the copies of those keys that were not loaded.
    """

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
    conflicts: int = 0
    conflict_copies: int = 0

    def reconciles(self) -> bool:
        """Whether the counts add up as the docstring says (every count non-negative)."""
        counts = (
            self.received,
            self.loaded,
            self.rejected,
            self.duplicates,
            self.conflicts,
            self.conflict_copies,
            self.inserted,
            self.updated,
            self.unchanged,
            self.deleted,
        )
        return (
            min(counts) >= 0
            and self.received == self.loaded + self.rejected + self.duplicates + self.conflict_copies
            and self.loaded == self.inserted + self.updated + self.unchanged
            and self.conflict_copies >= self.conflicts
        )

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


def memory_limit() -> str:
    """DuckDB's memory cap for the project's connections (warehouse/settings.py: SKW_DUCKDB_MEMORY_LIMIT, else 1GB)."""
    return Settings.from_env().duckdb_memory_limit


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
    key_text: dict[str, tuple[str, str]]  # key column -> (SQL of its text, path for messages)

    @classmethod
    def of(cls, table: RawTable) -> _Extraction:
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
        parts = [
            f"json_extract_string(json, {quoted(self.text_paths)}) as _v" if self.text_paths else "[]::varchar[] as _v"
        ]
        parts.append(f"json_extract(json, {quoted(self.json_paths)}) as _j" if self.json_paths else "[]::json[] as _j")
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
            checks.append(
                f"case when {value} is not null and {ex.typed[col]} is null "
                f"then 'field {path}: ' || ({value}) || ' is not a valid {typ}' end"
            )
    checks.extend(_reject_reason_extra(table, ex))
    return f"nullif(concat_ws('; ', {', '.join(checks)}), '')"


# -- Added for issue 17 (bad input): checks beyond "missing key / does not convert". -----------
_FLOATS = ("DOUBLE", "FLOAT", "REAL", "FLOAT8", "FLOAT4")


def _reject_reason_extra(table: RawTable, ex: _Extraction) -> list[str]:
    """- A float column's value that converts to no finite number ("1e400", "NaN", "Infinity":
      DuckDB casts them to inf or nan, which no sum or rate survives).
    - With `replace_partition`, a record whose partition column is not the day of the file it
      was read for (a future date, a missing date): loaded, it would sit outside every
      partition a later load replaces, so each reload would add it again."""
    checks = []
    for col, spec in table.columns.items():
        typ, path = column_spec(col, spec)
        if typ.upper() in _FLOATS:
            checks.append(
                f"case when not isfinite({ex.typed[col]}) "
                f"then 'field {path}: ' || ({ex.text[col]}) || ' is not a finite {typ}' end"
            )
    if table.disposition == "replace_partition" and table.partition_column in ex.text:
        col = table.partition_column
        typ, path = column_spec(col, table.columns[col])
        checks.append(
            f"case when {ex.typed[col]} <> try_cast(_partition as {typ}) "
            f"then 'field {path}: ' || ({ex.text[col]}) || ' is not the partition ' || _partition "
            "|| ' the record was read for' end"
        )
        if col not in table.key:  # a missing key field is named by the check above
            checks.append(
                f"case when {ex.text[col]} is null "
                f"then 'missing field {path}: the record has no day (read for partition ' || _partition || ')' end"
            )
    return checks


def ensure_tables(con: duckdb.DuckDBPyConnection, table: RawTable) -> None:
    """The raw table and raw._rejects, as this version writes them: one look at the catalog when
    both are (a daily run's case: six DDL statements per stream were ~0.1 s of a one-day load)."""
    schema, name = table.name.split(".")
    reject_schema, reject_name = REJECTS_TABLE.split(".")
    if (
        scalar(
            con,
            """select count(*) from duckdb_columns() where database_name = current_database()
               and ((schema_name = ? and table_name = ? and column_name = '_hash')
                    or (schema_name = ? and table_name = ? and column_name = 'kind'))""",
            [schema, name, reject_schema, reject_name],
        )
        == 2
    ):
        return
    con.execute("create schema if not exists raw")
    cols = ", ".join(f"{c} {column_spec(c, t)[0]}" for c, t in table.columns.items())
    # The whole record in zstd (a table made before keeps DuckDB's default, FSST): on the peer
    # benchmark's 457,827 listening mentions (198 MB of JSON) zstd wrote it in 0.70 CPU seconds
    # instead of 1.82, into 28 MB instead of 83, and `_record->>'$.id'` over all of it read at
    # the same speed.
    con.execute(f"""create table if not exists {table.name} ({cols}, _record JSON USING COMPRESSION zstd,
                    _load_id VARCHAR, _loaded_at TIMESTAMPTZ, _source_file VARCHAR, _line BIGINT, _hash VARCHAR)""")
    con.execute(f"alter table {table.name} add column if not exists _hash VARCHAR")
    con.execute(f"""create table if not exists {REJECTS_TABLE} (source VARCHAR, stream VARCHAR,
                    partition VARCHAR, load_id VARCHAR, source_file VARCHAR, line BIGINT,
                    reason VARCHAR, record VARCHAR, rejected_at TIMESTAMPTZ, kind VARCHAR)""")
    # `kind` came later: a warehouse from before has only invalid records in its rejects
    con.execute(f"alter table {REJECTS_TABLE} add column if not exists kind VARCHAR default 'invalid'")


# -- The row hash (issue 13): what says a stored row equals the incoming one. ---------------------
# DuckDB's `hash()` over the typed columns: 0.1 CPU s for 457,827 listening mentions, where
# `md5(cast(row(...) as varchar))` took 0.7 (the text of every value, then md5 over it) and made a
# load about 1 CPU s slower. DuckDB does not promise `hash()` stays the same across its versions,
# so every stored hash carries the version that made it (`dh<version>:<hash>`). A stored hash of
# another kind (an older DuckDB's, or the md5 every row had before this) is not taken as a
# change: it is computed again from the stored row's own columns, compared with that, and the
# unchanged row's hash is brought up to date (that column only; the row is not rewritten).
HASH_TAG = f"dh{duckdb.__version__}:"


def row_hash(table: RawTable) -> str:
    """SQL for a row's hash (`HASH_TAG` then DuckDB's 64-bit hash of its typed columns)."""
    return f"'{HASH_TAG}' || hash(row({', '.join(table.columns)}))"


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


@contextlib.contextmanager
def _in_any_order(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """`preserve_insertion_order` off for the load: DuckDB then reads the files of a load side by
    side and writes its tables on every thread (on the peer benchmark's 28 files, about 1.9
    threads busy instead of 1.2: the load's wall time nearly halved on 2 cores). Nothing the
    load promises rests on the order rows are stored in: `_line` is numbered per file by
    `row_number() over ()`, an operator DuckDB always runs in the file's own order (one file,
    one sequential reader; tests/test_extract_speed_loader.py checks every line), and which copy
    of a key wins, the conflicts and the rejects are ordered explicitly by file and line."""
    before = scalar(con, "select current_setting('preserve_insertion_order')")
    con.execute("set preserve_insertion_order = false")
    try:
        yield
    finally:
        con.execute(f"set preserve_insertion_order = {'true' if before else 'false'}")


def load(
    con: duckdb.DuckDBPyConnection,
    table: RawTable,
    landed: LandedFile | list[LandedFile],
    before_commit: Callable[[duckdb.DuckDBPyConnection, int, str], None] | None = None,
) -> LoadResult:
    """Load landing files (one, or one per partition of a run) into their raw table in a
    single transaction.

    Records that lack a key or hold a value that does not convert go to raw._rejects with
    the file, the line and the reason. Only what changed is written: a row whose columns
    equal the stored row's is left alone (so a re-run with no new data writes nothing), a
    changed row is replaced, and with `replace_partition` a stored row the source no longer
    returns for a loaded partition is deleted.

    A key that comes more than once keeps its last copy. Identical copies are counted as
    `duplicates`; copies that differ are a conflict: the last copy is still loaded (the
    newest read of the record) and every copy goes to raw._rejects with kind 'conflict' and
    a reason naming the key and the lines (see `LoadResult` for how the counts add up).

    `before_commit(con, deleted, load_id)` runs inside the load's transaction, after its
    writes (warehouse/deletions.py logs what the load deleted there: both or neither).
    """
    files = landed if isinstance(landed, list) else [landed]
    if not files:
        raise ValueError(f"nothing to load into {table.name}")
    with _in_any_order(con):
        return _load(con, table, files, before_commit)


def _load(
    con: duckdb.DuckDBPyConnection,
    table: RawTable,
    files: list[LandedFile],
    before_commit: Callable[[duckdb.DuckDBPyConnection, int, str], None] | None = None,
) -> LoadResult:
    ensure_tables(con, table)
    now = datetime.now(UTC)
    ex = _Extraction.of(table)
    key_cols = ", ".join(table.key)
    extracted = ", ".join(f"{ex.typed[c]} as {c}" for c in table.columns)
    this_hash = row_hash(table)
    on_key = " and ".join(f"i.{k} = t.{k}" for k in table.key)
    partitions = sorted({f.partition for f in files})
    # One reader per file: within a single file DuckDB keeps the line order, which `_line`
    # (reject positions, and "the last copy of a key wins") relies on.
    reads = " union all ".join(
        """select json, row_number() over () as _line, ? as _load_id, ? as _source_file, ? as _partition
            from read_ndjson_objects(?, compression = 'gzip')"""
        for _ in files
    )
    read_params = [v for f in files for v in (f.load_id, str(f.path), f.partition, str(f.path))]
    con.execute("begin transaction")
    try:
        # One pass over the files: each record parsed once, its typed columns and the reason it
        # cannot be loaded (if any) computed together.
        con.execute(
            f"""create or replace temp table _checked as
            select {extracted}, json as _record, _line, _load_id, _source_file, _partition,
                   {_reject_reason(table, ex)} as _reason
            from (select *, {ex.select_lists()} from ({reads}))""",
            read_params,
        )
        received, rejected, loaded, keys = con.execute(f"""
            select count(*), count(*) filter (where _reason is not null), count(*) filter (where _reason is null),
                   count(distinct ({key_cols})) filter (where _reason is null)
            from _checked""").fetchall()[0]
        # a page served twice lands twice; keep the last copy of each key (a window over the
        # whole load, so only when some key does come twice)
        repeated = keys < loaded
        dedupe = (
            f"qualify row_number() over (partition by {key_cols} order by _source_file desc, _line desc) = 1"
            if repeated
            else ""
        )
        # copies of a key that differ in value are a conflict, not a duplicate (found in that case only)
        conflicts, conflict_copies = _find_conflicts(con, table) if repeated else (0, 0)
        incoming = f"""select {", ".join(table.columns)}, _record, _load_id, ?::timestamptz as _loaded_at,
                              _source_file, _line, {this_hash} as _hash
                       from _checked where _reason is null {dedupe}"""
        if table.disposition == "replace_partition":
            # the range lets DuckDB skip row groups of other days (min/max kept per group)
            typ = column_spec(table.partition_column, table.columns[table.partition_column])[0]
            col = table.partition_column
            scope = (
                f"{col} between cast($first as {typ}) and cast($last as {typ}) "
                f"and {col}::varchar in (select unnest($partitions::varchar[]))"
            )
        elif table.disposition == "merge":
            scope = f"({key_cols}) in (select ({key_cols}) from _checked where _reason is null)"
        elif table.disposition == "replace":
            scope = "true"  # the whole table: a row the source no longer has is deleted
        else:
            raise ValueError(f"unknown disposition {table.disposition!r} for {table.name}")
        params = (
            {"partitions": partitions, "first": partitions[0], "last": partitions[-1]} if "$partitions" in scope else {}
        )
        stored = con.execute(  # a CREATE TABLE AS answers the number of rows it wrote
            f"""create or replace temp table _stored as
                        select {key_cols}, _hash from {table.name} where {scope}""",
            params,
        ).fetchall()[0][0]
        if stored:
            stale = _hashes_of_this_kind(con, table, scope, params)
            # what changed: a stored row equal to the incoming one is left alone. Only the keys and
            # hashes are compared; a row's record is copied only when it is written.
            con.execute(
                f"""create or replace temp table _incoming as
                    select {key_cols}, {this_hash} as _hash, _source_file, _line
                    from _checked where _reason is null {dedupe}"""
            )
            loaded = scalar(con, "select count(*) from _incoming")
            counts = dict(
                zip(
                    ("insert", "update", "same", "delete"),
                    con.execute(f"""
                select count(*) filter (where t._hash is null), count(*) filter (where i._hash <> t._hash),
                       count(*) filter (where i._hash = t._hash), count(*) filter (where i._hash is null)
                from _incoming i full outer join _stored t on {on_key}""").fetchall()[0],
                )
            )
            con.execute(
                f"""delete from {table.name} where {scope} and ({key_cols}) in
                            (select ({key_cols}) from _stored t where not exists
                             (select 1 from _incoming i where {on_key} and i._hash = t._hash))""",
                params,
            )
            if counts["insert"] + counts["update"]:
                con.execute(
                    f"""create or replace temp table _write as
                        select _source_file, _line, _hash from _incoming i where not exists
                        (select 1 from _stored t where {on_key} and i._hash = t._hash)"""
                )
                _insert_all(
                    con,
                    table,
                    counts["insert"] + counts["update"],
                    f"""select {", ".join(f"c.{c}" for c in table.columns)}, c._record, c._load_id,
                               ?::timestamptz as _loaded_at, c._source_file, c._line, w._hash
                        from _checked c join _write w on c._source_file = w._source_file and c._line = w._line""",
                    [now],
                )
                con.execute("drop table _write")
            if stale:
                # unchanged rows whose stored hash was of another kind: that column brought up to date
                con.execute(
                    f"""update {table.name} set _hash = s._hash from _stored s
                        where {table.name}.rowid = s._rowid and s._stored_hash is distinct from s._hash
                        and {table.name}._hash is not distinct from s._stored_hash"""
                )
            con.execute("drop table _incoming")
        else:
            # nothing stored in scope: every row is new, written straight from the checked records
            loaded = keys
            _insert_all(con, table, loaded, incoming, [now])
            counts = {"insert": loaded, "update": 0, "same": 0, "delete": 0}
        # The rejects of a partition are those of its latest load (older ones stay in their landing files).
        con.execute(
            f"""delete from {REJECTS_TABLE} where source = ? and stream = ?
                        and partition in (select unnest(?::varchar[]))""",
            [table.source, table.stream, partitions],
        )
        if rejected or conflicts:
            rejects = (
                "select _partition, _load_id, _source_file, _line, _reason, _record, 'invalid' as kind "
                "from _checked where _reason is not null"
            )
            if conflicts:
                rejects += (
                    " union all select _partition, _load_id, _source_file, _line, _reason, _record, 'conflict' "
                    "from _conflicts"
                )
            con.execute(
                f"""insert into {REJECTS_TABLE} (source, stream, partition, load_id, source_file, line,
                                                        reason, record, rejected_at, kind)
                select ?, ?, _partition, _load_id, _source_file, _line, _reason, _record::varchar, ?::timestamptz, kind
                from ({rejects}) order by _source_file, _line""",
                [table.source, table.stream, now],
            )
        for tmp in ("_checked", "_stored", *(["_conflicts"] if repeated else [])):
            con.execute(f"drop table {tmp}")
        if before_commit is not None:
            before_commit(con, counts["delete"], ",".join(f.load_id for f in files))
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    total = scalar(con, f"select count(*) from {table.name}")
    label = partitions[0] if len(partitions) == 1 else f"{partitions[0]}..{partitions[-1]}"
    return LoadResult(
        table.name,
        label,
        ",".join(f.load_id for f in files),
        received,
        loaded,
        rejected,
        received - rejected - loaded - conflict_copies,
        counts["insert"],
        counts["update"],
        counts["same"],
        counts["delete"],
        total,
        conflicts,
        conflict_copies,
    )


def _hashes_of_this_kind(con: duckdb.DuckDBPyConnection, table: RawTable, scope: str, params) -> bool:
    """Make every hash in `_stored` one of this DuckDB's (see `HASH_TAG`); whether any was not.

    A stored hash made otherwise (md5, before issue 13; or another DuckDB version's `hash()`)
    cannot be compared with an incoming one: it is computed again from the stored row's typed
    columns, which are what the incoming hash is computed from, so an unchanged row still
    compares equal. `_stored._stored_hash` keeps what was stored, so those rows' hash can be
    brought up to date afterwards. Only the `_hash` column is read when every hash is current."""
    if not scalar(con, f"select count(*) from _stored where not starts_with(coalesce(_hash, ''), '{HASH_TAG}')"):
        return False
    key_cols = ", ".join(table.key)
    con.execute(
        f"""create or replace temp table _stored as
            select {key_cols}, rowid as _rowid, _hash as _stored_hash,
                   case when starts_with(coalesce(_hash, ''), '{HASH_TAG}') then _hash else {row_hash(table)} end
                   as _hash
            from {table.name} where {scope}""",
        params,
    )
    return True


def _find_conflicts(con: duckdb.DuckDBPyConnection, table: RawTable) -> tuple[int, int]:
    """Among the keys that came more than once in this load, those whose copies differ in value
    (`_conflicts`: every copy of such a key, with its reason); (conflicting keys, copies of
    them not loaded). Run only when some key repeats (it reads the whole load).

    Copies with one row hash are a page served twice (`duplicates`), not a conflict. The copy
    loaded is the one the dedupe keeps (the last read); the reason names the key's values, the
    lines of every copy (with the load id when they come from more than one file) and which
    one was loaded, so a user can compare the versions in raw._rejects."""
    key_cols = ", ".join(table.key)
    row_hash = f"hash(row({', '.join(table.columns)}))"  # within one load: no version needed
    key_text = " || ', ' || ".join(f"'{k}=' || coalesce({k}::varchar, 'null')" for k in table.key)
    c_keys = ", ".join(f"c.{k}" for k in table.key)
    on_key = " and ".join(f"c.{k} = r.{k}" for k in table.key)
    # Narrowed in steps, each cheaper than a window over the whole load: the keys that repeat
    # (a hash aggregate), those of them whose copies differ (row hashes of their copies only),
    # then every copy of those, the only rows that carry their whole record along.
    con.execute(f"""create or replace temp table _conflicts as
        with repeated as (
            select {key_cols} from _checked where _reason is null group by all having count(*) > 1
        ),
        conflicting as (
            select {c_keys} from _checked c semi join repeated r on {on_key}
            where _reason is null group by all having count(distinct {row_hash}) > 1
        ),
        copies as (
            select {c_keys}, _partition, _load_id, _source_file, _line, _record, {row_hash} as _hash
            from _checked c semi join conflicting r on {on_key}
            where _reason is null
        ),
        versions as (
            select *,
                   count(distinct _hash) over k as _versions,
                   count(distinct _source_file) over k as _files,
                   row_number() over (partition by {key_cols} order by _source_file desc, _line desc) = 1 as _kept
            from copies
            window k as (partition by {key_cols})
        ),
        labelled as (
            select *, case when _files = 1 then _line::varchar else _line || ' of load ' || _load_id end as _at
            from versions
        )
        select {key_cols}, _partition, _load_id, _source_file, _line, _record,
               'conflict: key ' || {key_text} || ' came in ' || _versions || ' versions with different values at lines '
               || string_agg(_at, ', ' order by _source_file, _line) over (partition by {key_cols})
               || '; line ' || max(case when _kept then _at end) over (partition by {key_cols}) || ' was loaded'
               as _reason
        from labelled""")
    keys, copies = con.execute(f"select count(distinct ({key_cols})), count(*) from _conflicts").fetchall()[0]
    return keys, copies - keys
