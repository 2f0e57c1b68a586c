"""Session set-up shared by every test.

- Every path the project writes (warehouse, landing, sample world, DAGSTER_HOME) points into
  one temporary folder for the session, so tests never touch ./data.
- A network audit (tests/netaudit/sitecustomize.py) runs in this process and in every Python
  subprocess (dbt): a lookup or connection to anything but loopback fails the session.
- The expensive things (the sample world, one materialized warehouse) are built once.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
NETAUDIT_DIR = Path(__file__).resolve().parent / "netaudit"
SHARED = REPO.parent / "shared"

_session_dir = Path(tempfile.mkdtemp(prefix="skw-tests-"))
os.environ["SKW_DATA_DIR"] = str(_session_dir / "data")
os.environ["SKW_WAREHOUSE_PATH"] = str(_session_dir / "data" / "warehouse.duckdb")
os.environ["DAGSTER_HOME"] = str(_session_dir / "dagster_home")
os.environ["SKW_NETAUDIT_LOG"] = str(_session_dir / "netaudit.log")
os.environ["SKW_PII_SALT"] = "test-session-salt"
os.environ["PYTHONPATH"] = os.pathsep.join([str(NETAUDIT_DIR), str(REPO), os.environ.get("PYTHONPATH", "")])
# The tests point the extractors at the fakes themselves: no endpoint or token from the shell.
_SOURCE_PREFIXES = (
    "META_",
    "FACEBOOK_",
    "INSTAGRAM_",
    "GOOGLE_ADS_",
    "LINKEDIN_",
    "GA4_",
    "HUBSPOT_",
    "X_",
    "YOUTUBE_",
    "LISTENING_",
    "SURVEY_",
    "SKW_SAMPLE_",
    "SKW_FAKE_",
    "SKW_CONFIG_",
)
for var in [v for v in os.environ if v.startswith(_SOURCE_PREFIXES) and v != "SKW_SAMPLE_DOMAINS"]:
    os.environ.pop(var)
# The pipeline's tests run on the sample world: sample mode on, explicitly (outside it every
# source must be configured; tests/test_sample_mode.py shows that in processes of its own).
os.environ["SKW_SAMPLE_MODE"] = "1"
# What the project gives every dbt process (warehouse path, memory limit, telemetry off), for
# the tests that start dbt themselves.
from warehouse.settings import Settings  # noqa: E402

os.environ.update(Settings.from_env().dbt_env())
sys.path.insert(0, str(NETAUDIT_DIR))
import sitecustomize  # noqa: E402,F401  (installs the audit hook in this process)

from sampleworld.fakes.base import FakeServer, FaultConfig  # noqa: E402
from sampleworld.fakes.meta_ads import MetaAdsApp  # noqa: E402
from sampleworld.world import WorldSpec, generate  # noqa: E402

# A short range keeps the suite fast; the default (make run) range is four weeks.
TEST_SPEC = WorldSpec(start=WorldSpec().start, end=WorldSpec().start.replace(day=7), seed=7)


def pytest_sessionfinish(session, exitstatus):
    log = Path(os.environ["SKW_NETAUDIT_LOG"])
    if log.exists() and log.read_text().strip():
        session.config.pluginmanager.get_plugin("terminalreporter").write_line(
            "NETWORK AUDIT FAILED: something reached beyond 127.0.0.1:\n" + log.read_text(), red=True
        )
        session.exitstatus = 1


@pytest.fixture(scope="session")
def session_dir() -> Path:
    return _session_dir


@pytest.fixture(scope="session")
def world(session_dir) -> Path:
    return generate(TEST_SPEC, session_dir / "worlds")


@pytest.fixture(scope="session")
def meta_app(world) -> MetaAdsApp:
    return MetaAdsApp(world)


@pytest.fixture
def meta_fake(world):
    with FakeServer(MetaAdsApp(world)) as srv:
        yield srv


@pytest.fixture
def meta_fake_faulty(world):
    faults = FaultConfig(
        error_rate=0.08,
        rate_limit_rate=0.05,
        retry_after_s=0,
        truncate_rate=0.05,
        repeat_page_rate=0.2,
        extra_field_rate=0.1,
        seed=3,
    )
    with FakeServer(MetaAdsApp(world), faults) as srv:
        yield srv


@pytest.fixture(scope="session")
def fakes(world):
    """Every fake API, started once for the session on free loopback ports (faults off)."""
    from sampleworld.serve import start_fakes

    servers = start_fakes(world)
    yield servers
    for srv in servers.values():
        srv.stop()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.exists():
        pytest.skip(f"{SHARED} is absent: it sits beside the repository on the team's machines and in CI only")
    return SHARED


META_SECRET = "EAAB-test-secret-token-0123456789"


@pytest.fixture(scope="session")
def materialized(world):
    """One warehouse for the session, shared by every test of the pipeline and the marts: the
    main job over the test range, as `make run` runs it. Every source reads the test world (the
    embedded fakes are pointed at TEST_SPEC, faults on); Meta's ad insights come from a fake in
    this process with more faults and a secret token, so tests can look for both."""
    import json

    from dagster import DagsterInstance

    from orchestration.instance import instance_settings
    from orchestration.run import run
    from warehouse.settings import Settings

    faults = FaultConfig(
        error_rate=0.05,
        rate_limit_rate=0.03,
        retry_after_s=0,
        truncate_rate=0.03,
        repeat_page_rate=0.1,
        extra_field_rate=0.5,
        bad_record_rate=0.5,
        seed=11,
    )
    # Days run on threads, so which page draws which fault varies between runs; the rates of
    # the faults the tests look for are high enough that ~14 result pages always see some.
    accounts = [a["account_id"] for a in json.loads((world / "meta_ads" / "accounts.json").read_text())]
    env = {"META_ACCESS_TOKEN": META_SECRET, "META_AD_ACCOUNT_IDS": ",".join(accounts)}
    world_env = {
        "SKW_SAMPLE_START": TEST_SPEC.start.isoformat(),
        "SKW_SAMPLE_END": TEST_SPEC.end.isoformat(),
        "SKW_SAMPLE_SEED": str(TEST_SPEC.seed),
        "SKW_SAMPLE_SCALE": str(TEST_SPEC.scale),
    }
    with FakeServer(MetaAdsApp(world, token=META_SECRET), faults) as srv:
        os.environ.update(env, META_BASE_URL=srv.url)
        try:
            instance = DagsterInstance.ephemeral(settings=instance_settings())
            os.environ.update(world_env)  # for the embedded fakes of this run only
            try:
                result = run(TEST_SPEC.start, TEST_SPEC.end, instance=instance)
            finally:
                for k in world_env:
                    os.environ.pop(k, None)
            yield {
                "result": result,
                "instance": instance,
                "server": srv,
                "truths": json.loads((world / "truths.json").read_text()),
                "warehouse": Settings.from_env().warehouse_path,
            }
        finally:
            for k in (*env, "META_BASE_URL"):
                os.environ.pop(k, None)


@pytest.fixture(scope="session")
def make_run_twice(tmp_path_factory):
    """`make run` as a user runs it, twice, into a fresh data folder: the default sample world
    (28 days) through the whole pipeline. (data folder, [(process, layer counts)] per run).
    Shared: tests of the marts against the default world's planted truths read its warehouse
    (`data / "warehouse.duckdb"`) instead of building one more."""
    import subprocess

    from orchestration.run import layer_counts

    repo = Path(__file__).resolve().parent.parent
    data = tmp_path_factory.mktemp("make-run") / "data"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SKW_", "META_", "DAGSTER_")) or k == "SKW_NETAUDIT_LOG"
    }
    env["SKW_DATA_DIR"] = str(data)
    runs = []
    for _ in range(2):
        proc = subprocess.run(
            ["make", "--no-print-directory", "run"], cwd=repo, env=env, capture_output=True, text=True, timeout=600
        )
        runs.append((proc, layer_counts(data / "warehouse.duckdb")))
    return data, runs


@pytest.fixture(scope="session")
def default_world(make_run_twice):
    """The default sample world after `make run`: its warehouse (read it read-only) and truths."""
    import json

    data, runs = make_run_twice
    proc = runs[-1][0]
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    world = next(p for p in (data / "sample").iterdir() if (p / "truths.json").exists())
    return {
        "warehouse": data / "warehouse.duckdb",
        "world": world,
        "truths": json.loads((world / "truths.json").read_text()),
    }
