"""Deletions at the source leave the marts on the next run that covers them (issue 17, item 3),
on a copy of the session warehouse (its own dbt target folder): a HubSpot contact archived, one
merged into another, a deal's association removed, a Facebook post deleted and an ad's day
restated to nothing. Each is made at the fake, the streams re-read the day it touched (as the
daily run's restatement window does), dbt rebuilds the models downstream of those staging
models, and then the marts no longer count it while `raw._deletions` says when and why.
"""

from __future__ import annotations

import shutil
from datetime import date

import pytest
from test_deletions import FAST, hubspot_world
from test_marts_build import dbt

from extractors.hubspot import CONTACTS, DEAL_CONTACTS, DEALS, HubSpotClient
from extractors.meta_ads import ADS_INSIGHTS, MetaAdsClient
from extractors.meta_graph import POSTS, MetaGraphClient
from orchestration.assets.dbt import DBT_DIR
from sampleworld.fakes import meta_graph as graph_fake
from sampleworld.fakes.base import FakeServer
from sampleworld.fakes.hubspot import HubSpotApp
from sampleworld.fakes.meta_ads import MetaAdsApp
from warehouse import engine
from warehouse.loader import connect

pytestmark = pytest.mark.slow

D3, D6 = date(2026, 6, 3), date(2026, 6, 6)
STAGING = ["stg_hubspot__contacts", "stg_hubspot__deal_contacts", "stg_facebook__posts", "stg_meta_ads__ads_insights"]


def one(con, sql, params=None):
    return con.execute(sql, params or []).fetchall()[0][0]


@pytest.fixture(scope="module")
def deleted(materialized, world, tmp_path_factory):
    base = tmp_path_factory.mktemp("deletions_marts")
    wh = base / "w.duckdb"
    shutil.copy(materialized["warehouse"], wh)
    target = base / "target"
    shutil.copytree(DBT_DIR / "target", target, ignore=shutil.ignore_patterns("dbt_models-*"))

    def run(stream, new_client, day):
        return engine.run_stream(
            stream, new_client, landing_root=base / "landing", warehouse_path=wh, days=[day], workers=2
        )

    facts: dict = {}
    with (
        FakeServer(HubSpotApp(world)) as hs,
        FakeServer(graph_fake.MetaGraphApp(world)) as fb,
        FakeServer(MetaAdsApp(world)) as ads,
    ):
        archived, (deal_a, a), (deal_b, b), (deal_c, c) = hubspot_world(hs.app)
        with connect(wh, read_only=True) as con:
            post = one(con, "select post_id from marts.fct_post_performance where platform = 'facebook' "
                            "and published_date = ? order by post_id", [D3])  # fmt: skip
            ad, spend = con.execute(
                "select ad_id, spend from staging.stg_meta_ads__ads_insights where date_day = ? and spend > 0 "
                "order by ad_id",
                [D3],
            ).fetchall()[0]
            facts["before"] = {
                "leads": one(con, "select sum(leads) from marts.fct_leads_daily"),
                "contacts": {
                    r[0] for r in con.execute("select contact_id from intermediate.int_crm_contacts").fetchall()
                },
                "spend": one(con, "select sum(spend) from marts.fct_paid_performance_daily where date_day = ?", [D3]),
                "customers": one(con, "select count(*) from intermediate.int_crm_deals where purchase_number = 1"),
            }
        hs.app.archive("contacts", archived, "2026-06-06T12:00:00.000Z")
        hs.app.merge(a, b, "2026-06-06T13:00:00.000Z")
        hs.app.remove_association(deal_c, c, "2026-06-06T14:00:00.000Z")
        fb.app.delete_post(post)
        assert ads.app.restate_to_nothing(ad, D3) == 1

        for stream in (CONTACTS, DEALS, DEAL_CONTACTS):
            run(stream, lambda: HubSpotClient(hs.url, hs.app.token, retry=FAST, sleep=lambda s: None), D6)
        env = graph_fake.env(fb.url, fb.app)
        run(
            POSTS,
            lambda: MetaGraphClient(
                env["META_GRAPH_BASE_URL"],
                env["META_PAGE_TOKEN"],
                page_ids=env["FACEBOOK_PAGE_IDS"].split(","),
                ig_user_ids=env["INSTAGRAM_USER_IDS"].split(","),
                retry=FAST,
            ),
            D3,
        )
        accounts = sorted(ads.app.accounts)
        run(
            ADS_INSIGHTS,
            lambda: MetaAdsClient(
                ads.url, ads.app.token, page_size=50, poll_initial_s=0.001, retry=FAST, account_ids=accounts
            ),
            D3,
        )
    dbt(["run", "--select", *(f"{m}+" for m in STAGING)], wh, target)
    facts.update(wh=wh, archived=str(archived), a=str(a), b=str(b), c=str(c), deal_b=str(deal_b), deal_c=str(deal_c))
    facts.update(post=post, ad=ad, ad_spend=spend)
    return facts


