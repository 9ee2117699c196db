"""The 项目 page as a function of its URL, on the demo: the numbers are the engine's."""

from __future__ import annotations

import dash
import pytest
from dash import no_update

from data.scope import Scope
from metrics.engine import kpi_value
from metrics.format import fmt_value
from metrics.projects_view import alert_table, stage_funnel, unit_gantt

pytestmark = pytest.mark.usefixtures("demo_env", "environment_viewer")  # called as the demo viewer
SCOPE = Scope.province("360000")


@pytest.fixture(scope="module")
def page():
    if "pages.projects" not in dash.page_registry:
        dash.Dash(__name__, use_pages=True, pages_folder="")  # register_page needs an app
    import pages.projects as module

    return module


def walk(node):
    """Every component in a tree."""
    yield node
    children = getattr(node, "children", None)
    if children is None:
        return
    for child in children if isinstance(children, (list, tuple)) else [children]:
        if hasattr(child, "to_plotly_json"):
            yield from walk(child)


def texts(node) -> str:
    out = []
    for c in walk(node):
        ch = getattr(c, "children", None)
        for x in ch if isinstance(ch, (list, tuple)) else [ch]:
            if isinstance(x, (str, int, float)):
                out.append(str(x))
    return " ".join(out)


def find(node, component_id):
    for c in walk(node):
        if getattr(c, "id", None) == component_id:
            return c
    raise AssertionError(f"no component {component_id!r}")


def graph(node, wrapper_id):
    """The dcc.Graph inside the wrapper div ``wrapper_id``."""
    inner = find(node, wrapper_id).children
    assert hasattr(inner, "figure"), f"{wrapper_id} holds no graph"
    return inner


def test_the_headline_cards_show_the_engines_values(page):
    tree = page.layout(region="360700", month="2025-06")
    for kpi_id, unit in [("project_count", "个"), ("overdue_projects", "个"), ("project_budget", "万元"),
                         ("cloud_rate", "%")]:
        value = kpi_value(kpi_id, "360700", "2025-06", "month", scope=SCOPE).value
        card = find(tree, f"projects-card-{kpi_id}")
        assert fmt_value(value, unit) in texts(card)
        assert "截至2025年6月末" in texts(card)
    assert len(find(tree, "projects-cards").children) == 8
    assert "数字化项目建设管理 · 赣州市" in texts(tree)


def test_the_funnel_draws_the_stage_counts_and_switches_to_budget(page):
    f = stage_funnel("360700", "2025-06", scope=SCOPE)
    fig = graph(page.layout(region="360700", month="2025-06"), "projects-funnel").figure
    assert fig["data"][0]["x"] == f["count"].tolist()
    assert fig["data"][0]["y"][-1] == "终止（另计）"
    fig = graph(page.layout(region="360700", month="2025-06", funnel="budget"), "projects-funnel").figure
    assert fig["data"][0]["x"] == pytest.approx(f["budget"].tolist())
    assert "万元" in fig["data"][0]["hovertext"][5] and "个" in fig["data"][0]["hovertext"][5]


def test_a_tier_filters_the_funnel_alerts_and_gantt(page):
    tree = page.layout(region="360000", month="2026-10", tier="省重点")
    f = stage_funnel("360000", "2026-10", scope=SCOPE, tier="省重点")
    assert graph(tree, "projects-funnel").figure["data"][0]["x"] == f["count"].tolist()
    alerts, _ = alert_table("360000", "2026-10", scope=SCOPE, tier="省重点")
    grid = find(tree, "projects-alerts-grid")
    assert len(grid.rowData) == len(alerts) and {r["tier"] for r in grid.rowData} == {"省重点"}
    gantt = graph(tree, "projects-gantt").figure
    ids = {i for t in gantt["data"] if t["type"] == "bar" for i in t["y"]}
    assert ids and all(t == "省重点" for t in unit_gantt("360000", "2026-10", find_unit(tree), scope=SCOPE,
                                                           tier="省重点")["tier"])
    assert "省重点" in texts(find(tree, "projects-tier-filter"))
    # the clear link drops only the tier
    assert find(tree, "projects-tier-clear").href == "/projects?region=360000&month=2026-10"
    # the tier chart carries each tier for the click cross-filter and fades the others
    tier_fig = graph(tree, "projects-tier").figure
    assert [c[0] for c in tier_fig["data"][0]["customdata"]] == ["较小", "一般", "较大", "省重点"]
    assert tier_fig["data"][0]["marker"]["opacity"] == [0.3, 0.3, 0.3, 1.0]


