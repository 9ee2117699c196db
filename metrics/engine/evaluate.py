"""Evaluation: a KPI's value, 环比/同比, target, gap and RAG from one row of window sums.

Values are ratios of sums computed in SQL (``NULLIF`` semantics: a zero denominator gives
no value, never 0); this module only reads them and compares them with their targets.
"""

from __future__ import annotations

from datetime import date
from typing import TypedDict

from metrics.catalogue import Catalogue, Kpi, KpiType
from metrics.compile import WINDOWS
from metrics.engine.targets import minus_target, target_for
from metrics.format import as_number
from metrics.periods import Periods


def num(x) -> float | None:
    """:func:`as_number`, floats and None first: this runs for every cell of every result."""
    if x is None:
        return None
    if type(x) is float:
        return None if x != x else x
    return as_number(x)


def change(kpi: Kpi, value, before) -> float | None:
    """环比/同比 change: percentage points for rates, else per cent of ``before``."""
    value, before = num(value), num(before)
    if value is None or before is None:
        return None
    if kpi.is_rate:
        return value - before  # percentage points
    if before == 0:
        return None
    return (value - before) / abs(before) * 100


def rag_status(kpi: Kpi, value: float | None, target: float | None) -> tuple[float | None, str | None]:
    """(gap to target, RAG colour). The gap is signed so that negative is worse."""
    if value is None or target is None:
        return None, None
    gap = value - target if kpi.higher_is_better else target - value
    if gap >= kpi.rag.amber_below - 1e-9:
        return gap, "green"
    if gap >= kpi.rag.red_below - 1e-9:
        return gap, "amber"
    return gap, "red"


def window_values(
    kpi: Kpi, cat: Catalogue, row, window: str, reported: bool
) -> tuple[float | None, float | None, float | None]:
    """(value, numerator, denominator) of a non-gap KPI for one window of one row.

    ``reported``: the window lies within the months the database has data for.
    """
    if not num(row.get(f"rows__{window}")) and not (reported and cat.facts[kpi.fact].complete):
        return None, None, None
    if kpi.type == KpiType.SUM:
        v = num(row[f"{kpi.measure}__{window}"])
        return (0.0 if v is None else v), (0.0 if v is None else v), None
    n, d = num(row[f"{kpi.numerator}__{window}"]), num(row[f"{kpi.denominator}__{window}"])
    # the ratio was computed in SQL as numerator / NULLIF(denominator, 0)
    return num(row.get(f"{kpi.id}__{window}")), (n or 0.0), (d or 0.0)


class Evaluation(TypedDict):
    """One KPI's figures for one row of window measures (:func:`evaluate`)."""

    value: float | None
    numerator: float | None
    denominator: float | None
    prev_value: float | None
    ly_value: float | None
    mom_change: float | None
    yoy_change: float | None
    target: float | None
    target_source: str | None
    gap: float | None
    rag: str | None
    has_data: bool


def evaluate(kpi: Kpi, cat: Catalogue, row: dict, p: Periods, region: str, targets: dict,
             first: date, last: date) -> Evaluation:
    """Value, 环比/同比, target, gap and RAG of one KPI from one row of window measures.

    ``region`` is the region whose target applies."""
    base = cat.base_of(kpi)
    vals = {}
    for w in WINDOWS:
        window = getattr(p, w)
        reported = window is not None and first <= window.start and window.end <= last
        v, n, d = window_values(base, cat, row, w, reported) if window else (None, None, None)
        if kpi.type == KpiType.GAP:
            v = minus_target(base, v, region, window, targets)
        vals[w] = (v, n, d)
    value, numerator, denominator = vals["cur"]
    target, source = target_for(kpi, region, p.cur, targets)
    gap, rag = rag_status(kpi, value, target)
    return {
        "value": value,
        "numerator": numerator,
        "denominator": denominator,
        "prev_value": vals["prev"][0],
        "ly_value": vals["ly"][0],
        "mom_change": change(kpi, value, vals["prev"][0]),
        "yoy_change": change(kpi, value, vals["ly"][0]),
        "target": target,
        "target_source": source,
        "gap": gap,
        "rag": rag,
        "has_data": value is not None or bool(num(row.get("rows__cur"))),
    }


def evaluated_rows(kpis: list[Kpi], cat: Catalogue, regions: list[str], records: dict[str, dict], p: Periods,
                   targets: dict, first: date, last: date, *, fact_rows: bool = False) -> list[dict]:
    """One result per KPI × region (KPI-major) from each KPI's rows of window measures by region.

    ``fact_rows`` adds the fact rows behind the current window (the results table keeps them:
    a series tells a month without rows from a month of zeros by them)."""
    out = []
    for kpi in kpis:
        by_region = records[kpi.id]
        for region in regions:
            row = by_region.get(region, {})
            result = {"kpi_id": kpi.id, "region_code": region,
                      **evaluate(kpi, cat, row, p, region, targets, first, last)}
            if fact_rows:
                result["fact_rows"] = num(row.get("rows__cur"))
            out.append(result)
    return out
