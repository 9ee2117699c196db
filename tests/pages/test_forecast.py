"""The 预测 page: layout from the URL, the what-if callback and the downloads, called directly."""

import base64
import io
import json

import pandas as pd
import plotly.io as pio
import pytest
from dash import dcc, html

import app  # noqa: F401 — registers the pages
from data.scope import Scope
from metrics.forecasting import clear_cache, kpi_attainment
from pages import forecast as page
from tests.metrics.conftest import fixture_db_path, fixture_env  # noqa: F401 — the hand-built database

pytestmark = pytest.mark.usefixtures("environment_viewer")  # called as the demo viewer

PROVINCE = Scope.province("360000")
STATE = {"kpi": "online_handling_rate", "region": "360000", "h": 6, "view": "month"}


@pytest.fixture
def page_env(demo_env, tmp_path, monkeypatch):
    monkeypatch.setenv("COCKPIT_CACHE_DIR", str(tmp_path))
    clear_cache()
    yield
    clear_cache()


def _find(node, component_id):
    if getattr(node, "id", None) == component_id:
        return node
    children = getattr(node, "children", None)
    for child in children if isinstance(children, (list, tuple)) else [children]:
        if child is not None and not isinstance(child, (str, int, float)):
            hit = _find(child, component_id)
            if hit is not None:
                return hit
    return None


def _text(node) -> str:
    if node is None:
        return ""
    if isinstance(node, (str, int, float)):
        return str(node)
    children = getattr(node, "children", None)
    if isinstance(children, (list, tuple)):
        return "".join(_text(c) for c in children)
    return _text(children)


def test_the_default_page_shows_the_bands_the_target_and_the_attainment(page_env):
    tree = page.layout()
    graph = _find(tree, "forecast-graph")
    assert isinstance(graph, dcc.Graph)
    names = [t.name for t in graph.figure.data]
    assert names == ["95% 区间", "80% 区间", "网上办件率（当月）", "预测", "目标"]
    a = kpi_attainment("online_handling_rate", "360000", scope=PROVINCE).year_end
    assert _text(_find(tree, "forecast-probability")) == \
        f"按当前趋势，2026年底达到目标的概率为 {100 * a.probability:.0f}%"
    assert f"{a.expected:.1f}%" in _text(_find(tree, "forecast-expected"))
    assert "回测" in _text(_find(tree, "forecast-backtest")) and "Naive2" in _text(_find(tree, "forecast-backtest"))
    assert "中位数组合" in _text(_find(tree, "forecast-model"))
    assert "若今后每月提高 0.0 个百分点" in _text(_find(tree, "forecast-whatif-result"))
    # hovers carry exact values with units
    assert "80% 区间" in graph.figure.data[3].text[0] and "%" in graph.figure.data[3].text[0]
    json.loads(pio.to_json(graph.figure))  # serialisable


def test_the_horizon_and_kpi_come_from_the_url(page_env):
    tree = page.layout(region="360100", kpi="budget_execution_rate", h="12")
    graph = _find(tree, "forecast-graph")
    assert len(graph.figure.data[3].x) == 12
    assert "预算执行率（累计）" in _text(tree)
    assert "南昌市" in _text(tree)


def test_bad_url_input_gets_a_chinese_message(page_env):
    assert "未知的地区代码：999999" in _text(_find(page.layout(region="999999"), "forecast-error"))
    assert "预测期数不正确" in _text(_find(page.layout(h="7"), "forecast-error"))
    assert "未知指标：nope" in _text(_find(page.layout(kpi="nope"), "forecast-error"))


def test_a_county_without_data_shows_the_empty_state(fixture_env, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("COCKPIT_CACHE_DIR", str(tmp_path))
    clear_cache()
    tree = page.layout(region="360203", kpi="online_handling_rate")
    assert _find(tree, "forecast-graph") is None
    assert "暂无数据" in _text(_find(tree, "forecast-chart"))
    clear_cache()


def test_the_what_if_callback_changes_the_year_end_figure(page_env):
    zero = page.update_what_if(0, "ramp", STATE)
    up = page.update_what_if(1.5, "ramp", STATE)
    flat = page.update_what_if(1.5, "flat", STATE)
    assert zero != up != flat
    assert up.startswith("若今后每月提高 1.5 个百分点（逐月递增）")
    a = kpi_attainment("online_handling_rate", "360000", scope=PROVINCE, what_if_pp=1.5).year_end
    assert f"{a.what_if_value:.1f}%" in up
    assert page.update_what_if(99, "nonsense", STATE).startswith("若今后每月提高 2.0 个百分点（逐月递增）")


def test_the_what_if_callback_refuses_a_region_outside_the_scope(page_env, monkeypatch):
    monkeypatch.setenv("COCKPIT_VIEWER_SCOPE", "360100")
    out = page.update_what_if(1.0, "ramp", {**STATE, "region": "360700"})
    assert out == "无权查看该地区：赣州市（360700）"


def test_downloads_produce_csv_and_xlsx_bytes(page_env):
    csv = page.download_file("csv", STATE)
    assert csv["filename"].endswith(".csv") and csv["base64"] is False
    df = pd.read_csv(io.StringIO(csv["content"]))
    assert len(df) == 6 and df.columns[0] == "地区" and df["月份"].iloc[0] == "2026-11"
    xlsx = page.download_file("xlsx", STATE)
    assert xlsx["filename"].endswith(".xlsx") and xlsx["base64"] is True
    raw = base64.b64decode(xlsx["content"])
    assert raw[:2] == b"PK"  # a zip container: Office Open XML
    back = pd.read_excel(io.BytesIO(raw), sheet_name="预测", engine="openpyxl")
    assert back["预测值"].tolist() == pytest.approx(df["预测值"].tolist())


def test_the_page_is_registered_as_the_sixth_page(page_env):
    import dash

    reg = dash.page_registry["pages.forecast"]
    assert reg["path"] == "/forecast" and reg["name"] == "预测" and reg["order"] == 6
    assert isinstance(page.layout(region="999999"), html.Div)
