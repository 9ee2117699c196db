"""Forecasts and year-end target attainment for planners: the product-facing API.

Built on the forecasting engine (:mod:`metrics.forecast`) and the attainment helpers
(:mod:`metrics.attainment`); histories come from :func:`metrics.engine.kpi_series`, so the
viewer's scope is applied in SQL exactly as everywhere else. Importable without Dash.

``kpi_forecast(kpi_id, region, *, scope, horizon=6, cumulative=False)``
    The next ``horizon`` months: mean, lo80/hi80, lo95/hi95 (rates bounded to 0–100).
``kpi_attainment(kpi_id, region, *, scope, year=None, what_if_pp=0.0, what_if_mode="ramp")``
    The probability that the year-end value meets the year's target, the expected year-end
    value and its intervals, the pace needed from next month, and a what-if.

How the year-end value is modelled follows from the catalogue, never from a KPI id
(:func:`kpi_shape`):

* ``ytd_rate``  — a ratio of two flows (网上办件率): the year-end value is Σnum ÷ Σden over
  the year; numerator and denominator are simulated consistently (``ytd_rate_attainment``).
* ``ytd_share`` — a flow over a stock (预算执行率 = Σ支付 ÷ 年度预算): each month adds
  ``paid ÷ that year's budget`` to the year's share; the year-end value is the sum of those
  monthly shares (``ytd_sum_attainment``). The current year's budget is its latest month's.
* ``ytd_sum``   — a summed flow (办件量): the year-end value is the year's total.
* ``level``     — a stock (网上可办率, 一件事数): the year-end value is December's.

A ``gap`` KPI (与序时进度差) is its base KPI's shape shifted by the base's year-end target.
A ``time_progress`` target (序时进度) is 100% at the year end.

Caching: results are memoised by :func:`metrics.cache.memo`, the one cache, keyed by the
data version, the scope and the normalised arguments, and also written as small JSON files
under ``$COCKPIT_CACHE_DIR/forecast`` (default ``data/cache/``) so that every gunicorn
worker reuses them (:class:`metrics.cache.Disk`, keyed the same way and by this code's
version). The directory is bounded (``$COCKPIT_FORECAST_CACHE_FILES`` files, default 512,
and ``$COCKPIT_FORECAST_CACHE_MB``, default 64 MB; the least recently used files go
first). What-if results (a non-zero shift: every slider value is a new key) are never
written to disk; they live in a small store of their own (:data:`WHAT_IF_CACHE_SIZE`), so
no stream of values can fill the disk or push the forecasts out of memory. Only data is
cached (DataFrames and frozen dataclasses), never figures. Cached objects are shared: treat them as
read-only.

Threads: fits run with one BLAS thread (``threadpoolctl``): measured 6.4 s → 0.7 s for four
forecasts with back-tests on this 2-core machine. Setting ``OPENBLAS_NUM_THREADS`` here would
do nothing in the app, where numpy is imported long before this module; the limit is
applied around each computation instead.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from data.scope import Scope, require
from metrics.cache import Disk, memo
from metrics.catalogue import load_catalogue
from metrics.engine import kpi_series
from metrics.engine.targets import year_end_target as engine_year_end_target
from metrics.forecast import Backtest, backtest, forecast, simulate
from metrics.forecast_shape import (
    RATE_BOUNDS,
    Shape,
    bounds_of,
    kpi_shape,
    modelled_label,
    monthly_flow,
    trim_leading_zeros,
    ytd_rate_parts,
)
from metrics.periods import PeriodError, parse_month
from metrics.regions import as_of
from metrics.year_end import N_PATHS, WhatIf, YearEnd, attainment_from_history

try:  # one BLAS thread per fit; without threadpoolctl the fits are merely slower
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover
    threadpool_limits = None

__all__ = [
    "MAX_HORIZON",
    "WHAT_IF_MODES",
    "KpiAttainment",
    "Shape",
    "WhatIf",
    "YearEnd",
    "attainment_from_history",
    "clear_cache",
    "kpi_attainment",
    "kpi_forecast",
    "kpi_shape",
    "memory_cache_sizes",
    "year_end_target",
]

MAX_HORIZON = 36
WHAT_IF_MODES = ("ramp", "flat")
_CACHE_FORMAT = 3  # 3: an attainment is stored as KpiAttainment.to_dict()
# the disk cache outlives the process: key it by the modelling code too, so an engine
# change never serves forecasts made by the previous engine
_ENGINE_VERSION = hashlib.sha256(b"".join(
    (Path(__file__).parent / name).read_bytes()
    for name in ("forecast.py", "attainment.py", "forecasting.py", "forecast_shape.py", "year_end.py")
)).hexdigest()[:12]
CACHE_SIZE = 256
WHAT_IF_CACHE_SIZE = 64  # memory only (see the module docstring)
DISK_CACHE_FILES = 512
DISK_CACHE_MB = 64
DEFAULT_CACHE_DIR = Path(__file__).resolve().parents[1] / "data" / "cache"


# ------------------------------------------------------------------ results


@dataclass(frozen=True)
class KpiAttainment:
    """:func:`kpi_attainment`'s answer: which KPI, region and year it is about, the shape its
    year-end value is modelled by, where its target comes from, and the figures
    (``year_end``; None when the region has no data for the KPI)."""

    kpi_id: str
    region: str
    unit: str
    year: int
    shape: str
    year_end: YearEnd | None = None
    target_source: str | None = None

    @property
    def has_data(self) -> bool:
        return self.year_end is not None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (the disk cache); :meth:`from_dict` reads it back."""
        return asdict(self)

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> KpiAttainment:
        ye = doc.get("year_end")
        year_end = None if ye is None else YearEnd(**{
            **ye, "interval": tuple(ye["interval"]), "interval95": tuple(ye["interval95"]),
            "what_if": WhatIf(**ye["what_if"])})
        return cls(**{**doc, "year_end": year_end})


