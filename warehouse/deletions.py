"""Deletions at the source: what raw removes when a platform no longer has a record, and the log
that keeps when and why (`raw._deletions`).

Every raw load goes through `load_logged` (warehouse/engine.py `load_files`), which is the
loader's `load` plus:

- **a record the source stopped returning** for a day it read again (`replace_partition`: a
  Facebook post deleted within the re-read window, an ad whose day was restated to nothing) or
  for an undated table read whole (`replace`): the loader deletes it; this logs its key, the
  partition and the load that no longer had it;
- **HubSpot** (rules by raw table, below): an archived contact or deal arrives as HubSpot lists
  it (`archived` true, `archivedAt`, extractors/hubspot.py) and replaces the stored version,
  which staging and the marts leave out: logged with `archivedAt`; a contact merged into
  another (named by the survivor's `hs_merged_object_ids`) is deleted from raw and logged with
  the survivor and the time of the merge; a deal's associations read again replace the stored
  ones (a pair the re-read of its deal did not return is deleted and logged), and the pairs of
  archived and merged-away contacts are deleted with them.

`raw._deletions`: source, stream, key (the record's key as JSON text), partition (the day read
again; null for HubSpot's rules), reason, deleted_at (when the source deleted it, where it says:
`archivedAt`, the survivor's modification time, the deal's; null when only its absence shows),
detected_at (when this load saw it), load_id. A record deleted again (restored, then deleted)
gets a row each time; a re-read of the same state logs nothing new.

The log and the source's rules are written inside the load's own transaction (`load`'s
`before_commit`): a process killed at any point leaves both the rows and their log, or neither.
The HubSpot rules look at the whole table each load, so a load that failed is made up by the next.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import duckdb

from warehouse.landing import LandedFile
from warehouse.loader import LoadResult, RawTable, load, scalar

DELETIONS_TABLE = "raw._deletions"


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists raw")
    con.execute(f"""create table if not exists {DELETIONS_TABLE} (source VARCHAR, stream VARCHAR, key VARCHAR,
                    partition VARCHAR, reason VARCHAR, deleted_at TIMESTAMPTZ, detected_at TIMESTAMPTZ,
                    load_id VARCHAR)""")


def _exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    schema, name = table.split(".")
    return bool(
        scalar(
            con,
            # duckdb_tables(): half the time of information_schema.tables (a view over more catalogs)
            "select count(*) from duckdb_tables() where database_name = current_database() "
            "and schema_name = ? and table_name = ?",
            [schema, name],
        )
    )


def key_json(columns: tuple[str, ...], alias: str = "") -> str:
    """SQL for a row's key as JSON text, `{"deal_id":"901","contact_id":"69"}`."""
    prefix = f"{alias}." if alias else ""
    return "json_object(" + ", ".join(f"'{c}', {prefix}{c}" for c in columns) + ")::varchar"


def load_logged(con: duckdb.DuckDBPyConnection, table: RawTable, landed: LandedFile | list[LandedFile]) -> LoadResult:
    """`warehouse.loader.load`, with the deletions it made logged and the source's deletion rules
    applied in the same transaction (see the module docstring)."""
    files = landed if isinstance(landed, list) else [landed]
    scoped = table.disposition in ("replace_partition", "replace") and _exists(con, table.name)
    keys = ", ".join(table.key)
    if scoped:
        if table.disposition == "replace_partition":
            part = f"{table.partition_column}::varchar"
            where, params = f"{part} in (select unnest(?::varchar[]))", [sorted({f.partition for f in files})]
        else:
            part, where, params = "null::varchar", "true", []
        con.execute(
            f"create or replace temp table _before_load as select {keys}, {part} as _partition "
            f"from {table.name} where {where}",
            params,
        )

    def log_deletions(con: duckdb.DuckDBPyConnection, deleted: int, load_id: str) -> None:
        """Inside the load's transaction: the log and the deletions it records commit together."""
        now = datetime.now(UTC)
        ensure_table(con)
        if scoped and deleted:
            on_key = " and ".join(f"t.{k} = b.{k}" for k in table.key)
            con.execute(
                f"""insert into {DELETIONS_TABLE}
                select ?, ?, {key_json(table.key, "b")}, b._partition,
                       case when b._partition is null then 'not returned when the table was read again'
                            else 'not returned when partition ' || b._partition || ' was read again' end,
                       null, ?::timestamptz, ?
                from _before_load b where not exists (select 1 from {table.name} t where {on_key})""",
                [table.source, table.stream, now, load_id],
            )
        rule = RULES.get(table.name)
        if rule is not None:
            rule(con, now, load_id, sorted({f.partition for f in files}))

    try:
        result = load(con, table, files, before_commit=log_deletions)
    finally:
        if scoped:
            con.execute("drop table if exists _before_load")
    return result


