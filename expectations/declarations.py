"""What the suites are generated from: the declarations of the raw tables and of the marts.

- Raw tables: each stream's declaration (`extractors/<api>.py` `STREAMS`) and the raw table the
  loader builds from it (`warehouse.engine.raw_table`): key, column types, partition column, how
  partitions are written. Read through `_streams()` and `_raw_table()` only, so a rename there
  costs one line here. Which raw tables exist is the warehouse's information_schema: a declared
  stream that was never loaded has no table to check; a table without a declaration (the loader's
  `raw._rejects`) gets the checks that need none.
- Marts: dbt's manifest (`dbt_project/target/manifest.json`, written by `dbt parse`): each
  model's documented columns, declared data types (where the YAML gives one), its key (the
  `unique_combination_of_columns` or `unique` test), the `accepted_values` tests, and the day
  column a run rebuilds (`meta: {window_column: ...}` on incremental models, else `date_day`).
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MANIFEST = REPO / "dbt_project" / "target" / "manifest.json"
MART_SCHEMA = "marts"

# Columns the loader adds to every raw table (warehouse/loader.py `ensure_tables`).
LOADER_COLUMNS = {
    "_record": "JSON",
    "_load_id": "VARCHAR",
    "_loaded_at": "TIMESTAMP WITH TIME ZONE",
    "_source_file": "VARCHAR",
    "_line": "BIGINT",
    "_hash": "VARCHAR",
}


@dataclass(frozen=True)
class TableDecl:
    """One table to validate, as its declaration describes it.

    `day_column` is the column a run's partitions are days of (None: a table read or rebuilt
    whole, validated whole); `latest_day_only` marks a snapshot stream, which a run over a range
    reads on its last day only; `complete_days` says a day's rows are all of that day (a
    partition replaced whole), so a day's row count can be compared with the days before it."""

    table: str  # schema.name
    asset: str  # the Dagster asset key, slash-separated
    key: tuple[str, ...] = ()
    columns: dict[str, str] = field(default_factory=dict)  # column -> declared type ("" if none)
    day_column: str | None = None
    day_type: str = "DATE"
    latest_day_only: bool = False
    complete_days: bool = False
    accepted_values: dict[str, tuple] = field(default_factory=dict)
    not_null: tuple[str, ...] = ()
    declared: bool = True  # False: known from the warehouse only

    @property
    def schema(self) -> str:
        return self.table.split(".", 1)[0]

    @property
    def name(self) -> str:
        return self.table.split(".", 1)[1]

    @property
    def layer(self) -> str:
        return "raw" if self.schema == "raw" else "mart"


# -- raw tables: the stream declarations -------------------------------------------------------


def _streams() -> list:
    """Every declared stream (`extractors/<api>.py` `STREAMS`), once each."""
    import extractors
    from extractors.streams import Stream

    found = {}
    for module in sorted(pkgutil.iter_modules(extractors.__path__), key=lambda m: m.name):
        for stream in getattr(importlib.import_module(f"extractors.{module.name}"), "STREAMS", ()) or ():
            if isinstance(stream, Stream):
                found.setdefault(stream.key, stream)
    return list(found.values())


def _raw_table(stream):
    """The loader's raw table of a stream (name, columns, key, partition column, disposition)."""
    from warehouse.engine import raw_table

    return raw_table(stream)


def raw_declarations() -> dict[str, TableDecl]:
    """schema.table -> declaration, for every declared stream."""
    from warehouse.loader import column_spec

    out = {}
    for stream in _streams():
        t = _raw_table(stream)
        types = {c: column_spec(c, spec)[0].upper() for c, spec in t.columns.items()}
        out[t.name] = TableDecl(
            table=t.name,
            asset=f"raw/{t.source}/{t.stream}",
            key=tuple(t.key),
            columns=types,
            day_column=t.partition_column,
            day_type=types.get(t.partition_column, "DATE"),
            latest_day_only=bool(getattr(stream, "snapshot", False)),
            complete_days=t.disposition == "replace_partition",
            not_null=tuple(t.key),
        )
    return out


def undeclared_raw(table: str, columns: dict[str, str]) -> TableDecl:
    """A raw table without a stream declaration (the loader's `raw._rejects`): checked whole,
    with no key."""
    return TableDecl(table=table, asset="raw/" + table.split(".", 1)[1], columns=dict(columns), declared=False)


# -- marts: dbt's manifest ---------------------------------------------------------------------


def mart_declarations(manifest: Path | str | None = None) -> dict[str, TableDecl]:
    """schema.table -> declaration, for every model in the `marts` folder of dbt's manifest."""
    path = Path(manifest or MANIFEST)
    if not path.exists():
        raise FileNotFoundError(
            f"dbt's manifest {path} is missing: the mart suites are generated from it "
            f"(run `python -m orchestration.assets.dbt parse` or `dbt parse` in dbt_project/)"
        )
    nodes = json.loads(path.read_text())["nodes"]
    models = {
        uid: n
        for uid, n in nodes.items()
        if n["resource_type"] == "model" and len(n["fqn"]) > 1 and n["fqn"][1] == MART_SCHEMA
    }
    tests: dict[str, list[dict]] = {uid: [] for uid in models}
    for n in nodes.values():
        if n["resource_type"] == "test" and n.get("test_metadata"):
            for uid in n["depends_on"]["nodes"]:
                if uid in tests:
                    tests[uid].append(n)
    return {f"{MART_SCHEMA}.{m['alias'] or m['name']}": _mart(m, tests[uid]) for uid, m in models.items()}


def _mart(model: dict, tests: list[dict]) -> TableDecl:
    name = model["alias"] or model["name"]
    columns = {c: (v.get("data_type") or "").upper() for c, v in model["columns"].items()}
    key: tuple[str, ...] = ()
    accepted: dict[str, tuple] = {}
    not_null: list[str] = []
    for t in tests:
        meta, kwargs = t["test_metadata"], t["test_metadata"].get("kwargs") or {}
        if meta["name"] == "unique_combination_of_columns":
            key = tuple(kwargs["combination_of_columns"])
        elif meta["name"] == "unique" and not key:
            key = (t["column_name"],)
        elif meta["name"] == "accepted_values":
            accepted[t["column_name"]] = tuple(kwargs["values"])
        elif meta["name"] == "not_null_columns":
            not_null += kwargs["columns"]
        elif meta["name"] == "not_null":
            not_null.append(t["column_name"])
        elif meta["name"] == "rules":  # a model's rules in one test (dbt_project/macros/rules.sql)
            if kwargs.get("unique_combination_of_columns"):
                key = tuple(kwargs["unique_combination_of_columns"])
            elif kwargs.get("unique") and not key:
                key = (kwargs["unique"][0],)
            accepted.update({c: tuple(v) for c, v in (kwargs.get("accepted_values") or {}).items()})
            not_null += kwargs.get("not_null_columns") or []
    window = (model["config"].get("meta") or {}).get("window_column") or (model.get("meta") or {}).get("window_column")
    day = window or ("date_day" if "date_day" in columns else None)
    return TableDecl(
        table=f"{MART_SCHEMA}.{name}",
        asset=f"{MART_SCHEMA}/{name}",
        key=key,
        columns=columns,
        day_column=day,
        accepted_values=accepted,
        not_null=tuple(dict.fromkeys(not_null)),
        complete_days=day is not None,
    )
