"""Something outside the pipeline holding the warehouse file (warehouse/locks.py): `holder_of`
names the process, and a run stops before extracting with one message naming it and pointing
to the serving file, instead of failing every stream on DuckDB's lock."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from warehouse import locks
from warehouse.locks import WarehouseBusy, ensure_free, holder_of

MARKER = "notebook-holding-the-warehouse"

HOLDER = """
import sys, time
import duckdb
con = duckdb.connect(sys.argv[2], read_only=sys.argv[3] == "ro")
print("ready", flush=True)
time.sleep(120)
"""


def make_db(path: Path) -> Path:
    duckdb.connect(str(path)).execute("create table t as select 1 as x").close()
    return path


class Holder:
    """A process (an analyst's notebook, say) holding the file open until stopped."""

    def __init__(self, path: Path, mode: str):
        script = path.with_name("holder.py")
        script.write_text(HOLDER)
        self.proc = subprocess.Popen(
            [sys.executable, str(script), MARKER, str(path), mode], stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout.readline().strip() == "ready"

    def __enter__(self):
        return self.proc

    def __exit__(self, *exc):
        self.proc.kill()
        self.proc.wait(timeout=30)


def test_nobody_holds_a_free_or_missing_file(tmp_path):
    assert holder_of(tmp_path / "absent.duckdb") is None
    db = make_db(tmp_path / "w.duckdb")
    assert holder_of(db) is None
    ensure_free(db, tmp_path / "serving.duckdb")  # no error


@pytest.mark.parametrize("mode", ["ro", "rw"])
def test_the_holder_is_named_by_pid_and_command_line(tmp_path, mode):
    db = make_db(tmp_path / "w.duckdb")
    with Holder(db, mode) as proc:
        holder = holder_of(db)
        assert holder is not None and holder.startswith(f"PID {proc.pid} (") and MARKER in holder
        # this process's own connection is not a holder to report
        con = duckdb.connect(str(db), read_only=True) if mode == "ro" else None
        try:
            assert holder_of(db) == holder
        finally:
            if con is not None:
                con.close()
    assert holder_of(db) is None


def test_without_proc_locks_duckdb_s_lock_error_names_the_holder(tmp_path, monkeypatch):
    db = make_db(tmp_path / "w.duckdb")
    monkeypatch.setattr(locks, "PROC", tmp_path / "no-proc")  # neither /proc/locks nor /proc/<pid>/cmdline
    with Holder(db, "rw") as proc:
        holder = holder_of(db)
    # the program DuckDB names (the command line itself is not readable here)
    assert holder is not None and holder.startswith(f"PID {proc.pid} (") and "python" in holder


def test_the_message_names_the_holder_and_the_serving_file(tmp_path):
    db = make_db(tmp_path / "w.duckdb")
    with Holder(db, "ro") as proc:
        with pytest.raises(WarehouseBusy) as err:
            ensure_free(db, tmp_path / "serving.duckdb")
    message = str(err.value)
    assert f"PID {proc.pid}" in message and MARKER in message
    assert str(db) in message and f"open the serving copy instead: {tmp_path / 'serving.duckdb'}" in message


def test_a_run_stops_before_extracting_with_one_message(world, tmp_path, monkeypatch):
    """Every stream of a source (dated and undated, two steps) against a warehouse an analyst
    holds open: the API sees no request, nothing is landed, and the run's failures say one thing,
    naming the holder and the serving file, not one lock error per stream."""
    from dagster import materialize

    from extractors import meta_ads
    from orchestration.assets.streams import raw_assets, stream_asset
    from orchestration.resources import SourceEnvironment, WarehouseResource
    from orchestration.sources.meta_ads import MetaAdsResource
    from sampleworld.fakes.base import FakeServer
    from sampleworld.fakes.meta_ads import MetaAdsApp

    db = make_db(tmp_path / "warehouse.duckdb")
    accounts = [a["account_id"] for a in json.loads((world / "meta_ads" / "accounts.json").read_text())]
    with FakeServer(MetaAdsApp(world, token="tok")) as srv, Holder(db, "ro") as proc:
        for k, v in {
            "META_BASE_URL": srv.url,
            "META_ACCESS_TOKEN": "tok",
            "META_AD_ACCOUNT_IDS": ",".join(accounts),
        }.items():
            monkeypatch.setenv(k, v)
        warehouse = WarehouseResource(warehouse_path=str(db), landing_dir=str(tmp_path / "landing"))
        result = materialize(
            raw_assets([stream_asset(s, "meta_ads") for s in meta_ads.STREAMS]),
            partition_key="2026-06-02",
            resources={"meta_ads": MetaAdsResource(environment=SourceEnvironment()), "warehouse": warehouse},
            raise_on_error=False,
        )
        assert srv.requests_served == 0
    assert not result.success
    assert not (tmp_path / "landing").exists()
    failures = {str(e.step_failure_data.error.message) for e in result.all_events if e.is_step_failure}
    assert len(failures) == 1, failures
    (message,) = failures
    assert f"PID {proc.pid}" in message and MARKER in message and "stream(s) failed" not in message
    assert str(tmp_path / "serving.duckdb") in message


def test_make_run_stops_before_the_run_naming_the_holder(tmp_path, monkeypatch, capsys):
    from orchestration import run

    db = make_db(tmp_path / "warehouse.duckdb")
    monkeypatch.setenv("SKW_WAREHOUSE_PATH", str(db))
    with Holder(db, "ro") as proc:
        assert run.main([]) == 1
    err = capsys.readouterr().err
    assert err.startswith("cannot run: The warehouse") and f"PID {proc.pid}" in err
    assert str(tmp_path / "serving.duckdb") in err
