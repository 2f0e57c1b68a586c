"""The YouTube, listening and survey fakes, walked with plain `requests`: every page of every
endpoint gives exactly the simulator's records as served now, with faults off and on; bad
tokens, quota, unknown metrics and restatement."""

from __future__ import annotations

import json
from datetime import date

import pytest
import requests
from conftest import TEST_SPEC
from test_fake_x import Client

from sampleworld.fakes.base import EXTRA_FIELD, FakeServer, FaultConfig
from sampleworld.fakes.listening import TOKEN as LISTENING_TOKEN
from sampleworld.fakes.listening import ListeningApp
from sampleworld.fakes.survey import TOKEN as SURVEY_TOKEN
from sampleworld.fakes.survey import SurveyApp
from sampleworld.fakes.youtube import TOKEN as YT_TOKEN
from sampleworld.fakes.youtube import VIDEO_METRICS, YouTubeApp

FAULTS = FaultConfig(
    error_rate=0.1,
    rate_limit_rate=0.06,
    retry_after_s=0,
    truncate_rate=0.06,
    repeat_page_rate=0.15,
    extra_field_rate=0.1,
    seed=23,
)
START, END = TEST_SPEC.start.isoformat(), TEST_SPEC.end.isoformat()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(params=["faults_off", "faults_on"])
def faults(request):
    return FAULTS if request.param == "faults_on" else FaultConfig.off()


# -- YouTube ---------------------------------------------------------------------------------


def test_youtube_every_video_and_report_row(world, faults):
    app = YouTubeApp(world)
    with FakeServer(app, faults) as srv:
        c = Client(srv.url, bearer(YT_TOKEN))
        chans = c.get(
            "/youtube/v3/channels",
            {"part": "snippet,statistics,contentDetails", "id": ",".join(ch["id"] for ch in app.channels)},
        ).json()
        assert [i["id"] for i in chans["items"]] == [ch["id"] for ch in app.channels]
        for ch in chans["items"]:
            stats = ch["statistics"]
            assert all(isinstance(stats[k], str) for k in ("viewCount", "subscriberCount", "videoCount"))
            uploads = ch["contentDetails"]["relatedPlaylists"]["uploads"]
            items, _ = c.walk(
                "/youtube/v3/playlistItems",
                {"part": "snippet,contentDetails", "playlistId": uploads, "maxResults": 1},
                "pageToken",
                next_key=lambda b: b.get("nextPageToken"),
                items_key="items",
            )
            ids = [i["contentDetails"]["videoId"] for i in items]
            want = [v["id"] for v in app.videos if v["snippet"]["channelId"] == ch["id"]]
            assert ids == want and len(ids) >= 2
            found, _ = c.walk(
                "/youtube/v3/search",
                {"part": "snippet", "channelId": ch["id"], "type": "video", "order": "date", "maxResults": 1},
                "pageToken",
                next_key=lambda b: b.get("nextPageToken"),
                items_key="items",
                id_key=lambda r: r["id"]["videoId"],
            )
            assert [f["id"]["videoId"] for f in found] == want
            vids = c.get(
                "/youtube/v3/videos", {"part": "snippet,statistics,contentDetails", "id": ",".join(ids)}
            ).json()
            got = [{k: v for k, v in i.items() if k != EXTRA_FIELD} for i in vids["items"]]
            assert got == [
                app.video_resource(app.video_by_id[i], {"snippet", "statistics", "contentDetails"}) for i in ids
            ]
            assert all(isinstance(v, str) for i in got for v in i["statistics"].values())
            assert "utm_source=youtube&utm_medium=social" in got[0]["snippet"]["description"]
            # Analytics: day x video rows, paged by startIndex
            metrics = ",".join(VIDEO_METRICS)
            rows, page = [], 1
            seen = set()
            while True:
                body = c.get(
                    "/v2/reports",
                    {
                        "ids": f"channel=={ch['id']}",
                        "startDate": START,
                        "endDate": END,
                        "metrics": metrics,
                        "dimensions": "day,video",
                        "maxResults": 4,
                        "startIndex": page,
                    },
                ).json()
                assert body["kind"] == "youtubeAnalytics#resultTable"
                assert [h["name"] for h in body["columnHeaders"]] == ["day", "video", *VIDEO_METRICS]
                for r in body.get("rows", []):
                    if (r[0], r[1]) not in seen:
                        seen.add((r[0], r[1]))
                        rows.append(r)
                if len(body.get("rows", [])) < 4:
                    break
                page += 4
            assert rows == app.current_rows(ch["id"], START, END, ("day", "video"), tuple(VIDEO_METRICS))
            daily = c.get(
                "/v2/reports",
                {
                    "ids": "channel==MINE",
                    "startDate": START,
                    "endDate": END,
                    "metrics": "views,subscribersGained",
                    "dimensions": "day",
                },
            ).json()["rows"]
            assert sum(r[1] for r in daily) == sum(r[2] for r in rows)
            demo = c.get(
                "/v2/reports",
                {
                    "ids": "channel==MINE",
                    "startDate": START,
                    "endDate": END,
                    "metrics": "viewerPercentage",
                    "dimensions": "ageGroup,gender",
                },
            ).json()
            assert abs(sum(r[2] for r in demo["rows"]) - 100) < 1.5
            break  # scale 1: one channel


