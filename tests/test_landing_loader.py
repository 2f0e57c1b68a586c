"""Landing files are immutable; loads are idempotent, keep rejects with file and line, and
collapse a page served twice."""

from __future__ import annotations

import gzip
import json
import os
import stat

import duckdb
import pytest

from warehouse.landing import land_pages
from warehouse.loader import REJECTS_TABLE, RawTable, connect, load

TABLE = RawTable(
    source="src",
    stream="things",
    columns={"id": "VARCHAR", "day": "DATE", "amount": "VARCHAR"},
    key=("day", "id"),
    partition_column="day",
)


def rows(day, n, amount="1.50"):
    return [{"id": str(i), "day": day, "amount": amount} for i in range(n)]


def test_landing_file_is_named_compressed_complete_and_read_only(tmp_path):
    landed = land_pages(tmp_path, "src", "things", "2026-06-01", [rows("2026-06-01", 3), rows("2026-06-01", 2)])
    rel = landed.path.relative_to(tmp_path).as_posix()
    assert rel.startswith("src/things/partition=2026-06-01/") and rel.endswith(f"{landed.load_id}.jsonl.gz")
    assert landed.records == 5 and landed.pages == 2
    with gzip.open(landed.path, "rt") as f:
        assert [json.loads(x)["id"] for x in f] == ["0", "1", "2", "0", "1"]
    assert not os.stat(landed.path).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert not list(tmp_path.rglob("*.partial"))


def test_reload_replaces_the_partition(tmp_path):
    db = tmp_path / "w.duckdb"
    with connect(db) as con:
        load(con, TABLE, land_pages(tmp_path, "src", "things", "2026-06-01", [rows("2026-06-01", 4)]))
        load(con, TABLE, land_pages(tmp_path, "src", "things", "2026-06-02", [rows("2026-06-02", 3)]))
        again = load(con, TABLE, land_pages(tmp_path, "src", "things", "2026-06-01", [rows("2026-06-01", 2, "9.99")]))
        assert again.loaded == 2 and again.rows_in_table == 5
        got = con.execute(
            "select day::varchar, count(*), max(amount) from raw.src__things group by 1 order by 1"
        ).fetchall()
    assert got == [("2026-06-01", 2, "9.99"), ("2026-06-02", 3, "1.50")]


def test_only_changes_are_written(tmp_path):
    db = tmp_path / "w.duckdb"
    with connect(db) as con:
        first = load(con, TABLE, land_pages(tmp_path, "src", "things", "2026-06-01", [rows("2026-06-01", 4)]))
        again = load(con, TABLE, land_pages(tmp_path, "src", "things", "2026-06-01", [rows("2026-06-01", 4)]))
        changed = rows("2026-06-01", 3)
        changed[1]["amount"] = "7.00"
        third = load(con, TABLE, land_pages(tmp_path, "src", "things", "2026-06-01", [changed]))
        got = con.execute("select id, amount, _load_id from raw.src__things order by id").fetchall()
    assert (first.inserted, first.updated, first.unchanged, first.deleted) == (4, 0, 0, 0)
    assert (again.inserted, again.updated, again.unchanged, again.deleted) == (0, 0, 4, 0)
    assert (third.inserted, third.updated, third.unchanged, third.deleted) == (0, 1, 2, 1)
    assert [(i, a) for i, a, _ in got] == [("0", "1.50"), ("1", "7.00"), ("2", "1.50")]
    assert {lid for _, _, lid in got} == {first.load_id, third.load_id}


