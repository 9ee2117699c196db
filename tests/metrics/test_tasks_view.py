"""督办 view: overdue flags, counts and filters, worked by hand on six tasks in the fixture regions."""

import shutil
from datetime import date

import duckdb
import pandas as pd
import pytest

from data import db
from data.scope import Scope, ScopeError
from metrics.tasks_view import (
    TaskParamError,
    as_of_day,
    numeral,
    task_list,
    task_summary,
    tasks_by_lead,
    tasks_page,
)

SRC = "测试依据"
# task_id, title, lead units, deadline text, deadline, status, progress, region
TASKS = [
    (1, "甲任务", "省政府办公厅、省发展改革委", "6月底", "2023-06-30", "推进中", 60, "360000"),
    (2, "乙任务", "省政府办公厅", "7月底", "2023-07-31", "推进中", 40, "360000"),
    (3, "丙任务", "省发展改革委", "6月底", "2023-06-30", "已完成", 100, "360000"),
    (4, "丁任务", "省委网信办", "长期", None, "持续推进", 80, "360000"),
    (5, "戊任务", "南昌市数据局", "12月底", "2023-12-31", "未开始", 0, "360100"),
    (6, "己任务", "浮梁县政府", "10月底", "2023-10-31", "推进中", 50, "360222"),
]


@pytest.fixture(scope="module")
def tasks_db_path(fixture_db_path, tmp_path_factory):
    """The hand-built fixture plus the six tasks above."""
    path = tmp_path_factory.mktemp("tasks") / "tasks.duckdb"
    shutil.copy(fixture_db_path, path)
    con = duckdb.connect(str(path))
    try:
        con.executemany("INSERT INTO task (task_id, title, summary, lead_units, deadline_text, deadline, status,"
                        " progress, progress_note, region_code, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [(i, t, f"{t}的全文", lead, dt, d, s, p, f"{t}的进展", r, SRC)
                         for i, t, lead, dt, d, s, p, r in TASKS])
    finally:
        con.close()
    return path


@pytest.fixture
def tasks_env(tasks_db_path, monkeypatch):
    monkeypatch.setenv("COCKPIT_DB", str(tasks_db_path))
    db.reset_reader()
    yield tasks_db_path
    db.reset_reader()


pytestmark = pytest.mark.usefixtures("tasks_env")


def overdue(df) -> dict[int, int]:
    return {int(r.task_id): int(r.days_overdue) for r in df.itertuples() if r.is_overdue}


def test_the_as_of_day_is_the_last_day_of_the_month():
    assert as_of_day("2023-07") == date(2023, 7, 31)
    assert as_of_day("2024-02") == date(2024, 2, 29)


def test_a_task_due_at_the_end_of_june_and_still_in_progress_is_31_days_overdue_at_the_end_of_july(province):
    # as of 2023-07-31: 甲 (due 06-30, 推进中) is 31 days over; 乙 is due 07-31 itself, not yet over;
    # 丙 (due 06-30) is 已完成; 丁 is 长期; 戊 and 己 are due later
    assert overdue(task_list("360000", "2023-07", scope=province)) == {1: 31}


def test_a_month_later_the_task_due_at_the_end_of_july_is_overdue_too(province):
    # as of 2023-08-31: 甲 31 + 31 = 62 days, 乙 31 days
    assert overdue(task_list("360000", "2023-08", scope=province)) == {1: 62, 2: 31}


def test_completed_and_long_term_tasks_are_never_overdue(province):
    df = task_list("360000", "2030-12", scope=province).set_index("task_id")
    assert not df.loc[3, "is_overdue"] and not df.loc[4, "is_overdue"]
    assert pd.isna(df.loc[4, "deadline"]) and pd.isna(df.loc[4, "days_overdue"])
    assert overdue(df.reset_index()) == {1: 2741, 2: 2710, 5: 2557, 6: 2618}  # days from each deadline to 2030-12-31


def test_tasks_are_numbered_as_in_the_work_plan():
    assert [numeral(n) for n in (1, 9, 10, 11, 12, 20, 21)] == ["一", "九", "十", "十一", "十二", "二十", "二十一"]
    assert task_list("360000", "2023-07", scope=Scope.province("360000"))["number"].tolist()[:3] == ["一", "二", "三"]


def test_the_summary_counts_each_status_overdue_and_long_term(province):
    # 2023-07: 6 tasks; 已完成 丙; 推进中 甲 乙 己; overdue 甲; 长期 丁
    assert task_summary("360000", "2023-07", scope=province) == {
        "total": 6, "done": 1, "in_progress": 3, "overdue": 1, "long_term": 1}


