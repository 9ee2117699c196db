"""Test helper: a small demo database with its version store and operational store, and
copies of it (a test that publishes works on its own copy, so tests stay independent)."""

from __future__ import annotations

import base64
import io
import shutil
from datetime import date
from pathlib import Path

import openpyxl

from data import opstore

# fourteen months to 2026-10 and twenty catalogue items: small, but every family is there
SMALL = {"months": 14, "end_month": "2026-10", "_item_limit": 20}


def build_small_demo(directory: Path) -> Path:
    """Build the small demo in ``directory``; return its pointer."""
    from data.demo import build_demo

    pointer = directory / "cockpit.duckdb"
    build_demo(pointer, **SMALL)
    opstore.dispose()  # checkpoint the operational store before it is copied
    return pointer


def copy_store(pointer: Path, directory: Path) -> Path:
    """Copy a database pointer, its versions and its operational store into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    for item in pointer.parent.iterdir():
        if item.name.startswith(pointer.stem):
            target = directory / item.name
            if item.is_symlink():
                target.symlink_to(item.readlink())  # relative: cockpit.versions/vNNNNNN.duckdb
            elif item.is_dir():
                shutil.copytree(item, target, symlinks=True)
            else:
                shutil.copy2(item, target)
    return directory / pointer.name


def export_book(family: str, *, month: str = "2026-10", region: str = "360000") -> openpyxl.Workbook:
    """A published month of ``family`` in the template's layout (as a clerk downloads it)."""
    from data.intake.service import current_version
    from data.intake.templates import write_export
    from data.scope import Scope

    out = io.BytesIO()
    with current_version() as con:
        write_export(family, con, month=date.fromisoformat(f"{month}-01"), region=region,
                     scope=Scope.province("360000"), out=out)
    return openpyxl.load_workbook(io.BytesIO(out.getvalue()))


def book_bytes(book: openpyxl.Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload_contents(raw: bytes) -> str:
    """What dcc.Upload hands its callback: a data URL."""
    return "data:application/vnd.openxmlformats-officedocument.spreadsheetml.sheet;base64," + \
        base64.b64encode(raw).decode("ascii")


def header_index(sheet) -> dict[str, int]:
    """Column number (1-based) of each header in the first row of an exported sheet."""
    return {cell.value: cell.column for cell in sheet[1] if cell.value}


def hotline_edit(changes: dict[int, dict[str, object]]) -> bytes:
    """The exported 2026-10 hotline month with some cells changed by hand: row → {header: value}
    (a value, or a function of the cell's value)."""
    book = export_book("hotline")
    ws = book["热线月度统计"]
    cols = header_index(ws)
    for row, cells in changes.items():
        for header, value in cells.items():
            ws.cell(row, cols[header]).value = value(ws.cell(row, cols[header]).value) if callable(value) else value
    return book_bytes(book)
