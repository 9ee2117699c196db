"""Freshness: the late rule at its boundaries, the wording, missing rows and old databases,
the clock, and the family behind every KPI of the catalogue."""

from __future__ import annotations

import json
from datetime import date, datetime

import duckdb
import pytest

from data import db
from metrics import freshness as fr
from metrics.catalogue import load_catalogue
from tests.freshness_rows import copy_with_freshness, write_freshness

ROWS = [
    ("services", date(2026, 10, 1), datetime(2026, 11, 5, 9, 30)),
    ("hotline", date(2026, 10, 1), datetime(2026, 11, 5, 9, 30)),
    ("spending", date(2026, 9, 1), datetime(2026, 10, 8, 16, 0)),
]


@pytest.fixture
def fresh_db(fixture_db_path, tmp_path, monkeypatch):
    """A copy of the fixture database with three families recorded (projects etc. have no row)."""
    path = copy_with_freshness(fixture_db_path, tmp_path / "fresh.duckdb", ROWS, data_version="fresh-1")
    monkeypatch.setenv("COCKPIT_DB", str(path))
    db.reset_reader()
    yield path
    db.reset_reader()


@pytest.mark.parametrize(("as_of", "due_day", "due"), [
    (date(2026, 10, 1), 5, date(2026, 12, 5)),
    (date(2026, 11, 1), 5, date(2027, 1, 5)),     # the due month wraps into the next year
    (date(2026, 12, 1), 10, date(2027, 2, 10)),
    (date(2026, 12, 1), 31, date(2027, 2, 28)),   # a due day past the month's end: its last day
    (date(2027, 12, 1), 31, date(2028, 2, 29)),
])
def test_the_next_month_is_due_on_the_due_day_of_the_month_after_it(as_of, due_day, due):
    assert fr.due_date(as_of, due_day) == due


@pytest.mark.parametrize(("today", "late"), [
    (date(2026, 11, 5), False), (date(2026, 12, 4), False), (date(2026, 12, 5), False),  # on the due day: on time
    (date(2026, 12, 6), True), (date(2027, 3, 1), True),
])
def test_a_family_is_late_only_after_the_due_day(fresh_db, today, late):
    f = fr.family_freshness(today)["services"]
    assert (f.due, f.late) == (date(2026, 12, 5), late)
    assert f.late_text == ("数据未按期更新" if late else "")


def test_the_text_names_the_month_held_and_the_day_it_was_published(fresh_db):
    every = fr.family_freshness(date(2026, 11, 20))
    s = every["services"]
    assert s == fr.Freshness("services", "政务服务", date(2026, 10, 1), datetime(2026, 11, 5, 9, 30),
                             date(2026, 12, 5), False, "数据截至 2026-10 · 更新于 11-05", "")
    sp = every["spending"]  # 2026-10 was due by 11-10: late on 11-20
    assert (sp.text, sp.due, sp.late, sp.late_text) == ("数据截至 2026-09 · 更新于 10-08", date(2026, 11, 10), True,
                                                       "数据未按期更新")


def test_an_update_from_another_year_shows_its_year(fresh_db):
    assert fr.family_freshness(date(2027, 1, 3))["services"].text == "数据截至 2026-10 · 更新于 2026-11-05"


def test_families_without_a_row_are_absent_and_show_nothing(fresh_db):
    every = fr.family_freshness(date(2026, 11, 20))
    assert set(every) == {"services", "hotline", "spending"}
    assert fr.kpi_freshness("overdue_projects", date(2026, 11, 20)) is None
    assert fr.kpi_freshness("catalog_count", date(2026, 11, 20)) is None


def test_an_empty_table_gives_nothing(fixture_env):
    assert fr.family_freshness(date(2026, 11, 20)) == {}
    assert fr.kpi_freshness("online_available_rate") is None


def test_a_database_from_before_migration_004_gives_nothing(fixture_db_path, tmp_path, monkeypatch):
    path = copy_with_freshness(fixture_db_path, tmp_path / "old.duckdb", [], data_version="old-1")
    with duckdb.connect(str(path)) as con:
        con.execute("DROP TABLE fact_freshness")
    monkeypatch.setenv("COCKPIT_DB", str(path))
    db.reset_reader()
    try:
        assert fr.family_freshness(date(2026, 11, 20)) == {}
        assert fr.kpi_freshness("online_available_rate", date(2026, 11, 20)) is None
    finally:
        db.reset_reader()


