"""Deletions at the source reach raw (issue 17, item 3): each stream is run the way the pipeline
runs it (warehouse/engine.py: extract, land, load) against its fake; then the source deletes
something, the fake answers as the platform does, a run covering it removes it from raw (or
replaces it with the archived version) and `raw._deletions` records when and why. A second
run of the same days logs nothing new. tests/test_deletions_marts.py follows the same
deletions into the marts.
"""

from __future__ import annotations

from datetime import date

import pytest
from conftest import TEST_SPEC
from stream_harness import days

from extractors.http import RetryPolicy
from extractors.hubspot import CONTACTS, DEAL_CONTACTS, DEALS, HubSpotClient
from extractors.meta_ads import ADS_INSIGHTS, MetaAdsClient
from extractors.meta_graph import POSTS, MetaGraphClient
from sampleworld.fakes import meta_graph as graph_fake
from sampleworld.fakes.base import FakeServer
from sampleworld.fakes.hubspot import HubSpotApp
from sampleworld.fakes.meta_ads import MetaAdsApp
from warehouse import engine
from warehouse.deletions import DELETIONS_TABLE
from warehouse.loader import connect

FAST = RetryPolicy(max_attempts=8, backoff_initial_s=0.001, backoff_max_s=0.01)
WEEK = days(TEST_SPEC.start, TEST_SPEC.end)
D6 = date(2026, 6, 6)


def run(stream, new_client, tmp, day_list) -> dict:
    return engine.run_stream(
        stream, new_client, landing_root=tmp / "landing", warehouse_path=tmp / "w.duckdb", days=day_list, workers=2
    )


