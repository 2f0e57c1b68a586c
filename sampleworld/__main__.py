"""`python -m sampleworld generate` writes the sample world; `serve` serves it on 127.0.0.1."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading

from sampleworld.fakes.base import FakeServer, FaultConfig
from sampleworld.fakes.meta_marketing import DEFAULT_TOKEN, MetaMarketingApp
from sampleworld.world import WorldSpec, generate
from warehouse.settings import Settings


def start_fakes(world_dir, faults: FaultConfig | None = None) -> dict[str, FakeServer]:
    """Start every fake on a free loopback port; the caller stops them."""
    return {"meta_marketing": FakeServer(MetaMarketingApp(world_dir), faults).start()}


def fake_env(servers: dict[str, FakeServer], world_dir) -> dict[str, str]:
    """The environment variables that point the extractors at the fakes."""
    accounts = json.loads((world_dir / "meta_ads" / "accounts.json").read_text())
    return {"META_BASE_URL": servers["meta_marketing"].url, "META_ACCESS_TOKEN": DEFAULT_TOKEN,
            "META_AD_ACCOUNT_IDS": ",".join(a["account_id"] for a in accounts)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sampleworld", description=__doc__)
    parser.add_argument("command", choices=["generate", "serve"])
    parser.add_argument("--faults", choices=["on", "off"], default="off")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    spec, settings = WorldSpec.from_env(), Settings.from_env()
    world = generate(spec, settings.sample_dir)
    print(f"sample world: {world}")
    if args.command == "generate":
        return 0
    faults = FaultConfig.default_on(spec.seed) if args.faults == "on" else FaultConfig.off()
    servers = start_fakes(world, faults)
    for name, srv in servers.items():
        print(f"{name}: {srv.url}")
    print("export " + " ".join(f"{k}={v}" for k, v in fake_env(servers, world).items()
                               if k != "META_ACCESS_TOKEN") + "  # token: see .env.example")
    print("Ctrl-C stops the fakes.", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    for srv in servers.values():
        srv.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
