"""Compile catalogue measures into SQL, in one place.

The templates in ``metrics/sql`` have double-brace slots that take identifiers and
expressions from the validated catalogue only. Values (regions, months, scope,
filters) are always bound parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from data.db import read_sql, render_sql
from metrics.catalogue import Fact, Kpi, KpiType, Measure

SQL_DIR = Path(__file__).resolve().parent / "sql"
WINDOWS = ("cur", "prev", "ly")


def _render(template: str, **slots: str) -> str:
    return render_sql(SQL_DIR / template, **slots)


def _monthly_lines(measures: list[Measure]) -> str:
    """Per-month aggregates of each measure (count-distinct measures are stocks, read by month)."""
    lines = ["        count(*) AS fact_rows"]
    for m in measures:
        agg = f"count(DISTINCT ({m.expr}))" if m.agg == "count_distinct" else f"sum({m.expr})"
        lines.append(f"        {agg} AS {m.name}")
    return ",\n".join(lines)


def _window_condition(measure: Measure, window: str) -> str:
    # a flow sums every month of the window; a stock is read at the window's last month
    if measure.kind == "flow":
        return f"month BETWEEN ${window}_start AND ${window}_end"
    return f"month = ${window}_end"


def _scope_and_filters(fact: Fact, filters: dict[str, object], restrict_depts: bool) -> tuple[str, str]:
    dept_scope = ""
    if restrict_depts:
        dept_scope = "\n      AND list_contains($scope_depts, f.dept_code)"
    clauses = "".join(f"\n      AND f.{dim} = $f_{dim}" for dim in sorted(filters))
    return dept_scope, clauses


def _window_lines(measures: list[Measure], bounds: str = "$") -> str:
    """Window sums over the per-month rows: flows over the window, stocks at its last month.

    ``bounds``: how the window bounds are named: bound parameters (``$cur_start``) or the
    columns of the windows relation (``w.`` gives ``w.cur_start``)."""
    lines = []
    for window in WINDOWS:
        rows = f"sum(fact_rows) FILTER (WHERE month BETWEEN ${window}_start AND ${window}_end)"
        lines.append(f"        {rows} AS rows__{window}")
        for m in measures:
            lines.append(f"        sum({m.name}) FILTER (WHERE {_window_condition(m, window)}) AS {m.name}__{window}")
    return ",\n".join(lines).replace("$", bounds)


def _ratio_lines(ratios: Sequence[Kpi]) -> str:
    return "".join(
        f",\n       a.{k.numerator}__{w} / NULLIF(a.{k.denominator}__{w}, 0) * {k.factor!r} AS {k.id}__{w}"
        for k in ratios
        for w in WINDOWS
    )


def _window_filters(fact: Fact, measures: list[Measure], filters: dict, restrict_depts: bool,
                    ends: str = "$cur_end, $prev_end, $ly_end") -> tuple[str, str]:
    dept_scope, clauses = _scope_and_filters(fact, filters, restrict_depts)
    if all(m.kind == "stock" for m in measures):
        # stocks are read at window ends only: skip the months in between
        clauses += f"\n      AND f.month IN ({ends})"
    return dept_scope, clauses


def windows_sql(
    fact: Fact,
    measures: list[Measure],
    filters: dict[str, object],
    restrict_depts: bool,
    ratios: Sequence[Kpi] = (),
    source: str | None = None,
) -> str:
    """SQL computing each measure over the cur/prev/ly windows of each result month, per
    region, and each ratio KPI as ``numerator / NULLIF(denominator, 0) × factor``: the bound
    parameters are :func:`window_lists` of the result months."""
    ends = "SELECT unnest([cur_end, prev_end, ly_end]) FROM windows"
    dept_scope, clauses = _window_filters(fact, measures, filters, restrict_depts, ends)
    stocks_only = all(m.kind == "stock" for m in measures)
    reads = ("m.month IN (w.cur_end, w.prev_end, w.ly_end)" if stocks_only
             else "m.month BETWEEN w.read_start AND w.read_end")
    return _render(
        "kpi_windows.sql", view=source or fact.view, monthly=_monthly_lines(measures), reads=reads,
        measures=_window_lines(measures, "w."), dept_scope=dept_scope, filters=clauses, ratios=_ratio_lines(ratios),
    )


def window_lists(periods: list) -> dict[str, list]:
    """The bound windows of :func:`windows_sql`: one list element per result month (a
    :class:`~metrics.periods.Periods`), and the span of months any of them reads."""
    params: dict[str, list] = {"result_months": [p.month for p in periods]}
    for name in WINDOWS:
        ws = [getattr(p, name) for p in periods]
        params[f"{name}_starts"] = [w.start if w else None for w in ws]
        params[f"{name}_ends"] = [w.end if w else None for w in ws]
    present = [w for p in periods for w in (getattr(p, n) for n in WINDOWS) if w]
    params["span_start"] = min(w.start for w in present)
    params["span_end"] = max(w.end for w in present)
    return params


def breakdown_sql(
    fact: Fact,
    measures: list[Measure],
    filters: dict[str, object],
    restrict_depts: bool,
    dim: str,
    ratios: Sequence[Kpi] = (),
    source: str | None = None,
) -> str:
    """Like :func:`windows_sql` for one region, split by the fact dimension ``dim``."""
    if dim not in fact.dims:
        raise ValueError(f"事实表 {fact.name} 没有维度 {dim}")
    dept_scope, clauses = _window_filters(fact, measures, filters, restrict_depts)
    return _render(
        "kpi_breakdown.sql", view=source or fact.view, dim=dim, monthly=_monthly_lines(measures),
        measures=_window_lines(measures), dept_scope=dept_scope, filters=clauses, ratios=_ratio_lines(ratios),
    )


SERIES_FORMS = ("month", "ytd")  # 当月 and 累计 values of a series


def _running_lines(measures: list[Measure]) -> str:
    """Each monthly measure as a DOUBLE in its 当月 form and its 累计 form (flows summed since
    January, over the ``ytd`` window of ``kpi_series.sql``; stocks read at the month)."""
    lines = []
    for m in measures:
        month = f"CAST({m.name} AS DOUBLE)"
        ytd = f"sum({month}) OVER ytd" if m.kind == "flow" else month
        lines.append(f"        {month} AS {m.name}__month")
        lines.append(f"        {ytd} AS {m.name}__ytd")
    return ",\n".join(lines)


def _series_value_lines(kpis: Sequence[Kpi]) -> str:
    """Each KPI's value, numerator and denominator in both forms (``<kpi>__value__ytd`` …):
    a ratio is numerator / NULLIF(denominator, 0) × factor (a missing sum counts as 0), a sum
    its measure (the numerator; no denominator)."""
    lines = []
    for k in kpis:
        for form in SERIES_FORMS:
            if k.type == KpiType.RATIO:
                n, d = f"coalesce({k.numerator}__{form}, 0)", f"coalesce({k.denominator}__{form}, 0)"
                value = f"{n} / NULLIF({d}, 0) * {k.factor!r}"
            elif k.type == KpiType.SUM:
                n = value = f"{k.measure}__{form}"
                d = "CAST(NULL AS DOUBLE)"
            else:
                raise ValueError(f"指标 {k.id} 是差值指标：请给出它的基准指标")
            lines.append(f"       {value} AS {k.id}__value__{form}")
            lines.append(f"       {n} AS {k.id}__numerator__{form}")
            lines.append(f"       {d} AS {k.id}__denominator__{form}")
    return ",\n".join(lines)


def series_sql(
    fact: Fact,
    measures: list[Measure],
    filters: dict[str, object],
    restrict_depts: bool,
    kpis: Sequence[Kpi] = (),
    source: str | None = None,
) -> str:
    """SQL computing, per region and month, each of ``kpis`` (ratio or sum KPIs of ``fact``
    whose measures are among ``measures``) in its 当月 and its 累计 form: see kpi_series.sql."""
    dept_scope, clauses = _scope_and_filters(fact, filters, restrict_depts)
    return _render(
        "kpi_series.sql", view=source or fact.view, monthly=_monthly_lines(measures),
        running=_running_lines(measures), values=_series_value_lines(kpis), dept_scope=dept_scope, filters=clauses,
    )


def named_sql(name: str) -> str:
    """A fixed query from ``metrics/sql``."""
    return read_sql(SQL_DIR / name)