# ------------------------------------------------------------------ cache


@contextlib.contextmanager
def _fitting():
    """One BLAS thread and no warnings from the model fits (pytest runs with -W error)."""
    limit = threadpool_limits(limits=1, user_api="blas") if threadpool_limits else contextlib.nullcontext()
    with limit, warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


def _cache_dir() -> Path:
    return Path(os.environ.get("COCKPIT_CACHE_DIR") or DEFAULT_CACHE_DIR) / "forecast"


def _disk_limits() -> tuple[int, int]:
    def env(name: str, default: int) -> int:
        try:
            return max(1, int(os.environ.get(name, "") or default))
        except ValueError:
            return default

    files = env("COCKPIT_FORECAST_CACHE_FILES", DISK_CACHE_FILES)
    return files, env("COCKPIT_FORECAST_CACHE_MB", DISK_CACHE_MB) * 2**20


def _disk(name: str, encode=lambda v: v, decode=lambda d: d) -> Disk:
    # the files outlive the process: keyed by the modelling code too (_ENGINE_VERSION)
    return Disk(name, _cache_dir, lambda: _disk_limits(), f"{_CACHE_FORMAT}-{_ENGINE_VERSION}", encode, decode)


def clear_cache(disk: bool = False) -> None:
    """Forget the in-process cache (and the files on disk with ``disk=True``)."""
    for fn in (_forecast, _attainment, _what_if_attainment):
        fn.cache_clear()
    if disk:
        for f in _cache_dir().glob("*.json"):
            f.unlink(missing_ok=True)


def memory_cache_sizes() -> dict[str, int]:
    """How many results the in-process caches hold: ``results`` and ``what_if``."""
    return {"results": _forecast.cache_len() + _attainment.cache_len(), "what_if": _what_if_attainment.cache_len()}


def _frame_to_doc(df: pd.DataFrame) -> dict[str, Any]:
    return {"index": [str(p) for p in df.index], "columns": {c: df[c].tolist() for c in df.columns},
            "attrs": df.attrs}


def _frame_from_doc(doc: dict[str, Any]) -> pd.DataFrame:
    idx = pd.PeriodIndex(doc["index"], freq="M")
    df = pd.DataFrame({c: pd.Series(v, dtype=float) for c, v in doc["columns"].items()})
    df.index = idx
    df.attrs.update(doc["attrs"])
    return df


# ------------------------------------------------------------------ forecast


FORECAST_COLUMNS = ["mean", "lo80", "hi80", "lo95", "hi95"]


@dataclass(frozen=True)
class _Fitted:
    """The engine's description of the model it fitted, read once from the attrs of
    :func:`metrics.forecast.forecast`'s frame."""

    model: str | None
    seasonal: bool | None
    transform: str | None
    notes: list[str]

    @classmethod
    def of(cls, fc: pd.DataFrame) -> _Fitted:
        a = fc.attrs
        return cls(a["model"], a.get("seasonal"), a.get("transform"), a.get("notes", []))


@dataclass(frozen=True, eq=False)
class _PathsForecast:
    """:func:`_ytd_forecast_from_paths`: the 累计 quantiles, the monthly series the model was
    fitted to (rate or flow) and that model."""

    frame: pd.DataFrame
    modelled: pd.Series
    fitted: _Fitted


