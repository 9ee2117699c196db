"""The 资金 page as a function of its URL, on the demo: the numbers on it are the engine's."""

from __future__ import annotations

import json
from contextvars import copy_context

import pytest
from dash import no_update
from dash._callback_context import context_value
from dash._utils import AttributeDict

import app  # noqa: F401 — registers the pages
from data.scope import Scope
from metrics.engine import kpi_value
from metrics.format import fmt_value
from metrics.spending_view import unit_execution, unit_projects
from pages import spending as page

pytestmark = pytest.mark.usefixtures("demo_env", "environment_viewer")  # called as the demo viewer
SCOPE = Scope.province("360000")


def _walk(node):
    yield node
    children = getattr(node, "children", None)
    for child in children if isinstance(children, (list, tuple)) else [children]:
        if child is not None and not isinstance(child, (str, int, float)):
            yield from _walk(child)


def _find(tree, component_id):
    return next((n for n in _walk(tree) if getattr(n, "id", None) == component_id), None)


def _text(node) -> str:
    parts = []
    for n in _walk(node):
        children = getattr(n, "children", None)
        for c in children if isinstance(children, (list, tuple)) else [children]:
            if isinstance(c, (str, int, float)):
                parts.append(str(c))
    return " ".join(parts)


def _grid(tree, name):
    return _find(tree, {"type": "spending-grid", "name": name})


def test_the_cards_show_the_engines_execution_against_time_progress():
    tree = page.layout(region="360700", month="2025-06")
    r = kpi_value("budget_execution_rate", "360700", "2025-06", "ytd", scope=SCOPE)
    card = _text(_find(tree, "spending-card-budget_execution_rate"))
    assert fmt_value(r.value, "%") in card
    assert "序时进度 50.0%" in card  # the target is 序时进度 (6 ÷ 12), worded as the display model does
    assert f"序时进度 {abs(r.gap):.1f} 个百分点" in card
    budget = kpi_value("budget_total", "360700", "2025-06", "ytd", scope=SCOPE)
    assert fmt_value(budget.value, "万元") in _text(_find(tree, "spending-card-budget_total"))
    gap = kpi_value("execution_gap_pp", "360700", "2025-06", "ytd", scope=SCOPE)
    assert fmt_value(gap.value, "个百分点") in _text(_find(tree, "spending-card-execution_gap_pp"))
    assert len(_find(tree, "spending-cards").children) == 7
    assert "资金预算执行 · 赣州市" in _text(tree)


def test_the_curve_compares_three_years_against_time_progress():
    tree = page.layout(month="2025-06")
    fig = _find(tree, "spending-curve").figure
    names = [t["name"] for t in fig["data"]]
    assert names == ["序时进度", "2025年", "2024年", "2023年"]
    assert [a["text"] for a in fig["layout"]["annotations"]] == ["2025年", "2024年", "2023年"]
    r = kpi_value("budget_execution_rate", "360000", "2025-06", "ytd", scope=SCOPE)
    this_year = fig["data"][1]
    assert len(this_year["y"]) == 6 and this_year["y"][-1] == pytest.approx(r.value)
    assert fmt_value(r.numerator, "万元", digits=2) in this_year["text"][-1]
    assert fig["data"][0]["y"][-1] == pytest.approx(100)


def test_a_department_bar_click_cross_filters_the_page():
    tree = page.layout(month="2025-06")
    graph = _find(tree, {"type": "url-click", "name": "dept", "graph": "spending-dept"})
    members = [c[0] for c in graph.figure["data"][0]["customdata"]]
    assert "D19" in members
    filtered = page.layout(month="2025-06", dept="D19")
    r = kpi_value("budget_execution_rate", "360000", "2025-06", "ytd", scope=SCOPE, dept="D19")
    assert fmt_value(r.value, "%") in _text(_find(filtered, "spending-card-budget_execution_rate"))
    assert "部门：政务服务管理局" in _text(_find(filtered, "spending-chip-dept"))
    # the chosen department stays full, the others fade
    fig = _find(filtered, {"type": "url-click", "name": "dept", "graph": "spending-dept"}).figure
    opacity = dict(zip([c[0] for c in fig["data"][0]["customdata"]], fig["data"][0]["marker"]["opacity"],
                       strict=True))
    assert opacity["D19"] == 1.0 and min(opacity.values()) < 1


def test_the_unit_table_lists_units_below_time_progress_worst_first():
    tree = page.layout(month="2025-06")
    rows = _grid(tree, "unit").rowData
    units = unit_execution("360000", "2025-06", scope=SCOPE)
    below = units[units["gap"] < 0]
    assert len(rows) == len(below)
    assert rows[0]["owner_unit"] == below.iloc[0]["owner_unit"]
    assert all(r["gap"] < 0 for r in rows)
    assert [r["gap"] for r in rows] == sorted(r["gap"] for r in rows)
    assert f"低于序时进度 {len(below)} 个 / 共 {len(units)} 个" in _text(tree)
    every = page.layout(month="2025-06", show="all")
    assert len(_grid(every, "unit").rowData) == len(units)


def test_the_regions_table_lists_cities_below_time_progress():
    rows = _grid(page.layout(month="2025-06"), "region").rowData
    assert rows and all(r["gap"] < 0 for r in rows)
    r = kpi_value("execution_gap_pp", rows[0]["region_code"], "2025-06", "ytd", scope=SCOPE)
    assert rows[0]["gap"] == pytest.approx(r.value)


