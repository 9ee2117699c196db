"""What the 预测 page shows agrees with the forecasting API, in Chinese."""

import json

import pandas as pd
import pytest

from data.scope import Scope
from metrics.engine import kpi_series
from metrics.forecast_view import (
    _attainment_texts,
    backtest_summary,
    forecast_page_data,
    forecast_table,
    parse_horizon,
    view_options,
    what_if_view,
)
from metrics.forecasting import KpiAttainment, clear_cache, kpi_attainment, kpi_forecast
from metrics.periods import PeriodError

PROVINCE = Scope.province("360000")


@pytest.fixture
def view_env(demo_env, tmp_path, monkeypatch):
    monkeypatch.setenv("COCKPIT_CACHE_DIR", str(tmp_path))
    clear_cache()
    yield
    clear_cache()


def test_horizons_are_3_6_12_or_18_months():
    assert parse_horizon("12") == 12
    with pytest.raises(PeriodError, match="可选：3、6、12、18"):
        parse_horizon("7")
    with pytest.raises(PeriodError):
        parse_horizon("abc")


def test_the_page_data_carries_the_apis_numbers(view_env):
    d = forecast_page_data(None, None, None, None, scope=PROVINCE)
    assert d["kpi"] == "online_handling_rate" and d["horizon"] == 6 and d["view"] == "month"
    fc = kpi_forecast("online_handling_rate", "360000", scope=PROVINCE, horizon=6)
    assert d["forecast"] is fc
    a = kpi_attainment("online_handling_rate", "360000", scope=PROVINCE).year_end
    assert d["probability_text"] == f"按当前趋势，2026年底达到目标的概率为 {100 * a.probability:.0f}%"
    assert f"{a.expected:.1f}%" in d["expected_text"]
    assert d["future_target"] == [70.0] * 6
    assert len(d["history"]) == 36 and d["series_label"] == "当月"
    assert d["backtest"]["available"] and "Naive2" in d["backtest"]["text"]


def test_the_attainment_round_trips_to_the_figures_the_page_shows(view_env, tmp_path):
    d = forecast_page_data(None, None, None, None, scope=PROVINCE)
    att = d.attainment
    assert isinstance(att, KpiAttainment) and att.has_data and att.year == 2026
    # the JSON form (the disk cache's) reads back to an equal, typed result
    back = KpiAttainment.from_dict(json.loads(json.dumps(att.to_dict())))
    assert back == att
    assert isinstance(back.year_end.interval, tuple) and isinstance(back.year_end.interval95, tuple)
    texts = ("probability_text", "expected_text", "needed_text", "target_text", "remaining_text")
    assert _attainment_texts(back, d.unit, d.name) == {k: d[k] for k in texts}
    # another worker reads it from disk: equal, not the same object
    assert list(tmp_path.glob("forecast/attainment-*.json"))
    clear_cache()
    again = kpi_attainment("online_handling_rate", "360000", scope=PROVINCE)
    assert again == att and again is not att
    # by hand: the year to date is Σ monthly numerators ÷ Σ monthly denominators, Jan–Oct 2026
    # (9 208 057 ÷ 12 717 984 = 72.40 % in the demo), shown on the page as 当前 72.4%
    monthly = kpi_series("online_handling_rate", "360000", scope=PROVINCE)
    year = monthly[pd.to_datetime(monthly["month"]).dt.year == 2026]
    by_hand = 100 * year["numerator"].sum() / year["denominator"].sum()
    assert back.year_end.current == pytest.approx(by_hand)
    assert by_hand == pytest.approx(100 * 9_208_057 / 12_717_984)
    assert d.remaining_text == "距2026年底还有 2 个月（当前 72.4%）"
    assert d.target_text == "2026年目标 ≥ 70.0%（配置项：无政策目标）"


def test_a_stock_is_shown_at_month_end_and_budget_execution_as_ytd(view_env):
    assert view_options("online_available_rate") == [{"label": "月末值", "value": "month"}]
    d = forecast_page_data("360000", "budget_execution_rate", "3", "month", scope=PROVINCE)
    assert d["view"] == "ytd" and d["series_label"] == "累计"
    # 序时进度 over the forecast months 2026-11, 2026-12, 2027-01
    assert d["future_target"] == pytest.approx([11 / 12 * 100, 100.0, 100 / 12])
    assert d["needed_text"].startswith("今后每月需完成年度预算的")


def test_the_what_if_text_moves_with_the_slider(view_env):
    zero = what_if_view("online_handling_rate", "360000", 0.0, "ramp", scope=PROVINCE)
    up = what_if_view("online_handling_rate", "360000", 2.0, "ramp", scope=PROVINCE)
    assert up["value"] > zero["value"]
    assert up["text"].startswith("若今后每月提高 2.0 个百分点（逐月递增）")
    a = kpi_attainment("online_handling_rate", "360000", scope=PROVINCE, what_if_pp=2.0).year_end
    assert f"{a.what_if_value:.1f}%" in up["text"]


def test_backtest_summary_compares_with_naive2():
    bt = {"origins": [30, 36, 42], "engine": {"smape": 2.0, "mase": 0.2, "coverage80": 0.75, "coverage95": 1.0},
          "naive2": {"smape": 4.0, "mase": 0.8}, "seasonal_naive": {"smape": 5.0, "mase": 1.0}}
    s = backtest_summary(bt, 6)
    assert s["relative_mase"] == pytest.approx(0.25)
    assert s["text"] == ("回测（3 个起点，每次预测 6 个月）：sMAPE 2.0%（Naive2 4.0%）；MASE 0.20（Naive2 0.80，"
                         "误差为 Naive2 的 25%）；80% 区间覆盖率 75%，95% 区间覆盖率 100%")
    assert backtest_summary(None, 6)["available"] is False


def test_the_download_table_has_chinese_headers_and_the_forecast(view_env):
    t = forecast_table("360000", "online_handling_rate", "6", "month", scope=PROVINCE)
    fc = kpi_forecast("online_handling_rate", "360000", scope=PROVINCE, horizon=6)
    assert list(t.columns[:5]) == ["地区", "指标", "口径", "月份", "预测值"]
    assert t["预测值"].tolist() == pytest.approx(fc["mean"].tolist())
    assert t["月份"].iloc[0] == "2026-11" and (t["单位"] == "%").all()