def test_merge_upserts_without_touching_other_keys(tmp_path):
    table = RawTable(
        source="src", stream="accts", columns={"id": "VARCHAR", "name": "VARCHAR"}, key=("id",), disposition="merge"
    )
    with connect(tmp_path / "w.duckdb") as con:
        load(
            con,
            table,
            land_pages(tmp_path, "src", "accts", "current", [[{"id": "a", "name": "A"}, {"id": "b", "name": "B"}]]),
        )
        r = load(
            con,
            table,
            land_pages(tmp_path, "src", "accts", "current", [[{"id": "b", "name": "B2"}, {"id": "c", "name": "C"}]]),
        )
        got = con.execute("select id, name from raw.src__accts order by id").fetchall()
    assert (r.inserted, r.updated, r.deleted) == (1, 1, 0)
    assert got == [("a", "A"), ("b", "B2"), ("c", "C")]


def test_load_metadata_and_whole_record_kept(tmp_path):
    db = tmp_path / "w.duckdb"
    extra = [{"id": "1", "day": "2026-06-01", "amount": "2", "new_field": {"x": 1}}]
    landed = land_pages(tmp_path, "src", "things", "2026-06-01", [extra])
    with connect(db) as con:
        load(con, TABLE, landed)
        rec, load_id, src, line = con.execute(
            "select _record->>'$.new_field.x', _load_id, _source_file, _line from raw.src__things"
        ).fetchall()[0]
    assert (rec, load_id, src, line) == ("1", landed.load_id, str(landed.path), 1)


def test_the_whole_record_is_stored_in_zstd(tmp_path):
    """`_record` (the source record beside the extracted columns) is written with zstd, not
    DuckDB's default FSST: 2.6x faster to write and 3x smaller on the benchmark's mentions."""
    records = [{"id": str(i), "day": "2026-06-01", "amount": "1.50", "note": "words " * (i % 40)} for i in range(3000)]
    with connect(tmp_path / "w.duckdb") as con:
        load(con, TABLE, land_pages(tmp_path, "src", "things", "2026-06-01", [records]))
        con.execute("checkpoint")
        kinds = con.execute(
            """select column_name, list(distinct compression) from pragma_storage_info('raw.src__things')
               where segment_type <> 'VALIDITY' and column_name in ('_record', 'id') group by all"""
        ).fetchall()
        kept = con.execute("select _record from raw.src__things order by _line").fetchall()
    assert dict(kinds)["_record"] == ["ZSTD"] and dict(kinds)["id"] != ["ZSTD"]  # only the record
    assert [json.loads(r) for (r,) in kept] == records


def test_records_without_key_go_to_rejects_with_file_and_line(tmp_path):
    page = rows("2026-06-01", 3) + [{"day": "2026-06-01", "amount": "5"}, {"id": "", "day": "2026-06-01"}]
    landed = land_pages(tmp_path, "src", "things", "2026-06-01", [page])
    with connect(tmp_path / "w.duckdb") as con:
        result = load(con, TABLE, landed)
        rejects = con.execute(
            f"select source, stream, source_file, line, reason, record from {REJECTS_TABLE} order by line"
        ).fetchall()
    assert (result.received, result.loaded, result.rejected) == (5, 3, 2)
    assert [(r[0], r[1], r[2], r[3]) for r in rejects] == [
        ("src", "things", str(landed.path), 4),
        ("src", "things", str(landed.path), 5),
    ]
    assert rejects[0][4] == "missing required field id" and json.loads(rejects[0][5]) == page[3]


def test_values_that_do_not_convert_are_rejected_naming_field_and_value(tmp_path):
    page = rows("2026-06-01", 2) + [{"id": "7", "day": "2026-13-45", "amount": "1"}]
    with connect(tmp_path / "w.duckdb") as con:
        before = load(con, TABLE, land_pages(tmp_path, "src", "things", "2026-06-01", [rows("2026-06-01", 4)]))
        result = load(con, TABLE, land_pages(tmp_path, "src", "things", "2026-06-01", [page]))
        reason = con.execute(f"select line, reason from {REJECTS_TABLE}").fetchall()
    assert before.loaded == 4 and (result.loaded, result.rejected) == (2, 1)
    assert reason == [(3, "field day: 2026-13-45 is not a valid DATE")]


