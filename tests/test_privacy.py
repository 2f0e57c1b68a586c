"""Privacy (issue 17, item 8): no person of the CRM, the comments or the messages reaches what
people other than the pipeline read: the quality results (`quality.check_results`), the
metadata of Dagster's asset checks and the run's event records, the serving database and its
Parquet copy, and the KPI report. Raw keeps people's records (it is what the sources sent);
the rejects (`raw._rejects`) keep a rejected record as raw would, in the raw schema, which is
never published.

The people are the sample world's own (tests/test_staging_pii.py `world_people`: the HubSpot
contacts' names and e-mails, commenters, the care inbox's customers, private authors of
listening and X mentions, with their handles and user ids), and so is its scanner (e-mails and
phone numbers by shape, names, handles and ids by value). Everything is read from the session's
run (tests/conftest.py `materialized`: the main job over the 7-day test world, serving and
report included); nothing is built again.

That run's checks all pass, so its check metadata shows no offending rows. The masking of the
rows a failed check shows is driven here on purpose: for every raw table that holds people, one
key is loaded in two versions taken from two real records of different people (a conflict, whose
check shows each differing field with both versions' values), through the raw step's own checks
(orchestration/checks.py `raw_checks`), and the result's metadata and recorded row are scanned.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

import pytest
from test_staging_pii import People, scan, world_people

from warehouse.loader import column_spec, connect
from warehouse.settings import Settings

# The plotly.js bundle the report inlines once: library code, not data (its minified numbers
# would read as phone numbers). Everything else in the page is scanned, chart data included.
_PLOTLY_LIBRARY = re.compile(r"<script[^>]*>\s*/\*\*\s*\*\s*plotly\.js v[\d.]+.*?</script>", re.S)


@pytest.fixture(scope="module")
def people(world) -> People:
    return world_people(world)


def _written(materialized, path) -> None:
    """The session's run wrote `path` (else: why not, from the run's failed steps)."""
    from orchestration.run import failed_steps

    result = materialized["result"]
    why = "" if result.success else f"; the session's run failed: {failed_steps(result)}"
    assert path.exists(), f"the session's run wrote nothing at {path}{why}"


def _leaks(people: People, texts) -> list[str]:
    out = []
    for where, text in texts:
        what = people.found_in(text)
        if what:
            out.append(f"{where}: {what}")
    return out


# -- the quality schema ------------------------------------------------------------------------


def test_no_quality_result_holds_a_person(materialized, people):
    with connect(materialized["warehouse"], read_only=True) as con:
        rows = con.execute("select count(*) from quality.check_results").fetchone()[0]
        leaks = scan(con, people, ["quality"], {})
    assert rows > 100  # the run recorded its checks
    assert not leaks, "\n".join(leaks)


# -- Dagster: the run's event records and its asset checks' metadata ---------------------------


def test_no_event_record_of_the_run_holds_a_person(materialized, people):
    """Every event of the session's run: log messages, materializations' and check evaluations'
    metadata (what the UI shows)."""
    instance, run_id = materialized["instance"], materialized["result"].run_id
    records = instance.all_logs(run_id)
    checks = [r for r in records if r.dagster_event and r.dagster_event.event_type_value == "ASSET_CHECK_EVALUATION"]
    assert len(checks) > 50
    texts = [
        (f"event {i} ({r.dagster_event.event_type_value if r.dagster_event else 'log'})", repr(r))
        for i, r in enumerate(records)
    ]
    leaks = _leaks(people, texts)
    assert not leaks, "\n".join(leaks[:20])


def _raw_streams() -> dict:
    """Every declared stream by its raw table name."""
    from orchestration import sources
    from warehouse.engine import raw_table

    return {raw_table(a.stream).name: a.stream for m in sources.modules() for a in m.ASSETS}


def _set_path(record: dict, path: str, value) -> None:
    """Set a column's field (`name` or `$.a.b`) in a record."""
    parts = path.removeprefix("$.").split(".") if path.startswith("$") else [path]
    for p in parts[:-1]:
        record = record.setdefault(p.strip('"'), {})
    record[parts[-1].strip('"')] = value


def _get_path(record: dict, path: str):
    parts = path.removeprefix("$.").split(".") if path.startswith("$") else [path]
    for p in parts:
        if not isinstance(record, dict):
            return None
        record = record.get(p.strip('"'))
    return record


def _two_people(con, table: str, stream, people: People) -> tuple[dict, dict, str] | None:
    """Two records of `table` in one partition, each holding a different person: (first, second,
    partition)."""
    part = stream.cursor_field if stream.disposition == "replace_partition" else None
    select = f'cast("{part}" as varchar)' if part else "'current'"
    rows = con.execute(f"select {select}, _record from {table} order by 1, _line").fetchall()
    seen: dict[str, list[tuple[dict, str]]] = {}
    for partition, record in rows:
        found = people.found_in(record)
        if not found:
            continue
        earlier = seen.setdefault(partition, [])
        for other, other_found in earlier:
            if other_found != found:
                return other, json.loads(record), partition
        earlier.append((json.loads(record), found))
    return None


