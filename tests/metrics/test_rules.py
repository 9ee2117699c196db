"""Project-rule alerts on the fixture: P1 overdue, P2 approved but never started."""

import pytest

from data.scope import Scope
from metrics.rules import alert_summary, project_alerts

pytestmark = pytest.mark.usefixtures("fixture_env")


def test_each_alert_names_its_rule_its_clause_and_days_over(province):
    a = project_alerts("360000", "2025-03", scope=province).set_index("rule_id")
    # P2 approved 2024-03-01; + 6 months = 2024-09-01; to 2025-03-31 → 211 days
    assert a.loc["not_started_6m", "project_id"] == "P2"
    assert a.loc["not_started_6m", "days_over"] == 211
    assert a.loc["not_started_6m", "clause"] == "赣府厅发〔2023〕12号 第二十九条"
    # P1 planned to finish 2024-12-31, started, not accepted → 90 days by 2025-03-31
    assert a.loc["overdue", "project_id"] == "P1"
    assert a.loc["overdue", "days_over"] == 90
    assert a.loc["overdue", "owner_unit"] == "东湖区政务服务中心"


def test_a_project_not_yet_six_months_after_approval_raises_no_alert(province):
    # at 2024-08 P2 was approved only five months earlier
    a = project_alerts("360000", "2024-08", scope=province)
    assert "not_started_6m" not in set(a.rule_id)


def test_alerts_are_limited_to_the_region_and_the_scope(province):
    assert project_alerts("360100", "2025-03", scope=province).project_id.tolist() == ["P1"]
    county = Scope(regions=("360222",))
    assert project_alerts("360222", "2025-03", scope=county).project_id.tolist() == ["P2"]


def test_the_summary_lists_every_rule_with_its_count(province):
    s = alert_summary(project_alerts("360000", "2025-03", scope=province)).set_index("rule_id")["count"]
    assert s.to_dict() == {"not_started_6m": 1, "overdue": 1, "over_budget": 0, "acceptance_pending": 0,
                           "self_eval_due": 0, "not_on_cloud": 0, "split_suspect": 0}
