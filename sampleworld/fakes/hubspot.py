"""A fake of HubSpot's CRM v3 objects/search and v4 associations APIs, in their real shapes.

- `GET /crm/v3/objects/{contacts|deals}?limit=&properties=&associations=&after=`: id order,
  `paging.next.after` and `paging.next.link` while more remain (limit at most 100).
- `GET /crm/v3/objects/{type}/{id}`: one record (404 when unknown).
- `POST /crm/v3/objects/{type}/search`: `filterGroups` (OR of ANDed filters; EQ, NEQ, GT, GTE,
  LT, LTE, BETWEEN, IN, NOT_IN, HAS_PROPERTY, NOT_HAS_PROPERTY; datetimes compared as epoch ms,
  given as ms or ISO), `sorts` (one), `properties`, `limit` (at most 200), `after`; the
  response `{"total","results","paging":{"next":{"after"}}}`. Paging to 10,000 results or
  beyond fails with 400, as the real API does. No rate-limit headers on search responses.
- `POST /crm/v3/objects/{type}/batch/read`: at most 100 inputs (the real 400 beyond).
- `GET /crm/v4/objects/{from}/{id}/associations/{to}`: `toObjectId` as a number, HUBSPOT_DEFINED
  type 3 (deal -> contact) or 4 (contact -> deal), `label: null`.
Deletions at the source, made by tests through `archive`, `merge` and `remove_association`, as
HubSpot makes them:
- an archived record leaves the list, search and batch read (GET by id: 404) and is listed by
  `GET /crm/v3/objects/{type}?archived=true` with `"archived": true` and `archivedAt`; its
  associations are removed, which modifies the records on their other side;
- a merged-away contact leaves every listing, the archived one included; the surviving record
  is modified and names it in `hs_merged_object_ids` (HubSpot's `;`-separated list), takes
  its associations, and answers GET for the merged id;
- removing an association modifies both records (their association counts change).
Records are `{"id","properties":{...strings or null...},"createdAt","updatedAt","archived"}`;
properties asked for but without a value come back as null. Non-search responses carry the
`X-HubSpot-RateLimit-*` headers. A missing or bad token gets 401, a token without the
object's scope 403 MISSING_SCOPES, and the rate-limit fault the TEN_SECONDLY_ROLLING body.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import re
import threading
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from sampleworld.fakes.base import App, Request, Response

NAME = "hubspot"
DOMAINS = ("hubspot",)
DEFAULT_TOKEN = "sample-hubspot-token"
CONTACTS_ONLY_TOKEN = "sample-hubspot-token-contacts-only"
SEARCH_CAP = 10_000
TYPES = {
    "contacts": "contacts",
    "contact": "contacts",
    "0-1": "contacts",
    "deals": "deals",
    "deal": "deals",
    "0-3": "deals",
}
SCOPES = {"contacts": "crm.objects.contacts.read", "deals": "crm.objects.deals.read"}
DEFAULT_PROPERTIES = {
    "contacts": ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
    "deals": (
        "amount",
        "closedate",
        "createdate",
        "dealname",
        "dealstage",
        "hs_lastmodifieddate",
        "hs_object_id",
        "pipeline",
    ),
}
# Always returned, asked for or not.
ALWAYS = {
    "contacts": ("createdate", "hs_object_id", "lastmodifieddate"),
    "deals": ("createdate", "hs_lastmodifieddate", "hs_object_id"),
}
MODIFIED = {"contacts": "lastmodifieddate", "deals": "hs_lastmodifieddate"}
INDEXED = {"contacts": ("createdate", "lastmodifieddate"), "deals": ("createdate", "hs_lastmodifieddate", "closedate")}
NUMERIC = frozenset({"hs_object_id", "amount", "num_associated_deals"})
ASSOC_TYPE = {("contacts", "deals"): (4, "contact_to_deal"), ("deals", "contacts"): (3, "deal_to_contact")}


def _is_datetime(prop: str) -> bool:
    return (
        prop in ("createdate", "lastmodifieddate", "hs_lastmodifieddate", "closedate")
        or prop.startswith("hs_date_entered_")
        or (prop.startswith("hs_lifecyclestage_") and prop.endswith("_date"))
    )


def to_ms(value) -> int | None:
    """A HubSpot datetime (ISO with Z) or epoch ms (number or string) as epoch ms."""
    if value is None or value == "":
        return None
    s = str(value)
    if re.fullmatch(r"-?\d+", s):
        return int(s)
    return int(datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() * 1000)


class _BadRequest(Exception):
    pass


class _Store:
    """One object type's records as raw JSON lines (id order), with the timestamps windowed
    searches use indexed as epoch ms."""

    def __init__(self, path: Path, kind: str):
        self.kind = kind
        self.lines: list[str] = []
        self.ids: list[int] = []
        self.cols: dict[str, list[int | None]] = {p: [] for p in INDEXED[kind]}
        with open(path, encoding="utf-8") as f:
            for line in f:
                rec = json.loads(line)
                self.lines.append(line)
                self.ids.append(int(rec["id"]))
                for p, col in self.cols.items():
                    col.append(to_ms(rec["properties"].get(p)))
        self.pos = {i: n for n, i in enumerate(self.ids)}
        self._sorted: dict[str, tuple[list[int], list[int]]] = {}
        self.archived_at: dict[int, str] = {}  # position -> when it was archived (ISO)
        self.merged_into: dict[int, int] = {}  # position -> the id of the record it was merged into

    def live(self, n: int) -> bool:
        """Whether record n is served (neither archived nor merged away)."""
        return n not in self.archived_at and n not in self.merged_into

    def record(self, n: int) -> dict:
        return json.loads(self.lines[n])

    def replace(self, n: int, rec: dict) -> None:
        """Record n becomes `rec` (a modification made after the world was written)."""
        self.lines[n] = json.dumps(rec) + "\n"
        for p, col in self.cols.items():
            col[n] = to_ms(rec["properties"].get(p))
        self._sorted.clear()

    def sorted_by(self, prop: str) -> tuple[list[int], list[int]]:
        """An indexed timestamp's values in order, and the record each belongs to (records
        without the value left out): a range filter on it is a slice."""
        index = self._sorted.get(prop)
        if index is None:  # built on first use (two threads may both build it: the same lists)
            pairs = sorted((v, n) for n, v in enumerate(self.cols[prop]) if v is not None)
            index = self._sorted[prop] = ([v for v, _ in pairs], [n for _, n in pairs])
        return index

    def candidates(self, filters) -> list[int] | None:
        """The records a group of filters (all of which must hold) can match, narrowed by its
        range filters on an indexed timestamp (every filter is still tested on them); None
        when the group has no such filter."""
        bounds: dict[str, list[int]] = {}  # prop -> [lo, hi) positions in its sorted values
        for prop, op, val, high, _ in filters:
            if (
                prop not in self.cols
                or not isinstance(val, int)
                or op not in ("EQ", "GT", "GTE", "LT", "LTE", "BETWEEN")
            ):
                continue
            if op == "BETWEEN" and not isinstance(high, int):
                continue
            values, _ = self.sorted_by(prop)
            b = bounds.setdefault(prop, [0, len(values)])
            if op in ("EQ", "GT", "GTE", "BETWEEN"):
                b[0] = max(b[0], bisect.bisect_left(values, val))
            if op in ("EQ", "LT", "LTE", "BETWEEN"):
                b[1] = min(b[1], bisect.bisect_right(values, high if op == "BETWEEN" else val))
        if not bounds:
            return None
        prop, (lo, hi) = min(bounds.items(), key=lambda kv: kv[1][1] - kv[1][0])
        return self.sorted_by(prop)[1][lo : max(lo, hi)]


class HubSpotApp(App):
    name = "hubspot"

    def __init__(self, world_dir: Path, token: str = DEFAULT_TOKEN, search_cap: int = SEARCH_CAP):
        world_dir = Path(world_dir) / "hubspot"
        self.token = token
        self.tokens = {token: set(SCOPES.values()), CONTACTS_ONLY_TOKEN: {SCOPES["contacts"]}}
        self.search_cap = search_cap
        self.stores = {k: _Store(world_dir / f"{k}.jsonl", k) for k in ("contacts", "deals")}
        self.assoc: dict[tuple[str, str], dict[int, list[int]]] = {
            ("deals", "contacts"): defaultdict(list),
            ("contacts", "deals"): defaultdict(list),
        }
        with open(world_dir / "deal_contacts.jsonl", encoding="utf-8") as f:
            for line in f:
                a = json.loads(line)
                d, c = int(a["deal_id"]), int(a["contact_id"])
                self.assoc[("deals", "contacts")][d].append(c)
                self.assoc[("contacts", "deals")][c].append(d)
        self._lock = threading.Lock()
        self._search_cache: dict[str, list[int]] = {}
        self._requests = 0
        self._daily = 0
        self._window: list[float] = []
        self.calls: dict[str, int] = defaultdict(int)

    # --- the simulator's records ----------------------------------------------------------
    def current_records(self, kind: str) -> list[dict]:
        """Every record of a type with all its properties, as stored (the simulator's values)."""
        store = self.stores[kind]
        return [store.record(n) for n in range(len(store.ids))]

    def associations(self, from_kind: str, to_kind: str) -> dict[str, list[str]]:
        return {str(k): [str(x) for x in v] for k, v in sorted(self.assoc[(from_kind, to_kind)].items())}

    def live_records(self, kind: str) -> list[dict]:
        """The records the API serves now (archived and merged-away ones left out)."""
        store = self.stores[kind]
        return [store.record(n) for n in range(len(store.ids)) if store.live(n)]

    # --- deletions at the source (tests make them; see the module docstring) -------------------
    def _touch(self, kind: str, obj_id: int, at: str, **props) -> None:
        """Record `obj_id` modified at `at` (ISO, UTC): its modification date and `updatedAt` move."""
        store = self.stores[kind]
        n = store.pos[obj_id]
        rec = store.record(n)
        rec["properties"].update({MODIFIED[kind]: at, **props})
        rec["updatedAt"] = at
        store.replace(n, rec)

    def _unlink(self, kind: str, obj_id: int, at: str) -> None:
        """Remove every association of `obj_id`; the records on the other side are modified."""
        other = "deals" if kind == "contacts" else "contacts"
        for x in self.assoc[(kind, other)].pop(obj_id, []):
            linked = self.assoc[(other, kind)].get(x, [])
            if obj_id in linked:
                linked.remove(obj_id)
                self._touch(other, x, at)

    def archive(self, kind: str, obj_id: int | str, at: str) -> None:
        """Archive (delete) a record at `at`, as `DELETE /crm/v3/objects/{type}/{id}` does."""
        obj_id = int(obj_id)
        with self._lock:
            store = self.stores[kind]
            n = store.pos[obj_id]
            store.archived_at[n] = at
            self._unlink(kind, obj_id, at)
            self._search_cache.clear()

    def merge(self, primary: int | str, merged: int | str, at: str) -> None:
        """Merge contact `merged` into `primary` at `at` (`POST /crm/v3/objects/contacts/merge`)."""
        primary, merged = int(primary), int(merged)
        with self._lock:
            store = self.stores["contacts"]
            keep = store.record(store.pos[primary])["properties"].get("hs_merged_object_ids")
            ids = [i for i in (keep or "").split(";") if i] + [str(merged)]
            for d in self.assoc[("contacts", "deals")].pop(merged, []):
                linked = self.assoc[("deals", "contacts")][d]
                linked[:] = [c for c in linked if c != merged] + ([] if primary in linked else [primary])
                if d not in self.assoc[("contacts", "deals")][primary]:
                    self.assoc[("contacts", "deals")][primary].append(d)
                self._touch("deals", d, at)
            store.merged_into[store.pos[merged]] = primary
            self._touch("contacts", primary, at, hs_merged_object_ids=";".join(ids))
            self._search_cache.clear()

    def remove_association(self, deal_id: int | str, contact_id: int | str, at: str) -> None:
        """Remove the association of a deal and a contact at `at`; both records are modified."""
        deal_id, contact_id = int(deal_id), int(contact_id)
        with self._lock:
            self.assoc[("deals", "contacts")][deal_id].remove(contact_id)
            self.assoc[("contacts", "deals")][contact_id].remove(deal_id)
            self._touch("deals", deal_id, at)
            self._touch("contacts", contact_id, at)
            self._search_cache.clear()

    # --- HTTP -------------------------------------------------------------------------------
    def _cid(self) -> str:
        with self._lock:
            self._requests += 1
            n = self._requests
        return str(uuid.UUID(bytes=hashlib.md5(f"hubspot{n}".encode()).digest(), version=4))

    def _error(self, status: int, message: str, category: str, **extra) -> Response:
        return Response.json(
            status, {"status": "error", "message": message, "correlationId": self._cid(), **extra, "category": category}
        )

    def _rate_headers(self) -> dict[str, str]:
        now = time.time()
        with self._lock:
            self._window = [t for t in self._window if now - t < 10] + [now]
            in_window, in_second = len(self._window), sum(1 for t in self._window if now - t < 1)
            self._daily += 1
            total = self._daily
        return {
            "X-HubSpot-RateLimit-Daily": "500000",
            "X-HubSpot-RateLimit-Daily-Remaining": str(max(0, 500000 - total)),
            "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
            "X-HubSpot-RateLimit-Max": "190",
            "X-HubSpot-RateLimit-Remaining": str(max(0, 190 - in_window)),
            "X-HubSpot-RateLimit-Secondly": "19",
            "X-HubSpot-RateLimit-Secondly-Remaining": str(max(0, 19 - in_second)),
        }

    def handle(self, req: Request) -> Response:
        token = req.bearer()
        if not token:
            return self._error(
                401,
                "Authentication credentials not found. This API supports OAuth 2.0 "
                "authentication and you can find more details at "
                "https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                "INVALID_AUTHENTICATION",
            )
        if token not in self.tokens:
            return self._error(
                401,
                "The OAuth token used to make this call expired 2 hour(s) ago.",
                "EXPIRED_AUTHENTICATION",
                subCategory="EXPIRED_AUTHENTICATION",
            )
        m3 = re.fullmatch(r"/crm/v3/objects/([^/]+)(?:/([^/]+))?(/read)?", req.path)
        m4 = re.fullmatch(r"/crm/v4/objects/([^/]+)/(\d+)/associations/([^/]+)", req.path)
        mb = re.fullmatch(r"/crm/v4/associations/([^/]+)/([^/]+)/batch/read", req.path)
        kinds = [m3.group(1)] if m3 else [m4.group(1), m4.group(3)] if m4 else [mb.group(1), mb.group(2)] if mb else []
        if not kinds or any(k not in TYPES for k in kinds):
            return self._error(
                404, f"Unable to infer object type from: {kinds[0] if kinds else req.path}", "OBJECT_NOT_FOUND"
            )
        kinds = [TYPES[k] for k in kinds]
        missing = [SCOPES[k] for k in kinds if SCOPES[k] not in self.tokens[token]]
        if missing:
            return self._error(
                403,
                "This app hasn't been granted all required scopes to make this call. Read "
                "more about required scopes here: https://developers.hubspot.com/scopes.",
                "MISSING_SCOPES",
                errors=[
                    {
                        "message": "One or more of the following scopes are required.",
                        "context": {"requiredScopes": sorted(set(missing))},
                    }
                ],
                links={"scopes": "https://developers.hubspot.com/scopes"},
            )
        try:
            if mb and req.method == "POST":
                self.calls["associations_batch"] += 1
                return self._associations_batch(req, kinds[0], kinds[1])
            if m4:
                self.calls["associations"] += 1
                return self._associations(req, kinds[0], int(m4.group(2)), kinds[1])
            kind, sub = kinds[0], m3.group(2)
            if sub == "search" and req.method == "POST":
                self.calls[f"search_{kind}"] += 1
                return self._search(req, kind)
            if sub == "batch" and m3.group(3) and req.method == "POST":
                self.calls[f"batch_read_{kind}"] += 1
                return self._batch_read(req, kind)
            if m3.group(3) or (sub and req.method == "POST"):
                return self._error(405, "Method not allowed", "VALIDATION_ERROR")
            if req.method != "GET":
                return self._error(405, "Method not allowed", "VALIDATION_ERROR")
            if sub is None:
                self.calls[f"list_{kind}"] += 1
                return self._list(req, kind)
            self.calls[f"get_{kind}"] += 1
            return self._get(req, kind, sub)
        except _BadRequest as exc:
            return self._error(400, str(exc), "VALIDATION_ERROR")

    def _props(self, kind: str, requested: list[str] | None) -> list[str]:
        props = list(requested) if requested else list(DEFAULT_PROPERTIES[kind])
        return sorted(set(props) | set(ALWAYS[kind]))

    @staticmethod
    def _prop_list(raw) -> list[str]:
        if raw is None:
            return []
        if isinstance(raw, list):
            return [p for p in raw if p]
        return [p for p in str(raw).split(",") if p]

    def _view(self, kind: str, rec: dict, props: list[str], associations: list[str] = ()) -> dict:
        stored = rec["properties"]
        out = {
            "id": rec["id"],
            "properties": {p: stored.get(p) for p in props},
            "createdAt": rec["createdAt"],
            "updatedAt": rec["updatedAt"],
            "archived": rec["archived"],
        }
        at = self.stores[kind].archived_at.get(self.stores[kind].pos.get(int(rec["id"]), -1))
        if at is not None:
            out.update(archived=True, archivedAt=at)
        assoc = {}
        for to in associations:
            linked = self.assoc.get((kind, to), {}).get(int(rec["id"]))
            if linked:
                assoc[to] = {"results": [{"id": str(x), "type": ASSOC_TYPE[(kind, to)][1]} for x in linked]}
        if assoc:
            out["associations"] = assoc
        return out

    def _int(self, raw, default: int, name: str) -> int:
        try:
            return int(raw) if raw not in (None, "") else default
        except (TypeError, ValueError):
            raise _BadRequest(f"Invalid input JSON on line 1: {name} must be an integer") from None

    def _list(self, req: Request, kind: str) -> Response:
        store = self.stores[kind]
        limit = max(1, min(self._int(req.param("limit"), 10, "limit"), 100))
        props = self._props(kind, self._prop_list(req.param("properties")))
        associations = [TYPES[a] for a in self._prop_list(req.param("associations")) if a in TYPES]
        archived = req.param("archived", "false") == "true"
        # the records this listing serves, in id order: the live ones, or the archived ones
        listed = [n for n in range(len(store.ids)) if (n in store.archived_at if archived else store.live(n))]
        listed_ids = [store.ids[n] for n in listed]
        after = req.param("after")
        offset = 0
        if after:
            try:
                target = int(after)
            except ValueError:
                raise _BadRequest(f"Invalid after: {after}") from None
            offset = bisect.bisect_left(listed_ids, target)
        start, nxt = self.page_window(offset, limit)
        page = self.inject_bad(
            self.decorate(
                [
                    self._view(kind, store.record(n), props, associations)
                    for n in listed[start : min(start + limit, len(listed))]
                ]
            ),
            "id",
            "updatedAt",
        )
        body: dict = {"results": page}
        if nxt < len(listed):
            nxt_after = str(listed_ids[nxt])
            query = {"limit": limit, "after": nxt_after}
            if archived:
                query["archived"] = "true"
            if req.param("properties"):
                query["properties"] = req.param("properties")
            if req.param("associations"):
                query["associations"] = req.param("associations")
            body["paging"] = {
                "next": {"after": nxt_after, "link": f"{req.base_url}/crm/v3/objects/{kind}?{urlencode(query)}"}
            }
        return Response.json(200, body, self._rate_headers())

    def _get(self, req: Request, kind: str, obj_id: str) -> Response:
        store = self.stores[kind]
        n = store.pos.get(int(obj_id)) if obj_id.isdigit() else None
        if n is not None and n in store.merged_into:  # a merged id answers with the surviving record
            n = store.pos[store.merged_into[n]]
        if n is None or n in store.archived_at:
            return Response.json(
                404,
                {"status": "error", "message": "resource not found", "correlationId": self._cid()},
                self._rate_headers(),
            )
        props = self._props(kind, self._prop_list(req.param("properties")))
        associations = [TYPES[a] for a in self._prop_list(req.param("associations")) if a in TYPES]
        return Response.json(
            200, self.decorate([self._view(kind, store.record(n), props, associations)])[0], self._rate_headers()
        )

    def _batch_read(self, req: Request, kind: str) -> Response:
        body = self._json(req)
        inputs = body.get("inputs") or []
        if len(inputs) > 100:
            raise _BadRequest(
                "The maximum number of inputs supported in a batch is 100. Please reduce the number "
                "of items and try again"
            )
        store = self.stores[kind]
        props = self._props(kind, self._prop_list(body.get("properties")))
        results = [
            self._view(kind, store.record(store.pos[int(i["id"])]), props)
            for i in inputs
            if str(i.get("id", "")).isdigit() and int(i["id"]) in store.pos and store.live(store.pos[int(i["id"])])
        ]
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        return Response.json(
            200,
            {"status": "COMPLETE", "results": self.decorate(results), "startedAt": now, "completedAt": now},
            self._rate_headers(),
        )

    @staticmethod
    def _json(req: Request) -> dict:
        try:
            body = json.loads(req.body or b"{}")
        except ValueError:
            raise _BadRequest("Invalid input JSON on line 1, column 1: Cannot build request body") from None
        if not isinstance(body, dict):
            raise _BadRequest("Invalid input JSON: expected an object")
        return body

    # --- search ----------------------------------------------------------------------------
    def _search(self, req: Request, kind: str) -> Response:
        body = self._json(req)
        limit = self._int(body.get("limit"), 10, "limit")
        if limit > 200 or limit < 1:
            raise _BadRequest(f"limit must be between 1 and 200 (was {limit})")
        offset = self._int(body.get("after"), 0, "after")
        if offset >= self.search_cap:
            # the real API refuses to page past its 10,000-result window
            raise _BadRequest("There was a problem with the request.")
        groups = body.get("filterGroups") or []
        sorts = body.get("sorts") or []
        if len(groups) > 5 or any(len(g.get("filters") or []) > 6 for g in groups):
            raise _BadRequest("Search requests are limited to 5 filterGroups with at most 6 filters each.")
        if len(sorts) > 1:
            raise _BadRequest("Only one sort is supported.")
        key = json.dumps([kind, groups, sorts, body.get("query")], sort_keys=True)
        with self._lock:
            hits = self._search_cache.get(key)
        if hits is None:
            hits = self._matching(kind, groups, sorts, body.get("query"))
            with self._lock:
                if len(self._search_cache) > 256:
                    self._search_cache.clear()
                self._search_cache[key] = hits
        start, nxt = self.page_window(offset, limit)
        end = min(start + limit, len(hits), self.search_cap)
        store = self.stores[kind]
        props = self._props(kind, self._prop_list(body.get("properties")))
        page = self.inject_bad(
            self.decorate([self._view(kind, store.record(n), props) for n in hits[start:end]]), "id", "updatedAt"
        )
        out: dict = {"total": len(hits), "results": page}
        if nxt < len(hits):
            out["paging"] = {"next": {"after": str(nxt)}}
        return Response.json(200, out)  # search responses carry no rate-limit headers

    def _value(self, store: _Store, n: int, prop: str, rec_cache: dict):
        """A record's property as a comparable value: epoch ms for datetimes, numbers for
        numeric properties, else the string (None when it has no value)."""
        if prop == "hs_object_id":
            return store.ids[n]
        if prop in store.cols:
            return store.cols[prop][n]
        rec = rec_cache.get(n)
        if rec is None:
            rec = rec_cache.setdefault(n, store.record(n))
        v = rec["properties"].get(prop)
        return self._typed(prop, v)

    @staticmethod
    def _typed(prop: str, v):
        if v is None or v == "":
            return None
        if _is_datetime(prop):
            return to_ms(v)
        if prop in NUMERIC:
            try:
                return float(v)
            except ValueError:
                return None
        return str(v).casefold()

    def _matching(self, kind: str, groups: list[dict], sorts: list[dict], query) -> list[int]:
        store = self.stores[kind]
        rec_cache: dict[int, dict] = {}
        compiled = []
        for g in groups:
            fs = []
            for f in g.get("filters") or []:
                prop, op = f.get("propertyName"), f.get("operator", "EQ")
                if not prop:
                    raise _BadRequest("filters require a propertyName")
                val = self._typed(prop, f.get("value")) if "value" in f else None
                high = self._typed(prop, f.get("highValue")) if "highValue" in f else None
                values = [self._typed(prop, v) for v in f.get("values") or []]
                fs.append((prop, op, val, high, values))
            compiled.append(fs)
        # the records to test: all, unless every group has a range filter on an indexed timestamp
        narrowed = [store.candidates(fs) for fs in compiled]
        if compiled and all(c is not None for c in narrowed):
            scan = sorted(set().union(*narrowed))
        else:
            scan = range(len(store.ids))
        hits = []
        for n in scan:
            if not store.live(n):
                continue
            if compiled and not any(
                all(
                    self._test(self._value(store, n, p, rec_cache), op, val, high, values)
                    for p, op, val, high, values in fs
                )
                for fs in compiled
            ):
                continue
            if query:
                rec = rec_cache.get(n) or store.record(n)
                text = " ".join(
                    str(rec["properties"].get(p) or "") for p in ("email", "firstname", "lastname", "dealname")
                )
                if str(query).casefold() not in text.casefold():
                    continue
            hits.append(n)
        if sorts:
            prop = sorts[0].get("propertyName")
            desc = sorts[0].get("direction", "ASCENDING") == "DESCENDING"
            keyed = [(self._value(store, n, prop, rec_cache), n) for n in hits]
            present = sorted(
                (k for k in keyed if k[0] is not None), key=lambda k: (k[0], store.ids[k[1]]), reverse=desc
            )
            hits = [n for _, n in present] + [n for v, n in keyed if v is None]
        return hits

    @staticmethod
    def _test(v, op: str, val, high, values) -> bool:
        if op == "HAS_PROPERTY":
            return v is not None
        if op == "NOT_HAS_PROPERTY":
            return v is None
        if op == "IN":
            return v in values
        if op == "NOT_IN":
            return v not in values
        if op == "NEQ":
            return v != val
        if v is None:
            return False
        try:
            if op == "EQ":
                return v == val
            if op == "GT":
                return v > val
            if op == "GTE":
                return v >= val
            if op == "LT":
                return v < val
            if op == "LTE":
                return v <= val
            if op == "BETWEEN":
                return val <= v <= high
        except TypeError:
            return False
        raise _BadRequest(f"Unsupported operator: {op}")

    # --- v4 associations -----------------------------------------------------------------------
    def _associations_batch(self, req: Request, from_kind: str, to_kind: str) -> Response:
        """`POST /crm/v4/associations/{from}/{to}/batch/read`: up to 1,000 ids a call; ids that do
        not exist come back under `errors` (HTTP 207), the others under `results`."""
        try:
            inputs = [str(i["id"]) for i in json.loads(req.body or b"{}").get("inputs", [])]
        except (ValueError, KeyError, TypeError, AttributeError):
            raise _BadRequest('Invalid input JSON: expected {"inputs": [{"id": ...}]}') from None
        if len(inputs) > 1000:
            raise _BadRequest("The maximum number of inputs supported in a batch is 1000.")
        type_id = ASSOC_TYPE.get((from_kind, to_kind), (0, ""))[0]
        results, missing = [], []
        for raw in inputs:
            obj_id = int(raw) if raw.isdigit() else -1
            store = self.stores[from_kind]
            if obj_id not in store.pos or not store.live(store.pos[obj_id]):
                missing.append(raw)
                continue
            linked = self.assoc.get((from_kind, to_kind), {}).get(obj_id, [])
            results.append(
                {
                    "from": {"id": raw},
                    "to": self.decorate(
                        [
                            {
                                "toObjectId": x,
                                "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": type_id, "label": None}],
                            }
                            for x in linked
                        ]
                    ),
                }
            )
        body: dict = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": "2026-06-01T00:00:00.000Z",
            "completedAt": "2026-06-01T00:00:00.050Z",
        }
        if missing:
            body["numErrors"] = len(missing)
            body["errors"] = [
                {
                    "status": "error",
                    "category": "OBJECT_NOT_FOUND",
                    "message": f"No {from_kind[:-1]} with id {m}",
                    "context": {"fromObjectId": [m]},
                }
                for m in missing
            ]
        return Response.json(207 if missing else 200, body, self._rate_headers())

    def _associations(self, req: Request, from_kind: str, obj_id: int, to_kind: str) -> Response:
        store = self.stores[from_kind]
        if obj_id not in store.pos or not store.live(store.pos[obj_id]):
            return self._error(404, f"No {from_kind[:-1]} with id {obj_id}", "OBJECT_NOT_FOUND")
        linked = self.assoc.get((from_kind, to_kind), {}).get(obj_id, [])
        type_id = ASSOC_TYPE.get((from_kind, to_kind), (0, ""))[0]
        limit = max(1, min(self._int(req.param("limit"), 500, "limit"), 500))
        offset = self._int(req.param("after"), 0, "after")
        start, nxt = self.page_window(offset, limit)
        results = [
            {"toObjectId": x, "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": type_id, "label": None}]}
            for x in linked[start : start + limit]
        ]
        body: dict = {"results": self.decorate(results)}
        if nxt < len(linked):
            body["paging"] = {
                "next": {"after": str(nxt), "link": f"{req.base_url}{req.path}?after={nxt}&limit={limit}"}
            }
        return Response.json(200, body, self._rate_headers())

    # --- faults in HubSpot's words ----------------------------------------------------------------
    def server_error(self, status: int) -> Response:
        if status in (502, 503):
            text = {502: "502 Bad Gateway", 503: "503 Service Temporarily Unavailable"}[status]
            return Response(
                status,
                f"<html><head><title>{text}</title></head><body><center><h1>{text}</h1>"
                "</center><hr><center>cloudflare</center></body></html>".encode(),
                {"Content-Type": "text/html"},
            )
        return self._error(500, "internal error", "INTERNAL_ERROR")

    def rate_limited(self, retry_after_s: int) -> Response:
        return Response.json(
            429,
            {
                "status": "error",
                "message": "You have reached your ten_secondly_rolling limit.",
                "errorType": "RATE_LIMIT",
                "correlationId": self._cid(),
                "policyName": "TEN_SECONDLY_ROLLING",
            },
            {**self._rate_headers(), "X-HubSpot-RateLimit-Remaining": "0"},
        )


def make_app(world_dir: Path) -> HubSpotApp:
    return HubSpotApp(world_dir)


def env(url: str, app: HubSpotApp) -> dict[str, str]:
    return {"HUBSPOT_BASE_URL": url, "HUBSPOT_TOKEN": app.token}
