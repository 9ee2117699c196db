"""The access-scope predicate is written once (``data/scope.sql``) and included in the ``.sql``
files as ``{{scope(region_column[, dept_column])}}``, expanded when a file is read."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from data.db import bind, expand_includes, read_sql, render_sql

REPO = Path(__file__).resolve().parents[2]
SQL_FILES = sorted([*(REPO / "metrics" / "sql").glob("*.sql"), *(REPO / "data" / "intake" / "sql").glob("*.sql")])


def test_a_region_and_department_include_expands_to_the_bound_predicate():
    sql = expand_includes("SELECT 1 FROM project AS p WHERE {{scope(p.county_code, p.dept_code)}}")
    assert "{{" not in sql
    assert "scope_rc.descendant_code = p.county_code" in sql
    assert "list_contains($scope_depts, p.dept_code)" in sql
    assert set(bind(sql, {"scope_regions": ["360000"], "scope_all_depts": True, "scope_depts": []})) == {
        "scope_regions", "scope_all_depts", "scope_depts"}


def test_a_region_only_include_leaves_the_departments_out():
    sql = expand_includes("WHERE {{ scope(r.code) }} AND r.level = $level")
    assert "scope_rc.descendant_code = r.code" in sql and "$scope_depts" not in sql
    assert "$scope_all_depts" not in sql and sql.endswith("AND r.level = $level")


@pytest.mark.parametrize("bad", ["{{scope()}}", "{{scope(a, b, c)}}", "{{scope(p.county_code; DROP TABLE x)}}",
                                 "{{scope('360000')}}", "{{scope(a.b.c)}}", "{{scope p.county_code}}",
                                 "{{scope(p.county_code)}", "{{scope(p.county_code"])
def test_a_malformed_include_raises(bad):
    with pytest.raises(ValueError, match="scope 占位符无效"):
        expand_includes(f"SELECT 1 WHERE {bad}")


def test_other_slots_are_left_to_render_sql(tmp_path):
    f = tmp_path / "t.sql"
    f.write_text("SELECT * FROM {{view}} AS f WHERE {{scope(f.county_code)}}", encoding="utf-8")
    assert "{{view}}" in read_sql(f)
    assert render_sql(f, view="v_x").startswith("SELECT * FROM v_x AS f WHERE (EXISTS")


def test_the_predicate_filters_rows_by_region_and_department():
    con = duckdb.connect()
    con.execute("CREATE TABLE region_closure (ancestor_code VARCHAR, descendant_code VARCHAR)")
    con.execute("INSERT INTO region_closure VALUES ('360000','360000'), ('360000','360100'), "
                "('360000','360102'), ('360100','360100'), ('360100','360102'), ('360200','360200'), "
                "('360000','360200')")
    con.execute("CREATE TABLE p (county_code VARCHAR, dept_code VARCHAR)")
    con.execute("INSERT INTO p VALUES ('360102','a'), ('360102','b'), ('360200','a')")
    sql = expand_includes("SELECT * FROM p WHERE {{scope(p.county_code, p.dept_code)}} ORDER BY 1, 2")

    def rows(regions, depts):
        params = {"scope_regions": regions, "scope_all_depts": depts is None, "scope_depts": list(depts or [])}
        return con.execute(sql, bind(sql, params)).fetchall()

    assert rows(["360000"], None) == [("360102", "a"), ("360102", "b"), ("360200", "a")]
    assert rows(["360100"], None) == [("360102", "a"), ("360102", "b")]
    assert rows(["360100"], ["b"]) == [("360102", "b")]
    assert rows(["360200"], ["b"]) == []


def test_the_scope_predicate_is_written_once():
    # kpi_windows.sql and results_windows.sql keep their own copy for now (another change owns them)
    written_out = sorted(f.name for f in SQL_FILES if "list_contains($scope_regions" in f.read_text())
    assert set(written_out) <= {"kpi_windows.sql", "results_windows.sql"}
    including = [f for f in SQL_FILES if "{{scope(" in f.read_text()]
    assert len(including) >= 31
    for f in including:
        assert "$scope_regions" in read_sql(f) and "{{scope" not in read_sql(f)
