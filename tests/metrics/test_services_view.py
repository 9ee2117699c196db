"""The 政务服务 page's data: hand-worked values on the fixture, agreement with the engine on the demo."""

import pandas as pd
import pytest

import metrics.services_view as view
from data.scope import Scope, ScopeError
from metrics.engine import kpi_breakdown, kpi_children, kpi_series, kpi_value
from metrics.periods import parse_month
from metrics.services_view import (
    ServicesInputError,
    check_department,
    departments,
    dept_breakdown,
    hotline_categories,
    hotline_panel,
    item_history,
    item_info,
    map_view,
    period_text,
    service_items,
    service_kpi,
    service_kpis,
    services_data,
    trend,
    trend_forecast,
)


def approx(x):
    return pytest.approx(x, rel=1e-12, abs=1e-12)


@pytest.fixture
def d02_only():
    """A viewer who may see only 市场监督管理局 (D02) in the whole province."""
    return Scope(regions=("360000",), departments=("D02",))


# ---------------------------------------------------------------- the KPI list


def test_the_page_offers_every_service_kpi_including_the_12345_ones():
    ids = [k.id for k in service_kpis()]
    assert ids[0] == "online_available_rate"
    assert {"online_handling_rate", "on_time_rate", "hotline_received", "hotline_on_time_rate",
            "hotline_satisfaction"} <= set(ids)
    assert "budget_execution_rate" not in ids


def test_a_kpi_of_another_family_is_refused_in_chinese():
    assert service_kpi(None).id == "online_available_rate"
    with pytest.raises(ServicesInputError, match="不属于政务服务"):
        service_kpi("budget_execution_rate")


def test_a_stock_kpi_is_labelled_at_month_end_and_a_flow_by_its_period():
    m = parse_month("2025-03")
    assert period_text(service_kpi("online_available_rate"), "ytd", m) == "截至2025年3月末"
    assert period_text(service_kpi("online_handling_rate"), "ytd", m) == "累计"
    assert period_text(service_kpi("online_handling_rate"), "month", m) == "当月"


# ---------------------------------------------------------------- the fixture, by hand


