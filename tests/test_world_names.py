"""One name per system in the sample world (issue 13): a domain is named as its generator
module, a fake as its module, and a fake that serves one domain has that domain's name. The
Meta Marketing API's system is `meta_ads` (its raw tables, assets and dbt sources), the
Typeform survey's is `survey` (`csat` names the score, not the system)."""

from __future__ import annotations

import pytest

from sampleworld.serve import fake_modules
from sampleworld.world import domains


@pytest.fixture
def all_domains(monkeypatch):
    monkeypatch.delenv("SKW_SAMPLE_DOMAINS", raising=False)
    return domains()


def test_a_domain_is_named_as_its_module(all_domains):
    for module in all_domains:
        assert module.DOMAIN == module.__name__.rsplit(".", 1)[1], module.__name__


def test_the_world_has_a_folder_per_domain(world, all_domains):
    assert {p.name for p in world.iterdir() if p.is_dir()} == {m.DOMAIN for m in all_domains}


def test_a_fake_is_named_as_its_module_and_serves_generated_domains(fakes, all_domains):
    generated = {m.DOMAIN for m in all_domains}
    for module in fake_modules():
        assert module.NAME == module.__name__.rsplit(".", 1)[1] == fakes[module.NAME].app.name, module.__name__
        assert set(module.DOMAINS) <= generated, module.__name__


def test_a_fake_serving_one_domain_has_its_name():
    single = {m.NAME: m.DOMAINS[0] for m in fake_modules() if len(m.DOMAINS) == 1}
    assert {name: domain for name, domain in single.items() if name != domain} == {}
    assert single["meta_ads"] == "meta_ads" and single["survey"] == "survey"


def test_sample_domains_select_the_survey_by_its_name(monkeypatch):
    monkeypatch.setenv("SKW_SAMPLE_DOMAINS", "survey,meta_ads")
    assert [m.DOMAIN for m in domains()] == ["meta_ads", "survey"]
    monkeypatch.setenv("SKW_SAMPLE_DOMAINS", "csat")
    with pytest.raises(ValueError, match=r"SKW_SAMPLE_DOMAINS names unknown domain\(s\) \['csat'\]"):
        domains()
