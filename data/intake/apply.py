"""Apply one validated sheet to a staged database, inside the caller's transaction.

The statements are rendered from the intake spec (table and column names only, never
values) from the templates in ``data/intake/sql``; the rows themselves come in through a
registered DataFrame. Each sheet's mode decides what the file means:

- ``partition``: the file is the whole truth for the partitions it contains (e.g. every
  row of 2026-10 × 东湖区): rows of those partitions missing from the file are removed;
- ``upsert``: registers (items, projects, milestone events): new keys are added, existing
  ones overwritten, nothing removed;
- ``update``: only the reported columns of existing rows change (督办 progress).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd

from data.db import read_sql, render_sql, scalar

SQL_DIR = Path(__file__).resolve().parent / "sql"

# what each aggregated catalogue fact is built from, and how a change of that table
# reaches it: "months" refreshes the months changed, "later" those months and every
# later one (a running total), "all" rebuilds the fact
AGGREGATE_SOURCES = {
    "service": {"service_monthly": "months", "service_item": "all"},
    "project": {"project": "all", "project_event": "all", "payment": "later", "calendar": "months"},
}


# register tables that place a row of another sheet in a county (an event → its project)
REGISTERS = {"project_id": "project"}


@dataclass
class SheetChange:
    table: str
    diff: list[dict] = field(default_factory=list)
    months: set[date] = field(default_factory=set)       # months of the rows written
    new_months: set[date] = field(default_factory=set)   # months the calendar gained
    rows: int = 0                                         # rows in the file


def _render(name: str, **slots: str) -> str:
    return render_sql(SQL_DIR / name, **slots)


def _column_types(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    rows = con.execute("SELECT column_name, data_type FROM information_schema.columns"
                       " WHERE table_name = ? AND table_schema = 'main' ORDER BY ordinal_position", [table]).fetchall()
    return dict(rows)


def _stage_incoming(con: duckdb.DuckDBPyConnection, table: str, cols: list[str], value) -> str:
    """The sheet's rows in a temporary table typed like ``table``."""
    types = _column_types(con, table)
    incoming = f"_in_{table}"
    casts = ", ".join(f'CAST("{c}" AS {types[c]}) AS "{c}"' for c in cols)
    chunks = [value] if isinstance(value, pd.DataFrame) else value
    con.execute(f"CREATE OR REPLACE TEMP TABLE {incoming} (" + ", ".join(f'"{c}" {types[c]}' for c in cols) + ")")
    for chunk in chunks:
        con.register("_chunk", chunk[cols])
        try:
            con.execute(f"INSERT INTO {incoming} SELECT {casts} FROM _chunk")
        finally:
            con.unregister("_chunk")
    return incoming


def _match(left: str, right: str, cols) -> str:
    return " AND ".join(f'{left}."{c}" = {right}."{c}"' for c in cols)


def _diff(con, sheet, table: str, incoming: str, cols: list[str]) -> list[dict]:
    keys = list(sheet.keys)
    scope_cols = list(sheet.partition) if sheet.mode == "partition" else keys
    other = [c for c in cols if c not in keys]
    differs = " OR ".join(f'o."{c}" IS DISTINCT FROM n."{c}"' for c in other) or "false"
    coalesced = lambda c: f'coalesce(n."{c}", o."{c}")' if c in cols else "NULL"  # noqa: E731
    region = coalesced(sheet.region_column)
    if sheet.region_column not in cols and sheet.region_via in REGISTERS:  # e.g. an event's project
        reg = REGISTERS[sheet.region_via]
        region = (f'(SELECT r."{sheet.region_column}" FROM {reg} AS r'
                  f' WHERE r."{sheet.region_via}" = {coalesced(sheet.region_via)})')
    sql = _render(
        "diff.sql", table=table, incoming=incoming, cols=", ".join(f'"{c}"' for c in cols),
        scope_match=_match("i", "t", scope_cols), period=coalesced(sheet.month_column),
        region=region, key1=f'"{keys[0]}"', differs=differs,
        key_match=_match("o", "n", keys))
    out = []
    for period, county, added, changed, removed in con.execute(sql).fetchall():
        if isinstance(period, (date, datetime)):
            period = period.strftime("%Y-%m")
        out.append({"table": table, "period": None if period is None else str(period), "county_code": county,
                    "added": int(added), "changed": int(changed), "removed": int(removed)})
    return out


