"""The engine's public functions for pages: one KPI, a region's children, an overview, a
breakdown by dimension. Each takes the viewer's ``scope`` and applies it in SQL."""

from __future__ import annotations

from datetime import date

import pandas as pd

from data import db
from data.scope import Scope, require
from metrics.cache import memo
from metrics.catalogue import load_catalogue
from metrics.compile import breakdown_sql
from metrics.engine import plan
from metrics.engine.evaluate import evaluate
from metrics.engine.plan import check_period, filters_for, periods_of, ratio_bases, restricts_departments, window_params
from metrics.engine.result import KpiResult, rank_frame, to_result
from metrics.engine.snapshot import compute
from metrics.engine.targets import targets
from metrics.materialize import source_for
from metrics.periods import label, parse_month
from metrics.regions import Region, as_of, children, get_region, visible_children


def kpi_value(
    kpi_id: str,
    region: str,
    month,
    period: str = "ytd",
    *,
    scope: Scope,
    dept: str | None = None,
    item: str | None = None,
) -> KpiResult:
    """One KPI for one region, with its rank among its visible siblings."""
    reg = get_region(region, scope=scope)
    kpi = load_catalogue().kpi(kpi_id)
    siblings = [r.code for r in visible_children(reg.parent_code, scope=scope)] if reg.parent_code else []
    if reg.code not in siblings:
        siblings = [reg.code, *siblings]
    df = compute([kpi_id], siblings, month, period, scope=scope, filters={"dept": dept, "item": item})
    if len(siblings) > 1:
        df = rank_frame(df)
    row = df.set_index("region_code").loc[reg.code].to_dict()
    return to_result(kpi, reg, row, df.attrs)


def kpi_children(
    kpi_id: str,
    parent: str,
    month,
    period: str = "ytd",
    *,
    scope: Scope,
    dept: str | None = None,
    item: str | None = None,
) -> pd.DataFrame:
    """One KPI for every visible child of ``parent`` in one query, ranked (for maps and bars)."""
    return kpi_regions(kpi_id, children(parent, scope=scope), month, period, scope=scope, dept=dept, item=item)


def kpi_regions(
    kpi_id: str,
    regions: list[Region],
    month,
    period: str = "ytd",
    *,
    scope: Scope,
    dept: str | None = None,
    item: str | None = None,
) -> pd.DataFrame:
    """One KPI for a given set of regions (e.g. every county of a province) in one query, ranked."""
    if not regions:
        return pd.DataFrame()
    return _kpi_regions(kpi_id, tuple(regions), parse_month(month), period, require(scope), dept, item)


@memo(maxsize=1024)
def _kpi_regions(kpi_id: str, regions: tuple, month: date, period: str, scope: Scope, dept, item) -> pd.DataFrame:
    codes = [r.code for r in regions]
    df = rank_frame(compute([kpi_id], codes, month, period, scope=scope, filters={"dept": dept, "item": item}))
    names = pd.DataFrame([(r.code, r.name, r.level) for r in regions], columns=["region_code", "region_name", "level"])
    if df["region_code"].tolist() == codes:  # compute's rows come in the order asked: no join needed
        out = pd.concat([df[["region_code"]], names[["region_name", "level"]], df.drop(columns="region_code")],
                        axis=1)
    else:
        out = names.merge(df, on="region_code")
    out["period_label"] = label(period, df.attrs["window"])
    out.attrs = dict(df.attrs)
    return out


def overview(
    region: str,
    month,
    period: str = "ytd",
    *,
    scope: Scope,
    kpi_ids: list[str] | None = None,
    with_children: bool = True,
) -> pd.DataFrame:
    """Every KPI (or the given ones) for a region and its children, ranked among the children.

    A KPI that does not support ``period`` is computed on its first supported period.
    """
    reg = get_region(region, scope=scope)
    cat = load_catalogue()
    ids = kpi_ids or list(cat.kpis)
    kids = children(region, scope=scope) if with_children else []
    codes = [reg.code] + [r.code for r in kids]
    parts = []
    by_period: dict[str, list[str]] = {}
    for kid in ids:
        k = cat.kpi(kid)
        by_period.setdefault(period if period in k.periods else k.periods[0], []).append(kid)
    for per, group in by_period.items():
        df = compute(group, codes, month, per, scope=scope)
        top, rest = df[df.region_code == reg.code], df[df.region_code != reg.code]
        parts += [top.assign(period=per), rank_frame(rest).assign(period=per) if len(rest) else rest]
        attrs = df.attrs
    out = pd.concat(parts, ignore_index=True)
    names = {reg.code: reg.name, **{r.code: r.name for r in kids}}
    out["region_name"] = out["region_code"].map(names)
    out.attrs.update(attrs)
    return out


def kpi_breakdown(
    kpi_id: str,
    region: str,
    month,
    period: str = "ytd",
    *,
    dim: str,
    scope: Scope,
    dept: str | None = None,
    item: str | None = None,
) -> pd.DataFrame:
    """One KPI for one region split by a dimension of its fact (dept_code, fund_source,
    kind, tier, category, item_code …): one row per member, ranked, with its share of the
    region's numerator. Targets are the region's."""
    scope = require(scope)
    get_region(region, scope=scope)
    cat = load_catalogue()
    kpi = cat.kpi(kpi_id)
    base = cat.base_of(kpi)
    first, last = as_of()
    p = periods_of(month, period, last)
    check_period(kpi, period)
    flt = filters_for(base, cat, {"dept": dept, "item": item})
    restrict = restricts_departments(base, cat, scope)
    fact = cat.facts[base.fact]
    source, measures = source_for(fact, cat.measures_of(base), {**flt, dim: None}, plan.aggregates_fresh())
    sql = breakdown_sql(fact, measures, flt, restrict, dim, ratio_bases(cat, [base]), source=source)
    params = {"region": region, **scope.params(), **window_params(p), **{f"f_{d}": v for d, v in flt.items()}}
    raw = db.query(sql, params)
    table = targets(p.cur.end.year)
    rows = [{"kpi_id": kpi.id, "member": r["member"], **evaluate(kpi, cat, r, p, region, table, first, last)}
            for r in raw.to_dict("records")]
    out = pd.DataFrame(rows, columns=["kpi_id", "member", "value", "numerator", "denominator", "prev_value",
                                      "ly_value", "mom_change", "yoy_change", "target", "target_source", "gap",
                                      "rag", "has_data"])
    if not out.empty:
        out = rank_frame(out)
        total = out["numerator"].astype(float).sum()
        out["share"] = out["numerator"].astype(float) / total * 100 if total else None
    out.attrs.update(period=period, month=p.month, window=p.cur, as_of=last, dim=dim,
                     period_label=label(period, p.cur))
    return out


def kpi_results(kpi_ids: list[str], region: str, month, period: str = "ytd", *, scope: Scope) -> list[KpiResult]:
    """Several KPIs for one region (one query per fact), each on ``period`` where it
    supports it and on its first supported period otherwise. No ranks."""
    reg = get_region(region, scope=scope)
    cat = load_catalogue()
    df = overview(region, month, period, scope=scope, kpi_ids=kpi_ids, with_children=False)
    rows = {r["kpi_id"]: r for r in df.to_dict("records")}  # one pass: .loc per KPI costs ~2 ms each
    out = []
    for kid in kpi_ids:
        row = rows[kid]
        per = row["period"]
        p = periods_of(month, per, df.attrs["as_of"])
        attrs = {"month": p.month, "period": per, "window": p.cur, "as_of": df.attrs["as_of"]}
        out.append(to_result(cat.kpi(kid), reg, row, attrs))
    return out
