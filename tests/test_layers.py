"""The layers under Dagster stay free of it, and production code of the sample world.

The extract-land-load engine (warehouse/engine.py) and every module under extractors/,
warehouse/ and expectations/ import neither Dagster nor anything from sampleworld/; the
orchestration modules import nothing from sampleworld/ either, except sample mode's own
(orchestration/sample_mode.py). Each is checked by importing it in a fresh interpreter and
looking at what `sys.modules` then holds (the first module that pulls a forbidden one in is
named). Importing the orchestration package changes nothing in the process: no environment
variable written, no process started (no `dbt parse`, no fake).
"""

from __future__ import annotations

import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def modules_under(*packages: str) -> list[str]:
    out = []
    for package in packages:
        out.append(package)
        out += [f"{package}.{m.name}" for m in pkgutil.walk_packages([str(REPO / package)]) if m.name != "__main__"]
    return sorted(out)


# In a fresh interpreter: import each module in turn and note which forbidden modules it
# brought in (beyond those already there), which environment variables changed, and every
# process started, as JSON.
PROBE = r"""
import json, os, sys, importlib
started = []
def by_platform_module():
    # Dagster's vendored croniter asks platform.architecture() on import, which runs `file`
    # on the interpreter: the standard library's probe, not the project's.
    f = sys._getframe(2)
    while f is not None:
        if f.f_code.co_filename.endswith(os.sep + "platform.py"):
            return True
        f = f.f_back
    return False
def audit(event, args):
    if event in ("subprocess.Popen", "os.system", "os.posix_spawn", "os.exec", "os.fork") and not by_platform_module():
        started.append(f"{event} {args[:2]!r}"[:300])
sys.addaudithook(audit)
forbidden = tuple(sys.argv[1].split(","))
names = json.loads(sys.argv[2])
env_before = dict(os.environ)
pulled = {}
for name in names:
    before = {m for m in sys.modules if m.startswith(forbidden)}
    importlib.import_module(name)
    new = sorted(m for m in sys.modules if m.startswith(forbidden) and m not in before)
    if new:
        pulled[name] = new[:5]
changed = sorted(k for k in set(env_before) | set(os.environ) if env_before.get(k) != os.environ.get(k))
print("PROBE " + json.dumps({"pulled": pulled, "env_changed": changed, "started": started}))
"""


def probe(modules: list[str], forbidden: tuple[str, ...]) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, ",".join(forbidden), json.dumps(modules)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(x for x in proc.stdout.splitlines() if x.startswith("PROBE "))
    return json.loads(line.split(" ", 1)[1])


def test_engine_extractors_warehouse_expectations_import_neither_dagster_nor_sampleworld():
    modules = ["warehouse.engine", *modules_under("extractors", "warehouse", "expectations")]
    assert "warehouse.engine" in modules and "extractors.http" in modules and "expectations.runner" in modules
    found = probe(modules, ("dagster", "sampleworld"))
    assert found["pulled"] == {}, f"these modules pull in Dagster or the sample world: {found['pulled']}"


def test_orchestration_imports_nothing_from_sampleworld_outside_sample_mode():
    modules = [m for m in modules_under("orchestration") if m != "orchestration.sample_mode"]
    assert "orchestration.definitions" in modules and "orchestration.run" in modules
    found = probe(modules, ("sampleworld",))
    assert found["pulled"] == {}


def test_importing_the_project_writes_no_environment_and_starts_no_process():
    """No telemetry switches, warehouse path or DAGSTER_HOME written on import, no `dbt parse`,
    no fake: the policy is applied where a process starts (run.py, the code location, the
    environment of each dbt process)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "SKW_WAREHOUSE_PATH")}
    for k in ("DAGSTER_DISABLE_TELEMETRY", "DBT_SEND_ANONYMOUS_USAGE_STATS", "DO_NOT_TRACK", "GX_ANALYTICS_ENABLED"):
        env.pop(k, None)
    modules = modules_under("orchestration", "extractors", "warehouse", "expectations")
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, "sampleworld", json.dumps(modules)],
        cwd=REPO,
        env={**env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = json.loads(next(x for x in proc.stdout.splitlines() if x.startswith("PROBE ")).split(" ", 1)[1])
    assert found["env_changed"] == [] and found["started"] == []


def test_the_sample_world_imports_no_dagster():
    found = probe(["sampleworld.serve", "sampleworld.world"], ("dagster",))
    assert found["pulled"] == {}