def test_a_page_served_twice_loads_once(tmp_path):
    page = rows("2026-06-01", 3)
    landed = land_pages(tmp_path, "src", "things", "2026-06-01", [page, page])
    with connect(tmp_path / "w.duckdb") as con:
        result = load(con, TABLE, landed)
    assert (result.received, result.loaded, result.duplicates) == (6, 3, 3)


def test_failed_load_leaves_the_table_as_it_was(tmp_path):
    db = tmp_path / "w.duckdb"
    with connect(db) as con:
        load(con, TABLE, land_pages(tmp_path, "src", "things", "2026-06-01", [rows("2026-06-01", 4)]))
        broken = land_pages(tmp_path, "src", "things", "2026-06-01", [rows("2026-06-01", 2)])
        os.chmod(broken.path, 0o644)
        broken.path.write_bytes(b"not gzip at all")
        with pytest.raises(duckdb.Error):
            load(con, TABLE, broken)
        assert con.execute("select count(*) from raw.src__things").fetchall() == [(4,)]


def test_columns_can_come_from_nested_paths(tmp_path):
    table = RawTable(
        source="src",
        stream="nested",
        key=("day", "cid"),
        columns={
            "day": "DATE <- $.segments.date",
            "cid": "VARCHAR <- $.campaign.id",
            "clicks": "BIGINT <- $.metrics.clicks",
        },
        partition_column="day",
    )
    page = [
        {"segments": {"date": "2026-06-01"}, "campaign": {"id": "9"}, "metrics": {"clicks": "12"}},
        {"segments": {"date": "2026-06-01"}, "campaign": {}, "metrics": {"clicks": "1"}},
        {"segments": {"date": "2026-06-01"}, "campaign": {"id": "10"}, "metrics": {"clicks": "x"}},
    ]
    with connect(tmp_path / "w.duckdb") as con:
        r = load(con, table, land_pages(tmp_path, "src", "nested", "2026-06-01", [page]))
        rows = con.execute("select day::varchar, cid, clicks from raw.src__nested").fetchall()
        reasons = [x for (x,) in con.execute(f"select reason from {REJECTS_TABLE} order by line").fetchall()]
    assert (r.loaded, r.rejected) == (1, 2) and rows == [("2026-06-01", "9", 12)]
    assert reasons == ["missing required field $.campaign.id", "field $.metrics.clicks: x is not a valid BIGINT"]


def test_a_run_of_days_loads_in_one_transaction(tmp_path):
    day1 = land_pages(tmp_path, "src", "things", "2026-06-01", [rows("2026-06-01", 3)])
    bad = [{"id": "9", "day": "2026-06-02", "amount": "1"}, {"day": "2026-06-02", "amount": "1"}]
    day2 = land_pages(tmp_path, "src", "things", "2026-06-02", [bad + rows("2026-06-02", 2)])
    with connect(tmp_path / "w.duckdb") as con:
        load(con, TABLE, land_pages(tmp_path, "src", "things", "2026-06-03", [rows("2026-06-03", 4)]))
        r = load(con, TABLE, [day1, day2])
        got = con.execute(
            "select day::varchar, count(*), min(_source_file) from raw.src__things group by 1 order by 1"
        ).fetchall()
        rejects = con.execute(f"select partition, source_file, line from {REJECTS_TABLE}").fetchall()
    assert (r.received, r.loaded, r.rejected, r.inserted, r.partition) == (7, 6, 1, 6, "2026-06-01..2026-06-02")
    assert [(d, n) for d, n, _ in got] == [("2026-06-01", 3), ("2026-06-02", 3), ("2026-06-03", 4)]
    assert got[0][2] == str(day1.path) and got[1][2] == str(day2.path)
    assert rejects == [("2026-06-02", str(day2.path), 2)]


