"""Load DataFrames into DuckDB tables in one transaction.

Columns are matched by name and cast to the table's declared types in SQL, so a frame
may carry pandas categoricals, floats for DECIMAL money or datetime64 for DATE.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypeAlias

import duckdb
import pandas as pd

Frames: TypeAlias = pd.DataFrame | Iterable[pd.DataFrame]


def _insert_sql(con: duckdb.DuckDBPyConnection, table: str, view: str, given: Iterable[str]) -> str:
    """INSERT of the frame's columns (a column it lacks keeps the table's default)."""
    cols = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    if not cols:
        raise ValueError(f"表不存在：{table}")
    cols = [(c, t) for c, t in cols if c in set(given)]
    names = ", ".join(f'"{c}"' for c, _ in cols)
    casts = ", ".join(f'CAST("{c}" AS {t})' for c, t in cols)
    return f"INSERT INTO {table} ({names}) SELECT {casts} FROM {view}"


def load_tables(con: duckdb.DuckDBPyConnection, tables: Mapping[str, Frames]) -> dict[str, int]:
    """Insert every frame (or stream of frames) into its table; all or nothing.

    Returns the number of rows loaded per table.
    """
    counts: dict[str, int] = {}
    con.execute("BEGIN TRANSACTION")
    try:
        for table, frames in tables.items():
            chunks = [frames] if isinstance(frames, pd.DataFrame) else frames
            total = 0
            for df in chunks:
                view = f"_load_{table}"
                con.register(view, df)
                try:
                    con.execute(_insert_sql(con, table, view, df.columns))
                finally:
                    con.unregister(view)
                total += len(df)
            counts[table] = total
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return counts
