"""The engine on the hand-built fixture: every expected value is worked out in the comments."""

import pytest

from data.scope import Scope, ScopeError
from metrics.catalogue import UnknownKpiError
from metrics.engine import kpi_children, kpi_series, kpi_value, overview
from metrics.format import fmt_value
from metrics.periods import PeriodError
from metrics.regions import UnknownRegionError

pytestmark = pytest.mark.usefixtures("fixture_env")


def approx(x):
    return pytest.approx(x, rel=1e-12, abs=1e-12)


# ---------------------------------------------------------------- a rate at each level


def test_a_county_rate_is_its_online_applications_over_its_applications(province):
    # 东湖区 2025-03: SX1 80/100 online, SX3 0/10 → 80 / 110
    r = kpi_value("online_handling_rate", "360102", "2025-03", "month", scope=province)
    assert (r.numerator, r.denominator) == (80, 110)
    assert r.value == approx(80 / 110 * 100)


def test_a_city_rate_is_the_ratio_of_its_counties_sums(province):
    # 南昌市 = 东湖区 80/110 + 西湖区 150/300 → 230 / 410
    r = kpi_value("online_handling_rate", "360100", "2025-03", "month", scope=province)
    assert (r.numerator, r.denominator) == (230, 410)
    assert r.value == approx(230 / 410 * 100)


def test_the_province_rate_is_a_ratio_of_sums_not_a_mean_of_rates(province):
    # 南昌市 230/410 + 景德镇市 (浮梁县) 90/100 → 320 / 510 = 62.745…%
    r = kpi_value("online_handling_rate", "360000", "2025-03", "month", scope=province)
    assert r.value == approx(320 / 510 * 100)
    mean_of_cities = (230 / 410 + 90 / 100) / 2 * 100
    assert r.value != approx(mean_of_cities)


# ---------------------------------------------------------------- periods


def test_year_to_date_sums_january_to_the_month(province):
    # online: Jan 60+50+0, Feb 40+50+0, Mar 80+0+150+90 = 520; applications 400 + 150 + 510 = 1060
    r = kpi_value("online_handling_rate", "360000", "2025-03", "ytd", scope=province)
    assert (r.numerator, r.denominator) == (520, 1060)
    assert r.period_label == "2025年1—3月" and r.period_name == "累计"


def test_the_monthly_figure_is_that_month_alone(province):
    r = kpi_value("online_handling_rate", "360000", "2025-02", "month", scope=province)
    assert (r.numerator, r.denominator) == (90, 150)
    assert r.period_label == "2025年2月" and r.period_name == "当月"


def test_a_stock_rate_is_read_at_the_end_of_the_period_not_summed(province):
    # online-capable 依申请 items: Jan 2 of 3 rows, Feb 3 of 3 → YTD through Feb reads Feb: 100%
    jan = kpi_value("online_available_rate", "360000", "2025-01", "month", scope=province)
    ytd = kpi_value("online_available_rate", "360000", "2025-02", "ytd", scope=province)
    assert jan.value == approx(2 / 3 * 100)
    assert ytd.value == approx(100.0)


def test_a_quarter_covers_its_three_months_and_says_so(province):
    r = kpi_value("online_handling_rate", "360000", "2025-02", "quarter", scope=province)
    assert (r.numerator, r.denominator) == (520, 1060)
    assert r.period_label == "2025年第一季度"


def test_a_year_not_yet_over_is_labelled_with_its_last_month(province):
    r = kpi_value("applications_count", "360000", "2025-03", "year", scope=province)
    assert r.value == 1060
    assert r.period_label == "2025年（截至3月）"
    assert r.mom_change is None  # 环比 does not apply to a year


# ---------------------------------------------------------------- changes


def test_a_change_in_a_rate_is_in_percentage_points(province):
    # Mar 320/510, Feb 90/150, Mar 2024 40/150
    r = kpi_value("online_handling_rate", "360000", "2025-03", "month", scope=province)
    assert r.change_unit == "个百分点"
    assert r.mom_change == approx(320 / 510 * 100 - 60.0)
    assert r.yoy_change == approx(320 / 510 * 100 - 40 / 150 * 100)


def test_a_ytd_rate_compares_with_the_ytd_to_the_previous_month(province):
    # YTD Mar 520/1060 against YTD Feb (110+90)/(400+150)
    r = kpi_value("online_handling_rate", "360000", "2025-03", "ytd", scope=province)
    assert r.prev_value == approx(200 / 550 * 100)
    assert r.mom_change == approx(520 / 1060 * 100 - 200 / 550 * 100)


def test_a_change_in_a_count_is_in_percent(province):
    # applications Mar 510 vs Feb 150 → +240%
    r = kpi_value("applications_count", "360000", "2025-03", "month", scope=province)
    assert r.change_unit == "%"
    assert r.mom_change == approx(240.0)


# ---------------------------------------------------------------- spending


