"""What a run prints in the terminal (orchestration/progress.py, used by orchestration/run.py):
one line format, `time  asset  message`, for Dagster's lines and the project's alike, the
HTTP core's retry lines (logged in the threads that read a stream's days) labelled with their
stream, and progress lines: assets done of the run's total and rows loaded."""

from __future__ import annotations

import re
from datetime import date

from dagster import DagsterInstance, MaterializeResult, asset, define_asset_job
from dagster import Definitions as Defs

from extractors.x import MENTIONS
from orchestration.instance import instance_settings
from orchestration.progress import format_line, progress_console
from orchestration.sources.x import XResource
from sampleworld.fakes import x as x_fake
from sampleworld.fakes.base import FakeServer, FaultConfig
from sampleworld.fakes.x import XApp
from warehouse import engine

LINE = re.compile(r"^\d\d:\d\d:\d\d  (?P<asset>\S+) +(?P<message>.*)$")
DAYS = [date(2026, 6, d) for d in (2, 3, 4)]


def test_a_line_is_time_asset_message_and_later_lines_are_indented():
    line = format_line(0, "raw/x/mentions", "first\nsecond")
    assert line.splitlines()[0] == "00:00:00  raw/x/mentions               first"
    assert line.splitlines()[1].strip() == "second" and line.splitlines()[1].startswith(" " * 20)
    assert "WARNING first" in format_line(0, "run", "first", level=30)


def test_retries_in_the_streams_threads_and_dagsters_lines_share_one_format_with_progress(world, tmp_path, capsys):
    faults = FaultConfig(error_rate=0.2, retry_after_s=0, seed=5)
    with FakeServer(XApp(world), faults) as srv:
        env = x_fake.env(srv.url, srv.app)

        @asset(key=["raw", "x", "mentions"])
        def mentions(context):
            meta = engine.run_stream(
                MENTIONS,
                lambda: XResource.client_from(env),
                landing_root=tmp_path / "landing",
                warehouse_path=tmp_path / "w.duckdb",
                days=DAYS,
                workers=3,  # the days on three threads: their retry lines must still name the stream
                logger=context.log,
            )
            return MaterializeResult(metadata={k: v for k, v in meta.items() if isinstance(v, int | float)})

        @asset(deps=[mentions])
        def after(context):
            context.log.info("built after the mentions")

        job = (
            Defs(assets=[mentions, after], jobs=[define_asset_job("two", selection="*")])
            .resolve_job_def("two")
            .with_logger_defs({"console": progress_console})
        )
        result = job.execute_in_process(
            instance=DagsterInstance.ephemeral(settings=instance_settings()),
            run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
        )
    assert result.success
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.strip() and not line.startswith(" ")]
    assert lines, out
    bad = [line for line in lines if not LINE.match(line)]
    assert bad == [], bad  # every line: time, asset, message
    by_asset = [(m["asset"], m["message"]) for m in map(LINE.match, lines)]
    retries = [(a, m) for a, m in by_asset if "retry 1 of" in m]
    assert retries, out  # the fake's 5xx were retried, and said so ...
    assert {a for a, _ in retries} == {"raw/x/mentions"}  # ... on the stream's line, from any thread
    assert ("after", "built after the mentions") in by_asset
    (mat,) = [
        e.materialization for e in result.get_asset_materialization_events() if e.asset_key.path[-1] == "mentions"
    ]
    loaded = mat.metadata["loaded"].value
    assert loaded > 0
    progress = [m for a, m in by_asset if a == "progress"]
    assert "1/2 assets done" in progress[0] and f"{loaded:,} rows loaded" in progress[0], progress
    assert progress[-1] == f"2/2 assets done, {loaded:,} rows loaded", progress


def test_dbts_lines_written_to_stdout_during_a_run_come_out_in_the_same_format(capsys):
    from orchestration.progress import formatted_stdout

    with formatted_stdout():
        print("1 of 236 OK created sql view model staging.stg_x__mentions ..... [OK in 0.78s]")
        print(format_line(0, "raw/x/mentions", "already formatted\nsecond line"))
    out = capsys.readouterr().out.splitlines()
    assert LINE.match(out[0]) and LINE.match(out[0])["asset"] == "dbt", out
    assert out[0].endswith("1 of 236 OK created sql view model staging.stg_x__mentions ..... [OK in 0.78s]")
    assert out[1:] == format_line(0, "raw/x/mentions", "already formatted\nsecond line").splitlines()


def test_a_line_logged_by_a_streams_thread_while_dagster_handles_a_yield_is_not_printed_bare(capfd):
    """Dagster captures the project's loggers only while a step's code runs, not while it handles
    what the step yielded: a retry logged by another stream's thread in that moment used to be
    printed bare on stderr by Python's last-resort handler (warehouse/engine.py `forwarding`)."""
    import contextvars
    import logging
    import threading

    from dagster import AssetSpec, multi_asset

    http_log = logging.getLogger("extractors.http")
    specs = [AssetSpec(["raw", "demo", f"s{i}"]) for i in range(40)]
    sent: list[str] = []

    @multi_asset(specs=specs)
    def many(context):
        stop = threading.Event()

        def chatter():
            n = 0
            while not stop.is_set():
                n += 1
                sent.append(f"[demo] HTTP 503; retry {n} of 5 in 0.0s")
                http_log.warning(sent[-1])
                stop.wait(0.0005)

        with engine.forwarding(context.log):
            engine.current_stream.set("demo/s0")
            thread = threading.Thread(target=contextvars.copy_context().run, args=(chatter,))
            thread.start()
            for spec in specs:
                yield MaterializeResult(asset_key=spec.key)
            stop.set()
            thread.join()

    job = (
        Defs(assets=[many], jobs=[define_asset_job("many_job", selection="*")])
        .resolve_job_def("many_job")
        .with_logger_defs({"console": progress_console})
    )
    assert job.execute_in_process(
        instance=DagsterInstance.ephemeral(settings=instance_settings()),
        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
    ).success
    out, err = capfd.readouterr()
    assert len(sent) > 40
    assert [line for line in err.splitlines() if "[demo]" in line] == []  # nothing bare
    printed = [m["message"] for m in map(LINE.match, out.splitlines()) if m and "[demo]" in m["message"]]
    assert sorted(p.removeprefix("WARNING ") for p in printed) == sorted(sent)  # each once, formatted
