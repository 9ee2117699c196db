"""KPI results computed at publish (metrics/results.py): what the table holds, that the engine
serves the province's snapshots and the series from it with the values it would compute, and
that a file without it (or with results of other data) is computed as before."""

from __future__ import annotations

import re
import shutil
from datetime import date

import duckdb
import pandas as pd
import pytest

from data import db
from data.intake.spec import load_families
from data.scope import Scope
from metrics import engine, results
from metrics.cache import clear_all
from metrics.catalogue import load_catalogue
from metrics.compile import _monthly_lines
from metrics.engine import series, snapshot
from metrics.materialize import source_for
from metrics.periods import add_months
from metrics.regions import as_of, region_tree

PROVINCE = Scope.province("360000")


def approx(x):
    return pytest.approx(x, rel=1e-12, abs=1e-12)


def _rows(path, sql, params=()):
    with duckdb.connect(str(path), read_only=True, config=db._CONFIG) as con:
        return con.execute(sql, list(params)).df()


def _row(path, month, period, kpi, region) -> dict:
    df = _rows(path, "SELECT * FROM kpi_results WHERE month = ? AND period = ? AND kpi_id = ? AND region_code = ?",
               [month, period, kpi, region])
    assert len(df) == 1
    return df.iloc[0].to_dict()


def float_kpis(path) -> set[str]:
    """KPIs with a floating-point measure: their sums depend on the order DuckDB adds them up in,
    which it does not fix (the engine itself differs in the last bits from one run to the next)."""
    cat = load_catalogue()
    out = set()
    with duckdb.connect(str(path), read_only=True, config=db._CONFIG) as con:
        for k in cat.kpis.values():
            base = cat.kpis[k.base] if k.type == "gap" else k
            source, measures = source_for(cat.facts[base.fact], cat.measures_of(base), {}, True)
            types = [r[1] for r in con.execute(f"DESCRIBE SELECT {_monthly_lines(measures)} FROM {source}").fetchall()]
            if any(t in ("DOUBLE", "FLOAT") for t in types):
                out.add(k.id)
    return out


def assert_same_results(left: pd.DataFrame, right: pd.DataFrame, inexact: set[str]) -> None:
    """Equal to the last bit, except KPIs of floating-point sums (equal to 1e-12, relatively)."""
    loose = left["kpi_id"].isin(inexact).to_numpy()
    assert (loose == right["kpi_id"].isin(inexact).to_numpy()).all()
    pd.testing.assert_frame_equal(left[~loose].reset_index(drop=True), right[~loose].reset_index(drop=True),
                                  check_exact=True)
    if loose.any():
        pd.testing.assert_frame_equal(left[loose].reset_index(drop=True), right[loose].reset_index(drop=True),
                                      check_exact=False, rtol=1e-12)


@pytest.fixture(autouse=True)
def _fresh():
    clear_all()
    yield
    clear_all()


# ---------------------------------------------------------------- which results a change reaches


def test_a_monthly_result_reads_its_month_the_month_before_and_the_month_a_year_before():
    months = [add_months(date(2024, 1, 1), i) for i in range(36)]  # 2024-01 … 2026-12
    assert results.affected_months("month", {date(2025, 3, 1)}, months) == [
        date(2025, 3, 1), date(2025, 4, 1), date(2026, 3, 1)]


def test_a_year_to_date_result_reads_the_year_so_far_its_previous_month_and_last_year():
    months = [add_months(date(2024, 1, 1), i) for i in range(36)]
    # a change of 2025-03 reaches 2025-03 … 2025-12 (累计), 2026-01 (its 环比 is all of 2025)
    # and 2026-03 … 2026-12 (同比: 2025-01 … the same month of 2025)
    assert results.affected_months("ytd", {date(2025, 3, 1)}, months) == [
        *[date(2025, m, 1) for m in range(3, 13)], date(2026, 1, 1), *[date(2026, m, 1) for m in range(3, 13)]]
    # December reaches itself, the next January (环比) and the next December (同比) only
    assert results.affected_months("ytd", {date(2025, 12, 1)}, months) == [
        date(2025, 12, 1), date(2026, 1, 1), date(2026, 12, 1)]


def test_a_change_reaches_nothing_beyond_the_months_kept():
    months = [add_months(date(2025, 9, 1), i) for i in range(14)]  # 2025-09 … 2026-10
    assert results.affected_months("ytd", {date(2026, 10, 1)}, months) == [date(2026, 10, 1)]
    assert results.affected_months("month", {date(2026, 10, 1)}, months) == [date(2026, 10, 1)]
    assert results.affected_months("month", set(), months) == []


