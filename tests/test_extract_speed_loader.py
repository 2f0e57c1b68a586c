"""Issue 13 item 7 (extraction at >= 0.8x the bare loop): the loader's cheaper row hash and
re-read path keep every promise of the changes-only load.

The row hash is DuckDB's `hash()` of the typed columns, tagged with the DuckDB version that
made it (`warehouse.loader.HASH_TAG`). A stored hash of another kind (the md5 of the row's
text every table held before, another DuckDB version's `hash()`, none at all) must not make an
unchanged row look changed: it is computed again from the stored row, and the row is left
alone (only its `_hash` is brought up to date)."""

from __future__ import annotations

import json

import pytest

from warehouse.landing import land_pages
from warehouse.loader import HASH_TAG, RawTable, connect, load

DAY = "2026-06-01"
# key includes the partition column (as most dated streams'), a timestamp and a JSON column
TABLE = RawTable(
    source="src",
    stream="things",
    columns={
        "id": "VARCHAR",
        "day": "DATE",
        "seen_at": "TIMESTAMPTZ",
        "amount": "DECIMAL(18,2)",
        "n": "BIGINT",
        "tags": "JSON",
    },
    key=("day", "id"),
    partition_column="day",
)
MERGED = RawTable(
    source="src",
    stream="accounts",
    columns={"id": "VARCHAR", "name": "VARCHAR", "spend": "DOUBLE"},
    key=("id",),
    disposition="merge",
)


def records(n: int, amount: str = "1.50") -> list[dict]:
    return [
        {"id": str(i), "day": DAY, "seen_at": f"{DAY}T10:00:0{i % 10}Z", "amount": amount, "n": i, "tags": ["a", i]}
        for i in range(n)
    ]


def land(tmp_path, recs, stream="things", partition=DAY):
    return land_pages(tmp_path / "landing", "src", stream, partition, [recs])


def counts(r) -> tuple[int, int, int, int]:
    return r.inserted, r.updated, r.unchanged, r.deleted


def stored(con, table=TABLE) -> list[tuple]:
    return con.execute(f"select id, _load_id, _hash from {table.name} order by id").fetchall()


# What the loader stored as `_hash` before issue 13 (warehouse/loader.py `md5(cast(row(...)))`).
OLD_MD5 = "md5(cast(row({cols}) as varchar))"


@pytest.mark.parametrize(
    "old_hash",
    [
        pytest.param(OLD_MD5, id="md5-before-issue-13"),
        pytest.param("'dh0.10.3:' || (hash(row({cols})) + 1)", id="another-duckdb-versions-hash"),
        pytest.param("null", id="no-hash-column-yet"),
    ],
)
def test_stored_hashes_of_another_kind_do_not_make_unchanged_rows_look_changed(tmp_path, old_hash):
    """A table whose rows were hashed otherwise (md5 before issue 13; a DuckDB upgrade, which
    may change `hash()`; a table from before `_hash`) re-read with the same values: nothing is
    rewritten (same `_load_id`), the counts say unchanged, and each hash is brought up to
    date so the next load compares directly. A row that did change is still replaced."""
    with connect(tmp_path / "w.duckdb") as con:
        first = load(con, TABLE, land(tmp_path, records(5)))
        con.execute(f"update {TABLE.name} set _hash = {old_hash.format(cols=', '.join(TABLE.columns))}")
        again = load(con, TABLE, land(tmp_path, records(5)))
        after_again = stored(con)
        changed = records(5)
        changed[3]["amount"] = "9.99"
        third = load(con, TABLE, land(tmp_path, changed))
        after_third = stored(con)
    assert counts(again) == (0, 0, 5, 0)
    assert {lid for _, lid, _ in after_again} == {first.load_id}  # not one row rewritten
    assert all(h.startswith(HASH_TAG) for _, _, h in after_again)
    assert counts(third) == (0, 1, 4, 0)
    assert [lid == third.load_id for _, lid, _ in after_third] == [False, False, False, True, False]


def test_a_merged_table_with_old_hashes_compares_by_recomputing(tmp_path):
    with connect(tmp_path / "w.duckdb") as con:
        rows = [{"id": "a", "name": "A", "spend": 1.5}, {"id": "b", "name": "B", "spend": 2.25}]
        first = load(con, MERGED, land(tmp_path, rows, "accounts", "current"))
        con.execute(f"update {MERGED.name} set _hash = md5(cast(row(id, name, spend) as varchar))")
        rows[1]["name"] = "B2"
        again = load(
            con, MERGED, land(tmp_path, rows + [{"id": "c", "name": "C", "spend": 0.0}], "accounts", "current")
        )
        got = stored(con, MERGED)
    assert counts(again) == (1, 1, 1, 0)
    assert [(i, lid == first.load_id) for i, lid, _ in got] == [("a", True), ("b", False), ("c", False)]
    assert all(h.startswith(HASH_TAG) for _, _, h in got)


