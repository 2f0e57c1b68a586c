"""Great Expectations here: GX's SQL path on DuckDB, on a tiny warehouse made here, really runs
(a failing rule fails, a passing one passes), where a plain SQLAlchemy engine over duckdb-engine,
even with StaticPool, resolves nothing."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from expectations import runner
from expectations.declarations import TableDecl
from expectations.rules import WARNING, between, unique, where
from expectations.suites import Suite

# -- GX's SQL path on DuckDB -------------------------------------------------------------------

DAYS = (date(2026, 6, 1), date(2026, 6, 2))


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw")
        con.execute("create table raw.spend (day DATE, ad VARCHAR, spend DOUBLE)")
        con.execute("""insert into raw.spend values ('2026-06-01', 'a', 1.5), ('2026-06-01', 'b', 0),
                       ('2026-06-02', 'a', -2.0), ('2026-06-03', 'a', -9.0)""")
    return path


def tiny_suite(days=DAYS, *rules):
    decl = TableDecl(
        "raw.spend", "raw/x/spend", key=("day", "ad"), columns={"day": "DATE", "ad": "VARCHAR"}, day_column="day"
    )
    return Suite(decl, days, rules or (between("spend", 0, None), unique(("day", "ad"))))


def validate(con, s):
    session = runner.Session(con, "t")
    try:
        return session.validate(s)
    finally:
        session.close()


def test_a_plain_static_pool_engine_resolves_nothing(tiny):
    """The pitfall the runner's `_Connection` exists for: GX reads a result after SQLAlchemy has
    rolled its connection back, and DuckDB has dropped the result by then. When this starts to
    pass (a GX or duckdb-engine release fixed it), the runner's connection can go."""
    import great_expectations as gx
    import great_expectations.expectations as gxe
    from sqlalchemy.pool import StaticPool

    context = runner._context()
    source = context.data_sources.add_sql(
        "plain_static_pool",
        connection_string=f"duckdb:///{tiny}",
        kwargs={"connect_args": {"read_only": True}, "poolclass": StaticPool, "pool_reset_on_return": None},
    )
    try:
        batch = (
            source.add_query_asset("q", query="select * from raw.spend")
            .add_batch_definition_whole_table("w")
            .get_batch()
        )
        result = batch.validate(
            gx.ExpectationSuite(name="plain", expectations=[gxe.ExpectTableRowCountToBeBetween(min_value=1)])
        )
        assert not result.success
        assert "list index out of range" in str(result.results[0].exception_info)
    finally:
        source.get_execution_engine().engine.dispose()
        context.data_sources.delete("plain_static_pool")


def test_the_sql_path_fails_a_failing_rule_and_passes_the_others(tiny):
    with duckdb.connect(str(tiny), read_only=True) as con:
        result = validate(con, tiny_suite())
    assert result.rows == 3 and not result.success and result.blocking
    assert [f["check"] for f in result.failed] == ["spend_not_negative"]
    assert result.failed[0]["unexpected_count"] == 1 and result.failed[0]["sample"] == [-2.0]
    assert "raw.spend.spend" in result.failed[0]["message"] and "-2.0" in result.failed[0]["message"]


def test_only_the_suites_days_are_read(tiny):
    with duckdb.connect(str(tiny), read_only=True) as con:
        assert validate(con, tiny_suite((date(2026, 6, 1),))).success
        result = validate(con, tiny_suite((date(2026, 6, 1), date(2026, 6, 3))))  # not consecutive
    assert result.failed[0]["sample"] == [-9.0] and result.partition == "2026-06-01,2026-06-03"


def test_a_warning_fails_without_blocking_and_a_broken_rule_names_its_error(tiny):
    rules = (
        where("small_spend", "spend", "spend < 1", "spend is at least 1", WARNING),
        where("typo", "spend", "spendd > 0", "a rule with a typo"),
    )
    with duckdb.connect(str(tiny), read_only=True) as con:
        warned = validate(con, tiny_suite(DAYS, rules[0]))
        broken = validate(con, tiny_suite(DAYS, *rules))
    assert not warned.success and not warned.blocking and warned.failed[0]["severity"] == WARNING
    assert all(f["error"] and "spendd" in f["error"] for f in broken.failed)
    assert "could not run" in broken.failed[1]["message"]


def test_the_callers_connection_and_its_transaction_are_left_alone(tiny):
    """A run validates with its own read-write connection, maybe mid-transaction: GX's commits
    and rollbacks must not reach it, and GX must not close it."""
    with duckdb.connect(str(tiny)) as con:
        con.execute("begin transaction")
        con.execute("insert into raw.spend values ('2026-06-04', 'z', 1)")
        result = validate(con, tiny_suite())
        assert [f["check"] for f in result.failed] == ["spend_not_negative"]
        assert con.execute("select count(*) from raw.spend").fetchone()[0] == 5  # still in its transaction
        con.execute("commit")
        assert con.execute("select count(*) from raw.spend where ad = 'z'").fetchone()[0] == 1
