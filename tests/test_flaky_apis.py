"""Flaky APIs (issue 17, item 2): with every fake failing at once (20% server errors, 10% rate
limits with `Retry-After`, 10% slow answers, 5% bodies cut short, 20% pages served twice)
every source's every stream ends with exactly the right records; a source down past its retry
budget fails alone, naming the source and the status, and the next run catches up with nothing
missing.

Each stream is run as the raw step runs it (warehouse/engine.py `run_stream`: extract, land,
load) with the source's client as its resource builds it (`client_from`, the fakes' settings),
into a warehouse of its own. "Right" is the session warehouse's raw tables (tests/conftest.py
`materialized`: the same test world, the same days, the pipeline's own run), row for row and
column for column, leaving out what only says when and how a row was loaded (`_load_id`,
`_loaded_at`, `_source_file`, `_line`, `_hash`).

The fault layer is the fakes' shared one (sampleworld/fakes/base.py `FaultConfig`, in front of
every fake). Waits are kept short for the test, not the logic: the clients' retry budget is set
to 15 attempts with backoffs of a few milliseconds, and any wait a platform asks for (GA4's 30 s
quota pause) is cut to 50 ms.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from conftest import TEST_SPEC

from extractors.client import SourceClient
from extractors.http import ApiError, RetryPolicy
from sampleworld.fakes.base import EXTRA_FIELD, FakeServer, FaultConfig
from sampleworld.serve import fake_env, fake_modules, start_fakes
from warehouse import engine

FLAKY = FaultConfig(
    error_rate=0.2,
    rate_limit_rate=0.1,
    retry_after_s=1,
    slow_rate=0.1,
    slow_s=0.05,
    truncate_rate=0.05,
    repeat_page_rate=0.2,
    seed=17,
)
BUDGET = RetryPolicy(max_attempts=15, backoff_initial_s=0.002, backoff_max_s=0.02)
LONGEST_WAIT_S = 0.05
LOAD_COLUMNS = {"_load_id", "_loaded_at", "_source_file", "_line", "_hash"}
DAYS = [TEST_SPEC.start + timedelta(days=i) for i in range((TEST_SPEC.end - TEST_SPEC.start).days + 1)]
DOWN = "survey"  # the source that is down in the outage test


def _short_sleep(seconds: float) -> None:
    time.sleep(min(seconds, LONGEST_WAIT_S))


@pytest.fixture
def short_waits(monkeypatch):
    """Every HTTP core a client makes gets the test's retry budget and short waits."""
    made = SourceClient.http_core

    def http_core(self, base_url, **kwargs):
        return made(self, base_url, **{**kwargs, "retry": BUDGET, "sleep": _short_sleep})

    monkeypatch.setattr(SourceClient, "http_core", http_core)


def _sources() -> list:
    """(source module, its resource class, its streams) of every API source (team_config reads files)."""
    from orchestration import sources
    from orchestration.resources import SourceEnvironment

    out = []
    for m in sources.modules():
        resource = m.resource(SourceEnvironment())
        if not getattr(resource.SETTINGS, "SAMPLE_WORLD_FOLDER", None):
            out.append((m.RESOURCE_KEY, type(resource), [a.stream for a in m.ASSETS]))
    return out


def _run(streams, env: dict[str, str], tmp: Path) -> dict[str, dict | Exception]:
    """Every (resource class, stream) into tmp's warehouse, four at a time; the counts of each,
    or the exception it ended with."""
    lock = threading.Lock()

    def one(item):
        cls, stream = item
        try:
            return engine.run_stream(
                stream,
                lambda: cls.client_from(env),
                landing_root=tmp / "landing",
                warehouse_path=tmp / "warehouse.duckdb",
                days=DAYS if stream.dated else None,
                write_lock=lock,
                as_of=TEST_SPEC.end if stream.snapshot else None,  # sample mode's reading day
            )
        except Exception as exc:  # noqa: BLE001 - what a stream ended with is the result
            return exc

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip([s.key for _, s in streams], pool.map(one, streams)))


