"""A fake of the YouTube Data API v3 and the YouTube Analytics API v2, in their real shapes.

Data API (`/youtube/v3/...`, `kind`/`etag`/`pageInfo`, paging with `pageToken` ->
`nextPageToken`/`prevPageToken`, counts written as strings):
- `GET /youtube/v3/channels?part=snippet,statistics,contentDetails&id=...|mine=true`
  (`subscriberCount` rounded to three significant figures, as the real API does since 2019)
- `GET /youtube/v3/playlistItems?part=snippet,contentDetails&playlistId=UU...&maxResults=`
  (the uploads playlist, newest first; 1 quota unit)
- `GET /youtube/v3/search?part=snippet&channelId=&type=video&order=date&publishedAfter=&publishedBefore=`
  (100 quota units a call, as the real API)
- `GET /youtube/v3/videos?part=snippet,statistics,contentDetails&id=a,b,...` (at most 50 ids)
Analytics API:
- `GET /v2/reports?ids=channel==MINE|channel==UC...&startDate=&endDate=&metrics=...&dimensions=
  day|video|day,video|ageGroup,gender|country&filters=video==ID&startIndex=&maxResults=`
  -> `{"kind":"youtubeAnalytics#resultTable","columnHeaders":[...],"rows":[[...]]}` (no `rows`
  when empty). Days within `restatement.WINDOWS["youtube"]` of `as_of` are provisional and
  move with `epoch`. An unknown metric or dimension is a 400.

Google error bodies throughout (`{"error":{"code","message","errors":[{"message","domain","reason"}],
"status"}}`): 401 authError, 403 quotaExceeded once `quota_limit` units are used (the
quota is per fake instance; `reset_quota()` starts a new day), 429 rateLimitExceeded for the
injected rate-limit fault.

The bad-record fault (`bad_record_rate`) adds one malformed row to the last page of an
Analytics report (a page shorter than `maxResults`, so `startIndex` paging skips nothing): a
positional row of full width with its key dimension `null` or its typed column unreadable
(see `REPORT_BAD_FIELDS`). Data API resources (channels, videos) get none: their typed fields
(`snippet.publishedAt`, `statistics.hiddenSubscriberCount`) are nested, so a copy with an
unreadable top-level field would not be rejected: it would load in place of the real record.
"""

from __future__ import annotations

import base64
import bisect
import json
import threading
from collections import defaultdict
from datetime import date
from pathlib import Path

from sampleworld import restatement
from sampleworld.fakes.base import App, Request, Response
from sampleworld.jsonl import read_jsonl

NAME = "youtube"
DOMAINS = ("youtube",)
TOKEN = "sample-youtube-oauth-token"
QUOTA_LIMIT = 10_000
VIDEO_METRICS = ("views", "likes", "comments", "estimatedMinutesWatched", "subscribersGained", "subscribersLost")
KNOWN_METRICS = frozenset(VIDEO_METRICS + ("viewerPercentage",))
INTEGER_METRICS = frozenset(VIDEO_METRICS)
DIMENSION_SETS = {
    ("day",),
    ("video",),
    ("day", "video"),
    ("ageGroup", "gender"),
    ("ageGroup",),
    ("gender",),
    ("country",),
    (),
}
UNITS = {"channels": 1, "playlistItems": 1, "videos": 1, "search": 100}
# Bad-record fault on report rows, by dimensions: (the key column left empty, the typed column
# made unreadable). Other dimension sets: the first dimension and the first metric.
REPORT_BAD_FIELDS = {
    ("day", "video"): ("video", "day"),
    ("day",): ("day", "day"),
    ("ageGroup", "gender"): ("ageGroup", "viewerPercentage"),
}


def google_error(
    code: int, message: str, reason: str, domain: str = "global", status: str | None = None, **extra
) -> Response:
    err = {
        "code": code,
        "message": message,
        "errors": [{"message": message, "domain": domain, "reason": reason, **extra}],
    }
    if status:
        err["status"] = status
    return Response.json(code, {"error": err})