@pytest.mark.usefixtures("fixture_env")
class TestOnTheFixture:
    def test_the_item_table_sums_each_items_applications_over_the_period(self, province):
        df = service_items("360000", "2025-03", "ytd", scope=province).set_index("item_code")
        # SX1 (公安局), Jan–Mar 2025 in 东湖区 + 西湖区:
        #   applications 100+50+100 + 200+100+300 = 850; online 60+40+80 + 0+50+150 = 380
        #   completed 90+50+100 + 200+100+300 = 840; on time 90+50+100 + 190+100+280 = 810
        #   good 40+20+50 + 80+50+100 = 340; bad 2+0+0 + 4+0+1 = 7
        sx1 = df.loc["SX1"]
        assert (sx1.applications, sx1.online_applications) == (850, 380)
        assert sx1.online_handling_rate == approx(380 / 850 * 100)
        assert sx1.on_time_rate == approx(810 / 840 * 100)
        assert sx1.satisfaction_rate == approx(340 / 347 * 100)
        assert (sx1.item_name, sx1.dept_name, sx1.item_type, sx1.audience) == (
            "机动车驾驶证换证", "公安局", "行政确认", "个人")
        # SX2: 东湖区 Jan 100/50, 浮梁县 Feb 0/0 and Mar 100/90 → 200 / 140; on time 98+0+100 of 200
        assert df.loc["SX2", "online_handling_rate"] == approx(140 / 200 * 100)
        assert df.loc["SX2", "on_time_rate"] == approx(198 / 200 * 100)
        # SX3: 东湖区 Mar 10 applications, none online
        assert df.loc["SX3", "online_handling_rate"] == 0
        assert list(df.index) == ["SX1", "SX2", "SX3"]  # most applications first

    def test_item_flags_are_read_at_the_periods_last_month_over_the_counties_carrying_it(self, province):
        df = service_items("360000", "2025-03", "ytd", scope=province).set_index("item_code")
        # SX1 in March: 东湖区 and 西湖区, both online-capable, neither fully online, both 最多跑一次
        assert df.loc["SX1", "counties"] == 2
        assert (df.loc["SX1", "online_capable"], df.loc["SX1", "full_online"], df.loc["SX1", "one_visit"]) == (
            "是", "否", "是")
        # SX2 in March: only 浮梁县 (东湖区 has no March row); SX3 is not online-capable
        assert df.loc["SX2", "counties"] == 1 and df.loc["SX2", "online_capable"] == "是"
        assert df.loc["SX3", "online_capable"] == "否"

    def test_a_mixed_flag_is_partial_and_says_in_how_many_counties_it_holds(self):
        assert view._flag_text(63, 100) == ("部分", "63/100 个县（市、区）")
        assert view._flag_text(1, 1)[0] == "是" and view._flag_text(0, 0)[0] == "—"

    def test_the_item_table_follows_the_department_filter_and_the_region(self, province):
        d02 = service_items("360000", "2025-03", "ytd", scope=province, dept="D02")
        assert list(d02["item_code"]) == ["SX2", "SX3"]
        # 景德镇市 in March 2025: only 浮梁县's SX2, 90 of 100 online
        jdz = service_items("360200", "2025-03", "month", scope=province)
        assert list(jdz["item_code"]) == ["SX2"] and jdz.iloc[0]["online_handling_rate"] == approx(90.0)

    def test_a_department_scope_hides_other_departments_items(self, d02_only):
        assert set(service_items("360000", "2025-03", "ytd", scope=d02_only)["item_code"]) == {"SX2", "SX3"}
        assert list(departments(scope=d02_only)["dept_code"]) == ["D02"]
        with pytest.raises(ServicesInputError, match="未知的部门代码：D01"):
            check_department("D01", scope=d02_only)
        with pytest.raises(ServicesInputError, match="SX1"):
            item_info("SX1", scope=d02_only)

    def test_the_department_breakdown_names_each_department(self, province):
        df = dept_breakdown("online_handling_rate", "360000", "2025-03", "ytd", scope=province).set_index("dept_code")
        # 公安局 = SX1 380 / 850; 市场监管 = SX2 140/200 + SX3 0/10 → 140 / 210
        assert df.loc["D01", "value"] == approx(380 / 850 * 100)
        assert df.loc["D02", "value"] == approx(140 / 210 * 100)
        assert (df.loc["D01", "dept_name"], df.loc["D02", "dept_name"]) == ("公安", "市场监管")
        assert (df.loc["D02", "rank"], df.loc["D01", "rank"]) == (1, 2)

    def test_a_hotline_kpi_has_no_department_breakdown(self, province):
        assert dept_breakdown("hotline_received", "360000", "2025-03", "ytd", scope=province).empty

    def test_the_map_shows_a_provinces_cities_and_a_county_among_its_citys_counties(self, province):
        top = map_view("online_handling_rate", "360000", "2025-03", "month", scope=province)
        assert (top["level"], top["parent"], top["highlight"]) == ("city", None, None)
        assert list(top["frame"]["region_code"]) == ["360100", "360200"]
        # 南昌市 230 / 410, 景德镇市 90 / 100 (kpi_value of the engine's own tests)
        assert list(top["frame"]["value"]) == [approx(230 / 410 * 100), approx(90.0)]
        county = map_view("online_handling_rate", "360102", "2025-03", "month", scope=province)
        assert (county["level"], county["parent"], county["highlight"]) == ("county", "360100", "360102")
        assert list(county["frame"]["region_code"]) == ["360102", "360103"]

    def test_the_map_follows_the_department_filter(self, province):
        # 市场监管 in March: 东湖区 SX3 0/10, 西湖区 none → 南昌市 0 / 10; 浮梁县 SX2 90 / 100
        df = map_view("online_handling_rate", "360000", "2025-03", "month", scope=province, dept="D02")["frame"]
        assert list(df["value"]) == [approx(0.0), approx(90.0)]

    def test_the_trend_is_monthly_for_month_and_year_to_date_for_ytd(self, province):
        monthly = trend("online_handling_rate", "360100", "2025-03", "month", scope=province, months=3)
        # 南昌市: Jan 110/400, Feb 90/150, Mar 230/410
        assert list(monthly["value"]) == [approx(27.5), approx(60.0), approx(230 / 410 * 100)]
        ytd = trend("online_handling_rate", "360100", "2025-03", "ytd", scope=province, months=3)
        assert ytd["value"].iloc[-1] == approx((110 + 90 + 230) / (400 + 150 + 410) * 100)

    def test_the_trend_starts_no_earlier_than_the_data(self, province):
        df = trend("online_handling_rate", "360100", "2025-03", "month", scope=province)
        assert df["month"].iloc[0] == pd.Timestamp("2024-01-01") and len(df) == 15

    def test_an_items_history_is_its_monthly_kpi_in_the_region(self, province):
        hist = item_history("SX1", "online_handling_rate", "360100", "2025-03", scope=province, months=3)
        # SX1 in 南昌市: Jan 60/300, Feb 90/150, Mar 230/400
        assert list(hist["series"]["value"]) == [approx(20.0), approx(60.0), approx(57.5)]
        assert hist["info"]["item_name"] == "机动车驾驶证换证"

    def test_a_hotline_kpi_shows_an_items_online_handling_rate(self, province):
        assert item_history("SX1", "hotline_received", "360100", "2025-03", scope=province)["kpi"] == (
            "online_handling_rate")

    def test_the_hotline_panel_has_received_this_month_and_year_to_date_and_its_rates(self, province):
        panel = hotline_panel("360000", "2025-03", "ytd", scope=province)
        cards = {(c["kpi_id"], c["period"]): c["value"] for c in panel["cards"]}
        # March 2025 only: 东湖区 投诉 100, 浮梁县 咨询 50
        assert cards[("hotline_received", "month")] == 150 and cards[("hotline_received", "ytd")] == 150
        assert cards[("hotline_on_time_rate", "ytd")] == approx((76 + 40) / (80 + 40) * 100)
        assert cards[("hotline_satisfaction", "ytd")] == approx((45 + 19) / (50 + 20) * 100)
        cats = panel["categories"]
        assert sorted(zip(cats["category"], cats["received"], strict=True)) == [("咨询", 50), ("投诉", 100)]

    def test_the_hotline_categories_are_scoped_to_the_region(self, province):
        df = hotline_categories("360100", "2025-03", scope=province)
        assert list(df["category"]) == ["投诉"] and list(df["received"]) == [100]

    def test_a_department_restricted_viewer_is_told_the_hotline_is_not_theirs(self, d02_only):
        panel = hotline_panel("360000", "2025-03", "ytd", scope=d02_only)
        assert panel["cards"] == [] and "部门范围受限" in panel["denied"]

    def test_a_missing_scope_fails_closed(self):
        with pytest.raises(ScopeError):
            service_items("360000", "2025-03", "ytd", scope=None)
        with pytest.raises(ScopeError):
            hotline_categories("360000", "2025-03", scope=None)

    def test_without_the_forecasting_module_the_toggle_says_so(self, province, monkeypatch):
        monkeypatch.setattr(view, "kpi_forecast", None)
        assert trend_forecast("online_handling_rate", "360000", "ytd", scope=province) == (None, "预测暂不可用")

    def test_a_department_filter_gives_no_forecast(self, province, monkeypatch):
        monkeypatch.setattr(view, "kpi_forecast", lambda *a, **k: pytest.fail("must not forecast"))
        fc, note = trend_forecast("online_handling_rate", "360000", "ytd", scope=province, dept="D01")
        assert fc is None and note == "按部门筛选时不提供预测"

    def test_a_bad_department_or_item_in_the_url_is_a_chinese_message(self, province):
        with pytest.raises(ServicesInputError, match="未知的部门代码：D99"):
            services_data(None, "2025-03", "ytd", None, scope=province, dept="D99")
        with pytest.raises(ServicesInputError, match="未知的政务服务事项编码：SX9"):
            services_data(None, "2025-03", "ytd", None, scope=province, item="SX9")


