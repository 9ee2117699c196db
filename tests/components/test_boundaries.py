"""The boundary route serves the same collections as data.geo, from this server only."""

import json

import pytest
from flask import Flask

from components.boundaries import boundary_url, register_boundary_routes


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
