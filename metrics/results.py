"""KPI results computed at publish: the ``kpi_results`` table of each versioned file.

Data changes only at publish, so every KPI × every region × every month of the data is
evaluated there, for the pages' two periods (累计 ``ytd`` and 当月 ``month``), as the
whole province sees it (every department): the snapshot every region-only viewer shares
(:func:`metrics.engine.snapshot._snapshot`). Serving processes read those rows instead of computing
them, so the first view of a month after a start or a publish reads one month's rows (and a
region's 当月 rows for its card and trend series) instead of querying every fact. Quarters,
years, filters and department-limited viewers are still computed live.

The rows are the engine's own: the same window sums (``kpi_windows.sql``, bound with every
month's windows at once) evaluated by the same
:func:`metrics.engine.evaluate.evaluated_rows`. A publish refreshes only the results it can have
changed (:func:`affected_months`); a new catalogue or engine is a whole rebuild
(:func:`results_version`, checked by ``publish.upgrade`` at start).

The table is valid for the data it was computed from only: ``meta.results_data_version``
must equal ``meta.data_version`` and ``meta.results_version`` this code's version, else
the engine computes as before (:func:`ready`).
"""

from __future__ import annotations

import hashlib
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from data import db
from data.intake.apply import AGGREGATE_SOURCES
from data.scope import Scope
from metrics.cache import memo
from metrics.catalogue import CATALOGUE_PATH, Kpi, load_catalogue
from metrics.compile import SQL_DIR, _render, named_sql, window_lists, windows_sql
from metrics.periods import add_months, windows

RESULTS_FORMAT = "1"  # bump when the table's columns or their meaning change
TABLE = "kpi_results"
PERIODS = ("ytd", "month")  # the pages' periods (metrics.page_state.PAGE_PERIODS)
NEW_TABLE = "_results_new"

# the columns of a snapshot row, as metrics.engine.snapshot._compute_frame gives them
RESULT_COLUMNS = ["kpi_id", "region_code", "value", "numerator", "denominator", "prev_value", "ly_value",
                  "mom_change", "yoy_change", "target", "target_source", "gap", "rag", "has_data"]

# which intake tables each catalogue fact is built from, and how a change reaches the fact's
# months: "months" those written, "later" those and every later one, "all" every month. The
# aggregated facts' entries are the aggregates' own; a month the calendar gains reaches every fact.
FACT_SOURCES: dict[str, dict[str, str]] = {
    **AGGREGATE_SOURCES,
    "hotline": {"hotline_monthly": "months"},
    "data_resource": {"data_resource_monthly": "months"},
    # the annual budget is a stock on every month of its year; the change does not say which year
    "spending": {"payment": "months", "budget": "all"},
}

_HERE = Path(__file__).resolve().parent
# what a result is computed from: a change to any of these is a whole rebuild at the next start
_VERSIONED = [CATALOGUE_PATH, *sorted((_HERE / "engine").glob("*.py")), _HERE / "periods.py", _HERE / "compile.py",
              SQL_DIR / "kpi_windows.sql", SQL_DIR / "targets.sql"]


@lru_cache(maxsize=1)
def results_version() -> str:
    """Changes whenever the catalogue, the engine's evaluation, this format or what the
    aggregate tables follow (the project-rule thresholds the fact views read) changes."""
    from metrics.materialize import aggregates_version

    digest = hashlib.sha256(RESULTS_FORMAT.encode() + aggregates_version().encode())
    for path in _VERSIONED:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


# ---------------------------------------------------------------- reading


@memo(maxsize=4)
def ready() -> bool:
    """Whether the served file holds results for its own data, computed by this code."""
    row = db.query(named_sql("results_state.sql")).iloc[0]
    return bool(row.present) and row.version == results_version() and row.data_version == row.current


# ---------------------------------------------------------------- which results a change reaches


def month_range(first: date, last: date) -> list[date]:
    """Every month from ``first`` to ``last``, both included."""
    out, m = [], first
    while m <= last:
        out.append(m)
        m = add_months(m, 1)
    return out


