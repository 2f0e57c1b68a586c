"""Peer benchmark: this project's listening extractor against dlt and against the bare loop
(the limit) on the same fake endpoint.

    python -m benchmarks.peer_dlt --days 7 --scale 1 --workers 4 [--out data/bench/peer.json]
    python -m benchmarks.peer_dlt --days 28 --scale 10 --repeat 3 --sides ours,bare   # the limit only, no dlt

One run does everything:

1. makes (once, then reuses) a venv of its own at `.bench-venv-dlt/` with `python3.11 -m venv`
   and installs `benchmarks/requirements-peer.txt` into it: dlt never enters the project's
   venv or lock;
2. generates a listening-only sample world (`sampleworld.world.generate`) under
   `data/bench/sample/` and serves it with `python -m sampleworld serve --env-json
   --stop-on-eof` in a separate process (faults off), so the fake shares a GIL with neither
   client;
3. ours: `extractors.listening.ListeningClient.pages(MENTIONS, day)` for each day on a pool of
   N threads (one client per day), each day landed with `warehouse.landing.land_pages`, then
   all days loaded with `warehouse.loader.load` into a temporary DuckDB in one transaction
   (what `orchestration/assets/streams.py` does for a run);
4. dlt: `dlt.sources.rest_api` with a `nextCursor` cursor paginator, one resource per (query,
   day) all writing to table `mentions`, `parallelized=True` with `extract.workers = N`,
   loaded to DuckDB with parquet loader files, two normalize workers, no compression and
   nested arrays (`links`) kept as a JSON column (nested objects flattened, as dlt does by
   default and as our raw table has them); run in the dlt venv as a subprocess, timed there
   from building the source to the end of `pipeline.run` (imports excluded; the wall time
   of the whole subprocess is reported beside it);
5. the bare loop (`run_bare`): the same requests on the same threads with nothing but
   `requests`, NDJSON files and DuckDB's `read_json` into a table: the limit ours is measured
   against (target: ours >= 0.8x its records/s);
6. checks all three loaded the same number of rows and prints records, seconds, records/s and CPU
   seconds (and microseconds a record) for each, and the ratios ours/bare and ours/dlt; writes the same as
   JSON to `--out`, with the fake's own CPU beside each run. Ours is this process's CPU over
   the run; dlt's is its whole subprocess (normalize workers, interpreter start and imports
   included). On a machine whose cores are all busy, CPU a record is what bounds records/s.

This file is also the dlt side's script (`--dlt-side`, run by the dlt venv's interpreter): it
imports only the standard library at module level for that reason.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".bench-venv-dlt"
REQUIREMENTS = REPO / "benchmarks" / "requirements-peer.txt"
DEFAULT_START = "2026-06-01"


# ----------------------------------------------------------------------------- dlt venv


def venv_python() -> Path:
    return VENV / "bin" / "python"


def ensure_venv(log=print) -> Path:
    """Create `.bench-venv-dlt/` once and (re)install the pinned requirements when they change."""
    stamp = VENV / ".installed"
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if venv_python().exists() and stamp.exists() and stamp.read_text().strip() == digest:
        return venv_python()
    if not venv_python().exists():
        log(f"creating {VENV.relative_to(REPO)}/ with python3.11 -m venv")
        subprocess.run(["python3.11", "-m", "venv", str(VENV)], check=True)
    log(f"installing {REQUIREMENTS.relative_to(REPO)} into {VENV.relative_to(REPO)}/ (once)")
    subprocess.run(
        [str(venv_python()), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", str(REQUIREMENTS)],
        check=True,
    )
    stamp.write_text(digest + "\n")
    return venv_python()


# ----------------------------------------------------------------------------- the fake


class Fakes:
    """`python -m sampleworld serve` in its own process, serving a listening-only world."""

    def __init__(self, env: dict[str, str]):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sampleworld", "serve", "--faults", "off", "--env-json", "--stop-on-eof"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=str(REPO),
            env={
                **os.environ,
                **env,
                "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
            },
        )
        self.env: dict[str, str] = {}
        deadline = time.monotonic() + 300
        for line in self.proc.stdout:
            if line.startswith("SKW_FAKES_ENV "):
                self.env = json.loads(line.split(" ", 1)[1])["env"]
                break
            if time.monotonic() > deadline:
                break
        if not self.env.get("LISTENING_BASE_URL"):
            self.stop()
            raise RuntimeError(f"the fakes did not start (exit code {self.proc.poll()})")

    def cpu_seconds(self) -> float | None:
        """CPU the fake's process has used so far (user + system; Linux /proc, else None)."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        try:
            self.proc.stdin.close()  # --stop-on-eof
            self.proc.wait(timeout=10)
        except Exception:  # noqa: BLE001
            self.proc.kill()
            self.proc.wait()


