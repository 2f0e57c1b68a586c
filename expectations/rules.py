"""Rules: the checks of a suite, each a named SQL test of the run's rows with its own severity.

A rule names its check, the column it reads, its severity (`error` blocks what is built from the
table; `warning` is shown and recorded) and what a failure means. It finds the unexpected rows
either with a `condition` (a SQL predicate over one row of the run: the rows where it holds are
unexpected; `show` names the columns a failure reports) or with a `query` of its own (over
`{batch}`, the run's rows, and the warehouse: one row per unexpected item), for checks that
compare rows (a duplicated key, a day against the days before it, the table's schema).

Why SQL, and one GX expectation per table (expectations/suites.py compiles a suite's rules into
one GX `UnexpectedRowsExpectation` that returns each failing rule with its count): GX 1.x spends
5-10 ms of CPU per expectation on its metric graph and result, queries aside, so a native
expectation per rule (~780 for the raw tables and marts of the default world) costs 4-8 s of
CPU before DuckDB does any work, where `make run` allows all its checks about 7 s; compiled,
the 89 tables' rules take ~3 s in all. GX has no regular expressions or LIKE for the DuckDB
dialect in any case ("Regex is not supported for dialect duckdb").

The registry needs no GX (about 4 s to import).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

ERROR = "error"
WARNING = "warning"
SEVERITIES = (ERROR, WARNING)

# A day with fewer rows than this share of the median of the previous available days fails...
MIN_SHARE_OF_MEDIAN = 0.1
# ...among up to this many previous days with rows...
PREVIOUS_DAYS = 7
# ...when that median is at least this many rows: below it a quiet day is chance, not a loss
# (a Poisson day of mean 10 is empty once in 22,000 days).
MIN_MEDIAN_ROWS = 10
# How far back earlier days are looked for.
HISTORY_DAYS = 90


@dataclass(frozen=True)
class Rule:
    name: str  # the check's name within its suite, e.g. "spend_not_negative"
    column: str | None  # the column it is about (None: the table)
    description: str  # what must hold, for messages and Data Docs
    severity: str = ERROR
    condition: str | None = None  # a row is unexpected when this holds
    show: tuple[str, ...] = ()  # the columns a failure reports (default: `column`)
    query: str | None = None  # or: the unexpected items, one row each (over {batch})

    def __post_init__(self):
        if self.severity not in SEVERITIES:
            raise ValueError(f"rule {self.name}: severity {self.severity!r} is not one of {SEVERITIES}")
        if (self.condition is None) == (self.query is None):
            raise ValueError(f"rule {self.name}: give a condition or a query, not both or neither")

    @property
    def reads(self) -> tuple[str, ...]:
        """The table's columns the rule needs (checked before it runs)."""
        return tuple(dict.fromkeys(c for c in (self.column, *self.show) if c and self.condition is not None))

    def shown(self) -> tuple[str, ...]:
        return self.show or ((self.column,) if self.column else ())