def _rows(path: Path, table: str) -> list[tuple]:
    """A raw table's rows without the load's own columns, the record without the fakes' extra field."""
    with duckdb.connect(str(path), read_only=True) as con:
        cols = [c for (c,) in con.execute(f"select column_name from (describe {table})").fetchall()]
        kept = [c for c in cols if c not in LOAD_COLUMNS]
        select = ", ".join('"' + c + '"' for c in kept)
        rows = con.execute(f"select {select} from {table}").fetchall()
    at = kept.index("_record")
    out = []
    for r in rows:
        record = json.loads(r[at])
        record.pop(EXTRA_FIELD, None)
        out.append((*r[:at], json.dumps(record, sort_keys=True), *r[at + 1 :]))
    return sorted(out, key=repr)


def _compare(streams, ours: Path, truth: Path) -> list[str]:
    problems = []
    for _, s in streams:
        table = engine.raw_table(s).name
        got, want = _rows(ours, table), _rows(truth, table)
        if got != want:
            extra, missing = set(got) - set(want), set(want) - set(got)
            problems.append(
                f"{table}: {len(got)} rows, {len(want)} expected; {len(extra)} not expected, {len(missing)} missing "
                f"(first missing: {sorted(missing, key=repr)[:1]!r:.300})"
            )
    return problems


@pytest.mark.slow
def test_every_source_ends_with_exactly_the_right_records_when_every_api_is_flaky(
    materialized, world, short_waits, tmp_path
):
    servers = start_fakes(world, FLAKY)
    try:
        env = fake_env(servers)
        streams = [(cls, s) for _, cls, ss in _sources() for s in ss]
        results = _run(streams, env, tmp_path)
        injected = {name: srv.faults_injected for name, srv in servers.items()}
    finally:
        for srv in servers.values():
            srv.stop()
    failed = {k: str(v)[:300] for k, v in results.items() if isinstance(v, Exception)}
    assert not failed
    # every fake failed some requests, each client retried through them ...
    assert len(injected) >= 10 and all(n > 0 for n in injected.values()), injected
    retries = {}
    for (_, s), r in zip(streams, results.values()):
        retries[s.source] = retries.get(s.source, 0) + r["retries"]
    assert all(n > 0 for n in retries.values()), retries
    # ... pages were served twice (their copies are duplicates, not rejects) ...
    assert sum(r["duplicates"] for r in results.values()) > 0
    assert sum(r["rejected"] + r.get("conflicts", 0) for r in results.values()) == 0
    # ... and every raw table is the pipeline's, row for row
    assert not _compare(streams, tmp_path / "warehouse.duckdb", materialized["warehouse"])


@pytest.mark.slow
def test_a_source_down_past_its_retry_budget_fails_alone_and_the_next_run_catches_up(
    materialized, world, short_waits, tmp_path
):
    mods = {m.NAME: m for m in fake_modules()}
    down_cls, down_streams = next((cls, ss) for key, cls, ss in _sources() if key == DOWN)
    others = [(cls, s) for key, cls, ss in _sources() if key in ("youtube", "x") for s in ss]
    outage = FakeServer(mods[DOWN].make_app(world), FaultConfig(error_rate=1.0, seed=1)).start()
    healthy = start_fakes(world)
    try:
        env = {**fake_env(healthy), **mods[DOWN].env(outage.url, outage.app)}
        first = _run([*((down_cls, s) for s in down_streams), *others], env, tmp_path)
        asked = outage.requests_served
        outage.stop()
        with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
            present = {
                t for (t,) in con.execute("select table_name from duckdb_tables() where schema_name = 'raw'").fetchall()
            }
        # the next run, the platform back
        again = _run([(down_cls, s) for s in down_streams], fake_env(healthy), tmp_path)
    finally:
        for srv in healthy.values():
            srv.stop()
    for s in down_streams:
        exc = first[s.key]
        assert isinstance(exc, ApiError), (s.key, exc)
        assert str(exc).startswith(f"[{DOWN}] HTTP 50") and exc.status in (500, 502, 503), str(exc)
    # every read gave up after its budget, no sooner
    assert asked >= BUDGET.max_attempts and asked % BUDGET.max_attempts == 0, asked
    for _, s in others:  # the other sources completed
        assert not isinstance(first[s.key], Exception), (s.key, first[s.key])
    assert not any(t.startswith(f"{DOWN}__") for t in present - {"_rejects"})  # nothing half-written for it
    assert all(not isinstance(r, Exception) for r in again.values()), again
    assert not _compare(
        [*((down_cls, s) for s in down_streams), *others], tmp_path / "warehouse.duckdb", materialized["warehouse"]
    )
