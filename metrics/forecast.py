"""Automatic monthly forecasting engine (pure pandas / numpy / statsmodels).

Public API
----------
``forecast(y, horizon, levels=(80, 95), *, bounds=None, seasonal_period=12)``
    Point forecast and prediction intervals for the next ``horizon`` months.
``simulate(y, horizon, n_paths=1000, seed=0, **kw)``
    Sample paths (``n_paths`` x ``horizon``) from the same predictive distribution.
``backtest(y, horizon, n_origins=3, step=None, levels=(80, 95), **kw)``
    Rolling-origin sMAPE / MASE / coverage for the engine, seasonal naive and Naive2.
Helpers reused by the benchmark: ``smape``, ``mase``, ``naive2``, ``seasonal_naive``,
``seasonality_test``.

Method (M4-style, chosen automatically for every series, nothing tuned per series)
----------------------------------------------------------------------------------
1. Cleaning: the series is put on a regular monthly grid; leading/trailing NaN are dropped and
   inner NaN (and months missing from a DatetimeIndex) are linearly interpolated.  Trailing
   missing months are forecast too, so the output always continues the *input* index.
2. Transform: ``logit`` of the position inside ``bounds`` when bounds are given (so every
   forecast, interval and sample path stays inside the bounds), ``log`` for strictly positive
   series (multiplicative behaviour, positive forecasts), identity otherwise (zeros or negative
   values: no multiplicative model is ever used on them).
3. Seasonality: the M4 test (lag-``m`` autocorrelation significant at 90 %, needs >= 3m points).
   Seasonal series are adjusted with a classical decomposition (additive on the transformed
   scale, i.e. multiplicative for the log transform) and re-seasonalised at the end.
4. Pool fitted on the adjusted series: SES = ETS(A,N,N), damped-trend ETS(A,Ad,N), the Theta
   method (statsmodels ``ThetaModel``) and an ARIMA picked by AICc from a small candidate set.
   The point forecast is the median of the pool (robust combination, as in the M4 benchmarks).
5. Intervals: empirical.  In-sample h-step-ahead errors of the SES/damped filters (every
   origin, no refit) give the error variance per horizon; a variance curve
   ``a + b(h-1) + c(h-1)^2`` (b, c >= 0, the shape implied by local-level/damped-trend ETS) is
   fitted to them by non-negative least squares, floored by the one-step residual variance,
   made non-decreasing and inflated by a small-sample factor ``n/(n-k)``.  The predictive
   distribution is a Student t with 5 degrees of freedom on the transformed scale (heavy
   tails for structural breaks), back-transformed, so intervals are asymmetric for log/logit.
   ``simulate`` draws Gaussian random-walk increments with the same marginal variances times
   one chi-square scale per path (a Gaussian scale mixture), so every month's marginal is
   exactly that t distribution: paths and intervals are consistent.
6. Fewer than 12 usable points: naive (last value) forecast with random-walk intervals whose
   step variance is estimated from the first differences (collapsed if it cannot be
   estimated); described in ``attrs["model"]``.  A constant series returns the constant with
   collapsed intervals.

Everything is deterministic (fixed seeds) and every warning raised by the fits is swallowed
locally with ``warnings.catch_warnings``; no global warning filter is touched.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, TypedDict

import numpy as np
import pandas as pd
from scipy import stats

from metrics.cache import memo

__all__ = [
    "Backtest",
    "backtest",
    "forecast",
    "mase",
    "naive2",
    "seasonal_naive",
    "seasonality_test",
    "simulate",
    "smape",
]

MIN_MODEL_POINTS = 12
_T_DF = 5  # heavy-tailed predictive distribution (Student t, 5 d.o.f.)
# Fitted models are memoised so that forecast() and simulate() on the same data (as the
# attainment helpers do) fit only once: keyed on the cleaned values, horizon, bounds and
# season length, of which a fit is a pure function (metrics.cache, unversioned).
_FIT_CACHE_SIZE = 64
_LOGIT_EPS = 1e-3  # fraction of the bounds' range kept away from the edges on the logit scale


# --------------------------------------------------------------------------------------------
# accuracy measures and benchmark methods
# --------------------------------------------------------------------------------------------
def smape(actual, fc) -> float:
    """Symmetric MAPE in percent: mean of 200·|a−f|/(|a|+|f|) (0/0 counts as 0)."""
    a = np.asarray(actual, dtype=float)
    f = np.asarray(fc, dtype=float)
    den = np.abs(a) + np.abs(f)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(den > 0, 200.0 * np.abs(a - f) / np.where(den > 0, den, 1.0), 0.0)
    return float(np.mean(r))


def mase(insample, actual, fc, m: int = 12) -> float:
    """MASE scaled by the in-sample seasonal-naive MAE (lag ``m``; lag 1 if the sample is
    too short for lag ``m``).  Returns ``nan`` if the scale is zero."""
    y = np.asarray(insample, dtype=float)
    if len(y) <= m:
        m = 1
    if len(y) <= m:
        return float("nan")
    scale = np.mean(np.abs(y[m:] - y[:-m]))
    err = np.mean(np.abs(np.asarray(actual, float) - np.asarray(fc, float)))
    if scale <= 0:
        return float("nan")
    return float(err / scale)


def seasonality_test(y, m: int = 12) -> bool:
    """M4 seasonality test: is the lag-``m`` autocorrelation significant at 90 %?

    Uses the Bartlett standard error ``sqrt((1 + 2·Σ_{k<m} r_k²)/n)`` and needs ``n >= 3m``."""
    x = np.asarray(y, dtype=float)
    n = len(x)
    if m < 2 or n < 3 * m:
        return False
    x = x - x.mean()
    denom = np.dot(x, x)
    if denom <= 0:
        return False
    r = np.array([np.dot(x[: n - k], x[k:]) / denom for k in range(m + 1)])
    limit = 1.645 * math.sqrt((1.0 + 2.0 * np.sum(r[1:m] ** 2)) / n)
    return bool(abs(r[m]) > limit)


def _classical_indices(x: np.ndarray, m: int, multiplicative: bool) -> np.ndarray:
    """Seasonal indices of a classical decomposition (centred 2×m moving average).

    Returns ``m`` indices, index ``i`` applying to positions ``t`` with ``t % m == i``."""
    n = len(x)
    if m % 2 == 0:
        w = np.r_[0.5, np.ones(m - 1), 0.5] / m
    else:
        w = np.ones(m) / m
    trend = np.convolve(x, w, mode="valid")
    full = np.full(n, np.nan)
    off = (len(w) - 1) // 2
    full[off : off + len(trend)] = trend
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = x / full if multiplicative else x - full
    idx = np.array([np.nanmean(ratio[i::m]) if np.any(np.isfinite(ratio[i::m])) else np.nan
                    for i in range(m)])
    idx = np.where(np.isfinite(idx), idx, 1.0 if multiplicative else 0.0)
    if multiplicative:
        idx = idx / idx.mean()
    else:
        idx = idx - idx.mean()
    return idx


def seasonal_naive(y, h: int, m: int = 12) -> np.ndarray:
    """Seasonal naive forecast (last observed season repeated); naive if fewer than m points."""
    x = np.asarray(y, dtype=float)
    if len(x) == 0:
        raise ValueError("seasonal_naive needs at least one observation")
    if len(x) < m:
        return np.repeat(x[-1], h)
    return x[-m:][np.arange(h) % m]


def naive2(y, h: int, m: int = 12) -> np.ndarray:
    """M-competition Naive2: naive forecast of the seasonally adjusted series.

    Classical multiplicative decomposition is used only if the lag-m autocorrelation is
    significant at 90 % (and the series is strictly positive); the forecast is re-seasonalised."""
    x = np.asarray(y, dtype=float)
    if len(x) == 0:
        raise ValueError("naive2 needs at least one observation")
    n = len(x)
    if np.all(x > 0) and seasonality_test(x, m):
        si = _classical_indices(x, m, multiplicative=True)
        adj = x / si[np.arange(n) % m]
        return adj[-1] * si[np.arange(n, n + h) % m]
    return np.repeat(x[-1], h)


# --------------------------------------------------------------------------------------------
# input handling
# --------------------------------------------------------------------------------------------
@dataclass
class _Prepared:
    values: np.ndarray  # cleaned values (leading/trailing NaN dropped, inner interpolated)
    n_trailing_missing: int  # months after the last observation up to the end of the input
    index_kind: str  # "period" | "datetime" | "range"
    last_key: Any  # last index label of the input (Period / Timestamp / int)
    anchor: str  # "MS" | "ME" | "offset" for datetime
    notes: list = field(default_factory=list)


def _prepare(y) -> _Prepared:
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 1:
            raise ValueError("forecast expects a Series (or a one-column DataFrame)")
        y = y.iloc[:, 0]
    if not isinstance(y, pd.Series):
        y = pd.Series(np.asarray(y, dtype=float))
    if len(y) == 0:
        raise ValueError("forecast needs at least one observation; got an empty series")
    s = pd.to_numeric(y, errors="coerce").astype(float)
    s = s.replace([np.inf, -np.inf], np.nan)
    notes: list[str] = []
    idx = s.index
    anchor = "MS"
    if isinstance(idx, pd.PeriodIndex):
        kind = "period"
        p = idx.asfreq("M")
        s = pd.Series(s.to_numpy(), index=p).groupby(level=0).mean().sort_index()
        full = pd.period_range(s.index.min(), s.index.max(), freq="M")
        s = s.reindex(full)
        last_key = full[-1]
    elif isinstance(idx, pd.DatetimeIndex):
        kind = "datetime"
        if idx.tz is not None:
            idx = idx.tz_localize(None)
        if bool(np.all(idx.is_month_end)) and not bool(np.all(idx.is_month_start)):
            anchor = "ME"
        elif bool(np.all(idx.is_month_start)):
            anchor = "MS"
        else:
            anchor = "offset"
        p = idx.to_period("M")
        s = pd.Series(s.to_numpy(), index=p).groupby(level=0).mean().sort_index()
        full = pd.period_range(s.index.min(), s.index.max(), freq="M")
        s = s.reindex(full)
        last_key = pd.Timestamp(y.index.max()).tz_localize(None) if y.index.tz is not None \
            else pd.Timestamp(y.index.max())
    else:
        kind = "range"
        last_key = len(s) - 1
        s = s.reset_index(drop=True)
    v = s.to_numpy(dtype=float)
    finite = np.isfinite(v)
    if not finite.any():
        raise ValueError("forecast needs at least one non-missing observation; all values are NaN")
    first = int(np.argmax(finite))
    last = len(v) - 1 - int(np.argmax(finite[::-1]))
    n_trailing = len(v) - 1 - last
    if first > 0:
        notes.append(f"dropped {first} leading missing value(s)")
    v = v[first : last + 1]
    inner = ~np.isfinite(v)
    if inner.any():
        pos = np.arange(len(v))
        v = v.copy()
        v[inner] = np.interp(pos[inner], pos[~inner], v[~inner])
        notes.append(f"linearly interpolated {int(inner.sum())} missing month(s)")
    if n_trailing:
        notes.append(f"{n_trailing} trailing missing month(s) forecast as well")
    return _Prepared(v, n_trailing, kind, last_key, anchor, notes)


def _future_index(prep: _Prepared, horizon: int):
    if prep.index_kind == "period":
        start = prep.last_key + 1
        return pd.period_range(start, periods=horizon, freq="M")
    if prep.index_kind == "datetime":
        last = prep.last_key
        if prep.anchor == "MS":
            return pd.date_range(last + pd.offsets.MonthBegin(1), periods=horizon, freq="MS")
        if prep.anchor == "ME":
            return pd.date_range(last + pd.offsets.MonthEnd(1), periods=horizon, freq="ME")
        return pd.DatetimeIndex([last + pd.DateOffset(months=k) for k in range(1, horizon + 1)])
    return pd.RangeIndex(prep.last_key + 1, prep.last_key + 1 + horizon)


# --------------------------------------------------------------------------------------------
# transforms
# --------------------------------------------------------------------------------------------
class _Transform:
    def __init__(self, kind: str, bounds=None):
        self.kind = kind
        self.bounds = bounds

    def fwd(self, v):
        v = np.asarray(v, dtype=float)
        if self.kind == "log":
            return np.log(v)
        if self.kind == "logit":
            lo, hi = self.bounds
            p = np.clip((v - lo) / (hi - lo), _LOGIT_EPS, 1.0 - _LOGIT_EPS)
            return np.log(p / (1.0 - p))
        return v

    def inv(self, z):
        z = np.asarray(z, dtype=float)
        if self.kind == "log":
            return np.exp(np.clip(z, -700.0, 700.0))
        if self.kind == "logit":
            lo, hi = self.bounds
            return lo + (hi - lo) * (0.5 * (1.0 + np.tanh(0.5 * z)))  # stable sigmoid
        return z

    @property
    def label(self) -> str:
        return {"log": "log", "logit": "logit(bounds)", "none": "level"}[self.kind]


def _choose_transform(v: np.ndarray, bounds) -> _Transform:
    if bounds is not None:
        lo, hi = float(bounds[0]), float(bounds[1])
        if not hi > lo:
            raise ValueError(f"bounds must be (low, high) with low < high; got {bounds!r}")
        return _Transform("logit", (lo, hi))
    if np.all(v > 0):
        return _Transform("log")
    return _Transform("none")


# --------------------------------------------------------------------------------------------
# the model pool
# --------------------------------------------------------------------------------------------
def _aicc(res) -> float:
    a = getattr(res, "aicc", np.nan)
    try:
        a = float(a)
    except (TypeError, ValueError):
        a = np.nan
    return a if np.isfinite(a) else np.inf


def _fit_ets(x: np.ndarray, damped: bool):
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    kw: dict[str, Any] = {"error": "add"}
    if damped:
        kw.update(trend="add", damped_trend=True)
    return ETSModel(x, **kw).fit(disp=False, maxiter=200)


def _insample_paths(res, x: np.ndarray, damped: bool, H: int) -> np.ndarray:
    """h-step-ahead forecasts from every in-sample origin (no refit).  out[t, h-1] is the
    forecast of x[t+h] made after observing x[t]; NaN where x[t+h] is not observed."""
    n = len(x)
    st = np.asarray(res.states, dtype=float)
    level = st[:, 0]
    out = np.full((n, H), np.nan)
    if damped:
        phi = float(res.params[2]) if len(res.params) > 2 else 1.0
        trend = st[:, 1]
        cum = np.cumsum(phi ** np.arange(1, H + 1))
        fc = level[:, None] + trend[:, None] * cum[None, :]
    else:
        fc = np.repeat(level[:, None], H, axis=1)
    for h in range(1, H + 1):
        out[: n - h, h - 1] = fc[: n - h, h - 1]
    return out


def _fit_arima(x: np.ndarray, h: int):
    """ARIMA(p,1,0) with optional drift, p in 0..3, fitted by conditional least squares
    (statsmodels ``AutoReg`` on the first differences) and chosen by AICc on a common sample.

    (ARIMA(0,1,1) is already in the pool as SES, so the ARIMA member contributes the
    autoregressive dynamics; conditional least squares keeps it fast and deterministic.)"""
    from statsmodels.tsa.ar_model import AutoReg

    d = np.diff(x)
    maxlag = min(3, max(0, len(d) // 6))
    best = None
    for p in range(maxlag + 1):
        for trend in ("n", "c"):
            k = p + (trend == "c")
            if k == 0:
                resid = d[maxlag:]
                nobs = len(resid)
                s2 = float(np.mean(resid**2))
                if s2 <= 0:
                    continue
                aicc = nobs * math.log(s2) + 2 * 1
                res = None
            else:
                try:
                    res = AutoReg(d, lags=p, trend=trend, hold_back=maxlag).fit()
                except Exception:  # noqa: BLE001 - a failing candidate is skipped
                    continue
                nobs = int(res.nobs)
                s2 = float(np.mean(np.asarray(res.resid) ** 2))
                if not s2 > 0:
                    continue
                aicc = nobs * math.log(s2) + 2 * (k + 1)
            kk = k + 1
            if nobs - kk - 1 > 0:
                aicc += 2 * kk * (kk + 1) / (nobs - kk - 1)
            if best is None or aicc < best[0]:
                best = (aicc, p, trend, res)
    if best is None:
        return None, None
    _, p, trend, res = best
    if res is None:
        dfc = np.zeros(h)
    else:
        dfc = np.asarray(res.predict(start=len(d), end=len(d) + h - 1), dtype=float)
    fc = x[-1] + np.cumsum(dfc)
    name = f"ARIMA({p},1,0)" + ("+drift" if trend == "c" else "")
    return fc, name


def _fit_theta(x: np.ndarray, h: int):
    from statsmodels.tsa.forecasting.theta import ThetaModel

    r = ThetaModel(x, period=1, deseasonalize=False).fit()
    return np.asarray(r.forecast(h), dtype=float)


@dataclass
class _Fit:
    """Everything needed to produce intervals and sample paths."""

    center: np.ndarray  # point forecast on the transformed scale (seasonality included)
    sd: np.ndarray  # predictive sd on the transformed scale, per horizon (non-decreasing)
    transform: _Transform
    model: str
    components: dict
    extras: dict
    df: float = _T_DF  # degrees of freedom of the Student-t predictive distribution


def _variance_profile(x, fits, H, sigma2_model, n_params):
    """Empirical h-step error variances -> smooth, non-decreasing profile (length H)."""
    n = len(x)
    paths = [(_insample_paths(r, x, d, H)) for r, d in fits]
    fc = np.nanmean(np.stack(paths), axis=0)
    burn = min(max(3, n // 5), 12)
    hs, v = [], []
    for h in range(1, H + 1):
        t = np.arange(burn, n - h)
        if len(t) < 4:
            break
        e = x[t + h] - fc[t, h - 1]
        e = e[np.isfinite(e)]
        if len(e) < 4:
            break
        hs.append(h)
        v.append(float(np.mean(e**2)))
    grid = np.arange(1, H + 1, dtype=float)
    floor = np.full(H, sigma2_model)
    if hs:
        from scipy.optimize import nnls

        hs_a = np.asarray(hs, float)
        v_a = np.asarray(v)
        # variance grows like a + b(h-1) + c(h-1)^2 (damped/local-trend ETS shape), b,c >= 0
        A = np.column_stack([np.ones_like(hs_a), hs_a - 1.0, (hs_a - 1.0) ** 2])
        coef, _ = nnls(A, v_a)
        prof = coef[0] + coef[1] * (grid - 1.0) + coef[2] * (grid - 1.0) ** 2
        if not np.all(np.isfinite(prof)) or prof[0] <= 0:
            prof = np.full(H, max(v_a[0], sigma2_model))
    else:
        prof = floor.copy()
    prof = np.maximum(prof, floor)
    # small-sample inflation: parameters and seasonal indices were estimated in-sample
    infl = n / max(n - n_params, 1.0)
    prof = np.maximum.accumulate(prof * infl)
    return prof


def _fit_pool(v: np.ndarray, H: int, bounds, m: int) -> _Fit:
    tf = _choose_transform(v, bounds)
    z = tf.fwd(v)
    n = len(z)
    seasonal = m > 1 and seasonality_test(z, m)
    if seasonal:
        si = _classical_indices(z, m, multiplicative=False)
        s_in = si[np.arange(n) % m]
        s_out = si[np.arange(n, n + H) % m]
    else:
        s_in = np.zeros(n)
        s_out = np.zeros(H)
    x = z - s_in
    comps: dict[str, np.ndarray] = {}
    names: dict[str, str] = {}
    ses = _fit_ets(x, damped=False)
    comps["ses"] = np.asarray(ses.forecast(H), dtype=float)
    names["ses"] = "ETS(A,N,N)"
    fits = [(ses, False)]
    sigma2 = float(np.mean(np.asarray(ses.resid, float)[1:] ** 2)) if n > 2 else 0.0
    try:
        dmp = _fit_ets(x, damped=True)
        comps["damped"] = np.asarray(dmp.forecast(H), dtype=float)
        names["damped"] = "ETS(A,Ad,N)"
        fits.append((dmp, True))
    except Exception:  # noqa: BLE001
        pass
    try:
        comps["theta"] = _fit_theta(x, H)
        names["theta"] = "Theta"
    except Exception:  # noqa: BLE001
        pass
    fc_ar, ar_name = _fit_arima(x, H)
    if fc_ar is not None:
        comps["arima"] = fc_ar
        names["arima"] = ar_name
    ok = {k: c for k, c in comps.items() if np.all(np.isfinite(c))}
    stack = np.vstack(list(ok.values()))
    center_x = np.median(stack, axis=0)
    n_params = 2 + (m - 1 if seasonal else 0)
    var = _variance_profile(x, fits, H, sigma2, n_params)
    center = center_x + s_out
    season_label = f", seasonal m={m} (classical decomposition)" if seasonal else ", non-seasonal"
    model = (
        "Median combination: " + " + ".join(names[k] for k in ok)
        + f" on {tf.label} scale{season_label}; empirical Student-t({_T_DF}) intervals"
    )
    extras = {"seasonal": seasonal, "transform": tf.kind, "n_used": n}
    comp_out = {names[k]: tf.inv(c + s_out) for k, c in ok.items()}
    return _Fit(center, np.sqrt(var), tf, model, comp_out, extras)


def _fit_fallback(v: np.ndarray, H: int, bounds) -> _Fit:
    tf = _choose_transform(v, bounds)
    z = tf.fwd(v)
    n = len(z)
    d = np.diff(z)
    if len(d) >= 2:
        s2 = float(np.mean(d**2))
    elif len(d) == 1:
        s2 = float(d[0] ** 2)
    else:
        s2 = 0.0
    h = np.arange(1, H + 1, dtype=float)
    sd = np.sqrt(s2 * h)
    note = "random-walk intervals from first differences" if n >= 2 else \
        "intervals collapsed: a single observation carries no variance information"
    model = f"Fallback: naive (last value) forecast, {n} point(s) < {MIN_MODEL_POINTS}; {note}"
    return _Fit(np.repeat(z[-1], H), sd, tf, model, {},
                {"seasonal": False, "transform": tf.kind, "n_used": n},
                df=float(min(_T_DF, max(n - 2, 1))))


def _fit_constant(v: np.ndarray, H: int, bounds) -> _Fit:
    tf = _Transform("none")
    c = float(v[-1])
    if bounds is not None:
        c = float(np.clip(c, bounds[0], bounds[1]))
    return _Fit(np.repeat(c, H), np.zeros(H), tf,
                "Constant series: flat forecast, zero-width intervals", {},
                {"seasonal": False, "transform": "none", "n_used": len(v)})


def _fit(y, horizon: int, bounds, seasonal_period: int):
    if not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise ValueError(f"horizon must be a positive integer; got {horizon!r}")
    prep = _prepare(y)
    H = int(horizon) + prep.n_trailing_missing
    v = prep.values
    if bounds is not None:
        lo, hi = float(bounds[0]), float(bounds[1])
        if not hi > lo:
            raise ValueError(f"bounds must be (low, high) with low < high; got {bounds!r}")
        v = np.clip(v, lo, hi)
    fit = _fitted(np.asarray(v, dtype=float).tobytes(), H,
                  None if bounds is None else (float(bounds[0]), float(bounds[1])), int(seasonal_period))
    return prep, fit, H


@memo(_FIT_CACHE_SIZE, copy=False, versioned=False)
def _fitted(values: bytes, H: int, bounds, seasonal_period: int) -> _Fit:
    v = np.frombuffer(values, dtype=float).copy()
    scale = max(np.max(np.abs(v)), 1e-300)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        if np.ptp(v) <= 1e-12 * scale or np.ptp(v) == 0:
            fit = _fit_constant(v, H, bounds)
        elif len(v) < MIN_MODEL_POINTS:
            fit = _fit_fallback(v, H, bounds)
        else:
            try:
                fit = _fit_pool(v, H, bounds, seasonal_period)
            except Exception as exc:  # noqa: BLE001 - last-resort safety net
                fit = _fit_fallback(v, H, bounds)
                fit.model += f" (model pool failed: {type(exc).__name__})"
    return fit


def _quantiles(fit: _Fit, q: np.ndarray) -> np.ndarray:
    z = fit.center[None, :] + stats.t.ppf(q, fit.df)[:, None] * fit.sd[None, :]
    return fit.transform.inv(z)


def forecast(y, horizon: int, levels=(80, 95), *, bounds=None,
             seasonal_period: int = 12) -> pd.DataFrame:
    """Forecast the next ``horizon`` months of a monthly series.

    Parameters
    ----------
    y : pandas.Series
        Monthly observations with a PeriodIndex or a DatetimeIndex (month-start or month-end,
        ``freq`` not required).  NaN and missing months are interpolated (leading ones dropped).
    horizon : int
        Number of months to forecast.
    levels : iterable of numbers
        Prediction-interval levels in percent; each gives ``lo{L}``/``hi{L}`` columns.
    bounds : (low, high), optional
        Hard bounds (e.g. ``(0, 100)`` for a rate).  When given the series is modelled on the
        logit scale and every output column stays inside the bounds.
    seasonal_period : int
        Season length (12 for monthly data).

    Returns
    -------
    pandas.DataFrame indexed by the next ``horizon`` months (PeriodIndex if the input had one,
    otherwise a DatetimeIndex with the same month anchoring), columns ``mean`` (the point
    forecast: median of the model pool, i.e. a median-type forecast on the original scale),
    ``lo{L}``, ``hi{L}``.  ``attrs`` holds ``model`` (description), ``components`` (each pool
    member's point forecast), ``bounds``, ``seasonal``, ``transform``, ``notes`` and ``sd``
    (predictive sd on the transformed scale).
    """
    prep, fit, H = _fit(y, horizon, bounds, seasonal_period)
    levels = tuple(levels)
    qs = []
    for L in levels:
        if not 0 < float(L) < 100:
            raise ValueError(f"interval levels must be in (0, 100); got {L!r}")
        a = (1 - float(L) / 100) / 2
        qs += [a, 1 - a]
    with np.errstate(all="ignore"):
        point = fit.transform.inv(fit.center)
        qv = _quantiles(fit, np.asarray(qs)) if qs else np.empty((0, H))
    sl = slice(H - horizon, H)
    data = {"mean": point[sl]}
    for i, L in enumerate(levels):
        lab = _level_label(L)
        lo, hi = qv[2 * i][sl], qv[2 * i + 1][sl]
        data[f"lo{lab}"] = np.minimum(lo, data["mean"])
        data[f"hi{lab}"] = np.maximum(hi, data["mean"])
    out = pd.DataFrame(data, index=_future_index(prep, horizon))
    if bounds is not None:
        out = out.clip(float(bounds[0]), float(bounds[1]))
    out.attrs["model"] = fit.model
    out.attrs["components"] = {k: [float(x) for x in c[sl]] for k, c in fit.components.items()}
    out.attrs["bounds"] = None if bounds is None else (float(bounds[0]), float(bounds[1]))
    out.attrs["seasonal"] = bool(fit.extras.get("seasonal", False))
    out.attrs["transform"] = fit.extras.get("transform")
    out.attrs["n_used"] = int(fit.extras.get("n_used", len(prep.values)))
    out.attrs["notes"] = list(prep.notes)
    out.attrs["sd"] = [float(s) for s in fit.sd[sl]]
    return out


def _level_label(L) -> str:
    f = float(L)
    return str(int(f)) if f.is_integer() else str(f).replace(".", "_")


def simulate(y, horizon: int, n_paths: int = 1000, seed: int = 0, **kw) -> np.ndarray:
    """Sample paths of the next ``horizon`` months, shape ``(n_paths, horizon)``.

    Paths follow the same predictive distribution as :func:`forecast` (same centre, same
    marginal variances on the transformed scale) with random-walk-like dependence between
    months (independent Gaussian increments), then back-transformed; with ``bounds`` every
    path stays inside the bounds.  Deterministic for a given ``seed``.  Keyword arguments
    (``bounds``, ``seasonal_period``) are passed to the model fit."""
    if n_paths < 1:
        raise ValueError("n_paths must be >= 1")
    _prep, fit, H = _fit(y, horizon, kw.get("bounds"), kw.get("seasonal_period", 12))
    rng = np.random.default_rng(seed)
    var = fit.sd**2
    inc = np.sqrt(np.maximum(np.diff(np.r_[0.0, var]), 0.0))
    eps = rng.standard_normal((n_paths, H))
    # Gaussian scale mixture: one chi-square draw per path makes every marginal exactly
    # Student-t(df) with the interval's scale, i.e. consistent with forecast()'s intervals.
    mix = np.sqrt(fit.df / rng.chisquare(fit.df, size=(n_paths, 1)))
    z = fit.center[None, :] + mix * np.cumsum(eps * inc[None, :], axis=1)
    with np.errstate(all="ignore"):
        paths = fit.transform.inv(z)
    b = kw.get("bounds")
    if b is not None:
        paths = np.clip(paths, float(b[0]), float(b[1]))
    return paths[:, H - horizon :]


# --------------------------------------------------------------------------------------------
# back-test
# --------------------------------------------------------------------------------------------
_BACKTEST_METHODS = ("engine", "seasonal_naive", "naive2")


class Backtest(TypedDict):
    """:func:`backtest`'s result: per method, the mean ``smape`` and ``mase`` over the
    origins (the engine also ``coverage80`` …), and the origins (cut points)."""

    engine: dict[str, float]
    seasonal_naive: dict[str, float]
    naive2: dict[str, float]
    origins: list[int]


def backtest(y, horizon: int, n_origins: int = 3, step: int | None = None,
             levels=(80, 95), **kw) -> Backtest:
    """Rolling-origin evaluation on the last part of ``y``.

    Origins are placed so that the last one leaves exactly ``horizon`` months for testing and
    earlier ones are ``step`` months apart (default ``step = horizon``, non-overlapping
    windows).  Returns ``{"origins": [...], "engine": {...}, "seasonal_naive": {...},
    "naive2": {...}}`` where each method has mean ``smape`` and ``mase`` over origins (MASE
    scaled by the in-sample seasonal-naive MAE, m=12, or m=1 for short samples); the engine
    also has ``coverage{L}`` (share of test points inside the L % interval)."""
    prep = _prepare(y)
    v = prep.values
    step = int(step or horizon)
    m = int(kw.get("seasonal_period", 12))
    scores: dict[str, dict[str, list[float]]] = {name: {"smape": [], "mase": []} for name in _BACKTEST_METHODS}
    origins: list[int] = []
    for L in levels:
        scores["engine"][f"coverage{_level_label(L)}"] = []
    for k in range(n_origins - 1, -1, -1):
        cut = len(v) - horizon - k * step
        if cut < 1:
            continue
        tr, te = v[:cut], v[cut : cut + horizon]
        s = pd.Series(tr, index=pd.RangeIndex(len(tr)))
        f = forecast(s, horizon, levels, **kw)
        origins.append(int(cut))
        for name, fc in (("engine", f["mean"].to_numpy()),
                         ("seasonal_naive", seasonal_naive(tr, horizon, m)),
                         ("naive2", naive2(tr, horizon, m))):
            scores[name]["smape"].append(smape(te, fc))
            scores[name]["mase"].append(mase(tr, te, fc, m))
        for L in levels:
            lab = _level_label(L)
            inside = (te >= f[f"lo{lab}"].to_numpy()) & (te <= f[f"hi{lab}"].to_numpy())
            scores["engine"][f"coverage{lab}"].append(float(np.mean(inside)))
    if not origins:
        raise ValueError("series too short for the requested back-test")
    mean = {name: {key: float(np.nanmean(vals)) if len(vals) else float("nan") for key, vals in by_key.items()}
            for name, by_key in scores.items()}
    return {"engine": mean["engine"], "seasonal_naive": mean["seasonal_naive"], "naive2": mean["naive2"],
            "origins": origins}