def test_a_family_published_empty_says_so_and_falls_due_after_its_publication(fixture_db_path, tmp_path,
                                                                                monkeypatch):
    path = copy_with_freshness(fixture_db_path, tmp_path / "empty.duckdb",
                               [("tasks", None, datetime(2026, 11, 3, 8, 0))], data_version="empty-1")
    monkeypatch.setenv("COCKPIT_DB", str(path))
    db.reset_reader()
    try:
        f = fr.family_freshness(date(2026, 12, 5))["tasks"]
        assert (f.as_of_month, f.text, f.due, f.late) == (None, "暂无数据 · 更新于 11-03", date(2026, 12, 5), False)
        assert fr.family_freshness(date(2026, 12, 6))["tasks"].late
    finally:
        db.reset_reader()


def test_the_rows_follow_the_data_version(fresh_db):
    assert fr.family_freshness(date(2026, 11, 20))["services"].as_of_month == date(2026, 10, 1)
    write_freshness(fresh_db, [("services", date(2026, 11, 1), datetime(2026, 12, 4, 10, 0))], data_version="fresh-2")
    every = fr.family_freshness(date(2026, 12, 20))
    assert set(every) == {"services"} and every["services"].text == "数据截至 2026-11 · 更新于 12-04"


def test_the_clock_reads_cockpit_today(monkeypatch):
    monkeypatch.setenv("COCKPIT_TODAY", "2026-12-06")
    assert fr.today() == date(2026, 12, 6)
    monkeypatch.setenv("COCKPIT_TODAY", "2026/12/06")
    with pytest.raises(ValueError, match="COCKPIT_TODAY"):
        fr.today()
    monkeypatch.delenv("COCKPIT_TODAY")
    assert fr.today() == date.today()


def test_without_a_date_the_clock_decides(fresh_db, monkeypatch):
    monkeypatch.setenv("COCKPIT_TODAY", "2026-12-06")
    assert fr.kpi_freshness("online_available_rate").late
    monkeypatch.setenv("COCKPIT_TODAY", "2026-12-05")
    assert not fr.kpi_freshness("online_available_rate").late


FACT_FAMILY = {"service": "services", "hotline": "hotline", "spending": "spending", "project": "projects",
               "data_resource": "data_resources"}


def test_every_kpi_of_the_catalogue_has_a_scheduled_family():
    schedule = fr.load_schedule()
    for kpi in load_catalogue().kpis.values():
        family = fr.kpi_family(kpi.id)
        assert family == FACT_FAMILY[kpi.fact], kpi.id
        assert family in schedule.families
    assert fr.kpi_family("hotline_on_time_rate") == "hotline"
    assert fr.kpi_family("recovered_funds") == "projects"  # a spending KPI read from the project register


def test_the_schedule_declares_every_family_with_a_label_and_due_day():
    s = fr.load_schedule()
    assert set(s.families) == {"services", "hotline", "spending", "projects", "data_resources", "tasks"}
    assert (s.families["services"].label, s.families["services"].due_day) == ("政务服务", 5)
    assert s.families["spending"].due_day == 10


def test_kpis_freshness_lists_each_family_once_in_order(fresh_db):
    items = fr.kpis_freshness(["budget_execution_rate", "online_available_rate", "online_handling_rate",
                               "overdue_projects"], date(2026, 11, 20))
    assert [f.family for f in items] == ["spending", "services"]


def test_a_report_groups_families_that_read_alike(fresh_db):
    items = fr.kpis_freshness(["online_available_rate", "hotline_on_time_rate", "budget_execution_rate"],
                              date(2026, 11, 20))
    assert fr.freshness_groups(items) == [("政务服务、12345 热线", "数据截至 2026-10 · 更新于 11-05", ""),
                                          ("预算执行", "数据截至 2026-09 · 更新于 10-08", "数据未按期更新")]
    assert fr.freshness_groups([]) == []


def test_the_json_form_is_plain(fresh_db):
    d = fr.family_freshness(date(2026, 11, 20))["spending"].to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d == {"family": "spending", "label": "预算执行", "as_of_month": "2026-09", "updated_at": "2026-10-08T16:00",
                 "due": "2026-11-10", "late": True, "text": "数据截至 2026-09 · 更新于 10-08",
                 "late_text": "数据未按期更新"}