def _check_horizon(horizon) -> int:
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or not 1 <= horizon <= MAX_HORIZON:
        raise PeriodError(f"预测期数不正确：{horizon!r}（应为 1～{MAX_HORIZON} 个月）")
    return int(horizon)


def _history(kpi_id: str, region: str, scope: Scope, cumulative: bool) -> pd.Series:
    s = kpi_series(kpi_id, region, scope=scope, cumulative=cumulative)
    return pd.Series(pd.to_numeric(s["value"], errors="coerce").to_numpy(float),
                     index=pd.PeriodIndex(pd.to_datetime(s["month"]), freq="M"))


def _plain_backtest(bt: Backtest) -> Backtest:
    def plain(scores: dict[str, float]) -> dict[str, float]:
        return {m: float(x) for m, x in scores.items()}

    return {"engine": plain(bt["engine"]), "seasonal_naive": plain(bt["seasonal_naive"]),
            "naive2": plain(bt["naive2"]), "origins": [int(o) for o in bt["origins"]]}


def _compute_forecast(kpi_id: str, region: str, scope: Scope, horizon: int, cumulative: bool) -> pd.DataFrame:
    kpi = load_catalogue().kpi(kpi_id)
    y = _history(kpi_id, region, scope, cumulative)
    bounds = bounds_of(kpi)
    if y.notna().sum() == 0:  # nothing reported: the page shows 暂无数据
        last = y.index.max() if len(y) else pd.Period(as_of()[1], freq="M")
        out = pd.DataFrame({c: np.full(horizon, np.nan) for c in FORECAST_COLUMNS},
                           index=pd.period_range(last + 1, periods=horizon, freq="M"))
        out.attrs.update(model=None, backtest=None, bounds=bounds, has_data=False)
        return out
    y = trim_leading_zeros(y)
    shape = kpi_shape(kpi_id)
    ytd = cumulative or shape.base.target_mode == "time_progress"  # the engine's series is 累计
    if ytd and not shape.gap and shape.kind != "level":
        paths = _ytd_forecast_from_paths(shape, _monthly_inputs(shape, region, scope), horizon)
        out, modelled, fitted = paths.frame, paths.modelled, paths.fitted
        model_bounds = RATE_BOUNDS if shape.kind == "ytd_rate" else shape.bounds
        method = "paths"
    else:
        out = forecast(y, horizon, (80, 95), bounds=bounds)
        modelled, model_bounds, method, fitted = y, bounds, "direct", _Fitted.of(out)
    try:  # the accuracy of the model actually fitted, on the series it was fitted to
        bt = _plain_backtest(backtest(modelled, horizon, n_origins=3, bounds=model_bounds))
    except ValueError:  # too short to hold out `horizon` months
        bt = None
    out = out[FORECAST_COLUMNS].copy()
    out.attrs = {"model": fitted.model, "backtest": bt, "bounds": bounds, "has_data": True, "method": method,
                 "modelled": modelled_label(shape, method), "seasonal": fitted.seasonal,
                 "transform": fitted.transform, "notes": fitted.notes,
                 "last_observed": str(y.dropna().index.max())}
    return out


def _ytd_forecast_from_paths(shape: Shape, data: pd.DataFrame, horizon: int) -> _PathsForecast:
    """累计 forecast of a flow-based KPI: simulate the monthly flows (and denominators), add
    them up within each calendar year, read the quantiles. The December figure is thus the
    year-end distribution that :func:`kpi_attainment` reports, not a second model's guess."""
    data = data.loc[trim_leading_zeros(data["value"]).index]
    if shape.kind == "ytd_rate":
        num, den, rate = ytd_rate_parts(shape, data)
        d = np.maximum(simulate(den.dropna(), horizon, n_paths=N_PATHS, seed=0), 0.0)
        n = simulate(rate, horizon, n_paths=N_PATHS, seed=1, bounds=RATE_BOUNDS) * d / 100.0
        last = rate.index.max()
        modelled, fc = rate, forecast(rate, horizon, levels=(), bounds=RATE_BOUNDS)
    else:
        flow = monthly_flow(shape, data)
        n = simulate(flow, horizon, n_paths=N_PATHS, seed=0, bounds=shape.bounds)
        num, den, d, last = flow, None, None, flow.index.max()
        modelled, fc = flow, forecast(flow, horizon, levels=(), bounds=shape.bounds)
    months = pd.period_range(last + 1, periods=horizon, freq="M")
    this_year = num[(num.index.year == last.year) & (num.index <= last)]
    acc_n = np.full(N_PATHS, float(this_year.sum()))
    acc_d = np.full(N_PATHS, float(den[this_year.index].sum())) if den is not None else None
    values = np.empty((N_PATHS, horizon))
    for j, month in enumerate(months):
        if month.month == 1:  # a new year: 累计 starts again
            acc_n[:] = 0.0
            if acc_d is not None:
                acc_d[:] = 0.0
        acc_n += n[:, j]
        if acc_d is None:
            values[:, j] = acc_n
        else:
            acc_d += d[:, j]
            values[:, j] = 100.0 * acc_n / np.where(acc_d > 0, acc_d, np.nan)
    q = np.nanquantile(values, [0.5, 0.10, 0.90, 0.025, 0.975], axis=0)
    out = pd.DataFrame(dict(zip(FORECAST_COLUMNS, q, strict=True)), index=months)
    if shape.bounds:  # a rate, or a share of the budget: paying beyond it needs a budget adjustment
        out = out.clip(*shape.bounds)
    return _PathsForecast(frame=out, modelled=modelled, fitted=_Fitted.of(fc))


