"""Region-only viewers share the province's month snapshot and series table: the slices
must equal what a query under the viewer's own scope returns, and show nothing outside it."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from data.scope import Scope
from metrics import engine
from metrics.cache import clear_all
from metrics.catalogue import load_catalogue
from metrics.engine import series

CITY, COUNTY, OTHER_CITY = "360100", "360102", "360200"
COLUMNS = ["value", "numerator", "denominator", "prev_value", "ly_value", "mom_change", "yoy_change", "target",
           "gap", "rag"]


@pytest.fixture(autouse=True)
def _fresh(demo_env):
    clear_all()
    yield
    clear_all()


@pytest.mark.parametrize("period", ["ytd", "month"])
def test_a_city_viewers_slice_equals_a_query_in_the_citys_own_scope(period):
    scope = Scope(regions=(CITY,))
    snap = engine._snapshot("2026-03", period, scope)
    direct = engine._compute_frame(tuple(sorted(snap.kpis)), (CITY, COUNTY), "2026-03", period, scope, ())
    sliced = snap.rows(sorted(snap.kpis), [CITY, COUNTY])
    pd.testing.assert_frame_equal(sliced[["kpi_id", "region_code", *COLUMNS]],
                                  direct[["kpi_id", "region_code", *COLUMNS]], check_dtype=False)


def test_the_slice_holds_only_the_viewers_regions():
    scope = Scope(regions=(CITY,))
    snap = engine._snapshot("2026-03", "ytd", scope)
    assert "360000" not in snap.regions and OTHER_CITY not in snap.regions
    assert set(snap.frame["region_code"]) == snap.regions
    assert CITY in snap.regions and COUNTY in snap.regions
    assert len(snap.regions) > 2  # the city and every county of it


def test_a_department_limited_viewer_gets_a_snapshot_of_its_own():
    full = engine._snapshot("2026-03", "ytd", Scope.province("360000"))
    dept = engine._snapshot("2026-03", "ytd", Scope(regions=("360000",), departments=("D01",)))
    assert dept.kpis < full.kpis  # facts without departments are hidden from it
    k = "online_handling_rate"
    mine = dept.rows([k], ["360000"]).iloc[0]
    every = full.rows([k], ["360000"]).iloc[0]
    assert mine["denominator"] < every["denominator"]


def test_series_sliced_from_the_every_region_table_equal_the_regions_own_query(monkeypatch):
    ids = [k.id for k in load_catalogue().headline()]
    scope = Scope(regions=(COUNTY,))
    shared = engine.kpi_series_many(ids, COUNTY, scope=scope, start="2025-02", end="2026-10")
    clear_all()

    def own_query(fact, source, measures, bases, flt, restrict, region, start, end, scope):
        return series._region_series_rows(fact, source, measures, bases, flt, restrict, region, start, end, scope)

    monkeypatch.setattr(series, "_series_rows", own_query)
    own = engine.kpi_series_many(ids, COUNTY, scope=scope, start="2025-02", end="2026-10")
    cat = load_catalogue()
    windowed = series._series_many([cat.kpi(k) for k in ids], COUNTY, scope, date(2025, 2, 1), date(2026, 10, 1),
                                   False, None, None)  # queried for exactly this window
    for k in ids:
        assert len(shared[k]) == 21 and shared[k]["value"].notna().sum() > 0
        pd.testing.assert_frame_equal(shared[k], own[k], check_dtype=False)
        pd.testing.assert_frame_equal(shared[k], windowed[k], check_dtype=False)


def test_a_cumulative_series_sliced_from_the_whole_one_keeps_its_year_to_date_sums():
    scope = Scope(regions=(CITY,))
    k = load_catalogue().kpi("budget_execution_rate")
    sliced = engine.kpi_series(k.id, CITY, scope=scope, start="2026-03", end="2026-06", cumulative=True)
    direct = series._series_many([k], CITY, scope, date(2026, 3, 1), date(2026, 6, 1), True, None, None)[k.id]
    pd.testing.assert_frame_equal(sliced, direct, check_dtype=False)
    assert sliced["numerator"].is_monotonic_increasing  # Jan–Feb payments are in March's 累计


def test_a_filtered_series_still_queries_its_own_rows():
    scope = Scope.province("360000")
    mine = engine.kpi_series("online_handling_rate", "360000", scope=scope, start="2026-01", end="2026-10",
                             dept="D01")
    every = engine.kpi_series("online_handling_rate", "360000", scope=scope, start="2026-01", end="2026-10")
    assert (mine["denominator"] < every["denominator"]).all()


def test_a_caller_changing_its_series_does_not_change_the_next_callers():
    scope = Scope.province("360000")
    first = engine.kpi_series("online_handling_rate", COUNTY, scope=scope, start="2026-01", end="2026-06")
    expected = first["value"].tolist()
    first.loc[0, "value"] = -1.0
    first["value"] *= 0
    again = engine.kpi_series("online_handling_rate", COUNTY, scope=scope, start="2026-01", end="2026-06")
    assert again["value"].tolist() == expected and expected[0] > 0