def test_values_orjson_refuses_are_landed_exactly(tmp_path):
    """Landing writes with orjson, which refuses integers beyond 64 bits; those records are
    written by `json` instead, digit for digit, and land beside the others in order."""
    big = 123456789012345678901234567890
    page = [{"id": "1", "n": 5, "s": "é ✓"}, {"id": "2", "n": big}, {"id": "3", "n": 1.5}]
    landed = land_pages(tmp_path, "src", "things", "2026-06-01", [page])
    with gzip.open(landed.path, "rt", encoding="utf-8") as f:
        lines = f.read().splitlines()
    assert [json.loads(x) for x in lines] == page
    assert str(big) in lines[1] and "é ✓" in lines[0]  # exact, and UTF-8 rather than \u escapes


def test_bare_field_names_and_fields_with_dots_are_read_as_one_key(tmp_path):
    """A column read from a field named without a `$` path (`createdAt`, or one holding a
    dot) is that one key, as `->>` read it before columns were extracted in one parse."""
    table = RawTable(
        source="src",
        stream="keys",
        key=("id",),
        disposition="merge",
        columns={
            "id": "VARCHAR",
            "created": "TIMESTAMPTZ <- createdAt",
            "dotted": "VARCHAR <- a.b",
            "tags": "JSON",
            "n": "BIGINT <- $.m.n",
        },
    )
    page = [
        {
            "id": "1",
            "createdAt": "2026-06-01T10:00:00Z",
            "a.b": "kept",
            "a": {"b": "wrong"},
            "tags": ["x", {"y": 1}],
            "m": {"n": "7"},
        }
    ]
    with connect(tmp_path / "w.duckdb") as con:
        r = load(con, table, land_pages(tmp_path, "src", "keys", "current", [page]))
        got = con.execute("select id, epoch(created)::bigint, dotted, tags::varchar, n from raw.src__keys").fetchall()
    assert r.loaded == 1 and got == [("1", 1780308000, "kept", '["x",{"y":1}]', 7)]


def test_duplicates_are_collapsed_only_when_a_key_repeats(tmp_path):
    """The dedupe window runs when some key comes twice: the later copy wins, across files
    (here it differs from the first, so it is counted as a conflict, not a duplicate)."""
    with connect(tmp_path / "w.duckdb") as con:
        first = land_pages(tmp_path, "src", "things", "2026-06-01", [rows("2026-06-01", 3, "1.00")])
        second = land_pages(tmp_path, "src", "things", "2026-06-02", [rows("2026-06-02", 2)])
        again = land_pages(tmp_path, "src", "things", "2026-06-01", [rows("2026-06-01", 1, "9.99")])
        r = load(con, TABLE, [first, second, again])
        got = con.execute(f"select day::varchar, id, amount from {TABLE.name} order by 1, 2").fetchall()
    assert (r.received, r.loaded, r.duplicates, r.conflicts, r.conflict_copies) == (6, 5, 0, 1, 1)
    assert r.reconciles()
    assert ("2026-06-01", "0", "9.99") in got and ("2026-06-01", "1", "1.00") in got and len(got) == 5


def test_a_repeated_key_over_stored_rows_is_diffed_once_the_later_copy_winning(tmp_path):
    """With rows stored, the load diffs against them; a key that comes twice is collapsed
    first (the later copy), so it counts as one change, not two."""
    with connect(tmp_path / "w.duckdb") as con:
        load(con, TABLE, land_pages(tmp_path, "src", "things", "2026-06-01", [rows("2026-06-01", 3)]))
        page = rows("2026-06-01", 3)
        later = [dict(page[0], amount="4.00")]
        r = load(con, TABLE, land_pages(tmp_path, "src", "things", "2026-06-01", [page, later]))
        got = con.execute(f"select id, amount from {TABLE.name} order by id").fetchall()
    assert (r.received, r.loaded, r.duplicates, r.conflicts, r.conflict_copies) == (4, 3, 0, 1, 1)
    assert (r.inserted, r.updated, r.unchanged, r.deleted) == (0, 1, 2, 0) and r.reconciles()
    assert got == [("0", "4.00"), ("1", "1.50"), ("2", "1.50")]


