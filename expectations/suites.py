"""Every suite: the rules a declaration repeats (generated), then the business rules of its area.

Generated from the declarations (expectations/declarations.py):
- raw tables: the declared columns exist with their declared types, the key's columns are never
  null and the key is unique, and (for streams whose days are replaced whole) no day of the run
  has 90% fewer rows than the median of the days before it: all errors;
- marts: the documented columns exist (with their types where the YAML declares one), the key of
  the `unique_combination_of_columns` test is unique and not null, the `accepted_values` tests'
  values; a day of the run with 90% fewer rows than before is a warning (marts are rebuilt from
  raw, whose own row counts are errors).
Written by hand, one module per area (paid, web, crm, social, voice, care, config): ranges,
allowed values, formats, and each area's main measures against the days before (warnings).

A suite validates the run's days only (`Suite.days`): a raw table's partition column, a mart's
`window_column` (else `date_day`); a snapshot stream, read on the last day of a range, only that
day; a table without a day column (entities, rosters, whole-history marts) whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from expectations import care, config, crm, paid, social, voice, web
from expectations.declarations import LOADER_COLUMNS, TableDecl, mart_declarations, raw_declarations, undeclared_raw
from expectations.rules import (
    ERROR,
    WARNING,
    Rule,
    columns_as_declared,
    day_expr,
    ident,
    in_set,
    lit,
    measure_against_previous_days,
    not_null,
    rows_against_previous_days,
    unique,
)

AREAS = (paid, web, crm, social, voice, care, config)


def _merged(attr: str) -> dict[str, list]:
    out: dict[str, list] = {}
    for module in AREAS:
        for table, items in getattr(module, attr).items():
            out.setdefault(table, []).extend(items)
    return out


BUSINESS_RULES: dict[str, list[Rule]] = _merged("RULES")
MAIN_MEASURES: dict[str, list[str]] = _merged("MEASURES")


@dataclass(frozen=True)
class Suite:
    decl: TableDecl
    days: tuple[date, ...] | None  # None: the whole table
    rules: tuple[Rule, ...]

    @property
    def name(self) -> str:
        return self.decl.table

    @property
    def partition(self) -> str | None:
        """The run's days as one label: a day, `first..last` for consecutive days, else a list."""
        if self.days is None:
            return None
        if len(self.days) == 1:
            return self.days[0].isoformat()
        if (self.days[-1] - self.days[0]).days == len(self.days) - 1:
            return f"{self.days[0].isoformat()}..{self.days[-1].isoformat()}"
        return ",".join(d.isoformat() for d in self.days)

    def batch_query(self) -> str:
        """The run's rows: every column, the run's days only (DuckDB reads only the columns and
        row groups the expectations' queries need)."""
        if self.days is None:
            return f"select * from {self.decl.table}"
        d = day_expr(self.decl.day_column, self.decl.day_type)
        first, last = self.days[0].isoformat(), self.days[-1].isoformat()
        where = f"{d} between date '{first}' and date '{last}'"
        if (self.days[-1] - self.days[0]).days != len(self.days) - 1:
            where += " and " + d + " in (" + ", ".join(f"date '{x.isoformat()}'" for x in self.days) + ")"
        return f"select * from {self.decl.table} where {where}"

    def severities(self) -> dict[str, str]:
        return {r.name: r.severity for r in self.rules}

    def compiled(self, rules: list[Rule]) -> str:
        """One query over `{batch}` for `rules`: a row per rule that finds unexpected items, with
        the rule's name and how many it found; no row when all hold. The conditions are counted
        in one scan of the run's rows (a branch per rule costs DuckDB ~0.7 ms more each to plan);
        the rules with a query of their own are one branch each. GX's format braces doubled."""
        conditions = [r for r in rules if r.condition is not None]
        branches = [
            f'select {lit(r.name)} as "check", count(*) as unexpected from ({_gx_text(r.query)}) as q '
            "having count(*) > 0"
            for r in rules
            if r.query is not None
        ]
        if conditions:
            counts = ", ".join(
                f"count(*) filter (where {_gx_text(r.condition)}) as n{i}" for i, r in enumerate(conditions)
            )
            named = ", ".join(
                f'struct_pack("check" := {lit(r.name)}, unexpected := n{i})' for i, r in enumerate(conditions)
            )
            branches.insert(
                0,
                f'select r."check", r.unexpected from (select unnest([{named}]) as r from '
                f"(select {counts} from {{batch}})) where r.unexpected > 0",
            )
        else:  # GX wants every such query to read {batch}
            branches.append('select null as "check", 0 as unexpected from {batch} where false')
        return " union all ".join(branches)

    def sample_query(self, rule: Rule, masked=lambda column: False) -> str:
        """Up to SAMPLES of a rule's unexpected items as JSON text, smallest first (a bounded,
        stable sample), over `{batch}` (plain SQL: not a GX template). `masked(column)` columns
        are shown as "<masked>"."""
        if rule.query is not None:
            items = f"select cast(to_json(q) as varchar) as item from ({rule.query}) as q"
        else:
            shown = ", ".join(f"{lit(c)}, {lit(MASK) if masked(c) else ident(c)}" for c in rule.shown())
            item = f"cast(json_object({shown}) as varchar)" if shown else "'{}'"
            items = f"select {item} as item from {{batch}} where {rule.condition}"
        return f"select item from ({items}) order by item limit {SAMPLES}"


