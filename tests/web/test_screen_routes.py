"""The big screen's routes: the page with its validated playlist, the JSON data (its charts the
figures the pages' own builders draw), and errors as Chinese messages (never a traceback)."""

import json
import re
from datetime import date, datetime

import pytest
from flask import Flask, g

from components.maps import create_choropleth, view_for
from components.projects_charts import create_stage_funnel
from components.spending_charts import create_execution_curve, create_spending_card
from components.theme import figure_json
from components.trends import create_trend
from data import db
from data.geo import geojson
from data.scope import Scope
from metrics.display import kpi_display_fresh
from metrics.engine import kpi_series
from metrics.forecasting import kpi_forecast
from metrics.overview_view import overview_data
from metrics.projects_view import stage_funnel
from metrics.screen_view import phase_funnel, screen_data
from metrics.spending_view import execution_curves, spending_cards, time_progress_line
from tests.components.test_cards import find, texts
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
    assert sorted(doc["figures"]) == ["funnel", "map", "spending", "trend"]
    # the map references its boundaries by URL (fetched and cached once), never carries them
    m = doc["figures"]["map"]
    assert {t["geojson"] for t in m["data"]} == {boundary_url("360000", "county", "360100")}
    assert 6 < m["layout"]["map"]["zoom"] < 12
    assert 113 < m["layout"]["map"]["center"]["lon"] < 118 and 24 < m["layout"]["map"]["center"]["lat"] < 30
    assert "coordinates" not in resp.get_data(as_text=True)
    # what the figures draw is not sent twice
    assert "trend" not in doc and "values" not in doc["map"] and "values" not in doc["spending"]


MONTH = "2026-10"


def _figures(client, region: str, kpi: str) -> dict:
    return client.get(f"/api/screen?region={region}&kpi={kpi}").get_json()["figures"]


@pytest.mark.parametrize(("region", "kpi"), [("360000", "online_handling_rate"), ("360100", "budget_execution_rate")])
def test_the_walls_charts_are_the_page_builders_figures_for_the_same_inputs(client, region, kpi):
    scope = viewer_scope()
    figures = _figures(client, region, kpi)
    cumulative = kpi == "budget_execution_rate"  # no monthly value: 累计
    series = kpi_series(kpi, region, scope=scope, start="2024-11", end=MONTH, cumulative=cumulative)
    forecast = kpi_forecast(kpi, region, scope=scope, horizon=6, cumulative=cumulative)
    name, unit = {"online_handling_rate": ("网上办件率", "%"), "budget_execution_rate": ("预算执行率", "%")}[kpi]
    trend = create_trend(series, unit=unit, name=name, period_name="累计" if cumulative else "当月",
                         forecast=forecast, height=250, wall=True)
    assert figures["trend"] == figure_json(trend)

    funnel = create_stage_funnel(phase_funnel(stage_funnel(region, MONTH, scope=scope)), measure="count",
                                 period_text="2026年1—10月", wall=True)
    assert figures["funnel"] == figure_json(funnel)

    curves = execution_curves(region, MONTH, scope=scope, years=1)
    spending = create_execution_curve(curves, time_progress_line(), year=2026, height=180, wall=True)
    assert figures["spending"] == figure_json(spending)

    ov = overview_data(region, MONTH, "ytd", kpi, scope=scope, map_level="city")
    shapes = geojson(ov.province, ov.map_level, parent_code=ov.map_parent)
    choropleth = create_choropleth(ov.map, shapes, unit=unit, title=name, width=780, height=520, wall=True,
                                   geojson_url=boundary_url(ov.province, ov.map_level, ov.map_parent))
    assert figures["map"] == figure_json(choropleth)


def test_the_wall_variant_is_the_same_numbers_in_the_walls_theme(client):
    """The variant changes the look, never what is drawn: the page's figure and the wall's plot
    the same values, and the wall's colours are the palette's screen tokens."""
    from palette import load_palette

    screen = load_palette().screen
    scope = viewer_scope()
    figures = _figures(client, "360000", "online_handling_rate")
    series = kpi_series("online_handling_rate", "360000", scope=scope, start="2024-11", end=MONTH)
    page = figure_json(create_trend(series, unit="%", name="网上办件率"))
    actual = next(t for t in figures["trend"]["data"] if t.get("name") == "网上办件率（当月）")
    assert actual["y"] == page["data"][0]["y"] and actual["line"]["color"] == screen["cyan"]
    assert figures["funnel"]["data"][0]["marker"]["color"] == list(screen.list("funnel"))
    assert figures["map"]["data"][1]["colorscale"][-1][1] == screen.list("map-scale")[-1]
    assert figures["trend"]["layout"]["template"]["layout"]["font"]["size"] == 24  # read from five metres
    # the map's zoom fits the size in its layout, which the client rescales to its panel
    layout = figures["map"]["layout"]
    center, zoom = view_for(geojson("360000", "city"), layout["width"], layout["height"])
    assert (layout["map"]["center"], layout["map"]["zoom"]) == (center, zoom)


def test_the_walls_gap_to_time_progress_is_the_spending_cards_text(client):
    doc = client.get("/api/screen?region=360000&kpi=budget_execution_rate").get_json()
    cards = {c["kpi_id"]: c for c in spending_cards("360000", MONTH, scope=viewer_scope())}
    card = create_spending_card(kpi_display_fresh(cards["budget_execution_rate"]), card_id="c")
    (note,) = ["".join(texts(n)) for n in find(card, "kpi-gap")]
    assert note.startswith("低于序时进度 ") and note.endswith(" 个百分点")
    assert doc["spending"]["gap_text"] == note
    # the ticker's line of the red gap KPI says it in the same words (never "与序时进度差 -30.2")
    assert f"与序时进度差：{note}" in [a["text"] for a in doc["alerts"]]
    assert not any("-" in a["text"] for a in doc["alerts"] if a["kind"] == "kpi")


@pytest.mark.parametrize("query", ["region=999999&kpi=cloud_rate", "region=360100&kpi=nope", ""])
def test_bad_data_requests_get_a_json_error_in_chinese(client, query):
    resp = client.get("/api/screen?" + query)
    assert resp.status_code == 400
    assert re.search(r"[\u4e00-\u9fff]", resp.get_json()["error"])


def test_the_full_plotly_js_is_not_served_beside_the_screen(client):
    assert client.get("/screen/plotly.min.js").status_code == 404  # the wall loads the pages' partial bundle


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
