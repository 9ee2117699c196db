"""Aggregation rules on the full demo, and the engine against an independent recomputation."""

import random
from datetime import date
from decimal import Decimal

import duckdb
import pandas as pd
import pytest

from data import db
from data.scope import Scope
from metrics.cache import clear_all
from metrics.catalogue import load_catalogue
from metrics.engine import compute, kpi_value
from metrics.periods import parse_month, windows
from metrics.regions import children, descendants
from metrics.rules import project_alerts

pytestmark = pytest.mark.usefixtures("demo_env")
PROVINCE = Scope.province("360000")
MONTHS = ["2023-02", "2025-06", "2026-10"]


def _additive_kpis():
    cat = load_catalogue()
    return [k.id for k in cat.kpis.values() if k.type != "gap" and all(m.additive for m in cat.measures_of(k))]


@pytest.mark.parametrize("month", MONTHS)
@pytest.mark.parametrize("period", ["month", "ytd"])
def test_province_equals_the_sum_of_cities_and_of_counties(month, period):
    cities = [r.code for r in children("360000", scope=PROVINCE)]
    counties = [r.code for r in descendants("360000", "county", scope=PROVINCE)]
    assert (len(cities), len(counties)) == (11, 100)
    cat = load_catalogue()
    for kid in _additive_kpis():
        per = period if period in cat.kpi(kid).periods else cat.kpi(kid).periods[0]
        df = compute([kid], ["360000", *cities, *counties], month, per, scope=PROVINCE).set_index("region_code")
        for col in ("numerator", "denominator"):
            prov = df.loc["360000", col]
            if prov != prov or prov is None:  # NaN: a sum KPI has no denominator
                continue
            assert df.loc[cities, col].sum() == pytest.approx(prov, rel=1e-12), (kid, col, "cities")
            assert df.loc[counties, col].sum() == pytest.approx(prov, rel=1e-12), (kid, col, "counties")
        top = df.loc["360000"]
        if cat.kpi(kid).type == "ratio" and top.denominator:
            assert top.value == pytest.approx(top.numerator / top.denominator * cat.kpi(kid).factor, rel=1e-12)


# ---------------------------------------------------------------- independent recomputation
# Each formula is written again here, straight from the base tables, without the
# catalogue, the compiler or the fact views.

COUNTIES = """(SELECT descendant_code FROM region_closure WHERE ancestor_code = $region)"""
INDEPENDENT = {
    "online_handling_rate": ("flow", f"""
        SELECT sum(online_applications), sum(applications) FROM service_monthly
        WHERE county_code IN {COUNTIES} AND month BETWEEN $start AND $end"""),
    "on_time_rate": ("flow", f"""
        SELECT sum(completed_on_time), sum(completed) FROM service_monthly
        WHERE county_code IN {COUNTIES} AND month BETWEEN $start AND $end"""),
    "satisfaction_rate": ("flow", f"""
        SELECT sum(good_reviews), sum(good_reviews + bad_reviews) FROM service_monthly
        WHERE county_code IN {COUNTIES} AND month BETWEEN $start AND $end"""),
    "online_available_rate": ("stock", f"""
        SELECT count(*) FILTER (WHERE i.on_application AND s.is_online_capable = 1),
               count(*) FILTER (WHERE i.on_application)
        FROM service_monthly s JOIN service_item i ON i.item_code = s.item_code
        WHERE s.county_code IN {COUNTIES} AND s.month = $end"""),
    "mobile_rate": ("stock", f"""
        SELECT count(*) FILTER (WHERE i.audience = '个人' AND s.is_mobile = 1),
               count(*) FILTER (WHERE i.audience = '个人')
        FROM service_monthly s JOIN service_item i ON i.item_code = s.item_code
        WHERE s.county_code IN {COUNTIES} AND s.month = $end"""),
    "hotline_on_time_rate": ("flow", f"""
        SELECT sum(closed_on_time), sum(due) FROM hotline_monthly
        WHERE county_code IN {COUNTIES} AND month BETWEEN $start AND $end"""),
    "budget_execution_rate": ("flow", f"""
        SELECT (SELECT sum(amount_wan) FROM payment
                WHERE county_code IN {COUNTIES} AND month BETWEEN $start AND $end),
               (SELECT sum(amount_wan) FROM budget WHERE county_code IN {COUNTIES} AND year = year($end))"""),
    "share_fulfil_rate": ("flow", f"""
        SELECT sum(share_fulfilled), sum(share_requests) FROM data_resource_monthly
        WHERE county_code IN {COUNTIES} AND month BETWEEN $start AND $end"""),
    "cloud_rate": ("stock", f"""
        WITH m AS (
            SELECT p.project_id, p.on_gov_cloud, p.classified,
                   min(e.event_date) FILTER (WHERE e.stage = 'applied') AS applied,
                   min(e.event_date) FILTER (WHERE e.stage = 'trial') AS trial,
                   min(e.event_date) FILTER (WHERE e.stage = 'terminated') AS terminated
            FROM project p JOIN project_event e USING (project_id)
            WHERE p.county_code IN {COUNTIES}
            GROUP BY ALL)
        SELECT count(*) FILTER (WHERE on_gov_cloud), count(*)
        FROM m WHERE trial <= last_day($end) AND NOT classified AND applied <= last_day($end)
          AND (terminated IS NULL OR terminated > last_day($end))"""),
}


