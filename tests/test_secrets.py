"""Secrets (issue 17, item 7): tokens come from the environment only, and none appears in
exception text, logs, Dagster's event records, landing files or the warehouse.

The session's materialized warehouse (tests/conftest.py `materialized`) ran with a distinctive
Meta token read from `META_ACCESS_TOKEN` and the embedded fakes' tokens for every other source;
it is searched whole here rather than built again. The error path where a token travels in a
URL's query (Meta's `access_token`, as its `paging.next` links carry it) is driven directly."""

from __future__ import annotations

import gzip
import logging
import traceback

import pytest
from conftest import META_SECRET

from extractors.http import ApiError, RetryPolicy
from extractors.meta_ads import MetaAdsClient
from sampleworld.fakes.base import App, FakeServer, Response
from warehouse.loader import connect
from warehouse.settings import Settings

TOKEN = "EAAB-h7-distinctive-Zq9xT3kLm0"


class Echo(App):
    """Answers every request with an error whose body echoes the URL it was asked (tokens
    included), as proxies and some platforms do."""

    name = "echo"

    def __init__(self, *statuses: int):
        self.statuses = list(statuses)

    def handle(self, req):
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        query = "&".join(f"{k}={v}" for k, v in req.query.items())
        body = {"error": {"message": f"bad request for {req.path}?{query} token {TOKEN}", "code": 1}}
        return Response.json(status, body)


def _client(url: str) -> MetaAdsClient:
    return MetaAdsClient(
        url, TOKEN, account_ids=["1"], retry=RetryPolicy(max_attempts=3, backoff_initial_s=0), sleep=lambda s: None
    )


def _everywhere(exc: BaseException, caplog) -> str:
    """The exception every way it is shown, and every log record of this process but the fake
    server's own (it plays the platform, which sees the token)."""
    ours = [r for r in caplog.records if not r.name.startswith("sampleworld")]
    return "\n".join(
        [str(exc), repr(exc), repr(vars(exc)), "".join(traceback.format_exception(exc))]
        + [r.getMessage() + repr(r.args) + repr(r.exc_info) for r in ours]
    )


@pytest.mark.parametrize("statuses", [(500, 503, 500), (500, 400)])
def test_a_token_in_the_url_query_is_masked_in_exceptions_and_retry_logs(statuses, caplog):
    caplog.set_level(logging.DEBUG)
    with FakeServer(Echo(*statuses)) as srv:
        client = _client(srv.url)
        with pytest.raises(ApiError) as exc:
            client.http.get_json(f"{srv.url}/v21.0/act_1/insights?access_token={TOKEN}&after=abc")
    text = _everywhere(exc.value, caplog)
    assert "retry 1 of 2" in caplog.text  # the retry was logged ...
    assert "access_token=***" in text  # ... with the token masked, in the URL and the echoed body
    assert TOKEN not in text


def test_a_token_in_the_url_query_is_masked_when_the_connection_fails(caplog):
    caplog.set_level(logging.DEBUG)
    client = _client("http://127.0.0.1:9")  # nothing listens on the discard port
    with pytest.raises(ApiError) as exc:
        client.http.get_json(f"http://127.0.0.1:9/v21.0/act_1/insights?access_token={TOKEN}")
    text = _everywhere(exc.value, caplog)
    assert "ConnectionError" in text and TOKEN not in text


def _tokens(fakes) -> set[str]:
    from sampleworld.serve import fake_env

    tokens = {META_SECRET, *(v for k, v in fake_env(fakes).items() if k.endswith("TOKEN"))}
    assert len(tokens) >= 8
    return tokens


@pytest.mark.slow
def test_no_token_in_any_landing_file(materialized, fakes):
    tokens = _tokens(fakes)
    files = list(Settings.from_env().landing_dir.rglob("*.jsonl.gz"))
    assert len(files) > 100
    found, control = [], 0
    for f in files:
        data = gzip.open(f).read()
        found += [(f.name, t) for t in tokens if t.encode() in data]
        control += b'"account_currency"' in data  # the search reads what is there
    assert found == [] and control > 0


@pytest.mark.slow
def test_no_token_in_any_table_of_the_warehouse(materialized, fakes):
    """Every table and view of every schema (raw, rejects, staging, marts, quality results ...),
    every column of every row, as text."""
    pattern = "|".join(sorted(_tokens(fakes)))
    with connect(materialized["warehouse"], read_only=True) as con:
        # the search finds what is there: a value known to be in one raw table and its staging
        control = con.execute(
            "select count(*) from raw.meta_ads__ads_insights t where regexp_matches(t::varchar, ?)",
            ["account_currency"],
        ).fetchone()[0]
        assert control > 0
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables where table_catalog = current_database()"
        ).fetchall()
        assert len(tables) > 100
        found = [
            (s, t)
            for s, t in tables
            if con.execute(
                f'select count(*) from "{s}"."{t}" t where regexp_matches(t::varchar, ?)', [pattern]
            ).fetchone()[0]
        ]
    assert found == []


@pytest.mark.slow
def test_no_token_in_the_run_record_or_its_logs(materialized, fakes):
    """Dagster's event records (messages and metadata) and the run's config: the token is read
    from the environment by the resource, never passed as config."""
    tokens = _tokens(fakes)
    instance, result = materialized["instance"], materialized["result"]
    run = instance.get_run_by_id(result.run_id)
    text = repr(run.run_config) + repr(run.tags) + "\n".join(repr(r) for r in instance.all_logs(result.run_id))
    assert "retry" in text
    assert [t for t in tokens if t in text] == []