# ---------------------------------------------------------------- the full demo, against the engine


@pytest.mark.usefixtures("demo_env")
class TestOnTheDemo:
    scope = Scope.province("360000")

    def test_the_item_table_agrees_with_the_engines_item_breakdown(self):
        items = service_items("360100", "2026-06", "ytd", scope=self.scope).set_index("item_code")
        for kpi in ("online_handling_rate", "on_time_rate", "satisfaction_rate"):
            engine = kpi_breakdown(kpi, "360100", "2026-06", "ytd", dim="item_code", scope=self.scope)
            engine = engine.set_index("member")["value"].astype(float)
            assert items[kpi].astype(float).reindex(engine.index).to_numpy() == pytest.approx(engine.to_numpy())

    def test_the_map_and_the_trend_agree_with_the_engine(self):
        m = map_view("one_visit_rate", "360700", "2026-06", "month", scope=self.scope, dept="D01")["frame"]
        engine = kpi_children("one_visit_rate", "360700", "2026-06", "month", scope=self.scope, dept="D01")
        assert list(m["value"]) == pytest.approx(list(engine["value"]))
        t = trend("on_time_rate", "360700", "2026-06", "ytd", scope=self.scope)
        assert len(t) == 24 and t["month"].iloc[-1] == pd.Timestamp("2026-06-01")
        s = kpi_series("on_time_rate", "360700", scope=self.scope, start="2024-07", end="2026-06", cumulative=True)
        assert list(t["value"]) == pytest.approx(list(s["value"]))

    def test_the_hotline_months_add_up_to_the_engines_received(self):
        df = hotline_categories("360000", "2026-10", scope=self.scope)
        assert df["month"].nunique() == 12
        october = df[df["month"] == pd.Timestamp("2026-10-01")]["received"].sum()
        assert october == kpi_value("hotline_received", "360000", "2026-10", "month", scope=self.scope).value

    def test_the_whole_page_assembles_for_a_county(self):
        data = services_data("360102", "2026-10", "month", "satisfaction_rate", scope=self.scope, dept="D01",
                             item="SX0002")
        assert data["headline"]["value"] == pytest.approx(
            kpi_value("satisfaction_rate", "360102", "2026-10", "month", scope=self.scope, dept="D01").value)
        assert set(data["items"]["dept_code"]) == {"D01"}
        assert data["item"]["info"]["item_code"] == "SX0002"
        assert data["map"]["highlight"] == "360102"
