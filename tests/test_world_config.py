"""The marketing team's configuration files exist, parse and agree with the shared entities."""

from __future__ import annotations

import csv
from decimal import Decimal

from conftest import TEST_SPEC

from sampleworld.entities import BRAND, COMPETITORS, build

FILES = ["goals", "kpi_registry", "competitors", "influencers", "employees", "campaigns", "fx_rates"]


def read(world, name: str) -> list[dict]:
    with open(world / "config" / f"{name}.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_every_file_exists_and_parses(world):
    for name in FILES:
        rows = read(world, name)
        assert rows, name
        assert all(None not in r for r in rows), name  # no row longer than its header


def test_campaigns_and_utms(world):
    ents = build(TEST_SPEC)
    rows = {r["campaign_key"]: r for r in read(world, "campaigns")}
    assert set(rows) == {c.key for c in ents.campaigns}
    for c in ents.campaigns:
        r = rows[c.key]
        assert r["utm_campaign"] == c.utm_campaign and r["name"] == c.name
        assert (r["start_date"], r["end_date"]) == (c.start.isoformat(), c.end.isoformat())
        assert tuple(r["channels"].split("|")) == c.channels and r["objective"] == c.objective
        assert Decimal(r["budget_eur"]) == c.daily_budget_eur * ((c.end - c.start).days + 1)


def test_fx_rates_for_every_day_and_currency(world):
    rows = read(world, "fx_rates")
    have = {(r["date"], r["currency"]) for r in rows}
    want = {(d.isoformat(), cur) for d in TEST_SPEC.days() for cur in ("EUR", "USD", "GBP")}
    assert have == want and len(rows) == len(want)
    assert all(r["base"] == "EUR" and Decimal(r["rate"]) > 0 for r in rows)
    assert {r["rate"] for r in rows if r["currency"] == "EUR"} == {"1.000000"}


def test_goals_kpis_rosters_competitors(world):
    ents = build(TEST_SPEC)
    goals = read(world, "goals")
    assert [g["goal_id"] for g in goals] == [g["goal_id"] for g in ents.goals]
    registry = {k["kpi"]: k for k in read(world, "kpi_registry")}
    assert {g["kpi"] for g in goals} <= set(registry)  # every goal's KPI is defined
    assert all(
        k["direction"] in ("higher", "lower") and k["definition"] and k["unit"] and k["owner"]
        for k in registry.values()
    )
    infl = read(world, "influencers")
    assert [(i["handle"], i["fee_eur"]) for i in infl] == [(i["handle"], i["fee_eur"]) for i in ents.influencers]
    assert "effectiveness" not in infl[0]  # a planted truth, not configuration
    emps = read(world, "employees")
    assert [(e["handle"], e["advocate"]) for e in emps] == [
        (e["handle"], str(e["advocate"]).lower()) for e in ents.employees
    ]
    comp = read(world, "competitors")
    assert {c["handle"] for c in comp if c["is_brand"] == "false"} == {c["handle"] for c in COMPETITORS}
    assert [c["handle"] for c in comp if c["is_brand"] == "true"] == [BRAND["handle"]]
    assert all(
        c["set_version"] == "1" and c["valid_from"] == TEST_SPEC.start.isoformat() and c["valid_to"] == "" for c in comp
    )