def affected_months(period: str, changed: set[date], months: list[date]) -> list[date]:
    """The months among ``months`` whose ``period`` result reads data of a ``changed`` month.

    A result reads its current window, its 环比 window and its 同比 window (flows over the
    window, stocks at its end), so it changes when any of them contains a changed month: for
    当月 the month itself, the next month and the month a year later; for 累计 the rest of
    the year, the next January (its 环比 is the whole year) and the same months a year later.
    Only months up to the data's last month are kept, whose windows end by then, so a new
    last month caps no kept window; months that join the range are passed in ``changed``."""
    if not changed:
        return []
    out = []
    for m in months:
        p = windows(period, m)
        spans = [w for w in (p.cur, p.prev, p.ly) if w is not None]
        if any(w.start <= c <= w.end for w in spans for c in changed):
            out.append(m)
    return out


def changed_months(changes, calendar: list[date]) -> dict[str, set[date] | None]:
    """Per catalogue fact, the months whose rows a publish changed (None: every month)."""
    new = {m for c in changes for m in c.new_months}
    out: dict[str, set[date] | None] = {}
    for fact in load_catalogue().facts:
        sources = FACT_SOURCES[fact]
        months: set[date] | None = set(new)
        for c in changes:
            how = sources.get(c.table)
            if not c.diff or how is None:
                continue
            if how == "all" or months is None:
                months = None
                break
            if how == "months":
                months |= c.months
            elif how == "later" and c.months:
                months |= {m for m in calendar if m >= min(c.months)}
        out[fact] = months
    return out


# ---------------------------------------------------------------- computing


def refresh(con: duckdb.DuckDBPyConnection, changes=None, *,
            previous_data_version: str | None = None) -> dict[str, Any]:
    """Bring the results table up to date inside the caller's transaction.

    ``changes`` (the intake's :class:`~data.intake.apply.SheetChange` list) refreshes only the
    results they reach, provided the table held the results of ``previous_data_version``
    (the data before this change) computed by this code; otherwise (or with ``changes=None``)
    every result is recomputed. Returns {"rows": rows written, "months": per period, "whole": bool}."""
    cat = load_catalogue()
    first, last = _one(con, named_sql("as_of.sql"))
    months = month_range(first, last) if first is not None else []
    whole = changes is None or not _valid(con, previous_data_version)
    if whole:
        con.execute(_render("results_table.sql"))
        plan: dict[str, set[date] | None] = dict.fromkeys(cat.facts)
    else:
        stored = {r[0] for r in con.execute(f"SELECT DISTINCT month FROM {TABLE}").fetchall()}
        missing = set(months) - stored  # months that join the range (a new last month, a gap)
        con.execute(f"DELETE FROM {TABLE} WHERE month < ? OR month > ?", [first, last])
        calendar = sorted(r[0] for r in con.execute("SELECT month FROM calendar").fetchall())
        plan = {fact: (None if ms is None else ms | missing)
                for fact, ms in changed_months(changes, calendar).items()}
    written, done = 0, dict[str, dict]()
    if months:
        written, done = _compute(con, cat, plan, months, first, last, whole)
    data_version = _one(con, "SELECT value FROM meta WHERE key = 'data_version'")
    con.execute("INSERT OR REPLACE INTO meta VALUES ('results_version', ?)", [results_version()])
    con.execute("INSERT OR REPLACE INTO meta VALUES ('results_data_version', ?)",
                [data_version[0] if data_version else ""])
    return {"rows": written, "months": done, "whole": whole}


def _one(con: duckdb.DuckDBPyConnection, sql: str):
    """The first row of a statement (the whole result is fetched: DuckDB keeps it open otherwise)."""
    rows = con.execute(sql).fetchall()
    return rows[0] if rows else None


def results_state(con: duckdb.DuckDBPyConnection) -> tuple[bool, str | None, str | None, str | None]:
    """(table present, code version and data version it was computed for, the file's data version)."""
    present, version, data_version, current = _one(con, named_sql("results_state.sql"))
    return bool(present), version, data_version, current


