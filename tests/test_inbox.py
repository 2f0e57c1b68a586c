"""The inbox folder: a file dropped there is loaded by the sensor's run and moved aside; a bad
one is moved to rejected/ with its reason, and the failed run is recorded where the quality
results are (orchestration/sensors.py, warehouse/inbox.py)."""

from __future__ import annotations

import csv

import pytest
from dagster import DagsterInstance, Definitions, SkipReason, build_sensor_context

from orchestration.instance import instance_settings
from orchestration.resources import WarehouseResource
from orchestration.sensors import FAILURE_CHECK, failure_row, inbox_sensor, load_inbox, record_failure
from warehouse.loader import connect
from warehouse.settings import Settings

HEADER = ["token", "response_id", "submitted_at", "hidden.channel", "hidden.platform", "answers_by_ref.csat_score"]
ROWS = [
    ["tok-1", "r-1", "2026-06-03T09:15:00Z", "chat", "facebook", "5"],
    ["tok-2", "r-2", "2026-06-03T17:40:00Z", "email", "instagram", "2"],
]


@pytest.fixture
def data(tmp_path, monkeypatch):
    monkeypatch.setenv("SKW_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SKW_WAREHOUSE_PATH", str(tmp_path / "data" / "w.duckdb"))
    monkeypatch.setenv("SKW_LANDING_DIR", str(tmp_path / "data" / "landing"))
    (tmp_path / "data" / "inbox").mkdir(parents=True)
    return Settings.from_env()


def write_csv(path, header, rows):
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def test_a_dropped_file_is_loaded_by_the_sensor_and_a_bad_one_rejected_with_its_reason(data):
    inbox = data.data_dir / "inbox"
    write_csv(inbox / "survey__responses__2026-06-03.csv", HEADER, ROWS)
    write_csv(inbox / "survey__responses__2026-06-04.csv", HEADER[1:], [r[1:] for r in ROWS])  # no token column
    instance = DagsterInstance.ephemeral(settings=instance_settings())
    requests = list(inbox_sensor(build_sensor_context(instance=instance)))
    assert len(requests) == 2 and len({r.run_key for r in requests}) == 2

    job = Definitions(
        jobs=[load_inbox], resources={"warehouse": WarehouseResource.from_settings(data)}
    ).resolve_job_def("load_inbox")
    results = {
        r.tags["skw/inbox_file"]: job.execute_in_process(
            run_config=r.run_config, instance=instance, tags=r.tags, raise_on_error=False
        )
        for r in requests
    }

    good = results["survey__responses__2026-06-03.csv"]
    assert good.success
    with connect(data.warehouse_path, read_only=True) as con:
        got = con.execute(
            "select token, cast(submitted_date as varchar), channel, csat_score from raw.survey__responses order by 1"
        ).fetchall()
    assert got == [("tok-1", "2026-06-03", "chat", 5), ("tok-2", "2026-06-03", "email", 2)]
    assert [p.name.split("-", 1)[1] for p in (inbox / "loaded").iterdir()] == ["survey__responses__2026-06-03.csv"]
    mats = good.asset_materializations_for_node("load_inbox_file")
    assert mats and mats[0].asset_key.path == ["raw", "survey", "responses"] and mats[0].metadata["loaded"].value == 2

    bad = results["survey__responses__2026-06-04.csv"]
    assert not bad.success
    rejected = sorted(p.name for p in (inbox / "rejected").iterdir())
    assert len(rejected) == 2 and rejected[1].endswith("survey__responses__2026-06-04.csv.reason.txt")
    reason = (inbox / "rejected" / rejected[1]).read_text()
    assert "survey__responses__2026-06-04.csv: the header has no column for token" in reason
    failure = next(e for e in bad.all_events if e.event_type_value == "STEP_FAILURE")
    assert "no column for token" in failure.event_specific_data.error.message

    # nothing is left in the inbox: the sensor asks for nothing more
    again = list(inbox_sensor(build_sensor_context(instance=instance)))
    assert len(again) == 1 and isinstance(again[0], SkipReason)

    # the failed run, where the quality results are (what the run-failure sensor writes)
    record_failure(data.warehouse_path, failure_row(bad.dagster_run, "inbox file rejected: no column for token", []))
    with connect(data.warehouse_path, read_only=True) as con:
        row = con.execute(
            'select asset, run_id, passed, severity, failed_expectations from quality.check_results where "check" = ?',
            [FAILURE_CHECK],
        ).fetchall()
    assert row[0][:4] == ("job/load_inbox", bad.run_id, False, "ERROR") and "no column for token" in row[0][4]


@pytest.mark.parametrize(
    "name,content,reason",
    [
        ("survey__responses.csv", "token\nx\n", "is dated by submitted_date: name the day"),
        ("nosuch__stream__2026-06-03.csv", "a\n1\n", "no declared stream nosuch/stream"),
        ("survey__responses__2026-06-03.jsonl", '{"token": "a"}\nnot json\n', "line 2 is not JSON"),
        ("survey__responses__2026-06-03.csv", ",".join(HEADER) + "\n", "no record in the file"),
        ("notes.txt", "hello", "name it <source>__<stream>__<YYYY-MM-DD>.csv"),
    ],
)
def test_each_bad_file_names_what_is_wrong(data, name, content, reason):
    from orchestration.sensors import declared_streams
    from warehouse.inbox import REJECTED, process_file

    path = data.data_dir / "inbox" / name
    path.write_text(content)
    result = process_file(path, declared_streams(), landing_root=data.landing_dir, warehouse_path=data.warehouse_path)
    assert result.outcome == REJECTED and reason in result.reason and not path.exists()
    assert (
        result.moved_to.exists()
        and reason in result.moved_to.with_name(result.moved_to.name + ".reason.txt").read_text()
    )
    assert not data.warehouse_path.exists()  # nothing loaded
