"""Behaviour of the forecasting engine (metrics.forecast)."""

import warnings

import numpy as np
import pandas as pd
import pytest

from metrics.forecast import backtest, forecast, mase, naive2, seasonal_naive, simulate, smape

COLS = ["mean", "lo80", "hi80", "lo95", "hi95"]


def _monthly(values, start="2020-01"):
    return pd.Series(np.asarray(values, dtype=float),
                     index=pd.period_range(start, periods=len(values), freq="M"))


def _seasonal_series(n=60, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return _monthly(100 + 0.5 * t + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 2, n))


def _assert_ordered(f):
    assert np.isfinite(f[COLS].to_numpy()).all()
    assert (f["lo95"] <= f["lo80"] + 1e-9).all()
    assert (f["lo80"] <= f["mean"] + 1e-9).all()
    assert (f["mean"] <= f["hi80"] + 1e-9).all()
    assert (f["hi80"] <= f["hi95"] + 1e-9).all()


def test_forecast_returns_mean_and_interval_columns_for_the_requested_horizon():
    f = forecast(_seasonal_series(), 18)
    assert list(f.columns) == COLS
    assert len(f) == 18
    _assert_ordered(f)
    assert isinstance(f.attrs["model"], str) and f.attrs["model"]
    assert f.attrs["components"]


def test_output_index_continues_a_period_index():
    y = _seasonal_series()
    f = forecast(y, 3)
    assert isinstance(f.index, pd.PeriodIndex)
    assert list(f.index) == list(pd.period_range(y.index[-1] + 1, periods=3, freq="M"))


@pytest.mark.parametrize("freq", ["MS", "ME"])
def test_output_index_continues_a_datetime_index_with_the_same_month_anchoring(freq):
    y = _seasonal_series(40)
    y.index = pd.date_range("2019-01-01" if freq == "MS" else "2019-01-31", periods=40,
                            freq=freq)
    y.index.freq = None
    f = forecast(y, 4)
    expected = pd.date_range(y.index[-1], periods=5, freq=freq)[1:]
    assert isinstance(f.index, pd.DatetimeIndex)
    assert list(f.index) == list(expected)


def test_rate_near_100_keeps_mean_and_every_bound_inside_0_100():
    rng = np.random.default_rng(3)
    y = _monthly(np.clip(99.2 + np.cumsum(rng.normal(0.05, 0.2, 36)), 0, 100))
    f = forecast(y, 12, bounds=(0, 100))
    vals = f[COLS].to_numpy()
    assert (vals >= 0).all() and (vals <= 100).all()
    _assert_ordered(f)
    paths = simulate(y, 12, n_paths=200, bounds=(0, 100))
    assert (paths >= 0).all() and (paths <= 100).all()


def test_a_twelve_point_series_gets_a_model_forecast():
    y = _monthly([10, 12, 11, 13, 12, 14, 13, 15, 14, 16, 15, 17])
    f = forecast(y, 6)
    _assert_ordered(f)
    assert not f.attrs["model"].lower().startswith("fallback")


def test_a_constant_series_gives_a_flat_forecast_without_warnings():
    y = _monthly([7.0] * 24)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = forecast(y, 6)
    _assert_ordered(f)
    assert np.allclose(f[COLS].to_numpy(), 7.0)


def test_a_level_shift_gives_forecasts_near_the_new_level():
    rng = np.random.default_rng(5)
    y = _monthly(np.r_[np.full(30, 50.0), np.full(18, 80.0)] + rng.normal(0, 1, 48))
    f = forecast(y, 6)
    assert np.all(np.abs(f["mean"] - 80) < 5)


def test_same_input_gives_identical_output():
    from metrics import forecast as module

    y = _seasonal_series()
    a = forecast(y, 12)
    module._fitted.cache_clear()  # the second call fits again: a cached fit would make this test unfailable
    b = forecast(y, 12)
    assert a is not b
    pd.testing.assert_frame_equal(a, b)
    assert a.attrs["model"] == b.attrs["model"]
    np.testing.assert_array_equal(simulate(y, 6, n_paths=50, seed=1),
                                  simulate(y, 6, n_paths=50, seed=1))


def test_fewer_than_twelve_points_use_a_described_fallback():
    f = forecast(_monthly([3, 4, 5, 4, 6, 5]), 4)
    assert f.attrs["model"].lower().startswith("fallback")
    _assert_ordered(f)


@pytest.mark.parametrize("values", [[5.0], [5.0, 6.0]])
def test_one_or_two_points_do_not_crash(values):
    f = forecast(_monthly(values), 3)
    _assert_ordered(f)
    assert (f["mean"] == values[-1]).all()


def test_an_empty_series_raises_a_clear_value_error():
    with pytest.raises(ValueError, match="at least one observation"):
        forecast(pd.Series([], dtype=float, index=pd.PeriodIndex([], freq="M")), 3)


def test_missing_values_inside_the_series_are_interpolated():
    y = _seasonal_series(48)
    y.iloc[[10, 11, 30]] = np.nan
    f = forecast(y, 6)
    _assert_ordered(f)
    assert any("interpolated" in n for n in f.attrs["notes"])


def test_series_with_zeros_and_negatives_are_forecast_on_the_level_scale():
    rng = np.random.default_rng(2)
    y = _monthly(rng.normal(0, 5, 40))
    f = forecast(y, 6)
    _assert_ordered(f)
    assert f.attrs["transform"] == "none"


def test_simulated_paths_match_the_intervals():
    y = _seasonal_series(60, seed=4)
    f = forecast(y, 6)
    p = simulate(y, 6, n_paths=4000, seed=0)
    assert p.shape == (4000, 6)
    inside = ((p >= f["lo80"].to_numpy()) & (p <= f["hi80"].to_numpy())).mean()
    assert 0.76 < inside < 0.84


def test_benchmark_helpers_compute_known_values():
    assert smape([100, 100], [100, 50]) == pytest.approx(100 / 1.5 / 2)
    assert list(seasonal_naive(np.arange(24.0), 3)) == [12.0, 13.0, 14.0]
    assert list(naive2([1.0, 2.0, 3.0], 2)) == [3.0, 3.0]
    assert mase([1.0, 2.0, 3.0], [4.0], [5.0]) == pytest.approx(1.0)


def test_backtest_reports_accuracy_and_coverage_for_engine_and_benchmarks():
    r = backtest(_seasonal_series(60), 6, n_origins=2)
    assert set(r) >= {"engine", "seasonal_naive", "naive2", "origins"}
    assert {"smape", "mase", "coverage80", "coverage95"} <= set(r["engine"])
    assert np.isfinite(r["engine"]["smape"])
