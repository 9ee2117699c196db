"""The family specs agree with the DuckDB schema, so spec and schema cannot drift."""

from __future__ import annotations

import re
import tomllib

import duckdb
import pandas as pd
import pytest

from data import db
from data.intake import normalise
from data.intake.codes import SQL_DIR, run
from data.intake.spec import SPEC_DIR, family_of_sheet, load_families

SHEETS = [s for f in load_families().values() for s in f.sheets]
# which DuckDB types each spec type may be stored as
STORED_AS = {
    "month": {"DATE"}, "date": {"DATE"}, "year": {"INTEGER"}, "int": {"INTEGER", "TINYINT"},
    "decimal": {"DECIMAL(14,2)"}, "float": {"DOUBLE"}, "bool": {"BOOLEAN", "TINYINT"},
    "text": {"VARCHAR"}, "code": {"VARCHAR"},
}


@pytest.fixture(scope="module")
def schema():
    con = duckdb.connect()
    db.migrate(con)
    cols = con.execute(
        "SELECT table_name, column_name, data_type, is_nullable, column_default"
        " FROM information_schema.columns WHERE table_schema = 'main'").df()
    constraints = con.execute(
        "SELECT table_name, constraint_type, constraint_column_names, expression FROM duckdb_constraints()").df()
    con.close()
    return cols, constraints


def test_every_family_of_the_freshness_schedule_has_a_spec():
    with (SPEC_DIR.parent / "schedule.toml").open("rb") as f:
        schedule = tomllib.load(f)
    assert set(load_families()) == set(schedule["family"])


@pytest.mark.parametrize("sheet", SHEETS, ids=lambda s: s.key)
def test_stored_columns_exist_in_the_table_with_a_compatible_type(schema, sheet):
    cols, _ = schema
    table = cols[cols["table_name"] == sheet.key].set_index("column_name")
    assert len(table), f"表 {sheet.key} 不存在"
    for col in sheet.stored:
        assert col.name in table.index, f"{sheet.key}.{col.name} 不在表中"
        assert table.at[col.name, "data_type"] in STORED_AS[col.type], f"{sheet.key}.{col.name}"


@pytest.mark.parametrize("sheet", SHEETS, ids=lambda s: s.key)
def test_every_not_null_column_is_covered_and_required(schema, sheet):
    cols, _ = schema
    table = cols[cols["table_name"] == sheet.key]
    not_null = table[(table["is_nullable"] == "NO") & table["column_default"].isna()]["column_name"]
    stored = {c.name: c for c in sheet.stored}
    if sheet.mode == "update":  # only some columns of existing rows change
        assert set(stored) <= set(table["column_name"])
        assert all(stored[c].required for c in not_null if c in stored)
        return
    assert set(not_null) <= set(stored), f"{sheet.key} 未覆盖 {set(not_null) - set(stored)}"
    for name in not_null:
        assert stored[name].required or stored[name].blank == "zero", f"{sheet.key}.{name} 应为必填"
    nullable = set(table.loc[table["is_nullable"] == "YES", "column_name"])
    assert not any(stored[c].required for c in nullable if c in stored), "可空列不应必填"


@pytest.mark.parametrize("sheet", SHEETS, ids=lambda s: s.key)
def test_the_key_is_the_tables_primary_key_where_it_has_one(schema, sheet):
    _, constraints = schema
    pk = constraints[(constraints["table_name"] == sheet.key) & (constraints["constraint_type"] == "PRIMARY KEY")]
    if sheet.key == "service_monthly":  # no index on purpose; the importer enforces the key
        assert pk.empty and sheet.keys == ("month", "county_code", "item_code")
    else:
        assert list(pk["constraint_column_names"].iloc[0]) == list(sheet.keys)


@pytest.mark.parametrize("sheet", SHEETS, ids=lambda s: s.key)
def test_every_le_check_of_the_table_is_a_rule_of_the_sheet(schema, sheet):
    _, constraints = schema
    checks = constraints[(constraints["table_name"] == sheet.key) & (constraints["constraint_type"] == "CHECK")]
    pairs = set()
    for expr in checks["expression"]:
        m = re.fullmatch(r"\(?\s*\(?(\w+) <= (\w+)\)?\s*\)?", expr)
        if m:
            pairs.add(m.groups())
    assert pairs <= {(a, b) for a, b, k in sheet.le if k == 1}


@pytest.mark.parametrize("sheet", SHEETS, ids=lambda s: s.key)
def test_allowed_values_match_the_tables_in_checks(schema, sheet):
    _, constraints = schema
    checks = constraints[(constraints["table_name"] == sheet.key) & (constraints["constraint_type"] == "CHECK")]
    for expr in checks["expression"]:
        m = re.search(r"\(?(\w+) IN \((.*)\)\)?", expr)
        if m and m.group(1) in {c.name for c in sheet.stored}:
            values = re.findall(r"'([^']*)'", m.group(2))
            assert set(sheet.column(m.group(1)).allowed) == set(values), expr


@pytest.mark.parametrize("sheet", SHEETS, ids=lambda s: s.key)
def test_every_column_says_what_it_means_and_has_an_example_that_parses(sheet):
    for col in sheet.columns:
        assert col.header and col.caliber, f"{sheet.key}.{col.name} 缺少表头或口径"
        assert "。" not in col.caliber.rstrip("。"), f"{sheet.key}.{col.name} 的口径应为一句话"
        raw = pd.Series([col.example], dtype=object)
        parsed = normalise.parse(raw, col, {"申报": "applied"})
        assert not parsed.bad.any(), f"{sheet.key}.{col.name} 的示例 {col.example!r} 无法识别"
        if col.required and col.stored:
            assert not parsed.blank.any(), f"{sheet.key}.{col.name} 是必填列，示例不能为空"


def test_family_of_sheet_finds_the_family_writing_a_table():
    assert family_of_sheet("service_monthly").name == "services"
    assert family_of_sheet("task").name == "tasks"
    with pytest.raises(KeyError):
        family_of_sheet("region")


def test_each_sheet_has_its_export_sql_and_each_plausibility_sheet_its_history(demo_db):
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        latest = set(run(con, "latest_months")["sheet"])
        for sheet in SHEETS:
            assert (SQL_DIR / f"export_{sheet.key}.sql").exists()
            if sheet.month_column:
                assert sheet.key in latest
            if sheet.plausibility:
                history = run(con, f"history_{sheet.key}", {"start": pd.Timestamp("2026-01-01").date(),
                                                            "end": pd.Timestamp("2026-03-01").date(),
                                                            "counties": ["360102"]})
                assert set(sheet.plausibility) <= set(history.columns)
                assert len(history) == 2
    finally:
        con.close()


@pytest.mark.parametrize("sheet", SHEETS, ids=lambda s: s.key)
def test_range_checks_of_the_table_are_ranges_of_the_column(schema, sheet):
    _, constraints = schema
    checks = constraints[(constraints["table_name"] == sheet.key) & (constraints["constraint_type"] == "CHECK")]
    for expr in checks["expression"]:
        if m := re.fullmatch(r"\((\w+) >= (\d+)\)", expr):
            assert sheet.column(m.group(1)).min == int(m.group(2)), expr
        if m := re.fullmatch(r"\((\w+) BETWEEN (\d+) AND (\d+)\)", expr):
            col = sheet.column(m.group(1))
            assert (col.min, col.max) == (int(m.group(2)), int(m.group(3))), expr
