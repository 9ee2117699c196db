"""Monthly series: one KPI for one region, month by month (当月 or 累计), with its targets.

A series over every month of the data is computed once per KPI × region and sliced to the
months asked for. Its figures are formed in SQL, like a period's: each month's value,
numerator and denominator in both forms (当月; 累计: flows summed since January, stocks read at
the month; a ratio as numerator / NULLIF(denominator, 0) × factor), read from the results
table's 当月 rows where it holds them (``results_series.sql``, :func:`_stored_series`), else
queried per fact (``kpi_series.sql``, :func:`_series_rows`). Python adds the targets and a gap
KPI's distance to its base's target (:mod:`metrics.engine.targets`).
"""

from __future__ import annotations

import functools
import itertools
from datetime import date

import pandas as pd

from data import db
from data.scope import Scope, require
from metrics import results
from metrics.cache import memo
from metrics.catalogue import Catalogue, Kpi, KpiType, load_catalogue
from metrics.compile import SERIES_FORMS, named_sql, series_sql
from metrics.engine import plan
from metrics.engine.evaluate import num as _num
from metrics.engine.plan import query_groups
from metrics.engine.targets import minus_target, target_for, targets
from metrics.materialize import source_for
from metrics.periods import Window, parse_month
from metrics.regions import as_of, get_region, region_tree, root_region

FIGURES = ("value", "numerator", "denominator")  # what SQL forms for each month of a series, in each form


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
    stored = _stored_series(kpi, region, first, last)
    if stored is not None:  # the figures formed in SQL from the results table's 当月 rows
        months, figures = stored
        form = _form(kpi, cat, cumulative)
        return (_series_frame(kpi, cat, months, [figures[f"{c}__{form}"] for c in FIGURES], region, cumulative,
                              last),)
    return (_series_many([kpi], region, Scope.province(root_region()), first, last, cumulative, None, None)[kpi_id],)


def _form(kpi: Kpi, cat: Catalogue, cumulative: bool) -> str:
    """Which of a series' SQL forms ``kpi`` shows: 累计 (``ytd``) when asked for, and always for
    a KPI held to 序时进度 (its value is year-to-date by definition), else 当月 (``month``)."""
    return "ytd" if cumulative or cat.base_of(kpi).target_mode == "time_progress" else "month"


def _stored_series(kpi: Kpi, region: str, first: date, last: date) -> tuple[list, dict[str, list]] | None:
    """The months ``first``…``last`` of ``kpi``'s series (both forms, see :func:`_form`) as
    ``results_series.sql`` forms them from the 当月 rows of the results table: (months,
    {``<figure>__<form>``: values}). None when the table cannot serve it (no table; a measure that no KPI
    with a 当月 period exposes; a month missing)."""
    if not results.ready():
        return None
    found = _stored_region_series(region).get(load_catalogue().base_of(kpi).id)
    months = _months(first, last)
    if found is None or len(found["month"]) != len(months):
        return None
    return list(months), found


@functools.lru_cache(maxsize=8)
def _months(first: date, last: date) -> tuple[pd.Timestamp, ...]:
    """The first days of the months ``first``…``last``, as a computed series' index holds them."""
    return tuple(pd.date_range(first, last, freq="MS"))


@memo(maxsize=256)
def _stored_region_series(region: str) -> dict[str, dict[str, list]]:
    """Every KPI's series that the results table can serve for one region, by KPI: each
    column of ``results_series.sql`` as a plain list (read-only)."""
    df = db.query(named_sql("results_series.sql"), {"region": region, **_stored_kpis()})
    columns = {c: df[c].tolist() for c in df.columns if c != "kpi_id"}
    out: dict[str, dict[str, list]] = {}
    start = 0
    for kpi_id, run in itertools.groupby(df["kpi_id"].tolist()):  # the rows come ordered by KPI, then month
        end = start + len(list(run))
        out[kpi_id] = {c: values[start:end] for c, values in columns.items()}
        start = end
    return out


@memo(maxsize=4)
def _stored_kpis() -> dict[str, list]:
    """The bound KPI lists of ``results_series.sql``: every ratio or sum KPI whose measures the
    results table holds, with where each measure is read from (see :func:`_measure_provider`)."""
    cat = load_catalogue()
    lists: dict[str, list] = {name: [] for name in (
        "kpi_ids", "ratios", "factors", "num_kpis", "num_columns", "num_flows", "den_kpis", "den_columns", "den_flows")}
    for kpi in cat.kpis.values():
        if kpi.type == KpiType.GAP:
            continue  # a gap's series is its base's
        measures = cat.measures_of(kpi)
        found = [_measure_provider(cat, kpi, m.name) for m in measures]
        providers = [p for p in found if p is not None]
        if len(providers) != len(found):
            continue
        # (provider KPI, column, flow?) of the numerator (a sum's measure) and of the denominator
        # (a sum has none: its measure's again, ignored)
        read = [(*p, m.kind == "flow") for m, p in zip(measures, providers, strict=True)]
        num, den = read[0], read[-1]
        row = (kpi.id, kpi.type == KpiType.RATIO, kpi.factor, *num, *den)
        for name, value in zip(lists, row, strict=True):
            lists[name].append(value)
    return lists


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