def test_every_fact_declares_every_intake_table_its_view_reads(fixture_env):
    views = dict(_rows(fixture_env, "SELECT view_name, sql FROM duckdb_views() WHERE NOT internal")
                 .itertuples(index=False))
    intake = {s.key for f in load_families().values() for s in f.sheets}

    def reads(view: str) -> set[str]:
        sql = views[view]
        found = {t for t in intake if re.search(rf"\b{t}\b", sql)}
        for other in views:
            if other != view and re.search(rf"\b{other}\b", sql):
                found |= reads(other)
        return found

    cat = load_catalogue()
    assert set(results.FACT_SOURCES) == set(cat.facts)
    for name, fact in cat.facts.items():
        assert reads(fact.view) <= set(results.FACT_SOURCES[name]), name


# ---------------------------------------------------------------- the table (hand-built fixture)


def test_the_table_holds_every_kpi_and_region_of_every_month_of_the_pages_periods(fixture_env):
    cat = load_catalogue()
    ytd = sum("ytd" in k.periods for k in cat.kpis.values())
    month = sum("month" in k.periods for k in cat.kpis.values())
    counts = dict(_rows(fixture_env, "SELECT period, count(*) FROM kpi_results GROUP BY 1").itertuples(index=False))
    # 2024-01 … 2025-03 is 15 months, 7 regions
    assert counts == {"ytd": 15 * 7 * ytd, "month": 15 * 7 * month}


def test_the_rows_hold_the_engines_hand_checked_values(fixture_env):
    # the province's online handling, 2025 to March: online 110 + 90 + 320 = 520 of 400 + 150 + 510 = 1060;
    # 环比: to February 200 of 550; its own target row: 60 (测试目标（省）)
    r = _row(fixture_env, date(2025, 3, 1), "ytd", "online_handling_rate", "360000")
    assert (r["numerator"], r["denominator"]) == (520, 1060)
    assert r["value"] == approx(520 / 1060 * 100)
    assert r["prev_value"] == approx(200 / 550 * 100)
    assert (r["target"], r["target_source"], r["has_data"]) == (60.0, "测试目标（省）", True)
    # 东湖区 in March alone: SX1 80/100 and SX3 0/10
    r = _row(fixture_env, date(2025, 3, 1), "month", "online_handling_rate", "360102")
    assert (r["numerator"], r["denominator"]) == (80, 110)
    # budget execution: paid 84 of 360 against 序时进度 3/12
    r = _row(fixture_env, date(2025, 3, 1), "ytd", "budget_execution_rate", "360000")
    assert r["value"] == approx(84 / 360 * 100) and r["target"] == approx(25.0)
    # 珠山区 has no rows at all: no value, no data
    r = _row(fixture_env, date(2025, 3, 1), "month", "online_handling_rate", "360203")
    assert pd.isna(r["value"]) and not r["has_data"] and pd.isna(r["fact_rows"])