def test_merge_scope_is_the_keys_that_came(tmp_path):
    """A merge compares only the stored rows whose key came in this load, repeated or not."""
    table = RawTable(
        source="src", stream="accts", columns={"id": "VARCHAR", "name": "VARCHAR"}, key=("id",), disposition="merge"
    )
    with connect(tmp_path / "w.duckdb") as con:
        load(
            con,
            table,
            land_pages(tmp_path, "src", "accts", "current", [[{"id": "a", "name": "A"}, {"id": "b", "name": "B"}]]),
        )
        r = load(
            con,
            table,
            land_pages(
                tmp_path,
                "src",
                "accts",
                "current",
                [[{"id": "b", "name": "B"}, {"id": "b", "name": "B3"}, {"id": "x"}]],
            ),
        )
        got = con.execute("select id, name from raw.src__accts order by id").fetchall()
    assert (r.received, r.loaded, r.duplicates, r.inserted, r.updated, r.unchanged, r.deleted) == (3, 2, 0, 1, 1, 0, 0)
    assert (r.conflicts, r.conflict_copies) == (1, 1) and r.reconciles()
    assert got == [("a", "A"), ("b", "B3"), ("x", None)]


def test_a_range_read_in_one_pass_lands_one_file_a_day(tmp_path):
    """`land_days`: records of many days, in any order, each day in its own file (an empty
    file for a day without records, so loading it empties that partition); a day not asked
    for, or a pass that fails, lands nothing at all."""
    from datetime import date

    from warehouse.landing import land_days

    d1, d2, d3 = date(2026, 6, 1), date(2026, 6, 2), date(2026, 6, 3)
    pass_ = [
        (d2, rows("2026-06-02", 2)),
        (d1, rows("2026-06-01", 1)),
        (d2, [{"id": "9", "day": "2026-06-02", "amount": "2"}]),
    ]
    landed = land_days(tmp_path / "l", "src", "things", [d3, d1, d2], pass_)
    assert {d: (f.records, f.pages) for d, f in landed.items()} == {d1: (1, 1), d2: (3, 2), d3: (0, 0)}
    with gzip.open(landed[d2].path, "rt") as f:
        assert [json.loads(x)["id"] for x in f] == ["0", "1", "9"]
    with connect(tmp_path / "w.duckdb") as con:
        load(con, TABLE, land_pages(tmp_path / "l", "src", "things", "2026-06-03", [rows("2026-06-03", 2)]))
        r = load(con, TABLE, list(landed.values()))
        assert (r.inserted, r.deleted) == (4, 2)  # 2026-06-03 is now empty, as the source says
    with pytest.raises(ValueError, match="outside the days asked for"):
        land_days(tmp_path / "m", "src", "things", [d1], [(d2, rows("2026-06-02", 1))])

    def failing():
        yield d1, rows("2026-06-01", 1)
        raise ConnectionError("gone")

    with pytest.raises(ConnectionError):
        land_days(tmp_path / "n", "src", "things", [d1, d2], failing())
    assert not [p for p in (tmp_path / "m").rglob("*") if p.is_file()]
    assert not [p for p in (tmp_path / "n").rglob("*") if p.is_file()]