# ----------------------------------------------------------------------------- ours


def run_ours(env: dict[str, str], days: list[date], workers: int, work: Path, page_size: int) -> dict:
    from concurrent.futures import ThreadPoolExecutor

    from extractors.listening import MENTIONS, ListeningClient
    from warehouse.landing import land_pages
    from warehouse.loader import RawTable, connect, load, scalar

    s = MENTIONS
    table = RawTable(
        source=s.source,
        stream=s.name,
        columns=dict(s.columns),
        key=s.primary_key,
        partition_column=s.cursor_field,
        disposition=s.disposition,
    )
    query_ids = [q for q in env["LISTENING_QUERY_IDS"].split(",") if q]
    landing, db = work / "landing", work / "ours.duckdb"

    def one_day(day: date):
        client = ListeningClient(
            env["LISTENING_BASE_URL"], env["LISTENING_TOKEN"], query_ids=query_ids, page_size=page_size
        )
        landed = land_pages(landing, s.source, s.name, day.isoformat(), client.pages(s, day))
        return landed, client.stats.requests

    cpu = os.times()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ours") as pool:
        results = list(pool.map(one_day, days))
    extracted, extracted_cpu = time.perf_counter(), os.times()
    with connect(db) as con:
        result = load(con, table, [landed for landed, _ in results])
        rows = scalar(con, f"select count(*) from {table.name}")
    seconds = time.perf_counter() - started
    now = os.times()
    return {
        "records": rows,
        "seconds": seconds,
        "extract_land_seconds": extracted - started,
        "cpu_seconds": now.user + now.system - cpu.user - cpu.system,
        "extract_land_cpu_seconds": extracted_cpu.user + extracted_cpu.system - cpu.user - cpu.system,
        "load_cpu_seconds": now.user + now.system - extracted_cpu.user - extracted_cpu.system,
        "load_seconds": seconds - (extracted - started),
        "received": result.received,
        "rejected": result.rejected,
        "duplicates": result.duplicates,
        "pages": sum(landed.pages for landed, _ in results),
        "requests": sum(r for _, r in results),
    }


# ----------------------------------------------------------------------------- the bare loop


def run_bare(env: dict[str, str], days: list[date], workers: int, work: Path, page_size: int) -> dict:
    """The limit of extraction on this endpoint: the least work that ends with the same rows
    in DuckDB. The same (query, day) requests on the same number of threads, one
    `requests.Session` each, cursor paging; each page's records written as NDJSON lines
    (orjson, the query id added as our raw table has it) to a plain file per day; then DuckDB's
    `read_json` of all the files into one table. No retries, no landing metadata, no
    compression, no checks, no change detection: what ours does on top of this is its cost."""
    from concurrent.futures import ThreadPoolExecutor

    import duckdb
    import orjson
    import requests

    base = env["LISTENING_BASE_URL"].rstrip("/") + "/api/v1/mentions"
    headers = {"Authorization": f"Bearer {env['LISTENING_TOKEN']}"}
    query_ids = [q for q in env["LISTENING_QUERY_IDS"].split(",") if q]
    out_dir = work / "bare"
    out_dir.mkdir(parents=True, exist_ok=True)

    def one_day(day: date) -> tuple[Path, int]:
        path, requests_made = out_dir / f"{day.isoformat()}.ndjson", 0
        end = (day + timedelta(days=1)).isoformat()
        with requests.Session() as http, path.open("wb") as f:
            for qid in query_ids:
                params = {"query_id": qid, "start": day.isoformat(), "end": end, "limit": page_size}
                while True:
                    resp = http.get(base, params=params, headers=headers, timeout=60)
                    resp.raise_for_status()
                    requests_made += 1
                    body = orjson.loads(resp.content)
                    f.write(b"".join(orjson.dumps({"query_id": qid, **r}) + b"\n" for r in body["results"]))
                    if not body.get("nextCursor"):
                        break
                    params = {**params, "cursor": body["nextCursor"]}
        return path, requests_made

    cpu = os.times()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bare") as pool:
        results = list(pool.map(one_day, days))
    extracted, extracted_cpu = time.perf_counter(), os.times()
    con = duckdb.connect(str(work / "bare.duckdb"))
    try:
        con.execute(
            "create table mentions as select * from read_json(?, format = 'newline_delimited')",
            [[str(p) for p, _ in results]],
        )
        rows = con.execute("select count(*) from mentions").fetchall()[0][0]
        distinct = con.execute("select count(*) from (select distinct query_id, id from mentions)").fetchall()[0][0]
    finally:
        con.close()
    seconds = time.perf_counter() - started
    now = os.times()
    return {
        "records": rows,
        "distinct_keys": distinct,
        "seconds": seconds,
        "extract_land_seconds": extracted - started,
        "load_seconds": seconds - (extracted - started),
        "cpu_seconds": now.user + now.system - cpu.user - cpu.system,
        "extract_land_cpu_seconds": extracted_cpu.user + extracted_cpu.system - cpu.user - cpu.system,
        "load_cpu_seconds": now.user + now.system - extracted_cpu.user - extracted_cpu.system,
        "requests": sum(n for _, n in results),
    }


