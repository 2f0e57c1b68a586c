"""Right to erasure (issue 17, item 4) on a copy of the session warehouse, its landing files and a
serving database published from it: one sample person (a customer with a deal) is erased by
email; then no table of any schema, no landing line and no serving table holds their email, its
salted hash, their CRM id (in a contact_id column or a HubSpot record) or their name, every
landing file is still read-only and every raw row still points at its own landing line, and the
log names them only by a salted hash.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from pathlib import Path

import orjson
import pytest
from isal import igzip

from warehouse.erasure import erase
from warehouse.loader import connect
from warehouse.serving import publish
from warehouse.settings import Settings

pytestmark = pytest.mark.slow
SALT = os.environ["SKW_PII_SALT"]


def lines(landing: Path):
    for path in sorted(landing.rglob("*.jsonl.gz")):
        with igzip.open(path, "rb") as f:
            for n, line in enumerate(f, start=1):
                yield path, n, line.decode()


def hits(db: Path, needles: list[str], contact_id: str) -> list[str]:
    """Every table and column of `db` holding a needle (any case) or `contact_id` in a contact_id column."""
    found = []
    with connect(db, read_only=True) as con:
        cols = con.execute(
            "select table_schema, table_name, column_name, column_name = 'contact_id' from information_schema.columns "
            "where data_type in ('VARCHAR', 'JSON') and table_schema not in ('information_schema', 'pg_catalog')"
        ).fetchall()
        for schema, table, col, is_contact in cols:
            q = f'"{schema}"."{table}"'
            for needle in needles:
                if con.execute(f'select count(*) from {q} where contains(lower("{col}"::varchar), ?)',
                               [needle.lower()]).fetchall()[0][0]:  # fmt: skip
                    found.append(f"{schema}.{table}.{col} holds {needle}")
            if is_contact and con.execute(f'select count(*) from {q} where "{col}" = ?', [contact_id]).fetchall()[0][0]:
                found.append(f"{schema}.{table}.{col} holds the contact id")
    return found


@pytest.fixture(scope="module")
def erased(materialized, tmp_path_factory):
    base = tmp_path_factory.mktemp("erasure")
    session = Settings.from_env()
    wh, landing, serving = base / "w.duckdb", base / "landing", base / "serving.duckdb"
    shutil.copy(materialized["warehouse"], wh)
    shutil.copytree(session.landing_dir, landing)
    with connect(wh) as con:  # the copy's rows point at the copy's landing files
        for (table,) in con.execute(
            "select distinct table_name from information_schema.columns where table_schema = 'raw' "
            "and column_name = '_source_file'"
        ).fetchall():
            con.execute(f"update raw.{table} set _source_file = replace(_source_file, ?, ?)",
                        [str(session.landing_dir), str(landing)])  # fmt: skip
        con.execute("update raw._rejects set source_file = replace(source_file, ?, ?)",
                    [str(session.landing_dir), str(landing)])  # fmt: skip
    publish(wh, serving)
    with connect(wh, read_only=True) as con:
        rows = con.execute(
            """select c.id, lower(c.email), c._record->>'$.properties.firstname', c._record->>'$.properties.lastname'
               from raw.hubspot__contacts c join raw.hubspot__deal_contacts p on p.contact_id = c.id
               where (select count(*) from raw.hubspot__contacts o
                      where o._record->>'$.properties.firstname' = c._record->>'$.properties.firstname'
                        and o._record->>'$.properties.lastname' = c._record->>'$.properties.lastname') = 1
               order by c.id"""
        ).fetchall()
        cid, email, first, last = rows[0]
        assert con.execute("select count(*) from marts.fct_attribution_credits where contact_id = ?", [cid]).fetchall()[
            0
        ][0]  # the person is in a mart before
    env = {
        **os.environ,
        "SKW_WAREHOUSE_PATH": str(wh),
        "SKW_LANDING_DIR": str(landing),
        "SKW_SERVING_PATH": str(serving),
    }
    settings = Settings.from_env(env)
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = Keep(level=logging.DEBUG)
    logging.getLogger().addHandler(handler)
    old = logging.getLogger().level
    logging.getLogger().setLevel(logging.DEBUG)
    try:
        result = erase(email=email.upper(), settings=settings)
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(old)
    email_hash = hashlib.sha256((SALT + email).encode()).hexdigest()
    return dict(
        wh=wh, landing=landing, serving=serving, id=cid, email=email, hash=email_hash, name=(first, last),
        result=result, logs=[r.getMessage() for r in records],
    )  # fmt: skip


def test_no_table_holds_the_person(erased):
    assert hits(erased["wh"], [erased["email"], erased["hash"]], erased["id"]) == []
    with connect(erased["wh"], read_only=True) as con:
        assert con.execute("select count(*) from raw.hubspot__contacts where id = ?", [erased["id"]]).fetchall() == [
            (0,)
        ]
        first, last = erased["name"]
        assert con.execute(
            "select count(*) from raw.hubspot__contacts where _record->>'$.properties.firstname' = ? "
            "and _record->>'$.properties.lastname' = ?",
            [first, last],
        ).fetchall() == [(0,)]
    assert erased["result"].counts.get("raw.hubspot__contacts", 0) >= 1
    assert erased["result"].counts.get("raw.hubspot__deal_contacts", 0) >= 1


def test_serving_holds_nothing_of_the_person(erased):
    assert hits(erased["serving"], [erased["email"], erased["hash"]], erased["id"]) == []
    assert "serving (published again)" in erased["result"].counts


def test_landing_files_rewritten_read_only_and_raw_still_points_at_its_lines(erased):
    first, last = erased["name"]
    by_file: dict[tuple[str, int], str] = {}
    for path, n, text in lines(erased["landing"]):
        assert erased["email"] not in text.lower()
        rec = orjson.loads(text)
        if "/hubspot/contacts/" in str(path):
            assert rec.get("id") != erased["id"]
            props = rec.get("properties") or {}
            assert (props.get("firstname"), props.get("lastname")) != (first, last)
        if "/hubspot/deal_contacts/" in str(path):
            assert str(rec.get("toObjectId")) != erased["id"]
        by_file[(str(path), n)] = text
        assert path.stat().st_mode & 0o222 == 0, f"{path} is writable"
    assert not list(erased["landing"].rglob("*.erasing"))
    assert erased["result"].counts["landing lines"] >= 2
    checked = 0
    with connect(erased["wh"], read_only=True) as con:
        for table in ("raw.hubspot__contacts", "raw.hubspot__deal_contacts"):
            for record, source_file, line in con.execute(
                f"select _record, _source_file, _line from {table}"
            ).fetchall():
                assert json.loads(by_file[(source_file, line)]) == json.loads(record), (table, source_file, line)
                checked += 1
    assert checked > 100


def test_the_log_names_the_person_only_by_a_salted_hash(erased):
    text = "\n".join(erased["logs"])
    assert "sha256:" in text and erased["result"].person in text
    for secret in (erased["email"], erased["hash"], *erased["name"]):
        assert secret.lower() not in text.lower()
    assert f" {erased['id']} " not in text and f"id {erased['id']}" not in text