def test_each_partitions_rejects_survive_loads_of_the_others(tmp_path):
    """Partitions loaded one after another, each with its own bad records: a load replaces the
    rejects of the partitions it loads and no others; a reload of one day with a clean file
    clears that day's rejects only."""

    def bad(day, n):
        return [{"day": day, "amount": str(i)} for i in range(n)]  # no id: rejected

    days = ["2026-06-01", "2026-06-02", "2026-06-03"]
    with connect(tmp_path / "w.duckdb") as con:
        files = {}
        for n, day in enumerate(days, start=1):
            files[day] = land_pages(tmp_path, "src", "things", day, [rows(day, 3) + bad(day, n)])
            result = load(con, TABLE, files[day])
            assert (result.received, result.loaded, result.rejected) == (3 + n, 3, n)

        def rejects():
            return con.execute(f"""select partition, source_file, count(*) from {REJECTS_TABLE}
                                   where source = 'src' and stream = 'things' group by all order by 1""").fetchall()

        assert rejects() == [(d, str(files[d].path), n) for n, d in enumerate(days, start=1)]
        # another stream's load leaves this one's rejects alone
        other = RawTable(source="src", stream="others", columns=TABLE.columns, key=TABLE.key, partition_column="day")
        load(con, other, land_pages(tmp_path, "src", "others", "2026-06-02", [bad("2026-06-02", 5)]))
        assert rejects() == [(d, str(files[d].path), n) for n, d in enumerate(days, start=1)]
        # the middle day reloaded clean: its rejects go, the others' stay
        load(con, TABLE, land_pages(tmp_path, "src", "things", "2026-06-02", [rows("2026-06-02", 3)]))
        assert rejects() == [
            ("2026-06-01", str(files["2026-06-01"].path), 1),
            ("2026-06-03", str(files["2026-06-03"].path), 3),
        ]
        assert con.execute("select count(*) from raw.src__things").fetchall() == [(9,)]


def conflict_rejects(con):
    return con.execute(f"""select partition, source_file, line, reason, record from {REJECTS_TABLE}
                           where kind = 'conflict' order by source_file, line""").fetchall()


def test_a_key_in_two_versions_is_a_conflict_both_kept_in_rejects_the_newest_loaded(tmp_path):
    """Copies of a key that differ in value are not silently collapsed: the last copy read is
    loaded, and every copy (the loaded one too) goes to raw._rejects as a conflict whose reason
    names the key, the lines and the copy loaded. An identical copy beside it stays a duplicate."""
    first = rows("2026-06-01", 3)
    later = [dict(first[0], amount="2.00"), dict(first[1])]  # id 0 changed, id 1 served again
    landed = land_pages(tmp_path, "src", "things", "2026-06-01", [first, later])
    with connect(tmp_path / "w.duckdb") as con:
        r = load(con, TABLE, landed)
        stored = con.execute(f"select id, amount from {TABLE.name} order by id").fetchall()
        conflicts = conflict_rejects(con)
        invalid = con.execute(f"select count(*) from {REJECTS_TABLE} where kind = 'invalid'").fetchall()
    assert (r.received, r.loaded, r.rejected, r.duplicates, r.conflicts, r.conflict_copies) == (5, 3, 0, 1, 1, 1)
    assert r.reconciles() and invalid == [(0,)]
    assert stored == [("0", "2.00"), ("1", "1.50"), ("2", "1.50")]
    assert [(p, f, line) for p, f, line, _, _ in conflicts] == [
        ("2026-06-01", str(landed.path), 1),
        ("2026-06-01", str(landed.path), 4),
    ]
    assert [json.loads(rec)["amount"] for *_, rec in conflicts] == ["1.50", "2.00"]
    reason = conflicts[0][3]
    assert reason == conflicts[1][3]
    assert reason == (
        "conflict: key day=2026-06-01, id=0 came in 2 versions with different values at lines 1, 4; line 4 was loaded"
    )


def test_identical_copies_are_duplicates_not_conflicts(tmp_path):
    """A page served twice (the same values under the same keys) is normal: duplicates, no
    conflict and nothing in the rejects."""
    page = rows("2026-06-01", 3)
    with connect(tmp_path / "w.duckdb") as con:
        r = load(con, TABLE, land_pages(tmp_path, "src", "things", "2026-06-01", [page, page, page[:1]]))
        assert con.execute(f"select count(*) from {REJECTS_TABLE}").fetchall() == [(0,)]
    assert (r.received, r.loaded, r.duplicates, r.conflicts, r.conflict_copies) == (7, 3, 4, 0, 0)
    assert r.reconciles()