def find_unit(tree) -> str:
    for c in walk(tree):
        if getattr(c, "id", None) == {"type": "url-param", "name": "unit"}:
            return c.value
    raise AssertionError("no unit picker")


def test_the_alert_table_lists_every_alert_with_its_clause_and_narrows_by_rule(page):
    tree = page.layout(region="360000", month="2026-10")
    alerts, summary = alert_table("360000", "2026-10", scope=SCOPE)
    rows = find(tree, "projects-alerts-grid").rowData
    assert len(rows) == len(alerts)
    assert {r["clause"] for r in rows} >= {"赣府厅发〔2023〕12号 第二十九条", "赣府厅发〔2023〕12号 第二十八条"}
    chip = find(tree, "projects-rule-overdue")
    assert str(summary.set_index("rule_id").loc["overdue", "count"]) in texts(chip)
    narrowed = page.layout(region="360000", month="2026-10", rule="overdue")
    assert {r["rule_id"] for r in find(narrowed, "projects-alerts-grid").rowData} == {"overdue"}


def test_the_gantt_shows_the_chosen_units_projects_with_planned_finish(page):
    units = alert_table("360000", "2026-10", scope=SCOPE)[0]["owner_unit"].value_counts()
    unit = units.index[-1]
    tree = page.layout(region="360000", month="2026-10", unit=unit)
    expected = unit_gantt("360000", "2026-10", unit, scope=SCOPE)
    fig = graph(tree, "projects-gantt").figure
    bars = [i for t in fig["data"] if t["type"] == "bar" for i in t["y"]]
    assert sorted(bars) == sorted(expected["project_id"])
    marker = next(t for t in fig["data"] if t["name"] == "计划完工")
    assert len(marker["x"]) == expected["planned_finish"].notna().sum()
    assert find_unit(tree) == unit


def test_a_project_in_the_url_opens_its_detail(page):
    pid = unit_gantt("360000", "2026-10", "江西省数据局", scope=SCOPE)["project_id"].iloc[0]
    tree = page.layout(project=pid)
    detail = find(tree, "projects-detail")
    text = texts(detail)
    for label in ["项目编号", pid, "建设资金", "运维资金", "生命周期", "申报", "上政务云", "等保级别", "在办预警"]:
        assert label in text
    assert find(tree, "projects-detail-close").href == "/projects"
    missing = find(page.layout(project="P0000000"), "projects-detail")
    assert "未找到项目：P0000000" in texts(missing)


def test_bad_url_input_gets_a_chinese_message(page):
    assert "未知的地区代码：999999" in texts(page.layout(region="999999"))
    assert "未知的项目档次" in texts(page.layout(tier="巨大"))
    assert "未知的预警规则" in texts(page.layout(rule="x"))
    assert "月份格式不正确" in texts(page.layout(month="2025-13"))
    assert "月份超出数据范围" in texts(page.layout(month="2031-01"))


def test_a_month_without_projects_shows_empty_states(page):
    tree = page.layout(month="2021-11")  # the demo's first month: no project applied yet
    assert "暂无数据" in texts(find(tree, "projects-funnel"))
    assert "暂无预警" in texts(find(tree, "projects-alerts"))
    assert "暂无数据" in texts(find(tree, "projects-gantt"))


def test_clicking_a_row_of_the_alert_table_puts_the_project_in_the_url(page):
    search = "?region=360100&tier=%E4%B8%80%E8%88%AC"
    out = page.open_alert_project({"colId": "view", "rowId": "P20240333|overdue", "value": "查看"}, search)
    assert out == "?region=360100&tier=%E4%B8%80%E8%88%AC&project=P20240333"
    assert page.open_alert_project({"colId": "detail", "rowId": "P1|overdue"}, search) is no_update
    assert page.open_alert_project(None, search) is no_update
