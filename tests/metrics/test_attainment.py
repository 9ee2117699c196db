"""Behaviour of the target-attainment helpers (metrics.attainment)."""

import numpy as np
import pandas as pd
import pytest

from metrics.attainment import level_attainment, what_if, ytd_rate_attainment, ytd_sum_attainment

IDX = pd.period_range("2023-01", periods=30, freq="M")  # last observation: 2025-06
YEAR_END = "2025-12"


def _noisy_rate(level, seed=0, sd=0.3):
    rng = np.random.default_rng(seed)
    return pd.Series(np.clip(level + rng.normal(0, sd, len(IDX)), 0, 100), index=IDX)


def _den(seed=1):
    rng = np.random.default_rng(seed)
    return pd.Series(1000 + rng.normal(0, 20, len(IDX)), index=IDX)


def test_a_rate_far_above_target_is_almost_certain_to_be_attained():
    den = _den()
    num = den * _noisy_rate(99.0) / 100
    r = ytd_rate_attainment(num, den, 80.0, YEAR_END, n_paths=300)
    assert r.probability > 0.99
    assert r.months_remaining == 6
    # (0.8*12000 - ~5940) / ~6000 ≈ 61 %: far below the current 99 %
    assert r.needed_status == "needed" and r.needed_monthly_rate < 70


def test_a_rate_far_below_target_is_almost_certainly_missed():
    den = _den()
    num = den * _noisy_rate(60.0) / 100
    r = ytd_rate_attainment(num, den, 95.0, YEAR_END, n_paths=300)
    assert r.probability < 0.01
    assert r.needed_status == "impossible"


def test_lower_is_better_flips_the_event():
    den = _den()
    num = den * _noisy_rate(60.0) / 100
    r = ytd_rate_attainment(num, den, 95.0, YEAR_END, n_paths=300, higher_is_better=False)
    assert r.probability > 0.99


def test_needed_monthly_rate_matches_a_hand_computation():
    # Jan-Jun 2025 of the year: den 100/month, rate 90 % -> N=540, D=600; 6 more months of
    # den 100 expected.  Target 93 %: (0.93*1200 - 540) / 600 = 96 %.
    den = pd.Series(100.0, index=IDX)
    num = pd.Series(90.0, index=IDX)
    r = ytd_rate_attainment(num, den, 93.0, YEAR_END, n_paths=200)
    assert r.needed_status == "needed"
    assert r.needed_monthly_rate == pytest.approx(96.0)
    assert r.ytd_so_far == pytest.approx(90.0)
    assert r.probability == 0.0  # a constant 90 % never reaches 93 %


def test_ytd_sum_reports_needed_monthly_flow():
    flow = pd.Series(10.0, index=IDX)  # 60 so far this year
    r = ytd_sum_attainment(flow, 150.0, YEAR_END, n_paths=200)
    assert r.needed_monthly == pytest.approx(15.0)
    assert r.forecast_monthly_mean == pytest.approx(10.0)
    assert r.expected == pytest.approx(120.0)
    assert r.probability == 0.0


def test_level_attainment_of_a_high_rate_stock():
    y = _noisy_rate(98.0, sd=0.2)
    hi = level_attainment(y, 90.0, YEAR_END, bounds=(0, 100), n_paths=300)
    lo = level_attainment(y, 99.9, YEAR_END, bounds=(0, 100), n_paths=300)
    assert hi.probability > 0.99 and lo.probability < 0.05
    assert 0 <= hi.interval95[0] <= hi.interval95[1] <= 100


def test_what_if_ramp_raises_the_ytd_rate_by_the_hand_computed_amount():
    # constant 90 % with den 100; ramp +0.5 pp: months Jul..Dec get +0.5..+3.0 pp
    # -> extra numerator 0.5*(1+..+6) = 10.5 over a 1200 denominator = +0.875 pp.
    den = pd.Series(100.0, index=IDX)
    num = pd.Series(90.0, index=IDX)
    r = what_if("ytd_rate", num=num, den=den, shift=0.5, mode="ramp", year_end_month=YEAR_END)
    assert r.baseline == pytest.approx(90.0)
    assert r.scenario == pytest.approx(90.875)
    flat = what_if("ytd_rate", num=num, den=den, shift=0.5, mode="flat",
                   year_end_month=YEAR_END)
    assert flat.scenario == pytest.approx(90.25)


def test_what_if_ramp_raises_a_level_by_shift_times_months():
    y = pd.Series(90.0, index=IDX)
    r = what_if("level", y=y, shift=0.5, mode="ramp", year_end_month=YEAR_END, bounds=(0, 100),
                target=92.0, n_paths=100)
    assert r.scenario == pytest.approx(93.0)
    assert r.probability_baseline == 0.0 and r.probability_scenario == 1.0


def test_attainment_is_deterministic_for_a_seed():
    den = _den()
    num = den * _noisy_rate(95.0) / 100
    a = ytd_rate_attainment(num, den, 95.0, YEAR_END, n_paths=200, seed=3)
    b = ytd_rate_attainment(num, den, 95.0, YEAR_END, n_paths=200, seed=3)
    assert a == b
