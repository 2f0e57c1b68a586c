"""Every fake reads a repeated query parameter as the platforms do: as a list.

HubSpot's official Python client sends list parameters as repeated keys
(`properties=a&properties=b`); Google's clients do the same for repeated fields. The platforms
read that as the list `a,b`, exactly as a comma list. A fake that kept only the last value
would answer such a client with one property and let a client sending the wrong thing pass.
"""

from __future__ import annotations

import requests

from sampleworld.fakes.base import App, FakeServer, Response, multi_dict
from sampleworld.fakes.hubspot import HubSpotApp
from sampleworld.fakes.youtube import YouTubeApp


def test_multi_dict_joins_repeated_keys_in_order():
    assert multi_dict([("a", "1"), ("b", "x"), ("a", "2"), ("a", "3,4")]) == {"a": "1,2,3,4", "b": "x"}
    assert multi_dict([("a", "")]) == {"a": ""}


class _Echo(App):
    name = "echo"

    def handle(self, req):
        return Response.json(
            200, {"query": req.query, "form": req.form, "values": req.values("p"), "param": req.param("p")}
        )


def test_every_fake_sees_each_repeated_value_in_query_and_form():
    """The server under every fake: repeated keys in the query string and in a form body."""
    with FakeServer(_Echo()) as srv:
        got = requests.get(f"{srv.url}/x", params=[("p", "a"), ("p", "b"), ("q", "1")], timeout=5).json()
        assert got["query"] == {"p": "a,b", "q": "1"}
        assert got["values"] == ["a", "b"] and got["param"] == "a,b"
        got = requests.post(f"{srv.url}/x", data=[("p", "a"), ("p", "b,c")], timeout=5).json()
        assert got["form"] == {"p": "a,b,c"} and got["values"] == ["a", "b", "c"]


def test_hubspot_reads_repeated_properties_as_its_client_sends_them(world):
    app = HubSpotApp(world)
    with FakeServer(app) as srv:

        def props(params):
            r = requests.get(
                f"{srv.url}/crm/v3/objects/contacts",
                params=params,
                headers={"Authorization": f"Bearer {app.token}"},
                timeout=10,
            )
            assert r.status_code == 200, r.text
            return [sorted(rec["properties"]) for rec in r.json()["results"]]

        repeated = props([("limit", "5"), ("properties", "email"), ("properties", "lifecyclestage")])
        assert repeated == props({"limit": "5", "properties": "email,lifecyclestage"})
        assert all({"email", "lifecyclestage"} <= set(p) for p in repeated)


def test_google_fake_reads_repeated_part_as_googles_clients_send_it(world):
    app = YouTubeApp(world)
    with FakeServer(app) as srv:

        def channel(params):
            r = requests.get(
                f"{srv.url}/youtube/v3/channels",
                params=params,
                headers={"Authorization": f"Bearer {app.token}"},
                timeout=10,
            )
            assert r.status_code == 200, r.text
            return r.json()["items"][0]

        repeated = channel([("part", "snippet"), ("part", "statistics"), ("mine", "true")])
        assert repeated == channel({"part": "snippet,statistics", "mine": "true"})
        assert {"snippet", "statistics"} <= set(repeated)