def test_the_session_time_zone_does_not_make_rows_look_changed(tmp_path):
    """The hash is of the typed values, not of their text: a timestamp read back in another
    session time zone (a notebook's `SET TimeZone`) is the same instant and the row is unchanged.
    (md5 of the row's text, before issue 13, saw every row with a timestamp as changed.)"""
    with connect(tmp_path / "w.duckdb") as con:
        con.execute("set TimeZone = 'UTC'")
        first = load(con, TABLE, land(tmp_path, records(4)))
        con.execute("set TimeZone = 'America/New_York'")
        again = load(con, TABLE, land(tmp_path, records(4)))
        got = stored(con)
    assert counts(again) == (0, 0, 4, 0)
    assert {lid for _, lid, _ in got} == {first.load_id}


def test_a_changed_row_is_written_whole_from_its_new_file_and_line(tmp_path):
    """The re-read path compares keys and hashes only; what it writes for a changed or new row
    is the whole incoming row: columns, record, file, line and load id of the new read, the
    last copy of a key served twice winning."""
    with connect(tmp_path / "w.duckdb") as con:
        load(con, TABLE, land(tmp_path, records(4)))
        page = records(4)
        page[2] = {**page[2], "amount": "7.25", "extra": {"x": 1}}
        newer = {**page[2], "n": 99}
        new_row = {**records(6)[5]}
        landed = land(tmp_path, page + [new_row, newer])
        r = load(con, TABLE, landed)
        got = con.execute(
            f"""select id, amount::varchar, n, _record, _source_file, _line, _load_id from {TABLE.name}
                where _load_id = ? order by id""",
            [landed.load_id],
        ).fetchall()
    assert (r.received, r.loaded, r.conflicts) == (6, 5, 1)
    assert counts(r) == (1, 1, 3, 0)
    assert [(i, a, n, json.loads(rec), f, line) for i, a, n, rec, f, line, _ in got] == [
        ("2", "7.25", 99, newer, str(landed.path), 6),
        ("5", "1.50", 5, new_row, str(landed.path), 5),
    ]


def test_every_line_number_is_the_records_line_in_its_file_when_files_load_side_by_side(tmp_path):
    """The load reads its files side by side and writes on every thread (insertion order off):
    `_line` must still be each record's own line in its own file, the last copy of a repeated
    key must still win, and a reject must still name its line. 8 files of 18,000 records:
    more than a row group (122,880) in all, so the insert itself runs on every thread."""
    days = [f"2026-06-{d:02d}" for d in range(1, 9)]
    files = []
    for n, day in enumerate(days):
        recs = [{"id": str(i), "day": day, "seq": i + 1, "amount": "1.00"} for i in range(18_000 - n)]
        recs.append({"id": "5", "day": day, "seq": len(recs) + 1, "amount": "2.00"})  # a later copy of key 5
        recs.insert(100, {"day": day, "seq": 101})  # no id: rejected at line 101
        for i, r in enumerate(recs[101:], start=102):
            r["seq"] = i
        files.append(land_pages(tmp_path / "landing", "src", "lines", day, [recs[:7000], recs[7000:]]))
    table = RawTable(
        source="src",
        stream="lines",
        columns={"id": "VARCHAR", "day": "DATE", "amount": "VARCHAR"},
        key=("day", "id"),
        partition_column="day",
    )
    with connect(tmp_path / "w.duckdb") as con:
        result = load(con, table, files)
        wrong = con.execute(f"select count(*) from {table.name} where _line <> (_record->>'$.seq')::bigint").fetchall()[
            0
        ][0]
        fives = con.execute(f"select amount, _line from {table.name} where id = '5' order by day").fetchall()
        rejects = con.execute(
            "select source_file, line, (record::json->>'$.seq')::bigint from raw._rejects where kind = 'invalid' "
            "order by source_file"
        ).fetchall()
        order = con.execute("select current_setting('preserve_insertion_order')").fetchall()[0][0]
    assert result.rejected == 8 and result.loaded == sum(18_000 - n for n in range(8))
    assert wrong == 0
    assert fives == [("2.00", 18_000 - n + 2) for n in range(8)]
    assert rejects == [(str(f.path), 101, 101) for f in files]
    assert order is True  # the connection's own setting is given back
