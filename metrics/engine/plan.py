"""Query planning: which relation each KPI is read from, with which filters and windows.

KPIs of one fact share one query unless one needs the raw detail; a department-limited
viewer is restricted in SQL, and fails closed on a fact without departments.
"""

from __future__ import annotations

from datetime import date

from data.scope import Scope, ScopeError
from metrics.catalogue import Catalogue, Kpi
from metrics.compile import WINDOWS
from metrics.materialize import aggregates_fresh, source_for
from metrics.periods import PeriodError, Periods, Window, parse_month, period_name, windows

FILTER_ARGS = {"dept": "dept_code", "item": "item_code"}


def filters_for(kpi: Kpi, cat: Catalogue, given: dict[str, object]) -> dict[str, object]:
    """The filters given as page arguments (``dept``, ``item``), as dimensions of ``kpi``'s fact."""
    fact = cat.facts[kpi.fact]
    clean = {}
    for arg, value in given.items():
        if value is None:
            continue
        dim = FILTER_ARGS.get(arg, arg)
        if dim not in fact.dims:
            raise ValueError(f"指标「{kpi.name}」不支持按 {dim} 筛选（可用维度：{'、'.join(fact.dims) or '无'}）")
        clean[dim] = value
    return clean


def restricts_departments(kpi: Kpi, cat: Catalogue, scope: Scope) -> bool:
    """Whether to restrict departments in SQL; fail closed where a fact has none."""
    if scope.all_departments:
        return False
    if "dept_code" not in cat.facts[kpi.fact].dims:
        raise ScopeError(f"指标「{kpi.name}」不按部门划分，部门范围受限的用户无权查看")
    return True


def query_groups(kpis: list[Kpi], cat: Catalogue, scope: Scope, filters: dict[str, object],
                 fresh: bool | None = None):
    """KPIs grouped into one query per relation: KPIs of a fact share it unless one needs the
    raw detail. Yields (fact, source, filters, restrict_depts, measures over source, KPIs).
    ``fresh``: whether the aggregate tables may be read (default: the served file's)."""
    fresh = aggregates_fresh() if fresh is None else fresh
    groups: dict[tuple, list[Kpi]] = {}
    for kpi in kpis:
        base = cat.base_of(kpi)
        flt = filters_for(base, cat, filters)
        restrict = restricts_departments(base, cat, scope)
        source, _ = source_for(cat.facts[base.fact], cat.measures_of(base), flt, fresh)
        groups.setdefault((base.fact, source, tuple(sorted(flt.items())), restrict), []).append(kpi)
    for (fact_name, source, flt, restrict), group in groups.items():
        fact = cat.facts[fact_name]
        measures = list({m.name: m for k in group for m in cat.measures_of(k)}.values())
        _, measures = source_for(fact, measures, dict(flt), fresh)
        yield fact, source, flt, restrict, measures, group


def ratio_bases(cat: Catalogue, kpis: list[Kpi]) -> list[Kpi]:
    """The ratio KPIs whose values a query over ``kpis`` computes in SQL (a gap's base included)."""
    bases = {b.id: b for b in (cat.base_of(k) for k in kpis)}
    return [b for b in bases.values() if b.type == "ratio"]


def check_period(kpi: Kpi, period: str) -> None:
    if period not in kpi.periods:
        allowed = "、".join(period_name(p) for p in kpi.periods)
        raise PeriodError(f"指标「{kpi.name}」不支持「{period_name(period)}」统计期（可选：{allowed}）")


def periods_of(month, period: str, last: date) -> Periods:
    """The cur/prev/ly windows of ``period`` at ``month``, the current one capped at ``last``."""
    p = windows(period, parse_month(month))
    return Periods(period=p.period, month=p.month, cur=p.cur.capped(last), prev=p.prev, ly=p.ly)


def window_params(p: Periods) -> dict[str, date | None]:
    """The bound parameters of ``kpi_windows.sql``: each window's start and end, and their span."""
    params: dict[str, date | None] = {}
    for name in WINDOWS:
        w: Window | None = getattr(p, name)
        params[f"{name}_start"] = w.start if w else None
        params[f"{name}_end"] = w.end if w else None
    present = [getattr(p, n) for n in WINDOWS if getattr(p, n)]
    params["span_start"] = min(w.start for w in present)
    params["span_end"] = max(w.end for w in present)
    return params