def _cases():
    rng = random.Random(20231)
    regions = ["360000", "360100", "360200", "360700", "360102", "360222", "360322", "361124", "360982"]
    periods = ["month", "ytd", "quarter"]
    months = ["2022-01", "2022-07", "2023-12", "2024-02", "2025-06", "2026-10"]
    return [(k, rng.choice(regions), rng.choice(months), rng.choice(periods))
            for k in sorted(INDEPENDENT) for _ in range(5)]


def _dec(x) -> Decimal:
    """Exact comparison form; no rows and a zero sum are the same numerator."""
    return Decimal(0) if x is None else Decimal(str(x))


@pytest.mark.parametrize("kpi_id, region, month, period", _cases())
def test_the_engine_agrees_with_an_independent_recomputation(demo_db_path, kpi_id, region, month, period):
    _kind, sql = INDEPENDENT[kpi_id]
    cat = load_catalogue()
    if period not in cat.kpi(kpi_id).periods:
        period = "ytd"
    w = windows(period, parse_month(month)).cur.capped(date(2026, 10, 1))
    con = duckdb.connect(str(demo_db_path), read_only=True)
    try:
        num, den = con.execute(sql, db.bind(sql, {"region": region, "start": w.start, "end": w.end})).fetchone()
    finally:
        con.close()
    r = kpi_value(kpi_id, region, month, period, scope=PROVINCE)
    assert _dec(r.numerator) == _dec(num)
    assert _dec(r.denominator) == _dec(den)
    expected = None if not den else float(num or 0) / float(den) * 100
    assert r.value == pytest.approx(expected, rel=1e-12)


RULE_KPIS = [("overdue", "overdue_projects"), ("not_started_6m", "not_started_6m"), ("over_budget", "over_budget"),
             ("acceptance_pending", "acceptance_pending"), ("self_eval_due", "self_eval_due")]


@pytest.mark.parametrize("rule_id, kpi_id", RULE_KPIS)
def test_alert_lists_and_kpi_counts_agree(rule_id, kpi_id):
    for region in ["360000", "360100"]:
        alerts = project_alerts(region, "2026-10", scope=PROVINCE)
        count = kpi_value(kpi_id, region, "2026-10", "month", scope=PROVINCE).value
        assert (alerts.rule_id == rule_id).sum() == count


def test_the_demo_has_red_and_amber_counties():
    df = compute(["online_available_rate"], [r.code for r in descendants("360000", "county", scope=PROVINCE)],
                 "2026-10", "ytd", scope=PROVINCE)
    assert {"red", "amber", "green"} <= set(df.rag)


@pytest.mark.parametrize("period", ["month", "ytd", "quarter"])
def test_aggregate_tables_give_the_same_numbers_as_the_raw_facts(monkeypatch, period):
    cat = load_catalogue()
    ids = [k.id for k in cat.kpis.values() if period in k.periods]
    codes = ["360000", "360100", "360102", "361100"]
    fast = compute(ids, codes, "2025-06", period, scope=PROVINCE)
    monkeypatch.setattr("metrics.engine.plan.aggregates_fresh", lambda: False)
    clear_all()  # else the memoised aggregate-path results (and month snapshots) would be returned
    raw = compute(ids, codes, "2025-06", period, scope=PROVINCE)
    clear_all()
    cols = ["numerator", "denominator", "value", "prev_value", "ly_value"]
    pd.testing.assert_frame_equal(fast[cols], raw[cols], rtol=1e-12)