def test_an_archived_contact_leaves_the_marts(deleted):
    with connect(deleted["wh"], read_only=True) as con:
        assert deleted["archived"] in deleted["before"]["contacts"]
        assert one(con, "select count(*) from intermediate.int_crm_contacts where contact_id = ?",
                   [deleted["archived"]]) == 0  # fmt: skip
        # the archived and the merged-away contact were both leads: two fewer
        assert one(con, "select sum(leads) from marts.fct_leads_daily") == deleted["before"]["leads"] - 2
        assert one(con, "select count(*) from raw._deletions where stream = 'contacts' and reason = "
                        "'archived in HubSpot' and key = ?", [f'{{"id":"{deleted["archived"]}"}}']) == 1  # fmt: skip


def test_a_merged_contact_leaves_the_marts_and_its_deal_follows_the_survivor(deleted):
    with connect(deleted["wh"], read_only=True) as con:
        assert one(con, "select count(*) from staging.stg_hubspot__contacts where contact_id = ?", [deleted["b"]]) == 0
        assert one(con, "select count(*) from intermediate.int_crm_contacts where contact_id = ?", [deleted["b"]]) == 0
        assert one(con, "select contact_id from intermediate.int_crm_deals where deal_id = ?",
                   [deleted["deal_b"]]) == deleted["a"]  # fmt: skip
        assert one(con, "select count(*) from marts.fct_attribution_credits where contact_id = ?", [deleted["b"]]) == 0
        assert one(con, "select reason from raw._deletions where stream = 'contacts' and key = ?",
                   [f'{{"id":"{deleted["b"]}"}}']) == f"merged into contact {deleted['a']}"  # fmt: skip


def test_a_removed_association_leaves_the_marts(deleted):
    with connect(deleted["wh"], read_only=True) as con:
        assert one(con, "select count(*) from staging.stg_hubspot__deal_contacts where deal_id = ?",
                   [deleted["deal_c"]]) == 0  # fmt: skip
        assert (
            one(con, "select contact_id from intermediate.int_crm_deals where deal_id = ?", [deleted["deal_c"]]) is None
        )
        # deal c had no other buyer, deal b moved to a customer who already had a first purchase
        assert one(con, "select count(*) from intermediate.int_crm_deals where purchase_number = 1") == (
            deleted["before"]["customers"] - 2
        )
        assert one(con, "select count(*) from marts.fct_attribution_credits where contact_id = ?", [deleted["c"]]) == 0
        assert one(con, "select count(*) from raw._deletions where stream = 'deal_contacts' and key = ?",
                   [f'{{"deal_id":"{deleted["deal_c"]}","contact_id":"{deleted["c"]}"}}']) == 1  # fmt: skip


def test_a_deleted_post_leaves_the_marts(deleted):
    with connect(deleted["wh"], read_only=True) as con:
        assert one(con, "select count(*) from marts.fct_post_performance where post_id = ?", [deleted["post"]]) == 0
        assert one(con, "select partition from raw._deletions where stream = 'posts' and key = ?",
                   [f'{{"id":"{deleted["post"]}"}}']) == "2026-06-03"  # fmt: skip


def test_an_ad_day_restated_to_nothing_leaves_the_marts(deleted):
    with connect(deleted["wh"], read_only=True) as con:
        assert one(con, "select count(*) from staging.stg_meta_ads__ads_insights where ad_id = ? and date_day = ?",
                   [deleted["ad"], D3]) == 0  # fmt: skip
        spend = one(con, "select sum(spend) from marts.fct_paid_performance_daily where date_day = ?", [D3])
        assert spend == deleted["before"]["spend"] - deleted["ad_spend"]
        assert one(con, "select count(*) from raw._deletions where stream = 'ads_insights'") == 1
