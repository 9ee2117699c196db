"""Monthly series: one KPI for one region, month by month (当月 or 累计), with its targets.

A series over every month of the data is computed once per KPI × region and sliced to the
months asked for; the province's monthly sums are read from the results table where it
holds them (:func:`_stored_series_rows`), else queried per fact (:func:`_series_rows`).
"""

from __future__ import annotations

import itertools
import math
from datetime import date

import pandas as pd

from data import db
from data.scope import Scope, require
from metrics import results
from metrics.cache import memo
from metrics.catalogue import Catalogue, Kpi, KpiType, load_catalogue
from metrics.compile import named_sql, series_sql
from metrics.engine import plan
from metrics.engine.evaluate import num as _num
from metrics.engine.plan import query_groups
from metrics.engine.targets import minus_target, target_for, targets
from metrics.materialize import source_for
from metrics.periods import Window, parse_month
from metrics.regions import as_of, get_region, region_tree, root_region


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
    providers = [_measure_provider(cat, base, m.name) for m in cat.measures_of(base)]
    found = [f for f in providers if f is not None]
    if len(found) != len(providers):
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
    fresh = plan.aggregates_fresh()
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
    for fact, source, flt, restrict, measures, group in query_groups(kpis, cat, scope, {"dept": dept, "item": item}):
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


def _ratio(num, den, factor: float) -> float | None:
    num, den = _num(num), _num(den)
    if num is None or den is None or den == 0:
        return None
    return num / den * factor


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
    by_year: dict[int, dict] = {}
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
        if ts.year not in by_year:
            by_year[ts.year] = targets(ts.year)
        if base.target_mode == "time_progress":
            window = Window(ts.date().replace(month=1), ts.date())
        target, _ = target_for(kpi, region, window, by_year[ts.year])
        if kpi.type == KpiType.GAP:
            v = minus_target(base, v, region, window, by_year[ts.year])
        rows.append({"month": ts, "value": v, "numerator": num, "denominator": den, "target": target})
    out = pd.DataFrame(rows, columns=["month", "value", "numerator", "denominator", "target"])
    out.attrs.update(kpi_id=kpi.id, region=region, cumulative=cumulative, as_of=last)
    return out