def test_a_unit_and_a_project_drill_through_to_monthly_payments():
    unit = unit_execution("360000", "2025-06", scope=SCOPE).iloc[0]["owner_unit"]
    projects = unit_projects("360000", "2025-06", unit, scope=SCOPE)
    project = projects.iloc[0]["project_id"]
    tree = page.layout(month="2025-06", unit=unit, project=project)
    assert [r["project_id"] for r in _grid(tree, "project").rowData] == projects["project_id"].tolist()
    assert _find(tree, "spending-project-link").href == f"/projects?project={project}"
    assert f"项目单位：{unit}" in _text(_find(tree, "spending-chips"))
    panel = _text(_find(tree, "spending-project"))
    assert "批复以来累计支付" in panel and "2025年累计支付" in panel


def test_a_project_with_payments_shows_them_by_month():
    units = unit_execution("360000", "2025-06", scope=SCOPE)
    unit = units[units["paid_wan"] > 0].iloc[0]["owner_unit"]
    projects = unit_projects("360000", "2025-06", unit, scope=SCOPE)
    paid = projects[projects["paid_wan"] > 0].iloc[0]
    tree = page.layout(month="2025-06", unit=unit, project=paid["project_id"])
    rows = _find(tree, "spending-payments-grid").rowData
    assert {"month", "kind", "fund_source", "amount_wan"} <= set(rows[0])
    in_year = sum(r["amount_wan"] for r in rows if r["month"].startswith("2025年"))
    assert in_year == pytest.approx(paid["paid_wan"])
    assert fmt_value(paid["paid_wan"], "万元", digits=2) in _text(_find(tree, "spending-project"))
    assert _find(tree, "spending-payments-chart").figure["layout"]["barmode"] == "stack"


def test_an_unknown_project_or_a_unit_elsewhere_gets_a_message_not_a_traceback():
    tree = page.layout(region="360100", month="2025-06", unit="不存在的单位", project="NOPE")
    assert "「不存在的单位」在南昌市没有可查看的项目" in _text(tree)
    assert "未找到项目：NOPE" in _text(tree)


def test_a_month_before_the_data_shows_the_empty_state():
    tree = page.layout(month="2019-01")
    assert _find(tree, "spending-curve") is None
    assert "暂无数据" in _text(tree)


def test_a_county_has_no_regions_below():
    assert "县（市、区）无下级地区" in _text(page.layout(region="360102", month="2025-06"))


@pytest.mark.parametrize(("url", "message"), [
    ({"region": "999999"}, "未知的地区代码：999999"),
    ({"dept": "D99"}, "未知的部门代码或无权查看：D99"),
    ({"month": "2025-13"}, "月份格式不正确"),
    ({"show": "x"}, "未知的显示方式"),
])
def test_a_bad_url_gets_a_chinese_message(url, message):
    tree = page.layout(**url)
    assert message in _find(tree, "spending-error").children


def test_a_grid_click_writes_the_row_into_the_url():
    assert page.grid_click_search("unit", "某单位", "?month=2025-06&project=P1") == \
        "?month=2025-06&unit=%E6%9F%90%E5%8D%95%E4%BD%8D"
    assert page.grid_click_search("region", "360100", "?unit=a&project=b&dept=D01") == "?dept=D01&region=360100"
    assert page.grid_click_search("project", "P1", "?project=P1") is None
    assert page.grid_click_search("unit", None, "") is None


def test_removing_a_chip_drops_its_filter_and_a_unit_takes_its_project():
    assert page.clear_search("dept", "?month=2025-06&dept=D01") == "?month=2025-06"
    assert page.clear_search("unit", "?unit=a&project=b&month=2025-06") == "?month=2025-06"
    assert page.clear_search("dept", "?month=2025-06") is None


def _run(callback, trigger: dict, prop: str, inputs: list[dict], *args):
    def run():
        context_value.set(AttributeDict(
            triggered_inputs=[{"prop_id": json.dumps(trigger, separators=(",", ":")) + "." + prop, "value": 1}],
            inputs_list=[[{"id": i, "property": prop} for i in inputs]]))
        return callback(*args)

    return copy_context().run(run)


def test_the_grid_callback_reads_the_clicked_grids_row_id():
    ids = [{"type": "spending-grid", "name": "region"}, {"type": "spending-grid", "name": "unit"}]
    out = _run(page.on_grid_click, ids[1], "cellClicked", ids, [None, {"rowId": "某单位", "colId": "owner_unit"}],
               "?month=2025-06")
    assert out == "?month=2025-06&unit=%E6%9F%90%E5%8D%95%E4%BD%8D"


def test_the_chip_callback_ignores_a_chip_mounting():
    ids = [{"type": "spending-clear", "name": "dept"}]
    assert _run(page.on_clear, ids[0], "n_clicks", ids, [None], "?dept=D01") is no_update
    assert _run(page.on_clear, ids[0], "n_clicks", ids, [1], "?dept=D01") == "?"


def test_the_forecast_toggle_continues_this_years_curve_to_december():
    """With fc=1 at the latest month the curve gets a dashed 预测 line and its bands to 12月."""
    tree = page.layout(month="2026-10", fc="1")
    graph = _find(tree, "spending-curve")
    names = [t["name"] for t in graph.figure["data"]]
    assert {"2026年预测", "80% 区间", "95% 区间"} <= set(names)
    pred = next(t for t in graph.figure["data"] if t["name"] == "2026年预测")
    assert pred["x"][0] == "10月" and pred["x"][-1] == "12月"
    assert all(0 <= y <= 100 for y in pred["y"])
    # without the toggle, or for a past month, no forecast is drawn
    plain = _find(page.layout(month="2026-10"), "spending-curve")
    assert "2026年预测" not in [t["name"] for t in plain.figure["data"]]
    past = _find(page.layout(month="2026-06", fc="1"), "spending-curve")
    assert "2026年预测" not in [t["name"] for t in past.figure["data"]]
