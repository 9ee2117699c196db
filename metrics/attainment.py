"""Target attainment for planners, built on :func:`metrics.forecast.simulate`.

Three KPI shapes are supported; every function is pure and deterministic (seeded):

``ytd_rate_attainment(num, den, target, year_end_month)``
    Year-end value is a year-to-date RATE ``100·Σnum/Σden`` (e.g. online handling rate, %).
    The monthly denominator and the monthly rate (bounded 0–100) are simulated; the monthly
    numerator of each path is ``rate × den / 100`` so the two stay consistent.
``ytd_sum_attainment(flow, target_total, year_end_month)``
    Year-end value is the cumulative sum of a monthly flow (payments, cases, ...).
``level_attainment(y, target, year_end_month, bounds=None)``
    Year-end value is the level of the series in the year-end month (a stock).
``what_if(kind, ..., shift, mode="ramp" | "flat")``
    Year-end value if every future month is shifted by ``shift`` (flat) or by ``shift·k`` in the
    k-th future month (ramp).

Common conventions
------------------
* Inputs are monthly pandas Series (PeriodIndex or DatetimeIndex).  ``year_end_month`` is a
  ``pd.Period``/``Timestamp``/``"YYYY-MM"`` string, or an int month (1–12) meaning that month
  in the year of the last observation.  The year to date is the 12 months ending at
  ``year_end_month``.
* ``higher_is_better=False`` turns the event into "year-end value ≤ target".
* Results are :class:`Attainment` (frozen): ``probability``, ``expected`` (median year-end
  value), ``interval`` (p10, p90), ``interval95`` (p2.5, p97.5), ``months_remaining``,
  ``ytd_so_far`` and the "needed" figures described per function (None where a shape has
  none). :func:`what_if` returns a :class:`WhatIfResult`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

import numpy as np
import pandas as pd

from metrics.forecast import forecast, simulate

__all__ = ["Attainment", "WhatIfResult", "level_attainment", "what_if", "ytd_rate_attainment",
           "ytd_sum_attainment"]

RATE_BOUNDS = (0.0, 100.0)


@dataclass(frozen=True)
class Attainment:
    """The year-end distribution of one series against a target, with the pace needed.

    The common figures come first; the shape-specific ones are None (or empty) where the
    helper that made the result has none: ``needed_monthly_rate`` and
    ``expected_denominators`` (a YTD rate), ``needed_monthly`` and ``forecast_monthly_mean``
    (a YTD sum), ``forecast_year_end`` (a level). ``needed_status`` is None for a level."""

    probability: float
    expected: float
    interval: tuple[float, float]
    interval95: tuple[float, float]
    months_remaining: int
    year_end_month: str
    ytd_so_far: float | None
    needed_status: str | None = None
    needed_monthly_rate: float | None = None
    expected_denominators: tuple[float, ...] = ()
    needed_monthly: float | None = None
    forecast_monthly_mean: float | None = None
    forecast_year_end: float | None = None


@dataclass(frozen=True)
class WhatIfResult:
    """The year-end value from the point forecasts with and without the shift, and (with a
    target) the probabilities of meeting it from the shifted sample paths."""

    baseline: float
    scenario: float
    delta: float
    months_remaining: int
    probability_baseline: float | None = None
    probability_scenario: float | None = None


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------
def _as_monthly(s: pd.Series) -> pd.Series:
    if not isinstance(s, pd.Series):
        raise TypeError("expected a pandas Series with a monthly PeriodIndex or DatetimeIndex")
    idx = s.index
    if isinstance(idx, pd.PeriodIndex):
        p = idx.asfreq("M")
    elif isinstance(idx, pd.DatetimeIndex):
        p = (idx.tz_localize(None) if idx.tz is not None else idx).to_period("M")
    else:
        raise TypeError("expected a monthly PeriodIndex or DatetimeIndex")
    out = pd.Series(pd.to_numeric(s, errors="coerce").to_numpy(float), index=p)
    out = out.groupby(level=0).sum(min_count=1).sort_index()
    return out


def _year_end(year_end_month, last: pd.Period) -> pd.Period:
    if isinstance(year_end_month, (int, np.integer)):
        if not 1 <= int(year_end_month) <= 12:
            raise ValueError("an integer year_end_month must be a month number 1..12")
        return pd.Period(year=last.year, month=int(year_end_month), freq="M")
    if isinstance(year_end_month, pd.Period):
        return year_end_month.asfreq("M")
    return pd.Period(pd.Timestamp(year_end_month), freq="M")


def _months_between(a: pd.Period, b: pd.Period) -> int:
    return (b.year - a.year) * 12 + (b.month - a.month)


class _Summary(TypedDict):
    probability: float
    expected: float
    interval: tuple[float, float]
    interval95: tuple[float, float]


class _Head(TypedDict):
    months_remaining: int
    year_end_month: str
    ytd_so_far: float | None


def _summary(values: np.ndarray, target: float, higher_is_better: bool) -> _Summary:
    v = np.asarray(values, dtype=float)
    hit = v >= target if higher_is_better else v <= target
    q = np.quantile(v, [0.025, 0.10, 0.5, 0.90, 0.975])
    return {
        "probability": float(np.mean(hit)),
        "expected": float(q[2]),
        "interval": (float(q[1]), float(q[3])),
        "interval95": (float(q[0]), float(q[4])),
    }


def _window(s: pd.Series, ye: pd.Period):
    """Observed part of the year-to-date window and the number of months still to come."""
    start = ye - 11
    last = s.dropna().index.max()
    obs = s[(s.index >= start) & (s.index <= min(last, ye))]
    k = max(_months_between(last, ye), 0)
    return obs, k, last


def _shifts(k: int, shift: float, mode: str) -> np.ndarray:
    if mode == "ramp":
        return shift * np.arange(1, k + 1, dtype=float)
    if mode == "flat":
        return np.full(k, float(shift))
    raise ValueError("mode must be 'ramp' or 'flat'")


# --------------------------------------------------------------------------------------------
# year-to-date rate  (Σnum / Σden)
# --------------------------------------------------------------------------------------------
def _ytd_rate_inputs(num, den, year_end_month):
    num = _as_monthly(num)
    den = _as_monthly(den)
    both = pd.concat({"num": num, "den": den}, axis=1).dropna()
    both = both[both["den"] > 0]
    if both.empty:
        raise ValueError("need at least one month with a positive denominator")
    last = both.index.max()
    ye = _year_end(year_end_month, last)
    obs = both[(both.index >= ye - 11) & (both.index <= min(last, ye))]
    k = max(_months_between(last, ye), 0)
    rate = (100.0 * both["num"] / both["den"]).clip(*RATE_BOUNDS)
    return both, rate, obs, k, ye


def ytd_rate_attainment(num: pd.Series, den: pd.Series, target: float, year_end_month,
                        n_paths: int = 2000, seed: int = 0, *,
                        higher_is_better: bool = True) -> Attainment:
    """Probability that the year-end YTD rate ``100·Σnum/Σden`` reaches ``target`` (in %).

    The monthly denominator is simulated with the forecasting engine (unbounded) and the
    monthly rate ``100·num/den`` with ``bounds=(0, 100)``, independently; each path's monthly
    numerator is ``rate·den/100``.  Returns the common fields plus

    * ``needed_monthly_rate``: the constant monthly rate (in %) needed in every remaining month
      to finish exactly on target, given the expected (forecast) denominators; ``None`` when
      ``needed_status`` is ``"secured"`` (target met even at the worst possible rate),
      ``"impossible"`` (not reachable even at the best possible rate) or ``"complete"`` (no
      months remaining).
    * ``expected_denominators``: the forecast denominators used.
    """
    both, rate, obs, k, ye = _ytd_rate_inputs(num, den, year_end_month)
    n_obs, d_obs = float(obs["num"].sum()), float(obs["den"].sum())
    head: _Head = {"months_remaining": int(k), "year_end_month": str(ye),
            "ytd_so_far": (100.0 * n_obs / d_obs) if d_obs > 0 else None}
    if k == 0:
        val = 100.0 * n_obs / d_obs
        return Attainment(**_summary(np.array([val]), target, higher_is_better), **head,
                          needed_monthly_rate=None, needed_status="complete", expected_denominators=())
    den_paths = simulate(both["den"], k, n_paths=n_paths, seed=seed)
    den_paths = np.maximum(den_paths, 0.0)
    rate_paths = simulate(rate, k, n_paths=n_paths, seed=seed + 1, bounds=RATE_BOUNDS)
    ytd = 100.0 * (n_obs + np.sum(rate_paths * den_paths, axis=1) / 100.0) / \
        (d_obs + np.sum(den_paths, axis=1))
    summary = _summary(ytd, target, higher_is_better)
    d_fc = np.maximum(forecast(both["den"], k, levels=())["mean"].to_numpy(), 0.0)
    denominators = tuple(float(x) for x in d_fc)
    d_fut = float(d_fc.sum())
    if d_fut <= 0:
        status = "impossible" if (higher_is_better and 100 * n_obs / max(d_obs, 1e-300) < target) else "secured"
        return Attainment(**summary, **head, needed_monthly_rate=None, needed_status=status,
                          expected_denominators=denominators)
    need = (target / 100.0 * (d_obs + d_fut) - n_obs) / d_fut * 100.0
    lo, hi = RATE_BOUNDS
    if higher_is_better:
        status = "secured" if need <= lo else ("impossible" if need > hi else "needed")
    else:
        status = "secured" if need >= hi else ("impossible" if need < lo else "needed")
    return Attainment(**summary, **head, needed_monthly_rate=float(need) if status == "needed" else None,
                      needed_status=status, expected_denominators=denominators)


# --------------------------------------------------------------------------------------------
# year-to-date sum
# --------------------------------------------------------------------------------------------
def ytd_sum_attainment(flow: pd.Series, target_total: float, year_end_month,
                       n_paths: int = 2000, seed: int = 0, *, higher_is_better: bool = True,
                       bounds=None) -> Attainment:
    """Probability that the year-to-date sum of a monthly flow reaches ``target_total``.

    ``bounds`` is passed to the engine for the monthly flow (e.g. ``(0, cap)``).  Extra fields:
    ``needed_monthly`` = (target − YTD so far) / months remaining (``None`` when complete),
    ``forecast_monthly_mean`` = mean of the forecast monthly flows, and ``needed_status``
    (``"needed"``, ``"secured"`` when the target is already met, ``"complete"``)."""
    s = _as_monthly(flow)
    obs, k, _ = _window(s, _year_end(year_end_month, s.dropna().index.max()))
    ye = _year_end(year_end_month, s.dropna().index.max())
    so_far = float(obs.sum())
    head: _Head = {"months_remaining": int(k), "year_end_month": str(ye), "ytd_so_far": so_far}
    if k == 0:
        return Attainment(**_summary(np.array([so_far]), target_total, higher_is_better), **head,
                          needed_monthly=None, forecast_monthly_mean=None, needed_status="complete")
    paths = simulate(s.dropna(), k, n_paths=n_paths, seed=seed, bounds=bounds)
    total = so_far + paths.sum(axis=1)
    summary = _summary(total, target_total, higher_is_better)
    fc = forecast(s.dropna(), k, levels=(), bounds=bounds)["mean"].to_numpy()
    need = (target_total - so_far) / k
    met = so_far >= target_total if higher_is_better else False
    return Attainment(**summary, **head, forecast_monthly_mean=float(np.mean(fc)), needed_monthly=float(need),
                      needed_status="secured" if met else "needed")


# --------------------------------------------------------------------------------------------
# level / stock
# --------------------------------------------------------------------------------------------
def level_attainment(y: pd.Series, target: float, year_end_month, bounds=None,
                     n_paths: int = 2000, seed: int = 0, *,
                     higher_is_better: bool = True) -> Attainment:
    """Probability that the series' value in ``year_end_month`` reaches ``target``.

    Pass ``bounds=(0, 100)`` for a rate.  Extra field ``forecast_year_end`` (point forecast)."""
    s = _as_monthly(y).dropna()
    if s.empty:
        raise ValueError("level_attainment needs at least one observation")
    last = s.index.max()
    ye = _year_end(year_end_month, last)
    k = max(_months_between(last, ye), 0)
    head: _Head = {"months_remaining": int(k), "year_end_month": str(ye), "ytd_so_far": float(s.iloc[-1])}
    if k == 0:
        val = float(s[s.index <= ye].iloc[-1])
        return Attainment(**_summary(np.array([val]), target, higher_is_better), **head, forecast_year_end=val)
    paths = simulate(s, k, n_paths=n_paths, seed=seed, bounds=bounds)
    return Attainment(**_summary(paths[:, -1], target, higher_is_better), **head,
                      forecast_year_end=float(forecast(s, k, levels=(), bounds=bounds)["mean"].iloc[-1]))


# --------------------------------------------------------------------------------------------
# what-if
# --------------------------------------------------------------------------------------------
def what_if(kind: str, *, shift: float, mode: str = "ramp", year_end_month, num=None, den=None,
            y=None, bounds=None, target: float | None = None, n_paths: int = 2000,
            seed: int = 0, higher_is_better: bool = True) -> WhatIfResult:
    """Year-end value if future monthly values are shifted from next month on.

    ``kind="ytd_rate"`` (needs ``num``, ``den``; shifts the monthly rate in percentage points,
    clipped to 0–100, with the forecast denominators) or ``kind="level"`` (needs ``y``; shifts
    the level, clipped to ``bounds``).  ``mode="ramp"``: the k-th future month gets
    ``shift·k``; ``mode="flat"``: every future month gets ``shift``.

    Returns ``baseline`` and ``scenario`` year-end values computed from the point forecasts,
    their difference ``delta``, ``months_remaining`` and, if ``target`` is given,
    ``probability_baseline`` / ``probability_scenario`` from the shifted sample paths."""
    if kind == "ytd_rate":
        if num is None or den is None:
            raise ValueError("what_if(kind='ytd_rate') needs num and den")
        both, rate, obs, k, ye = _ytd_rate_inputs(num, den, year_end_month)
        n_obs, d_obs = float(obs["num"].sum()), float(obs["den"].sum())
        if k == 0:
            v = 100.0 * n_obs / d_obs
            return WhatIfResult(baseline=v, scenario=v, delta=0.0, months_remaining=0)
        sh = _shifts(k, shift, mode)
        d_fc = np.maximum(forecast(both["den"], k, levels=())["mean"].to_numpy(), 0.0)
        r_fc = forecast(rate, k, levels=(), bounds=RATE_BOUNDS)["mean"].to_numpy()

        def ytd(r, d):
            return 100.0 * (n_obs + np.sum(r * d, axis=-1) / 100.0) / (d_obs + np.sum(d, axis=-1))

        base = float(ytd(r_fc, d_fc))
        scen = float(ytd(np.clip(r_fc + sh, *RATE_BOUNDS), d_fc))
        if target is None:
            return WhatIfResult(baseline=base, scenario=scen, delta=scen - base, months_remaining=k)
        dp = np.maximum(simulate(both["den"], k, n_paths=n_paths, seed=seed), 0.0)
        rp = simulate(rate, k, n_paths=n_paths, seed=seed + 1, bounds=RATE_BOUNDS)
        b = ytd(rp, dp)
        s = ytd(np.clip(rp + sh, *RATE_BOUNDS), dp)
        cmp = np.greater_equal if higher_is_better else np.less_equal
        return WhatIfResult(baseline=base, scenario=scen, delta=scen - base, months_remaining=k,
                            probability_baseline=float(np.mean(cmp(b, target))),
                            probability_scenario=float(np.mean(cmp(s, target))))
    if kind == "level":
        if y is None:
            raise ValueError("what_if(kind='level') needs y")
        s = _as_monthly(y).dropna()
        last = s.index.max()
        ye = _year_end(year_end_month, last)
        k = max(_months_between(last, ye), 0)
        if k == 0:
            v = float(s.iloc[-1])
            return WhatIfResult(baseline=v, scenario=v, delta=0.0, months_remaining=0)
        sh = _shifts(k, shift, mode)
        lo, hi = (-np.inf, np.inf) if bounds is None else (float(bounds[0]), float(bounds[1]))
        base = float(forecast(s, k, levels=(), bounds=bounds)["mean"].iloc[-1])
        scen = float(np.clip(base + sh[-1], lo, hi))
        if target is None:
            return WhatIfResult(baseline=base, scenario=scen, delta=scen - base, months_remaining=k)
        p = simulate(s, k, n_paths=n_paths, seed=seed, bounds=bounds)[:, -1]
        ps = np.clip(p + sh[-1], lo, hi)
        cmp = np.greater_equal if higher_is_better else np.less_equal
        return WhatIfResult(baseline=base, scenario=scen, delta=scen - base, months_remaining=k,
                            probability_baseline=float(np.mean(cmp(p, target))),
                            probability_scenario=float(np.mean(cmp(ps, target))))
    raise ValueError("kind must be 'ytd_rate' or 'level'")
