"""Fuzzing the intake: whatever the file, the clerk gets Chinese problems, never a traceback."""

from __future__ import annotations

import io
import os
from datetime import date, datetime

import pandas as pd
import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data.intake.errors import IntakeError, Problem
from data.intake.read import Limits, read_upload
from data.intake.spec import load_families
from data.intake.templates import write_export
from data.intake.validate import validate
from data.scope import Scope
from tests.data.intake.conftest import PROVINCE

LIMITS = Limits(max_bytes=2 * 2**20, max_rows=5000)
FUZZ = settings(max_examples=int(os.environ.get("INTAKE_FUZZ_EXAMPLES", 60)), deadline=None, database=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                       HealthCheck.too_slow])
NAMES = ["a.xlsx", "a.csv", "a.xls", "a.xlsm", "a.txt", "热线.csv"]


def outcome(data: bytes, filename: str, ctx) -> list[Problem]:
    """The problems a clerk would see; anything but IntakeError fails the test."""
    try:
        parsed = read_upload(data, filename, limits=LIMITS)
    except IntakeError as exc:
        assert exc.problems and all(isinstance(p, Problem) and p.message for p in exc.problems)
        return exc.problems
    report = validate(parsed, ctx)
    assert all(isinstance(p, Problem) for p in [*report.errors, *report.warnings])
    if report.ok:
        assert report.rows == sum(len(f) for chunks in report.frames.values() for f in chunks)
    return report.errors


class Files(dict):
    """Source files by name; a short repr keeps hypothesis' failure reports readable."""

    def __repr__(self) -> str:
        return f"Files({sorted(self)})"


@pytest.fixture(scope="module")
def exports(con):
    out = Files()
    for family in ("hotline", "services", "projects"):
        buf = io.BytesIO()
        write_export(family, con, month=date(2026, 9, 1), region="360100", scope=Scope.province(PROVINCE), out=buf)
        out[family] = buf.getvalue()
    hotline = read_upload(out["hotline"], "h.xlsx").sheets["hotline_monthly"]
    text = io.StringIO()
    hotline.to_csv(text, index=False, header=[c.header for c in load_families()["hotline"].sheets[0].columns])
    out["csv"] = text.getvalue().encode("gb18030")
    return out


@FUZZ
@given(data=st.binary(max_size=4096), name=st.sampled_from(NAMES))
def test_random_bytes_give_problems_not_tracebacks(ctx, data, name):
    outcome(data, name, ctx)


@FUZZ
@given(which=st.sampled_from(["hotline", "services", "projects", "csv"]), cut=st.floats(0, 1), truncate=st.booleans(),
       flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), max_size=8))
def test_truncated_or_mutated_workbooks_give_problems_not_tracebacks(ctx, exports, which, cut, truncate, flips):
    raw = bytearray(exports[which])
    if truncate:
        raw = raw[: int(len(raw) * cut)]
    for where, byte in flips:
        if raw:
            raw[int(len(raw) * where)] = byte
    outcome(bytes(raw), "a.csv" if which == "csv" else "a.xlsx", ctx)


CELLS = st.one_of(
    st.none(), st.text(max_size=12), st.integers(-10**12, 10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=64), st.booleans(),
    st.dates(min_value=date(1900, 3, 1), max_value=date(2200, 1, 1)),
    st.sampled_from(["—", "-", "/", "２０２６年１０月", "1,234", "是", "否", "360102 东湖区", "咨询", "=A1", "2026-10",
                     "440106", "360100", " ", "\u3000", "9" * 30]),
)


@FUZZ
@given(rows=st.lists(st.lists(CELLS, min_size=9, max_size=11), min_size=1, max_size=12),
       as_csv=st.booleans())
def test_random_cells_in_a_real_template_give_problems_not_tracebacks(ctx, rows, as_csv):
    headers = [c.header for c in load_families()["hotline"].sheets[0].columns]
    if as_csv:
        frame = pd.DataFrame([[("" if v is None else v) for v in r[:9]] for r in rows], columns=headers)
        data = frame.to_csv(index=False).encode("utf-8-sig")
        outcome(data, "热线.csv", ctx)
        return
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False})
    ws = wb.add_worksheet("热线月度统计")
    ws.write_row(0, 0, headers)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if isinstance(value, date) and not isinstance(value, datetime):
                ws.write_datetime(r, c, datetime.combine(value, datetime.min.time()))
            elif isinstance(value, str):
                ws.write_string(r, c, value)
            elif value is not None:
                ws.write(r, c, value)
    wb.close()
    outcome(buf.getvalue(), "a.xlsx", ctx)
