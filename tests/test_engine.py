"""The extract-land-load engine (warehouse/engine.py), run as the assets and the benchmark run
it, against the fakes: a snapshot stream reads only the last day of a range, a range-read
stream reads its days in one pass and lands one file a day, a day the platform can no longer
serve lands nothing and keeps its stored rows, and a run's days are loaded together."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date, timedelta

from extractors.meta_ads import ADS_INSIGHTS
from extractors.x import MENTIONS, USERS
from orchestration.sources.meta_ads import MetaAdsResource
from orchestration.sources.x import XResource
from sampleworld.fakes import meta_ads as meta_fake
from sampleworld.fakes import x as x_fake
from sampleworld.fakes.base import FakeServer
from sampleworld.fakes.meta_ads import MetaAdsApp
from sampleworld.fakes.x import XApp
from warehouse import engine
from warehouse.loader import connect

JUNE = [date(2026, 6, d) for d in range(1, 8)]


def rows_by_day(path, table: str, day_column: str) -> dict[str, tuple[int, str]]:
    """Per day: (rows, the load that wrote them)."""
    with connect(path, read_only=True) as con:
        got = con.execute(
            f"select cast({day_column} as varchar), count(*), max(_load_id) from {table} group by 1 order by 1"
        ).fetchall()
    return {d: (n, load_id) for d, n, load_id in got}


def landed_partitions(root, stream) -> list[str]:
    folder = root / stream.source / stream.name
    return sorted(p.name.removeprefix("partition=") for p in folder.iterdir()) if folder.exists() else []


def counting(factory):
    """`factory`, counting the clients it makes."""
    made = []

    def new_client():
        made.append(factory())
        return made[-1]

    return new_client, made


def test_a_snapshot_stream_reads_only_the_last_day_of_a_range(world, tmp_path, caplog):
    with FakeServer(XApp(world)) as srv:
        env = x_fake.env(srv.url, srv.app)
        new_client, made = counting(lambda: XResource.client_from(env))
        with caplog.at_level(logging.INFO, logger="test.engine"):
            meta = engine.run_stream(
                USERS,
                new_client,
                landing_root=tmp_path / "landing",
                warehouse_path=tmp_path / "w.duckdb",
                days=JUNE[4:7],
                logger=logging.getLogger("test.engine"),
            )
    assert len(made) == 1 and landed_partitions(tmp_path / "landing", USERS) == ["2026-06-07"]
    assert list(rows_by_day(tmp_path / "w.duckdb", "raw.x__users", "snapshot_date")) == ["2026-06-07"]
    assert meta["loaded"] == meta["received"] == len(srv.app.users) and meta["requests"] > 0
    assert "reading 2026-06-07 only, not the 3 days of the run" in caplog.text


def test_a_range_read_is_one_pass_with_one_file_a_day_and_the_same_rows(world, tmp_path):
    days = JUNE[:3]
    with FakeServer(MetaAdsApp(world)) as srv:
        env = meta_fake.env(srv.url, srv.app)
        served = sorted(
            (r["date_start"], r["account_id"], r["ad_id"])
            for r in srv.app.current_rows()
            if r["date_start"] in {d.isoformat() for d in days}
        )
        results = {}
        for name, stream in (("range", ADS_INSIGHTS), ("daily", replace(ADS_INSIGHTS, range_read=False))):
            new_client, made = counting(lambda: MetaAdsResource.client_from(env))
            meta = engine.run_stream(
                stream,
                new_client,
                landing_root=tmp_path / name / "landing",
                warehouse_path=tmp_path / name / "w.duckdb",
                days=days,
            )
            with connect(tmp_path / name / "w.duckdb", read_only=True) as con:
                keys = sorted(
                    (str(d), a, ad)
                    for d, a, ad in con.execute(
                        "select date_start, account_id, ad_id from raw.meta_ads__ads_insights"
                    ).fetchall()
                )
            results[name] = (len(made), landed_partitions(tmp_path / name / "landing", stream), keys, meta)
    assert served
    (clients, partitions, keys, meta) = results["range"]
    assert clients == 1 and partitions == [d.isoformat() for d in days] and keys == served
    assert meta["received"] == meta["loaded"] + meta["rejected"] + meta["duplicates"] + meta["conflict_copies"]
    # read a day at a time instead: a client a day, the same files and rows
    assert results["daily"][0] == 3 and results["daily"][1:3] == (partitions, keys)


def test_a_day_the_platform_no_longer_serves_is_skipped_and_its_rows_kept(world, tmp_path, caplog):
    wh, root = tmp_path / "w.duckdb", tmp_path / "landing"
    with FakeServer(XApp(world)) as srv:  # X's clock: 2026-06-08, recent search back to 06-01
        env = x_fake.env(srv.url, srv.app)
        first = engine.run_stream(
            MENTIONS, lambda: XResource.client_from(env), landing_root=root, warehouse_path=wh, days=JUNE[:2]
        )
    before = rows_by_day(wh, "raw.x__mentions", "created_date")
    assert first["days_unavailable"] == 0 and set(before) == {"2026-06-01", "2026-06-02"}

    app = XApp(world)
    app.now += timedelta(days=2)  # two days on: recent search reaches back to 06-03 only
    app.window_start += timedelta(days=2)
    with FakeServer(app) as srv, caplog.at_level(logging.INFO, logger="test.engine"):
        env = x_fake.env(srv.url, srv.app)
        second = engine.run_stream(
            MENTIONS,
            lambda: XResource.client_from(env),
            landing_root=root,
            warehouse_path=wh,
            days=JUNE[:3],
            logger=logging.getLogger("test.engine"),
        )
    after = rows_by_day(wh, "raw.x__mentions", "created_date")
    assert second["days_unavailable"] == 2
    assert {d: after[d] for d in before} == before  # the same rows, from the same load
    assert after["2026-06-03"][0] > 0 and second["loaded"] == after["2026-06-03"][0]
    # the platform's horizon, not something to act on: one line for the stream, no warning
    told = [r for r in caplog.records if "can no longer serve" in r.getMessage()]
    assert len(told) == 1 and told[0].levelno == logging.INFO
    assert "2 day(s) the platform can no longer serve in full were not read, stored rows kept" in caplog.text
    assert "(2026-06-01, 2026-06-02)" in told[0].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_runs_days_are_loaded_in_one_transaction(world, tmp_path, caplog):
    """One load for the run's days: one load id stamps every day's rows."""
    with FakeServer(MetaAdsApp(world)) as srv:
        env = meta_fake.env(srv.url, srv.app)
        stream = replace(ADS_INSIGHTS, range_read=False)
        with caplog.at_level(logging.INFO, logger="test.engine"):
            engine.run_stream(
                stream,
                lambda: MetaAdsResource.client_from(env),
                landing_root=tmp_path / "landing",
                warehouse_path=tmp_path / "w.duckdb",
                days=JUNE[:4],
                logger=logging.getLogger("test.engine"),
            )
    with connect(tmp_path / "w.duckdb", read_only=True) as con:
        loaded_at = con.execute("select count(distinct _loaded_at) from raw.meta_ads__ads_insights").fetchall()[0][0]
    assert loaded_at == 1
    assert "meta_ads/ads_insights 2026-06-01..2026-06-04 (4 days): " in caplog.text