def test_a_conflict_across_the_files_of_one_load_names_each_copys_load(tmp_path):
    """A key in two files of one load (a day landed twice, then loaded together): the later
    file's copy is loaded and the reason tells the copies apart by their load id."""
    older = land_pages(tmp_path, "src", "things", "2026-06-01", [rows("2026-06-01", 2)])
    newer = land_pages(tmp_path, "src", "things", "2026-06-01", [rows("2026-06-01", 1, "3.00")])
    with connect(tmp_path / "w.duckdb") as con:
        r = load(con, TABLE, [older, newer])
        stored = con.execute(f"select id, amount from {TABLE.name} order by id").fetchall()
        conflicts = conflict_rejects(con)
    assert (r.loaded, r.duplicates, r.conflicts, r.conflict_copies) == (2, 0, 1, 1) and r.reconciles()
    assert stored == [("0", "3.00"), ("1", "1.50")]
    assert [f for _, f, *_ in conflicts] == [str(older.path), str(newer.path)]
    assert conflicts[0][3] == (
        f"conflict: key day=2026-06-01, id=0 came in 2 versions with different values at "
        f"lines 1 of load {older.load_id}, 1 of load {newer.load_id}; "
        f"line 1 of load {newer.load_id} was loaded"
    )


def test_a_reload_without_the_conflict_clears_it_from_the_rejects(tmp_path):
    """Conflicts are rejects of the partition's latest load, like invalid records."""
    page = rows("2026-06-01", 2)
    with connect(tmp_path / "w.duckdb") as con:
        load(con, TABLE, land_pages(tmp_path, "src", "things", "2026-06-01", [page, [dict(page[0], amount="5")]]))
        assert len(conflict_rejects(con)) == 2
        r = load(con, TABLE, land_pages(tmp_path, "src", "things", "2026-06-01", [page]))
        assert conflict_rejects(con) == [] and (r.conflicts, r.updated) == (0, 1)


def test_rejects_from_before_kinds_stay_readable_as_invalid(tmp_path):
    """A warehouse whose raw._rejects predates `kind` gets the column on its next load; its old
    rows (all invalid records then) read as 'invalid'."""
    with connect(tmp_path / "w.duckdb") as con:
        con.execute("create schema raw")
        con.execute(f"""create table {REJECTS_TABLE} (source VARCHAR, stream VARCHAR, partition VARCHAR,
                        load_id VARCHAR, source_file VARCHAR, line BIGINT, reason VARCHAR, record VARCHAR,
                        rejected_at TIMESTAMPTZ)""")
        con.execute(
            f"insert into {REJECTS_TABLE} values ('src', 'old', '2026-05-01', 'l', 'f', 1, "
            "'missing required field id', '{{}}', now())"
        )
        page = rows("2026-06-01", 1) + [{"day": "2026-06-01"}]
        load(con, TABLE, land_pages(tmp_path, "src", "things", "2026-06-01", [page, [dict(page[0], amount="2")]]))
        got = con.execute(f"select stream, line, kind from {REJECTS_TABLE} order by stream, line").fetchall()
    assert got == [
        ("old", 1, "invalid"),
        ("things", 1, "conflict"),
        ("things", 2, "invalid"),
        ("things", 3, "conflict"),
    ]


def test_reconciles_is_false_when_the_counts_do_not_add_up():
    from warehouse.loader import LoadResult

    good = LoadResult(
        "raw.src__things",
        "2026-06-01",
        "l",
        received=10,
        loaded=6,
        rejected=1,
        duplicates=1,
        inserted=4,
        updated=1,
        unchanged=1,
        deleted=0,
        rows_in_table=6,
        conflicts=1,
        conflict_copies=2,
    )
    assert good.reconciles()
    from dataclasses import replace

    assert not replace(good, duplicates=2).reconciles()  # one record counted twice
    assert not replace(good, inserted=5).reconciles()  # loaded != inserted + updated + unchanged
    assert not replace(good, conflicts=3, conflict_copies=2).reconciles()  # a conflict is at least one extra copy