def kpi_forecast(kpi_id: str, region: str, *, scope: Scope, horizon: int = 6,
                 cumulative: bool = False) -> pd.DataFrame:
    """The next ``horizon`` months of a KPI for a region (当月, or 累计 with ``cumulative``).

    Index: the months after the data's last month (PeriodIndex); columns ``mean`` (the
    engine's point forecast), ``lo80``, ``hi80``, ``lo95``, ``hi95``. Rates (%) stay within
    0–100. ``attrs``: ``model`` (the engine's description; None without data), ``backtest``
    (rolling-origin sMAPE/MASE/coverage of the engine, seasonal naive and Naive2, or None),
    ``has_data``, ``bounds``. Computed once per data version, scope and arguments.
    """
    scope = require(scope)
    load_catalogue().kpi(kpi_id)
    horizon = _check_horizon(horizon)
    return _forecast(kpi_id, region, scope, horizon, bool(cumulative))


@memo(CACHE_SIZE, copy=False, wrap_call=_fitting, disk=_disk("forecast", _frame_to_doc, _frame_from_doc))
def _forecast(kpi_id: str, region: str, scope: Scope, horizon: int, cumulative: bool) -> pd.DataFrame:
    return _compute_forecast(kpi_id, region, scope, horizon, cumulative)


# ------------------------------------------------------------------ attainment


def _deaccumulate(cum: pd.Series) -> pd.Series:
    """Monthly flows from a year-to-date series (missing months stay missing)."""
    prev = cum.groupby(cum.index.year).transform(lambda x: x.ffill().shift(1))
    return cum - prev.fillna(0.0)


def _monthly_inputs(shape: Shape, region: str, scope: Scope) -> pd.DataFrame:
    """Per month: the base KPI's 累计 value and its numerator/denominator as monthly values."""
    cat = load_catalogue()
    s = kpi_series(shape.base.id, region, scope=scope, cumulative=True)
    idx = pd.PeriodIndex(pd.to_datetime(s["month"]), freq="M")
    out = pd.DataFrame({"value": pd.to_numeric(s["value"], errors="coerce").to_numpy(float),
                        "num": pd.to_numeric(s["numerator"], errors="coerce").to_numpy(float),
                        "den": pd.to_numeric(s["denominator"], errors="coerce").to_numpy(float)}, index=idx)
    for col, m in zip(("num", "den"), cat.measures_of(shape.base), strict=False):  # a sum has no den
        if m.kind == "flow":
            out[col] = _deaccumulate(out[col])
    return out


def year_end_target(kpi_id: str, region: str, year: int) -> tuple[float | None, str | None]:
    """The target (and its source) that ``kpi_id``'s value at the end of ``year`` is held to."""
    return engine_year_end_target(load_catalogue().kpi(kpi_id), region, year)


def _check_year(year, data: pd.DataFrame) -> int:
    """The data's last year by default; a past year (complete), or next year once December is in."""
    observed = data["value"].dropna()
    last = observed.index.max() if len(observed) else pd.Period(as_of()[1], freq="M")
    first = observed.index.min() if len(observed) else last
    if year in (None, ""):
        return last.year
    try:
        y = int(year)
    except (TypeError, ValueError):
        y = None
    latest = last.year + 1 if last.month == 12 else last.year
    if y is None or not first.year <= y <= latest:
        raise PeriodError(f"年份不正确：{year!r}（可选 {first.year}～{latest} 年）")
    return y


