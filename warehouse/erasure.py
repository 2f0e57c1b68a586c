"""Right to erasure (issue 17, item 4): remove one person's data everywhere the warehouse keeps it.

    python -m warehouse.erasure --email anna@example.com
    python -m warehouse.erasure --crm-id 51 [--no-dbt] [--no-publish]

The person is found in raw.hubspot__contacts (by CRM id, or by email, any case): their contact
ids and emails. Then, in this order:

1. **raw**: their contacts, their deal associations, and every row of every raw table whose
   record holds one of their emails (a survey answer, a message, a mention that quotes it);
   `raw._rejects` rows of the same records; `raw._deletions` rows keyed by their ids;
2. **landing files**: every file holding such a record is written again without those lines
   (a new file beside it, read-only, renamed over the old one: the swap is atomic and the file
   stays immutable), and the `_line` of every raw and rejects row read from it is renumbered so
   it still points at its own line;
3. **staging, intermediate and marts**: dbt runs, full refresh, the models downstream of the
   staging models of the raw tables touched (`--no-dbt` leaves that to the next run); then any
   row still holding an email, its salted hash (SKW_PII_SALT, as staging hashes it) or one of
   the contact ids in a `contact_id` column is deleted;
4. **serving**: published again from the warehouse when it exists (`--no-publish`: not).

It logs and prints the count of rows or lines removed per place, naming the person only by a
salted hash (`person sha256:...`), never by email, id or name.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import orjson
from isal import igzip

from warehouse.deletions import DELETIONS_TABLE
from warehouse.loader import REJECTS_TABLE, connect, scalar
from warehouse.settings import Settings

log = logging.getLogger(__name__)
CONTACTS, DEAL_CONTACTS = "raw.hubspot__contacts", "raw.hubspot__deal_contacts"
DBT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"


class ErasureError(RuntimeError):
    pass


@dataclass
class Person:
    ids: set[str]
    emails: set[str]
    label: str  # the salted hash the logs name them by

    def hashes(self, salt: str) -> set[str]:
        """Their emails as staging hashes them (dbt macro `hash_pii`: sha256 of salt + lower(trim))."""
        return {hashlib.sha256((salt + e).encode()).hexdigest() for e in self.emails}


@dataclass
class Erased:
    person: str
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, place: str, n: int) -> None:
        if n:
            self.counts[place] = self.counts.get(place, 0) + n


def person_label(salt: str, identifier: str) -> str:
    return "sha256:" + hashlib.sha256(f"{salt}:{identifier.strip().lower()}".encode()).hexdigest()[:16]


def find_person(con: duckdb.DuckDBPyConnection, *, email: str | None, crm_id: str | None, salt: str) -> Person:
    if bool(email) == bool(crm_id):
        raise ErasureError("give exactly one of --email and --crm-id")
    ident = (email or crm_id).strip()
    ids, emails = set(), set()
    if email:
        emails.add(email.strip().lower())
    if scalar(con, "select count(*) from information_schema.tables where table_schema='raw' and "
                   "table_name='hubspot__contacts'"):  # fmt: skip
        rows = con.execute(
            f"select id, lower(trim(email)) from {CONTACTS} where id = ? or lower(trim(email)) = ?",
            [crm_id or "", (email or "").strip().lower()],
        ).fetchall()
        ids |= {r[0] for r in rows}
        emails |= {r[1] for r in rows if r[1]}
    if crm_id:
        ids.add(crm_id.strip())
    emails.discard("")
    return Person(ids, emails, person_label(salt, ident))


def _matches(rec: object, text: str, ids: set[str], emails: set[str], stream_path: str) -> bool:
    """A landed record that is the person's: their contact record or association, or any record
    whose text holds one of their emails."""
    low = text.lower()
    if any(e in low for e in emails):
        return True
    if not isinstance(rec, dict) or not ids:
        return False
    if stream_path == "hubspot/contacts":
        return str(rec.get("id")) in ids
    if stream_path == "hubspot/deal_contacts":
        return str(rec.get("toObjectId")) in ids
    return False


def _raw_tables(con) -> list[str]:
    return [
        f"raw.{t}"
        for (t,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw' "
            "and table_name not in ('_rejects', '_deletions') order by table_name"
        ).fetchall()
    ]


def _email_match(column: str, emails: Iterable[str]) -> tuple[str, list[str]]:
    emails = sorted(emails)
    if not emails:
        return "false", []
    return "(" + " or ".join(f"contains(lower({column}), ?)" for _ in emails) + ")", emails


def erase_raw(con, person: Person, out: Erased) -> set[str]:
    """Raw, rejects and the deletions log; the raw tables touched."""
    touched = set()
    con.execute("begin transaction")
    try:
        for table in _raw_tables(con):
            cond, params = _email_match("_record::varchar", person.emails)
            if table == CONTACTS:
                cond += " or id in (select unnest(?::varchar[]))"
                params = [*params, sorted(person.ids)]
            elif table == DEAL_CONTACTS:
                cond += " or contact_id in (select unnest(?::varchar[]))"
                params = [*params, sorted(person.ids)]
            n = scalar(con, f"select count(*) from {table} where {cond}", params)
            if n:
                con.execute(f"delete from {table} where {cond}", params)
                out.add(table, n)
                touched.add(table)
        if scalar(con, "select count(*) from information_schema.tables where table_schema='raw' "
                       "and table_name='_rejects'"):  # fmt: skip
            cond, params = _email_match("record", person.emails)
            cond += (
                " or (source = 'hubspot' and stream = 'contacts' and try(json_extract_string(record, '$.id')) "
                "in (select unnest(?::varchar[]))) or (source = 'hubspot' and stream = 'deal_contacts' and "
                "try(json_extract_string(record, '$.toObjectId')) in (select unnest(?::varchar[])))"
            )
            params = [*params, sorted(person.ids), sorted(person.ids)]
            n = scalar(con, f"select count(*) from {REJECTS_TABLE} where {cond}", params)
            con.execute(f"delete from {REJECTS_TABLE} where {cond}", params)
            out.add(REJECTS_TABLE, n)
        if scalar(con, "select count(*) from information_schema.tables where table_schema='raw' "
                       "and table_name='_deletions'"):  # fmt: skip
            cond = (
                "source = 'hubspot' and (json_extract_string(key, '$.id') in (select unnest(?::varchar[])) "
                "or json_extract_string(key, '$.contact_id') in (select unnest(?::varchar[])))"
            )
            params = [sorted(person.ids), sorted(person.ids)]
            n = scalar(con, f"select count(*) from {DELETIONS_TABLE} where {cond}", params)
            con.execute(f"delete from {DELETIONS_TABLE} where {cond}", params)
            out.add(DELETIONS_TABLE, n)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return touched


def rewrite_landing(con, landing_root: Path, person: Person, out: Erased) -> None:
    """Every landing file holding the person's records written again without them (atomically,
    read-only after), and the `_line` of the rows read from it renumbered."""
    landing_root = Path(landing_root)
    if not landing_root.exists():
        return
    for path in sorted(landing_root.rglob("*.jsonl.gz")):
        rel = path.relative_to(landing_root).parts
        stream_path = "/".join(rel[:2])
        removed, kept = [], []
        with igzip.open(path, "rb") as f:
            for n, line in enumerate(f, start=1):
                text = line.decode("utf-8", errors="replace")
                try:
                    rec = orjson.loads(line)
                except orjson.JSONDecodeError:
                    rec = None
                if _matches(rec, text, person.ids, person.emails, stream_path):
                    removed.append(n)
                else:
                    kept.append(line)
        if not removed:
            continue
        tmp = path.with_name(path.name + ".erasing")
        with igzip.open(tmp, "wb", compresslevel=1) as f:
            f.write(b"".join(kept))
        os.chmod(tmp, 0o444)
        os.replace(tmp, path)
        out.add("landing files", 1)
        out.add("landing lines", len(removed))
        _renumber(con, str(path), removed)


def _renumber(con, source_file: str, removed: list[int]) -> None:
    """Rows read from `source_file` keep pointing at their own line once `removed` lines are gone."""
    con.execute("create or replace temp table _erased_lines as select unnest(?::bigint[]) as line", [removed])
    con.execute("begin transaction")
    try:
        for table in _raw_tables(con):
            cols = {c for (c,) in con.execute(f"select column_name from information_schema.columns where "
                                              f"table_schema = 'raw' and table_name = '{table[4:]}'").fetchall()}  # fmt: skip
            if {"_source_file", "_line"} <= cols:
                con.execute(
                    f"update {table} set _line = _line - (select count(*) from _erased_lines e where e.line < _line) "
                    "where _source_file = ?",
                    [source_file],
                )
        if scalar(con, "select count(*) from information_schema.tables where table_schema='raw' "
                       "and table_name='_rejects'"):  # fmt: skip
            con.execute(
                f"update {REJECTS_TABLE} set line = line - (select count(*) from _erased_lines e where e.line < line) "
                "where source_file = ?",
                [source_file],
            )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    con.execute("drop table _erased_lines")


def rebuild_models(warehouse: Path, touched: set[str], settings: Settings) -> None:
    """dbt, full refresh, over the models downstream of the staging models of the raw tables touched."""
    selectors = sorted({f"source:{t.split('.')[1].split('__')[0]}.{t.split('__', 1)[1]}+" for t in touched})
    if not selectors:
        return
    dbt = Path(sys.executable).parent / "dbt"
    env = {**os.environ, **settings.dbt_env(), "SKW_WAREHOUSE_PATH": str(warehouse)}
    proc = subprocess.run(
        [str(dbt), "run", "--full-refresh", "--select", *selectors, "--profiles-dir", str(DBT_DIR)],
        cwd=DBT_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise ErasureError("dbt could not rebuild the models after the erasure:\n" + proc.stdout[-3000:])


def erase_models(con, person: Person, salt: str, out: Erased) -> None:
    """Rows still holding an email, its salted hash or one of the contact ids, outside raw."""
    values = sorted(person.emails | person.hashes(salt))
    tables = con.execute(
        "select table_schema, table_name from information_schema.tables where table_type = 'BASE TABLE' "
        "and table_schema not in ('raw', 'information_schema', 'pg_catalog') order by 1, 2"
    ).fetchall()
    for schema, name in tables:
        cols = con.execute(
            "select column_name, data_type from information_schema.columns where table_schema = ? and table_name = ?",
            [schema, name],
        ).fetchall()
        conds, params = [], []
        for col, typ in cols:
            if typ.upper() not in ("VARCHAR", "JSON"):
                continue
            q = f'"{col}"'
            if values:
                conds.append(" or ".join(f"contains(lower({q}::varchar), ?)" for _ in values))
                params.extend(values)
            if col == "contact_id" and person.ids:
                conds.append(f"{q} in (select unnest(?::varchar[]))")
                params.append(sorted(person.ids))
        if not conds:
            continue
        where = " or ".join(f"({c})" for c in conds)
        n = scalar(con, f'select count(*) from "{schema}"."{name}" where {where}', params)
        if n:
            con.execute(f'delete from "{schema}"."{name}" where {where}', params)
            out.add(f"{schema}.{name}", n)


def erase(
    *,
    email: str | None = None,
    crm_id: str | None = None,
    settings: Settings | None = None,
    rebuild: bool = True,
    publish: bool = True,
) -> Erased:
    settings = settings or Settings.from_env()
    salt = settings.pii_salt or ""
    if not salt:
        raise ErasureError("SKW_PII_SALT is not set: staging's hashes (and the erasure's search for them) need it")
    wh = settings.warehouse_path
    with connect(wh) as con:
        person = find_person(con, email=email, crm_id=crm_id, salt=salt)
        out = Erased(person.label)
        touched = erase_raw(con, person, out)
        rewrite_landing(con, settings.landing_dir, person, out)
    if rebuild and touched:
        rebuild_models(wh, touched, settings)
    with connect(wh) as con:
        erase_models(con, person, salt, out)
    if publish and settings.serving_path.exists():
        from warehouse.serving import publish as publish_serving

        publish_serving(wh, settings.serving_path)
        out.add("serving (published again)", 1)
    for place, n in sorted(out.counts.items()):
        log.info("erasure of person %s: %s: %d removed", out.person, place, n)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m warehouse.erasure", description=__doc__.split("\n\n")[0])
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--email")
    who.add_argument("--crm-id")
    parser.add_argument("--no-dbt", action="store_true", help="leave staging and marts to the next run")
    parser.add_argument("--no-publish", action="store_true", help="do not publish the serving database again")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        out = erase(email=args.email, crm_id=args.crm_id, rebuild=not args.no_dbt, publish=not args.no_publish)
    except ErasureError as exc:
        print(f"erasure failed: {exc}", file=sys.stderr)
        return 1
    print(f"person {out.person}: " + (", ".join(f"{k} {v}" for k, v in sorted(out.counts.items())) or "nothing found"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
