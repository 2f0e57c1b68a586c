"""`make bench`: what the pipeline costs per stage as the data grows, measured beside the
physical limit and a peer in the same run.

For each scale factor the sample world is generated over the range, then every declared
stream of every source is extracted from the fakes (served by a process of their own) and
landed, the landing files are loaded into a fresh DuckDB warehouse, dbt builds (and tests)
the models, and the raw-table quality suite runs: a full refresh of the range but its last
`--repeat` days. Each scale runs in a child process of its own, so its peak resident memory
is its own. Then, beside it, each `--repeat` times and reported as the median:
- limit: DuckDB reading the same landing files into a table with nothing else to do, with
  `read_json` (typed columns: the yardstick of the load target) and `read_ndjson_objects`
  (one JSON value a line: the floor), each read in a process of its own with DuckDB's
  defaults (its peak memory is reported beside it, not counted as the pipeline's);
- incremental: one new day on top of the history (extract, land, load, dbt for that day,
  quality), against the full refresh; each repeat adds the next held-out day;
- scale: the largest scale against the smallest, for wall time and peak memory;
- peer and extraction limit: this project's extractor and loader against the bare loop (the
  least work that ends with the same rows: requests, NDJSON, DuckDB read_json; target >= 0.8x)
  and against dlt (its best configuration), on the same fake endpoint with the same
  concurrency (`benchmarks/peer_dlt.py`).
Every stage found in STAGES is timed; a later stage (a mart, a publishing step) is one more
entry there and shows up in the table, the incremental run and the JSON without other changes.
The targets of issue 5 are checked at the end (`targets` in the JSON).

    python -m benchmarks.bench --scales 1,10 --days 365      # what `make bench` runs
    python -m benchmarks.bench --scales 1 --days 3 --repeat 1 --peer-days 0 --out /tmp/b   # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def peak_rss_mib() -> float:
    """This process's peak resident memory in MiB. Linux's VmHWM starts afresh with the
    program; `ru_maxrss` would carry the parent's size at the fork into a spawned child."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Stage:
    name: str
    seconds: float
    records: int
    peak_rss_mib: float

    @property
    def records_per_s(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict:
        return {
            "stage": self.name,
            "seconds": round(self.seconds, 3),
            "records": self.records,
            "records_per_s": round(self.records_per_s, 1),
            "peak_rss_mib": round(self.peak_rss_mib, 1),
        }


@dataclass
class ScaleRun:
    """One scale factor in one process: the pipeline's stages on a fresh data folder."""

    scale: int
    start: date
    end: date
    data: Path
    workers: int = 4
    days: list[date] = field(default_factory=list)  # the window the stages work on
    stages: list[Stage] = field(default_factory=list)
    world: Path | None = None
    landed: dict = field(default_factory=dict)  # stream key -> (stream, [LandedFile])
    extract_streams: dict = field(default_factory=dict)  # stream key -> thread seconds, requests, records
    env: dict = field(default_factory=dict)
    dbt_artifacts: bool = True  # dbt_build writes dbt's JSON artifacts (the full build: dbt_limit reads them)

    def timed(self, name: str, fn: Callable[[], int], into: list[Stage] | None = None, quiet: bool = False) -> int:
        started = time.monotonic()
        records = fn()
        stage = Stage(name, time.monotonic() - started, records, peak_rss_mib())
        (self.stages if into is None else into).append(stage)
        if not quiet:
            print(
                f"  sf{self.scale} {name:<14} {stage.seconds:8.1f} s  {records:>12,} records  "
                f"peak {stage.peak_rss_mib:,.0f} MiB",
                flush=True,
            )
        return records

    # -- stages -----------------------------------------------------------------------------
    def generate(self) -> int:
        from sampleworld.world import WorldSpec, generate

        self.world = generate(WorldSpec(start=self.start, end=self.end, scale=self.scale), self.data / "sample")
        manifest = (
            json.loads((self.world.parent / f"{self.world.name}.manifest.json").read_text())
            if (self.world.parent / f"{self.world.name}.manifest.json").exists()
            else {"records": 0}
        )
        return manifest["records"]

    def extract_and_land(self) -> int:
        """Every stream of every source over the window: each stream's reads (warehouse/engine.py:
        a day each, the last day of a snapshot, a range read in one pass) as tasks on `workers`
        threads."""
        from orchestration import sources
        from orchestration.resources import SourceEnvironment
        from warehouse import engine

        days = self.days
        self.landed = {}
        self.extract_streams = {}
        os.environ.update(self.env)
        # the team's configuration files (FX rates, campaigns, rosters) of this scale's own world,
        # not the default sample world's (its FX rates cover June 2026 only)
        os.environ["SKW_CONFIG_DIR"] = str(self.world / "config")
        tasks = []
        for module in sources.modules():
            res = module.resource(SourceEnvironment())  # the settings of the fakes started for this run
            for item in module.ASSETS:
                tasks.extend((res, read) for read in engine.reads(item.stream, days))
        landing = self.data / "landing"
        lock = threading.Lock()

        def one(task) -> int:
            res, read = task
            s = read.stream
            started = time.monotonic()
            landed = engine.land(read, res.client(), landing)
            files = [f for _, f in landed.files]
            records = landed.records
            with lock:
                if files:
                    self.landed.setdefault(s.key, (s, []))[1].extend(files)
                cost = self.extract_streams.setdefault(
                    s.key, {"stream": s.key, "thread_seconds": 0.0, "requests": 0, "records": 0}
                )
                cost["thread_seconds"] += time.monotonic() - started
                cost["requests"] += landed.client.stats.requests
                cost["records"] += records
            return records

        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            return sum(pool.map(one, tasks))

    def load(self) -> int:
        from warehouse.engine import load_files
        from warehouse.loader import connect

        received = 0
        with connect(self.data / "warehouse.duckdb") as con:
            for _, (stream, files) in sorted(self.landed.items()):
                by_partition = {f.partition: f for f in files}  # the last load of a partition
                received += load_files(con, stream, list(by_partition.values())).received
        return received

    def enrich(self) -> int:
        """The sentiment step between raw and dbt: scores the texts not scored yet."""
        from warehouse.loader import connect
        from warehouse.sentiment import score_new_texts

        with connect(self.data / "warehouse.duckdb") as con:
            result = score_new_texts(con)
        return result.scored

    def dbt_build(self) -> int:
        """dbt as a materialization runs it (`dbt_build_args`, the Dagster asset's command, in this
        process: warehouse/dbt_runner.py), on the
        window's days: leaving the views out when they are current (`views_are_current`: the
        incremental runs), and recording them current after a build that made them. The full build
        also writes dbt's JSON artifacts: `dbt_limit` replays its SQL from them (`dbt_artifacts`,
        off for the incremental runs, as in Dagster)."""
        from orchestration.assets.dbt import (
            DBT_DIR,
            dbt_build_args,
            dbt_env,
            dbt_window,
            forget_views_current,
            project_fingerprint,
            record_views_current,
            views_are_current,
        )
        from warehouse.dbt_runner import run_dbt
        from warehouse.settings import Settings

        warehouse = self.data / "warehouse.duckdb"
        env = {
            "SKW_PII_SALT": "bench-salt",
            **os.environ,
            **dbt_env(Settings.from_env(), warehouse),
            **dbt_window(
                datetime.combine(self.days[0], datetime.min.time()),
                datetime.combine(self.days[-1] + timedelta(days=1), datetime.min.time()),
            ),
        }
        fingerprint = project_fingerprint(env)
        views = not views_are_current(warehouse, fingerprint)
        if views:
            forget_views_current(warehouse)
        run_dbt(  # in this process, as the Dagster asset runs it (warehouse/dbt_runner.py)
            [
                *dbt_build_args(artifacts=self.dbt_artifacts, views=views),
                "--quiet",
                "--project-dir",
                str(DBT_DIR),
                "--profiles-dir",
                str(DBT_DIR),
                "--target-path",
                str(self.data / "dbt_target"),
            ],
            env=env,
        )
        if views:
            record_views_current(warehouse, fingerprint)
        from warehouse.loader import connect, scalar

        with connect(warehouse, read_only=True) as con:
            return scalar(con, "select count(*) from marts.fct_paid_performance_daily")

    def quality(self) -> int:
        # the raw table's suite as the quality gate runs it (expectations/, GX's SQL path), every day
        from expectations.runner import validate_table

        result = validate_table(self.data / "warehouse.duckdb", "raw.meta_ads__ads_insights")
        if not result.success:
            raise RuntimeError(f"quality suite failed: {result.messages()}")
        return result.rows

    def dbt_limit(self) -> Stage:
        """dbt's full build against its own SQL run bare (`dbt_sql_limit`), in a process of its own."""
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        from warehouse.loader import memory_limit

        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
            n, seconds, peak = pool.submit(
                dbt_sql_limit,
                str(self.data / "warehouse.duckdb"),
                str(self.data / "dbt_target"),
                str(self.data / "dbt_limit.duckdb"),
                memory_limit(),
            ).result()
        return Stage("limit_dbt_sql", seconds, n, peak)

    def limit(self, reader: str) -> Stage:
        """The bare physical limit: DuckDB reading every landing file into one table, with
        `read_json` (typed columns, what the load is held to) or `read_ndjson_objects`, in a
        process of its own (DuckDB's defaults, no memory cap): its memory is not the pipeline's."""
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        files = [str(f.path) for _, fs in self.landed.values() for f in fs]
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
            records, seconds, peak = pool.submit(read_limit, reader, files, str(self.data / "limit.duckdb")).result()
        return Stage(f"limit_{reader}", seconds, records, peak)


def dbt_sql_limit(warehouse: str, target: str, db: str, memory_limit: str) -> tuple[int, float, float]:
    """(statements, seconds, peak RSS MiB) of the SQL dbt's last build ran, run directly in one
    DuckDB connection on a copy of the warehouse (`db`): each model's compiled SELECT as the
    view or table dbt made of it and each data test's query, in dbt's order of execution. What
    dbt adds on top of this (starting, parsing, its metadata queries) is its overhead."""
    import shutil

    import duckdb

    results = json.loads((Path(target) / "run_results.json").read_text())["results"]
    nodes = json.loads((Path(target) / "manifest.json").read_text())["nodes"]
    shutil.copy(warehouse, db)
    con = duckdb.connect()
    con.execute(f"attach '{db}' as warehouse")  # dbt's relation names say "warehouse"
    con.execute("use warehouse")
    statements = []
    for r in results:
        node = nodes.get(r["unique_id"])
        if node is None or not r.get("compiled_code") or node["resource_type"] not in ("model", "test"):
            continue
        sql = r["compiled_code"]
        if node["resource_type"] == "test":
            statements.append(f"select count(*) from ({sql}) as t")
        elif node["config"]["materialized"] == "view":
            statements.append(f"create or replace view {r['relation_name']} as {sql}")
        else:
            statements.append(f"create or replace table {r['relation_name']} as {sql}")
    try:
        con.execute(f"set memory_limit = '{memory_limit}'")
        started = time.monotonic()
        for sql in statements:
            con.execute(sql).fetchall()
        seconds = time.monotonic() - started
    finally:
        con.close()
        Path(db).unlink(missing_ok=True)
    return len(statements), seconds, peak_rss_mib()


def read_limit(reader: str, files: list[str], db: str) -> tuple[int, float, float]:
    """(records, seconds, peak RSS MiB) of reading `files` into a table of a fresh DuckDB file."""
    import duckdb

    Path(db).unlink(missing_ok=True)
    started = time.monotonic()
    con = duckdb.connect(db)
    try:
        fn = (
            "read_json(?, format = 'newline_delimited', union_by_name = true)"
            if reader == "read_json"
            else "read_ndjson_objects(?)"
        )
        con.execute(f"create or replace table t as select * from {fn}", [files])
        records = con.execute("select count(*) from t").fetchall()[0][0]
    finally:
        con.close()
    seconds = time.monotonic() - started
    Path(db).unlink(missing_ok=True)
    return records, seconds, peak_rss_mib()


# Stage name -> how to run it. A new pipeline stage is one more entry.
STAGES: list[tuple[str, Callable[[ScaleRun], int]]] = [
    ("generate", ScaleRun.generate),
    ("extract_land", ScaleRun.extract_and_land),
    ("load", ScaleRun.load),
    ("enrich", ScaleRun.enrich),
    ("dbt_build", ScaleRun.dbt_build),
    ("quality", ScaleRun.quality),
]


def start_fakes(run: ScaleRun) -> subprocess.Popen:
    env = {
        **os.environ,
        "SKW_SAMPLE_START": run.start.isoformat(),
        "SKW_SAMPLE_END": run.end.isoformat(),
        "SKW_SAMPLE_SCALE": str(run.scale),
        "SKW_DATA_DIR": str(run.data),
        "PYTHONPATH": str(REPO),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "sampleworld", "serve", "--faults", "off", "--env-json", "--stop-on-eof"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )
    for line in proc.stdout:
        if line.startswith("SKW_FAKES_ENV "):
            run.env = json.loads(line.split(" ", 1)[1])["env"]
            return proc
    raise RuntimeError("the fakes did not start")


def median_stage(name: str, samples: list[Stage]) -> dict:
    mid = statistics.median(x.seconds for x in samples)
    records = samples[0].records
    return {
        **Stage(name, mid, records, max(x.peak_rss_mib for x in samples)).as_dict(),
        "samples_seconds": [round(x.seconds, 3) for x in samples],
    }


def run_scale(scale: int, start: date, end: date, data: Path, workers: int, repeat: int) -> dict:
    """Everything for one scale factor (called in a child process). The full refresh covers
    start .. end minus `repeat` days; each incremental run then adds one of those days."""
    import shutil

    shutil.rmtree(data, ignore_errors=True)  # a fresh warehouse and landing area every time
    all_days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    held_out = all_days[-repeat:]
    run = ScaleRun(scale, start, end, data, workers, days=all_days[:-repeat])
    run.timed("generate", run.generate)
    fakes = start_fakes(run)
    try:
        for name, fn in STAGES[1:]:
            run.timed(name, lambda fn=fn: fn(run))
        full = run.stages[1:]
        total = Stage("total", sum(s.seconds for s in run.stages), run.stages[1].records, peak_rss_mib())
        pipeline = [s.as_dict() for s in run.stages] + [total.as_dict()]
        # where the extraction's time goes: each stream's thread-seconds (its tasks ran side by side)
        extract_streams = sorted(
            ({**c, "thread_seconds": round(c["thread_seconds"], 2)} for c in run.extract_streams.values()),
            key=lambda c: -c["thread_seconds"],
        )
        # beside it: the bare reads of the same files, `repeat` times each (each in a process
        # of its own, so this process's peak stays the pipeline's)
        limits = {
            reader: median_stage(f"limit_{reader}", [run.limit(reader) for _ in range(repeat)])
            for reader in ("read_json", "read_ndjson_objects")
        }
        # dbt's full build against the same SQL run bare (the artifacts of the full build above)
        limits["dbt_sql"] = median_stage("limit_dbt_sql", [run.dbt_limit() for _ in range(repeat)])
        # one new day on top of the history, `repeat` times (each a day not loaded before)
        inc_samples, inc_stages = [], []
        run.dbt_artifacts = False  # a daily run's dbt, as Dagster runs it
        for day in held_out:
            run.days = [day]
            steps: list[Stage] = []
            for name, fn in STAGES[1:]:
                run.timed(name, lambda fn=fn: fn(run), into=steps, quiet=True)
            inc_stages.append({s.name: round(s.seconds, 3) for s in steps})
            inc_samples.append(
                Stage(
                    "incremental",
                    sum(s.seconds for s in steps),
                    next(s.records for s in steps if s.name == "extract_land"),
                    peak_rss_mib(),
                )
            )
            print(
                f"  sf{scale} incremental    {inc_samples[-1].seconds:8.1f} s  {inc_samples[-1].records:>12,} "
                f"records ({day})",
                flush=True,
            )
    finally:
        fakes.stdin.close()
        fakes.wait(timeout=30)
    load_s = next(s.seconds for s in full if s.name == "load")
    dbt_s = next(s.seconds for s in full if s.name == "dbt_build")
    full_s = sum(s.seconds for s in full)
    inc = median_stage("incremental", inc_samples)
    return {
        "scale": scale,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "full_refresh": {"start": all_days[0].isoformat(), "end": all_days[-repeat - 1].isoformat()},
        "stages": pipeline,
        "extract_streams": extract_streams,
        "limit": {
            name: {**v, "load_over_limit": round(load_s / v["seconds"], 2) if v["seconds"] else None}
            for name, v in limits.items()
            if name != "dbt_sql"
        },
        "dbt": {
            "full_build_seconds": round(dbt_s, 3),
            "sql_limit": limits["dbt_sql"],
            "build_over_sql": round(dbt_s / limits["dbt_sql"]["seconds"], 2) if limits["dbt_sql"]["seconds"] else None,
            "incremental_build_seconds": statistics.median(st["dbt_build"] for st in inc_stages),
            "incremental_over_full": round(statistics.median(st["dbt_build"] for st in inc_stages) / dbt_s, 3)
            if dbt_s
            else None,
        },
        "incremental": {
            **inc,
            "days": [d.isoformat() for d in held_out],
            "stages": inc_stages,
            "full_refresh_seconds": round(full_s, 3),
            "incremental_over_full": round(inc["seconds"] / full_s, 3) if full_s else None,
        },
        "peak_rss_mib": round(peak_rss_mib(), 1),
    }


def print_table(results: list[dict]) -> None:
    print(f"\n{'scale':>5} {'stage':<22} {'seconds':>9} {'records':>12} {'records/s':>11} {'peak MiB':>9}")
    for r in results:
        for s in r["stages"] + list(r["limit"].values()) + [r["incremental"]]:
            print(
                f"{r['scale']:>5} {s['stage']:<22} {s['seconds']:>9.2f} {s['records']:>12,} "
                f"{s['records_per_s']:>11,.0f} {s['peak_rss_mib']:>9.0f}"
            )
        inc = r["incremental"]
        print(
            f"{r['scale']:>5} incremental / full refresh: {inc['incremental_over_full']:.3f}   "
            f"load / read_json: {r['limit']['read_json']['load_over_limit']}x   "
            f"load / read_ndjson_objects: {r['limit']['read_ndjson_objects']['load_over_limit']}x"
        )
        d = r["dbt"]
        print(
            f"{r['scale']:>5} dbt build {d['full_build_seconds']:.2f} s / its SQL run bare "
            f"{d['sql_limit']['seconds']:.2f} s ({d['sql_limit']['records']} statements): {d['build_over_sql']}x   "
            f"one-day dbt build / full: {d['incremental_over_full']}"
        )
        top = r.get("extract_streams", [])[:4]
        if top:
            print(
                f"{r['scale']:>5} extraction's costliest streams: "
                + "; ".join(
                    f"{c['stream']} {c['thread_seconds']:,.1f} thread-s, {c['requests']:,} requests, {c['records']:,} records"
                    for c in top
                )
            )


def targets(report: dict) -> list[dict]:
    """Issues 5, 11 and 13's targets against this run's medians."""
    out = []
    results = report["results"]
    smallest = results[0]
    peer = report.get("peer") or {}
    # Issue 13: extraction is held to its limit, the bare loop on the same endpoint and workers
    # (benchmarks/peer_dlt.py run_bare); the ratio to dlt stays reported, with no target (the
    # former 5x-dlt target sat above that limit on this machine).
    if peer.get("ratio_ours_over_bare") is not None:
        out.append(
            {
                "target": "extract+load records/s >= 0.8x the bare loop (requests, NDJSON, DuckDB read_json)",
                "limit": 0.8,
                "measured": round(peer["ratio_ours_over_bare"], 3),
                "met": peer["ratio_ours_over_bare"] >= 0.8,
            }
        )
    for r in results:
        ratio = r["limit"]["read_json"]["load_over_limit"]
        out.append(
            {
                "target": f"sf{r['scale']} load within 2x of DuckDB read_json of the same files",
                "limit": 2.0,
                "measured": ratio,
                "met": ratio is not None and ratio <= 2.0,
            }
        )
    for r in results:
        d = r["dbt"]
        out.append(
            {
                "target": f"sf{r['scale']} dbt build within 1.5x of its compiled SQL run bare in DuckDB",
                "limit": 1.5,
                "measured": d["build_over_sql"],
                "met": d["build_over_sql"] is not None and d["build_over_sql"] <= 1.5,
            }
        )
        out.append(
            {
                "target": f"sf{r['scale']} one-day incremental dbt build <= 0.2 of the full build",
                "limit": 0.2,
                "measured": d["incremental_over_full"],
                "met": d["incremental_over_full"] is not None and d["incremental_over_full"] <= 0.2,
            }
        )
    inc = smallest["incremental"]["incremental_over_full"]
    out.append(
        {
            "target": f"sf{smallest['scale']} one-day incremental <= 0.1 of the full refresh",
            "limit": 0.1,
            "measured": inc,
            "met": inc is not None and inc <= 0.1,
        }
    )
    if "scale" in report:
        sc = report["scale"]
        out.append(
            {
                "target": f"sf{sc['to']} wall <= 10x sf{sc['from']}",
                "limit": 10.0,
                "measured": sc["wall_ratio"],
                "met": sc["wall_ratio"] <= 10.0,
            }
        )
        out.append(
            {
                "target": f"sf{sc['to']} peak memory <= 1.5x sf{sc['from']}",
                "limit": 1.5,
                "measured": sc["peak_memory_ratio"],
                "met": sc["peak_memory_ratio"] <= 1.5,
            }
        )
    biggest = max(results, key=lambda r: r["scale"])
    out.append(
        {
            "target": f"sf{biggest['scale']} peak memory under 2 GiB",
            "limit": 2048,
            "measured": biggest["peak_rss_mib"],
            "met": biggest["peak_rss_mib"] < 2048,
        }
    )
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--scales", default="1,10")
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--end", type=date.fromisoformat, default=date(2026, 11, 30))
    p.add_argument("--workers", type=int, default=4)
    p.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of each comparison (limit, incremental, peer); the median is reported",
    )
    p.add_argument("--out", type=Path, default=REPO / "data" / "bench")
    p.add_argument(
        "--peer-days",
        type=int,
        default=28,
        help="days of the peer comparison (dlt vs ours on the listening endpoint, at the largest "
        "scale); 0 skips it (it installs dlt into .bench-venv-dlt/ on first use)",
    )
    p.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.out = args.out.resolve()  # dbt runs from dbt_project/: a relative path would point there
    start = args.end - timedelta(days=args.days - 1)
    if args.child is not None:  # one scale, in its own process: print its result as JSON
        data = args.out / f"sf{args.child}"
        print(
            "BENCH_RESULT " + json.dumps(run_scale(args.child, start, args.end, data, args.workers, args.repeat)),
            flush=True,
        )
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    results = []
    for scale in [int(s) for s in args.scales.split(",")]:
        print(f"scale factor {scale}: {start} .. {args.end}", flush=True)
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.bench",
                "--child",
                str(scale),
                "--days",
                str(args.days),
                "--end",
                args.end.isoformat(),
                "--workers",
                str(args.workers),
                "--repeat",
                str(args.repeat),
                "--out",
                str(args.out),
            ],
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        result = None
        for line in proc.stdout:  # each stage's line as it finishes
            if line.startswith("BENCH_RESULT "):
                result = json.loads(line.split(" ", 1)[1])
            else:
                sys.stdout.write(line)
                sys.stdout.flush()
        if proc.wait() or result is None:
            return proc.returncode or 1
        results.append(result)
    report = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "days": args.days,
        "workers": args.workers,
        "repeat": args.repeat,
        "cores": os.cpu_count(),
        "results": results,
    }
    if len(results) > 1:
        lo, hi = results[0], results[-1]
        wall = lambda r: next(s["seconds"] for s in r["stages"] if s["stage"] == "total")  # noqa: E731
        report["scale"] = {
            "from": lo["scale"],
            "to": hi["scale"],
            "wall_ratio": round(wall(hi) / wall(lo), 2),
            "peak_memory_ratio": round(hi["peak_rss_mib"] / lo["peak_rss_mib"], 2),
        }
    if args.peer_days:
        peer_out = args.out / "peer.json"
        scale = max(r["scale"] for r in results)
        print(
            f"peer: dlt against this project's extractor, listening mentions, {args.peer_days} days at "
            f"scale {scale}, {args.workers} workers each",
            flush=True,
        )
        peer = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.peer_dlt",
                "--days",
                str(args.peer_days),
                "--scale",
                str(scale),
                "--workers",
                str(args.workers),
                "--repeat",
                str(args.repeat),
                "--out",
                str(peer_out),
            ],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
        )
        if peer.returncode == 0 and peer_out.exists():
            report["peer"] = json.loads(peer_out.read_text())
        else:
            report["peer"] = {"error": (peer.stderr or peer.stdout)[-2000:]}
            print("peer comparison failed:\n" + report["peer"]["error"], file=sys.stderr)
    print_table(results)
    if "peer" in report and "error" not in report["peer"]:
        peer = report["peer"]
        print(
            f"\npeer: listening mentions, {peer['days']} days at scale {peer['scale']}, {peer['workers']} workers "
            f"each, medians of {peer['repeat']} (rows equal: {'yes' if peer['records_match'] else 'NO'})"
        )
        for name in ("ours", "bare", "dlt"):
            side = peer[name]
            print(
                f"  {name:<5} {side['records']:>10,} records {side['seconds']:8.2f} s {side['records_per_s']:>10,.0f}/s"
                f"  CPU {side['cpu_seconds']:.1f} s ({side['cpu_us_per_record']:.1f} us a record)"
            )
        print(f"  ratio ours/bare loop {peer['ratio_ours_over_bare']:.2f} (samples {peer['bare_ratio_samples']})")
        print(f"  ratio ours/dlt {peer['ratio_ours_over_dlt']:.2f} (samples {peer['ratio_samples']})")
    if "scale" in report:
        print(
            f"\nsf{report['scale']['to']} / sf{report['scale']['from']}: wall {report['scale']['wall_ratio']}x, "
            f"peak memory {report['scale']['peak_memory_ratio']}x"
        )
    report["targets"] = targets(report)
    print("\ntargets (medians of this run):")
    for t in report["targets"]:
        print(f"  {'met   ' if t['met'] else 'MISSED'} {t['target']}: {t['measured']}")
    out = args.out / f"bench-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