def _compute_attainment(kpi_id: str, region: str, scope: Scope, year, pp: float, mode: str,
                        as_of_month: str | None = None) -> KpiAttainment:
    cat = load_catalogue()
    kpi = cat.kpi(kpi_id)
    shape = kpi_shape(kpi_id)
    data = _monthly_inputs(shape, region, scope)
    if as_of_month:  # as seen at the end of that month: later months are not known yet
        data = data[data.index <= pd.Period(as_of_month, freq="M")]
    y = _check_year(year, data)
    if data["value"].dropna().empty:
        return KpiAttainment(kpi_id=kpi_id, region=region, unit=kpi.unit, year=y, shape=shape.kind)
    base_target, base_source = engine_year_end_target(shape.base, region, y)
    target, source = (engine_year_end_target(kpi, region, y) if shape.gap else (base_target, base_source))
    # a gap's event "base − base target ≥ gap target" is "base ≥ base target + gap target"
    offset = base_target if shape.gap and base_target is not None else 0.0
    modelled_target = None if target is None or (shape.gap and base_target is None) else target + offset
    res = attainment_from_history(shape, data, modelled_target, y, higher_is_better=kpi.higher_is_better,
                                  what_if_pp=pp, what_if_mode=mode)
    if offset:
        res = res.shifted(offset, target)
    return KpiAttainment(kpi_id=kpi_id, region=region, unit=kpi.unit, year=y, shape=shape.kind,
                         target_source=source, year_end=res)


def _last_month():
    return as_of()[1]


def kpi_attainment(kpi_id: str, region: str, *, scope: Scope, year=None, what_if_pp: float = 0.0,
                   what_if_mode: str = "ramp", as_of=None) -> KpiAttainment:
    """Will the KPI meet its target at the end of ``year`` (default: the data's last year)?

    ``as_of`` (a month) answers as it could have been answered then, from the history up
    to that month only (a June briefing must not know July).

    Returns a :class:`KpiAttainment`: the KPI, region, unit, year, shape and
    ``target_source``, and ``year_end`` (None without data), a
    :class:`~metrics.year_end.YearEnd` with ``probability`` (None without a target),
    ``expected`` (median year-end value), ``interval`` (p10, p90) and ``interval95``,
    ``target``, ``current`` (the 累计 value so far), ``needed`` (the monthly value needed from
    next month on, by ``needed_kind``: ``monthly_rate`` %, ``monthly_share`` 个百分点 of the
    budget, ``monthly_flow`` in the KPI's unit, ``monthly_increase`` of a stock) with
    ``needed_status`` (needed, secured, impossible, met, complete, no_target),
    ``months_remaining``, ``model`` (the engine's description) and ``what_if`` /
    ``what_if_value`` (the year-end value when every future month moves by ``what_if_pp``:
    ``ramp`` adds it once more each month, ``flat`` adds it to every month).
    """
    scope = require(scope)
    load_catalogue().kpi(kpi_id)
    if what_if_mode not in WHAT_IF_MODES:
        raise ValueError(f"what_if_mode must be one of {WHAT_IF_MODES}")
    pp = round(float(what_if_pp), 3)
    if not math.isfinite(pp):
        raise ValueError("what_if_pp must be a finite number")
    cut_month = None if as_of in (None, "") else parse_month(as_of)
    cut = None if cut_month is None or cut_month >= _last_month() else cut_month.strftime("%Y-%m")  # latest: no cut
    year = None if year in (None, "") else str(year)
    # a what-if (any non-zero shift) is one of unboundedly many keys: memory only, never on disk
    cached = _attainment if pp == 0 else _what_if_attainment
    return cached(kpi_id, region, scope, year, pp, what_if_mode, cut)


@memo(CACHE_SIZE, copy=False, wrap_call=_fitting,
      disk=_disk("attainment", KpiAttainment.to_dict, KpiAttainment.from_dict))
def _attainment(kpi_id: str, region: str, scope: Scope, year: str | None, pp: float, mode: str,
                cut: str | None) -> KpiAttainment:
    return _compute_attainment(kpi_id, region, scope, year, pp, mode, cut)


@memo(WHAT_IF_CACHE_SIZE, copy=False, wrap_call=_fitting)
def _what_if_attainment(kpi_id: str, region: str, scope: Scope, year: str | None, pp: float, mode: str,
                        cut: str | None) -> KpiAttainment:
    return _compute_attainment(kpi_id, region, scope, year, pp, mode, cut)