SAMPLES = 5
MASK = "<masked>"


def _gx_text(sql: str) -> str:
    """SQL as GX's query template: literal braces doubled, `{batch}` kept."""
    return sql.replace("{", "{{").replace("}", "}}").replace("{{batch}}", "{batch}")


def run_days(decl: TableDecl, days: list[date] | None) -> tuple[date, ...] | None:
    """The days of a run a table is validated on (None: the whole table)."""
    if decl.day_column is None or days is None:
        return None
    days = sorted(set(days))
    if not days:
        raise ValueError(f"{decl.table}: no partitions given to validate")
    return (days[-1],) if decl.latest_day_only else tuple(days)


def generated(decl: TableDecl, days: tuple[date, ...] | None) -> list[Rule]:
    """The rules a declaration repeats."""
    raw = decl.layer == "raw"
    # a stream's raw table also holds what the loader adds to every row
    declared = {**decl.columns, **(LOADER_COLUMNS if raw and decl.declared else {})}
    rules = [columns_as_declared(decl.table, declared, ERROR)]
    rules += [not_null(c) for c in decl.key if raw or c in decl.not_null]
    if decl.key:
        rules.append(unique(decl.key))
    rules += [in_set(c, v, name=f"{c}_accepted_values") for c, v in decl.accepted_values.items()]
    if days and decl.day_column and decl.complete_days:
        rules.append(
            rows_against_previous_days(
                decl.table, decl.day_column, decl.day_type, list(days), ERROR if raw else WARNING
            )
        )
    return rules


def business(decl: TableDecl, days: tuple[date, ...] | None) -> list[Rule]:
    """The area modules' rules for a table, and its main measures against the days before."""
    rules = list(BUSINESS_RULES.get(decl.table, []))
    if days and decl.day_column:
        rules += [
            measure_against_previous_days(decl.table, decl.day_column, decl.day_type, m, list(days))
            for m in MAIN_MEASURES.get(decl.table, [])
        ]
    return rules


def suite(decl: TableDecl, days: list[date] | None) -> Suite:
    """The suite of one table for a run's days (None: the whole table, without the checks that
    compare a day with the days before it)."""
    scoped = run_days(decl, days)
    rules = generated(decl, scoped) + business(decl, scoped)
    names = [r.name for r in rules]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise ValueError(f"suite {decl.table}: rules {sorted(dupes)} are declared twice")
    return Suite(decl, scoped, tuple(rules))


def declarations(con=None, manifest=None) -> dict[str, TableDecl]:
    """Every table to validate: the raw tables in the warehouse (with their stream's declaration,
    if any) and every mart in dbt's manifest. Without a connection, every declared table."""
    raw = raw_declarations()
    marts = mart_declarations(manifest)
    if con is None:
        return {**raw, **marts}
    present: dict[str, dict[str, str]] = {}
    for schema, table, column, typ in con.execute(
        "select table_schema, table_name, column_name, data_type from information_schema.columns "
        "where table_schema in ('raw', 'marts') order by table_schema, table_name, ordinal_position"
    ).fetchall():
        present.setdefault(f"{schema}.{table}", {})[column] = typ
    # a mart dbt has not built here has nothing to check; an undeclared raw table has its columns
    out = {t: raw.get(t) or undeclared_raw(t, cols) for t, cols in present.items() if t.startswith("raw.")}
    return {**out, **{t: d for t, d in marts.items() if t in present}}


def registry(con=None, manifest=None) -> dict[str, dict[str, str]]:
    """Every suite and the severity of each of its checks (`error` blocks what is built from
    the table, `warning` does not): {table: {check: severity}}. Day-based checks are listed as
    they are built for a run."""
    sample_days = [date(2026, 1, 1)]  # any day: which checks a run has does not depend on its days
    return {t: suite(d, sample_days).severities() for t, d in sorted(declarations(con, manifest).items())}