def _valid(con: duckdb.DuckDBPyConnection, previous_data_version: str | None) -> bool:
    present, version, data_version, _ = results_state(con)
    current = present and version == results_version()
    return current and previous_data_version is not None and data_version == previous_data_version


def _compute(con, cat, plan: dict[str, set[date] | None], months: list[date], first: date, last: date,
             whole: bool) -> tuple[int, dict[str, dict[str, list[date]]]]:
    """Compute the planned results (everything read through ``con``: the staged file inside its
    transaction, never the served one), write them and say which months of which facts."""
    # the engine reads this module's table: imported when used
    from metrics.engine.evaluate import evaluated_rows
    from metrics.engine.plan import periods_of, query_groups
    from metrics.engine.targets import target_table
    from metrics.materialize import aggregates_version

    province = Scope.province(_one(con, named_sql("root_region.sql"))[0])
    tree = named_sql("region_tree.sql")
    codes = [r[0] for r in con.execute(tree, db.bind(tree, province.params())).fetchall()]
    recorded = _one(con, named_sql("aggregates_version.sql"))
    fresh = recorded is not None and recorded[0] == aggregates_version()
    targets: dict[int, dict] = {}
    frames, done = [], dict[str, dict]()
    for period in PERIODS:
        kpis = [k for k in cat.kpis.values() if period in k.periods]
        done[period] = {}
        for fact, source, _, _, measures, group in query_groups(kpis, cat, province, {}, fresh=fresh):
            changed = plan[fact.name]
            todo = months if changed is None else affected_months(period, changed, months)
            if not todo:
                continue
            done[period][fact.name] = todo
            if not whole:
                con.execute(f"DELETE FROM {TABLE} WHERE period = ? AND list_contains(?, month)"
                            " AND list_contains(?, kpi_id)", [period, todo, [k.id for k in group]])
            by_month = _window_rows(con, fact, source, measures, group, cat, period, todo, codes, province, last)
            rows = []
            for m in todo:
                p = periods_of(m, period, last)
                year = p.cur.end.year
                if year not in targets:
                    sql = named_sql("targets.sql")
                    targets[year] = target_table(con.execute(sql, db.bind(sql, {"year": year})).df())
                for r in evaluated_rows(group, cat, codes, {k.id: by_month.get(m, {}) for k in group}, p,
                                        targets[year], first, last, fact_rows=True):
                    r["month"] = m
                    r["period"] = period
                    rows.append(r)
            frames.append(pd.DataFrame(rows))
    if not frames:
        return 0, done
    new = pd.concat(frames, ignore_index=True)
    con.register(NEW_TABLE, new)
    try:
        con.execute(_render("results_insert.sql", table=TABLE, new=NEW_TABLE))
    finally:
        con.unregister(NEW_TABLE)
    return len(new), done


def _window_rows(con, fact, source: str, measures, group: list[Kpi], cat, period: str, todo: list[date],
                 codes: list[str], province: Scope, last: date) -> dict[date, dict[str, dict]]:
    """Each month's window sums by region for one query group: {month: {region: row}}.

    Sums of integers and decimals are exact, so they equal the engine's to the last bit; a
    sum of a floating-point measure (质检得分) depends on the order it is added up in, which
    DuckDB does not fix: it differs in the last bits from one run of the engine to the next."""
    from metrics.engine.plan import periods_of, ratio_bases

    sql = windows_sql(fact, measures, {}, False, ratio_bases(cat, group), source=source)
    params = {"regions": codes, **province.params(), **window_lists([periods_of(m, period, last) for m in todo])}
    df = con.execute(sql, db.bind(sql, params)).df()
    # plain dicts per row (DataFrame.to_dict("index") per month costs more than the query)
    columns = [c for c in df.columns if c not in ("result_month", "region_code")]
    values = [df[c].tolist() for c in columns]
    out: dict[date, dict[str, dict]] = {}
    for i, (m, region) in enumerate(zip(df["result_month"].tolist(), df["region_code"].tolist(), strict=True)):
        out.setdefault(pd.Timestamp(m).date(), {})[region] = dict(zip(columns, (v[i] for v in values), strict=True))
    return out
