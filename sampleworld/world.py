"""A deterministic sample world: the same seed, range and scale give the same files, byte for byte.

Generation streams rows to disk (JSON lines) so memory stays flat as the scale grows. Each
generated world sits in its own folder named by its parameters and is reused when present.
`truths.json` beside the data holds what the warehouse must recover (totals to the cent).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

GENERATOR_VERSION = 1
DEFAULT_START = date(2026, 6, 1)
DEFAULT_END = date(2026, 6, 28)
DEFAULT_SEED = 42

PURCHASE = "offsite_conversion.fb_pixel_purchase"


@dataclass(frozen=True)
class WorldSpec:
    start: date = DEFAULT_START
    end: date = DEFAULT_END
    seed: int = DEFAULT_SEED
    scale: int = 1

    @classmethod
    def from_env(cls) -> "WorldSpec":
        env = os.environ
        return cls(start=date.fromisoformat(env.get("SKW_SAMPLE_START", DEFAULT_START.isoformat())),
                   end=date.fromisoformat(env.get("SKW_SAMPLE_END", DEFAULT_END.isoformat())),
                   seed=int(env.get("SKW_SAMPLE_SEED", DEFAULT_SEED)),
                   scale=int(env.get("SKW_SAMPLE_SCALE", 1)))

    @property
    def folder_name(self) -> str:
        return f"seed{self.seed}_{self.start}_{self.end}_x{self.scale}_v{GENERATOR_VERSION}"

    def days(self):
        d = self.start
        while d <= self.end:
            yield d
            d += timedelta(days=1)


# The brand's Meta ad accounts: different currencies and time zones on purpose.
_META_ACCOUNTS = [
    {"account_id": "1010000001", "name": "Brand EU", "currency": "EUR", "timezone_name": "Europe/Berlin"},
    {"account_id": "1010000002", "name": "Brand US", "currency": "USD", "timezone_name": "America/Los_Angeles"},
]
_CAMPAIGNS = ["Prospecting", "Retargeting", "Summer Launch"]


def _meta_structure(spec: WorldSpec, rng: random.Random):
    """Accounts -> campaigns -> ad sets -> ads, with per-ad performance parameters."""
    accounts = []
    for a_idx, base in enumerate(_META_ACCOUNTS):
        for copy in range(spec.scale):
            acc = dict(base)
            if copy:
                acc["account_id"] = str(int(base["account_id"]) + 1000 * copy)
                acc["name"] = f"{base['name']} {copy + 1}"
            campaigns = []
            for c_idx, cname in enumerate(_CAMPAIGNS):
                cid = f"23850{a_idx}{copy:03d}{c_idx:02d}0"
                adsets = []
                for s_idx in range(2):
                    sid = f"{cid[:-1]}{s_idx + 1}"
                    ads = [{"ad_id": f"{sid}{d_idx:02d}",
                            "cpm": Decimal(rng.randint(400, 1400)) / 100,
                            "ctr": rng.uniform(0.006, 0.025),
                            "cvr": rng.uniform(0.01, 0.06),
                            "aov": Decimal(rng.randint(3000, 12000)) / 100,
                            "daily_imps": rng.randint(800, 6000)}
                           for d_idx in range(2)]
                    adsets.append({"adset_id": sid, "ads": ads})
                campaigns.append({"campaign_id": cid, "campaign_name": cname, "adsets": adsets})
            acc["campaigns"] = campaigns
            accounts.append(acc)
    return accounts


def _action(action_type: str, total: int | Decimal, fmt=str) -> dict:
    """An actions/action_values item: `value` is the default attribution (7d_click + 1d_view)."""
    view = type(total)(int(total) // 10) if total else total
    click7 = total - view
    click1 = type(total)(int(click7) * 8 // 10)
    return {"action_type": action_type, "value": fmt(total), "1d_click": fmt(click1),
            "7d_click": fmt(click7), "28d_click": fmt(click7), "1d_view": fmt(view)}


def _money(x: Decimal) -> str:
    return f"{x.quantize(Decimal('0.01'))}"


def _meta_insight_rows(spec: WorldSpec, accounts, rng: random.Random):
    for day in spec.days():
        weekday_factor = 0.8 if day.weekday() >= 5 else 1.0
        for acc in accounts:
            for camp in acc["campaigns"]:
                for adset in camp["adsets"]:
                    for ad in adset["ads"]:
                        imps = int(ad["daily_imps"] * weekday_factor * rng.uniform(0.6, 1.4))
                        if imps == 0:
                            continue
                        clicks = sum(1 for _ in range(imps) if rng.random() < ad["ctr"]) if imps < 2000 \
                            else int(imps * ad["ctr"] * rng.uniform(0.85, 1.15))
                        spend = (Decimal(imps) * ad["cpm"] / 1000).quantize(Decimal("0.01"))
                        purchases = sum(1 for _ in range(clicks) if rng.random() < ad["cvr"])
                        value = sum((ad["aov"] * Decimal(rng.randint(70, 130)) / 100
                                     for _ in range(purchases)), Decimal("0")).quantize(Decimal("0.01"))
                        actions = [_action("link_click", clicks)] if clicks else []
                        if purchases:
                            actions.append(_action(PURCHASE, purchases))
                        row = {"account_id": acc["account_id"], "account_currency": acc["currency"],
                               "campaign_id": camp["campaign_id"], "campaign_name": camp["campaign_name"],
                               "adset_id": adset["adset_id"], "ad_id": ad["ad_id"],
                               "date_start": day.isoformat(), "date_stop": day.isoformat(),
                               "spend": _money(spend), "impressions": str(imps), "clicks": str(clicks)}
                        # Meta leaves out empty arrays rather than sending [].
                        if actions:
                            row["actions"] = actions
                        if purchases:
                            row["action_values"] = [_action(PURCHASE, value, fmt=_money)]
                        yield row


def generate(spec: WorldSpec, root: Path) -> Path:
    """Write the world under `root/<spec folder>` (atomically) and return that folder."""
    target = Path(root) / spec.folder_name
    if (target / "truths.json").exists():
        return target
    tmp = target.with_name(target.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "meta_ads").mkdir(parents=True)
    rng = random.Random(spec.seed)
    accounts = _meta_structure(spec, rng)
    account_rows = [{k: a[k] for k in ("account_id", "name", "currency", "timezone_name")} for a in accounts]
    (tmp / "meta_ads" / "accounts.json").write_text(json.dumps(account_rows, indent=1) + "\n")

    spend = {a["currency"]: Decimal("0") for a in account_rows}
    rows_per_currency = {a["currency"]: 0 for a in account_rows}
    purchase_value = {a["currency"]: Decimal("0") for a in account_rows}
    totals = {"rows": 0, "impressions": 0, "clicks": 0, "purchases": 0}
    with open(tmp / "meta_ads" / "insights.jsonl", "w") as out:
        for row in _meta_insight_rows(spec, accounts, rng):
            out.write(json.dumps(row, separators=(",", ":")) + "\n")
            cur = row["account_currency"]
            spend[cur] += Decimal(row["spend"])
            rows_per_currency[cur] += 1
            totals["rows"] += 1
            totals["impressions"] += int(row["impressions"])
            totals["clicks"] += int(row["clicks"])
            for a in row.get("actions", []):
                if a["action_type"] == PURCHASE:
                    totals["purchases"] += int(a["value"])
            for a in row.get("action_values", []):
                purchase_value[cur] += Decimal(a["value"])

    truths = {
        "spec": {**asdict(spec), "start": spec.start.isoformat(), "end": spec.end.isoformat(),
                 "generator_version": GENERATOR_VERSION},
        "meta_ads": {
            "accounts": account_rows,
            "insight_rows": totals["rows"],
            "impressions": totals["impressions"],
            "clicks": totals["clicks"],
            "purchases": totals["purchases"],
            "spend_by_currency": {k: _money(v) for k, v in sorted(spend.items())},
            "purchase_value_by_currency": {k: _money(v) for k, v in sorted(purchase_value.items())},
            "rows_by_currency": dict(sorted(rows_per_currency.items())),
        },
    }
    (tmp / "truths.json").write_text(json.dumps(truths, indent=1, sort_keys=True) + "\n")
    try:
        tmp.rename(target)
    except OSError:  # another process generated it first: theirs is identical
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def file_digest(folder: Path) -> str:
    """One hash over every file of a world, for comparing two generations."""
    h = hashlib.sha256()
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        h.update(path.relative_to(folder).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()
