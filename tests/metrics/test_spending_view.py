"""The spending page's data: hand-checked on the fixture, and in agreement with the engine on the demo.

Fixture (tests/metrics/fixture_db.py), 2025, in 万元:
  budgets  P1 东湖区政务服务中心 (360102, D01) 建设 120; P2 浮梁县数据局 (360222, D02) 建设 200 + 运维 40
  payments P1 Jan 10, Feb 20, Mar 30; P2 Mar 24 (all 建设, 县级 funds)
"""

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from data.db import read_sql
from data.scope import Scope, ScopeError
from metrics.display import kpi_display, time_progress_gap_text
from metrics.engine import kpi_breakdown, kpi_children, kpi_value
from metrics.spending_view import (
    SpendingInputError,
    below_progress,
    check_department,
    execution_curves,
    execution_split,
    project_payments,
    region_execution,
    spending_cards,
    spending_page,
    time_progress_line,
    unit_execution,
    unit_projects,
)


def approx(x):
    return pytest.approx(x, rel=1e-9, abs=1e-9)


# ---------------------------------------------------------------- fixture, worked by hand


@pytest.mark.usefixtures("fixture_env")
class TestOnTheFixture:
    def test_the_cumulative_curve_is_ytd_payments_over_the_annual_budget(self, province):
        # budget 120 + 240 = 360; paid Jan 10, Feb 10+20 = 30, Mar 30+30+24 = 84
        c = execution_curves("360000", "2025-03", scope=province)
        assert c["year"].tolist() == [2025, 2025, 2025]  # 2023 and 2024 have no budget: no points
        assert c["month_no"].tolist() == [1, 2, 3]
        assert c["paid"].tolist() == [10, 30, 84]
        assert c["budget"].tolist() == [360, 360, 360]
        assert c["value"].tolist() == [approx(10 / 360 * 100), approx(30 / 360 * 100), approx(84 / 360 * 100)]
        assert c["time_progress"].tolist() == [approx(100 / 12), approx(200 / 12), approx(25)]

    def test_the_curve_stops_at_the_selected_month(self, province):
        c = execution_curves("360000", "2025-02", scope=province)
        assert c["month_no"].tolist() == [1, 2]

    def test_time_progress_is_a_straight_line_to_100_in_december(self):
        line = time_progress_line()
        assert line["month_no"].tolist() == list(range(1, 13))
        assert line["value"].tolist() == [approx(m / 12 * 100) for m in range(1, 13)]

    def test_the_cards_read_execution_against_time_progress(self, province):
        cards = {c["kpi_id"]: c for c in spending_cards("360000", "2025-03", scope=province)}
        assert cards["budget_total"]["value"] == approx(360)
        assert cards["paid_total"]["value"] == approx(84)
        ex = cards["budget_execution_rate"]
        # 84/360 = 23.33%, 序时进度 3/12 = 25% → 1.67 个百分点 below: green (amber starts at −5)
        assert ex["value"] == approx(84 / 360 * 100)
        assert ex["target"] == approx(25)
        assert ex["gap"] == approx(84 / 360 * 100 - 25)
        assert ex["rag"] == "green"
        assert kpi_display(ex).gap_text == "低于序时进度 1.7 个百分点"  # the card's note
        assert ex["period_label"] == "2025年1—3月" and ex["period_name"] == "累计"
        assert cards["execution_gap_pp"]["value"] == approx(84 / 360 * 100 - 25)
        assert cards["om_share"]["value"] == approx(40 / 360 * 100)  # 运维 40 of 360

    def test_a_department_filter_narrows_the_cards(self, province):
        # D02 is P2 alone: 24 / 240 = 10%, 15 个百分点 below 25% → red
        cards = {c["kpi_id"]: c for c in spending_cards("360000", "2025-03", scope=province, dept="D02")}
        assert cards["budget_execution_rate"]["value"] == approx(10)
        assert cards["budget_execution_rate"]["rag"] == "red"
        assert kpi_display(cards["budget_execution_rate"]).gap_text == "低于序时进度 15.0 个百分点"

    def test_the_splits_give_execution_paid_and_budget_with_department_names(self, province):
        by_dept = execution_split("360000", "2025-03", "dept_code", scope=province)
        # worst first: D02 10% (gap −15), then D01 60/120 = 50% (gap +25)
        assert by_dept["member"].tolist() == ["D02", "D01"]
        assert by_dept["label"].tolist() == ["市场监督管理局", "公安局"]
        assert by_dept["value"].tolist() == [approx(10), approx(50)]
        assert by_dept["gap"].tolist() == [approx(-15), approx(25)]
        assert by_dept["note"].tolist() == ["低于序时进度 15.0 个百分点", "高于序时进度 25.0 个百分点"]
        by_kind = execution_split("360000", "2025-03", "kind", scope=province).set_index("member")
        assert by_kind.loc["建设", ["paid", "budget"]].tolist() == [84, 320]
        assert by_kind.loc["运维", ["paid", "budget"]].tolist() == [0, 40]
        assert by_kind.loc["运维", "value"] == 0
        by_fund = execution_split("360000", "2025-03", "fund_source", scope=province)
        assert by_fund["member"].tolist() == ["县级"]

    def test_an_owner_units_gap_is_its_execution_minus_time_progress(self, province):
        units = unit_execution("360000", "2025-03", scope=province)
        # 浮梁县数据局 24 / 240 = 10% → −15 (red) comes before 东湖区政务服务中心 60 / 120 = 50% → +25
        assert units["owner_unit"].tolist() == ["浮梁县数据局", "东湖区政务服务中心"]
        fl = units.iloc[0]
        assert (fl["budget_wan"], fl["paid_wan"]) == (240, 24)
        assert fl["execution"] == approx(10) and fl["gap"] == approx(-15)
        assert (fl["rag"], fl["rag_label"], fl["region_label"]) == ("red", "未达标", "景德镇市 浮梁县")
        assert units.iloc[1]["gap"] == approx(25)
        assert below_progress(units)["owner_unit"].tolist() == ["浮梁县数据局"]

    def test_in_february_the_gap_uses_two_twelfths(self, province):
        # 东湖: 30 / 120 = 25% against 16.67% → +8.33; 浮梁: 0 / 240 → −16.67
        units = unit_execution("360000", "2025-02", scope=province).set_index("owner_unit")
        assert units.loc["东湖区政务服务中心", "gap"] == approx(25 - 200 / 12)
        assert units.loc["浮梁县数据局", "gap"] == approx(-200 / 12)

    def test_the_regions_one_level_below_are_ranked_worst_first(self, province):
        regions = region_execution("360000", "2025-03", scope=province)
        assert regions["region_code"].tolist() == ["360200", "360100"]
        assert regions["execution"].tolist() == [approx(10), approx(50)]
        assert regions["gap"].tolist() == [approx(-15), approx(25)]
        assert regions["rag"].tolist() == ["red", "green"]
        assert region_execution("360102", "2025-03", scope=province).empty  # a county has no level below

    def test_a_units_projects_carry_the_year_and_since_approval(self, province):
        df = unit_projects("360000", "2025-03", "浮梁县数据局", scope=province)
        assert df["project_id"].tolist() == ["P2"]
        p2 = df.iloc[0]
        # budget 建设 200 + 运维 40, paid Mar 24; 批复概算 300, approved 2024-03 so all 24 is since approval
        assert (p2["budget_wan"], p2["paid_wan"]) == (240, 24)
        assert (p2["approved_budget"], p2["paid_since_approval"]) == (300, 24)
        assert p2["execution"] == approx(10) and p2["gap"] == approx(-15)
        assert unit_projects("360100", "2025-03", "浮梁县数据局", scope=province).empty  # not in 南昌市

    def test_a_projects_payments_are_listed_by_month_with_year_and_since_approval_totals(self, province):
        d = project_payments("P1", "2025-03", scope=province)
        assert d["approved_on"] == "2023-12-01"
        pays = d["payments"]
        assert pays["month"].dt.strftime("%Y-%m").tolist() == ["2025-01", "2025-02", "2025-03"]
        assert pays["amount_wan"].tolist() == [10, 20, 30]
        assert set(pays["kind"]) == {"建设"} and set(pays["fund_source"]) == {"县级"}
        assert (d["paid_year"], d["paid_since_approval"]) == (60, 60)
        assert project_payments("P1", "2025-02", scope=province)["paid_year"] == 30  # up to the month only

    def test_a_project_without_payments_has_an_empty_list(self, province):
        d = project_payments("P2", "2025-02", scope=province)
        assert d["payments"].empty and d["paid_since_approval"] == 0

    def test_an_unknown_project_gives_none(self, province):
        assert project_payments("NOPE", "2025-03", scope=province) is None

    def test_a_city_viewer_sees_neither_the_other_citys_units_nor_its_projects(self):
        nanchang = Scope(regions=("360100",))
        assert unit_execution("360100", "2025-03", scope=nanchang)["owner_unit"].tolist() == ["东湖区政务服务中心"]
        assert project_payments("P2", "2025-03", scope=nanchang) is None

    def test_a_department_scoped_viewer_sees_only_its_departments_units(self):
        police = Scope(regions=("360000",), departments=("D01",))
        assert unit_execution("360000", "2025-03", scope=police)["owner_unit"].tolist() == ["东湖区政务服务中心"]
        assert project_payments("P2", "2025-03", scope=police) is None
        with pytest.raises(SpendingInputError):
            check_department("D02", scope=police)

    def test_a_county_without_rows_gives_empty_tables(self, province):
        data = spending_page("360203", "2025-03", scope=province)
        assert data["curves"].empty and data["units"].empty and data["units_total"] == 0
        assert data["by_dept"].empty

    def test_the_page_keeps_only_units_below_time_progress_unless_asked_for_all(self, province):
        below = spending_page("360000", "2025-03", scope=province)
        assert below["units"]["owner_unit"].tolist() == ["浮梁县数据局"]
        assert (below["units_total"], below["units_below"]) == (2, 1)
        assert below["regions"]["region_code"].tolist() == ["360200"]
        every = spending_page("360000", "2025-03", scope=province, show="all")
        assert len(every["units"]) == 2 and len(every["regions"]) == 2

    def test_bad_page_parameters_raise_chinese_errors(self, province):
        with pytest.raises(SpendingInputError, match="未知的部门代码"):
            spending_page("360000", "2025-03", scope=province, dept="D99")
        with pytest.raises(SpendingInputError, match="未知的显示方式"):
            spending_page("360000", "2025-03", scope=province, show="some")

    def test_a_missing_scope_fails_closed(self):
        with pytest.raises(ScopeError):
            unit_execution("360000", "2025-03", scope=None)