def ident(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def lit(value) -> str:
    return "'" + str(value).replace("'", "''") + "'"


# -- generic rules -----------------------------------------------------------------------------


def where(
    name: str, column: str | None, condition: str, description: str, severity: str = ERROR, show: tuple[str, ...] = ()
) -> Rule:
    """The run's rows where `condition` holds are unexpected."""
    return Rule(name, column, description, severity, condition=condition, show=tuple(show))


def not_null(column: str, severity: str = ERROR) -> Rule:
    return where(f"{column}_not_null", column, f"{ident(column)} is null", f"{column} is never null", severity)


def unique(columns, severity: str = ERROR) -> Rule:
    """One row per key: each duplicated key is one unexpected item (with how many rows share it)."""
    cols = list(columns)
    listed = ", ".join(ident(c) for c in cols)
    name = f"{cols[0]}_unique" if len(cols) == 1 else "key_unique"
    return Rule(
        name,
        ", ".join(cols),
        f"one row per ({', '.join(cols)})",
        severity,
        query=f"select {listed}, count(*) as rows_with_key from {{batch}} group by all having count(*) > 1",
    )


def in_set(column: str, values, severity: str = ERROR, name: str | None = None, description: str = "") -> Rule:
    values = sorted(set(values), key=str)
    listed = ", ".join(lit(v) for v in values)
    return where(
        name or f"{column}_allowed",
        column,
        f"{ident(column)} is not null and {ident(column)} not in ({listed})",
        description
        or (
            f"{column} is one of {', '.join(map(str, values))}"
            if len(values) <= 12
            else f"{column} is one of {len(values)} allowed values"
        ),
        severity,
    )


def between(
    column: str, low=None, high=None, severity: str = ERROR, name: str | None = None, description: str = ""
) -> Rule:
    if low is None and high is None:
        raise ValueError(f"between({column!r}): give a low or a high bound")
    c = ident(column)
    parts = ([f"{c} < {low}"] if low is not None else []) + ([f"{c} > {high}"] if high is not None else [])
    rng = (
        f"in [{low}, {high}]"
        if low is not None and high is not None
        else (f">= {low}" if low is not None else f"<= {high}")
    )
    default = f"{column}_not_negative" if (low == 0 and high is None) else f"{column}_in_range"
    return where(name or default, column, " or ".join(parts), description or f"{column} {rng}", severity)


def matches(column: str, regex: str, severity: str = ERROR, name: str | None = None, description: str = "") -> Rule:
    """`column`'s non-null values match `regex` in full (DuckDB's RE2 syntax)."""
    c = ident(column)
    return where(
        name or f"{column}_format",
        column,
        f"{c} is not null and not regexp_full_match(cast({c} as varchar), {lit(regex)})",
        description or f"{column} matches {regex}",
        severity,
    )


def number_text(column: str, severity: str = ERROR) -> Rule:
    """A number the API sends as a string (Meta's spend, LinkedIn's costs) parses: staging would
    turn anything else into a null."""
    return matches(
        column, r"-?\d+(\.\d+)?", severity, f"{column}_is_a_number", f"{column} is a decimal number written as text"
    )


def not_negative(column: str, severity: str = ERROR) -> Rule:
    return between(column, 0, None, severity)


def rate(column: str, severity: str = ERROR) -> Rule:
    return between(column, 0, 1, severity, f"{column}_in_0_1", f"{column} is a rate in [0, 1]")


def score(column: str, severity: str = ERROR) -> Rule:
    return between(column, -1, 1, severity, f"{column}_in_-1_1", f"{column} is a score in [-1, 1]")


def at_least_one_row(severity: str = ERROR) -> Rule:
    return Rule(
        "has_rows",
        None,
        "the table holds at least one row",
        severity,
        query="select 'no rows' as problem where not exists (select 1 from {batch})",
    )


# -- rules generated from a declaration --------------------------------------------------------

_TYPE_NAMES = {
    "TIMESTAMPTZ": "TIMESTAMP WITH TIME ZONE",
    "INT": "INTEGER",
    "INT4": "INTEGER",
    "INT8": "BIGINT",
    "STRING": "VARCHAR",
    "TEXT": "VARCHAR",
    "BOOL": "BOOLEAN",
    "FLOAT8": "DOUBLE",
    "DECIMAL": "DECIMAL(18,3)",
}


def duckdb_type(declared: str) -> str:
    """A declared type as DuckDB's information_schema spells it."""
    t = " ".join(declared.upper().split()).replace(", ", ",")
    return _TYPE_NAMES.get(t, t)


def columns_as_declared(table: str, columns: dict[str, str], severity: str = ERROR) -> Rule:
    """Every declared column exists, with its declared type where one is declared."""
    schema, name = table.split(".", 1)
    rows = ", ".join(f"({lit(c)}, {lit(duckdb_type(t)) if t else 'null'})" for c, t in columns.items())
    query = (
        f"select d.column_name, d.declared_type, c.data_type as actual_type "
        f"from (values {rows}) as d(column_name, declared_type) "
        f"left join duckdb_columns() c on c.schema_name = {lit(schema)} "
        f"and c.table_name = {lit(name)} and c.column_name = d.column_name "
        f"where c.data_type is null or (d.declared_type is not null and c.data_type <> d.declared_type)"
    )
    return Rule(
        "columns_as_declared",
        None,
        f"the {len(columns)} declared columns exist with their declared types",
        severity,
        query=query,
    )


def day_expr(column: str, day_type: str) -> str:
    """The day of a partition column (a timestamp's UTC day)."""
    c = ident(column)
    if day_type.upper() in ("TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE"):
        return f"cast(timezone('UTC', {c}) as date)"
    return f"cast({c} as date)"


def _days_list(days: list[date]) -> str:
    return "[" + ", ".join(f"date '{x.isoformat()}'" for x in sorted(days)) + "]"


def rows_against_previous_days(
    table: str, day_column: str, day_type: str, days: list[date], severity: str = ERROR
) -> Rule:
    """A day of the run with fewer than MIN_SHARE_OF_MEDIAN of the median rows of the
    PREVIOUS_DAYS days with rows before it (within HISTORY_DAYS; when that median is at least
    MIN_MEDIAN_ROWS). The run's days are counted in the batch, earlier days in the table; a run
    day without rows counts 0."""
    d = day_expr(day_column, day_type)
    first = min(days).isoformat()
    query = (
        f"with run_days as (select unnest({_days_list(days)}) as day), "
        f"in_run as (select {d} as day, count(*) as n from {{batch}} group by 1), "
        f"earlier as (select {d} as day, count(*) as n from {table} where {d} < date '{first}' "
        f"  and {d} >= date '{first}' - interval {HISTORY_DAYS} day group by 1), "
        f"counts as (select * from earlier union all select * from in_run), "
        # the median of each day with rows and the PREVIOUS_DAYS - 1 before it...
        f"medians as (select day, median(n) over (order by day rows between {PREVIOUS_DAYS - 1} preceding "
        f"  and current row) as median_previous_rows from counts), "
        f"run as (select r.day, coalesce(i.n, 0) as day_rows from run_days r left join in_run i on i.day = r.day) "
        # ...taken at the last day with rows before each run day
        f"select run.day, run.day_rows, m.median_previous_rows from run asof left join medians m on run.day > m.day "
        f"where m.median_previous_rows >= {MIN_MEDIAN_ROWS} "
        f"and run.day_rows < {MIN_SHARE_OF_MEDIAN} * m.median_previous_rows"
    )
    return Rule(
        "rows_against_previous_days",
        day_column,
        f"each day has at least {MIN_SHARE_OF_MEDIAN:.0%} of the median rows of the {PREVIOUS_DAYS} days "
        f"with rows before it (when that median is {MIN_MEDIAN_ROWS} or more)",
        severity,
        query=query,
    )


def measure_against_previous_days(
    table: str,
    day_column: str,
    day_type: str,
    measure: str,
    days: list[date],
    low: float = 0.2,
    high: float = 5.0,
    severity: str = WARNING,
) -> Rule:
    """Distribution of a main measure over time: each run day's total of `measure` lies within
    [low, high] times the median daily total of the PREVIOUS_DAYS days before it (of 28; days
    with a total of at least 1, so a measure that starts from nothing is not flagged)."""
    d = day_expr(day_column, day_type)
    m = ident(measure)
    first = min(days).isoformat()
    query = (
        f"with in_run as (select {d} as day, sum({m}) as total from {{batch}} group by 1), "
        f"earlier as (select {d} as day, sum({m}) as total from {table} where {d} < date '{first}' "
        f"  and {d} >= date '{first}' - interval {PREVIOUS_DAYS * 4} day group by 1), "
        f"totals as (select * from earlier union all select * from in_run), "
        f"checked as (select r.day, r.total, (select median(p.total) from (select total from totals p "
        f"  where p.day < r.day and p.total >= 1 order by p.day desc limit {PREVIOUS_DAYS}) p) as median_previous "
        f"  from in_run r) "
        f"select day, total, median_previous from checked where median_previous is not null "
        f"and (total < {low} * median_previous or total > {high} * median_previous)"
    )
    return Rule(
        f"{measure}_daily_total_in_range",
        measure,
        f"each day's total {measure} is {low}-{high}x the median of the {PREVIOUS_DAYS} days before it",
        severity,
        query=query,
    )
