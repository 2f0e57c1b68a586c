"""The serving file opened by the oldest DuckDB the README promises (warehouse/serving.py
`OLDEST_READER`, pinned with hashes in requirements-compat.txt), as the older engines inside BI
drivers would: every mart and quality table read, each column decoded, the Parquet views too.

The old DuckDB lives in its own venv, `.venv-compat`, created from the lock on first use and
reused while the lock is unchanged (it needs the package index once). Without a network it
skips, saying so; any other install failure fails."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from warehouse import serving

REPO = Path(__file__).resolve().parent.parent
LOCK = REPO / "requirements-compat.txt"
COMPAT = REPO / ".venv-compat"
UV = Path(sys.executable).parent / "uv"
NETWORK_TROUBLE = (
    "dns error",
    "failed to lookup address",
    "error sending request",
    "tcp connect error",
    "connection refused",
    "network is unreachable",
    "temporary failure in name resolution",
    "timed out",
)

READ_OLD = """
import json, sys
import duckdb

serving, views = sys.argv[1:3]
con = duckdb.connect(serving, read_only=True)
tables = con.execute("select table_schema, table_name from meta.tables order by 1, 2").fetchall()
out = {"version": duckdb.__version__, "counts": {}, "parquet": {}}
for schema, name in tables:
    t = f'"{schema}"."{name}"'
    out["counts"][f"{schema}.{name}"] = con.execute(f"select count(*) from {t}").fetchall()[0][0]
    con.execute(f"select max(length(cast(columns(*) as varchar))) from {t}").fetchall()  # every column decoded
out["spend"] = con.execute(
    "select currency, sum(spend)::varchar from marts.fct_paid_performance_daily group by 1 order by 1"
).fetchall()
con.close()
pq = duckdb.connect()
pq.execute(open(views).read())
for schema, name in tables:
    out["parquet"][f"{schema}.{name}"] = pq.execute(f'select count(*) from "{schema}"."{name}"').fetchall()[0][0]
print(json.dumps(out))
"""


def compat_python() -> Path:
    """The venv of requirements-compat.txt, created once per version of the lock (one process at
    a time: test sessions may run side by side)."""
    digest = hashlib.sha256(LOCK.read_bytes()).hexdigest()
    python = COMPAT / "bin" / "python"
    stamp = COMPAT / ".installed"
    lock_file = REPO / ".venv-compat.lock"
    with open(lock_file, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        if stamp.exists() and stamp.read_text() == digest and python.exists():
            return python
        shutil.rmtree(COMPAT, ignore_errors=True)
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        steps = [
            [str(UV), "venv", "--quiet", "--python", sys.executable, str(COMPAT)],
            [str(UV), "pip", "sync", "--quiet", "--require-hashes", "--python", str(python), str(LOCK)],
        ]
        for step in steps:
            proc = subprocess.run(step, env=env, capture_output=True, text=True, timeout=600)
            if proc.returncode != 0:
                shutil.rmtree(COMPAT, ignore_errors=True)
                if any(m in proc.stderr.lower() for m in NETWORK_TROUBLE):
                    pytest.skip(f"cannot install {LOCK.name} (no network to the package index?): {proc.stderr[-500:]}")
                pytest.fail(f"{' '.join(step)} failed:\n{proc.stderr[-3000:]}")
        stamp.write_text(digest)
    return python


def test_the_oldest_promised_duckdb_reads_every_published_table(materialized):
    srv = materialized["warehouse"].parent / "serving.duckdb"
    con = duckdb.connect(str(srv), read_only=True)
    try:
        expected = dict(con.execute("select table_schema || '.' || table_name, rows from meta.tables").fetchall())
        spend = con.execute(
            "select currency, sum(spend)::varchar from marts.fct_paid_performance_daily group by 1 order by 1"
        ).fetchall()
        views = Path(con.execute("select parquet_dir from meta.published").fetchall()[0][0]) / serving.VIEWS_SQL
    finally:
        con.close()
    assert len(expected) > 30 and spend
    python = compat_python()
    proc = subprocess.run(
        [str(python), "-c", READ_OLD, str(srv), str(views)], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout)
    assert got["version"] == serving.OLDEST_READER
    assert got["counts"] == expected and got["parquet"] == expected
    assert [tuple(r) for r in got["spend"]] == spend


def test_the_compat_lock_pins_the_oldest_promised_version_with_hashes():
    text = LOCK.read_text()
    assert f"duckdb=={serving.OLDEST_READER} \\" in text and "--hash=sha256:" in text
    assert serving.STORAGE_VERSION == f"v{serving.OLDEST_READER}"