@pytest.mark.parametrize("path", sorted((Path(__file__).parents[2] / "metrics" / "sql").glob("spending_*.sql")),
                         ids=lambda p: p.name)
def test_every_spending_query_applies_the_viewers_scope_with_bound_parameters(path):
    sql = read_sql(path)  # as the app reads it: {{scope(...)}} expanded (data/scope.sql)
    assert "$scope_all_depts" in sql and "list_contains($scope_depts" in sql
    if path.name != "spending_departments.sql":
        assert "list_contains($scope_regions, scope_rc.ancestor_code)" in sql
    assert "{" not in sql  # no formatting slots: values are bound


def test_the_gap_reads_as_chinese_fiscal_practice():
    gap_text = time_progress_gap_text
    assert gap_text(-12.44) == "低于序时进度 12.4 个百分点"
    assert gap_text(3) == "高于序时进度 3.0 个百分点"
    assert gap_text(0.01) == "与序时进度持平"
    assert gap_text(None) == "与序时进度差：—"


# ---------------------------------------------------------------- the demo agrees with the engine


@pytest.mark.usefixtures("demo_env")
class TestOnTheDemo:
    SCOPE = Scope.province("360000")

    def test_the_units_add_up_to_the_provinces_budget_and_payments(self):
        units = unit_execution("360000", "2025-06", scope=self.SCOPE)
        r = kpi_value("budget_execution_rate", "360000", "2025-06", "ytd", scope=self.SCOPE)
        assert units["paid_wan"].sum() == pytest.approx(r.numerator)
        assert units["budget_wan"].sum() == pytest.approx(r.denominator)

    def test_a_departments_units_add_up_to_its_engine_value(self):
        units = unit_execution("360700", "2025-06", scope=self.SCOPE, dept="D19")
        r = kpi_value("budget_execution_rate", "360700", "2025-06", "ytd", scope=self.SCOPE, dept="D19")
        assert units["paid_wan"].sum() == pytest.approx(r.numerator or 0)
        assert units["budget_wan"].sum() == pytest.approx(r.denominator or 0)

    def test_the_regions_table_agrees_with_the_engines_children(self):
        mine = region_execution("360000", "2025-06", scope=self.SCOPE).set_index("region_code")
        engine = kpi_children("execution_gap_pp", "360000", "2025-06", "ytd", scope=self.SCOPE).set_index("region_code")
        assert mine["gap"].to_dict() == pytest.approx(engine["value"].astype(float).to_dict())
        assert (mine["rag"] == engine.loc[mine.index, "rag"]).all()

    def test_the_curves_last_point_is_the_cards_value(self):
        curves = execution_curves("360000", "2025-06", scope=self.SCOPE)
        assert sorted(curves["year"].unique()) == [2023, 2024, 2025]
        assert len(curves[curves["year"] == 2024]) == 12
        card = kpi_value("budget_execution_rate", "360000", "2025-06", "ytd", scope=self.SCOPE)
        assert curves.iloc[-1]["month"] == pd.Timestamp(date(2025, 6, 1))
        assert curves.iloc[-1]["value"] == pytest.approx(card.value)
        december = curves[(curves["year"] == 2024) & (curves["month_no"] == 12)].iloc[0]
        november = curves[(curves["year"] == 2024) & (curves["month_no"] == 11)].iloc[0]
        assert december["value"] - november["value"] > 10  # spending bunches in December

    def test_the_fund_source_split_agrees_with_the_engine_in_fiscal_order(self):
        mine = execution_split("360000", "2025-06", "fund_source", scope=self.SCOPE)
        assert mine["member"].tolist() == ["中央", "省级", "市级", "县级", "社会资本"]
        engine = kpi_breakdown("budget_execution_rate", "360000", "2025-06", dim="fund_source", scope=self.SCOPE)
        assert mine.set_index("member")["value"].to_dict() == pytest.approx(
            engine.set_index("member")["value"].astype(float).to_dict())
