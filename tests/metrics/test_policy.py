"""The catalogue reads the policy right (#14 §9): each correction pinned on hand-worked data.

The lifecycle fixture (tests/metrics/fixture_db.py) has, at the end of 2024-10:
  P4  竣工验收 2023-11-10, 数据共享已确认, no 绩效自评 (its 6–12 month window: 2024-05-10 … 2024-11-10)
  P5  终验 2024-05-20 but no 竣工验收, 数据共享未确认
  P6  竣工验收 2024-02-15, 数据共享未确认, 绩效自评 2024-08-20
"""

from __future__ import annotations

import pytest

from data import db
from data.scope import Scope
from metrics.cache import clear_all
from metrics.catalogue import load_catalogue
from metrics.engine import kpi_value
from metrics.materialize import materialize
from metrics.results import refresh as refresh_results
from metrics.rules import BREACH, REMINDER, alert_summary, project_alerts
from tests.metrics import fixture_db

PROVINCE = Scope.province("360000")


@pytest.fixture(scope="module")
def lifecycle_db(tmp_path_factory):
    return fixture_db.build_lifecycle(tmp_path_factory.mktemp("policy") / "lifecycle.duckdb")


@pytest.fixture
def lifecycle(lifecycle_db, monkeypatch):
    monkeypatch.setenv("COCKPIT_DB", str(lifecycle_db))
    db.reset_reader()
    clear_all()
    yield
    db.reset_reader()
    clear_all()


@pytest.fixture(scope="module")
def general_items_db(tmp_path_factory):
    """The fixture with 食品经营许可 (SX2) marked 法定须现场办理 and 机动车驾驶证换证 (SX1) fully
    online in 2025-03."""
    path = fixture_db.build(tmp_path_factory.mktemp("policy") / "general.duckdb")
    with db.connect_writer(path) as con:
        con.execute("UPDATE service_item SET onsite_required = true WHERE item_code = 'SX2'")
        con.execute("UPDATE service_monthly SET is_full_online = 1 WHERE item_code = 'SX1' AND month = '2025-03-01'")
        materialize(con)
        refresh_results(con)  # as a publish of these rows would
    return path


# ------------------------------------------------------------------ 数据共享达标率 (第三十条)


@pytest.mark.usefixtures("lifecycle")
def test_data_sharing_is_measured_over_the_projects_that_reached_completion():
    r = kpi_value("data_share_compliance", "360000", "2024-10", "month", scope=PROVINCE)
    # 竣工验收: P4 (confirmed) and P6 (not); P5 has only 终验 and is not counted (at 终验 it would be 1/3)
    assert (r.numerator, r.denominator, r.value) == (1, 2, 50.0)
    assert "竣工验收" in load_catalogue().kpi("data_share_compliance").caliber


# ------------------------------------------------------------------ 绩效自评 (第四十条)


@pytest.mark.usefixtures("lifecycle")
def test_a_project_inside_its_six_to_twelve_month_window_is_due_soon_not_a_breach():
    card = kpi_value("self_eval_due", "360000", "2024-10", "month", scope=PROVINCE)
    assert (card.value, card.rag) == (0.0, "green")
    assert "self_eval_upcoming" not in set(project_alerts("360000", "2024-10", scope=PROVINCE).rule_id)
    listed = project_alerts("360000", "2024-10", scope=PROVINCE, reminders=True)
    soon = listed[listed["rule_id"] == "self_eval_upcoming"]
    assert soon[["project_id", "severity", "rule_name"]].values.tolist() == [["P4", REMINDER, "绩效自评即将到期"]]
    assert soon["days_over"].isna().all()
    assert "应于 2024-11-10 前完成绩效自评" in soon["detail"].iloc[0]


@pytest.mark.usefixtures("lifecycle")
def test_after_twelve_months_without_a_self_evaluation_the_card_turns_red():
    card = kpi_value("self_eval_due", "360000", "2024-12", "month", scope=PROVINCE)
    assert (card.value, card.rag) == (1.0, "red")  # red from the first project
    a = project_alerts("360000", "2024-12", scope=PROVINCE, rules=["self_eval_due"])
    # the window closed on 2024-11-10: 51 days to 2024-12-31
    assert a[["project_id", "severity", "days_over"]].values.tolist() == [["P4", BREACH, 51]]
    # P6 evaluated within its window: nothing
    assert set(project_alerts("360000", "2024-12", scope=PROVINCE, reminders=True).project_id) & {"P6"} == set()


@pytest.mark.usefixtures("lifecycle")
def test_reminders_stay_out_of_the_breach_counts():
    everything = project_alerts("360000", "2024-10", scope=PROVINCE, reminders=True)
    assert "self_eval_upcoming" not in set(alert_summary(everything).rule_id)
    with_reminders = alert_summary(everything, reminders=True).set_index("rule_id")
    assert with_reminders.loc["self_eval_upcoming", ["severity", "count"]].tolist() == [REMINDER, 1]


# ------------------------------------------------------------------ 全程网办率 (黔府发〔2023〕21号)


def test_full_online_rate_counts_general_items_against_one_hundred(general_items_db, monkeypatch):
    monkeypatch.setenv("COCKPIT_DB", str(general_items_db))
    db.reset_reader()
    clear_all()
    try:
        r = kpi_value("full_online_rate", "360000", "2025-03", "month", scope=PROVINCE)
    finally:
        db.reset_reader()
        clear_all()
    # 2025-03 rows: 东湖区 SX1 SX3, 西湖区 SX1, 浮梁县 SX2 (须现场办理, left out): SX1 twice of three
    assert (r.numerator, r.denominator) == (2, 3)
    assert r.value == pytest.approx(200 / 3)
    assert r.target == 100.0 and r.rag == "red"  # 33.3 个百分点 short of 100
    kpi = load_catalogue().kpi("full_online_rate")
    assert "实现一般政务服务事项100%“全程网办”" in kpi.source and "黔府发〔2023〕21号" in kpi.source


# ------------------------------------------------------------------ sources


def test_the_one_thing_target_is_local_configuration():
    source = load_catalogue().kpi("one_thing_count").source
    assert source.startswith("本地配置项") and "由30项增至100项" not in source
    assert "一张表单" in source  # the 100 of seed 001 are 一张表单 items


def test_the_cloud_rate_names_yantais_document_by_its_title():
    assert "《关于加强我市数字政府建设的实施意见》（烟政办发〔2019〕7号）" in load_catalogue().kpi("cloud_rate").source


def test_the_composite_dimensions_are_attributed_to_the_safeguards_text():
    from metrics.composite import COMPOSITE_PATH

    header = COMPOSITE_PATH.read_text(encoding="utf-8").split("\n\n")[0]
    assert "篇六" in header and "评估考核保障" in header
    assert "Dimensions after 赣府厅字〔2023〕35号" not in header
