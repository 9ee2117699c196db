"""Year-end attainment of a base KPI from its monthly inputs: pure, no database.

The probability that the year-end value meets its target, the expected value and its
intervals, the pace needed from next month and a what-if, by the KPI's shape
(:mod:`metrics.forecast_shape`), from the attainment helpers (:mod:`metrics.attainment`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from metrics.attainment import (
    Attainment,
    WhatIfResult,
    level_attainment,
    what_if,
    ytd_rate_attainment,
    ytd_sum_attainment,
)
from metrics.forecast import forecast, simulate
from metrics.forecast_shape import RATE_BOUNDS, Shape, monthly_flow, trim_leading_zeros, ytd_rate_parts

N_PATHS = 2000


@dataclass(frozen=True)
class WhatIf:
    """The year-end value when every future month moves by ``shift`` (``mode`` ramp/flat):
    ``baseline`` and ``scenario`` from the point forecasts, and with a target the chance of
    meeting it either way."""

    shift: float
    mode: str
    baseline: float
    scenario: float
    delta: float
    probability_baseline: float | None = None
    probability_scenario: float | None = None


@dataclass(frozen=True)
class YearEnd:
    """The attainment of a KPI's year-end value (:func:`attainment_from_history`).

    ``probability`` is None without a target; ``expected`` is the median year-end value,
    ``interval`` (p10, p90) and ``interval95`` (p2.5, p97.5) its intervals; ``current`` the
    累计 value so far; ``needed`` the monthly value needed from next month on, by
    ``needed_kind`` (``monthly_rate``, ``monthly_share``, ``monthly_flow``,
    ``monthly_increase``), None unless ``needed_status`` is ``needed`` or ``met``;
    ``model`` the engine's description (None when the year is complete)."""

    shape: str
    year: int
    year_end_month: str
    months_remaining: int
    target: float | None
    has_target: bool
    higher_is_better: bool
    probability: float | None
    expected: float
    interval: tuple[float, float]
    interval95: tuple[float, float]
    current: float | None
    needed: float | None
    needed_kind: str
    needed_status: str | None
    what_if: WhatIf
    what_if_value: float
    model: str | None

    def shifted(self, offset: float, target: float | None) -> YearEnd:
        """The same figures moved down by ``offset`` and held to ``target`` (a gap KPI is its
        base KPI less the base's target)."""
        def down(x: float | None) -> float | None:
            return None if x is None else x - offset

        return replace(
            self, target=target, expected=self.expected - offset, current=down(self.current),
            what_if_value=self.what_if_value - offset,
            interval=(self.interval[0] - offset, self.interval[1] - offset),
            interval95=(self.interval95[0] - offset, self.interval95[1] - offset),
            what_if=replace(self.what_if, baseline=self.what_if.baseline - offset,
                            scenario=self.what_if.scenario - offset))


def _shifts(k: int, shift: float, mode: str) -> np.ndarray:
    return shift * (np.arange(1, k + 1, dtype=float) if mode == "ramp" else np.ones(k))


def _pair(xs) -> tuple[float, float]:
    lo, hi = xs
    return float(lo), float(hi)


