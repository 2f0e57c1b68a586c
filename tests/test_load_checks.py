"""Load checks on a stream's load: the counts reconcile, the reject share over its threshold is an
error naming the table, a key in two versions is reported as a conflict (warning; error over the
threshold). The loads are real loads of landed pages (warehouse/loader.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from warehouse.landing import land_pages
from warehouse.load_checks import (
    DEFAULT_REJECT_THRESHOLD,
    ERROR,
    WARNING,
    RejectThresholds,
    ThresholdError,
    check_load,
)
from warehouse.loader import RawTable, connect, load

TABLE = RawTable(
    source="src",
    stream="things",
    columns={"id": "VARCHAR", "day": "DATE", "amount": "DECIMAL(18,2)"},
    key=("day", "id"),
    partition_column="day",
)
DAY = "2026-06-01"


def rows(n, amount="1.50", start=0):
    return [{"id": str(i), "day": DAY, "amount": amount} for i in range(start, start + n)]


def load_pages(tmp_path, *pages):
    with connect(tmp_path / "w.duckdb") as con:
        return load(con, TABLE, land_pages(tmp_path / "landing", "src", "things", DAY, list(pages)))


def by_check(outcomes):
    return {o.check: o for o in outcomes}


@pytest.fixture(autouse=True)
def no_threshold_settings(monkeypatch):
    monkeypatch.delenv("SKW_REJECT_THRESHOLD", raising=False)
    monkeypatch.delenv("SKW_REJECT_THRESHOLDS", raising=False)


def test_a_clean_load_passes_every_check(tmp_path):
    page = rows(20)
    outcomes = check_load(load_pages(tmp_path, page, page[:5]))
    assert [(o.check, o.passed) for o in outcomes] == [
        ("load_reconciles", True),
        ("reject_share", True),
        ("conflicts", True),
    ]
    assert by_check(outcomes)["load_reconciles"].message.endswith(
        ": 25 received = 20 loaded + 0 rejected + 5 duplicates + 0 conflicting copies"
    )


def test_every_row_of_a_stream_rejected_is_an_error_naming_the_table(tmp_path):
    """A load in which no record converts (the API renamed the key field, say) loads nothing: a
    reject share of 1.0, an error that names the table, the partition and the counts."""
    broken = [{"ID": str(i), "day": DAY, "amount": "1"} for i in range(12)]
    result = load_pages(tmp_path, broken)
    assert (result.received, result.rejected, result.loaded) == (12, 12, 0)
    outcome = by_check(check_load(result))["reject_share"]
    assert not outcome.passed and outcome.severity == ERROR and outcome.failed_error
    assert outcome.asset == "raw.src__things" and outcome.partition == DAY
    assert outcome.observed["reject_share"] == 1.0 and outcome.observed["threshold"] == DEFAULT_REJECT_THRESHOLD
    assert outcome.message.startswith(f"raw.src__things {DAY} (load {result.load_id}): 12 of 12 records rejected")
    assert "share 100.00%, over the threshold 5.00% of src/things" in outcome.message
    assert by_check(check_load(result))["load_reconciles"].passed  # nothing lost: all of it is in the rejects


def test_the_reject_share_is_compared_with_the_threshold(tmp_path):
    bad = [{"day": DAY, "amount": "1"}]  # no id
    result = load_pages(tmp_path, rows(19) + bad)  # 1 of 20: 5%
    assert by_check(check_load(result))["reject_share"].passed
    assert not by_check(check_load(result, reject_threshold=0.04))["reject_share"].passed
    assert (
        "1 of 20 records rejected (share 5.00%, within the threshold 5.00%"
        in by_check(check_load(result))["reject_share"].message
    )


def test_thresholds_come_from_the_environment_per_stream(tmp_path, monkeypatch):
    result = load_pages(tmp_path, rows(2) + [{"day": DAY}])  # 1 of 3 rejected
    assert not by_check(check_load(result))["reject_share"].passed
    monkeypatch.setenv("SKW_REJECT_THRESHOLDS", "other/stream=0, src/things=0.5")
    outcome = by_check(check_load(result))["reject_share"]
    assert outcome.passed and outcome.observed["threshold"] == 0.5
    monkeypatch.setenv("SKW_REJECT_THRESHOLD", "0.4")
    monkeypatch.setenv("SKW_REJECT_THRESHOLDS", "other/stream=0")
    assert by_check(check_load(result))["reject_share"].passed
    assert RejectThresholds.from_env().for_table("raw.other__stream") == 0.0


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SKW_REJECT_THRESHOLD": "five percent"}, "SKW_REJECT_THRESHOLD='five percent'"),
        ({"SKW_REJECT_THRESHOLD": "5"}, "SKW_REJECT_THRESHOLD='5': a share must be between 0 and 1"),
        ({"SKW_REJECT_THRESHOLDS": "things=0.1"}, "SKW_REJECT_THRESHOLDS: 'things=0.1' is not source/stream=share"),
        ({"SKW_REJECT_THRESHOLDS": "src/things"}, "SKW_REJECT_THRESHOLDS: 'src/things' is not source/stream=share"),
        ({"SKW_REJECT_THRESHOLDS": "src/things=-1"}, "SKW_REJECT_THRESHOLDS (src/things)='-1'"),
    ],
)
def test_a_threshold_setting_that_does_not_read_is_refused_naming_it(env, named):
    with pytest.raises(ThresholdError) as refused:
        RejectThresholds.from_env(env)
    assert named in str(refused.value)


def test_a_key_in_two_versions_is_a_conflict_warning(tmp_path):
    """One key of 40 came twice with different values: a warning (2.5% is under the 5%
    threshold) naming the table and the counts; with a lower threshold, an error."""
    page = rows(40)
    result = load_pages(tmp_path, page, [dict(page[7], amount="9.99")])
    assert (result.conflicts, result.conflict_copies, result.duplicates) == (1, 1, 0)
    outcome = by_check(check_load(result))["conflicts"]
    assert not outcome.passed and outcome.severity == WARNING and not outcome.failed_error
    assert outcome.message.startswith(
        f"raw.src__things {DAY} (load {result.load_id}): 1 key(s) came in more "
        "than one version (1 of 40 rows loaded, 2.50%; threshold 5.00%)"
    )
    assert "every version is in raw._rejects (kind 'conflict')" in outcome.message
    assert by_check(check_load(result, reject_threshold=0.02))["conflicts"].severity == ERROR
    assert by_check(check_load(result))["load_reconciles"].passed


def test_identical_copies_are_no_conflict(tmp_path):
    page = rows(10)
    outcomes = by_check(check_load(load_pages(tmp_path, page, page)))
    assert outcomes["conflicts"].passed and outcomes["conflicts"].observed["conflicts"] == 0


def test_a_load_whose_counts_do_not_add_up_is_an_error(tmp_path):
    """The invariant is checked, not assumed: counts that lose a record fail, naming them."""
    result = load_pages(tmp_path, rows(5))
    lost = replace(result, received=result.received + 1)
    outcome = by_check(check_load(lost))["load_reconciles"]
    assert not outcome.passed and outcome.severity == ERROR
    assert "raw.src__things 2026-06-01" in outcome.message
    assert (
        "does not reconcile: 6 received, but 5 loaded + 0 rejected + 0 duplicates + 0 conflicting copies = 5"
        in outcome.message
    )


def test_an_empty_day_is_no_reject_share(tmp_path):
    outcomes = check_load(load_pages(tmp_path, []))
    assert all(o.passed for o in outcomes) and by_check(outcomes)["reject_share"].observed["reject_share"] == 0


def test_failed_load_checks_name_the_field_and_value_of_the_offending_records(tmp_path):
    """The rejects and conflicts of a load, read back from raw._rejects (`load_samples`): a
    reject's reason names the field and its value; a conflict names the key and each field
    that differs, with every version's value; a field of people's data is masked."""
    from datetime import UTC, datetime

    from warehouse.load_checks import MASK, load_samples

    since = datetime.now(UTC)
    page = rows(10) + [{"id": "x", "day": DAY, "amount": "twelve"}]
    result = load_pages(tmp_path, page, [dict(page[3], amount="7.25")])
    with connect(tmp_path / "w.duckdb") as con:
        samples = load_samples(con, result.table, since)
        masked = load_samples(con, result.table, since, masked=lambda f: f == "amount")
    outcomes = by_check(check_load(result, reject_threshold=0.01, samples=samples))
    rejected, conflict = outcomes["reject_share"], outcomes["conflicts"]
    assert not rejected.passed and "amount" in rejected.message and "twelve" in rejected.message
    assert rejected.rows[0]["line"] == 11
    assert not conflict.passed and "id=3" in conflict.message and 'amount "1.50" vs "7.25"' in conflict.message
    assert masked["invalid"][0]["reason"] == f"field amount: {MASK}"
    assert masked["conflict"][0]["differs"] == {"amount": [MASK, MASK]}
    assert load_samples(con=duckdb_empty(tmp_path), table=result.table, since=since) == {}


def duckdb_empty(tmp_path):
    import duckdb

    return duckdb.connect(str(tmp_path / "empty.duckdb"))
