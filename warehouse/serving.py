"""The serving database: the copy of the marts (and the quality results) that BI tools and
analysts read, published after each successful build, so no reader ever holds the warehouse
file that runs write (DuckDB gives a file to one writing process or to readers, never both).

`publish(warehouse, serving)` copies every table and view of the `marts`, `quality` and `semantic`
schemas, as tables, into a new file beside `serving` (one read-only snapshot of the
warehouse), writes it in DuckDB's storage version `v1.0.0` (which DuckDB 1.0 and later open:
the engines inside BI drivers lag the Python package, and a file in 2.x's default format opens
in 2.x only), then moves it into place with `os.replace`, an atomic rename:

- a reader never sees a half-built mart: before the rename it reads the old file whole, after
  it the new one whole; a process holding the old file open keeps reading the old file (the
  rename does not touch its open file) until it reconnects;
- the pipeline never waits for a reader: the rename needs no lock on the file readers hold.

A reader in the *same process* must close every connection to the file before connecting
again to see new data: DuckDB keeps one database instance per path while any connection to it
is open, and a new connection joins that instance (the old file).

Each published table is also exported to Parquet, in a folder per publish under
`<serving stem>_parquet/` (beside the serving file): `v<time>-<pid>/<schema>/<table>.parquet`,
with `views.sql` creating a view per table by absolute path (so the views do not depend on the
reader's working folder), written before the folder appears under its final name; then the
pointer `current` (a symbolic link to the newest folder) is replaced atomically. A reader that
resolves `current` once (the views do: their paths name the folder) never mixes two
publishes. The last `KEEP_PARQUET_VERSIONS` folders are kept, so a reader of an older
publish has time to finish.

`serving.duckdb` also holds `meta.published` (one row: when, which run, from which warehouse,
the Parquet folder) and `meta.tables` (every table with its rows).

No Dagster import: orchestration/assets/serving.py is the asset over `publish`;
`python -m warehouse.serving [info|publish]` shows the serving file or publishes by hand.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from warehouse.settings import Settings

SCHEMAS = ("marts", "quality", "semantic")
META_SCHEMA = "meta"
# DuckDB 1.0.0 and every later version open files in this storage version (tests/test_serving_compat.py
# opens one with the oldest, pinned in requirements-compat.txt).
STORAGE_VERSION = "v1.0.0"
OLDEST_READER = "1.0.0"
KEEP_PARQUET_VERSIONS = 3
CURRENT = "current"
VIEWS_SQL = "views.sql"


class PublishError(RuntimeError):
    """The warehouse cannot be published; the message says which warehouse and why."""


@dataclass(frozen=True)
class Published:
    serving_path: Path
    parquet_dir: Path  # this publish's folder (what `current` points at after it)
    published_at: datetime
    tables: dict[str, int] = field(default_factory=dict)  # "schema.table": rows
    seconds: float = 0.0

    @property
    def views_sql(self) -> Path:
        return self.parquet_dir / VIEWS_SQL

    def as_metadata(self) -> dict:
        return {
            "serving_path": str(self.serving_path),
            "parquet_dir": str(self.parquet_dir),
            "views_sql": str(self.views_sql),
            "storage_version": STORAGE_VERSION,
            "tables": len(self.tables),
            "rows": sum(self.tables.values()),
            "rows_per_table": json.dumps(self.tables),
            "seconds": round(self.seconds, 3),
        }


def parquet_root(serving_path: Path | str) -> Path:
    """The folder of the Parquet exports: `<stem>_parquet` beside the serving file."""
    serving_path = Path(serving_path)
    return serving_path.parent / f"{serving_path.stem}_parquet"


def publish(
    warehouse_path: Path | str,
    serving_path: Path | str,
    *,
    run_id: str | None = None,
    schemas: tuple[str, ...] = SCHEMAS,
    memory_limit: str | None = None,
) -> Published:
    """Publish the `schemas` of the warehouse to `serving_path` and to Parquet beside it, each
    swapped into place atomically (module docstring). Fails with `PublishError`, leaving the
    previous publish in place, when the warehouse holds no marts."""
    started = time.monotonic()
    warehouse_path, serving_path = Path(warehouse_path).resolve(), Path(serving_path).resolve()
    if not warehouse_path.exists():
        raise PublishError(f"cannot publish {warehouse_path}: no such warehouse file (run the pipeline first)")
    if serving_path == warehouse_path:
        raise PublishError(f"the serving path {serving_path} is the warehouse itself: give it a path of its own")
    serving_path.parent.mkdir(parents=True, exist_ok=True)
    root = parquet_root(serving_path)
    root.mkdir(parents=True, exist_ok=True)
    _remove_abandoned(serving_path, root)
    now = datetime.now(UTC)
    token = f"{now:%Y%m%dT%H%M%S%f}Z-{os.getpid()}"
    tmp = serving_path.parent / f".{serving_path.name}.{token}.tmp"
    version = root / f"v{token}"
    building = root / f".v{token}.tmp"
    try:
        tables = _build(warehouse_path, tmp, building, version, schemas, run_id, now, memory_limit)
        if Path(f"{tmp}.wal").exists():  # DETACH checkpoints; a WAL left would be lost in the rename
            raise PublishError(f"publishing {warehouse_path}: DuckDB left a WAL beside {tmp}")
        os.rename(building, version)  # the folder appears whole, under its final name
        os.replace(tmp, serving_path)  # the atomic swap readers rely on
        _point_current(root, version)
    finally:
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}.wal").unlink(missing_ok=True)
        if building.exists():
            _rmtree(building)
    _prune(root, keep=version)
    return Published(serving_path, version, now, tables, time.monotonic() - started)


def _build(warehouse_path, tmp, building, version, schemas, run_id, now, memory_limit) -> dict[str, int]:
    """Copy the tables into `tmp` and Parquet files into `building` (paths in views.sql name
    `version`, the folder's final name); rows per table."""
    config = {
        "memory_limit": memory_limit or Settings.from_env().duckdb_memory_limit,
        "autoinstall_known_extensions": False,  # parquet and json ship in the wheel; nothing to download
    }
    con = duckdb.connect(":memory:", config=config)
    try:
        _attach_waiting(con, warehouse_path)
        found = con.execute(
            f"""select table_schema, table_name from information_schema.tables
                where table_catalog = 'wh' and table_schema in ({", ".join(_literal(s) for s in schemas)})
                order by table_schema, table_name"""
        ).fetchall()
        if not any(schema == "marts" for schema, _ in found):
            raise PublishError(f"cannot publish {warehouse_path}: it holds no marts (schema marts is empty or absent)")
        con.execute(f"ATTACH {_literal(tmp)} AS srv (STORAGE_VERSION '{STORAGE_VERSION}')")
        tables: dict[str, int] = {}
        for schema in sorted({s for s, _ in found}):
            con.execute(f"CREATE SCHEMA srv.{_ident(schema)}")
            (building / schema).mkdir(parents=True)
        views = [
            f"-- Views over the Parquet export of {warehouse_path} published {now.isoformat()}"
            + (f" (run {run_id})" if run_id else ""),
            "-- Absolute paths: they work from any folder. In any DuckDB: duckdb -init <this file>,",
            "-- or con.execute(open('<this file>').read()).",
        ]
        for schema, name in found:
            target = f"srv.{_ident(schema)}.{_ident(name)}"
            # views too become tables: what they read (staging, intermediate) is not published
            con.execute(f"CREATE TABLE {target} AS SELECT * FROM wh.{_ident(schema)}.{_ident(name)}")
            tables[f"{schema}.{name}"] = con.execute(f"SELECT count(*) FROM {target}").fetchall()[0][0]
            con.execute(
                f"COPY {target} TO {_literal(building / schema / f'{name}.parquet')} "
                "(FORMAT parquet, COMPRESSION snappy, PARQUET_VERSION 'V1')"
            )
        for schema in sorted({s for s, _ in found}):
            views.append(f"CREATE SCHEMA IF NOT EXISTS {_ident(schema)};")
        for schema, name in found:
            path = version / schema / f"{name}.parquet"
            views.append(
                f"CREATE OR REPLACE VIEW {_ident(schema)}.{_ident(name)} AS SELECT * FROM read_parquet({_literal(path)});"
            )
        (building / VIEWS_SQL).write_text("\n".join(views) + "\n")
        con.execute(f"CREATE SCHEMA srv.{META_SCHEMA}")
        con.execute(
            f"""CREATE TABLE srv.{META_SCHEMA}.published AS SELECT
                ?::TIMESTAMPTZ AS published_at, ?::VARCHAR AS run_id, ?::VARCHAR AS warehouse,
                ?::VARCHAR AS parquet_dir, ?::VARCHAR AS storage_version, ?::BIGINT AS tables, ?::BIGINT AS rows""",
            [now, run_id, str(warehouse_path), str(version), STORAGE_VERSION, len(tables), sum(tables.values())],
        )
        con.execute(f"CREATE TABLE srv.{META_SCHEMA}.tables (table_schema VARCHAR, table_name VARCHAR, rows BIGINT)")
        con.executemany(
            f"INSERT INTO srv.{META_SCHEMA}.tables VALUES (?, ?, ?)",
            [[*key.split(".", 1), rows] for key, rows in tables.items()],
        )
        con.execute("DETACH srv")
        con.execute("DETACH wh")
        return tables
    finally:
        con.close()


LOCK_WAIT_SECONDS = 120.0  # as a load waits (warehouse/engine.py)


def _attach_waiting(con, warehouse_path: Path, timeout_s: float = LOCK_WAIT_SECONDS, poll_s: float = 0.5) -> None:
    """ATTACH the warehouse read-only, waiting while another process holds its lock (a second
    `make run` started at the same time, between its steps); after `timeout_s`, `PublishError`
    naming the holder (the previous publish stays in place)."""
    from warehouse.locks import holder_of

    started = time.monotonic()
    while True:
        try:
            con.execute(f"ATTACH {_literal(warehouse_path)} AS wh (READ_ONLY)")
            return
        except duckdb.IOException as exc:
            if "Could not set lock" not in str(exc):
                raise
            if time.monotonic() - started >= timeout_s:
                raise PublishError(
                    f"cannot publish {warehouse_path}: held by {holder_of(warehouse_path) or exc} for "
                    f"{timeout_s:.0f} s; the previous publish stays in place"
                ) from None
            time.sleep(poll_s)


def _point_current(root: Path, version: Path) -> None:
    link = root / f".{CURRENT}.{version.name}.tmp"
    link.unlink(missing_ok=True)
    os.symlink(version.name, link)  # relative: the folder can move with its parent
    os.replace(link, root / CURRENT)


def _prune(root: Path, keep: Path) -> None:
    """Remove all but the newest KEEP_PARQUET_VERSIONS publishes (never `keep` or `current`'s)."""
    current = (root / CURRENT).resolve()
    versions = sorted((p for p in root.glob("v*") if p.is_dir()), key=lambda p: p.name, reverse=True)
    for old in versions[KEEP_PARQUET_VERSIONS:]:
        if old.resolve() not in (current, keep.resolve()):
            _rmtree(old)


def _remove_abandoned(serving_path: Path, root: Path) -> None:
    """Temporary files and folders of a publish whose process is gone (killed mid-way)."""
    candidates = [
        *serving_path.parent.glob(f".{serving_path.name}.*.tmp"),
        *serving_path.parent.glob(f".{serving_path.name}.*.tmp.wal"),
        *root.glob(".v*.tmp"),
        *root.glob(f".{CURRENT}.*.tmp"),
    ]
    for path in candidates:
        pid = path.name.split(".tmp")[0].rsplit("-", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            if path.is_dir() and not path.is_symlink():
                _rmtree(path)
            else:
                path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def _literal(value) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def info(serving_path: Path | str) -> dict | None:
    """What the serving file holds (meta.published and meta.tables), or None before the first publish."""
    serving_path = Path(serving_path)
    if not serving_path.exists():
        return None
    con = duckdb.connect(str(serving_path), read_only=True)
    try:
        cols = [d[0] for d in con.execute(f"SELECT * FROM {META_SCHEMA}.published").description]
        row = dict(zip(cols, con.fetchall()[0], strict=True))
        row["tables_rows"] = con.execute(
            f"SELECT table_schema || '.' || table_name, rows FROM {META_SCHEMA}.tables ORDER BY 1"
        ).fetchall()
        return row
    finally:
        con.close()


def _main(argv: list[str]) -> int:
    settings = Settings.from_env()
    command = argv[0] if argv else "info"
    if command == "publish":
        result = publish(settings.warehouse_path, settings.serving_path)
        print(f"published {len(result.tables)} tables ({sum(result.tables.values()):,} rows) in {result.seconds:.1f} s")
    elif command != "info":
        print("usage: python -m warehouse.serving [info|publish]", file=sys.stderr)
        return 2
    about = info(settings.serving_path)
    if about is None:
        print(
            f"no serving database yet at {settings.serving_path}: run the pipeline (make run) or publish",
            file=sys.stderr,
        )
        return 1
    views = Path(about["parquet_dir"]) / VIEWS_SQL
    print(f"serving     {settings.serving_path}  (DuckDB {OLDEST_READER} or later opens it, read-only)")
    print(f"published   {about['published_at']}  run {about['run_id'] or '-'}  from {about['warehouse']}")
    print(f"tables      {about['tables']} ({about['rows']:,} rows)")
    print(f"parquet     {about['parquet_dir']}  (views: {views})")
    print(f'duckdb CLI  duckdb -readonly {settings.serving_path} -c "from marts.fct_scorecard limit 5"')
    print(f'sqlalchemy  create_engine("duckdb:///{settings.serving_path}", connect_args={{"read_only": True}})')
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