def attainment_from_history(shape: Shape, data: pd.DataFrame, target: float | None, year: int, *,
                            higher_is_better: bool = True, what_if_pp: float = 0.0,
                            what_if_mode: str = "ramp", n_paths: int = N_PATHS) -> YearEnd:
    """Attainment of a base KPI's year-end value from its monthly inputs (pure; no database).

    ``data``: PeriodIndex; ``value`` (累计 value), ``num`` and ``den`` (monthly flows or stocks),
    as :func:`_monthly_inputs` gives them. ``target`` in the base KPI's unit (None: no target).
    ``what_if_pp`` shifts future monthly values: percentage points for rates and shares, per
    cent of the forecast monthly flow for sums, units of the KPI for other stocks.
    """
    ye = pd.Period(year=int(year), month=12, freq="M")
    data = data.loc[trim_leading_zeros(data["value"], before=ye - 11).index]
    has_target = target is not None
    tgt = float(target) if target is not None else 0.0
    kw: dict[str, Any] = {"n_paths": n_paths, "higher_is_better": higher_is_better}
    bounds: tuple[float, float] | None
    res: Attainment
    wi: WhatIfResult
    if shape.kind == "ytd_rate":
        num, den, rate = ytd_rate_parts(shape, data)  # the helper computes 100·Σnum/Σden
        res = ytd_rate_attainment(num, den, tgt, ye, **kw)
        needed, needed_kind = res.needed_monthly_rate, "monthly_rate"
        modelled, bounds = rate, RATE_BOUNDS
        wi = what_if("ytd_rate", shift=what_if_pp, mode=what_if_mode, year_end_month=ye, num=num,
                     den=den, target=tgt if has_target else None, **kw)
    elif shape.kind == "level":
        y = data["value"].dropna()
        res = level_attainment(y, tgt, ye, bounds=shape.bounds, **kw)
        k, last = res.months_remaining, float(y.iloc[-1])
        needed = (tgt - last) / k if k else None
        met = last >= tgt if higher_is_better else last <= tgt
        res = replace(res, needed_status="complete" if not k else ("met" if met else "needed"))
        needed_kind = "monthly_increase"
        modelled, bounds = y, shape.bounds
        wi = what_if("level", shift=what_if_pp, mode=what_if_mode, year_end_month=ye, y=y, bounds=shape.bounds,
                     target=tgt if has_target else None, **kw)
    else:
        flow = monthly_flow(shape, data)
        needed_kind = "monthly_share" if shape.kind == "ytd_share" else "monthly_flow"
        res = ytd_sum_attainment(flow, tgt, ye, bounds=shape.bounds, **kw)
        needed = res.needed_monthly
        modelled, bounds = flow, shape.bounds
        wi = _what_if_sum(shape, flow, res, ye, what_if_pp, what_if_mode, tgt if has_target else None, **kw)
    interval, interval95, expected = _pair(res.interval), _pair(res.interval95), float(res.expected)
    if shape.kind == "ytd_share" and shape.bounds is not None:  # a share cannot pass 100%, as above
        lo, hi = shape.bounds
        interval = _pair(np.clip(interval, lo, hi))
        interval95 = _pair(np.clip(interval95, lo, hi))
        expected = float(np.clip(expected, lo, hi))
        base, scen = float(np.clip(wi.baseline, lo, hi)), float(np.clip(wi.scenario, lo, hi))
        wi = replace(wi, baseline=base, scenario=scen, delta=scen - base)
    k = int(res.months_remaining)
    # the fit is memoised by the engine: this only reads the description of the model used
    model = forecast(modelled, k, levels=(), bounds=bounds).attrs["model"] if k else None
    status = res.needed_status
    if status in ("secured", "impossible", "complete") or not has_target:
        needed = None
    return YearEnd(
        shape=shape.kind,
        year=int(year),
        year_end_month=str(ye),
        months_remaining=k,
        target=target,
        has_target=has_target,
        higher_is_better=higher_is_better,
        probability=float(res.probability) if has_target else None,
        expected=expected,
        interval=interval,
        interval95=interval95,
        current=_num(res.ytd_so_far),
        needed=_num(needed),
        needed_kind=needed_kind,
        needed_status=status if has_target else "no_target",
        what_if=WhatIf(shift=float(what_if_pp), mode=what_if_mode, baseline=float(wi.baseline),
                       scenario=float(wi.scenario), delta=float(wi.delta),
                       probability_baseline=_num(wi.probability_baseline),
                       probability_scenario=_num(wi.probability_scenario)),
        what_if_value=float(wi.scenario),
        model=model,
    )


def _num(x) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def _what_if_sum(shape: Shape, flow: pd.Series, res: Attainment, ye: pd.Period, shift: float, mode: str,
                 target: float | None, *, n_paths: int, higher_is_better: bool) -> WhatIfResult:
    """What-if for summed flows (the attainment helpers have none): shares move by ``shift``
    percentage points a month, counts and money by ``shift`` per cent of the forecast flow."""
    k = res.months_remaining
    so_far = float(res.ytd_so_far or 0.0)  # a YTD sum always has one
    if k == 0:
        return WhatIfResult(baseline=so_far, scenario=so_far, delta=0.0, months_remaining=0)
    mean = forecast(flow, k, levels=(), bounds=shape.bounds)["mean"].to_numpy()
    sh = _shifts(k, shift, mode)
    extra = sh if shape.kind == "ytd_share" else mean * sh / 100.0
    lo, hi = shape.bounds or (-np.inf, np.inf)
    base = so_far + float(mean.sum())
    scen = so_far + float(np.clip(mean + extra, lo, hi).sum())
    if target is None:
        return WhatIfResult(baseline=base, scenario=scen, delta=scen - base, months_remaining=k)
    # the same paths as ytd_sum_attainment (same series, seed and fit), shifted
    paths = simulate(flow, k, n_paths=n_paths, seed=0, bounds=shape.bounds)
    moved = np.clip(paths + (sh[None, :] if shape.kind == "ytd_share" else paths * sh[None, :] / 100.0), lo, hi)
    cmp = np.greater_equal if higher_is_better else np.less_equal
    return WhatIfResult(baseline=base, scenario=scen, delta=scen - base, months_remaining=k,
                        probability_baseline=float(np.mean(cmp(so_far + paths.sum(axis=1), target))),
                        probability_scenario=float(np.mean(cmp(so_far + moved.sum(axis=1), target))))