def test_the_engine_reads_the_provinces_snapshot_instead_of_computing_it(fixture_env, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("computed although the results table holds it")

    monkeypatch.setattr(snapshot, "_compute_frame", refuse)
    r = engine.kpi_value("online_handling_rate", "360000", "2025-03", "ytd", scope=PROVINCE)
    assert (r.numerator, r.denominator) == (520, 1060)
    city = engine.kpi_value("online_handling_rate", "360100", "2025-03", "month", scope=Scope(regions=("360100",)))
    assert (city.numerator, city.denominator) == (230, 410)  # a region-only viewer shares the province's rows
    s = engine.kpi_series("online_handling_rate", "360000", scope=PROVINCE, start="2025-01", end="2025-03",
                          cumulative=True)
    assert s["numerator"].tolist() == [110, 200, 520]


def test_a_department_limited_viewer_and_a_quarter_are_still_computed(fixture_env, monkeypatch):
    calls = []
    real = engine._compute_frame
    monkeypatch.setattr(snapshot, "_compute_frame", lambda *a: calls.append(a) or real(*a))
    r = engine.kpi_value("online_handling_rate", "360000", "2025-03", "quarter", scope=PROVINCE)
    assert (r.numerator, r.denominator) == (520, 1060) and len(calls) == 1
    dept = Scope(regions=("360000",), departments=("D01",))
    r = engine.kpi_value("online_handling_rate", "360000", "2025-03", "month", scope=dept)
    assert (r.numerator, r.denominator) == (230, 400) and len(calls) == 2  # SX1 only: 80 + 150 of 100 + 300


def _copy(src, tmp_path, monkeypatch, *statements):
    path = tmp_path / f"copy{len(list(tmp_path.glob('copy*.duckdb')))}.duckdb"
    shutil.copyfile(src, path)
    with duckdb.connect(str(path)) as con:
        for sql in statements:
            con.execute(sql)
    monkeypatch.setenv("COCKPIT_DB", str(path))
    db.reset_reader()
    return path


def test_a_file_without_the_table_is_computed_as_before(fixture_env, tmp_path, monkeypatch):
    _copy(fixture_env, tmp_path, monkeypatch, "DROP TABLE kpi_results",
          "DELETE FROM meta WHERE key LIKE 'results_%'")
    assert not results.ready()
    r = engine.kpi_value("online_handling_rate", "360000", "2025-03", "ytd", scope=PROVINCE)
    assert (r.numerator, r.denominator) == (520, 1060)
    s = engine.kpi_series("online_handling_rate", "360000", scope=PROVINCE, start="2025-01", end="2025-03")
    assert s["numerator"].tolist() == [110, 90, 320]


def test_results_of_other_data_or_older_code_are_not_read(fixture_env, tmp_path, monkeypatch):
    _copy(fixture_env, tmp_path, monkeypatch, "UPDATE meta SET value = 'edited' WHERE key = 'data_version'")
    assert not results.ready()  # the data changed after the results were computed
    _copy(fixture_env, tmp_path, monkeypatch, "UPDATE meta SET value = 'older' WHERE key = 'results_version'")
    assert not results.ready()
    _copy(fixture_env, tmp_path, monkeypatch)
    assert results.ready()


# ---------------------------------------------------------------- identical to computing (the demo)


def test_the_demos_floating_point_kpis_are_the_two_scores(demo_env):
    # 质检得分 and 绩效评价得分 are DOUBLE; every other measure is an integer or a decimal
    assert float_kpis(demo_env) == {"data_quality_score", "performance_score"}


@pytest.mark.parametrize("period", results.PERIODS)
def test_a_stored_snapshot_equals_the_computed_one(demo_env, period):
    first, last = as_of()
    inexact = float_kpis(demo_env)
    cat = load_catalogue()
    ids = tuple(k.id for k in cat.kpis.values() if period in k.periods)
    codes = tuple(r.code for r in region_tree(scope=PROVINCE))
    for month in (first, date(2023, 1, 1), date(2024, 6, 1), last):
        m = month.strftime("%Y-%m")
        stored = engine._stored_frame(m, period, ids, codes)
        computed = engine._compute_frame(ids, codes, m, period, PROVINCE, ())
        assert stored is not None and len(stored) == len(ids) * len(codes)
        assert stored.attrs == computed.attrs
        # as the snapshots hold them (string columns as Python objects)
        stored, computed = (engine.Snapshot.of(f, ids, codes).frame for f in (stored, computed))
        assert_same_results(stored, computed, inexact)


@pytest.mark.parametrize("region", ["360000", "360100", "360102", "361130"])
def test_series_built_from_the_table_equal_the_computed_series(demo_env, region):
    first, last = as_of()
    inexact = float_kpis(demo_env)
    cat = load_catalogue()
    for kpi in cat.kpis.values():
        assert series._stored_series(kpi, region, first, last) is not None, kpi.id  # every KPI's sums are in the table
        for cumulative in (False, True):
            stored = series._whole_series(kpi.id, region, cumulative)[0]  # formed from the table
            computed = series._series_many([kpi], region, PROVINCE, first, last, cumulative, None, None)[kpi.id]
            assert stored.attrs == computed.attrs
            if kpi.id in inexact:
                pd.testing.assert_frame_equal(stored, computed, check_exact=False, rtol=1e-12)
            else:
                pd.testing.assert_frame_equal(stored, computed, check_exact=True)


def test_the_overview_of_a_month_reads_the_table_only(demo_env, monkeypatch):
    from metrics.dashboard import overview_data

    def refuse(*args, **kwargs):
        raise AssertionError("computed although the results table holds it")

    monkeypatch.setattr(snapshot, "_compute_frame", refuse)
    monkeypatch.setattr(series, "_series_many", refuse)
    for region in (None, "360100", "360102"):
        for period in results.PERIODS:
            data = overview_data(region, "2025-06", period, "online_handling_rate", scope=PROVINCE)
            assert data["cards"] and all(len(c["spark"]) == 12 for c in data["cards"])


# ---------------------------------------------------------------- the start-up warm-up


def test_the_warm_up_computes_no_month_when_the_results_are_stored(fixture_env, monkeypatch):
    from metrics import dashboard

    def refuse(*args, **kwargs):
        raise AssertionError("computed although the results table holds it")

    monkeypatch.setattr(snapshot, "_compute_frame", refuse)
    monkeypatch.setattr(series, "_series_many", refuse)
    read = []
    real = engine._stored_frame
    monkeypatch.setattr(snapshot, "_stored_frame", lambda *a: read.append(a[:2]) or real(*a))
    dashboard.warm_caches(PROVINCE)
    assert dashboard.WARM_STATE["done"] and dashboard.WARM_STATE["months"] == 15
    assert sorted(read) == [("2025-03", "month"), ("2025-03", "ytd")]  # the latest month's overview only


def test_a_file_without_results_is_warmed_month_by_month_as_before(fixture_env, tmp_path, monkeypatch):
    from metrics import dashboard

    _copy(fixture_env, tmp_path, monkeypatch, "DROP TABLE kpi_results")
    dashboard.warm_caches(PROVINCE)

    def no_query(*_args, **_kwargs):
        raise AssertionError("warmed data should not be queried again")

    monkeypatch.setattr(db, "query", no_query)
    data = dashboard.overview_data(None, "2024-06", "month", "online_handling_rate", scope=PROVINCE)
    assert data["month"] == "2024-06"
