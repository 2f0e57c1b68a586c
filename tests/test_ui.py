"""The Dagster UI's asset graph in headless Chromium (network off, tests/browser.py): the
webserver started as `make ui` starts it (sample mode, the project's code location) on a free
port with a DAGSTER_HOME of its own; the global asset lineage must draw every asset group
with no console error. A screenshot is kept under the data folder (`screenshots/`)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import browser
import pytest

from warehouse.settings import Settings

REPO = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def webserver(tmp_path_factory):
    """One dagster-webserver for the module, stopped (its whole process group) at the end."""
    if browser.CHROMIUM is None:
        pytest.skip("chromium is absent: apt-get install -y chromium (.ci/run installs it)")
    root = tmp_path_factory.mktemp("ui")
    env = {
        **os.environ,
        "SKW_SAMPLE_MODE": "1",
        "SKW_DATA_DIR": str(root / "data"),
        "DAGSTER_HOME": str(root / "dagster_home"),
    }
    env.pop("SKW_WAREHOUSE_PATH", None)
    subprocess.run([sys.executable, "-m", "orchestration.instance"], env=env, cwd=REPO, check=True, capture_output=True)
    port = _free_port()
    log = (root / "webserver.log").open("w")
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(port)]
        + ["-m", "orchestration.definitions"],
        env=env,
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(url + "/server_info", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"dagster-webserver did not answer: {(root / 'webserver.log').read_text()[-3000:]}")
                time.sleep(0.5)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def test_asset_graph_renders_every_group_without_console_errors(webserver):
    from orchestration.definitions import defs

    groups = {defs.resolve_asset_graph().get(k).group_name for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"marts", "serving", "staging"} <= groups
    # every group node drawn in the lineage graph (an svg foreignObject per node)
    ready = (
        "(() => { const names = [...document.querySelectorAll('svg foreignObject')]"
        ".map(n => n.textContent.trim()); return names.length ? names : null; })()"
    )
    with browser.Browser() as b:
        result = b.open(webserver + "/asset-groups", ready, timeout=30, settle=2)
        # the graph lays out asynchronously: wait for every group, not only the first node
        deadline = time.monotonic() + 20
        while set(result.value or []) < groups and time.monotonic() < deadline:
            time.sleep(0.5)
            result.value = b.evaluate(ready)
        shot = b.screenshot(Settings.from_env().data_dir / "screenshots" / "dagster-asset-graph.png")
        errors = b.errors()
    assert errors == [], errors
    assert result.ready and groups <= set(result.value), (sorted(groups - set(result.value or [])), str(shot))
