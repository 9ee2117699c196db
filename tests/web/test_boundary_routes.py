"""The boundary route serves the same collections as data.geo, from this server only, and only
for the deployment's province (the database's root region)."""

import json

import pytest
from flask import Flask

from web.boundary_routes import boundary_url, register_boundary_routes

pytestmark = pytest.mark.usefixtures("demo_env")  # the root region comes from the database


@pytest.fixture(scope="module")
def client():
    server = Flask(__name__)
    register_boundary_routes(server)
    return server.test_client()


def test_a_layer_is_served_as_cacheable_geojson(client):
    resp = client.get(boundary_url("360000", "county"))
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"].startswith("public")
    features = json.loads(resp.data)["features"]
    assert len(features) == 100
    assert {"code", "name", "parent_code"} <= set(features[0]["properties"])


def test_a_parent_keeps_only_its_children(client):
    features = json.loads(client.get(boundary_url("360000", "county", "360100")).data)["features"]
    assert {f["properties"]["parent_code"] for f in features} == {"360100"}


@pytest.mark.parametrize("url", ["/boundaries/999999/county.json", "/boundaries/360000/county/999999.json",
                                 "/boundaries/36/county.json", "/boundaries/360000/village.json"])
def test_unknown_or_malformed_codes_are_not_found(client, url):
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("url", ["/boundaries/110000/county.json", "/boundaries/440000/city.json",
                                 "/boundaries/110000/county/110100.json"])
def test_another_provinces_boundaries_are_not_computed(client, url, monkeypatch):
    def refuse(*_a, **_k):
        raise AssertionError("computed another province's boundaries")

    monkeypatch.setattr("web.boundary_routes.geojson", refuse)
    resp = client.get(url)
    assert resp.status_code == 404 and "只提供本省（360000）的边界" in resp.get_json()["message"]


def test_a_county_is_its_own_map(client):
    features = json.loads(client.get(boundary_url("360000", "county", "360102")).data)["features"]
    assert [f["properties"]["code"] for f in features] == ["360102"]
