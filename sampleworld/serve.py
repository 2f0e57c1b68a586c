"""Start every fake API on a free loopback port and say where they are."""

from __future__ import annotations

import json
from pathlib import Path

from sampleworld.fakes.base import FakeServer, FaultConfig
from sampleworld.fakes.meta_marketing import DEFAULT_TOKEN, MetaMarketingApp


def start_fakes(world_dir, faults: FaultConfig | None = None) -> dict[str, FakeServer]:
    """Start every fake on a free loopback port; the caller stops them."""
    return {"meta_marketing": FakeServer(MetaMarketingApp(world_dir), faults).start()}


def fake_env(servers: dict[str, FakeServer], world_dir: Path) -> dict[str, str]:
    """The environment variables that point the extractors at the fakes."""
    accounts = json.loads((world_dir / "meta_ads" / "accounts.json").read_text())
    return {"META_BASE_URL": servers["meta_marketing"].url, "META_ACCESS_TOKEN": DEFAULT_TOKEN,
            "META_AD_ACCOUNT_IDS": ",".join(a["account_id"] for a in accounts)}
