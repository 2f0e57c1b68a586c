"""No personal data leaves staging, and staging keeps it only where it is allowed to.

Every column of every model in the `staging`, `intermediate` and `marts` schemas of the
session warehouse (the main job over the 7-day test world, every source) is scanned for:

- values that look like an e-mail address or a phone number;
- the sample world's people, read from the world's own files (what sampleworld/gen writes):
  HubSpot contacts (names, e-mails), the Facebook commenters and Instagram commenters
  (facebook.py / instagram.py `comments.jsonl`), the care inbox's customers (inbox.py
  `conversations.jsonl`: Messenger names, proxy e-mails and ids, Instagram usernames and ids),
  the private authors of listening mentions (listening.py `mentions.jsonl`, author_type
  customer) and of X mentions (x.py `mentions.jsonl`, `_meta.author`): their full names, their
  handles and their user ids. Survey respondents (survey.py) carry none of these in this world;
  a respondent e-mail, name or phone a form added would be caught by the same scan.

Brand, competitor, influencer and employee accounts (the team's rosters) and media outlets
are public, so they are not among the people looked for. Free text may stay in staging for
issue 12's sentiment step: the staging columns in ALLOWED_FREE_TEXT, each with its reason,
are not scanned. Nothing downstream of staging is allowed any free text.

The scanner is checked both ways: on hand-made strings (phones in several formats found;
dates, ids, hashes and order numbers not), and on the raw layer, where it must find every kind
of the world's people (so a change in how the world writes them cannot make the scan pass
vacuously).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from warehouse.loader import connect

SCANNED_SCHEMAS = ("staging", "intermediate", "marts")

# The staging columns allowed to hold free text (and so whatever a person writes in it):
# (model, column) -> why. Only staging: nothing downstream may carry free text; issue 12's
# sentiment step takes `message_text_redacted`, which is scanned like any other column.
ALLOWED_FREE_TEXT: dict[tuple[str, str], str] = {
    (
        "stg_facebook__comments",
        "message_text",
    ): "comment bodies for the sentiment step (issue 12); a commenter may tag or name people",
    (
        "stg_facebook__messages",
        "message_text",
    ): "Messenger message bodies for the sentiment and care steps; customers write order, address and contact details",
    ("stg_instagram__messages", "message_text"): "Instagram Direct message bodies for the sentiment and care steps",
    (
        "stg_x__mentions",
        "message_text",
    ): "public posts about the brand and competitors for the sentiment step; they may name other people's handles",
    ("stg_listening__mentions", "message_text"): "listening mention texts for the sentiment step",
    ("stg_survey__responses", "message_text"): "CSAT comments for the feedback themes and sentiment step",
}

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Dates and times are taken out before looking for phone numbers: 2026-06-01 10:00 is not one.
_DATES = re.compile(
    r"\d{4}[-./]\d{1,2}[-./]\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
    r"|\d{1,2}[-./]\d{1,2}[-./]\d{4}"
)
# A phone number as people write one: international (+49 30 1234567, +4915112345678), a
# bracketed area code ((030) 1234 5678), or digit groups with separators (0171-1234567,
# 555.123.4567); at least 8 digits, not inside a longer word. A bare run of digits without a
# `+` is an id here (platform ids are long digit strings), not a phone.
_PHONE = re.compile(
    r"(?<![\w+])(?:\+\d[\d ./()-]{6,}\d"
    r"|\(\d{2,5}\)[ ./-]?\d[\d ./-]{4,}\d"
    r"|\d{2,5}[ ./-]\d[\d ./-]{4,}\d)(?!\w)"
)
_WORDS = re.compile(r"[^\W\d_]+")  # letters only: names
_TOKENS = re.compile(r"[\w.]+")  # handles and ids: letters, digits, _ and .


def find_email(value: str) -> str | None:
    m = EMAIL.search(value)
    return m.group(0) if m else None


_DECIMAL = re.compile(r"\d+\.\d+")  # a measurement (21142.691829001706 seconds), not a phone


def find_phone(value: str) -> str | None:
    for m in _PHONE.finditer(_DATES.sub(" ", value)):
        if sum(ch.isdigit() for ch in m.group(0)) >= 8 and not _DECIMAL.fullmatch(m.group(0)):
            return m.group(0)
    return None


def _name_key(name: str) -> str:
    return " ".join(_WORDS.findall(name.lower()))


@dataclass
class People:
    """The sample world's private people, as the scan looks for them."""

    names: set[str] = field(default_factory=set)  # "first last", lower-case, letters only
    handles: set[str] = field(default_factory=set)  # usernames / handles, lower-case
    ids: set[str] = field(default_factory=set)  # platform user ids
    emails: set[str] = field(default_factory=set)  # each is also e-mail-shaped: EMAIL finds it

    def add(
        self,
        *,
        name: str | None = None,
        handle: str | None = None,
        user_id: str | None = None,
        email: str | None = None,
    ) -> None:
        if name and len(_WORDS.findall(name)) >= 2:
            self.names.add(_name_key(name))
        if handle:
            self.handles.add(handle.strip().lstrip("@").lower())
        if user_id:
            self.ids.add(str(user_id).strip())
        if email:
            self.emails.add(email.strip().lower())

    def findings(self, value: str) -> Iterator[tuple[str, str]]:
        """(kind, what) for each kind of personal data `value` holds, lazily, cheapest first."""
        low = value.lower()
        if (email := find_email(value)) is not None:
            yield "email", f"an e-mail address ({email})"
        if (phone := find_phone(value)) is not None:
            yield "phone", f"a phone number ({phone})"
        words = _WORDS.findall(low)
        grams = {" ".join(words[i : i + n]) for n in (2, 3) for i in range(len(words) - n + 1)}
        if hit := grams & self.names:
            yield "name", f"a person's name ({sorted(hit)[0]})"
        tokens = {t.strip(".") for t in _TOKENS.findall(low)}
        if hit := tokens & self.handles:
            yield "handle", f"a private person's handle ({sorted(hit)[0]})"
        if hit := tokens & self.ids:
            yield "id", f"a private person's user id ({sorted(hit)[0]})"

    def found_in(self, value: str) -> str | None:
        """What of a person `value` holds (the first finding), or None."""
        return next((what for _, what in self.findings(value)), None)