def _series_many(kpis: list[Kpi], region: str, scope: Scope, start: date, end: date, cumulative: bool,
                 dept: str | None, item: str | None) -> dict[str, pd.DataFrame]:
    cat = load_catalogue()
    last = as_of()[1]
    out = {}
    for fact, source, flt, restrict, measures, group in query_groups(kpis, cat, scope, {"dept": dept, "item": item}):
        bases = tuple(dict.fromkeys(cat.base_of(k).id for k in group))
        raw = _series_rows(fact.name, source, tuple(measures), bases, flt, restrict, region, start, end, scope)
        for kpi in group:
            column = f"{cat.base_of(kpi).id}__{{}}__{_form(kpi, cat, cumulative)}"
            figures = [raw[column.format(c)].tolist() for c in FIGURES]
            out[kpi.id] = _series_frame(kpi, cat, list(raw.index), figures, region, cumulative, last)
    return out


def _series_rows(fact_name: str, source: str, measures: tuple, bases: tuple, flt: tuple, restrict: bool,
                 region: str, start: date, end: date, scope: Scope) -> pd.DataFrame:
    """The series of the KPIs ``bases`` (ids of ratio or sum KPIs) for one region from
    ``start`` to ``end``, every month present (no value where the month has no fact rows):
    the columns of ``kpi_series.sql`` by month.

    Without filters or a department limit a region's series does not depend on the scope
    (see :func:`_snapshot`): it is sliced from one table of every region × every month."""
    if flt or restrict or not scope.all_departments:
        return _region_series_rows(fact_name, source, measures, bases, flt, restrict, region, start, end, scope)
    rows = _all_series_rows(fact_name, source, measures, bases).get(region)
    if rows is None:
        rows = _no_rows(bases)
    return rows.reindex(pd.date_range(start, end, freq="MS"))  # a new frame: the shared one stays as it is


def _no_rows(bases: tuple) -> pd.DataFrame:
    """The columns of ``kpi_series.sql`` by month without any row (a region without fact rows)."""
    columns = ["fact_rows", *(f"{k}__{c}__{form}" for k in bases for form in SERIES_FORMS for c in FIGURES)]
    return pd.DataFrame(columns=columns, index=pd.DatetimeIndex([], name="month"), dtype=float)


@memo(maxsize=32)
def _all_series_rows(fact_name: str, source: str, measures: tuple, bases: tuple) -> dict[str, pd.DataFrame]:
    """Every region's monthly rows of one fact, split by region once (read-only)."""
    first, last = as_of()
    cat = load_catalogue()
    sql = series_sql(cat.facts[fact_name], list(measures), {}, False, [cat.kpi(k) for k in bases], source=source)
    province = Scope.province(root_region())
    regions = [r.code for r in region_tree(scope=province)]
    params = {"regions": regions, "span_start": first, "span_end": last, **province.params()}
    every = db.query(sql, params)
    return {code: part.drop(columns="region_code").set_index("month")
            for code, part in every.groupby("region_code", sort=False)}


@memo()
def _region_series_rows(fact_name: str, source: str, measures: tuple, bases: tuple, flt: tuple, restrict: bool,
                        region: str, start: date, end: date, scope: Scope) -> pd.DataFrame:
    cat = load_catalogue()
    sql = series_sql(cat.facts[fact_name], list(measures), dict(flt), restrict, [cat.kpi(k) for k in bases],
                     source=source)
    params = {"regions": [region], "span_start": start, "span_end": end, **scope.params(),
              **{f"f_{d}": v for d, v in flt}}
    raw = db.query(sql, params)
    return raw.set_index("month").reindex(pd.date_range(start, end, freq="MS"))


def _series_frame(kpi: Kpi, cat: Catalogue, months: list, figures: list[list], region: str,
                  cumulative: bool, last: date) -> pd.DataFrame:
    """The series' frame: each month's value, numerator and denominator as SQL formed them in
    ``kpi``'s form (``figures``: the three lists of :data:`FIGURES`, one element per month of
    ``months``), its target, and a gap KPI's value (its base's value minus the base's target)."""
    base = cat.base_of(kpi)
    form = _form(kpi, cat, cumulative)
    values, nums, dens = figures
    columns: dict[str, list] = {"month": list(months), "value": [], "numerator": [], "denominator": [], "target": []}
    by_year: dict[int, dict] = {}
    for ts, v, num, den in zip(months, values, nums, dens, strict=True):
        v = _num(v)
        window = Window(ts.date().replace(month=1) if form == "ytd" else ts.date(), ts.date())
        if ts.year not in by_year:
            by_year[ts.year] = targets(ts.year)
        target, _ = target_for(kpi, region, window, by_year[ts.year])
        if kpi.type == KpiType.GAP:
            v = minus_target(base, v, region, window, by_year[ts.year])
        columns["value"].append(v)
        columns["numerator"].append(_num(num))
        columns["denominator"].append(_num(den))
        columns["target"].append(target)
    out = pd.DataFrame(columns)
    out.attrs.update(kpi_id=kpi.id, region=region, cumulative=cumulative, as_of=last)
    return out
