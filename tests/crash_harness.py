"""What tests/test_crash_safety.py and tests/test_concurrent_processes.py share: `make run`'s own
command (`python -m orchestration.run`) in processes of its own, on a small copy of the session's
warehouse, and one uninterrupted run of it as the reference.

- The base: a copy of the session's `materialized` warehouse with the raw rows of SOURCES for
  the run's days removed (so a run has real loads to do, not only "unchanged"), and a serving
  database published from it (the "previous good" publish).
- A run: `python -m orchestration.run --start .. --end ..` in sample mode, SOURCES only, against
  the session's fakes (faults off: the same records every time), in a new session (process
  group) so a test can SIGKILL it with everything it started (dbt, the fakes process).
- The reference: one uninterrupted run on a copy of the base, computed once per test session.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import REPO, TEST_SPEC

SOURCES = ("listening", "ga4")
START, END = "2026-06-04", "2026-06-06"
RUN_BOUND_S = 240  # one run takes ~35 s here; far above it
# Load metadata, run ids and times: different in any two runs, whatever they load.
VOLATILE = {"checked_at", "run_id", "published_at", "scored_at", "built_at", "loaded_at", "detected_at"}

_cache: dict[str, Path] = {}


def copy_db(src: Path, dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    if Path(f"{src}.wal").exists():
        shutil.copyfile(f"{src}.wal", f"{dst}.wal")
    return dst


def base(materialized, tmp_path_factory) -> Path:
    """The base folder (data/warehouse.duckdb, data/serving.duckdb), built once per session."""
    if "base" in _cache:
        return _cache["base"]
    import duckdb

    from warehouse.serving import publish

    root = tmp_path_factory.mktemp("crash-base")
    wh = copy_db(Path(materialized["warehouse"]), root / "data" / "warehouse.duckdb")
    with duckdb.connect(str(wh)) as con:
        tables = con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw' and table_type = 'BASE TABLE'"
        ).fetchall()
        for (t,) in tables:
            if t.split("__")[0] in SOURCES:  # the run's days only: staging keeps other days (checked against raw)
                con.execute(
                    f'''delete from raw."{t}"
                        where regexp_extract(_source_file, 'partition=([0-9-]+)', 1) between ? and ?''',
                    [START, END],
                )
        con.execute("checkpoint")
    publish(wh, root / "data" / "serving.duckdb", run_id="base")
    _cache["base"] = root
    return root


def scenario(base_root: Path, dst: Path) -> Path:
    """A fresh copy of the base (warehouse and serving file) under `dst`."""
    copy_db(base_root / "data" / "warehouse.duckdb", dst / "data" / "warehouse.duckdb")
    shutil.copyfile(base_root / "data" / "serving.duckdb", dst / "data" / "serving.duckdb")
    return dst


def env(root: Path, fakes, world: Path) -> dict[str, str]:
    from sampleworld.serve import fake_env

    keep = {k: v for k, v in os.environ.items() if not k.startswith(("SKW_", "META_", "DAGSTER_"))}
    return {
        **keep,
        **fake_env({s: fakes[s] for s in SOURCES}),
        "SKW_NETAUDIT_LOG": os.environ["SKW_NETAUDIT_LOG"],
        "SKW_PII_SALT": os.environ["SKW_PII_SALT"],
        "SKW_SAMPLE_MODE": "1",
        "SKW_SOURCES": ",".join(SOURCES),
        "SKW_DATA_DIR": str(root / "data"),
        "SKW_SAMPLE_DIR": str(world.parent),  # the session's world: nothing generated
        "DAGSTER_HOME": str(root / "home"),
        "SKW_SAMPLE_START": TEST_SPEC.start.isoformat(),
        "SKW_SAMPLE_END": TEST_SPEC.end.isoformat(),
        "SKW_SAMPLE_SEED": str(TEST_SPEC.seed),
        "SKW_SAMPLE_SCALE": str(TEST_SPEC.scale),
    }


def start_run(root: Path, fakes, world: Path, log_name: str = "run") -> subprocess.Popen:
    """`python -m orchestration.run` for DAYS in a process group of its own; output to root/<log_name>.log."""
    out = open(root / f"{log_name}.log", "w")  # noqa: SIM115  (closed with the process, by the caller's wait)
    return subprocess.Popen(
        [sys.executable, "-m", "orchestration.run", "--start", START, "--end", END],
        cwd=REPO,
        env=env(root, fakes, world),
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def log_of(root: Path, log_name: str = "run") -> str:
    return (root / f"{log_name}.log").read_text(errors="replace")


def run_to_end(root: Path, fakes, world: Path, log_name: str = "run") -> int:
    proc = start_run(root, fakes, world, log_name)
    try:
        return proc.wait(timeout=RUN_BOUND_S)
    finally:
        kill_group(proc)


def reference(materialized, fakes, world, tmp_path_factory) -> Path:
    """One uninterrupted run on a copy of the base: what every other run must end equal to."""
    if "reference" in _cache:
        return _cache["reference"]
    root = scenario(base(materialized, tmp_path_factory), tmp_path_factory.mktemp("crash-reference"))
    rc = run_to_end(root, fakes, world)
    assert rc == 0, log_of(root)[-4000:]
    _cache["reference"] = root
    return root


def group_pids(pgid: int) -> list[int]:
    """Live processes of a process group (zombies left out)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            pids.append(int(entry.name))
    return pids


def cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the run and everything it started; return when none of it is alive."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)
    deadline = time.monotonic() + 30
    while group_pids(proc.pid):
        assert time.monotonic() < deadline, f"processes of the killed run still alive: {group_pids(proc.pid)}"
        time.sleep(0.05)


def lock_holders(path: Path) -> list[int]:
    """PIDs holding DuckDB's lock on `path` (warehouse/locks.py reads /proc/locks the same way)."""
    from warehouse.locks import _pids_from_proc_locks

    try:
        st = path.stat()
    except FileNotFoundError:
        return []
    return _pids_from_proc_locks(st.st_dev, st.st_ino) or []


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def incomplete_landing_files(landing: Path) -> list[str]:
    """Landing files under their final name that are not whole gzip streams, or not read-only."""
    bad = []
    for f in sorted(landing.rglob("*.jsonl.gz")):
        try:
            with gzip.open(f) as fh:
                while fh.read(1 << 20):
                    pass
        except (EOFError, OSError) as exc:
            bad.append(f"{f}: {exc}")
            continue
        if f.stat().st_mode & 0o222:
            bad.append(f"{f}: writable")
    return bad


def table_differences(a: Path, b: Path, schemas=("raw", "staging", "intermediate", "marts")) -> dict[str, object]:
    """Rows in one warehouse's tables but not the other's (both ways, with multiplicity), per
    table, leaving out load-metadata columns (`_load_id`, `_loaded_at`, ...) and run times;
    doubles compared to 9 decimals."""
    import duckdb

    out: dict[str, object] = {}
    con = duckdb.connect()
    try:
        con.execute(f"attach '{a}' as a (read_only)")
        con.execute(f"attach '{b}' as b (read_only)")
        wanted = ", ".join(f"'{s}'" for s in schemas)

        def tables(db):
            return set(
                con.execute(
                    f"""select table_schema, table_name from information_schema.tables
                        where table_catalog = ? and table_schema in ({wanted})""",
                    [db],
                ).fetchall()
            )

        ta, tb = tables("a"), tables("b")
        for s, t in sorted(ta ^ tb):
            out[f"{s}.{t}"] = f"only in {'a' if (s, t) in ta else 'b'}"
        for s, t in sorted(ta & tb):
            cols = [
                (c, typ)
                for (c, typ) in con.execute(
                    """select column_name, data_type from information_schema.columns
                       where table_catalog = 'a' and table_schema = ? and table_name = ? order by ordinal_position""",
                    [s, t],
                ).fetchall()
                if not c.startswith("_") and c not in VOLATILE
            ]
            # a sum of doubles may differ in its last bits between two builds (DuckDB adds in parallel)
            sel = ", ".join(f'round("{c}", 9)' if typ in ("DOUBLE", "FLOAT") else f'"{c}"' for c, typ in cols)
            n = con.execute(
                f"""select (select count(*) from (select {sel} from a."{s}"."{t}" except all
                                                  select {sel} from b."{s}"."{t}"))
                         + (select count(*) from (select {sel} from b."{s}"."{t}" except all
                                                  select {sel} from a."{s}"."{t}"))"""
            ).fetchall()[0][0]
            if n:
                out[f"{s}.{t}"] = n
    finally:
        con.close()
    return out


def raw_rows(path: Path) -> int:
    import duckdb

    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw' and table_type = 'BASE TABLE'"
        ).fetchall()
        return sum(
            con.execute(f'select count(*) from raw."{t}"').fetchall()[0][0]
            for (t,) in tables
            if t.split("__")[0] in SOURCES
        )
