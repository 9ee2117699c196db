"""The product-facing forecast API: cached once per key, bounded rates, the right attainment shape."""

import os
import time

import numpy as np
import pandas as pd
import pytest

from data.scope import Scope, ScopeError
from metrics import cache, forecasting, year_end
from metrics.engine import kpi_value
from metrics.forecasting import (
    attainment_from_history,
    clear_cache,
    kpi_attainment,
    kpi_forecast,
    kpi_shape,
    year_end_target,
)
from metrics.periods import PeriodError

PROVINCE = Scope.province("360000")
IDX = pd.period_range("2023-01", periods=30, freq="M")  # last month 2025-06: six months to go


@pytest.fixture
def cache_env(demo_env, tmp_path, monkeypatch):
    """The demo database and an empty forecast cache (memory and disk)."""
    monkeypatch.setenv("COCKPIT_CACHE_DIR", str(tmp_path / "cache"))
    clear_cache()
    yield tmp_path / "cache" / "forecast"
    clear_cache()


@pytest.fixture
def fit_counter(monkeypatch):
    """Counts the engine's forecast() calls made by metrics.forecasting."""
    calls = []
    real = forecasting.forecast

    def counting(*args, **kw):
        calls.append(1)
        return real(*args, **kw)

    monkeypatch.setattr(forecasting, "forecast", counting)
    return calls


def test_a_forecast_is_computed_once_and_the_same_object_is_returned(cache_env, fit_counter):
    first = kpi_forecast("online_handling_rate", "360000", scope=PROVINCE, horizon=6)
    fits = len(fit_counter)
    assert fits >= 1
    again = kpi_forecast("online_handling_rate", "360000", scope=PROVINCE, horizon=6)
    assert again is first
    assert len(fit_counter) == fits


def test_another_worker_reads_the_forecast_from_disk_without_refitting(cache_env, fit_counter):
    first = kpi_forecast("online_handling_rate", "360000", scope=PROVINCE, horizon=6)
    assert list(cache_env.glob("forecast-*.json"))
    fits = len(fit_counter)
    clear_cache()  # a fresh process: empty memory, same disk
    again = kpi_forecast("online_handling_rate", "360000", scope=PROVINCE, horizon=6)
    assert len(fit_counter) == fits
    assert again is not first
    pd.testing.assert_frame_equal(again, first)
    assert again.attrs["model"] == first.attrs["model"]
    assert again.attrs["backtest"]["engine"]["smape"] == pytest.approx(first.attrs["backtest"]["engine"]["smape"])


def test_the_cache_key_holds_horizon_scope_and_data_version(cache_env, fit_counter, monkeypatch):
    kpi_forecast("online_handling_rate", "360100", scope=PROVINCE, horizon=6)
    n = len(fit_counter)
    kpi_forecast("online_handling_rate", "360100", scope=PROVINCE, horizon=3)
    assert len(fit_counter) > n
    n = len(fit_counter)
    kpi_forecast("online_handling_rate", "360100", scope=Scope(regions=("360100",)), horizon=6)
    assert len(fit_counter) > n
    n = len(fit_counter)
    monkeypatch.setattr(cache, "data_key", lambda: ("cockpit.duckdb", "a-new-load"))
    kpi_forecast("online_handling_rate", "360100", scope=PROVINCE, horizon=6)
    assert len(fit_counter) > n


def test_the_forecast_continues_after_the_last_month_with_ordered_bands(cache_env):
    fc = kpi_forecast("online_handling_rate", "360000", scope=PROVINCE, horizon=6)
    assert list(fc.columns) == ["mean", "lo80", "hi80", "lo95", "hi95"]
    assert isinstance(fc.index, pd.PeriodIndex)
    assert str(fc.index[0]) == "2026-11" and len(fc) == 6  # the demo ends in 2026-10
    assert (fc["lo95"] <= fc["lo80"]).all() and (fc["lo80"] <= fc["mean"]).all()
    assert (fc["mean"] <= fc["hi80"]).all() and (fc["hi80"] <= fc["hi95"]).all()
    assert fc.attrs["model"].startswith("Median combination")
    assert set(fc.attrs["backtest"]) >= {"engine", "naive2", "seasonal_naive"}


