"""A deterministic sample world: the same seed, range and scale give the same files, byte for byte.

Generation streams rows to disk (JSON lines) so memory stays flat as the scale grows. Each
generated world sits in its own folder named by its parameters and is reused when present.
`truths.json` beside the data holds what the warehouse must recover (totals to the cent).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import pkgutil
import shutil
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sampleworld.entities import build
from sampleworld.funnel import funnel
from sampleworld.jsonl import write_json

# Part of the world's folder name: bumped whenever a spec's files change (7: the survey's folder
# and truths key are `survey`, formerly `csat`).
GENERATOR_VERSION = 7
DEFAULT_START = date(2026, 6, 1)
DEFAULT_END = date(2026, 6, 28)
DEFAULT_SEED = 42


@dataclass(frozen=True)
class WorldSpec:
    start: date = DEFAULT_START
    end: date = DEFAULT_END
    seed: int = DEFAULT_SEED
    scale: int = 1

    @classmethod
    def from_env(cls) -> WorldSpec:
        env = os.environ
        return cls(
            start=date.fromisoformat(env.get("SKW_SAMPLE_START", DEFAULT_START.isoformat())),
            end=date.fromisoformat(env.get("SKW_SAMPLE_END", DEFAULT_END.isoformat())),
            seed=int(env.get("SKW_SAMPLE_SEED", DEFAULT_SEED)),
            scale=int(env.get("SKW_SAMPLE_SCALE", 1)),
        )

    @property
    def folder_name(self) -> str:
        return f"seed{self.seed}_{self.start}_{self.end}_x{self.scale}_v{GENERATOR_VERSION}"

    def days(self):
        d = self.start
        while d <= self.end:
            yield d
            d += timedelta(days=1)


def selected_domains() -> list[str] | None:
    """SKW_SAMPLE_DOMAINS=meta_ads,ga4 generates only those domains (all when unset)."""
    value = os.environ.get("SKW_SAMPLE_DOMAINS", "").strip()
    return sorted(d.strip() for d in value.split(",") if d.strip()) if value else None


def domains():
    """The domain generator modules in sampleworld/gen, in name order (or those selected)."""
    import sampleworld.gen as gen

    wanted = selected_domains()
    names = sorted(m.name for m in pkgutil.iter_modules(gen.__path__))
    if wanted:
        unknown = set(wanted) - set(names)
        if unknown:
            raise ValueError(f"SKW_SAMPLE_DOMAINS names unknown domain(s) {sorted(unknown)}; known: {names}")
        names = wanted
    return [importlib.import_module(f"sampleworld.gen.{name}") for name in names]


def planted_truths(spec: WorldSpec, ents, domain_truths: dict) -> dict:
    """What the marts must recover: the crisis window, the A/B winner, the influencer that works
    and the one that does not, totals per channel, and the influencer channel's totals per
    platform its creators post on (the roster's; each creator's traffic comes from there)."""
    per_channel: dict[str, dict] = {}
    per_platform: dict[str, dict] = {}
    for r in funnel(spec):
        totals = [per_channel.setdefault(r.channel, _funnel_totals())]
        if r.channel == "influencer":
            totals.append(per_platform.setdefault(r.utm_source, _funnel_totals()))
        for t in totals:
            t["sessions"] += r.sessions
            t["sessions_untagged"] += r.sessions_untagged
            t["leads"] += r.leads
            t["new_customers"] += r.new_customers
            t["revenue_eur"] += r.revenue_eur
    for key, domain in (("meta_paid", "meta_ads"), ("google_cpc", "google_ads"), ("linkedin_paid", "linkedin_ads")):
        if key in per_channel and "spend_eur" in domain_truths.get(domain, {}):
            per_channel[key]["spend_eur"] = domain_truths[domain]["spend_eur"]
    influencers = sorted(ents.influencers, key=lambda i: i["effectiveness"])
    return {
        "crisis": ents.crisis,
        "ab_test": {**ents.ab_test, "observed": domain_truths.get("meta_ads", {}).get("ab_test")},
        "influencer_that_works": influencers[-1]["handle"],
        "influencer_that_does_not": influencers[0]["handle"],
        "totals_per_channel": {
            k: {**v, "revenue_eur": f"{v['revenue_eur']:.2f}"} for k, v in sorted(per_channel.items())
        },
        "influencer_totals_per_platform": {
            p: {
                "handles": sorted(i["handle"] for i in ents.influencers if i["platform"] == p),
                **v,
                "revenue_eur": f"{v['revenue_eur']:.2f}",
            }
            for p, v in sorted(per_platform.items())
        },
    }


def _funnel_totals() -> dict:
    return {"sessions": 0, "sessions_untagged": 0, "leads": 0, "new_customers": 0, "revenue_eur": Decimal(0)}


_GENERATING = threading.Lock()


def generate(spec: WorldSpec, root: Path) -> Path:
    """Write the world under `root/<spec folder>` (atomically) and return that folder.
    Safe to call from several threads (one generates, the others wait and reuse it) and
    from several processes (each writes its own temporary folder; the first rename wins)."""
    with _GENERATING:
        return _generate(spec, root)


def _generate(spec: WorldSpec, root: Path) -> Path:
    wanted = selected_domains()
    target = Path(root) / (spec.folder_name + (f"_only-{'-'.join(wanted)}" if wanted else ""))
    if (target / "truths.json").exists():
        return target
    tmp = target.with_name(target.name + f".tmp{os.getpid()}-{uuid.uuid4().hex[:8]}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    ents = build(spec)
    truths: dict = {
        "spec": {
            **asdict(spec),
            "start": spec.start.isoformat(),
            "end": spec.end.isoformat(),
            "generator_version": GENERATOR_VERSION,
            "as_of": ents.as_of.isoformat(),
        }
    }
    manifest: dict = {"domains": {}}
    for module in domains():
        started = time.monotonic()
        truths[module.DOMAIN] = module.generate(spec, ents, tmp / module.DOMAIN)
        files = record_counts(tmp / module.DOMAIN)
        manifest["domains"][module.DOMAIN] = {
            "records": sum(files.values()),
            "files": files,
            "seconds": round(time.monotonic() - started, 2),
        }
    manifest["records"] = sum(d["records"] for d in manifest["domains"].values())
    truths["planted"] = planted_truths(spec, ents, truths)
    write_json(tmp / "truths.json", truths)
    # Timings differ between runs: kept beside the world, outside the byte-identical files.
    write_json(tmp.parent / f"{target.name}.manifest.json", manifest)
    try:
        tmp.rename(target)
    except OSError:  # another process generated it first: theirs is identical
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def record_counts(folder: Path) -> dict[str, int]:
    """Records per file of a domain: lines of JSON-lines files, items of JSON arrays, rows of
    CSVs. The simulator's own answer keys (`true_*` files) are not records a source serves."""
    counts = {}
    for path in sorted(Path(folder).rglob("*")):
        if path.name.startswith("true_"):
            continue
        if path.suffix == ".jsonl":
            with open(path, "rb") as f:
                counts[path.relative_to(folder).as_posix()] = sum(1 for _ in f)
        elif path.suffix == ".json":
            value = json.loads(path.read_text())
            counts[path.relative_to(folder).as_posix()] = len(value) if isinstance(value, list) else 1
        elif path.suffix == ".csv":
            with open(path, "rb") as f:
                counts[path.relative_to(folder).as_posix()] = max(0, sum(1 for _ in f) - 1)
    return counts


def file_digest(folder: Path) -> str:
    """One hash over every file of a world, for comparing two generations."""
    h = hashlib.sha256()
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        h.update(path.relative_to(folder).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()