def test_budget_execution_is_compared_with_time_progress(province):
    # paid 10+20+30+24 = 84 of budget 120+200+40 = 360 → 23.33%; 序时进度 3/12 = 25% → gap −1.67 pp
    r = kpi_value("budget_execution_rate", "360000", "2025-03", "ytd", scope=province)
    assert r.value == approx(84 / 360 * 100)
    assert r.target == approx(25.0)
    assert r.gap == approx(84 / 360 * 100 - 25.0)
    gap = kpi_value("execution_gap_pp", "360000", "2025-03", "ytd", scope=province)
    assert gap.value == approx(84 / 360 * 100 - 25.0)
    assert gap.unit == "个百分点"


def test_a_unit_far_below_time_progress_is_red(province):
    # 浮梁县: 24 of 240 = 10% against 25% → −15 pp, beyond the −10 pp red line
    r = kpi_value("execution_gap_pp", "360222", "2025-03", "ytd", scope=province)
    assert r.value == approx(-15.0)
    assert r.rag == "red"


def test_budget_execution_has_no_monthly_figure(province):
    with pytest.raises(PeriodError, match="不支持「当月」"):
        kpi_value("budget_execution_rate", "360000", "2025-03", "month", scope=province)


# ---------------------------------------------------------------- targets, RAG and rank


def test_a_region_without_its_own_target_takes_its_nearest_ancestors(province):
    own = kpi_value("online_handling_rate", "360222", "2025-03", "month", scope=province)
    inherited = kpi_value("online_handling_rate", "360103", "2025-03", "month", scope=province)
    default = kpi_value("on_time_rate", "360103", "2025-03", "month", scope=province)
    assert (own.target, own.target_source) == (80.0, "测试目标（浮梁县）")
    assert (inherited.target, inherited.target_source) == (60.0, "测试目标（省）")
    assert default.target == 99.0  # the catalogue default


def test_rag_follows_the_gap_to_target(province):
    # 浮梁县 Mar 90% vs 80% → green; 西湖区 Mar 50% vs 60% → −10 pp, red (red below −5)
    assert kpi_value("online_handling_rate", "360222", "2025-03", "month", scope=province).rag == "green"
    assert kpi_value("online_handling_rate", "360103", "2025-03", "month", scope=province).rag == "red"


def test_rank_is_among_siblings_best_first(province):
    # cities YTD: 南昌 430/960 = 44.8%, 景德镇 90/100 = 90% → 景德镇 first
    r = kpi_value("online_handling_rate", "360100", "2025-03", "ytd", scope=province)
    assert (r.rank, r.rank_of) == (2, 2)
    kids = kpi_children("online_handling_rate", "360000", "2025-03", "ytd", scope=province)
    assert kids.set_index("region_name")["rank"].to_dict() == {"南昌市": 2, "景德镇市": 1}


def test_rank_of_a_lower_is_better_kpi_puts_the_smallest_first(province):
    # overdue projects at Mar 2025: 东湖区 1 (P1), 西湖区 0 → 西湖区 first
    kids = kpi_children("overdue_projects", "360100", "2025-03", "month", scope=province)
    assert kids.set_index("region_code")["rank"].to_dict() == {"360102": 2, "360103": 1}


def test_the_province_has_no_rank(province):
    r = kpi_value("online_handling_rate", "360000", "2025-03", "ytd", scope=province)
    assert r.rank is None


# ---------------------------------------------------------------- edge cases


def test_a_zero_denominator_gives_no_value_not_zero(province):
    # 浮梁县 2025-02 has a row with 0 applications
    r = kpi_value("online_handling_rate", "360222", "2025-02", "month", scope=province)
    assert r.value is None and r.has_data
    assert fmt_value(r.value, r.unit) == "—"


def test_a_month_with_no_data_gives_no_value(province):
    r = kpi_value("online_handling_rate", "360000", "2024-06", "month", scope=province)
    assert r.value is None and not r.has_data


def test_a_month_after_the_last_report_gives_no_value(province):
    r = kpi_value("applications_count", "360000", "2025-06", "month", scope=province)
    assert r.value is None and not r.has_data
    assert r.as_of == "2025-03"


def test_a_county_with_no_rows_gives_no_value(province):
    r = kpi_value("applications_count", "360203", "2025-03", "ytd", scope=province)
    assert r.value is None and not r.has_data
    assert r.rank is None


def test_an_unknown_kpi_is_a_clear_error(province):
    with pytest.raises(UnknownKpiError, match="未知指标：no_such_kpi"):
        kpi_value("no_such_kpi", "360000", "2025-03", scope=province)


@pytest.mark.parametrize("code", ["999999", "3601", "abcdef"])
def test_an_unknown_region_is_a_clear_error(province, code):
    with pytest.raises(UnknownRegionError, match="未知的地区代码"):
        kpi_value("online_handling_rate", code, "2025-03", scope=province)


def test_a_malformed_month_is_a_clear_error(province):
    with pytest.raises(PeriodError, match="月份格式不正确"):
        kpi_value("online_handling_rate", "360000", "2025-13", scope=province)


# ---------------------------------------------------------------- filters and scope


def test_a_service_item_filter_keeps_only_that_item(province):
    # SX1 in Mar: 东湖 80/100, 西湖 150/300 → 230/400
    r = kpi_value("online_handling_rate", "360000", "2025-03", "month", scope=province, item="SX1")
    assert (r.numerator, r.denominator) == (230, 400)


