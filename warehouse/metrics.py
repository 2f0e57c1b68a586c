"""The semantic layer from the command line: the KPIs defined once in dbt (semantic models and
metrics in dbt_project/models/semantic/), queried by dimension and time grain through MetricFlow.

    python -m warehouse.metrics list
    python -m warehouse.metrics query --metrics spend,cpa --group-by metric_time__week,channel

MetricFlow is called through its Python API (`MetricFlowEngine`), never its `mf` CLI: the CLI
asks the package index for a newer version on every command (update_checker, no switch to turn
it off), and its set-up runs `dbt debug`, which opens the warehouse read-write through dbt's
profile. Here MetricFlow reads dbt's semantic manifest (`dbt_project/target/semantic_manifest.json`,
written by `dbt parse`, which `make` runs when the dbt project changes) and runs its SQL on a
DuckDB connection of its own that attaches the serving copy read-only (`marts_database()`): no
dbt process, no network, and a reader that never holds the warehouse a run writes.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from warehouse.settings import REPO_ROOT, Settings

DBT_DIR = REPO_ROOT / "dbt_project"
SEMANTIC_MANIFEST = DBT_DIR / "target" / "semantic_manifest.json"


class MetricsError(RuntimeError):
    """A query the semantic layer cannot answer: the message says what to change."""


def marts_database(settings: Settings | None = None) -> Path:
    """The DuckDB file the semantic layer reads the marts from: the serving copy
    (warehouse/serving.py, published after each successful build with the marts, the quality
    results and the `semantic` schema's time spine), so an analyst's query never holds the
    warehouse a run writes. Opened read-only."""
    return (settings or Settings.from_env()).serving_path


def connect_read_only(path: Path, catalog: str | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with `path` attached read-only as `catalog` (default: the
    file's stem, the name dbt's relations carry), so queries written against the warehouse's
    catalog read any copy of it. No extension is installed from the network."""
    path = Path(path)
    if not path.exists():
        raise MetricsError(
            f"{path}: no such database (build and publish it first: make run, or python -m warehouse.serving publish)"
        )
    con = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False})
    name = catalog or path.stem
    quoted_path = str(path).replace("'", "''")
    quoted_name = name.replace('"', '""')
    con.execute(f"ATTACH '{quoted_path}' AS \"{quoted_name}\" (READ_ONLY)")
    con.execute(f'USE "{quoted_name}"')
    return con