def _etag(*parts) -> str:
    import hashlib

    return (
        base64.urlsafe_b64encode(hashlib.sha256(":".join(map(str, parts)).encode()).digest()[:20]).decode().rstrip("=")
    )


def _page_token(offset: int) -> str:
    return "CA" + base64.urlsafe_b64encode(f"o{offset}".encode()).decode().rstrip("=")


def _page_offset(token: str) -> int | None:
    try:
        raw = base64.urlsafe_b64decode(token[2:] + "=" * (-len(token[2:]) % 4)).decode()
        return int(raw[1:]) if token.startswith("CA") and raw.startswith("o") else None
    except Exception:  # noqa: BLE001
        return None


def three_significant(n: int) -> int:
    if n < 1000:
        return n
    digits = len(str(n)) - 3
    return (n // 10**digits) * 10**digits


class YouTubeApp(App):
    name = "youtube"

    def __init__(self, world_dir: Path, token: str = TOKEN, quota_limit: int = QUOTA_LIMIT):
        world_dir = Path(world_dir) / "youtube"
        self.token = token
        self.quota_limit = quota_limit
        self.quota_used = 0
        truths = json.loads((world_dir.parent / "truths.json").read_text())
        self.as_of = date.fromisoformat(truths["spec"]["as_of"])
        self.channels = json.loads((world_dir / "channels.json").read_text())
        self.channel_by_id = {c["id"]: c for c in self.channels}
        self.demographics = {d["channel_id"]: d for d in json.loads((world_dir / "demographics.json").read_text())}
        self.videos = sorted(
            (v for v in read_jsonl(world_dir / "videos.jsonl")),
            key=lambda v: (v["snippet"]["publishedAt"], v["id"]),
            reverse=True,
        )
        self.video_by_id = {v["id"]: v for v in self.videos}
        self.uploads = {"UU" + c["id"][2:]: c["id"] for c in self.channels}
        self.video_days: dict[str, list[dict]] = defaultdict(list)  # channel -> rows by (day, video)
        for r in read_jsonl(world_dir / "video_daily.jsonl"):
            self.video_days[r["channel_id"]].append(r)
        for rows in self.video_days.values():
            rows.sort(key=lambda r: (r["date"], r["video_id"]))
        # each channel's row dates, in the rows' order: a report's days are a slice (bisect)
        self.video_dates = {c: [r["date"] for r in rows] for c, rows in self.video_days.items()}
        self.channel_days = defaultdict(list)
        for r in read_jsonl(world_dir / "channel_daily.jsonl"):
            self.channel_days[r["channel_id"]].append(r)
        self._lock = threading.Lock()

    # -- what the fake serves now ------------------------------------------------------------
    def restated_row(self, row: dict) -> dict:
        day = date.fromisoformat(row["date"])
        win = restatement.WINDOWS["youtube"]
        if (self.as_of - day).days >= win:
            return row
        return {
            **row,
            **{
                m: restatement.restated_int(row[m], day, self.as_of, win, self.epoch, row["video_id"] + m)
                for m in VIDEO_METRICS
            },
        }

    def current_rows(
        self,
        channel_id: str,
        start: str,
        end: str,
        dimensions: tuple[str, ...],
        metrics: tuple[str, ...],
        video: str | None = None,
    ) -> list[list]:
        """The report rows the Analytics API serves now (before paging)."""
        dates = self.video_dates.get(channel_id, [])
        days = self.video_days.get(channel_id, [])[bisect.bisect_left(dates, start) : bisect.bisect_right(dates, end)]
        rows = [self.restated_row(r) for r in days if video is None or r["video_id"] == video]
        if dimensions == ("day", "video"):
            return [[r["date"], r["video_id"], *[r[m] for m in metrics]] for r in rows]
        if dimensions in (("day",), ("video",), ()):
            agg: dict[tuple, dict] = {}
            for r in rows:
                key = tuple(r["date" if d == "day" else "video_id"] for d in dimensions)
                a = agg.setdefault(key, {m: 0 for m in metrics})
                for m in metrics:
                    a[m] += r[m]
            return [[*k, *[v[m] for m in metrics]] for k, v in sorted(agg.items())]
        demo = self.demographics[channel_id]
        if dimensions == ("country",):
            total = {m: sum(r[m] for r in rows) for m in metrics}
            return [[c, *[round(total[m] * s) for m in metrics]] for c, s in sorted(demo["country_share"].items())]
        cells = demo["age_gender"]
        if dimensions == ("ageGroup", "gender"):
            return [[a, g, p] for a, g, p in cells] if rows else []
        idx = 0 if dimensions == ("ageGroup",) else 1
        agg2: dict[str, float] = {}
        for c in cells:
            agg2[c[idx]] = round(agg2.get(c[idx], 0) + c[2], 1)
        return [[k, v] for k, v in sorted(agg2.items())] if rows else []

    def video_resource(self, v: dict, parts: set[str]) -> dict:
        out = {"kind": "youtube#video", "etag": _etag("video", v["id"], self.epoch), "id": v["id"]}
        for p in ("snippet", "contentDetails", "statistics"):
            if p in parts:
                out[p] = v[p]
        return out

    def channel_resource(self, c: dict, parts: set[str]) -> dict:
        out = {"kind": "youtube#channel", "etag": _etag("channel", c["id"]), "id": c["id"]}
        if "snippet" in parts:
            out["snippet"] = {
                "title": c["title"],
                "description": c["description"],
                "customUrl": c["customUrl"],
                "publishedAt": c["publishedAt"],
                "country": c["country"],
                "localized": {"title": c["title"], "description": c["description"]},
            }
        if "statistics" in parts:
            days = self.channel_days.get(c["id"], [])
            vids = [v for v in self.videos if v["snippet"]["channelId"] == c["id"]]
            out["statistics"] = {
                "viewCount": str(sum(int(v["statistics"]["viewCount"]) for v in vids)),
                "subscriberCount": str(three_significant(days[-1]["subscriberCount"] if days else 0)),
                "hiddenSubscriberCount": False,
                "videoCount": str(len(vids)),
            }
        if "contentDetails" in parts:
            out["contentDetails"] = {"relatedPlaylists": {"likes": "", "uploads": "UU" + c["id"][2:]}}
        return out

    # -- HTTP ---------------------------------------------------------------------------------
    def server_error(self, status: int) -> Response:
        msgs = {
            500: ("Internal error encountered.", "backendError", "INTERNAL"),
            502: ("Bad Gateway", "backendError", "UNAVAILABLE"),
            503: ("The service is currently unavailable.", "backendError", "UNAVAILABLE"),
        }
        msg, reason, st = msgs.get(status, msgs[503])
        return google_error(status, msg, reason, status=st)

    def rate_limited(self, retry_after_s: int) -> Response:
        r = google_error(
            429,
            "The request cannot be completed because you have exceeded your quota for this interval. Retry later.",
            "rateLimitExceeded",
            "youtube.quota",
            "RESOURCE_EXHAUSTED",
        )
        r.headers["Retry-After"] = str(retry_after_s)
        return r

    def _spend(self, units: int) -> Response | None:
        with self._lock:
            if self.quota_used + units > self.quota_limit:
                return google_error(
                    403,
                    "The request cannot be completed because you have exceeded your "
                    '<a href="/youtube/v3/getting-started#quota">quota</a>.',
                    "quotaExceeded",
                    "youtube.quota",
                )
            self.quota_used += units
        return None

    def handle(self, req: Request) -> Response:
        if req.bearer() != self.token:
            return google_error(
                401,
                "Request had invalid authentication credentials. Expected OAuth 2 access "
                "token, login cookie or other valid authentication credential. See "
                "https://developers.google.com/identity/sign-in/web/devconsole-project.",
                "authError",
                status="UNAUTHENTICATED",
                location="Authorization",
                locationType="header",
            )
        if req.path == "/v2/reports":
            return self._report(req)
        if req.path.startswith("/youtube/v3/"):
            resource = req.path.rsplit("/", 1)[1]
            if resource not in UNITS:
                return google_error(404, "Not Found", "notFound")
            err = self._spend(UNITS[resource])
            if err:
                return err
            return getattr(self, "_" + resource)(req)
        return google_error(404, "Not Found", "notFound")

    def _parts(self, req: Request, allowed: set[str]) -> tuple[set[str], Response | None]:
        parts = {p for p in (req.param("part") or "").split(",") if p}
        if not parts:
            return set(), google_error(
                400,
                "No filter selected. Expected one of: id, mine, ...",
                "missingRequiredParameter",
                "youtube.parameter",
                location="part",
                locationType="parameter",
            )
        bad = parts - allowed
        if bad:
            return set(), google_error(
                400, f"'{sorted(bad)[0]}'", "unknownPart", "youtube.part", location="part", locationType="parameter"
            )
        return parts, None

    def _paged(self, req: Request, items: list, kind: str, default: int = 5) -> dict:
        try:
            limit = max(0, min(50, int(req.param("maxResults", str(default)))))
        except ValueError:
            limit = default
        offset = _page_offset(req.param("pageToken")) if req.param("pageToken") else 0
        if offset is None:
            return {
                "_error": google_error(
                    400,
                    "The request specifies an invalid page token.",
                    "invalidPageToken",
                    "youtube.parameter",
                    location="pageToken",
                    locationType="parameter",
                )
            }
        start, nxt = self.page_window(offset, limit)
        body = {"kind": kind, "etag": _etag(kind, start, len(items))}
        if nxt < len(items) and limit:
            body["nextPageToken"] = _page_token(nxt)
        if start > 0:
            body["prevPageToken"] = _page_token(max(0, start - limit))
        body["pageInfo"] = {"totalResults": len(items), "resultsPerPage": limit}
        body["items"] = self.decorate(items[start : start + limit])
        return body

    def _channels(self, req: Request) -> Response:
        parts, err = self._parts(req, {"snippet", "statistics", "contentDetails", "id"})
        if err:
            return err
        if req.param("mine") == "true":
            chans = self.channels[:1]
        elif req.param("id"):
            chans = [self.channel_by_id[i] for i in req.param("id").split(",") if i in self.channel_by_id]
        else:
            return google_error(
                400,
                "No filter selected. Expected one of: forUsername, managedByMe, id, mine, "
                "forHandle, mySubscribers, categoryId, hl",
                "missingRequiredParameter",
                "youtube.parameter",
                location="parameters.",
                locationType="other",
            )
        items = [self.channel_resource(c, parts) for c in chans]
        return Response.json(
            200,
            {
                "kind": "youtube#channelListResponse",
                "etag": _etag("channels", len(items)),
                "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)},
                "items": items,
            },
        )

    def _playlistItems(self, req: Request) -> Response:
        parts, err = self._parts(req, {"snippet", "contentDetails", "id", "status"})
        if err:
            return err
        channel = self.uploads.get(req.param("playlistId") or "")
        if channel is None:
            return google_error(
                404,
                "The playlist identified with the request's <code>playlistId</code> parameter cannot be found.",
                "playlistNotFound",
                "youtube.playlistItem",
                location="playlistId",
                locationType="parameter",
            )
        vids = [v for v in self.videos if v["snippet"]["channelId"] == channel]
        items = []
        for pos, v in enumerate(vids):
            it = {
                "kind": "youtube#playlistItem",
                "etag": _etag("pli", v["id"]),
                "id": base64.urlsafe_b64encode(f"UU{channel}.{v['id']}".encode()).decode().rstrip("="),
            }
            if "snippet" in parts:
                s = v["snippet"]
                it["snippet"] = {
                    "publishedAt": s["publishedAt"],
                    "channelId": channel,
                    "title": s["title"],
                    "description": s["description"],
                    "channelTitle": s["channelTitle"],
                    "playlistId": req.param("playlistId"),
                    "position": pos,
                    "resourceId": {"kind": "youtube#video", "videoId": v["id"]},
                    "videoOwnerChannelTitle": s["channelTitle"],
                    "videoOwnerChannelId": channel,
                }
            if "contentDetails" in parts:
                it["contentDetails"] = {"videoId": v["id"], "videoPublishedAt": v["snippet"]["publishedAt"]}
            items.append(it)
        body = self._paged(req, items, "youtube#playlistItemListResponse")
        return body["_error"] if "_error" in body else Response.json(200, body)

    def _search(self, req: Request) -> Response:
        parts, err = self._parts(req, {"snippet", "id"})
        if err:
            return err
        if req.param("type", "video") != "video":
            return google_error(400, "this fake searches videos only", "invalidSearchFilter", "youtube.search")
        channel = req.param("channelId")
        after, before = req.param("publishedAfter"), req.param("publishedBefore")
        vids = [
            v
            for v in self.videos
            if (channel is None or v["snippet"]["channelId"] == channel)
            and (after is None or v["snippet"]["publishedAt"] >= after.replace(".000Z", "Z"))
            and (before is None or v["snippet"]["publishedAt"] < before.replace(".000Z", "Z"))
        ]
        if req.param("order", "relevance") not in ("date", "relevance"):
            return google_error(400, "Invalid value for order", "invalidParameter", "youtube.parameter")
        items = []
        for v in vids:
            it = {
                "kind": "youtube#searchResult",
                "etag": _etag("sr", v["id"]),
                "id": {"kind": "youtube#video", "videoId": v["id"]},
            }
            if "snippet" in parts:
                s = v["snippet"]
                it["snippet"] = {
                    "publishedAt": s["publishedAt"],
                    "channelId": s["channelId"],
                    "title": s["title"],
                    "description": s["description"][:160],
                    "channelTitle": s["channelTitle"],
                    "liveBroadcastContent": "none",
                    "publishTime": s["publishedAt"],
                }
            items.append(it)
        body = self._paged(req, items, "youtube#searchListResponse")
        if "_error" in body:
            return body["_error"]
        body["regionCode"] = "DE"
        return Response.json(200, body)

    def _videos(self, req: Request) -> Response:
        parts, err = self._parts(req, {"snippet", "statistics", "contentDetails", "id"})
        if err:
            return err
        ids = [i for i in (req.param("id") or "").split(",") if i]
        if len(ids) > 50:
            return google_error(
                400, "The request specifies an invalid filter parameter.", "invalidFilters", "youtube.parameter"
            )
        items = [self.video_resource(self.video_by_id[i], parts) for i in ids if i in self.video_by_id]
        return Response.json(
            200,
            {
                "kind": "youtube#videoListResponse",
                "etag": _etag("videos", *ids),
                "items": self.decorate(items),
                "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)},
            },
        )

    def _report(self, req: Request) -> Response:
        def bad(message: str) -> Response:
            return google_error(400, message, "badRequest")

        ids = req.param("ids") or ""
        if not ids.startswith("channel=="):
            return bad("Required parameter: ids")
        channel = ids[len("channel==") :]
        channel = self.channels[0]["id"] if channel == "MINE" else channel
        if channel not in self.channel_by_id:
            return google_error(403, "Forbidden", "forbidden")
        start, end = req.param("startDate"), req.param("endDate")
        if not start or not end:
            return bad(f"Required parameter: {'startDate' if not start else 'endDate'}")
        metrics = tuple(m for m in (req.param("metrics") or "").split(",") if m)
        if not metrics:
            return bad("Required parameter: metrics")
        for m in metrics:
            if m not in KNOWN_METRICS or m in self.faults.retired_metrics:
                return bad(f"Unknown identifier ({m}) given in field parameters.metrics.")
        dims = tuple(d for d in (req.param("dimensions") or "").split(",") if d)
        if dims not in DIMENSION_SETS:
            for d in dims:
                if d not in ("day", "video", "ageGroup", "gender", "country"):
                    return bad(f"Unknown identifier ({d}) given in field parameters.dimensions.")
            return bad(
                "The query is not supported. Check the documentation at "
                "https://developers.google.com/youtube/analytics/v2/available_reports for a list of supported queries."
            )
        if ("viewerPercentage" in metrics) != (dims[:1] in (("ageGroup",), ("gender",))) or (
            dims[:1] in (("ageGroup",), ("gender",)) and metrics != ("viewerPercentage",)
        ):
            return bad(
                "The query is not supported. Check the documentation at "
                "https://developers.google.com/youtube/analytics/v2/available_reports for a list of supported queries."
            )
        filters = req.param("filters") or ""
        video = filters[len("video==") :] if filters.startswith("video==") else None
        if self.restate_on_pull and req.param("startIndex", "1") == "1":
            self.restate()
        rows = self.current_rows(channel, start, end, dims, metrics, video)
        try:
            start_index = int(req.param("startIndex", "1"))
            limit = int(req.param("maxResults", "10000"))
        except ValueError:
            return bad("Invalid value for startIndex or maxResults")
        first, _ = self.page_window(start_index - 1, limit)
        page = rows[first : first + limit]
        headers = [{"name": d, "columnType": "DIMENSION", "dataType": "STRING"} for d in dims] + [
            {"name": m, "columnType": "METRIC", "dataType": "INTEGER" if m in INTEGER_METRICS else "FLOAT"}
            for m in metrics
        ]
        body = {"kind": "youtubeAnalytics#resultTable", "columnHeaders": headers}
        if page and len(page) < limit:
            page = self._inject_bad_row(page, [h["name"] for h in headers], dims, metrics)
        if page:
            body["rows"] = page
        return Response.json(200, body)

    def _inject_bad_row(
        self, page: list[list], names: list[str], dims: tuple[str, ...], metrics: tuple[str, ...]
    ) -> list[list]:
        """The bad-record fault on positional report rows, at the level a client turns into
        records: the rows are named by their headers, `inject_bad` adds one malformed copy (its
        key dimension left empty, or its typed column unreadable), and the copy goes back as a
        positional row of full width (a missing value is `null`; a shorter row would fail the
        whole report, not one record). `injected_bad` holds the copy as a client names it.

        Only a page with room to spare (shorter than `maxResults`, the last one) gets one: a
        client moves `startIndex` on by the rows it received, so an extra row on a full page
        would make it skip a real row."""
        key, typed = REPORT_BAD_FIELDS.get(dims, (dims[0] if dims else None, metrics[0]))
        if key is None:
            return page  # no dimension: nothing keys the rows
        records = [dict(zip(names, row)) for row in page]
        with self._lock:
            before = len(getattr(self, "injected_bad", ()))
            records = self.inject_bad(records, key, typed)
            if len(getattr(self, "injected_bad", ())) == before:
                return page
            bad = {n: records[-1].get(n) for n in names}
            self.injected_bad[-1] = bad
        return [*page, [bad[n] for n in names]]


def make_app(world_dir: Path) -> YouTubeApp:
    return YouTubeApp(world_dir)


def env(url: str, app: YouTubeApp) -> dict[str, str]:
    return {
        "YOUTUBE_BASE_URL": url,
        "YOUTUBE_ANALYTICS_BASE_URL": url,
        "YOUTUBE_ACCESS_TOKEN": app.token,
        "YOUTUBE_CHANNEL_IDS": ",".join(c["id"] for c in app.channels),
    }
