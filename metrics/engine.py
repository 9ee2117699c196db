"""The generic KPI engine: any KPI, any region level, any period, in one code path.

Each public function takes the viewer's ``scope`` and applies it in SQL. Values are
ratios of sums (``NULLIF`` semantics: a zero denominator gives no value, never 0).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass
from datetime import date

import numpy as np
import pandas as pd

from data import db
from data.scope import Scope, ScopeError, require
from metrics import results
from metrics.cache import memo
from metrics.catalogue import Catalogue, Kpi, load_catalogue
from metrics.compile import WINDOWS, breakdown_sql, named_sql, series_sql, windows_sql
from metrics.format import as_number
from metrics.materialize import aggregates_fresh, source_for
from metrics.periods import PeriodError, Periods, Window, label, parse_month, period_name, time_progress, windows
from metrics.regions import Region, as_of, children, get_region, region_tree, root_region, visible_children

FILTER_ARGS = {"dept": "dept_code", "item": "item_code"}
PP = "个百分点"


@dataclass
class KpiResult:
    """One KPI for one region and period, with everything a card or a briefing needs."""

    kpi_id: str
    name: str
    unit: str
    region_code: str
    region_name: str
    level: str
    month: str
    period: str
    period_name: str
    period_label: str
    value: float | None
    numerator: float | None
    denominator: float | None
    prev_value: float | None
    ly_value: float | None
    mom_change: float | None
    yoy_change: float | None
    change_unit: str
    target: float | None
    target_source: str | None
    gap: float | None
    rag: str | None
    rank: int | None
    rank_of: int | None
    as_of: str
    has_data: bool

    def to_dict(self) -> dict:
        return asdict(self)


# ------------------------------------------------------------------ helpers


def _num(x) -> float | None:
    """:func:`as_number`, floats and None first: this runs for every cell of every result."""
    if x is None:
        return None
    if type(x) is float:
        return None if x != x else x
    return as_number(x)


def _ratio(num, den, factor: float) -> float | None:
    num, den = _num(num), _num(den)
    if num is None or den is None or den == 0:
        return None
    return num / den * factor


def _change(kpi: Kpi, value, before) -> float | None:
    value, before = _num(value), _num(before)
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


def _filters(kpi: Kpi, cat: Catalogue, given: dict[str, object]) -> dict[str, object]:
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


def _check_scope_for(kpi: Kpi, cat: Catalogue, scope: Scope) -> bool:
    """Whether to restrict departments in SQL; fail closed where a fact has none."""
    if scope.all_departments:
        return False
    if "dept_code" not in cat.facts[kpi.fact].dims:
        raise ScopeError(f"指标「{kpi.name}」不按部门划分，部门范围受限的用户无权查看")
    return True


def _query_groups(kpis: list[Kpi], cat: Catalogue, scope: Scope, filters: dict[str, object],
                  fresh: bool | None = None):
    """KPIs grouped into one query per relation: KPIs of a fact share it unless one needs the
    raw detail. Yields (fact, source, filters, restrict_depts, measures over source, KPIs).
    ``fresh``: whether the aggregate tables may be read (default: the served file's)."""
    fresh = aggregates_fresh() if fresh is None else fresh
    groups: dict[tuple, list[Kpi]] = {}
    for kpi in kpis:
        base = cat.base_of(kpi)
        flt = _filters(base, cat, filters)
        restrict = _check_scope_for(base, cat, scope)
        source, _ = source_for(cat.facts[base.fact], cat.measures_of(base), flt, fresh)
        groups.setdefault((base.fact, source, tuple(sorted(flt.items())), restrict), []).append(kpi)
    for (fact_name, source, flt, restrict), group in groups.items():
        fact = cat.facts[fact_name]
        measures = list({m.name: m for k in group for m in cat.measures_of(k)}.values())
        _, measures = source_for(fact, measures, dict(flt), fresh)
        yield fact, source, flt, restrict, measures, group


def _check_period(kpi: Kpi, period: str) -> None:
    if period not in kpi.periods:
        allowed = "、".join(period_name(p) for p in kpi.periods)
        raise PeriodError(f"指标「{kpi.name}」不支持「{period_name(period)}」统计期（可选：{allowed}）")


def _window_params(p: Periods) -> dict[str, date | None]:
    params: dict[str, date | None] = {}
    for name in WINDOWS:
        w: Window | None = getattr(p, name)
        params[f"{name}_start"] = w.start if w else None
        params[f"{name}_end"] = w.end if w else None
    present = [getattr(p, n) for n in WINDOWS if getattr(p, n)]
    params["span_start"] = min(w.start for w in present)
    params["span_end"] = max(w.end for w in present)
    return params


@memo(maxsize=16)
def _targets(year: int) -> dict[tuple[str, str], tuple[float, str]]:
    """The kpi_target row that applies to each (KPI, region) in ``year`` (the region's own,
    else its nearest ancestor's): the whole small table resolved at once, per data version."""
    return target_table(db.query(named_sql("targets.sql"), {"year": year}))


def target_table(df: pd.DataFrame) -> dict[tuple[str, str], tuple[float, str]]:
    """The rows of ``targets.sql`` as (KPI, region) → (target, source)."""
    columns = (df[c].tolist() for c in ("kpi_id", "region_code", "target", "source"))  # lists: Arrow rows are slow
    return {(k, r): (float(t), s) for k, r, t, s in zip(*columns, strict=True)}


def _target_for(kpi: Kpi, region: str, window: Window, table: dict) -> tuple[float | None, str | None]:
    if kpi.target_mode == "time_progress":
        return time_progress(window), f"序时进度（{window.end.month}÷12）"
    if (kpi.id, region) in table:
        return table[(kpi.id, region)]
    return kpi.target, (kpi.source if kpi.target is not None else None)


# ------------------------------------------------------------------ the core


def _periods(month, period: str, last: date) -> Periods:
    p = windows(period, parse_month(month))
    return Periods(period=p.period, month=p.month, cur=p.cur.capped(last), prev=p.prev, ly=p.ly)


def _window_values(
    kpi: Kpi, cat: Catalogue, row, window: str, reported: bool
) -> tuple[float | None, float | None, float | None]:
    """(value, numerator, denominator) of a non-gap KPI for one window of one row.

    ``reported``: the window lies within the months the database has data for.
    """
    if not _num(row.get(f"rows__{window}")) and not (reported and cat.facts[kpi.fact].complete):
        return None, None, None
    if kpi.type == "sum":
        v = _num(row[f"{kpi.measure}__{window}"])
        return (0.0 if v is None else v), (0.0 if v is None else v), None
    num, den = _num(row[f"{kpi.numerator}__{window}"]), _num(row[f"{kpi.denominator}__{window}"])
    # the ratio was computed in SQL as numerator / NULLIF(denominator, 0)
    return _num(row.get(f"{kpi.id}__{window}")), (num or 0.0), (den or 0.0)


def _evaluate(kpi: Kpi, cat: Catalogue, row: dict, p: Periods, region: str, targets: dict,
              first: date, last: date) -> dict:
    """Value, 环比/同比, target, gap and RAG of one KPI from one row of window measures.

    ``region`` is the region whose target applies."""
    base = cat.base_of(kpi)
    vals = {}
    for w in WINDOWS:
        window = getattr(p, w)
        reported = window is not None and first <= window.start and window.end <= last
        v, n, d = _window_values(base, cat, row, w, reported) if window else (None, None, None)
        if kpi.type == "gap" and v is not None:
            t, _ = _target_for(base, region, window, targets)
            v = None if t is None else v - t
        vals[w] = (v, n, d)
    value, numerator, denominator = vals["cur"]
    target, source = _target_for(kpi, region, p.cur, targets)
    gap, rag = rag_status(kpi, value, target)
    return {
        "value": value,
        "numerator": numerator,
        "denominator": denominator,
        "prev_value": vals["prev"][0],
        "ly_value": vals["ly"][0],
        "mom_change": _change(kpi, value, vals["prev"][0]),
        "yoy_change": _change(kpi, value, vals["ly"][0]),
        "target": target,
        "target_source": source,
        "gap": gap,
        "rag": rag,
        "has_data": value is not None or bool(_num(row.get("rows__cur"))),
    }


def compute(
    kpi_ids: list[str],
    regions: list[str],
    month,
    period: str,
    *,
    scope: Scope,
    filters: dict[str, object] | None = None,
    snapshot: bool = True,
) -> pd.DataFrame:
    """Every requested KPI for every requested region: one query per fact table.

    Returns one row per KPI × region with value, numerator, denominator, the 环比 and
    同比 values and changes, target, gap and RAG (ranks are added by the callers that
    know the sibling set). Results are memoised per data version. ``snapshot=False``
    computes just these KPIs and regions (a one-off look, such as an import's preview,
    that should not pay for the month's every-KPI × every-region snapshot).
    """
    clean = tuple(sorted((k, v) for k, v in (filters or {}).items() if v is not None))
    key_month = parse_month(month).strftime("%Y-%m")
    scope = require(scope)
    snap = _snapshot(key_month, period, scope) if snapshot and not clean else None
    if snap is not None and set(kpi_ids) <= snap.kpis and set(regions) <= snap.regions:
        out = snap.rows(kpi_ids, regions)  # every KPI × every visible region of the month, computed once
    else:
        out = _compute(tuple(kpi_ids), tuple(regions), key_month, period, scope, clean)
        out.attrs = dict(out.attrs)
    return out


@dataclass(frozen=True)
class Snapshot:
    """Every KPI of one period × every region a scope covers, for one month (read-only)."""

    frame: pd.DataFrame
    kpis: frozenset
    regions: frozenset
    position: dict  # (kpi_id, region_code) → row of ``frame``

    @classmethod
    def of(cls, frame: pd.DataFrame, kpis, regions) -> "Snapshot":
        # object columns: taking rows of Arrow-backed strings costs ~1 ms a column per slice
        frame = frame.astype({c: object for c in frame.columns
                              if frame[c].dtype != object and pd.api.types.is_string_dtype(frame[c])})
        keys = zip(frame["kpi_id"].tolist(), frame["region_code"].tolist(), strict=True)
        return cls(frame, frozenset(kpis), frozenset(regions), {key: i for i, key in enumerate(keys)})

    def rows(self, kpi_ids: list[str], regions: list[str]) -> pd.DataFrame:
        """The rows of ``kpi_ids`` × ``regions`` in that order (KPI-major), as a new frame."""
        take = [self.position[(k, r)] for k in kpi_ids for r in regions]
        out = self.frame.iloc[take].reset_index(drop=True)
        out.attrs = dict(self.frame.attrs)
        return out

    def sliced(self, regions: frozenset) -> "Snapshot":
        keep = self.frame["region_code"].isin(regions).to_numpy()
        frame = self.frame[keep].reset_index(drop=True)
        frame.attrs = dict(self.frame.attrs)
        return Snapshot.of(frame, self.kpis, regions)


@memo(maxsize=160)
def _snapshot(month: str, period: str, scope: Scope) -> Snapshot:
    """Every KPI that supports ``period`` for every region the scope covers, for one month.

    A viewer limited by region only sees whole regions (every county under a visible region
    is visible), so a region's values do not depend on the scope: such viewers share the
    province's snapshot, sliced to their regions."""
    if not scope.all_departments:
        return _scoped_snapshot(month, period, scope)
    full = _scoped_snapshot(month, period, Scope.province(root_region()))
    codes = frozenset(r.code for r in region_tree(scope=scope))
    return full if codes == full.regions else full.sliced(codes)


# every month of five years × the two page periods stay in memory once read
@memo(maxsize=160)
def _scoped_snapshot(month: str, period: str, scope: Scope) -> Snapshot:
    cat = load_catalogue()

    def visible(k: Kpi) -> bool:  # a department-limited viewer cannot see facts without departments
        base = cat.base_of(k)
        return scope.all_departments or "dept_code" in cat.facts[base.fact].dims

    ids = tuple(k.id for k in cat.kpis.values() if period in k.periods and visible(k))
    codes = tuple(r.code for r in region_tree(scope=scope))
    # the province's snapshot was computed at publish (metrics/results.py); other scopes,
    # and months or periods the results table does not hold, are computed here
    stored = _stored_frame(month, period, ids, codes) if scope == Scope.province(root_region()) else None
    frame = stored if stored is not None else _compute_frame(ids, codes, month, period, scope, ())
    return Snapshot.of(frame, ids, codes)


def _stored_frame(month: str, period: str, ids: tuple, codes: tuple) -> pd.DataFrame | None:
    """The province's snapshot from the results table, as :class:`Snapshot` holds what
    :func:`_compute_frame` gives (same columns and values, rows KPI-major in ``ids`` × ``codes``
    order, same attrs); None when the table does not hold it (an older file, a month outside
    the data, another period)."""
    if period not in results.PERIODS or not results.ready():
        return None
    first, last = as_of()
    m = parse_month(month)
    if not first <= m <= last:
        return None
    sql = named_sql("results_snapshot.sql")
    # numpy arrays, strings as Python objects: a snapshot holds object columns (see Snapshot.of)
    arrays = db.cursor().execute(sql, db.bind(sql, {"month": m, "period": period})).fetchnumpy()
    kpi_at = pd.Index(ids).get_indexer(arrays["kpi_id"])
    region_at = pd.Index(codes).get_indexer(arrays["region_code"])
    if len(kpi_at) != len(ids) * len(codes) or (kpi_at < 0).any() or (region_at < 0).any():
        return None  # a KPI or region the table does not know: computed instead
    order = np.argsort(kpi_at * len(codes) + region_at)
    columns = {}
    for c in results.RESULT_COLUMNS:
        a = arrays[c]
        if isinstance(a, np.ma.MaskedArray):
            if a.mask.all():  # a column without any value is all None, as a frame of records makes it
                a = np.full(len(a), None, dtype=object)
            else:
                a = a.filled(np.nan) if a.dtype.kind == "f" else a.astype(object).filled(np.nan)
        columns[c] = a[order]
    out = pd.DataFrame(columns)
    p = _periods(m, period, last)
    out.attrs.update(period=period, month=p.month, window=p.cur, as_of=last, first_month=first)
    return out


@memo(maxsize=512)
def _compute(kpi_ids: tuple, regions: tuple, month: str, period: str, scope: Scope, filters: tuple) -> pd.DataFrame:
    return _compute_frame(kpi_ids, regions, month, period, scope, filters)


def _compute_frame(kpi_ids: tuple, regions: tuple, month: str, period: str, scope: Scope,
                   filters: tuple) -> pd.DataFrame:
    kpi_ids, regions, filters = list(kpi_ids), list(regions), dict(filters)
    cat = load_catalogue()
    kpis = [cat.kpi(k) for k in kpi_ids]
    first, last = as_of()
    p = _periods(month, period, last)
    for kpi in kpis:
        _check_period(kpi, period)
    records: dict[str, dict] = {}
    params_common = {"regions": regions, **scope.params(), **_window_params(p)}
    for fact, source, flt, restrict, measures, group in _query_groups(kpis, cat, scope, filters or {}):
        bases = {b.id: b for b in (cat.base_of(k) for k in group)}
        ratios = [b for b in bases.values() if b.type == "ratio"]
        sql = windows_sql(fact, measures, dict(flt), restrict, ratios, source=source)
        params = {**params_common, **{f"f_{d}": v for d, v in flt}}
        rows_by_region = db.query(sql, params).set_index("region_code").to_dict("index")
        for k in group:
            records[k.id] = rows_by_region
    out = pd.DataFrame(evaluated_rows(kpis, cat, regions, records, p, _targets(p.cur.end.year), first, last))
    out.attrs.update(period=period, month=p.month, window=p.cur, as_of=last, first_month=first)
    return out


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
                      **_evaluate(kpi, cat, row, p, region, targets, first, last)}
            if fact_rows:
                result["fact_rows"] = _num(row.get("rows__cur"))
            out.append(result)
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
    p = _periods(month, period, last)
    _check_period(kpi, period)
    flt = _filters(base, cat, {"dept": dept, "item": item})
    restrict = _check_scope_for(base, cat, scope)
    fact = cat.facts[base.fact]
    source, measures = source_for(fact, cat.measures_of(base), {**flt, dim: None}, aggregates_fresh())
    ratios = [base] if base.type == "ratio" else []
    sql = breakdown_sql(fact, measures, flt, restrict, dim, ratios, source=source)
    params = {"region": region, **scope.params(), **_window_params(p), **{f"f_{d}": v for d, v in flt.items()}}
    raw = db.query(sql, params)
    targets = _targets(p.cur.end.year)
    rows = [{"kpi_id": kpi.id, "member": r["member"], **_evaluate(kpi, cat, r, p, region, targets, first, last)}
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


def rank_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Add rank and rank_of per KPI (1 = best, by each KPI's direction; no value → no rank)."""
    cat = load_catalogue()
    df = df.copy()
    df["rank"] = pd.Series(pd.NA, index=df.index, dtype="Int64")
    df["rank_of"] = pd.Series(pd.NA, index=df.index, dtype="Int64")
    for kpi_id, idx in df.groupby("kpi_id").groups.items():
        values = df.loc[idx, "value"].astype(float)
        ascending = not cat.kpi(kpi_id).higher_is_better
        df.loc[idx, "rank"] = values.rank(method="min", ascending=ascending).astype("Int64")
        df.loc[idx, "rank_of"] = int(values.notna().sum())
    return df


def _result(kpi: Kpi, region: Region, row: dict, attrs: dict) -> KpiResult:
    def opt_int(x):
        return None if x is None or pd.isna(x) else int(x)

    return KpiResult(
        kpi_id=kpi.id,
        name=kpi.name,
        unit=kpi.unit,
        region_code=region.code,
        region_name=region.name,
        level=region.level,
        month=attrs["month"].strftime("%Y-%m"),
        period=attrs["period"],
        period_name=period_name(attrs["period"]),
        period_label=label(attrs["period"], attrs["window"]),
        value=_num(row["value"]),
        numerator=_num(row["numerator"]),
        denominator=_num(row["denominator"]),
        prev_value=_num(row["prev_value"]),
        ly_value=_num(row["ly_value"]),
        mom_change=_num(row["mom_change"]),
        yoy_change=_num(row["yoy_change"]),
        change_unit=PP if kpi.is_rate else "%",
        target=_num(row["target"]),
        target_source=row["target_source"],
        gap=_num(row["gap"]),
        rag=row["rag"],
        rank=opt_int(row.get("rank")),
        rank_of=opt_int(row.get("rank_of")),
        as_of=attrs["as_of"].strftime("%Y-%m"),
        has_data=bool(row["has_data"]),
    )


# ------------------------------------------------------------------ public API


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
        siblings = [reg.code] + siblings
    df = compute([kpi_id], siblings, month, period, scope=scope, filters={"dept": dept, "item": item})
    if len(siblings) > 1:
        df = rank_frame(df)
    row = df.set_index("region_code").loc[reg.code].to_dict()
    return _result(kpi, reg, row, df.attrs)


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
    df = rank_frame(compute([kpi_id], [r.code for r in regions], month, period, scope=scope,
                            filters={"dept": dept, "item": item}))
    names = pd.DataFrame([(r.code, r.name, r.level) for r in regions], columns=["region_code", "region_name", "level"])
    return names.merge(df, on="region_code").assign(period_label=label(period, df.attrs["window"]))


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


def kpi_series(
    kpi_id: str,
    region: str,
    *,
    scope: Scope,
    start=None,
    end=None,
    cumulative: bool = False,
    dept: str | None = None,
    item: str | None = None,
) -> pd.DataFrame:
    """Monthly series of a KPI for one region: month, value, numerator, denominator, target.

    ``cumulative=True`` gives 累计 (year-to-date) values: flows are summed from January
    to each month, stocks are read at each month.
    """
    return kpi_series_many([kpi_id], region, scope=scope, start=start, end=end, cumulative=cumulative,
                           dept=dept, item=item)[kpi_id]


def kpi_series_many(
    kpi_ids: list[str],
    region: str,
    *,
    scope: Scope,
    start=None,
    end=None,
    cumulative: bool = False,
    dept: str | None = None,
    item: str | None = None,
) -> dict[str, pd.DataFrame]:
    """:func:`kpi_series` for several KPIs at once: one query per fact table."""
    scope = require(scope)
    cat = load_catalogue()
    kpis = [cat.kpi(k) for k in kpi_ids]
    get_region(region, scope=scope)
    first, last = as_of()
    start = parse_month(start) if start else first
    end = min(parse_month(end), last) if end else last
    if dept is None and item is None and scope.all_departments and start >= first:
        # a region's series does not depend on a region-only scope (see _snapshot): each
        # KPI × region is computed once over every month and sliced to the window asked for
        return {k.id: _window_of(_whole_series(k.id, region, cumulative)[0], first, start, end) for k in kpis}
    return _series_many(kpis, region, scope, start, end, cumulative, dept, item)


def _window_of(series: pd.DataFrame, first: date, start: date, end: date) -> pd.DataFrame:
    """Rows ``start``…``end`` of a series with one row per month from ``first``."""
    def at(m: date) -> int:
        return (m.year - first.year) * 12 + m.month - first.month

    out = series.iloc[at(start):at(end) + 1].reset_index(drop=True)  # copy-on-write: the memo stays intact
    out.attrs = dict(series.attrs)
    return out


@memo(maxsize=8192)
def _whole_series(kpi_id: str, region: str, cumulative: bool) -> tuple[pd.DataFrame]:
    """Every month of one KPI for one region (in a tuple: handed out without a copy)."""
    first, last = as_of()
    cat = load_catalogue()
    kpi = cat.kpi(kpi_id)
    raw = _stored_series_rows(kpi, region, first, last)
    if raw is not None:  # the monthly sums from the results table, then the same arithmetic
        return (_series_values(kpi, cat, raw, region, first, cumulative, last),)
    return (_series_many([kpi], region, Scope.province(root_region()), first, last, cumulative, None, None)[kpi_id],)


def _stored_series_rows(kpi: Kpi, region: str, first: date, last: date) -> pd.DataFrame | None:
    """What :func:`_series_rows` gives for one KPI's measures, every month from January of
    ``first``'s year to ``last``, rebuilt from the 当月 rows of the results table: a 当月 row
    holds one month's sums (a ratio's numerator and denominator, a sum's value) and the fact
    rows behind them. None when the table cannot serve it (no table; a measure that no KPI
    with a 当月 period exposes)."""
    if not results.ready():
        return None
    cat = load_catalogue()
    base = cat.base_of(kpi)
    found = [_measure_provider(cat, base, m.name) for m in cat.measures_of(base)]
    if any(f is None for f in found):
        return None
    rows = _stored_month_rows(region)
    index = pd.date_range(first.replace(month=1), last, freq="MS", name="month")
    before = [math.nan] * (first.month - 1)  # January to the first month: no fact row lies outside the calendar
    columns: dict[str, list] = {}
    for measure, (provider, column) in zip(cat.measures_of(base), found, strict=True):
        monthly = rows.get(provider)
        if monthly is None or len(before) + len(monthly["month"]) != len(index):
            return None
        columns.setdefault("rows", before + monthly["fact_rows"])
        columns[measure.name] = before + monthly[column]
    return pd.DataFrame(columns, index=index, dtype=float)


def _measure_provider(cat: Catalogue, base: Kpi, measure: str) -> tuple[str, str] | None:
    """The KPI whose 当月 results hold ``measure``'s monthly sums, and the column: the KPI
    itself when it has a 当月 period, else a KPI of the same fact read from the same relation
    (so that its fact rows are the ones a series of ``base`` counts) exposing that measure."""
    fact = cat.facts[base.fact]
    fresh = aggregates_fresh()
    source = source_for(fact, cat.measures_of(base), {}, fresh)[0]

    def exposes(k: Kpi) -> str | None:
        if "month" not in k.periods or k.type == "gap" or k.fact != base.fact:
            return None
        if k is not base and source_for(fact, cat.measures_of(k), {}, fresh)[0] != source:
            return None
        if k.type == "sum":
            return "value" if k.measure == measure else None
        return "numerator" if k.numerator == measure else "denominator" if k.denominator == measure else None

    for k in [base, *cat.kpis.values()]:
        column = exposes(k)
        if column is not None:
            return k.id, column
    return None


@memo(maxsize=256)
def _stored_month_rows(region: str) -> dict[str, dict[str, list]]:
    """The 当月 results of one region by KPI, month by month (plain lists, read-only)."""
    df = db.query(named_sql("results_month_rows.sql"), {"region": region})
    columns = {c: df[c].tolist() for c in ("month", "value", "numerator", "denominator", "fact_rows")}
    out: dict[str, dict[str, list]] = {}
    start = 0
    for kpi_id, run in itertools.groupby(df["kpi_id"].tolist()):  # the rows come ordered by KPI, then month
        end = start + len(list(run))
        out[kpi_id] = {c: values[start:end] for c, values in columns.items()}
        start = end
    return out


def _series_many(kpis: list[Kpi], region: str, scope: Scope, start: date, end: date, cumulative: bool,
                 dept: str | None, item: str | None) -> dict[str, pd.DataFrame]:
    cat = load_catalogue()
    last = as_of()[1]
    out = {}
    since_january = start.replace(month=1)  # a YTD value needs the months since January
    for fact, source, flt, restrict, measures, group in _query_groups(kpis, cat, scope, {"dept": dept, "item": item}):
        raw = _series_rows(fact.name, source, tuple(measures), flt, restrict, region, since_january, end, scope)
        for kpi in group:
            out[kpi.id] = _series_values(kpi, cat, raw, region, start, cumulative, last)
    return out


def _series_rows(fact_name: str, source: str, measures: tuple, flt: tuple, restrict: bool, region: str,
                 start: date, end: date, scope: Scope) -> pd.DataFrame:
    """Monthly sums of ``measures`` for one region from ``start`` to ``end``, every month present.

    Without filters or a department limit a region's series does not depend on the scope
    (see :func:`_snapshot`): it is sliced from one table of every region × every month."""
    if flt or restrict or not scope.all_departments:
        return _region_series_rows(fact_name, source, measures, flt, restrict, region, start, end, scope)
    rows = _all_series_rows(fact_name, source, measures).get(region)
    if rows is None:
        rows = pd.DataFrame(columns=["rows", *(m.name for m in measures)], index=pd.DatetimeIndex([], name="month"))
    return rows.reindex(pd.date_range(start, end, freq="MS"))  # a new frame: the shared one stays as it is


@memo(maxsize=32)
def _all_series_rows(fact_name: str, source: str, measures: tuple) -> dict[str, pd.DataFrame]:
    """Every region's monthly rows of one fact, split by region once (read-only)."""
    first, last = as_of()
    fact = load_catalogue().facts[fact_name]
    sql = series_sql(fact, list(measures), {}, False, source=source)
    province = Scope.province(root_region())
    regions = [r.code for r in region_tree(scope=province)]
    params = {"regions": regions, "span_start": first.replace(month=1), "span_end": last, **province.params()}
    every = db.query(sql, params)
    return {code: part.drop(columns="region_code").set_index("month")
            for code, part in every.groupby("region_code", sort=False)}


@memo()
def _region_series_rows(fact_name: str, source: str, measures: tuple, flt: tuple, restrict: bool, region: str,
                        start: date, end: date, scope: Scope) -> pd.DataFrame:
    fact = load_catalogue().facts[fact_name]
    sql = series_sql(fact, list(measures), dict(flt), restrict, source=source)
    params = {"regions": [region], "span_start": start, "span_end": end, **scope.params(),
              **{f"f_{d}": v for d, v in flt}}
    raw = db.query(sql, params)
    return raw.set_index("month").reindex(pd.date_range(start, end, freq="MS"))


def _series_values(kpi: Kpi, cat: Catalogue, raw: pd.DataFrame, region: str, start: date, cumulative: bool,
                   last: date) -> pd.DataFrame:
    base = cat.base_of(kpi)
    raw = raw.copy()
    if cumulative or base.target_mode == "time_progress":
        year = raw.index.year
        for m in cat.measures_of(base):
            if m.kind == "flow":
                raw[m.name] = raw[m.name].astype(float).groupby(year).cumsum()
    raw = raw[raw.index >= pd.Timestamp(start)]
    # plain lists: this runs for every card's sparkline, and iterrows costs more than the query
    cols = [base.measure] if base.type == "sum" else [base.numerator, base.denominator]
    values = {c: raw[c].astype(float).tolist() for c in ["rows", *cols]}
    rows = []
    targets = {}
    for i, ts in enumerate(raw.index):
        count = values["rows"][i]
        has = bool(count) if not math.isnan(count) else False
        window = Window(ts.date().replace(month=1) if cumulative else ts.date(), ts.date())
        if base.type == "sum":
            v = _num(values[base.measure][i]) if has else None
            num, den = v, None
        else:
            num, den = ((_num(values[base.numerator][i]) or 0.0, _num(values[base.denominator][i]) or 0.0)
                        if has else (None, None))
            v = _ratio(num, den, base.factor)
        if ts.year not in targets:
            targets[ts.year] = _targets(ts.year)
        if base.target_mode == "time_progress":
            window = Window(ts.date().replace(month=1), ts.date())
        target, _ = _target_for(kpi, region, window, targets[ts.year])
        if kpi.type == "gap" and v is not None:
            bt, _ = _target_for(base, region, window, targets[ts.year])
            v = v - bt
        rows.append({"month": ts, "value": v, "numerator": num, "denominator": den, "target": target})
    out = pd.DataFrame(rows, columns=["month", "value", "numerator", "denominator", "target"])
    out.attrs.update(kpi_id=kpi.id, region=region, cumulative=cumulative, as_of=last)
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
        p = _periods(month, per, df.attrs["as_of"])
        attrs = {"month": p.month, "period": per, "window": p.cur, "as_of": df.attrs["as_of"]}
        out.append(_result(cat.kpi(kid), reg, row, attrs))
    return out