def test_a_department_filter_keeps_only_that_department(province):
    # D02 in Mar: 东湖 SX3 0/10, 浮梁 SX2 90/100 → 90/110
    r = kpi_value("online_handling_rate", "360000", "2025-03", "month", scope=province, dept="D02")
    assert (r.numerator, r.denominator) == (90, 110)


def test_a_filter_on_a_dimension_the_fact_lacks_is_refused(province):
    with pytest.raises(ValueError, match="不支持按 item_code 筛选"):
        kpi_value("hotline_on_time_rate", "360000", "2025-03", scope=province, item="SX1")


def test_a_missing_scope_fails_closed():
    with pytest.raises(ScopeError, match="缺少访问范围"):
        kpi_value("online_handling_rate", "360000", "2025-03", scope=None)


def test_a_county_viewer_cannot_see_the_province():
    with pytest.raises(ScopeError, match="无权查看"):
        kpi_value("online_handling_rate", "360000", "2025-03", scope=Scope(regions=("360102",)))


def test_a_city_viewer_sees_only_its_counties_and_ranks_among_them():
    city = Scope(regions=("360100",))
    kids = kpi_children("online_handling_rate", "360100", "2025-03", "month", scope=city)
    assert kids["region_code"].tolist() == ["360102", "360103"]
    r = kpi_value("online_handling_rate", "360100", "2025-03", "month", scope=city)
    assert (r.numerator, r.denominator) == (230, 410)
    assert r.rank is None  # its sibling 景德镇市 is out of scope, so it ranks alone


def test_a_department_scope_filters_rows_in_sql():
    # only D02 rows of 东湖区 in Mar: SX3 0/10
    d02 = Scope(regions=("360000",), departments=("D02",))
    r = kpi_value("online_handling_rate", "360102", "2025-03", "month", scope=d02)
    assert (r.numerator, r.denominator) == (0, 10)


def test_a_department_scope_is_refused_a_kpi_without_departments():
    d02 = Scope(regions=("360000",), departments=("D02",))
    with pytest.raises(ScopeError, match="不按部门划分"):
        kpi_value("hotline_on_time_rate", "360000", "2025-03", scope=d02)


# ---------------------------------------------------------------- batch forms


def test_overview_gives_every_kpi_for_the_region_and_its_children(province):
    df = overview("360000", "2025-03", "ytd", scope=province)
    assert set(df.region_code) == {"360000", "360100", "360200"}
    top = df[(df.region_code == "360000") & (df.kpi_id == "online_handling_rate")].iloc[0]
    assert (top.numerator, top.denominator) == (520, 1060)
    # a KPI without 当月 falls back to its first supported period
    monthly = overview("360000", "2025-03", "month", scope=province, kpi_ids=["budget_execution_rate"])
    assert set(monthly.period) == {"ytd"}


def test_a_monthly_series_gives_each_months_rate(province):
    s = kpi_series("online_handling_rate", "360000", scope=province, start="2025-01", end="2025-03")
    assert s["numerator"].tolist() == [110, 90, 320]
    assert s["denominator"].tolist() == [400, 150, 510]


def test_a_cumulative_series_sums_flows_from_january(province):
    s = kpi_series("online_handling_rate", "360000", scope=province, start="2025-01", end="2025-03", cumulative=True)
    assert s["numerator"].tolist() == [110, 200, 520]
    assert s["value"].iloc[-1] == approx(520 / 1060 * 100)


def test_a_series_month_without_rows_has_no_value(province):
    s = kpi_series("applications_count", "360000", scope=province, start="2024-05", end="2024-06")
    assert s["value"].isna().all()


# ---------------------------------------------------------------- breakdowns


def test_a_breakdown_by_department_splits_the_region_and_ranks_the_parts(province):
    from metrics.engine import kpi_breakdown

    # 2025-03 province: D01 (SX1) 230/400 = 57.5%; D02 (SX2 浮梁 90/100, SX3 东湖 0/10) 90/110 = 81.8%
    df = kpi_breakdown("online_handling_rate", "360000", "2025-03", "month", dim="dept_code", scope=province)
    got = df.set_index("member")
    assert (got.loc["D01", "numerator"], got.loc["D01", "denominator"]) == (230, 400)
    assert (got.loc["D02", "numerator"], got.loc["D02", "denominator"]) == (90, 110)
    assert got.loc["D02", "rank"] == 1
    assert got["share"].sum() == pytest.approx(100.0)
    assert got.loc["D01", "target"] == 60.0  # the region's target


def test_a_breakdown_of_spending_by_kind_separates_construction_from_om(province):
    from metrics.engine import kpi_breakdown

    # budgets 2025: 建设 120 + 200, 运维 40; paid to Mar: 建设 84, 运维 0
    df = kpi_breakdown("budget_execution_rate", "360000", "2025-03", "ytd", dim="kind", scope=province)
    got = df.set_index("member")
    assert got.loc["建设", "value"] == approx(84 / 320 * 100)
    assert got.loc["运维", "value"] == approx(0.0)
