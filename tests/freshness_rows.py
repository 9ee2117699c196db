"""Test helper: a copy of a built database with chosen ``fact_freshness`` rows (the publisher
writes them in production; tests choose them so the late rule is checked by hand)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from data import db


def write_freshness(path: Path, rows: list[tuple], *, data_version: str) -> Path:
    """Replace the freshness rows of ``path`` with ``rows`` = (family, as_of_month, updated_at)
    and give the file a new data version (caches key on it)."""
    db.reset_reader()
    con = duckdb.connect(str(path))
    try:
        con.execute("DELETE FROM fact_freshness")
        if rows:
            con.executemany("INSERT INTO fact_freshness VALUES (?, ?, ?, 1)", rows)
        con.execute("INSERT OR REPLACE INTO meta VALUES ('data_version', ?)", [data_version])
    finally:
        con.close()
    return path


def copy_with_freshness(src: Path, dst: Path, rows: list[tuple], *, data_version: str) -> Path:
    """A copy of ``src`` at ``dst`` with these freshness rows."""
    shutil.copyfile(src, dst)
    return write_freshness(dst, rows, data_version=data_version)
