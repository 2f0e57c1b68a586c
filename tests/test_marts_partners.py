"""The partner marts (fct_influencer_impact, fct_employee_advocacy) against the sample world's
truths, on the session warehouse (the main job over the 7-day test world, faults on) and on
`make run`'s (the default 28 days):

- posts, tracked (sponsored) posts, reach and engagements per creator, and per advocate, are
  the listening truths exactly (truths.listening.influencers / .employee_advocacy);
- sessions per creator are the funnel's tagged sessions of the creator's links, and the
  program's untagged visits (from the creators' referrer hosts, var `partner_referral_hosts`)
  are on its '(unattributed)' rows; per platform they add up to the planted influencer totals.
  GA4 serves its last days provisional, so each expectation is the truth less what GA4 had not
  counted yet (as tests/test_marts_web.py does);
- leads, new customers and first-purchase revenue of each program are the CRM's (HubSpot's
  contacts) and the planted totals;
- each creator's costs add up to the roster's fee, and the influencer that works has a lower
  CPA than the one that does not, which may have no customer at all (CPA null): the explicit
  comparison is new_customers_per_1000_cost (higher is better, 0 for none);
- advocacy has no configured cost: its cost and CPA are null, never 0.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import TEST_SPEC

from sampleworld.entities import build
from sampleworld.fakes.ga4 import GA4App
from sampleworld.funnel import funnel
from sampleworld.gen.ga4 import INFLUENCER_REFERRAL_SOURCE, REFERRAL_SOURCE
from sampleworld.world import WorldSpec
from warehouse.loader import connect

INFLUENCERS = "marts.fct_influencer_impact"
ADVOCACY = "marts.fct_employee_advocacy"


def query(warehouse: Path, sql: str) -> list[tuple]:
    with connect(warehouse, read_only=True) as con:
        return con.execute(sql).fetchall()


def per_partner(warehouse: Path, mart: str, key: str, columns: tuple[str, ...]) -> dict[str, dict]:
    sums = ", ".join(f"sum({c})" for c in columns)
    return {
        k: dict(zip(columns, vals)) for k, *vals in query(warehouse, f"select {key}, {sums} from {mart} group by 1")
    }


def not_yet_counted(world: Path) -> Counter:
    """Sessions GA4 had not counted yet when the run read its provisional days, per
    (source, medium, content): final minus served (0 on every frozen day)."""
    app = GA4App(world)
    assert app.epoch == 0 and not app.restate_on_pull  # the embedded fake the run read from
    out: Counter = Counter()
    for (prop, day), rows in app.rows.items():
        for row in rows:
            dims, final, _ = row
            _, served, _ = app.served(prop, day, row)
            _, source, medium, _, _, content = dims
            out[(source, medium, content)] += final[0] - served[0]
    return out


# --- posts: the listening truths ---------------------------------------------------------------


def _check_posts(warehouse: Path, truths: dict, spec: WorldSpec) -> None:
    listening = truths["listening"]
    creators = per_partner(warehouse, INFLUENCERS, "handle", ("posts", "tracked_posts", "reach", "engagements"))
    for handle, t in listening["influencers"].items():
        got = creators.get(handle, {"posts": 0, "tracked_posts": 0, "reach": 0, "engagements": 0})
        assert (got["posts"], got["tracked_posts"], got["reach"], got["engagements"]) == (
            t["posts"],
            t["sponsored_posts"],
            t["reach"],
            t["engagements"],
        ), handle
    if None in creators:  # '(unattributed)': every post names its creator in this world
        assert creators[None]["posts"] == 0
    advocacy = listening["employee_advocacy"]
    ids = {e["handle"]: e["employee_id"] for e in build(spec).employees}
    people = per_partner(warehouse, ADVOCACY, "employee_id", ("posts", "reach", "engagements"))
    assert {k: v["posts"] for k, v in people.items() if v["posts"]} == {
        ids[h]: n for h, n in advocacy["by_employee"].items()
    }
    assert [sum(v[c] for v in people.values()) for c in ("posts", "reach", "engagements")] == [
        advocacy["posts"],
        advocacy["reach"],
        advocacy["engagements"],
    ]


def test_posts_reach_and_engagement_are_the_listening_truths(materialized):
    _check_posts(materialized["warehouse"], materialized["truths"], TEST_SPEC)


# --- sessions, leads, customers: the funnel and the CRM -----------------------------------------


def _check_sessions_leads_and_customers(warehouse: Path, truths: dict, world: Path, spec: WorldSpec) -> None:
    planted, hubspot = truths["planted"], truths["hubspot"]
    missing = not_yet_counted(world)
    tagged: Counter = Counter()
    untagged: Counter = Counter()
    for r in funnel(spec):
        if r.channel in ("influencer", "employee"):
            tagged[(r.channel, r.utm_source, r.utm_content)] += r.sessions - r.sessions_untagged
            untagged[(r.channel, r.utm_source)] += r.sessions_untagged
    roster = {i["handle"]: i for i in build(spec).influencers}

    # creators: tagged links, each to its creator
    sessions = {h: v["sessions"] for h, v in per_partner(warehouse, INFLUENCERS, "handle", ("sessions",)).items()}
    for handle, inf in roster.items():
        want = tagged[("influencer", inf["platform"], handle)] - missing[(inf["platform"], "influencer", handle)]
        assert sessions.get(handle, 0) == want, handle
    # the program's untagged visits, per platform, on '(unattributed)'
    referral = dict(
        query(
            warehouse,
            f"""select platform, sum(referral_sessions) from {INFLUENCERS}
                                         where not is_attributed group by 1""",
        )
    )
    per_platform = dict(query(warehouse, f"select platform, sum(sessions) from {INFLUENCERS} group by 1"))
    for platform, t in planted["influencer_totals_per_platform"].items():
        host = INFLUENCER_REFERRAL_SOURCE[platform]
        assert (
            referral.get(platform, 0) == untagged[("influencer", platform)] - missing[(host, "referral", "(not set)")]
        )
        short = missing[(host, "referral", "(not set)")] + sum(
            missing[(platform, "influencer", h)] for h in t["handles"]
        )
        assert per_platform.get(platform, 0) == t["sessions"] - short, platform

    # advocacy: the links name no employee, so all its traffic is the program's
    adv = dict(query(warehouse, f"""select is_attributed, sum(sessions) from {ADVOCACY} group by 1"""))
    employee = planted["totals_per_channel"]["employee"]
    short = (
        missing[("linkedin", "advocacy", "(not set)")] + missing[(REFERRAL_SOURCE["employee"], "referral", "(not set)")]
    )
    assert adv.get(True, 0) == 0 and adv[False] == employee["sessions"] - short

    # CRM: every program contact is a lead (HubSpot's contacts, direct buyers included);
    # new customers and their first purchases are the planted totals
    for mart, channel in ((INFLUENCERS, "influencer"), (ADVOCACY, "employee")):
        leads, customers, revenue = query(
            warehouse,
            f"""
            select sum(leads), sum(new_customers), sum(new_customer_revenue) from {mart}""",
        )[0]
        assert leads == hubspot["contacts_by_channel"].get(channel, 0), channel
        assert customers == planted["totals_per_channel"][channel]["new_customers"], channel
        assert revenue == Decimal(planted["totals_per_channel"][channel]["revenue_eur"]), channel


def test_sessions_leads_and_customers_are_the_worlds(materialized, world):
    _check_sessions_leads_and_customers(materialized["warehouse"], materialized["truths"], world, TEST_SPEC)


# --- cost and CPA ----------------------------------------------------------------------------


def _check_cost_and_cpa(warehouse: Path, truths: dict, spec: WorldSpec) -> dict[str, dict]:
    fees = {i["handle"]: Decimal(i["fee_eur"]) for i in build(spec).influencers}
    creators = per_partner(warehouse, INFLUENCERS, "handle", ("cost", "new_customers"))
    assert {h: v["cost"] for h, v in creators.items() if h is not None} == fees
    assert query(warehouse, f"select count(*) from {INFLUENCERS} where not is_attributed and cost is not null") == [
        (0,)
    ]
    rows = query(warehouse, f"select cost, new_customers, cpa, new_customers_per_1000_cost from {INFLUENCERS}")
    for cost, customers, cpa, per_1000 in rows:
        assert cpa == (None if not customers or cost is None else pytest.approx(float(cost) / customers))
        assert per_1000 == (None if not cost else pytest.approx(1000 * customers / float(cost)))
    # advocacy has no cost configured: unknown, never 0
    assert query(
        warehouse,
        f"""select count(*), count(cost), count(cpa), count(new_customers_per_1000_cost)
                                from {ADVOCACY}""",
    )[0][1:] == (0, 0, 0)
    return creators


def _cpa(creator: dict) -> float | None:
    return float(creator["cost"]) / creator["new_customers"] if creator["new_customers"] else None


def _check_the_influencer_that_works_costs_less_per_customer(warehouse: Path, truths: dict, spec: WorldSpec):
    creators = _check_cost_and_cpa(warehouse, truths, spec)
    works = creators[truths["planted"]["influencer_that_works"]]
    does_not = creators.get(truths["planted"]["influencer_that_does_not"])
    assert works["new_customers"] > 0
    # no customer at all: no CPA, which ranks worse than any CPA
    assert _cpa(does_not) is None or _cpa(works) < _cpa(does_not)
    per_1000 = dict(
        query(
            warehouse,
            f"""select handle, 1000.0 * sum(new_customers) / sum(cost) from {INFLUENCERS}
                                         where is_attributed group by 1""",
        )
    )
    assert (
        per_1000[truths["planted"]["influencer_that_works"]] > per_1000[truths["planted"]["influencer_that_does_not"]]
    )


def test_the_influencer_that_works_costs_less_per_customer(materialized):
    _check_the_influencer_that_works_costs_less_per_customer(
        materialized["warehouse"], materialized["truths"], TEST_SPEC
    )


@pytest.mark.slow
def test_over_28_days_too(default_world):
    """`make run`'s default world: the same truths, and the CPA comparison (the one that does
    not work brought no customer in four weeks)."""
    _check_posts(default_world["warehouse"], default_world["truths"], WorldSpec())
    _check_sessions_leads_and_customers(
        default_world["warehouse"], default_world["truths"], default_world["world"], WorldSpec()
    )
    _check_the_influencer_that_works_costs_less_per_customer(
        default_world["warehouse"], default_world["truths"], WorldSpec()
    )