def test_youtube_errors_quota_and_restatement(world):
    app = YouTubeApp(world, quota_limit=150)
    with FakeServer(app) as srv:
        r = requests.get(
            srv.url + "/youtube/v3/channels", params={"part": "snippet", "mine": "true"}, headers=bearer("wrong")
        )
        assert r.status_code == 401 and r.json()["error"]["errors"][0]["reason"] == "authError"
        r = requests.get(
            srv.url + "/v2/reports",
            headers=bearer(YT_TOKEN),
            params={
                "ids": "channel==MINE",
                "startDate": START,
                "endDate": END,
                "metrics": "views,bogus",
                "dimensions": "day",
            },
        )
        assert r.status_code == 400 and "bogus" in r.json()["error"]["message"]
        ok = requests.get(
            srv.url + "/youtube/v3/search",
            headers=bearer(YT_TOKEN),
            params={"part": "snippet", "channelId": app.channels[0]["id"], "type": "video"},
        )
        assert ok.status_code == 200 and app.quota_used == 100
        r = requests.get(
            srv.url + "/youtube/v3/search",
            headers=bearer(YT_TOKEN),
            params={"part": "snippet", "channelId": app.channels[0]["id"], "type": "video"},
        )
        assert r.status_code == 403
        assert r.json()["error"]["errors"][0] == {
            "message": r.json()["error"]["message"],
            "domain": "youtube.quota",
            "reason": "quotaExceeded",
        }
    ch = app.channels[0]["id"]
    dims, metrics = ("day", "video"), tuple(VIDEO_METRICS)
    before = app.current_rows(ch, START, END, dims, metrics)
    app.restate()
    after = app.current_rows(ch, START, END, dims, metrics)
    recent = [i for i, r in enumerate(before) if (app.as_of - date.fromisoformat(r[0])).days < 3 and r[2] > 30]
    old = [i for i, r in enumerate(before) if (app.as_of - date.fromisoformat(r[0])).days >= 3]
    assert recent and old
    assert any(before[i] != after[i] for i in recent)
    assert all(before[i] == after[i] for i in old)


# -- listening -------------------------------------------------------------------------------


def test_listening_every_mention_exactly_once(world, faults):
    app = ListeningApp(world)
    with FakeServer(app, faults) as srv:
        c = Client(srv.url, bearer(LISTENING_TOKEN))
        queries = c.get("/api/v1/queries").json()["results"]
        assert [q["type"] for q in queries] == ["brand", "competitor", "competitor", "competitor"]
        totals = {}
        for q in queries:
            got, bodies = c.walk(
                "/api/v1/mentions",
                {"query_id": q["id"], "start": START, "end": "2026-06-05", "limit": 200},
                "cursor",
                next_key=lambda b: b.get("nextCursor"),
                items_key="results",
            )
            want = app.current_mentions(q["id"], START, "2026-06-05")
            assert got == want and len(bodies) > 2
            assert bodies[0]["resultsTotal"] == len(want)
            assert all("sentiment" not in m and "true_sentiment" not in m for m in got)
            totals[q["entity"]] = len(got)
        assert len(set(totals.values())) == 4  # every competitor a different share of voice
    truths = json.loads((world / "truths.json").read_text())["listening"]
    counts = {k: v["mentions"] for k, v in truths["per_query"].items()}
    assert sorted(counts, key=counts.get) == ["kintsu", "solenne", "lumora", "brightwave"]