def test_a_failed_checks_offending_rows_show_no_person(materialized, people, tmp_path):
    """A key of every raw table holding people is loaded in two versions from two people's
    records: the conflict check fails and shows the differing fields, never their people."""
    from dagster import AssetCheckKey

    from orchestration.assets.streams import asset_key
    from orchestration.checks import LOAD_CHECKS, Loaded, raw_checks
    from warehouse.engine import raw_table
    from warehouse.landing import land_pages
    from warehouse.loader import load

    streams = _raw_streams()
    with connect(materialized["warehouse"], read_only=True) as con:
        tables = [
            t
            for (t,) in con.execute(
                "select 'raw.' || table_name from duckdb_tables() where schema_name = 'raw' order by 1"
            ).fetchall()
            if t in streams
        ]
        pairs = {t: p for t in tables if (p := _two_people(con, t, streams[t], people))}
    # every kind of record that holds people: the CRM, comments, messages, mentions
    assert {
        "raw.hubspot__contacts",
        "raw.facebook__comments",
        "raw.facebook__messages",
        "raw.instagram__messages",
        "raw.listening__mentions",
        "raw.x__mentions",
    } <= set(pairs), sorted(pairs)
    leaks, conflicts = [], 0
    for table, (first, second, partition) in pairs.items():
        stream = streams[table]
        rt = raw_table(stream)
        second = json.loads(json.dumps(second))
        for col in (*stream.primary_key, *([rt.partition_column] if rt.partition_column else [])):
            path = column_spec(col, rt.columns[col])[1]
            _set_path(second, path, _get_path(first, path))
        since = datetime.now(UTC)
        landed = land_pages(tmp_path / "landing", stream.source, stream.name, partition, [[first, second]])
        with connect(tmp_path / "w.duckdb") as con:
            result = load(con, rt, landed)
            key = asset_key(stream)
            counts = {
                "received": result.received,
                "loaded": result.loaded,
                "rejected": result.rejected,
                "duplicates": result.duplicates,
                "conflicts": result.conflicts,
                "conflict_copies": result.conflict_copies,
                "inserted": result.inserted,
                "rows_in_table": result.rows_in_table,
            }
            results, rows = raw_checks(
                con=con,
                loaded=[Loaded(key, table, counts)],
                selected={AssetCheckKey(key, n) for n in LOAD_CHECKS},
                days=None,
                run_id="privacy-test",
                since=since,
                log=logging.getLogger("test_privacy"),
            )
            recorded = con.execute(
                "select failed_expectations::varchar from quality.check_results where asset = ?",
                [key.to_user_string()],
            ).fetchall()
        assert result.conflicts == 1, (table, result)
        conflict = next(r for r in results if r.check_name == "conflicts")
        assert conflict.metadata["offending_rows"].value or conflict.metadata["failed_expectations"].value
        conflicts += 1
        shown = [(f"{table} check {r.check_name} metadata", repr(r.metadata) + (r.description or "")) for r in results]
        shown += [(f"{table} quality.check_results", text) for (text,) in recorded]
        leaks += _leaks(people, shown)
    assert conflicts == len(pairs)
    assert not leaks, "\n".join(leaks)


# -- the serving database, its Parquet copy, the report -----------------------------------------


def test_the_serving_database_holds_no_person_and_no_raw_data(materialized, people):
    serving = Settings.from_env().serving_path
    _written(materialized, serving)
    with connect(serving, read_only=True) as con:
        schemas = {s for (s,) in con.execute("select distinct table_schema from information_schema.tables").fetchall()}
        marts = con.execute("select count(*) from information_schema.tables where table_schema = 'marts'").fetchone()
        leaks = scan(con, people, sorted(schemas), {})
    # neither raw (nor its rejects) nor staging; `semantic` is the semantic layer's calendar
    assert schemas <= {"marts", "quality", "semantic", "meta"}, schemas
    assert marts[0] > 10
    assert not leaks, "\n".join(leaks)


def test_the_serving_parquet_copy_holds_no_person(materialized, people):
    import duckdb

    from warehouse.serving import CURRENT, parquet_root

    current = parquet_root(Settings.from_env().serving_path) / CURRENT
    _written(materialized, current)
    files = sorted(current.resolve().rglob("*.parquet"))
    assert len(files) > 10
    assert {f.parent.name for f in files} <= {"marts", "quality", "semantic"}
    con = duckdb.connect()
    try:
        for f in files:
            literal = "'" + str(f).replace("'", "''") + "'"
            con.execute(f'create view "{f.parent.name}__{f.stem}" as select * from read_parquet({literal})')
        leaks = scan(con, people, ["main"], {})
    finally:
        con.close()
    assert not leaks, "\n".join(leaks)


def test_the_kpi_report_holds_no_person(materialized, people):
    from warehouse.report import report_path

    path = report_path()
    _written(materialized, path)
    page = path.read_text(encoding="utf-8")
    data = _PLOTLY_LIBRARY.sub("<script></script>", page)
    assert len(data) < len(page) // 4  # the library is what was taken out ...
    assert data.count("Plotly.newPlot(") >= 5  # ... the charts and their data are still there
    leaks = _leaks(people, [(str(path), data)])
    assert not leaks, "\n".join(leaks)
