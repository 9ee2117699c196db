"""The 督办 page: its layout is a function of the URL and shows what the task view computes."""

from urllib.parse import urlencode

import pytest
from dash import html

import app  # noqa: F401 — registers the pages
from data.scope import Scope
from metrics.tasks_view import task_list, task_summary, tasks_by_lead
from pages import tasks
from tests.pages.tree import by_id, graph, texts, walk

pytestmark = pytest.mark.usefixtures("demo_env", "environment_viewer")  # called as the demo viewer
PROVINCE = Scope.province("360000")


def test_the_cards_show_the_counts_of_the_task_view():
    page = tasks.layout(month="2026-10")
    summary = task_summary("360000", "2026-10", scope=PROVINCE)
    for key in ("total", "done", "in_progress", "overdue", "long_term"):
        assert str(summary[key]) in texts(by_id(page, f"tasks-card-{key}"))
    assert "截至2026年10月31日（逾期判定日）" in texts(page)


def test_every_task_is_a_row_and_overdue_rows_say_by_how_many_days():
    page = tasks.layout(month="2023-08")
    df = task_list("360000", "2023-08", scope=PROVINCE)
    rows = [c for c in walk(page) if isinstance(c, html.Tr) and str(getattr(c, "id", "")).startswith("tasks-row-")]
    assert len(rows) == len(df) == 12
    row6 = by_id(page, "tasks-row-6")
    assert "tasks-row--overdue" in row6.className and "逾期31天" in texts(row6)  # 7月底, 推进中
    assert "tasks-row--overdue" not in by_id(page, "tasks-row-1").className  # 已完成
    assert "逾期" not in texts(by_id(page, "tasks-row-12"))  # 长期
    assert "六、" in texts(row6) and "2023-07-31" in texts(row6) and "7月底" in texts(row6)


def test_a_task_link_opens_its_full_text_and_keeps_the_rest_of_the_url():
    page = tasks.layout(month="2023-08", lead="省政府办公厅")
    expected = {"month": "2023-08", "lead": "省政府办公厅", "task": "6"}
    assert by_id(page, "tasks-link-6").href == "?" + urlencode(expected)
    page = tasks.layout(month="2023-08", task="6")
    summary = task_list("360000", "2023-08", scope=PROVINCE).set_index("task_id").loc[6, "summary"]
    detail = texts(by_id(page, "tasks-detail"))
    assert summary in detail and "逾期31天" in detail and "赣府厅字〔2023〕35号" in detail


def test_the_lead_filter_keeps_the_tasks_of_that_unit():
    page = tasks.layout(month="2026-10", lead="省政务服务办")
    rows = [c.id for c in walk(page) if isinstance(c, html.Tr) and str(getattr(c, "id", "")).startswith("tasks-row-")]
    assert rows == ["tasks-row-4", "tasks-row-7"]
    assert "筛选：省政务服务办" in texts(page)


def test_the_status_filter_keeps_the_overdue_tasks_and_the_bars_follow_it():
    page = tasks.layout(month="2026-10", status="逾期")
    rows = [c.id for c in walk(page) if isinstance(c, html.Tr) and str(getattr(c, "id", "")).startswith("tasks-row-")]
    assert rows == ["tasks-row-4", "tasks-row-6"]
    fig = graph(page, "tasks-lead-bar").figure
    expected = tasks_by_lead("360000", "2026-10", scope=PROVINCE, status="逾期")
    overdue = next(t for t in fig.data if t.name == "逾期")
    assert dict(zip(overdue.y, overdue.x, strict=True)) == dict(zip(expected.lead_unit, expected.overdue, strict=True))


def test_a_bar_carries_its_lead_unit_for_the_cross_filter_click():
    fig = graph(tasks.layout(month="2026-10"), "tasks-lead-bar").figure
    units = tasks_by_lead("360000", "2026-10", scope=PROVINCE)["lead_unit"].tolist()
    assert [c[0] for c in fig.data[0].customdata] == units[::-1]
    assert "截至2026年10月31日" in fig.layout.xaxis.title.text


def test_a_city_without_tasks_shows_the_empty_state():
    page = tasks.layout(region="360100")
    assert "南昌市暂无督办任务" in texts(page)
    assert any(getattr(c, "className", "") == "empty-state" for c in walk(page))


@pytest.mark.parametrize("params, message", [
    ({"region": "999999"}, "未知的地区代码：999999"),
    ({"status": "拖延"}, "未知的任务状态：'拖延'"),
    ({"lead": "省财政厅"}, "未知的牵头单位：'省财政厅'"),
    ({"task": "abc"}, "未找到督办任务：'abc'"),
    ({"month": "2023-13"}, "月份格式不正确"),
])
def test_bad_url_input_gets_a_chinese_message(params, message):
    page = tasks.layout(**params)
    assert message in by_id(page, "tasks-error").children
