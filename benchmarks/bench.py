"""`make bench`: what the pipeline costs per stage as the data grows, measured beside the
physical limit in the same run.

For each scale factor the sample world is generated over the range, then every declared
stream of every source is extracted from the fakes (served by a process of their own) and
landed, the landing files are loaded into a fresh DuckDB warehouse, dbt builds (and tests)
the models, and the raw-table quality suite runs. Each scale runs in a child process of its
own, so its peak resident memory is its own. Then, beside it:
- limit: DuckDB reading the same landing files into one table with nothing else to do;
- incremental: one more day on top of the range, against the full run;
- scale: the largest scale against the smallest, for wall time and peak memory.
Every stage found in STAGES is timed; a later stage (a mart, a publishing step) is one more
entry there and shows up in the table and the JSON without other changes.

    python -m benchmarks.bench --scales 1,10 --days 365      # what `make bench` runs
    python -m benchmarks.bench --scales 1 --days 2 --out /tmp/b   # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def peak_rss_mib() -> float:
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
        return {"stage": self.name, "seconds": round(self.seconds, 3), "records": self.records,
                "records_per_s": round(self.records_per_s, 1), "peak_rss_mib": round(self.peak_rss_mib, 1)}


@dataclass
class ScaleRun:
    """One scale factor in one process: the pipeline's stages on a fresh data folder."""

    scale: int
    start: date
    end: date
    data: Path
    workers: int = 4
    stages: list[Stage] = field(default_factory=list)
    world: Path | None = None
    landed: dict = field(default_factory=dict)      # stream key -> (stream, [LandedFile])
    env: dict = field(default_factory=dict)

    def timed(self, name: str, fn: Callable[[], int]) -> int:
        started = time.monotonic()
        records = fn()
        self.stages.append(Stage(name, time.monotonic() - started, records, peak_rss_mib()))
        print(f"  sf{self.scale} {name:<14} {self.stages[-1].seconds:8.1f} s  {records:>12,} records", flush=True)
        return records

    # -- stages -----------------------------------------------------------------------------
    def generate(self) -> int:
        from sampleworld.world import WorldSpec, generate
        self.world = generate(WorldSpec(start=self.start, end=self.end, scale=self.scale), self.data / "sample")
        manifest = json.loads((self.world.parent / f"{self.world.name}.manifest.json").read_text()) \
            if (self.world.parent / f"{self.world.name}.manifest.json").exists() else {"records": 0}
        return manifest["records"]

    def extract_and_land(self, days: list[date] | None = None) -> int:
        """Every stream of every source, (stream, day) tasks on `workers` threads."""
        from orchestration import sources
        from orchestration.resources import EmbeddedFakesResource
        from warehouse.landing import land_pages

        days = days or [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]
        os.environ.update(self.env)
        tasks = []
        for module in sources.modules():
            res = module.resource(EmbeddedFakesResource())
            for item in module.ASSETS:
                s = item.stream
                for day in (days[-1:] if s.snapshot else days) if s.dated else [None]:
                    tasks.append((res, s, day))
        landing = self.data / "landing"
        lock = threading.Lock()

        def one(task) -> int:
            res, s, day = task
            from extractors.streams import DayUnavailable
            try:
                landed = land_pages(landing, s.source, s.name, day.isoformat() if day else "current",
                                    res.client().pages(s, day))
            except DayUnavailable:
                return 0
            with lock:
                self.landed.setdefault(s.key, (s, []))[1].append(landed)
            return landed.records

        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            return sum(pool.map(one, tasks))

    def load(self) -> int:
        from orchestration.assets.streams import raw_table
        from warehouse.loader import connect, load
        received = 0
        with connect(self.data / "warehouse.duckdb") as con:
            for _, (stream, files) in sorted(self.landed.items()):
                by_partition = {f.partition: f for f in files}   # the last load of a partition
                received += load(con, raw_table(stream), list(by_partition.values())).received
        return received

    def dbt_build(self) -> int:
        from orchestration.assets.dbt import DBT_DIR, DBT_EXECUTABLE
        env = {**os.environ, "SKW_WAREHOUSE_PATH": str(self.data / "warehouse.duckdb"),
               "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}
        vars_ = json.dumps({"start_date": self.start.isoformat(), "end_date": self.end.isoformat()})
        subprocess.run([DBT_EXECUTABLE, "build", "--quiet", "--profiles-dir", str(DBT_DIR), "--vars", vars_,
                        "--target-path", str(self.data / "dbt_target")], cwd=DBT_DIR, env=env, check=True)
        from warehouse.loader import connect, scalar
        with connect(self.data / "warehouse.duckdb", read_only=True) as con:
            return scalar(con, "select count(*) from marts.fct_paid_performance_daily")

    def quality(self) -> int:
        from expectations import meta_ads as suite
        from expectations.runner import validate_frame
        from warehouse.loader import connect
        cols = ", ".join(f"cast({c} as varchar) as {c}" for c in suite.COLUMNS)
        with connect(self.data / "warehouse.duckdb", read_only=True) as con:
            frame = con.execute(f"select {cols} from raw.meta_ads__ads_insights").df()
        result = validate_frame("bench", frame, suite.ads_insights_expectations())
        if not result.success:
            raise RuntimeError(f"quality suite failed: {result.failed}")
        return len(frame)

    def limit(self) -> int:
        """The bare physical limit: DuckDB reading every landing file into one table."""
        import duckdb
        files = [str(f.path) for _, fs in self.landed.values() for f in fs]
        con = duckdb.connect(str(self.data / "limit.duckdb"))
        try:
            con.execute("create or replace table t as select * from read_ndjson_objects(?, compression = 'gzip')",
                        [files])
            return con.execute("select count(*) from t").fetchall()[0][0]
        finally:
            con.close()


# Stage name -> how to run it. A new pipeline stage is one more entry.
STAGES: list[tuple[str, Callable[[ScaleRun], int]]] = [
    ("generate", ScaleRun.generate),
    ("extract_land", ScaleRun.extract_and_land),
    ("load", ScaleRun.load),
    ("dbt_build", ScaleRun.dbt_build),
    ("quality", ScaleRun.quality),
]


def start_fakes(run: ScaleRun) -> subprocess.Popen:
    env = {**os.environ, "SKW_SAMPLE_START": run.start.isoformat(), "SKW_SAMPLE_END": run.end.isoformat(),
           "SKW_SAMPLE_SCALE": str(run.scale), "SKW_DATA_DIR": str(run.data), "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "sampleworld", "serve", "--faults", "off", "--env-json",
                             "--stop-on-eof"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env=env, cwd=REPO)
    for line in proc.stdout:
        if line.startswith("SKW_FAKES_ENV "):
            run.env = json.loads(line.split(" ", 1)[1])["env"]
            return proc
    raise RuntimeError("the fakes did not start")


def run_scale(scale: int, start: date, end: date, data: Path, workers: int) -> dict:
    """Everything for one scale factor (called in a child process)."""
    run = ScaleRun(scale, start, end, data, workers)
    run.timed("generate", run.generate)
    fakes = start_fakes(run)
    try:
        for name, fn in STAGES[1:]:
            run.timed(name, lambda fn=fn: fn(run))
        total = Stage("total", sum(s.seconds for s in run.stages), run.stages[1].records, peak_rss_mib())
        pipeline = [s.as_dict() for s in run.stages] + [total.as_dict()]
        # beside it: the limit, and one more day on top of the range
        limit = Stage("limit_read", 0, 0, 0)
        t = time.monotonic()
        limit.records = run.limit()
        limit.seconds = time.monotonic() - t
        run.landed = {}
        t = time.monotonic()
        run.extract_and_land([end])
        inc_records = run.load()
        incremental = time.monotonic() - t
    finally:
        fakes.stdin.close()
        fakes.wait(timeout=30)
    load_s = next(s.seconds for s in run.stages if s.name == "load")
    full_s = sum(s.seconds for s in run.stages if s.name in ("extract_land", "load"))
    return {"scale": scale, "start": start.isoformat(), "end": end.isoformat(), "stages": pipeline,
            "limit": {**limit.as_dict(), "load_over_limit": round(load_s / limit.seconds, 2) if limit.seconds else None},
            "incremental": {"day": end.isoformat(), "seconds": round(incremental, 3), "records": inc_records,
                            "full_extract_load_seconds": round(full_s, 3),
                            "incremental_over_full": round(incremental / full_s, 3) if full_s else None},
            "peak_rss_mib": round(peak_rss_mib(), 1)}


def print_table(results: list[dict]) -> None:
    print(f"\n{'scale':>5} {'stage':<14} {'seconds':>9} {'records':>12} {'records/s':>11} {'peak MiB':>9}")
    for r in results:
        for s in r["stages"] + [r["limit"]]:
            print(f"{r['scale']:>5} {s['stage']:<14} {s['seconds']:>9.2f} {s['records']:>12,} "
                  f"{s['records_per_s']:>11,.0f} {s['peak_rss_mib']:>9.0f}")
        inc = r["incremental"]
        print(f"{r['scale']:>5} {'incremental':<14} {inc['seconds']:>9.2f} {inc['records']:>12,}   "
              f"({inc['incremental_over_full']:.3f} of the full extract+load)")
        print(f"{r['scale']:>5} load / limit   {r['limit']['load_over_limit']}x")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--scales", default="1,10")
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--end", type=date.fromisoformat, default=date(2026, 11, 30))
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--out", type=Path, default=REPO / "data" / "bench")
    p.add_argument("--peer-days", type=int, default=28,
                   help="days of the peer comparison (dlt vs ours on the listening endpoint, at the largest "
                        "scale); 0 skips it (it installs dlt into .bench-venv-dlt/ on first use)")
    p.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    start = args.end - timedelta(days=args.days - 1)
    if args.child is not None:   # one scale, in its own process: print its result as JSON
        data = args.out / f"sf{args.child}"
        print("BENCH_RESULT " + json.dumps(run_scale(args.child, start, args.end, data, args.workers)), flush=True)
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    results = []
    for scale in [int(s) for s in args.scales.split(",")]:
        print(f"scale factor {scale}: {start} .. {args.end}", flush=True)
        proc = subprocess.Popen([sys.executable, "-m", "benchmarks.bench", "--child", str(scale), "--days",
                                 str(args.days), "--end", args.end.isoformat(), "--workers", str(args.workers),
                                 "--out", str(args.out)], cwd=REPO, stdout=subprocess.PIPE, text=True,
                                env={**os.environ, "PYTHONPATH": str(REPO)})
        result = None
        for line in proc.stdout:   # each stage's line as it finishes
            if line.startswith("BENCH_RESULT "):
                result = json.loads(line.split(" ", 1)[1])
            else:
                sys.stdout.write(line)
                sys.stdout.flush()
        if proc.wait() or result is None:
            return proc.returncode or 1
        results.append(result)
    report = {"measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "days": args.days,
              "workers": args.workers, "cores": os.cpu_count(), "results": results}
    if len(results) > 1:
        lo, hi = results[0], results[-1]
        wall = lambda r: next(s["seconds"] for s in r["stages"] if s["stage"] == "total")  # noqa: E731
        report["scale"] = {"from": lo["scale"], "to": hi["scale"],
                           "wall_ratio": round(wall(hi) / wall(lo), 2),
                           "peak_memory_ratio": round(hi["peak_rss_mib"] / lo["peak_rss_mib"], 2)}
    if args.peer_days:
        peer_out = args.out / "peer.json"
        scale = max(r["scale"] for r in results)
        print(f"peer: dlt against this project's extractor, listening mentions, {args.peer_days} days at "
              f"scale {scale}, {args.workers} workers each", flush=True)
        peer = subprocess.run([sys.executable, "-m", "benchmarks.peer_dlt", "--days", str(args.peer_days),
                               "--scale", str(scale), "--workers", str(args.workers), "--out", str(peer_out)],
                              cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True)
        if peer.returncode == 0 and peer_out.exists():
            report["peer"] = json.loads(peer_out.read_text())
        else:
            report["peer"] = {"error": (peer.stderr or peer.stdout)[-2000:]}
            print("peer comparison failed:\n" + report["peer"]["error"], file=sys.stderr)
    print_table(results)
    if "peer" in report and "error" not in report["peer"]:
        print("\npeer (records/s, same endpoint and concurrency):")
        print(json.dumps({k: v for k, v in report["peer"].items() if not isinstance(v, dict)}, indent=1))
    if "scale" in report:
        print(f"\nsf{report['scale']['to']} / sf{report['scale']['from']}: wall {report['scale']['wall_ratio']}x, "
              f"peak memory {report['scale']['peak_memory_ratio']}x")
    out = args.out / f"bench-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
