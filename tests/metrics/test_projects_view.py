"""The 项目 page's data on the hand-built fixture (every number worked out below) and on the demo.

Fixture projects (tests/metrics/fixture_db.py), both tier 一般, planned finish 2024-12-31:
- P1 东湖区政务服务平台 (东湖区 360102, D01, 100 万元): applied 2023-10-01, approved 2023-12-01,
  started 2024-02-01; 建设 paid 10 + 20 + 30 = 60 万元 in 2025-01…03.
- P2 浮梁县数据中台 (浮梁县 360222, D02, 300 万元): applied 2024-01-05, approved 2024-03-01;
  建设 paid 24 万元 in 2025-03; 运维 budget 40 万元 for 2025.
"""

from datetime import date

import pandas as pd
import pytest

from data.scope import Scope
from metrics.engine import kpi_breakdown, kpi_value
from metrics.projects_view import (
    ProjectsInputError,
    alert_table,
    month_end,
    owner_units,
    portfolio_split,
    project_detail,
    projects_view,
    stage_funnel,
    unit_gantt,
)
from metrics.rules import project_alerts


def _current(funnel: pd.DataFrame) -> dict:
    """{stage: count} of the stages holding any project."""
    return {r.stage: r.count for r in funnel.itertuples() if r.count}


@pytest.mark.usefixtures("fixture_env")
class TestOnTheFixture:
    def test_a_month_end_is_the_last_day_of_the_month(self):
        assert month_end("2024-02") == date(2024, 2, 29)
        assert month_end("2025-03") == date(2025, 3, 31)

    def test_the_funnel_counts_each_project_at_its_latest_stage_by_the_month_end(self, province):
        # 2025-03-31: P1 last reached 实施（开工） (2024-02-01), P2 批复立项 (2024-03-01)
        f = stage_funnel("360000", "2025-03", scope=province)
        assert _current(f) == {"started": 1, "approved": 1}
        assert f.set_index("stage").loc["started", "budget"] == 100.0
        assert f.set_index("stage").loc["approved", "budget"] == 300.0
        # 2024-01-31: P1 approved (2023-12-01), P2 only applied (2024-01-05)
        assert _current(stage_funnel("360000", "2024-01", scope=province)) == {"approved": 1, "applied": 1}
        # 2023-11-30: P2 not yet applied, P1 applied on 2023-10-01
        assert _current(stage_funnel("360000", "2023-11", scope=province)) == {"applied": 1}

    def test_the_funnel_lists_every_stage_in_order_with_termination_last(self, province):
        f = stage_funnel("360000", "2025-03", scope=province)
        assert f["label"].tolist() == ["申报", "论证评估", "联合会审", "批复立项", "招标采购", "实施（开工）", "试运行",
                                       "初验", "终验", "竣工验收", "运维", "绩效评价", "终止"]
        assert f["terminated"].tolist() == [False] * 12 + [True]
        assert f.loc[f.terminated, "count"].item() == 0

    def test_the_funnel_totals_agree_with_the_engine(self, province):
        f = stage_funnel("360000", "2025-03", scope=province)
        alive = f[~f.terminated]
        assert alive["count"].sum() == kpi_value("project_count", "360000", "2025-03", "month", scope=province).value
        assert alive["budget"].sum() == kpi_value("project_budget", "360000", "2025-03", "month",
                                                  scope=province).value == 400.0

    def test_the_tier_cross_filter_narrows_the_funnel(self, province):
        assert _current(stage_funnel("360000", "2025-03", scope=province, tier="较大")) == {}
        assert _current(stage_funnel("360000", "2025-03", scope=province, tier="一般")) == {"started": 1,
                                                                                          "approved": 1}

    def test_the_funnel_is_limited_to_the_region_and_the_scope(self, province):
        assert _current(stage_funnel("360100", "2025-03", scope=province)) == {"started": 1}
        county = Scope(regions=("360222",))
        assert _current(stage_funnel("360222", "2025-03", scope=county)) == {"approved": 1}
        dept = Scope(regions=("360000",), departments=("D01",))
        assert _current(stage_funnel("360000", "2025-03", scope=dept)) == {"started": 1}

    def test_the_tier_split_keeps_every_tier_in_order(self, province):
        s = portfolio_split("360000", "2025-03", scope=province)
        assert s["member"].tolist() == ["较小", "一般", "较大", "省重点"]
        assert s["count"].tolist() == [0, 2, 0, 0]
        assert s["budget"].tolist() == [0, 400, 0, 0]

    def test_the_gantt_bar_runs_from_approval_to_the_month_end_while_ongoing(self, province):
        g = unit_gantt("360000", "2025-03", "东湖区政务服务中心", scope=province)
        assert g["project_id"].tolist() == ["P1"]
        row = g.iloc[0]
        assert row.bar_start == pd.Timestamp("2023-12-01")  # approval, not application
        assert row.bar_end == pd.Timestamp("2025-03-31")  # ongoing: to the month end
        assert row.planned_finish == pd.Timestamp("2024-12-31")
        # started, not accepted, past 2024-12-31 → overdue
        assert bool(row.is_overdue) and row.status == "逾期" and bool(row.is_ongoing)
        mid = unit_gantt("360000", "2024-06", "东湖区政务服务中心", scope=province).iloc[0]
        assert mid.status == "建设中" and mid.bar_end == pd.Timestamp("2024-06-30")

    def test_a_project_before_approval_starts_its_bar_at_application(self, province):
        row = unit_gantt("360000", "2024-02", "浮梁县数据局", scope=province).iloc[0]
        assert row.status == "前期" and row.bar_start == pd.Timestamp("2024-01-05")
        assert unit_gantt("360000", "2025-03", "浮梁县数据局", scope=province).iloc[0].status == "未开工"

    def test_owner_units_come_with_most_alerts_first(self, province):
        u = owner_units("360000", "2025-03", scope=province)
        # one project and one alert each; ties go by name
        assert u[["owner_unit", "projects", "alerts"]].values.tolist() == [
            ["东湖区政务服务中心", 1, 1], ["浮梁县数据局", 1, 1]]
        assert u["budget"].tolist() == [100.0, 300.0]

    def test_alerts_come_most_overdue_first_and_narrow_by_rule(self, province):
        alerts, summary = alert_table("360000", "2025-03", scope=province)
        # P2 not started: 2024-09-01 → 2025-03-31 = 211 days; P1 overdue: 2024-12-31 → 2025-03-31 = 90 days
        assert alerts[["row_key", "days_over"]].values.tolist() == [["P2|not_started_6m", 211], ["P1|overdue", 90]]
        assert alerts["clause"].tolist() == ["赣府厅发〔2023〕12号 第二十九条", "赣府厅发〔2023〕12号 第二十八条"]
        only, summary2 = alert_table("360000", "2025-03", scope=province, rule="overdue")
        assert only["project_id"].tolist() == ["P1"]
        # the summary counts every rule before the narrowing
        assert summary2.equals(summary)
        assert summary.set_index("rule_id")["count"][["overdue", "not_started_6m", "over_budget"]].tolist() == [1, 1, 0]

    def test_alerts_follow_the_tier_cross_filter(self, province):
        alerts, summary = alert_table("360000", "2025-03", scope=province, tier="省重点")
        assert alerts.empty and summary["count"].sum() == 0

    def test_bad_url_values_get_chinese_messages(self, province):
        with pytest.raises(ProjectsInputError, match="未知的项目档次"):
            stage_funnel("360000", "2025-03", scope=province, tier="特大")
        with pytest.raises(ProjectsInputError, match="未知的预警规则"):
            alert_table("360000", "2025-03", scope=province, rule="nope")
        with pytest.raises(ProjectsInputError, match="未知的漏斗口径"):
            projects_view("360000", "2025-03", scope=province, funnel="pie")
        with pytest.raises(ProjectsInputError, match="月份超出数据范围：2030-01"):
            projects_view("360000", "2030-01", scope=province)

    def test_the_detail_gives_money_events_and_flags_at_the_month_end(self, province):
        d = project_detail("P1", "2025-03", scope=province)
        assert (d["name"], d["owner_unit"], d["county_name"], d["tier"]) == ("东湖区政务服务平台", "东湖区政务服务中心",
                                                                           "东湖区", "一般")
        build, om = d["money"]
        # 建设: 60 paid of 100 approved = 60%; 运维: nothing allotted, nothing paid
        assert (build["budget"], build["paid"], build["progress"]) == (100.0, 60.0, 60.0)
        assert (om["budget"], om["paid"], om["progress"], om["bar"]) == (0.0, 0.0, None, 0.0)
        reached = [(e["label"], e["date"]) for e in d["events"] if e["date"]]
        assert reached == [("申报", date(2023, 10, 1)), ("批复立项", date(2023, 12, 1)),
                           ("实施（开工）", date(2024, 2, 1))]
        assert len(d["events"]) == 12  # every stage but 终止, which never happened
        assert d["stage"] == "started" and d["stage_label"] == "实施（开工）"
        assert d["planned_finish"] == date(2024, 12, 31)
        flags = {f["name"]: f["value"] for f in d["flags"]}
        assert flags == {"上政务云": "是", "数据共享确认": "未确认", "密码测评": "未测评", "等保级别": "第2级",
                         "绩效得分": "尚未评价"}
        assert d["alerts"]["rule_id"].tolist() == ["overdue"]

    def test_the_detail_is_as_of_the_selected_month(self, province):
        d = project_detail("P1", "2024-01", scope=province)
        assert d["money"][0]["paid"] == 0.0  # payments start in 2025
        assert [e["label"] for e in d["events"] if e["date"]] == ["申报", "批复立项"]
        assert d["alerts"].empty
        p2 = project_detail("P2", "2025-03", scope=province)
        # 24 of 300 = 8%; the 2025 运维 budget of 40 is allotted, nothing paid yet
        assert [(m["paid"], m["budget"], m["progress"]) for m in p2["money"]] == [(24.0, 300.0, 8.0), (0.0, 40.0, 0.0)]

    def test_the_detail_of_an_unknown_or_hidden_project_is_none(self, province):
        assert project_detail("P9", "2025-03", scope=province) is None
        assert project_detail("P1'; DROP TABLE project; --", "2025-03", scope=province) is None
        assert project_detail("P1", "2025-03", scope=Scope(regions=("360222",))) is None
        assert project_detail("P1", "2025-03", scope=Scope(regions=("360000",), departments=("D02",))) is None

    def test_the_page_view_defaults_to_the_latest_month_and_the_unit_with_most_alerts(self, province):
        v = projects_view(None, None, scope=province)
        assert (v["region"], v["month"], v["stock_label"]) == ("360000", "2025-03", "截至2025年3月末")
        assert v["unit"] == "东湖区政务服务中心" and v["unit_note"] is None
        cards = {c["kpi_id"]: c["value"] for c in v["cards"]}
        assert cards["project_count"] == 2 and cards["project_budget"] == 400 and cards["overdue_projects"] == 1
        assert all(c["period_name"] == "时点" for c in v["cards"])
        other = projects_view(None, None, scope=province, unit="不存在的单位")
        assert other["unit"] == "东湖区政务服务中心" and "不存在的单位" in other["unit_note"]