def query(tmp, sql, params=None) -> list[tuple]:
    with connect(tmp / "w.duckdb", read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def logged(tmp, stream) -> list[tuple]:
    return query(
        tmp,
        f"select key, partition, reason, deleted_at, detected_at, load_id from {DELETIONS_TABLE} "
        "where stream = ? order by key, reason",
        [stream],
    )


def hubspot_world(app: HubSpotApp):
    """A contact with no deal (to archive), two contacts with one deal each (one merged into
    the other) and a third deal with one contact (its association removed), all last modified
    before 2026-06-06."""
    pairs = [(int(d), [int(c) for c in cs]) for d, cs in app.associations("deals", "contacts").items()]
    contacts = {int(r["id"]): r for r in app.current_records("contacts")}
    before = lambda cid: contacts[cid]["properties"]["lastmodifieddate"][:10] < "2026-06-06"  # noqa: E731
    dealless = sorted(set(contacts) - {c for _, cs in pairs for c in cs})
    single = [(d, cs[0]) for d, cs in pairs if len(cs) == 1 and before(cs[0])]
    once = [(d, c) for d, c in single if sum(c in cs for _, cs in pairs) == 1]
    archived = next(c for c in dealless if before(c))
    (deal_a, a), (deal_b, b), (deal_c, c) = once[0], once[1], once[2]
    return archived, (deal_a, a), (deal_b, b), (deal_c, c)


def test_hubspot_archived_merged_and_unassociated_leave_raw_with_when_and_why(world, tmp_path):
    with FakeServer(HubSpotApp(world)) as srv:
        app = srv.app

        def new_client():
            return HubSpotClient(srv.url, app.token, retry=FAST, sleep=lambda s: None)

        for stream in (CONTACTS, DEALS, DEAL_CONTACTS):
            run(stream, new_client, tmp_path, WEEK)
        archived, (deal_a, a), (deal_b, b), (deal_c, c) = hubspot_world(app)
        pairs = set(query(tmp_path, "select deal_id, contact_id from raw.hubspot__deal_contacts"))
        assert {(str(deal_a), str(a)), (str(deal_b), str(b)), (str(deal_c), str(c))} <= pairs
        assert query(tmp_path, "select count(*) from raw._deletions") == [(0,)]  # nothing deleted yet

        app.archive("contacts", archived, "2026-06-06T12:00:00.000Z")
        app.merge(a, b, "2026-06-06T13:00:00.000Z")
        app.remove_association(deal_c, c, "2026-06-06T14:00:00.000Z")
        for stream in (CONTACTS, DEALS, DEAL_CONTACTS):
            run(stream, new_client, tmp_path, [D6])

        # the archived contact: HubSpot's archived version replaced the stored one
        assert query(
            tmp_path,
            "select archived, _record->>'$.archivedAt' from raw.hubspot__contacts where id = ?",
            [str(archived)],
        ) == [(True, "2026-06-06T12:00:00.000Z")]
        # the merged-away contact is gone from raw; its deal now belongs to the survivor
        assert query(tmp_path, "select count(*) from raw.hubspot__contacts where id = ?", [str(b)]) == [(0,)]
        pairs = set(query(tmp_path, "select deal_id, contact_id from raw.hubspot__deal_contacts"))
        assert (str(deal_b), str(b)) not in pairs and (str(deal_b), str(a)) in pairs
        # the removed association is gone
        assert (str(deal_c), str(c)) not in pairs and (str(deal_a), str(a)) in pairs

        contacts_log = [row[:4] for row in logged(tmp_path, "contacts")]
        assert [(k, p, why, at.isoformat()) for k, p, why, at in contacts_log] == sorted(
            [
                (f'{{"id":"{archived}"}}', None, "archived in HubSpot", "2026-06-06T12:00:00+00:00"),
                (f'{{"id":"{b}"}}', None, f"merged into contact {a}", "2026-06-06T13:00:00+00:00"),
            ]
        )
        pairs_log = {(k, why, at.isoformat()) for k, _, why, at, _, _ in logged(tmp_path, "deal_contacts")}
        assert pairs_log == {
            (
                f'{{"deal_id":"{deal_b}","contact_id":"{b}"}}',
                f"contact {b} merged into contact {a}",
                "2026-06-06T13:00:00+00:00",
            ),
            (
                f'{{"deal_id":"{deal_c}","contact_id":"{c}"}}',
                f"not returned when the associations of deal {deal_c} were read again",
                "2026-06-06T14:00:00+00:00",
            ),
        }
        assert all(r[4] is not None and r[5] for r in logged(tmp_path, "contacts") + logged(tmp_path, "deal_contacts"))

        # reading the same day again deletes and logs nothing more
        before = query(tmp_path, "select count(*) from raw._deletions")
        for stream in (CONTACTS, DEALS, DEAL_CONTACTS):
            run(stream, new_client, tmp_path, [D6])
        assert query(tmp_path, "select count(*) from raw._deletions") == before


def test_a_facebook_post_deleted_within_the_re_read_window(world, tmp_path):
    with FakeServer(graph_fake.MetaGraphApp(world)) as srv:
        env = graph_fake.env(srv.url, srv.app)

        def new_client():
            return MetaGraphClient(
                env["META_GRAPH_BASE_URL"],
                env["META_PAGE_TOKEN"],
                page_ids=env["FACEBOOK_PAGE_IDS"].split(","),
                ig_user_ids=env["INSTAGRAM_USER_IDS"].split(","),
                retry=FAST,
            )

        run(POSTS, new_client, tmp_path, WEEK)
        post_id, day = query(
            tmp_path, "select id, created_date from raw.facebook__posts where created_date = '2026-06-03' order by id"
        )[0]
        kept = query(tmp_path, "select count(*) from raw.facebook__posts where created_date = ?", [day])[0][0]
        srv.app.delete_post(post_id)
        counts = run(POSTS, new_client, tmp_path, [day])
        assert counts["deleted"] == 1
        assert query(tmp_path, "select count(*) from raw.facebook__posts where id = ?", [post_id]) == [(0,)]
        assert query(tmp_path, "select count(*) from raw.facebook__posts where created_date = ?", [day]) == [
            (kept - 1,)
        ]
        ((key, partition, reason, deleted_at, detected_at, load_id),) = logged(tmp_path, "posts")
        assert (key, partition, reason, deleted_at) == (
            f'{{"id":"{post_id}"}}',
            "2026-06-03",
            "not returned when partition 2026-06-03 was read again",
            None,
        )
        assert detected_at is not None and load_id
        run(POSTS, new_client, tmp_path, [day])
        assert len(logged(tmp_path, "posts")) == 1


def meta_ads_clients(srv):
    """A maker of Meta Ads clients reading the fake `srv` serves, as the pipeline's threads make them."""

    def new_client():
        return MetaAdsClient(
            srv.url, srv.app.token, page_size=50, poll_initial_s=0.001, retry=FAST, account_ids=sorted(srv.app.accounts)
        )

    return new_client


def test_an_ad_day_restated_to_nothing(world, tmp_path):
    with FakeServer(MetaAdsApp(world)) as srv:
        app, new_client = srv.app, meta_ads_clients(srv)

        day = date(2026, 6, 3)
        run(ADS_INSIGHTS, new_client, tmp_path, [day])
        ad_id, account = query(
            tmp_path,
            "select ad_id, account_id from raw.meta_ads__ads_insights where date_start = ? order by ad_id",
            [day],
        )[0]
        rows = query(tmp_path, "select count(*) from raw.meta_ads__ads_insights where date_start = ?", [day])[0][0]
        assert app.restate_to_nothing(ad_id, day) == 1
        counts = run(ADS_INSIGHTS, new_client, tmp_path, [day])
        assert counts["deleted"] == 1
        assert query(tmp_path, "select count(*) from raw.meta_ads__ads_insights where ad_id = ? and date_start = ?",
                     [ad_id, day]) == [(0,)]  # fmt: skip
        assert query(tmp_path, "select count(*) from raw.meta_ads__ads_insights where date_start = ?", [day]) == [
            (rows - 1,)
        ]
        logs = logged(tmp_path, "ads_insights")
        assert len(logs) == 1 and logs[0][1:3] == (
            "2026-06-03",
            "not returned when partition 2026-06-03 was read again",
        )
        assert f'"ad_id":"{ad_id}"' in logs[0][0] and '"date_start":"2026-06-03"' in logs[0][0]


@pytest.mark.parametrize("kind", ["contacts", "deals"])
def test_the_fake_lists_archived_records_as_hubspot_does(world, kind):
    import requests

    app = HubSpotApp(world)
    victim = app.current_records(kind)[3]
    with FakeServer(app) as srv:
        auth = {"Authorization": f"Bearer {app.token}"}
        app.archive(kind, victim["id"], "2026-06-06T12:00:00.000Z")
        listed = requests.get(f"{srv.url}/crm/v3/objects/{kind}", params={"archived": "true"}, headers=auth).json()
        assert [(r["id"], r["archived"], r["archivedAt"]) for r in listed["results"]] == [
            (victim["id"], True, "2026-06-06T12:00:00.000Z")
        ]
        assert requests.get(f"{srv.url}/crm/v3/objects/{kind}/{victim['id']}", headers=auth).status_code == 404
        live = requests.get(f"{srv.url}/crm/v3/objects/{kind}", params={"limit": 100}, headers=auth).json()
        assert victim["id"] not in {r["id"] for r in live["results"]}
        prop = "lastmodifieddate" if kind == "contacts" else "hs_lastmodifieddate"
        found = requests.post(
            f"{srv.url}/crm/v3/objects/{kind}/search",
            json={
                "filterGroups": [
                    {"filters": [{"propertyName": "hs_object_id", "operator": "EQ", "value": victim["id"]}]}
                ],
                "properties": [prop],
            },  # fmt: skip
            headers=auth,
        ).json()
        assert found["total"] == 0


def test_a_deletion_and_its_log_commit_together(world, tmp_path, monkeypatch):
    """The log is written in the load's own transaction: a load whose logging fails (here: the
    log table cannot be written; a killed process alike) leaves the row and no log, and the next
    run deletes and logs it."""
    import warehouse.deletions as deletions

    with FakeServer(MetaAdsApp(world)) as srv:
        app, new_client = srv.app, meta_ads_clients(srv)

        day = date(2026, 6, 3)
        run(ADS_INSIGHTS, new_client, tmp_path, [day])
        (ad_id,) = query(tmp_path, "select min(ad_id) from raw.meta_ads__ads_insights where date_start = ?", [day])[0]
        assert app.restate_to_nothing(ad_id, day) == 1
        made = deletions.ensure_table

        def broken(con):
            raise RuntimeError("the deletions log cannot be written")

        monkeypatch.setattr(deletions, "ensure_table", broken)
        with pytest.raises(RuntimeError, match="deletions log"):
            run(ADS_INSIGHTS, new_client, tmp_path, [day])
        still = "select count(*) from raw.meta_ads__ads_insights where ad_id = ? and date_start = ?"
        assert query(tmp_path, still, [ad_id, day]) == [(1,)]  # not deleted without its log
        monkeypatch.setattr(deletions, "ensure_table", made)
        assert run(ADS_INSIGHTS, new_client, tmp_path, [day])["deleted"] == 1
        assert query(tmp_path, still, [ad_id, day]) == [(0,)]
        assert len(logged(tmp_path, "ads_insights")) == 1