def _write(con, sheet, table: str, incoming: str, cols: list[str]) -> None:
    keys = list(sheet.keys)
    other = [c for c in cols if c not in keys]
    if sheet.mode == "partition":
        sql = _render("write_partition.sql", table=table, incoming=incoming,
                      partition=", ".join(f'"{c}"' for c in sheet.partition),
                      partition_match=_match("t", "p", sheet.partition))
    elif sheet.mode == "upsert":
        sql = _render("write_upsert.sql", table=table, incoming=incoming, cols=", ".join(f'"{c}"' for c in cols),
                      keys=", ".join(f'"{c}"' for c in keys),
                      assignments=", ".join(f'"{c}" = excluded."{c}"' for c in other))
    elif sheet.mode == "update":
        sql = _render("write_update.sql", table=table, incoming=incoming, key_match=_match("t", "i", keys),
                      assignments=", ".join(f'"{c}" = i."{c}"' for c in other))
    else:
        raise ValueError(f"未知的写入方式：{sheet.mode}")
    con.execute(sql)


def apply_sheet(con: duckdb.DuckDBPyConnection, sheet, value) -> list[SheetChange]:
    """Diff and write one sheet's validated rows; return what changed."""
    table = sheet.key
    cols = [c.name for c in sheet.columns if c.stored]
    incoming = _stage_incoming(con, table, cols, value)
    change = SheetChange(table=table, diff=_diff(con, sheet, table, incoming, cols),
                         rows=int(scalar(con, f"SELECT count(*) FROM {incoming}")))
    if change.diff:
        _write(con, sheet, table, incoming, cols)
    if sheet.month_column == "month":
        change.months = {r[0] for r in con.execute(f"SELECT DISTINCT month FROM {incoming}").fetchall()}
        before = {r[0] for r in con.execute("SELECT month FROM calendar").fetchall()}
        con.execute(_render("calendar_extend.sql", incoming=incoming))
        change.new_months = change.months - before
    con.execute(f"DROP TABLE {incoming}")
    return [change]


def touched_months(con: duckdb.DuckDBPyConnection, changes: list[SheetChange]) -> tuple[set[date], dict]:
    """The months the invariants re-check, and per aggregated fact the months to refresh
    (absent: rebuild the fact whole)."""
    changed = [c for c in changes if c.diff or c.new_months]
    touched = {m for c in changed for m in c.months}
    calendar = sorted(r[0] for r in con.execute("SELECT month FROM calendar").fetchall())
    plan: dict[str, list] = {}
    for fact, sources in AGGREGATE_SOURCES.items():
        months: set[date] = set()
        whole = False
        for c in changed:
            how = sources.get(c.table)
            if how == "all" and c.diff:
                whole = True
            elif how == "months":
                months |= c.months if c.diff else set()
            elif how == "later" and c.diff and c.months:
                months |= {m for m in calendar if m >= min(c.months)}
            if sources.get("calendar") == "months":
                months |= c.new_months
        if not whole:
            plan[fact] = sorted(months)
    return touched, plan


# ---------------------------------------------------------------- freshness


def record_freshness(con: duckdb.DuckDBPyConnection, family: str, *, updated_at: datetime, version: int) -> None:
    """Stamp a family as published now, as of the latest month it holds."""
    from metrics.freshness import load_schedule

    table, column = load_schedule().families[family].as_of.split(".")
    as_of = scalar(con, f'SELECT max("{column}") FROM {table}')
    con.execute(read_sql(SQL_DIR / "freshness_upsert.sql"),
                {"family": family, "as_of_month": as_of, "updated_at": updated_at, "version": version})
