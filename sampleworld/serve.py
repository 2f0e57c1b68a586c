"""Start every fake API on a free loopback port and say where they are.

Each module in sampleworld/fakes that defines `make_app` is a fake. It also defines
`NAME` and `env(url, app) -> dict[str, str]`, the environment variables that point this
project's extractors at it (base URL, token, account ids), and may define `DOMAINS`, the
world folders it serves (a fake whose domains were not generated is not started).
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from sampleworld.fakes.base import FakeServer, FaultConfig


def fake_modules():
    import sampleworld.fakes as pkg

    mods = [
        importlib.import_module(f"sampleworld.fakes.{m.name}")
        for m in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name)
    ]
    return [m for m in mods if hasattr(m, "make_app")]


def start_fakes(world_dir: Path, faults: FaultConfig | None = None) -> dict[str, FakeServer]:
    """Start every fake on a free loopback port; the caller stops them."""
    servers = {}
    for i, mod in enumerate(fake_modules()):
        if not all((Path(world_dir) / d).is_dir() for d in getattr(mod, "DOMAINS", ())):
            continue
        f = faults
        if faults is not None and faults.seed is not None:
            from dataclasses import replace

            f = replace(faults, seed=faults.seed + 101 * i)
        servers[mod.NAME] = FakeServer(mod.make_app(Path(world_dir)), f).start()
    return servers


def fake_env(servers: dict[str, FakeServer], world_dir: Path | None = None) -> dict[str, str]:
    """The environment variables that point the extractors at the running fakes."""
    env: dict[str, str] = {}
    for mod in fake_modules():
        if mod.NAME in servers:
            env.update(mod.env(servers[mod.NAME].url, servers[mod.NAME].app))
    return env