class ReadOnlyDuckDbClient:
    """MetricFlow's `SqlClient` protocol over a read-only DuckDB connection (MetricFlow's own
    clients go through a dbt adapter, which opens the file read-write)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        from metricflow.sql.render.duckdb_renderer import DuckDbSqlPlanRenderer

        self._con = con
        self._renderer = DuckDbSqlPlanRenderer()

    @property
    def sql_engine_type(self):
        from metricflow.protocols.sql_client import SqlEngine

        return SqlEngine.DUCKDB

    @property
    def sql_plan_renderer(self):
        return self._renderer

    @staticmethod
    def _params(sql_bind_parameter_set) -> None:
        if sql_bind_parameter_set is not None and sql_bind_parameter_set.param_dict:
            raise MetricsError(f"bind parameters are not supported here: {dict(sql_bind_parameter_set.param_dict)}")

    def query(self, stmt: str, sql_bind_parameter_set=None):
        from metricflow.data_table.mf_table import MetricFlowDataTable

        self._params(sql_bind_parameter_set)
        cursor = self._con.execute(stmt)
        names = [d[0] for d in cursor.description]
        return MetricFlowDataTable.create_from_rows(column_names=names, rows=cursor.fetchall())

    def execute(self, stmt: str, sql_bind_parameter_set=None) -> None:
        self._params(sql_bind_parameter_set)
        self._con.execute(stmt)

    def dry_run(self, stmt: str, sql_bind_parameter_set=None) -> None:
        self._params(sql_bind_parameter_set)
        self._con.execute(f"EXPLAIN {stmt}")

    def close(self) -> None:
        self._con.close()

    def render_bind_parameter_key(self, bind_parameter_key: str) -> str:
        return f"${bind_parameter_key}"


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple]
    sql: str


class SemanticLayer:
    """MetricFlow's engine on the semantic manifest, reading `database` (default: `marts_database()`)."""

    def __init__(self, database: Path | None = None, semantic_manifest: Path = SEMANTIC_MANIFEST) -> None:
        from metricflow.engine.metricflow_engine import MetricFlowEngine
        from metricflow_semantics.model.dbt_manifest_parser import parse_manifest_from_dbt_generated_manifest
        from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup

        semantic_manifest = Path(semantic_manifest)
        if not semantic_manifest.exists():
            raise MetricsError(
                f"{semantic_manifest}: no semantic manifest; write it with "
                "`python -m orchestration.assets.dbt parse` (make does this when the dbt project changes)"
            )
        text = semantic_manifest.read_text()
        manifest = parse_manifest_from_dbt_generated_manifest(manifest_json_string=text)
        catalogs = {m["node_relation"].get("database") for m in json.loads(text).get("semantic_models", [])} - {None}
        if len(catalogs) > 1:
            raise MetricsError(f"{semantic_manifest}: semantic models in several databases {sorted(catalogs)}")
        self.database = Path(database or marts_database())
        self._client = ReadOnlyDuckDbClient(connect_read_only(self.database, next(iter(catalogs), None)))
        self.engine = MetricFlowEngine(
            semantic_manifest_lookup=SemanticManifestLookup(manifest), sql_client=self._client
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> SemanticLayer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def metrics(self) -> list:
        return self.engine.list_metrics()

    def _qualified(self, metrics: Sequence[str], name: str) -> str:
        """A dimension named without its entity (`channel`) as MetricFlow wants it
        (`ad_campaign__channel`), when exactly one dimension of the metrics has that name;
        anything else is left to MetricFlow (which lists what it would accept)."""
        if "__" in name or name in metrics:
            return name
        try:
            dims = self.engine.simple_dimensions_for_metrics(list(metrics))
        except Exception:  # an unknown metric: MetricFlow's own error says which
            return name
        found = {d.dunder_name for d in dims if d.name == name}
        return found.pop() if len(found) == 1 else name

    def query(
        self,
        metrics: Sequence[str],
        group_by: Sequence[str] = (),
        where: Sequence[str] = (),
        order_by: Sequence[str] = (),
        start: dt.date | None = None,
        end: dt.date | None = None,
        limit: int | None = None,
    ) -> QueryResult:
        from metricflow.engine.metricflow_engine import MetricFlowQueryRequest

        group_by = [self._qualified(metrics, g) for g in group_by]
        # rows in the order of the group-by items unless the caller says otherwise
        order_by = [("-" if o.startswith("-") else "") + self._qualified(metrics, o.lstrip("-")) for o in order_by]
        order_by = order_by or list(group_by)
        request = MetricFlowQueryRequest.create(
            metric_names=list(metrics),
            group_by_names=group_by or None,
            where_constraints=list(where) or None,
            order_by_names=order_by or None,
            time_constraint_start=dt.datetime.combine(start, dt.time()) if start else None,
            time_constraint_end=dt.datetime.combine(end, dt.time()) if end else None,
            limit=limit,
        )
        try:
            result = self.engine.query(request)
        except MetricsError:
            raise
        except Exception as e:  # MetricFlow's own errors name the unknown metric or dimension, with suggestions
            raise MetricsError(f"{type(e).__name__}: {e}") from e
        table = result.result_df
        return QueryResult(columns=list(table.column_names), rows=[tuple(r) for r in table.rows], sql=result.sql)


def _names(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _format(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 10 else f"{value:.2f}"
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    return str(value)


def print_table(result: QueryResult, out=sys.stdout) -> None:
    cells = [[_format(v) for v in row] for row in result.rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(result.columns)]
    out.write("  ".join(c.ljust(w) for c, w in zip(result.columns, widths, strict=True)).rstrip() + "\n")
    for row in cells:
        out.write("  ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)).rstrip() + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m warehouse.metrics", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", type=Path, help="the DuckDB file to read (default: the marts' file)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="the metrics, their definitions and the dimensions to group them by")
    q = sub.add_parser("query", help="query metrics by dimension and time grain")
    q.add_argument("--metrics", required=True, type=_names, help="comma-separated, e.g. spend,cpa")
    q.add_argument("--group-by", default=[], type=_names, help="e.g. metric_time__week,channel")
    q.add_argument(
        "--where", action="append", default=[], help="e.g. \"{{ Dimension('ad_campaign__channel') }} = 'meta_ads'\""
    )
    q.add_argument("--order", default=[], type=_names, help="e.g. metric_time__week or -spend")
    q.add_argument("--start", type=dt.date.fromisoformat, help="first day (YYYY-MM-DD) of metric_time")
    q.add_argument("--end", type=dt.date.fromisoformat, help="last day (YYYY-MM-DD) of metric_time")
    q.add_argument("--limit", type=int)
    q.add_argument("--csv", action="store_true", help="CSV on stdout instead of a table")
    q.add_argument("--sql", action="store_true", help="print the SQL MetricFlow ran, after the result")
    args = parser.parse_args(argv)
    try:
        with SemanticLayer(args.database) as layer:
            if args.command == "list":
                for m in layer.metrics():
                    dims = sorted({d.dunder_name for d in m.dimensions if d.name not in ("metric_time", "date_day")})
                    print(f"{m.name}: {m.description or m.label or ''}")
                    print(f"    group by: metric_time__day|week|month|quarter|year, {', '.join(dims)}")
                return 0
            result = layer.query(args.metrics, args.group_by, args.where, args.order, args.start, args.end, args.limit)
    except (MetricsError, duckdb.Error) as e:  # a DuckDB error: the file is locked by a writer, or not a warehouse
        print(f"warehouse.metrics: {e}", file=sys.stderr)
        return 2
    if args.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(result.columns)
        writer.writerows(["" if v is None else v for v in row] for row in result.rows)  # full precision
    else:
        print_table(result)
    if args.sql:
        print("\n" + result.sql)
    return 0


if __name__ == "__main__":
    sys.exit(main())