def _fake_series(values, start="2022-01", target=95.0):
    months = pd.date_range(start, periods=len(values), freq="MS")
    return pd.DataFrame({"month": months, "value": values, "numerator": values, "denominator": 100.0,
                         "target": target})


def test_rates_are_bounded_to_0_100_even_when_the_trend_runs_past_100(cache_env, monkeypatch):
    # a stock rate climbing 1.5 pp a month to 99%: a straight line would cross 100% in a month
    values = np.linspace(45, 99, 37)
    monkeypatch.setattr(forecasting, "kpi_series", lambda *a, **k: _fake_series(values))
    fc = kpi_forecast("online_available_rate", "360000", scope=PROVINCE, horizon=18)
    assert fc.to_numpy().max() <= 100.0 and fc.to_numpy().min() >= 0.0
    assert fc.attrs["bounds"] == [0.0, 100.0] or fc.attrs["bounds"] == (0.0, 100.0)


def test_a_region_without_data_gets_an_empty_forecast_not_an_error(cache_env, monkeypatch):
    monkeypatch.setattr(forecasting, "kpi_series", lambda *a, **k: _fake_series([np.nan] * 12))
    fc = kpi_forecast("online_available_rate", "360000", scope=PROVINCE, horizon=3)
    assert fc.attrs["has_data"] is False and fc["mean"].isna().all() and len(fc) == 3


def test_a_missing_scope_a_bad_horizon_and_a_bad_year_are_refused(cache_env):
    with pytest.raises(ScopeError):
        kpi_forecast("online_handling_rate", "360000", scope=None)
    with pytest.raises(PeriodError, match="预测期数"):
        kpi_forecast("online_handling_rate", "360000", scope=PROVINCE, horizon=0)
    with pytest.raises(PeriodError, match="年份"):
        kpi_attainment("online_handling_rate", "360000", scope=PROVINCE, year=2030)


def test_the_shape_comes_from_the_catalogue_measures():
    assert kpi_shape("online_handling_rate").kind == "ytd_rate"  # flow ÷ flow
    assert kpi_shape("online_available_rate").kind == "level"  # stock ÷ stock
    assert kpi_shape("applications_count").kind == "ytd_sum"  # Σ flow
    assert kpi_shape("budget_execution_rate").kind == "ytd_share"  # Σ flow ÷ stock
    assert kpi_shape("one_thing_count").kind == "level"  # a stock count
    gap = kpi_shape("execution_gap_pp")
    assert gap.gap and gap.kind == "ytd_share" and gap.base.id == "budget_execution_rate"
    assert kpi_shape("online_available_rate").bounds == (0.0, 100.0)
    assert kpi_shape("applications_count").bounds is None


@pytest.mark.parametrize("kpi_id, helper", [
    ("online_handling_rate", "ytd_rate_attainment"),
    ("online_available_rate", "level_attainment"),
    ("applications_count", "ytd_sum_attainment"),
])
def test_attainment_calls_the_helper_for_the_kpis_shape(cache_env, monkeypatch, kpi_id, helper):
    called = []
    for name in ("ytd_rate_attainment", "level_attainment", "ytd_sum_attainment"):
        real = getattr(year_end, name)
        monkeypatch.setattr(year_end, name, lambda *a, _n=name, _r=real, **k: called.append(_n) or _r(*a, **k))
    a = kpi_attainment(kpi_id, "360000", scope=PROVINCE).year_end
    assert called == [helper]
    assert a.months_remaining == 2 and a.year_end_month == "2026-12"
    assert a.interval95[0] <= a.interval[0] <= a.expected <= a.interval[1] <= a.interval95[1]


def test_attainment_is_cached_per_what_if(cache_env, fit_counter):
    base = kpi_attainment("online_handling_rate", "360000", scope=PROVINCE)
    assert kpi_attainment("online_handling_rate", "360000", scope=PROVINCE) is base
    up = kpi_attainment("online_handling_rate", "360000", scope=PROVINCE, what_if_pp=1.0)
    assert up.year_end.what_if_value > base.year_end.what_if_value
    assert up.year_end.probability == base.year_end.probability  # the what-if does not change the baseline