# ----------------------------------------------------------------------------- dlt


def run_dlt(python: Path, env: dict[str, str], days: list[date], workers: int, work: Path, page_size: int) -> dict:
    cfg = {
        "base_url": env["LISTENING_BASE_URL"],
        "token": env["LISTENING_TOKEN"],
        "query_ids": [q for q in env["LISTENING_QUERY_IDS"].split(",") if q],
        "days": [d.isoformat() for d in days],
        "workers": workers,
        "work": str(work),
        "page_size": page_size,
    }
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    out = subprocess.run(
        [str(python), str(Path(__file__).resolve()), "--dlt-side", json.dumps(cfg)],
        capture_output=True,
        text=True,
        cwd=str(work),
        env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")},
    )
    wall = time.perf_counter() - started
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("DLT_RESULT ")]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"the dlt side failed (exit {out.returncode}):\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # the whole subprocess and its normalize workers, interpreter start and imports included
    cpu = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
    return {**json.loads(lines[-1].split(" ", 1)[1]), "process_wall_seconds": wall, "cpu_seconds": cpu}


def dlt_side(cfg: dict) -> None:
    """Runs in the dlt venv: extract, normalize and load every (query, day) into DuckDB."""
    work = Path(cfg["work"])
    os.environ.update(
        {
            "RUNTIME__DLTHUB_TELEMETRY": "false",  # no network but the fake
            "RUNTIME__LOG_LEVEL": "WARNING",
            "DLT_DATA_DIR": str(work / "dlt_data"),
            "EXTRACT__WORKERS": str(cfg["workers"]),  # threads for parallelized resources
            "NORMALIZE__WORKERS": "2",
            "DATA_WRITER__DISABLE_COMPRESSION": "true",
        }
    )
    t0 = time.perf_counter()
    import dlt
    from dlt.sources.rest_api import rest_api_source

    imported = time.perf_counter()

    resources = []
    for qid in cfg["query_ids"]:
        for d in cfg["days"]:
            end = (date.fromisoformat(d) + timedelta(days=1)).isoformat()
            resources.append(
                {
                    "name": f"mentions_{qid}_{d.replace('-', '')}",
                    "endpoint": {"path": "api/v1/mentions", "params": {"query_id": qid, "start": d, "end": end}},
                }
            )
    config = {
        "client": {
            "base_url": cfg["base_url"].rstrip("/") + "/",
            "auth": {"type": "bearer", "token": cfg["token"]},
            "paginator": {"type": "cursor", "cursor_path": "nextCursor", "cursor_param": "cursor"},
        },
        "resource_defaults": {
            "table_name": "mentions",
            "write_disposition": "append",
            "columns": {"links": {"data_type": "json"}},  # the nested array stays a JSON column
            "endpoint": {"data_selector": "results", "params": {"limit": cfg["page_size"]}},
        },
        "resources": resources,
    }
    started = time.perf_counter()
    source = rest_api_source(config, name="listening", parallelized=True)
    pipeline = dlt.pipeline(
        pipeline_name="peer_dlt",
        pipelines_dir=str(work / "pipelines"),
        destination=dlt.destinations.duckdb(str(work / "dlt.duckdb")),
        dataset_name="listening",
    )
    info = pipeline.run(source, loader_file_format="parquet")
    seconds = time.perf_counter() - started
    info.raise_on_failed_jobs()
    steps = {}
    for name in ("extract", "normalize", "load"):
        step = pipeline.last_trace.last_pipeline_step_trace(name)
        if step is not None and step.finished_at and step.started_at:
            steps[f"{name}_seconds"] = (step.finished_at - step.started_at).total_seconds()
    with pipeline.sql_client() as c:
        rows = c.execute_sql("select count(*) from mentions")[0][0]
        distinct = c.execute_sql("select count(*) from (select distinct query_id, id from mentions)")[0][0]
        cols = {
            r[0]: r[1]
            for r in c.execute_sql(
                "select column_name, data_type from information_schema.columns where table_schema = 'listening' "
                "and table_name = 'mentions' order by ordinal_position"
            )
        }
        tables = [
            r[0]
            for r in c.execute_sql(
                "select table_name from information_schema.tables where table_schema = 'listening' "
                "and table_name not like '\\_dlt%' escape '\\' order by 1"
            )
        ]
    print(
        "DLT_RESULT "
        + json.dumps(
            {
                "records": rows,
                "distinct_keys": distinct,
                "seconds": seconds,
                "import_seconds": imported - t0,
                "resources": len(resources),
                "tables": tables,
                "columns": cols,
                "dlt_version": dlt.__version__,
                **steps,
            }
        ),
        flush=True,
    )


