"""Fixtures for intake tests: the small demo database, a context, and file builders."""

from __future__ import annotations

import csv
import io
from datetime import date

import duckdb
import openpyxl
import pytest

from data.intake.validate import ValidationContext
from data.scope import Scope

TODAY = date(2026, 11, 15)  # the demo ends in 2026-10: October is the latest complete month
PROVINCE = "360000"


@pytest.fixture(scope="session")
def con(demo_db):
    """A read-only connection to the small demo database (2023-11 … 2026-10, 45 items)."""
    connection = duckdb.connect(str(demo_db), read_only=True)
    yield connection
    connection.close()


@pytest.fixture
def ctx(con):
    return ValidationContext(con=con, scope=Scope.province(PROVINCE), today=TODAY)


def xlsx_bytes(sheets: dict[str, list[list]], *, merge: dict[str, str] | None = None) -> bytes:
    """A workbook written by openpyxl: title → rows (row 1 first). A string starting with
    「=」 is a formula without a cached value (openpyxl computes nothing); ``merge`` maps a
    title to a range to merge."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
        if merge and title in merge:
            ws.merge_cells(merge[title])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_bytes(rows: list[list], encoding: str = "utf-8", newline: str = "\n") -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator=newline).writerows(rows)
    return buf.getvalue().encode(encoding)