def test_budget_execution_is_held_to_100_percent_at_year_end_and_its_gap_follows(cache_env):
    assert year_end_target("budget_execution_rate", "360000", 2026)[0] == 100.0
    rate = kpi_attainment("budget_execution_rate", "360000", scope=PROVINCE).year_end
    gap = kpi_attainment("execution_gap_pp", "360000", scope=PROVINCE).year_end
    assert rate.target == 100.0 and gap.target == 0.0
    assert gap.expected == pytest.approx(rate.expected - 100.0)
    assert gap.probability == pytest.approx(rate.probability)


def test_the_year_end_target_is_the_regions_row_for_that_year(cache_env):
    # the demo sets online_handling_rate to 70% for the province (kpi_target), the catalogue too
    assert year_end_target("online_handling_rate", "360000", 2026)[0] == 70.0
    assert year_end_target("applications_count", "360000", 2026) == (None, None)


# ---------------------------------------------------------------- hand-checked on tiny cases


def _data(value, num, den):
    return pd.DataFrame({"value": value, "num": num, "den": den}, index=IDX)


def test_needed_monthly_rate_of_a_flow_ratio_by_hand():
    # 2025-01..06: den 100/month at 90% → Σnum 540, Σden 600; 6 months of den 100 to come.
    # Target 93%: (0.93 × 1200 − 540) ÷ 600 = 558 ÷ 600 = 93 %… of what remains: 96 %.
    shape = kpi_shape("online_handling_rate")
    a = attainment_from_history(shape, _data(90.0, 90.0, 100.0), 93.0, 2025, n_paths=200)
    assert a.shape == "ytd_rate" and a.months_remaining == 6
    assert a.needed_status == "needed" and a.needed == pytest.approx(96.0)
    assert a.current == pytest.approx(90.0)
    assert a.probability == 0.0  # a constant 90 % never reaches 93 %


def test_what_if_ramp_of_a_flow_ratio_by_hand():
    # +0.5 pp ramp: Jul..Dec get +0.5, +1.0, …, +3.0 pp of a 100 denominator → 10.5 more
    # numerator over 1200 → +0.875 pp at year end
    shape = kpi_shape("online_handling_rate")
    a = attainment_from_history(shape, _data(90.0, 90.0, 100.0), 93.0, 2025, what_if_pp=0.5, n_paths=200)
    assert a.what_if.delta == pytest.approx(0.875)
    flat = attainment_from_history(shape, _data(90.0, 90.0, 100.0), 93.0, 2025, what_if_pp=0.5,
                                   what_if_mode="flat", n_paths=200)
    assert flat.what_if.delta == pytest.approx(0.25)  # 6 × 0.5 × 100 ÷ 1200


def test_needed_monthly_flow_of_a_sum_by_hand():
    # 10 a month: 60 by June; target 150 → (150 − 60) ÷ 6 = 15 a month; expected 60 + 6 × 10 = 120
    shape = kpi_shape("applications_count")
    a = attainment_from_history(shape, _data(10.0, 10.0, np.nan), 150.0, 2025, n_paths=200)
    assert a.shape == "ytd_sum" and a.needed_kind == "monthly_flow"
    assert a.needed == pytest.approx(15.0)
    assert a.expected == pytest.approx(120.0) and a.probability == 0.0


def test_needed_monthly_share_of_budget_execution_by_hand():
    # budget 1200 (a stock), payments 50 a month → 50 ÷ 1200 = 4.1667 pp a month; by June 25 %;
    # year-end 100 % needs (100 − 25) ÷ 6 = 12.5 pp a month; on trend the year ends at 50 %.
    shape = kpi_shape("budget_execution_rate")
    ytd = pd.Series((IDX.month * 50.0 / 1200 * 100), index=IDX)
    a = attainment_from_history(shape, _data(ytd, 50.0, 1200.0), 100.0, 2025, n_paths=200)
    assert a.shape == "ytd_share" and a.needed_kind == "monthly_share"
    assert a.current == pytest.approx(25.0)
    assert a.needed == pytest.approx(12.5)
    assert a.expected == pytest.approx(50.0)
    ramp = attainment_from_history(shape, _data(ytd, 50.0, 1200.0), 100.0, 2025, what_if_pp=1.0, n_paths=200)
    assert ramp.what_if.delta == pytest.approx(21.0)  # 1 + 2 + … + 6 pp