@pytest.mark.usefixtures("demo_env")
class TestOnTheDemo:
    SCOPE = Scope.province("360000")

    @pytest.mark.parametrize("region, month", [("360000", "2026-10"), ("360700", "2025-06")])
    def test_the_funnel_agrees_with_the_engine(self, region, month):
        f = stage_funnel(region, month, scope=self.SCOPE)
        alive = f[~f.terminated]
        assert alive["count"].sum() == kpi_value("project_count", region, month, "month", scope=self.SCOPE).value
        assert alive["budget"].sum() == pytest.approx(
            kpi_value("project_budget", region, month, "month", scope=self.SCOPE).value)

    def test_each_tier_funnel_matches_the_engine_breakdown(self):
        b = kpi_breakdown("project_count", "360000", "2026-10", "month", dim="tier", scope=self.SCOPE)
        for tier, value in zip(b["member"], b["value"], strict=True):
            f = stage_funnel("360000", "2026-10", scope=self.SCOPE, tier=tier)
            assert f.loc[~f.terminated, "count"].sum() == value

    def test_the_alert_table_holds_every_rule_alert(self):
        alerts, summary = alert_table("360000", "2026-10", scope=self.SCOPE)
        breaches = summary.loc[summary["severity"] == "预警", "count"].sum()
        assert len(alerts) == len(project_alerts("360000", "2026-10", scope=self.SCOPE)) == breaches
        assert alerts["clause"].str.startswith("赣府厅发〔2023〕12号 第").all()

    def test_the_reminders_have_their_own_chip_and_rows(self):
        # 绩效自评 inside its 6–12 month window: listed on this page, kept out of the breaches
        soon, summary = alert_table("360000", "2026-10", scope=self.SCOPE, rule="self_eval_upcoming")
        counted = summary.set_index("rule_id").loc["self_eval_upcoming"]
        assert counted["severity"] == "提示" and counted["count"] == len(soon) >= 1
        assert set(soon["severity"]) == {"提示"} and soon["days_over"].isna().all()
        every = project_alerts("360000", "2026-10", scope=self.SCOPE, reminders=True)
        assert len(every) == summary["count"].sum()

    def test_the_default_unit_has_the_most_alerts(self):
        v = projects_view("360000", "2026-10", scope=self.SCOPE)
        counts = v["alerts"].groupby("owner_unit").size()
        assert counts[v["unit"]] == counts.max()
        assert set(v["gantt"]["owner_unit"]) == {v["unit"]}
