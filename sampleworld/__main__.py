"""`python -m sampleworld generate` writes the sample world; `serve` serves it on 127.0.0.1."""

from __future__ import annotations

import argparse
import json
import logging
import resource
import signal
import sys
import threading
import time

from sampleworld.fakes.base import FaultConfig
from sampleworld.serve import fake_env, start_fakes
from sampleworld.world import WorldSpec, generate
from warehouse.settings import Settings


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sampleworld", description=__doc__)
    parser.add_argument("command", choices=["generate", "serve"])
    parser.add_argument("--faults", choices=["on", "off"], default="off")
    parser.add_argument(
        "--env-json",
        action="store_true",
        help="print one line 'SKW_FAKES_ENV {json}' with the variables that point at the fakes",
    )
    parser.add_argument(
        "--stop-on-eof",
        action="store_true",
        help="stop when standard input closes (a parent process that started us has ended)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    spec, settings = WorldSpec.from_env(), Settings.from_env()
    started = time.monotonic()
    world = generate(spec, settings.sample_dir)
    print(f"sample world: {world}")
    if args.command == "generate":
        manifest = world.parent / f"{world.name}.manifest.json"
        if manifest.exists():
            m = json.loads(manifest.read_text())
            for domain, d in m["domains"].items():
                print(f"  {domain:<14} {d['records']:>12,} records  {d['seconds']:>7.1f} s")
            print(f"  {'total':<14} {m['records']:>12,} records")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"wall {time.monotonic() - started:.1f} s, peak memory {peak:.0f} MiB")
        return 0
    faults = FaultConfig.default_on(spec.seed) if args.faults == "on" else FaultConfig.off()
    servers = start_fakes(world, faults)
    for name, srv in servers.items():
        print(f"{name}: {srv.url}")
    env = fake_env(servers, world)
    if args.env_json:
        print("SKW_FAKES_ENV " + json.dumps({"world": str(world), "env": env}), flush=True)
    else:
        print(
            "export "
            + " ".join(f"{k}={v}" for k, v in env.items() if not k.endswith("_TOKEN"))
            + "  # tokens: see .env.example"
        )
        print("Ctrl-C stops the fakes.", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if args.stop_on_eof:
        threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    for srv in servers.values():
        srv.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