def test_needed_monthly_increase_of_a_stock_by_hand():
    # a stock rate at 90 % by June; 93 % in December needs (93 − 90) ÷ 6 = 0.5 pp a month
    shape = kpi_shape("online_available_rate")
    a = attainment_from_history(shape, _data(90.0, 90.0, 100.0), 93.0, 2025, n_paths=200)
    assert a.shape == "level" and a.needed_kind == "monthly_increase"
    assert a.needed == pytest.approx(0.5)
    assert a.expected == pytest.approx(90.0)


def test_a_kpi_without_target_has_no_probability_but_an_expected_value():
    shape = kpi_shape("applications_count")
    a = attainment_from_history(shape, _data(10.0, 10.0, np.nan), None, 2025, n_paths=200)
    assert a.probability is None and a.needed is None and a.needed_status == "no_target"
    assert a.expected == pytest.approx(120.0)


def test_a_past_year_is_complete():
    shape = kpi_shape("online_handling_rate")
    a = attainment_from_history(shape, _data(90.0, 90.0, 100.0), 93.0, 2024, n_paths=200)
    assert a.months_remaining == 0 and a.needed_status == "complete"
    assert a.expected == pytest.approx(90.0) and a.model is None


def test_attainment_as_of_a_past_month_knows_only_the_months_up_to_it(cache_env):
    scope = PROVINCE
    june = kpi_attainment("online_handling_rate", "360000", scope=scope, year=2025, as_of="2025-06").year_end
    december = kpi_attainment("online_handling_rate", "360000", scope=scope, year=2025).year_end
    assert june.months_remaining == 6 and december.months_remaining == 0
    ytd_june = kpi_value("online_handling_rate", "360000", "2025-06", "ytd", scope=scope).value
    assert june.current == pytest.approx(ytd_june)
    latest = kpi_attainment("online_handling_rate", "360000", scope=scope, as_of="2026-10")
    assert latest == kpi_attainment("online_handling_rate", "360000", scope=scope)


def test_the_disk_cache_keeps_the_most_recently_used_files_within_its_bounds(cache_env, monkeypatch):
    monkeypatch.setenv("COCKPIT_FORECAST_CACHE_FILES", "3")
    for h in (3, 6, 12):
        kpi_forecast("online_handling_rate", "360000", scope=PROVINCE, horizon=h)
    first = sorted(cache_env.glob("*.json"))
    assert len(first) == 3
    oldest = first[0]
    os.utime(oldest, (time.time() - 100, time.time() - 100))  # the least recently used
    for h in (18, 24):
        kpi_forecast("online_handling_rate", "360000", scope=PROVINCE, horizon=h)
    files = sorted(cache_env.glob("*.json"))
    assert len(files) == 3 and oldest not in files
    # and by bytes: a budget smaller than one file keeps only the newest
    monkeypatch.setenv("COCKPIT_FORECAST_CACHE_FILES", "100")
    monkeypatch.setattr(forecasting, "_disk_limits", lambda: (100, 1))
    kpi_forecast("online_handling_rate", "360100", scope=PROVINCE, horizon=6)
    assert len(list(cache_env.glob("*.json"))) <= 1


def test_what_if_results_stay_in_a_bounded_memory_cache_and_never_on_disk(cache_env):
    kpi_attainment("online_handling_rate", "360000", scope=PROVINCE)
    on_disk = sorted(cache_env.glob("*.json"))
    for i in range(forecasting.WHAT_IF_CACHE_SIZE + 10):
        kpi_attainment("online_handling_rate", "360000", scope=PROVINCE, what_if_pp=0.01 * (i + 1))
    assert sorted(cache_env.glob("*.json")) == on_disk
    sizes = forecasting.memory_cache_sizes()
    assert sizes["what_if"] == forecasting.WHAT_IF_CACHE_SIZE and sizes["results"] >= 1