def _jsonl(path: Path) -> Iterator[dict]:
    if not path.exists():
        return
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def world_people(world: Path) -> People:
    """Every private person of the world, from the files sampleworld/gen writes."""
    people = People()
    brand_ids = {p["page_id"] for p in json.loads((world / "facebook" / "pages.json").read_text())}
    brand_ids |= {a["ig_user_id"] for a in json.loads((world / "instagram" / "accounts.json").read_text())}
    for c in _jsonl(world / "hubspot" / "contacts.jsonl"):
        p = c.get("properties", {})
        people.add(name=f"{p.get('firstname') or ''} {p.get('lastname') or ''}", email=p.get("email"))
    for c in _jsonl(world / "facebook" / "comments.jsonl"):
        author = c.get("from") or {}
        if author.get("id") not in brand_ids:
            people.add(name=author.get("name"), user_id=author.get("id"))
    for c in _jsonl(world / "instagram" / "comments.jsonl"):
        author = c.get("from") or {}
        if author.get("id") not in brand_ids:
            people.add(handle=author.get("username"), user_id=author.get("id"))
    for conv in _jsonl(world / "inbox" / "conversations.jsonl"):
        cust = conv.get("customer") or {}
        people.add(name=cust.get("name"), handle=cust.get("username"), user_id=cust.get("id"), email=cust.get("email"))
    for m in _jsonl(world / "listening" / "mentions.jsonl"):
        a = m.get("author") or {}
        if a.get("author_type") == "customer":
            people.add(name=a.get("name"), handle=a.get("handle"), user_id=a.get("id"))
    for m in _jsonl(world / "x" / "mentions.jsonl"):
        a = (m.get("_meta") or {}).get("author") or {}
        people.add(name=a.get("name"), handle=a.get("username"), user_id=a.get("id"))
    for r in _jsonl(world / "survey" / "responses.jsonl"):
        # none in this world; a respondent's contact fields, were the generator to add them
        people.add(name=r.get("name"), email=r.get("email"))
    return people


_TEXT_TYPES = ("VARCHAR", "JSON")
_NUMBER_TYPES = ("BIGINT", "HUGEINT", "INTEGER", "UBIGINT", "DECIMAL")


def _columns(con, schemas: Iterable[str]) -> list[tuple[str, str, str, str]]:
    marks = ", ".join("?" for _ in schemas)
    return con.execute(
        f"""
        select table_schema, table_name, column_name, data_type
        from information_schema.columns
        where table_schema in ({marks})
        order by 1, 2, ordinal_position""",
        list(schemas),
    ).fetchall()


