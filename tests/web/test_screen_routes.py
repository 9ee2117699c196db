"""The big screen's routes: the page with its validated playlist, the JSON data, and errors as
Chinese messages (never a traceback)."""

import json
import re
from datetime import date, datetime

import pytest
from flask import Flask, g

from data import db
from data.scope import Scope
from metrics.screen_view import screen_data
from tests.freshness_rows import copy_with_freshness
from web.boundary_routes import boundary_url
from web.screen_routes import register_screen_routes
from web.session import system_viewer, viewer_scope

pytestmark = pytest.mark.usefixtures("environment_viewer")  # viewer_scope() outside requests


@pytest.fixture
def client(demo_env, monkeypatch, tmp_path_factory):
    monkeypatch.setenv("COCKPIT_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "screen-cache"))
    monkeypatch.delenv("COCKPIT_VIEWER_SCOPE", raising=False)
    server = Flask(__name__)
    viewer = system_viewer(Scope.province("360000"), "测试")
    server.before_request(lambda: setattr(g, "cockpit_viewer", viewer))  # the login guard's work in the app
    register_screen_routes(server)
    return server.test_client()


def _config(html: str) -> dict:
    raw = re.search(r'<script id="screen-config" type="application/json">(.*?)</script>', html, re.S).group(1)
    return json.loads(raw)


def test_the_page_embeds_the_playlist_and_loads_only_local_scripts(client):
    resp = client.get("/screen?regions=cities&sets=services&dwell=3&refresh=15&layout=wide")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    cfg = _config(html)
    assert len(cfg["playlist"]) == 12 and cfg["playlist"][0]["region_name"] == "江西省"
    assert (cfg["dwell"], cfg["refresh"], cfg["layout"]) == (3.0, 15.0, "wide")
    srcs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert srcs and all(s.startswith("/") for s in srcs)  # nothing from a CDN
    # the pages' own partial Plotly.js (one cached copy), and every file fingerprinted: nginx serves it immutable
    plotly = re.compile(r"/assets/vendor/plotly-cockpit\.min\.js\?m=[\d.]+")
    assert any(plotly.fullmatch(s) for s in srcs), srcs
    assert not any("package_data/plotly" in s for s in srcs)  # never the full file
    assert all(re.search(r"\?m=[\d.]+$|\.v[\w-]+m\d+\.", s) for s in srcs), srcs


@pytest.mark.parametrize("query", ["layout=stretch", "dwell=abc", "region=999999", "sets=weather"])
def test_a_bad_query_string_is_a_chinese_message_on_the_screen(client, query):
    resp = client.get("/screen?" + query)
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    message = _config(html)["error"]
    assert re.search(r"[\u4e00-\u9fff]", message)
    assert "Traceback" not in html


def test_a_script_end_tag_in_a_message_cannot_break_out_of_the_page(client):
    html = client.get("/screen?sets=</script><b>x").get_data(as_text=True)
    assert "</script><b>" not in html
    assert "</script><b>x" in _config(html)["error"]


def test_the_data_route_is_the_screen_data_with_the_map_boundaries(client):
    resp = client.get("/api/screen?region=360100&kpi=cloud_rate")
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    doc = resp.get_json()
    expected = screen_data("360100", "cloud_rate", scope=viewer_scope())
    assert doc["cards"] == json.loads(json.dumps(expected["cards"]))
    assert doc["map"]["geojson_url"] == boundary_url("360000", "county", "360100")
    assert 6 < doc["map"]["zoom"] < 12
    assert 113 < doc["map"]["center"]["lon"] < 118 and 24 < doc["map"]["center"]["lat"] < 30


@pytest.mark.parametrize("query", ["region=999999&kpi=cloud_rate", "region=360100&kpi=nope", ""])
def test_bad_data_requests_get_a_json_error_in_chinese(client, query):
    resp = client.get("/api/screen?" + query)
    assert resp.status_code == 400
    assert re.search(r"[\u4e00-\u9fff]", resp.get_json()["error"])


def test_plotly_is_served_from_the_installed_package(client):
    resp = client.get("/screen/plotly.min.js")
    assert resp.status_code == 200
    assert b"plotly.js v" in resp.data[:200]


@pytest.mark.parametrize(("today", "late"), [("2026-11-10", False), ("2026-11-11", True)])
def test_the_data_route_reads_the_clock_for_lateness(client, demo_db_path, tmp_path, monkeypatch, today, late):
    path = copy_with_freshness(demo_db_path, tmp_path / "fresh.duckdb",
                               [("spending", date(2026, 9, 1), datetime(2026, 10, 8))], data_version="route-fresh")
    monkeypatch.setenv("COCKPIT_DB", str(path))
    monkeypatch.setenv("COCKPIT_TODAY", today)
    db.reset_reader()
    try:
        doc = client.get("/api/screen?region=360000&kpi=budget_execution_rate").get_json()
    finally:
        db.reset_reader()
    card = next(c for c in doc["cards"] if c["kpi"] == "budget_execution_rate")
    assert (card["late"], doc["freshness"]["focus"]["late"]) == (late, late)
    assert doc["freshness"]["focus"]["text"] == "数据截至 2026-09 · 更新于 10-08"