def test_listening_authors_links_and_errors(world):
    app = ListeningApp(world)
    brand = app.current_mentions("q_lumora", START, "2026-06-08")
    types = {m["author"]["author_type"] for m in brand}
    assert {"customer", "influencer", "employee", "media"} <= types
    sponsored = [m for m in brand if m["author"]["author_type"] == "influencer" and m.get("links")]
    assert sponsored and all(
        "utm_medium=influencer" in m["links"][0] and f"utm_content={m['author']['handle']}" in m["links"][0]
        for m in sponsored
    )
    advocacy = [m for m in brand if m["author"]["author_type"] == "employee"]
    assert advocacy and all("utm_campaign=employee_advocacy" in m["links"][0] for m in advocacy)
    with FakeServer(app) as srv:
        r = requests.get(srv.url + "/api/v1/mentions", headers=bearer("bad"), params={"query_id": "q_lumora"})
        assert r.status_code == 401 and r.json()["errors"][0]["code"] == 401
        r = requests.get(
            srv.url + "/api/v1/mentions",
            headers=bearer(LISTENING_TOKEN),
            params={"query_id": "q_nobody", "start": START, "end": END},
        )
        assert r.status_code == 404
    with FakeServer(app, FaultConfig(rate_limit_rate=1.0, retry_after_s=7)) as srv:
        r = requests.get(srv.url + "/api/v1/queries", headers=bearer(LISTENING_TOKEN))
        assert r.status_code == 429 and r.headers["Retry-After"] == "7"


def test_listening_crisis_and_hidden_sentiment(world):
    truths = json.loads((world / "truths.json").read_text())
    crisis = truths["planted"]["crisis"]
    labels = (world / "listening" / "true_sentiment.csv").read_text().splitlines()
    neg = {}
    for line in labels[1:]:
        mid, qid, sentiment, _intent, _author, day = line.split(",")
        if qid == "q_lumora" and sentiment == "negative":
            neg[day] = neg.get(day, 0) + 1
    assert neg == {d: n for d, n in truths["listening"]["negative_brand_mentions_daily"].items() if n}
    base = neg[TEST_SPEC.start.isoformat()]
    assert neg[crisis["peak"]] > 6 * base


# -- survey ----------------------------------------------------------------------------------


def test_survey_every_response_exactly_once(world, faults):
    app = SurveyApp(world)
    with FakeServer(app, faults) as srv:
        c = Client(srv.url, bearer(SURVEY_TOKEN))
        form = c.get(f"/forms/{app.form['id']}").json()
        got, bodies = c.walk(
            f"/forms/{form['id']}/responses",
            {"page_size": 40},
            "before",
            next_key=lambda b: b["items"][-1]["token"] if b.get("items") else None,
            items_key="items",
            id_key="token",
        )
        assert got == app.current_items() and len(bodies) > 3
        assert bodies[0]["total_items"] == len(got) and bodies[0]["page_count"] == -(-len(got) // 40)
        since, until = "2026-06-03T00:00:00Z", "2026-06-04T23:59:59Z"
        part, _ = c.walk(
            f"/forms/{form['id']}/responses",
            {"page_size": 25, "since": since, "until": until},
            "before",
            next_key=lambda b: b["items"][-1]["token"] if b.get("items") else None,
            items_key="items",
            id_key="token",
        )
        assert part == app.current_items(since, until) and all(since <= i["submitted_at"] <= until for i in part)
    first = got[0]
    assert first["answers"][0]["field"]["ref"] == "csat_score" and 1 <= first["answers"][0]["number"] <= 5
    assert set(first["hidden"]) == {"channel", "platform", "ticket_id", "conversation_id"}


def test_survey_csat_truth_and_errors(world):
    app = SurveyApp(world)
    items = app.current_items()
    truths = json.loads((world / "truths.json").read_text())["survey"]
    for channel, t in truths["csat_by_channel"].items():
        mine = [i for i in items if i["hidden"]["channel"] == channel]
        assert len(mine) == t["responses"]
        assert sum(1 for i in mine if i["answers"][0]["number"] >= 4) == t["satisfied"]
    crisis = json.loads((world / "truths.json").read_text())["planted"]["crisis"]
    assert truths["csat_daily"][crisis["peak"]] < truths["csat_daily"][TEST_SPEC.start.isoformat()]
    with FakeServer(app) as srv:
        r = requests.get(srv.url + f"/forms/{app.form['id']}/responses", headers=bearer("x"))
        assert r.status_code == 401 and r.json()["code"] == "AUTHENTICATION_FAILED"
        r = requests.get(srv.url + "/forms/nope/responses", headers=bearer(SURVEY_TOKEN))
        assert r.status_code == 404 and r.json()["code"] == "FORM_NOT_FOUND"
