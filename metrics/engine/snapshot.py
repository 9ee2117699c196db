"""The month snapshot: every KPI × every region a scope sees, computed (or read) once.

:func:`compute` serves any KPIs × regions of one month and period, from the month's
snapshot where it holds them, else from one windows query per fact (:func:`_compute_frame`).
The province's snapshot is read from the results table computed at publish
(:mod:`metrics.results`); other scopes and periods are computed here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from data import db
from data.scope import Scope, require
from metrics import results
from metrics.cache import memo
from metrics.catalogue import Kpi, load_catalogue
from metrics.compile import named_sql, window_lists, windows_sql
from metrics.engine.evaluate import evaluated_rows
from metrics.engine.plan import check_period, periods_of, query_groups, ratio_bases
from metrics.engine.targets import targets
from metrics.periods import parse_month
from metrics.regions import as_of, region_tree, root_region


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
    def of(cls, frame: pd.DataFrame, kpis, regions) -> Snapshot:
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

    def sliced(self, regions: frozenset) -> Snapshot:
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
                a = np.ma.filled(a if a.dtype.kind == "f" else a.astype(object), np.nan)
        columns[c] = a[order]
    out = pd.DataFrame(columns)
    p = periods_of(m, period, last)
    out.attrs.update(period=period, month=p.month, window=p.cur, as_of=last, first_month=first)
    return out


@memo(maxsize=512)
def _compute(kpi_ids: tuple, regions: tuple, month: str, period: str, scope: Scope, filters: tuple) -> pd.DataFrame:
    return _compute_frame(kpi_ids, regions, month, period, scope, filters)


def _compute_frame(kpi_ids: tuple, region_codes: tuple, month: str, period: str, scope: Scope,
                   filter_items: tuple) -> pd.DataFrame:
    regions, filters = list(region_codes), dict(filter_items)
    cat = load_catalogue()
    kpis = [cat.kpi(k) for k in kpi_ids]
    first, last = as_of()
    p = periods_of(month, period, last)
    for kpi in kpis:
        check_period(kpi, period)
    records: dict[str, dict] = {}
    params_common = {"regions": regions, **scope.params(), **window_lists([p])}
    for fact, source, flt, restrict, measures, group in query_groups(kpis, cat, scope, filters or {}):
        sql = windows_sql(fact, measures, dict(flt), restrict, ratio_bases(cat, group), source=source)
        params = {**params_common, **{f"f_{d}": v for d, v in flt}}
        rows_by_region = db.query(sql, params).set_index("region_code").to_dict("index")
        for k in group:
            records[k.id] = rows_by_region
    out = pd.DataFrame(evaluated_rows(kpis, cat, regions, records, p, targets(p.cur.end.year), first, last))
    out.attrs.update(period=period, month=p.month, window=p.cur, as_of=last, first_month=first)
    return out
