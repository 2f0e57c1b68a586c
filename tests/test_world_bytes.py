"""Each domain of the sample world writes the same bytes as before the generators were
refactored (issue 13: the Facebook/Instagram and Google Ads/LinkedIn Ads generators share one
skeleton each, the survey domain took its system's name).

DIGESTS were computed with the code of commit a890caf, before that refactor (the survey
domain was then `csat`; its files and truths are unchanged, only its folder's name moved), on
SPEC: two accounts per platform, so the round-robin and per-account paths are covered. A
deliberate change to what a domain writes changes its digest: update it here, and bump
`GENERATOR_VERSION` in sampleworld/world.py so no one reuses an older world of the same name.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import pytest

from sampleworld.entities import build
from sampleworld.world import WorldSpec, domains

SPEC = WorldSpec(start=date(2026, 6, 1), end=date(2026, 6, 7), seed=7, scale=2)
DIGESTS = {
    "config": "73261b3ebd26d544",
    "facebook": "99a9bca56ce20d1b",
    "ga4": "f683b47d1129123e",
    "google_ads": "3d1d18b61989f579",
    "hubspot": "a46e6dbe7b16771f",
    "inbox": "b04c3bbff18bc9f5",
    "instagram": "5375ebd9b70f3ddc",
    "linkedin": "e528a06f8d191624",
    "linkedin_ads": "eae2b03c7bb7710a",
    "listening": "719f8270610ec41a",
    "meta_ads": "169e5f1b2266542e",
    "survey": "1c7760400ffb66fc",
    "x": "73d56bd01a366257",
    "youtube": "11dcb86cd443be29",
}


def digest(folder: Path, truths: dict) -> str:
    """A domain's truths and its files (names relative to its folder, and bytes)."""
    h = hashlib.sha256(json.dumps(truths, sort_keys=True, ensure_ascii=False).encode())
    for p in sorted(q for q in folder.rglob("*") if q.is_file()):
        h.update(p.relative_to(folder).as_posix().encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


@pytest.fixture(scope="module")
def ents():
    return build(SPEC)


def test_every_domain_has_a_digest(monkeypatch):
    monkeypatch.delenv("SKW_SAMPLE_DOMAINS", raising=False)
    assert sorted(m.DOMAIN for m in domains()) == sorted(DIGESTS)


@pytest.mark.parametrize("domain", sorted(DIGESTS))
def test_a_domain_writes_what_it_wrote_before_the_refactor(domain, ents, tmp_path, monkeypatch):
    monkeypatch.setenv("SKW_SAMPLE_DOMAINS", domain)
    (module,) = domains()
    out = tmp_path / domain
    assert digest(out, module.generate(SPEC, ents, out)) == DIGESTS[domain]