# -- HubSpot ------------------------------------------------------------------------------------
CONTACTS, DEALS, DEAL_CONTACTS = "raw.hubspot__contacts", "raw.hubspot__deals", "raw.hubspot__deal_contacts"
ARCHIVED = "archived in HubSpot"


def _log(con, stream: str, key_sql: str, reason_sql: str, deleted_at_sql: str, rows_sql: str, now, load_id) -> None:
    """Log each row of `rows_sql` (aliased `r`) not logged already with the same key, reason and time."""
    con.execute(
        f"""insert into {DELETIONS_TABLE}
        select 'hubspot', ?, k, null, why, gone_at, ?::timestamptz, ?
        from (select {key_sql} as k, {reason_sql} as why, {deleted_at_sql} as gone_at from ({rows_sql}) r) n
        where not exists (select 1 from {DELETIONS_TABLE} d where d.source = 'hubspot' and d.stream = ?
                          and d.key = n.k and d.reason = n.why and d.deleted_at is not distinct from n.gone_at)""",
        [stream, now, load_id, stream],
    )


def _archived(con, table: str, stream: str, now, load_id) -> None:
    """Archived records (HubSpot's archived listing, landed with the day's read) logged once."""
    _log(
        con,
        stream,
        key_json(("id",), "r"),
        f"'{ARCHIVED}'",
        "try_cast(r._record->>'$.archivedAt' as timestamptz)",
        f"select * from {table} where archived",
        now,
        load_id,
    )


def _merged(con) -> None:
    """`_merged_away`: each contact id a surviving contact names in `hs_merged_object_ids`
    (`;`-separated), the survivor and when it was modified (the merge)."""
    con.execute(f"""create or replace temp table _merged_away as
        select distinct trim(m.id) as id, s.id as into_id, s.lastmodifieddate as gone_at
        from {CONTACTS} s, unnest(string_split(s._record->>'$.properties.hs_merged_object_ids', ';')) as m(id)
        where coalesce(trim(m.id), '') <> '' and trim(m.id) <> s.id""")


def _drop_pairs_of_gone_contacts(con, now, load_id, merged_ready: bool = False) -> None:
    """The associations of archived and merged-away contacts: deleted (HubSpot removes or moves
    them) and logged. `merged_ready`: `_merged_away` is already the contacts table's (the
    contacts rule's, brought up to date after its deletions)."""
    if not (_exists(con, DEAL_CONTACTS) and _exists(con, CONTACTS)):
        con.execute("drop table if exists _merged_away")
        return
    if not merged_ready:
        _merged(con)
    con.execute(f"""create or replace temp table _gone_pairs as
        select p.deal_id, p.contact_id, 'contact ' || p.contact_id || ' ' || '{ARCHIVED}' as why,
               try_cast(c._record->>'$.archivedAt' as timestamptz) as gone_at
        from {DEAL_CONTACTS} p join {CONTACTS} c on c.id = p.contact_id and c.archived
        union all
        select p.deal_id, p.contact_id, 'contact ' || p.contact_id || ' merged into contact ' || m.into_id, m.gone_at
        from {DEAL_CONTACTS} p join _merged_away m on m.id = p.contact_id""")
    if scalar(con, "select count(*) from _gone_pairs"):
        _log(con, "deal_contacts", key_json(("deal_id", "contact_id"), "r"), "r.why", "r.gone_at",
             "select * from _gone_pairs", now, load_id)  # fmt: skip
        con.execute(f"""delete from {DEAL_CONTACTS} where (deal_id, contact_id) in
                        (select (deal_id, contact_id) from _gone_pairs)""")
    con.execute("drop table _gone_pairs")
    con.execute("drop table _merged_away")


