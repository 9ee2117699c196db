"""The 政务服务 page as a function of its URL: the numbers the engine gives, empty states, errors."""

import pytest
from dash import no_update
from dash.development.base_component import Component

import app  # noqa: F401 — dash.register_page needs the app to exist
from data.scope import Scope
from metrics.engine import kpi_breakdown, kpi_children, kpi_results, kpi_series, kpi_value
from metrics.format import fmt_value
from pages import services

pytestmark = pytest.mark.usefixtures("demo_env", "environment_viewer")  # called as the demo viewer
SCOPE = Scope.province("360000")


def walk(node):
    """Every component of a tree."""
    if isinstance(node, (list, tuple)):
        for child in node:
            yield from walk(child)
    elif isinstance(node, Component):
        yield node
        yield from walk(getattr(node, "children", None))


def text(node) -> str:
    parts = []
    for c in walk(node):
        kids = getattr(c, "children", None)
        parts += [kids] if isinstance(kids, str) else [k for k in (kids or []) if isinstance(k, str)]
    return " ".join(parts)


def find(tree, component_id):
    for c in walk(tree):
        if getattr(c, "id", None) == component_id:
            return c
    raise AssertionError(f"no component {component_id!r}")


def graph(tree, name):
    """The click-graph (drill-down/cross-filter) whose graph id is ``name``."""
    for c in walk(tree):
        cid = getattr(c, "id", None)
        if isinstance(cid, dict) and cid.get("graph") == name:
            return c
    raise AssertionError(f"no graph {name!r}")


def test_the_default_view_shows_the_provinces_online_availability_by_city():
    page = services.layout()
    r = kpi_value("online_available_rate", "360000", "2026-10", "ytd", scope=SCOPE)
    assert fmt_value(r.value, "%") in text(find(page, "services-headline"))
    assert "江西省各设区市 · 网上可办率（截至2026年10月末）" in text(page)
    fig = graph(page, "services-map").figure
    engine = kpi_children("online_available_rate", "360000", "2026-10", "ytd", scope=SCOPE)
    drawn = dict(zip(fig.data[1].locations, fig.data[1].z, strict=True))
    assert drawn == pytest.approx(dict(zip(engine["region_code"], engine["value"], strict=True)))
    assert [c[0] for c in fig.data[1].customdata] == list(fig.data[1].locations)  # drill-down codes


def test_the_department_bars_carry_department_codes_for_the_cross_filter():
    page = services.layout(region="360100", kpi="online_handling_rate", period="month", month="2026-06")
    bars = graph(page, "services-depts").figure.data[0]
    engine = kpi_breakdown("online_handling_rate", "360100", "2026-06", "month", dim="dept_code", scope=SCOPE)
    assert dict(zip([c[0] for c in bars.customdata], bars.x, strict=True)) == pytest.approx(
        dict(zip(engine["member"], engine["value"], strict=True)))
    assert "各部门 · 网上办件率（当月）" in text(page)


def test_a_department_filter_narrows_map_trend_and_items_and_shows_a_removable_chip():
    page = services.layout(region="360100", kpi="online_handling_rate", month="2026-06", dept="D01")
    chip = find(page, "services-chip-dept")
    assert "部门：公安局" in text(chip)
    remove = find(page, "services-chip-dept-remove")
    assert "dept" not in remove.href and "region=360100" in remove.href
    trend = find(page, "services-trend-graph").figure.data[0]
    engine = kpi_series("online_handling_rate", "360100", scope=SCOPE, start="2024-07", end="2026-06",
                        cumulative=True, dept="D01")
    assert list(trend.y) == pytest.approx(list(engine["value"]))
    fig = graph(page, "services-map").figure
    children = kpi_children("online_handling_rate", "360100", "2026-06", "ytd", scope=SCOPE, dept="D01")
    assert list(fig.data[1].z) == pytest.approx(list(children["value"].dropna()))
    rows = find(page, "services-items").rowData
    assert rows and {r["dept_name"] for r in rows} == {"公安局"}
    bars = graph(page, "services-depts").figure.data[0]
    assert max(bars.marker.line.width) == 2.5  # the filtered department is outlined