def scan(con, people: People, schemas: Iterable[str], allowed: dict[tuple[str, str], str]) -> list[str]:
    """Every column of every relation in `schemas` that holds a person: one line each. Each
    relation is read once (a staging view is computed once, not once per column)."""
    wanted: dict[tuple[str, str], list[tuple[str, bool]]] = {}
    for schema, table, column, dtype in _columns(con, schemas):
        if schema == "staging" and (table, column) in allowed:
            continue
        kind = dtype.upper()
        is_text = kind.startswith(_TEXT_TYPES) or kind.endswith("[]") or kind.startswith(("STRUCT", "MAP"))
        if is_text or kind.startswith(_NUMBER_TYPES):
            wanted.setdefault((schema, table), []).append((column, is_text))
    leaks = []
    for (schema, table), columns in wanted.items():
        select = ", ".join(f'cast("{c}" as varchar)' for c, _ in columns)
        rows = con.execute(f'select distinct {select} from "{schema}"."{table}"').fetchall()
        for i, (column, is_text) in enumerate(columns):
            for value in {r[i] for r in rows} - {None}:
                what = (
                    people.found_in(value)
                    if is_text
                    else ("a private person's user id" if value in people.ids else None)
                )
                if what:
                    leaks.append(f"{schema}.{table}.{column}: {what} in {value[:120]!r}")
                    break
    return leaks


@pytest.fixture(scope="module")
def people(world) -> People:
    return world_people(world)


# -- the scanner itself ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "mail me at anna.meyer.51@example.net",
        "7999535648834791@facebook.com",
        "call +49 30 1234567",
        "+4915112345678",
        "(030) 1234 5678",
        "0171-1234567",
        "+1 (555) 123-4567",
        "555.123.4567",
        "+44 20 7946 0958",
        "0049 30 123456789",
    ],
)
def test_scanner_flags_emails_and_phone_numbers(value):
    assert {kind for kind, _ in People().findings(value)} & {"email", "phone"}


@pytest.mark.parametrize(
    "value",
    [
        "2026-06-01",
        "2026-06-01 10:00:00",
        "01.06.2026",
        "Order #LM-491667",
        "3-5 working days, €40",
        "1500000000000000001",
        "1220000010000007_1330000000000003",
        "104000000000001_1220000010000021",
        "20261205T205825308203Z-f26a8ce0",
        "5da6712083378bfa20d5ca937184ca930c66fa9fb9793d89e53c5d6b7209b562",
        "https://www.facebook.com/104000000000001/posts/1220000010000007/?comment_id=1330000000000003",
        "Hi Tom, we understand the concern.",
        "[email] and [phone]",
        "13817.01",
        "21142.691829001706",
        "'duration_ms': 21142.691829001706",
    ],
)
def test_scanner_leaves_dates_ids_hashes_and_redacted_text(value):
    assert People().found_in(value) is None


def test_the_world_has_people_to_look_for(people):
    assert len(people.names) > 100 and len(people.handles) > 100 and len(people.ids) > 100
    assert len(people.emails) > 100


def test_the_scanner_finds_the_worlds_people_in_raw(materialized, people):
    """The raw layer holds them all: a scan that finds each kind where the sources put it can
    be trusted when it finds none downstream."""
    expected = {
        "hubspot__contacts": {"email", "name"},
        "facebook__comments": {"name", "id"},
        "facebook__conversations": {"email", "name", "id"},
        "instagram__messages": {"handle", "id"},
        "listening__mentions": {"name", "handle", "id"},
        "x__mentions": {"id"},
    }
    with connect(materialized["warehouse"], read_only=True) as con:
        found = {}
        for table in expected:
            for (value,) in con.execute(f"select distinct cast(_record as varchar) from raw.{table}").fetchall():
                found.setdefault(table, set()).update(kind for kind, _ in people.findings(value))
    for table, kinds in expected.items():
        assert kinds <= found.get(table, set()), f"raw.{table}: the scan found {found.get(table)}, not {kinds}"


# -- the warehouse -----------------------------------------------------------------------------


def test_no_model_carries_a_person(materialized, people):
    with connect(materialized["warehouse"], read_only=True) as con:
        relations = con.execute("""
            select table_schema, count(*) from information_schema.tables
            where table_schema in ('staging', 'intermediate', 'marts') group by 1""").fetchall()
        leaks = scan(con, people, SCANNED_SCHEMAS, ALLOWED_FREE_TEXT)
    assert dict(relations).get("staging", 0) > 0, "no staging model in the session warehouse"
    assert not leaks, "personal data outside the allowed staging free text:\n" + "\n".join(leaks)


def test_the_allowed_free_text_columns_exist(materialized):
    """The allow-list names real columns (a renamed one would otherwise be scanned under its new
    name, or the list would rot silently)."""
    with connect(materialized["warehouse"], read_only=True) as con:
        present = {(t, c) for _, t, c, _ in _columns(con, ["staging"])}
    assert set(ALLOWED_FREE_TEXT) <= present, sorted(set(ALLOWED_FREE_TEXT) - present)