def _contacts_rule(con, now, load_id, partitions) -> None:
    _archived(con, CONTACTS, "contacts", now, load_id)
    _merged(con)
    if scalar(con, f"select count(*) from {CONTACTS} where id in (select id from _merged_away)"):
        _log(
            con,
            "contacts",
            key_json(("id",), "r"),
            "'merged into contact ' || r.into_id",
            "r.gone_at",
            f"select m.* from _merged_away m where m.id in (select id from {CONTACTS})",
            now,
            load_id,
        )
        con.execute(f"delete from {CONTACTS} where id in (select id from _merged_away)")
        # `_merged` of the contacts left, without reading every contact's record again (a scan of
        # the whole table's JSON, 0.07 s at SF1 and ~0.7 s at SF10 each time): the survivors
        # just deleted (themselves merged away) name no one any more
        con.execute("delete from _merged_away where into_id in (select id from _merged_away)")
    _drop_pairs_of_gone_contacts(con, now, load_id, merged_ready=True)


def _deals_rule(con, now, load_id, partitions) -> None:
    _archived(con, DEALS, "deals", now, load_id)


def _deal_contacts_rule(con, now, load_id, partitions) -> None:
    """A deal's associations read again replace the stored ones. A stored pair is stale when its
    deal was read again after it: by this load, with a newer modification time (the pair's
    `deal_lastmodifieddate` is the deal's when the pair was read), or, for a deal this load read
    with no association left, by raw.hubspot__deals holding a newer version of the deal modified
    on a day this load read (a finished UTC day: a day still running can change between the two
    reads; the next run reads it again)."""
    days = [p for p in partitions if p < now.date().isoformat()]
    newer_deal = ""
    if days and _exists(con, DEALS):
        newer_deal = f"""union all
            select p.deal_id, p.contact_id, d.hs_lastmodifieddate
            from {DEAL_CONTACTS} p join {DEALS} d on d.id = p.deal_id
            where p.deal_lastmodifieddate < d.hs_lastmodifieddate
              and (d.hs_lastmodifieddate at time zone 'UTC')::date::varchar in (select unnest($days::varchar[]))"""
    con.execute(
        f"""create or replace temp table _stale_pairs as
        select deal_id, contact_id, max(latest) as latest from (
            select deal_id, contact_id, latest from (
                select deal_id, contact_id, deal_lastmodifieddate,
                       max(deal_lastmodifieddate) over (partition by deal_id) as latest
                from {DEAL_CONTACTS}) where deal_lastmodifieddate < latest
            {newer_deal}) group by all""",
        {"days": days} if newer_deal else {},
    )
    if scalar(con, "select count(*) from _stale_pairs"):
        _log(
            con,
            "deal_contacts",
            key_json(("deal_id", "contact_id"), "r"),
            "'not returned when the associations of deal ' || r.deal_id || ' were read again'",
            "r.latest",
            "select * from _stale_pairs",
            now,
            load_id,
        )
        con.execute(f"""delete from {DEAL_CONTACTS} where (deal_id, contact_id) in
                        (select (deal_id, contact_id) from _stale_pairs)""")
    con.execute("drop table _stale_pairs")
    _drop_pairs_of_gone_contacts(con, now, load_id)


RULES: dict[str, Callable[[duckdb.DuckDBPyConnection, datetime, str, list[str]], None]] = {
    CONTACTS: _contacts_rule,
    DEALS: _deals_rule,
    DEAL_CONTACTS: _deal_contacts_rule,
}