def test_the_item_table_has_every_item_with_its_rates_and_flags():
    page = services.layout(region="360700", month="2026-06", period="month")
    grid = find(page, "services-items")
    assert len(grid.rowData) == 175
    row = next(r for r in grid.rowData if r["item_code"] == "SX0002")
    engine = kpi_breakdown("online_handling_rate", "360700", "2026-06", "month", dim="item_code", scope=SCOPE)
    assert row["online_handling_rate"] == pytest.approx(float(engine.set_index("member").loc["SX0002", "value"]))
    assert {"item_name", "dept_name", "item_type", "audience", "applications", "online_applications",
            "on_time_rate", "satisfaction_rate", "online_capable", "full_online", "mobile", "one_visit"} <= set(row)
    headers = [c["headerName"] for c in grid.columnDefs]
    assert headers[-4:] == ["网上可办", "全程网办", "掌上办", "最多跑一次"]


def test_clicking_an_item_puts_it_in_the_url():
    assert services.item_search({"rowId": "SX0002", "colId": "item_name"}, "?region=360100") == (
        "?region=360100&item=SX0002")
    assert services.item_search({"rowId": "SX0002"}, "?item=SX0002") is no_update
    assert services.item_search(None, "?region=360100") is no_update


def test_a_selected_item_shows_its_monthly_history():
    page = services.layout(region="360100", kpi="on_time_rate", item="SX0002")
    panel = find(page, "services-item")
    assert "居民身份证换领（SX0002）" in text(panel)
    fig = find(page, "services-item-graph").figure
    engine = kpi_series("on_time_rate", "360100", scope=SCOPE, start="2024-11", end="2026-10", item="SX0002")
    assert list(fig.data[0].y) == pytest.approx(list(engine["value"]))
    assert "item" not in find(page, "services-item-close").href


def test_the_hotline_panel_shows_the_engines_12345_figures():
    page = services.layout(region="360700", month="2026-06")
    results = kpi_results(["hotline_on_time_rate", "hotline_satisfaction"], "360700", "2026-06", "ytd", scope=SCOPE)
    received = kpi_value("hotline_received", "360700", "2026-06", "month", scope=SCOPE)
    cards = find(page, "services-hotline-cards")
    for r in results:
        assert fmt_value(r.value, "%") in text(find(cards, f"services-hotline-{r.kpi_id}-ytd"))
    assert fmt_value(received.value, "件") in text(find(cards, "services-hotline-hotline_received-month"))
    bars = find(page, "services-hotline-graph").figure
    assert {t.name for t in bars.data} == {"咨询", "求助", "投诉", "举报", "建议"}
    assert all(len(t.x) == 12 for t in bars.data)


def test_a_county_is_outlined_among_its_citys_counties():
    page = services.layout(region="360102")
    fig = graph(page, "services-map").figure
    trace = next(t for t in fig.data if "360102" in list(t.locations))
    widths = dict(zip(trace.locations, trace.marker.line.width, strict=True))
    assert widths["360102"] == 3 and widths["360103"] == 0.8
    assert "南昌市" in text(find(page, "services-breadcrumb"))


def test_the_forecast_toggle_overlays_a_dashed_forecast():
    page = services.layout(region="360100", kpi="online_handling_rate", fc="['1']")
    names = [t.name for t in find(page, "services-trend-graph").figure.data]
    if services.services_data.__globals__["forecast_available"]():
        assert "预测" in names and "80% 区间" in names
        assert "预测自2026年11月起6个月" in text(find(page, "services-fc-note"))
    else:
        assert "预测暂不可用" in text(page)
    assert services.forecast_on("1") and services.forecast_on("['1']")
    assert not services.forecast_on("[]") and not services.forecast_on(None)


def test_a_month_without_data_shows_empty_states_not_broken_charts():
    page = services.layout(month="2020-01")
    for box in ("services-map", "services-trend", "services-depts", "services-items-box", "services-hotline"):
        assert "暂无数据" in text(find(page, box))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"region": "999999"}, "未知的地区代码：999999"),
        ({"kpi": "budget_execution_rate"}, "不属于政务服务"),
        ({"kpi": "nope"}, "未知指标：nope"),
        ({"dept": "D99"}, "未知的部门代码：D99"),
        ({"item": "SX9999"}, "未知的政务服务事项编码：SX9999"),
        ({"month": "2026-13"}, "月份格式不正确"),
        ({"period": "week"}, "未知的统计期"),
    ],
)
def test_bad_url_input_gets_a_chinese_message(params, message):
    page = services.layout(**params)
    assert message in text(find(page, "services-error"))
