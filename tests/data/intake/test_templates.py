"""Templates follow the specs, and an export reads back as the database's own rows."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

import numpy as np
import openpyxl
import pandas as pd
import pytest

from data.intake.read import read_upload
from data.intake.spec import load_families
from data.intake.templates import CODES, GUIDE, column_guide, sheet_rules, write_export, write_template
from data.intake.validate import ValidationContext, validate
from data.scope import Scope
from tests.data.intake.conftest import PROVINCE, TODAY

FAMILIES = list(load_families())
NANCHANG = "360100"
MONTH = date(2026, 9, 1)


def workbook(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


@pytest.fixture(scope="module")
def templates(con):
    out = {}
    for family in FAMILIES:
        buf = io.BytesIO()
        write_template(family, buf, con)
        out[family] = buf.getvalue()
    return out


@pytest.mark.parametrize("family", FAMILIES)
def test_each_sheet_has_the_spec_headers_frozen_and_one_example_row(templates, family):
    wb = workbook(templates[family])
    spec = load_families()[family]
    assert wb.sheetnames[0] == GUIDE
    for sheet in spec.sheets:
        ws = wb[sheet.title]
        assert [c.value for c in ws[1]] == [c.header for c in sheet.columns]
        assert ws.freeze_panes == "A2" and ws.max_row == 2
        assert all(c.font.bold for c in ws[1])


@pytest.mark.parametrize("family", FAMILIES)
def test_the_guide_describes_every_column_and_every_sheet_rule(templates, con, family):
    ws = workbook(templates[family])[GUIDE]
    cells = [[c.value or "" for c in row] for row in ws.iter_rows()]
    texts = {v for row in cells for v in row}
    spec = load_families()[family]
    from data.intake.codes import CodeLists

    lists = CodeLists.load(con)
    for sheet in spec.sheets:
        for rule in sheet_rules(sheet):
            assert f"· {rule}" in texts
        for col in sheet.columns:
            assert column_guide(sheet, col, lists) in cells, f"{sheet.title}「{col.header}」"
    assert any("「视为 0」的列按 0 入库" in t for t in texts)


def test_the_guide_says_which_blanks_are_zero_and_which_are_missing():
    services = load_families()["services"].sheet("service_monthly")
    assert column_guide(services, services.column("applications"))[7] == "视为 0"
    assert column_guide(services, services.column("is_online_capable"))[7] == "视为缺失（必填列不允许）"
    project = load_families()["projects"].sheet("project")
    assert column_guide(project, project.column("planned_start"))[7] == "视为缺失"
    assert column_guide(project, project.column("terminated"))[7] == "视为 否"


def test_code_columns_have_dropdowns_from_the_hidden_code_sheet(templates):
    wb = workbook(templates["services"])
    assert wb[CODES].sheet_state == "hidden"
    position = [c.value for c in wb[CODES][1]].index("区县（下拉选项）") + 1
    counties = [v for (v,) in wb[CODES].iter_rows(min_row=2, min_col=position, max_col=position, values_only=True) if v]
    assert "360102 东湖区" in counties and len(counties) == 100
    letter = openpyxl.utils.get_column_letter(position)
    monthly = wb["月度统计"]
    sources = {str(dv.sqref).split(":")[0]: dv.formula1 for dv in monthly.data_validations.dataValidation}
    assert sources["B2"] == f"'代码表'!${letter}$2:${letter}$101"  # 区县代码
    assert sources["G2"] == '"是,否"'  # 网上可办
    hotline = workbook(templates["hotline"])["热线月度统计"]
    listed = {str(dv.sqref).split(":")[0]: dv.formula1 for dv in hotline.data_validations.dataValidation}
    assert listed["D2"] == '"咨询,求助,投诉,举报,建议"'


@pytest.mark.parametrize("family", FAMILIES)
def test_a_template_read_back_has_only_its_example_row_which_is_ignored(templates, family):
    parsed = read_upload(templates[family], f"{family}.xlsx")
    assert parsed.family == family
    assert all(frame.empty for frame in parsed.sheets.values())


# ---------------------------------------------------------------- round trip


EXPECTED = {  # what an export of 2026-09 for 南昌市 holds, as SQL over the database
    "service_item": "SELECT * FROM service_item",
    "service_monthly": "SELECT * FROM service_monthly WHERE month = DATE '2026-09-01' AND county_code LIKE '3601%'",
    "hotline_monthly": "SELECT * FROM hotline_monthly WHERE month = DATE '2026-09-01' AND county_code LIKE '3601%'",
    "data_resource_monthly": "SELECT * FROM data_resource_monthly WHERE month = DATE '2026-09-01'"
                             " AND county_code LIKE '3601%'",
    "budget": "SELECT * FROM budget WHERE year = 2026 AND county_code LIKE '3601%'",
    "payment": "SELECT * FROM payment WHERE month = DATE '2026-09-01' AND county_code LIKE '3601%'",
    "project": "SELECT * FROM project",
    "project_event": "SELECT * FROM project_event",
    "task": "SELECT task_id, status, progress, progress_note, evidence_url FROM task",
}


def _plain(value: object) -> object:
    """A cell as comparable across pandas, numpy and DuckDB types."""
    if value is None or value is pd.NaT or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, (pd.Timestamp, datetime, date)):
        return pd.Timestamp(value).date().isoformat()
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating, Decimal)):
        return round(float(value), 2)
    return str(value)


def _same_rows(got: pd.DataFrame, want: pd.DataFrame, keys: list[str]) -> None:
    cols = list(got.columns)
    rows = lambda df: sorted(tuple(_plain(v) for v in r) for r in df[cols].itertuples(index=False))  # noqa: E731
    assert rows(got) == rows(want)


@pytest.mark.parametrize("family", FAMILIES)
def test_an_export_reads_back_as_the_databases_rows(con, family, tmp_path):
    spec = load_families()[family]
    suffix = "csv" if len(spec.sheets) == 1 else "xlsx"
    out = tmp_path / f"{family}.{suffix}"
    write_export(family, con, month=MONTH, region=NANCHANG, scope=Scope.province(PROVINCE), out=out)
    parsed = read_upload(out.read_bytes(), out.name)
    region = None if family in ("projects", "tasks") else NANCHANG  # registers export the whole scope
    report = validate(parsed, ValidationContext(con, Scope.province(PROVINCE), region, TODAY))
    assert report.ok, [str(p) for p in report.errors[:5]]
    for sheet in spec.sheets:
        want = con.execute(EXPECTED[sheet.key]).df()
        assert len(want) > 0
        _same_rows(report.frame(sheet.key), want, list(sheet.keys))


def test_a_multi_sheet_family_cannot_be_exported_as_csv(con, tmp_path):
    with pytest.raises(ValueError, match=r"只能导出为 \.xlsx"):
        write_export("services", con, month=MONTH, region=NANCHANG, scope=Scope.province(PROVINCE),
                     out=tmp_path / "a.csv")


def test_an_export_is_limited_to_the_scope(con):
    buf = io.BytesIO()
    write_export("projects", con, month=MONTH, region=NANCHANG, scope=Scope((NANCHANG,), departments=("D21",)),
                 out=buf)
    frame = read_upload(buf.getvalue(), "p.xlsx").sheets["project"]
    assert len(frame) > 0
    assert set(frame["dept_code"]) == {"D21"} and frame["county_code"].str.startswith("3601").all()