# ----------------------------------------------------------------------------- main


def median_run(runs: list[dict]) -> dict:
    """The run of median seconds (an actual run, so its figures agree with each other),
    with every run's seconds beside it."""
    ranked = sorted(runs, key=lambda r: r["seconds"])
    return {**ranked[(len(ranked) - 1) // 2], "samples_seconds": [round(r["seconds"], 3) for r in runs]}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.peer_dlt", description=__doc__.split("\n\n")[0])
    p.add_argument("--days", type=int, default=7)
    p.add_argument("--scale", type=int, default=1)
    p.add_argument("--workers", type=int, default=4, help="concurrency of both sides (threads)")
    p.add_argument("--start", default=DEFAULT_START, help="first day (ISO)")
    p.add_argument("--page-size", type=int, default=1000)
    p.add_argument("--repeat", type=int, default=1, help="runs of each side, alternating; medians reported")
    p.add_argument("--out", default="data/bench/peer.json")
    p.add_argument(
        "--sides",
        default="ours,bare,dlt",
        help="which sides to run, comma-separated (ours is always run): `ours,bare` skips dlt and its venv",
    )
    p.add_argument("--dlt-side", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.dlt_side:
        dlt_side(json.loads(args.dlt_side))
        return 0

    sys.path.insert(0, str(REPO))
    from sampleworld.world import WorldSpec, generate

    sides = {s.strip() for s in args.sides.split(",") if s.strip()} | {"ours"}
    unknown = sides - {"ours", "bare", "dlt"}
    if unknown:
        p.error(f"--sides: unknown side(s) {', '.join(sorted(unknown))}; choose from ours, bare, dlt")
    python = ensure_venv() if "dlt" in sides else None
    start = date.fromisoformat(args.start)
    days = [start + timedelta(days=i) for i in range(args.days)]
    spec = WorldSpec(start=days[0], end=days[-1], scale=args.scale)
    # the data folder (SKW_DATA_DIR, as every project command reads it; default data/)
    sample_root = Path(os.environ.get("SKW_DATA_DIR") or REPO / "data").resolve() / "bench" / "sample"
    world_env = {
        "SKW_SAMPLE_START": spec.start.isoformat(),
        "SKW_SAMPLE_END": spec.end.isoformat(),
        "SKW_SAMPLE_SCALE": str(spec.scale),
        "SKW_SAMPLE_SEED": str(spec.seed),
        "SKW_SAMPLE_DOMAINS": "listening",
        "SKW_SAMPLE_DIR": str(sample_root),
    }
    os.environ["SKW_SAMPLE_DOMAINS"] = "listening"  # generate() reads the domain selection from here
    world = generate(spec, sample_root)
    shown = world.relative_to(REPO) if world.is_relative_to(REPO) else world
    print(f"world {shown}; {args.days} days, scale {args.scale}, {args.workers} workers")

    fakes = Fakes(world_env)
    try:
        with tempfile.TemporaryDirectory(prefix="peer_dlt_") as tmp:
            runs_ours, runs_bare, runs_dlt = [], [], []
            for i in range(args.repeat):  # alternating, so a noisy minute hits both sides
                order = (
                    ("ours", runs_ours, run_ours),
                    ("bare", runs_bare, run_bare),
                    ("dlt", runs_dlt, functools.partial(run_dlt, python)),
                )
                for name, runs, fn in (side for side in order if side[0] in sides):
                    work = Path(tmp) / f"{name}{i}"
                    work.mkdir()
                    fakes_cpu = fakes.cpu_seconds()
                    runs.append(fn(fakes.env, days, args.workers, work, args.page_size))
                    run = runs[-1]
                    run["records_per_s"] = run["records"] / run["seconds"]
                    if fakes_cpu is not None:
                        run["fakes_cpu_seconds"] = fakes.cpu_seconds() - fakes_cpu
                    # CPU a record costs the side (the fake's serving not included): on these
                    # 2 cores, what bounds records/s once the side keeps both cores busy
                    run["cpu_us_per_record"] = 1e6 * run["cpu_seconds"] / run["records"] if run["records"] else None
    finally:
        fakes.stop()

    ours = median_run(runs_ours)
    bare = median_run(runs_bare) if runs_bare else None
    peer = median_run(runs_dlt) if runs_dlt else None
    same = all(r["records"] == ours["records"] for r in runs_ours + runs_bare + runs_dlt)
    ratios = sorted(o["records_per_s"] / d["records_per_s"] for o, d in zip(runs_ours, runs_dlt))
    bare_ratios = sorted(o["records_per_s"] / b["records_per_s"] for o, b in zip(runs_ours, runs_bare))
    report = {
        "days": args.days,
        "start": args.start,
        "scale": args.scale,
        "workers": args.workers,
        "page_size": args.page_size,
        "world": world.name,
        "repeat": args.repeat,
        "ours": ours,
        "bare": bare,
        "dlt": peer,
        "records_match": same,
        "ratio_ours_over_dlt": ours["records_per_s"] / peer["records_per_s"]
        if peer and peer["records_per_s"]
        else None,
        "ratio_samples": [round(r, 3) for r in ratios],
        # the limit: ours against the least work that ends with the same rows (run_bare)
        "ratio_ours_over_bare": ours["records_per_s"] / bare["records_per_s"]
        if bare and bare["records_per_s"]
        else None,
        "bare_ratio_samples": [round(r, 3) for r in bare_ratios],
        "dlt_config": {
            "source": "dlt.sources.rest_api, one resource per (query, day), parallelized=True",
            "paginator": "cursor (JSONResponseCursorPaginator) on nextCursor -> cursor",
            "extract_workers": args.workers,
            "normalize_workers": 2,
            "loader_file_format": "parquet",
            "compression": "disabled",
            "nested": "links as JSON column; objects flattened",
            "write_disposition": "append",
            "destination": "duckdb",
        },
    }
    print(f"\n{'side':<6} {'records':>9} {'seconds':>9} {'records/s':>11} {'CPU s':>7} {'CPU us/rec':>10}")
    for name, side in (("ours", ours), ("bare", bare), ("dlt", peer)):
        if side is None:
            continue
        print(
            f"{name:<6} {side['records']:>9,} {side['seconds']:>9.2f} {side['records_per_s']:>11,.0f}"
            f" {side['cpu_seconds']:>7.2f} {side['cpu_us_per_record'] or 0:>10.1f}"
        )
    if bare:
        print(
            f"ratio ours/bare loop (records/s): {report['ratio_ours_over_bare']:.2f}   (target >= 0.8)"
            f"   samples {report['bare_ratio_samples']}"
        )
    if peer:
        print(f"ratio ours/dlt (records/s): {report['ratio_ours_over_dlt']:.2f}")
        print(f"(dlt subprocess wall incl. interpreter start and imports: {peer['process_wall_seconds']:.2f} s)")
    print(f"rows equal: {'yes' if same else 'NO'}")
    out = Path(args.out)
    out = out if out.is_absolute() else REPO / out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out.relative_to(REPO) if out.is_relative_to(REPO) else out}")
    if not same:
        counts = ", ".join(f"{n} {r['records']}" for n, r in (("ours", ours), ("bare", bare), ("dlt", peer)) if r)
        print(f"row counts differ: {counts}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