def test_the_summary_follows_the_lead_unit_filter(province):
    # 省发展改革委 leads 甲 (推进中, overdue) and 丙 (已完成)
    assert task_summary("360000", "2023-07", scope=province, lead="省发展改革委") == {
        "total": 2, "done": 1, "in_progress": 1, "overdue": 1, "long_term": 0}


def test_a_jointly_led_task_counts_for_each_lead_unit(province):
    df = tasks_by_lead("360000", "2023-07", scope=province).set_index("lead_unit")
    # 省政府办公厅: 甲 (overdue) + 乙 (open); 省发展改革委: 甲 (overdue) + 丙 (done)
    assert df.loc["省政府办公厅", ["tasks", "done", "open", "overdue"]].tolist() == [2, 0, 1, 1]
    assert df.loc["省发展改革委", ["tasks", "done", "open", "overdue"]].tolist() == [2, 1, 0, 1]
    assert df.loc["省委网信办", ["tasks", "done", "open", "overdue"]].tolist() == [1, 0, 1, 0]
    assert set(df.index) == {"省政府办公厅", "省发展改革委", "省委网信办", "南昌市数据局", "浮梁县政府"}
    assert (df["done"] + df["open"] + df["overdue"] == df["tasks"]).all()


def test_the_status_filter_selects_a_status_or_the_overdue_tasks(province):
    assert task_list("360000", "2023-08", scope=province, status="逾期")["task_id"].tolist() == [1, 2]
    assert task_list("360000", "2023-08", scope=province, status="推进中")["task_id"].tolist() == [1, 2, 6]
    assert task_list("360000", "2023-08", scope=province, lead="省发展改革委")["task_id"].tolist() == [1, 3]
    by_lead = tasks_by_lead("360000", "2023-08", scope=province, status="逾期").set_index("lead_unit")
    assert by_lead["overdue"].to_dict() == {"省政府办公厅": 2, "省发展改革委": 1}


def test_a_region_shows_its_own_tasks_and_those_below_it(province):
    assert task_list("360100", "2023-07", scope=province)["task_id"].tolist() == [5]
    assert task_list("360200", "2023-07", scope=province)["task_id"].tolist() == [6]
    assert task_list("360103", "2023-07", scope=province).empty


def test_a_city_viewer_sees_only_the_tasks_of_its_city():
    city = Scope(regions=("360100",))
    assert task_list("360100", "2023-07", scope=city)["task_id"].tolist() == [5]
    with pytest.raises(ScopeError):
        task_list("360000", "2023-07", scope=city)
    with pytest.raises(ScopeError):
        tasks_by_lead("360200", "2023-07", scope=city)


def test_a_missing_scope_fails_closed():
    with pytest.raises(ScopeError):
        task_list("360000", "2023-07", scope=None)
    with pytest.raises(ScopeError):
        tasks_page("360000", "2023-07", scope=None)


def test_the_page_data_cross_filters_cards_by_lead_and_bars_by_status(province):
    data = tasks_page("360000", "2023-08", "逾期", "省发展改革委", "3", scope=province)
    assert data["tasks"]["task_id"].tolist() == [1]  # both filters
    assert data["summary"]["total"] == 2  # lead only: 甲, 丙
    assert data["by_lead"]["lead_unit"].tolist() == ["省政府办公厅", "省发展改革委"]  # status only
    assert data["task"]["title"] == "丙任务" and data["task"]["summary"] == "丙任务的全文"  # shown though filtered out
    assert data["period_label"] == "截至2023年8月31日"
    assert data["lead_units"][0] == "省政府办公厅"


@pytest.mark.parametrize("kwargs, message", [
    ({"status": "已逾期"}, "未知的任务状态：'已逾期'"),
    ({"lead": "省财政厅"}, "未知的牵头单位：'省财政厅'"),
    ({"task": "99"}, "未找到督办任务：'99'"),
])
def test_bad_url_filters_get_a_chinese_message(province, kwargs, message):
    with pytest.raises(TaskParamError, match=message):
        tasks_page("360000", "2023-08", scope=province, **kwargs)


def test_the_all_choice_means_no_filter(province):
    data = tasks_page("360000", "2023-08", "全部", "全部", scope=province)
    assert data["status"] is None and data["lead"] is None and len(data["tasks"]) == 6


def test_the_demo_has_the_twelve_tasks_of_the_jiangxi_work_plan(demo_env):
    province = Scope.province("360000")
    raw = db.query("SELECT count(*) AS n FROM task", {})["n"].iloc[0]
    assert task_summary("360000", "2026-10", scope=province) == {
        "total": raw, "done": 9, "in_progress": 2, "overdue": 2, "long_term": 1}
    # 六、建设决策指挥平台 (7月底, 推进中) is 31 days overdue at the end of August 2023
    assert overdue(task_list("360000", "2023-08", scope=province)) == {6: 31}
