"""The shape of a KPI's year-end value, from its catalogue declaration, and the monthly
series each shape is modelled on (see :mod:`metrics.forecasting`'s docstring).

* ``ytd_rate``  — a ratio of two flows: Σnum ÷ Σden over the year.
* ``ytd_share`` — a flow over a stock: the sum of each month's ``flow ÷ that year's stock``.
* ``ytd_sum``   — a summed flow: the year's total.
* ``level``     — a stock: December's value.

A ``gap`` KPI is its base KPI's shape shifted by the base's year-end target.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from metrics.catalogue import Kpi, KpiType, MeasureKind, load_catalogue

RATE_BOUNDS = (0.0, 100.0)


@dataclass(frozen=True)
class Shape:
    """How a KPI's year-end value is modelled (see the module docstring)."""

    kind: str  # ytd_rate | ytd_share | ytd_sum | level
    base: Kpi  # the KPI whose measures are modelled (a gap KPI's base, else the KPI itself)
    bounds: tuple[float, float] | None  # of the modelled monthly values, in the KPI's unit
    gap: bool = False  # the KPI is ``base − base's target``


def bounds_of(kpi: Kpi) -> tuple[float, float] | None:
    """Rates (%) and 0–100 scores (分) are bounded; counts, money and gaps are not."""
    return RATE_BOUNDS if kpi.unit in ("%", "分") else None


def kpi_shape(kpi_id: str) -> Shape:
    """The shape of ``kpi_id``'s year-end value, from its catalogue declaration."""
    cat = load_catalogue()
    kpi = cat.kpi(kpi_id)
    base = cat.base_of(kpi)
    kinds = tuple(m.kind for m in cat.measures_of(base))
    if base.type == KpiType.RATIO and kinds == (MeasureKind.FLOW, MeasureKind.FLOW) and bounds_of(base):
        kind = "ytd_rate"
    elif base.type == KpiType.RATIO and kinds == (MeasureKind.FLOW, MeasureKind.STOCK):
        kind = "ytd_share"
    elif base.type == KpiType.SUM and kinds == (MeasureKind.FLOW,):
        kind = "ytd_sum"
    else:  # stocks; and any other mix, whose 累计 value read in December is the year-end value
        kind = "level"
    bounds = RATE_BOUNDS if kind == "ytd_share" else bounds_of(base)
    return Shape(kind=kind, base=base, bounds=bounds, gap=kpi.type == KpiType.GAP)


def trim_leading_zeros(y: pd.Series, before=None) -> pd.Series:
    """Drop the leading months whose value is 0 or missing (``before`` a month, if given).

    Such months come before a programme started (the demo's spending starts mid-2022); a
    log or logit model cannot learn from them and they hide the seasonal pattern."""
    started = (y.fillna(0.0) != 0).cummax()
    if not started.any():
        return y
    if before is not None:
        started |= y.index >= before
    return y[started.to_numpy()]


def modelled_label(shape: Shape, method: str) -> str:
    """What series the model was fitted to, in Chinese (shown next to the back-test)."""
    if method == "direct":
        return "所示序列"
    cat = load_catalogue()
    measures = cat.measures_of(shape.base)
    if shape.kind == "ytd_rate":
        return f"当月{shape.base.name}与{measures[1].label}（模拟后逐月累计）"
    if shape.kind == "ytd_share":
        return f"当月{measures[0].label}占{measures[1].label}的比例（模拟后逐月累计）"
    return f"当月{measures[0].label}（模拟后逐月累计）"


def monthly_flow(shape: Shape, data: pd.DataFrame) -> pd.Series:
    """The monthly flow a ``ytd_share`` or ``ytd_sum`` KPI accumulates over the year."""
    if shape.kind == "ytd_share":  # each month's payments as a share of that year's budget
        den_ref = data["den"].groupby(data.index.year).transform(lambda x: x.ffill().iloc[-1])
        return (shape.base.factor * data["num"] / den_ref.where(den_ref > 0)).dropna()
    return data["num"].dropna()


def ytd_rate_parts(shape: Shape, data: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(numerator scaled so that 100·Σnum/Σden is the KPI, denominator, monthly rate)."""
    num = data["num"] * shape.base.factor / 100.0
    both = pd.concat({"num": num, "den": data["den"]}, axis=1).dropna()
    both = both[both["den"] > 0]  # the monthly rate exactly as ytd_rate_attainment models it
    return num, data["den"], (100.0 * both["num"] / both["den"]).clip(*RATE_BOUNDS)
