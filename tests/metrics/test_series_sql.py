"""The monthly series' figures are formed in SQL — from the facts by ``metrics/sql/kpi_series.sql``,
from the results table's 当月 rows by ``metrics/sql/results_series.sql`` — and checked here figure
by figure against values worked out by hand from the fixture database's fact rows
(tests/metrics/fixture_db.py), 当月 and 累计, on both paths.

Worked out by hand, in plain Python over the fixture's rows: a month without fact rows of the
region has no value; a flow's 累计 sums the months since January; a stock (事项数, 年度预算) is
read at the month, never summed; a ratio is numerator ÷ denominator × 100 with no value for a
zero denominator; 预算执行率 is always 累计 and held to 序时进度 (month ÷ 12); 与序时进度差
is 预算执行率 − 序时进度.
"""

from __future__ import annotations

from datetime import date

import pytest

from data.scope import Scope
from metrics import results
from metrics.cache import clear_all
from metrics.engine import kpi_series, series
from metrics.regions import as_of
from tests.metrics import fixture_db

PROVINCE = Scope.province("360000")
MONTHS = [date(2024, m, 1) for m in range(1, 13)] + [date(2025, m, 1) for m in (1, 2, 3)]
REGIONS = ["360000", "360100", "360102", "360200", "360222", "360203"]
ON_APPLICATION = {item: on_app for item, _, _, _, _, on_app, _, _ in fixture_db.ITEMS}
ABSENT = (None, None, None)


def _counties(region: str) -> set[str]:
    parents = {code: parent for code, _, _, parent in fixture_db.REGIONS}
    out = set()
    for code in parents:
        node: str | None = code
        while node is not None:
            if node == region:
                out.add(code)
            node = parents[node]
    return out


def _service(region: str, month: date) -> list[dict]:
    """The service rows of ``region`` in ``month``, by name."""
    names = ("month", "county", "item", "online_capable", "applications", "online")
    rows = [dict(zip(names, r[:6], strict=True)) for r in fixture_db.SERVICE]
    return [r for r in rows if r["county"] in _counties(region) and date.fromisoformat(r["month"]) == month]


def _since_january(month: date) -> list[date]:
    return [m for m in MONTHS if m.year == month.year and m <= month]


def _ratio(num: float, den: float) -> tuple[float | None, float, float]:
    return (num / den * 100 if den else None), num, den


def online_handling_rate(region: str, month: date, ytd: bool):
    """网上办件率: Σ 网上办件量 ÷ Σ 办件量 (flows) of the month, or of January … the month."""
    if not _service(region, month):
        return ABSENT
    rows = [r for m in (_since_january(month) if ytd else [month]) for r in _service(region, m)]
    return _ratio(sum(r["online"] for r in rows), sum(r["applications"] for r in rows))


def applications_count(region: str, month: date, ytd: bool):
    """办件量 (a sum of a flow): the value is its numerator; no denominator."""
    if not _service(region, month):
        return ABSENT
    rows = [r for m in (_since_january(month) if ytd else [month]) for r in _service(region, m)]
    total = float(sum(r["applications"] for r in rows))
    return total, total, None


def online_available_rate(region: str, month: date, ytd: bool):
    """网上可办率: 网上可办的依申请事项 ÷ 依申请事项, both stocks read at the month (累计 too)."""
    rows = _service(region, month)
    if not rows:
        return ABSENT
    applied = [r for r in rows if ON_APPLICATION[r["item"]]]
    return _ratio(sum(r["online_capable"] for r in applied), len(applied))


def budget_execution_rate(region: str, month: date, ytd: bool):
    """预算执行率: payments since January (a flow) ÷ the year's budget (a stock on every month of
    its year), always 累计 (held to 序时进度)."""
    counties = _counties(region)
    budget = sum(b[-1] for b in fixture_db.BUDGET if b[0] == month.year and b[1] in counties)
    payments = [(date.fromisoformat(p[0]), p[-1]) for p in fixture_db.PAYMENT if p[1] in counties]
    budget_rows = any(b[0] == month.year and b[1] in counties for b in fixture_db.BUDGET)
    if not budget_rows and not any(m == month for m, _ in payments):
        return ABSENT
    return _ratio(sum(v for m, v in payments if m.year == month.year and m <= month), budget)


def execution_gap_pp(region: str, month: date, ytd: bool):
    """与序时进度差: 预算执行率 − 序时进度 (month ÷ 12), with its base's numerator and denominator."""
    value, num, den = budget_execution_rate(region, month, ytd)
    return (None if value is None else value - month.month / 12 * 100), num, den


EXPECTED = {f.__name__: f for f in (online_handling_rate, applications_count, online_available_rate,
                                    budget_execution_rate, execution_gap_pp)}


@pytest.fixture(params=["stored", "computed"])
def path(request, fixture_env, monkeypatch):
    """The series read from the results table (nothing computed from the facts), or computed
    from the facts (the table not ready)."""
    clear_all()
    if request.param == "stored":
        assert results.ready()

        def refuse(*args, **kwargs):
            raise AssertionError("computed although the results table holds it")

        monkeypatch.setattr(series, "_series_many", refuse)
    else:
        monkeypatch.setattr(results, "ready", lambda: False)
    yield request.param
    clear_all()


def _figures(df) -> list[tuple]:
    def clean(x):
        return None if x is None or x != x else float(x)

    return [tuple(clean(x) for x in row) for row in df[["value", "numerator", "denominator"]].itertuples(index=False)]


@pytest.mark.parametrize("cumulative", [False, True], ids=["当月", "累计"])
@pytest.mark.parametrize("kpi", sorted(EXPECTED))
def test_each_figure_equals_the_one_worked_out_from_the_fact_rows(path, kpi, cumulative):
    assert as_of() == (MONTHS[0], MONTHS[-1])
    for region in REGIONS:
        df = kpi_series(kpi, region, scope=PROVINCE, cumulative=cumulative)
        assert [m.date() for m in df["month"]] == MONTHS
        expected = [EXPECTED[kpi](region, m, cumulative) for m in MONTHS]
        assert _figures(df) == pytest.approx(expected, rel=1e-12, abs=1e-12), (kpi, region)
        assert df.attrs == {"kpi_id": kpi, "region": region, "cumulative": cumulative, "as_of": MONTHS[-1]}


def test_the_hand_worked_figures_by_name(path):
    """A few figures spelled out, so the reference above is checked too."""
    def at(kpi, region, month, cumulative):
        df = kpi_series(kpi, region, scope=PROVINCE, cumulative=cumulative)
        return _figures(df)[MONTHS.index(month)]

    feb, mar = date(2025, 2, 1), date(2025, 3, 1)
    # 南昌市 (东湖区 + 西湖区): Feb 90 of 150 online; Jan–Feb 200 of 550
    assert at("online_handling_rate", "360100", feb, False) == pytest.approx((60.0, 90.0, 150.0))
    assert at("online_handling_rate", "360100", feb, True) == pytest.approx((200 / 550 * 100, 200.0, 550.0))
    # 浮梁县 in February: one row with no applications — a zero denominator gives no value (not 0)
    assert at("online_handling_rate", "360222", feb, False) == (None, 0.0, 0.0)
    assert at("online_handling_rate", "360222", mar, True) == pytest.approx((90.0, 90.0, 100.0))
    # 珠山区 has no fact rows at all; 2024-06 has no service rows anywhere
    assert at("online_handling_rate", "360203", mar, True) == ABSENT
    assert at("applications_count", "360000", date(2024, 6, 1), True) == ABSENT
    # 2025-03's 累计 办件量 of the province: Jan 400 + Feb 150 + Mar 510
    assert at("applications_count", "360000", mar, True) == (1060.0, 1060.0, None)
    # stocks are read at the month: in February the province's 3 依申请事项 are all online (not 5 of 6)
    assert at("online_available_rate", "360000", feb, True) == (100.0, 3.0, 3.0)
    assert at("online_available_rate", "360000", date(2025, 1, 1), True) == pytest.approx((200 / 3, 2.0, 3.0))
    # 预算执行率 is 累计 even in a 当月 series: the province paid 10 + 20 + 54 of 360 by March
    assert at("budget_execution_rate", "360000", mar, False) == pytest.approx((84 / 360 * 100, 84.0, 360.0))
    assert at("execution_gap_pp", "360102", feb, True) == pytest.approx((30 / 120 * 100 - 200 / 12, 30.0, 120.0))


def test_targets_stay_as_they_were(path):
    rate = kpi_series("online_handling_rate", "360222", scope=PROVINCE)
    assert rate["target"].tolist() == [70.0] * 12 + [80.0] * 3  # the catalogue's, then 浮梁县's own for 2025
    assert kpi_series("online_handling_rate", "360100", scope=PROVINCE)["target"].tolist()[-1] == 60.0  # the province's
    progress = kpi_series("budget_execution_rate", "360102", scope=PROVINCE)
    assert progress["target"].tolist() == pytest.approx([m.month / 12 * 100 for m in MONTHS])
    assert kpi_series("execution_gap_pp", "360102", scope=PROVINCE)["target"].tolist() == [0.0] * 15


@pytest.mark.parametrize("cumulative", [False, True], ids=["当月", "累计"])
def test_a_department_filtered_series_is_formed_in_sql_too(fixture_env, cumulative):
    clear_all()
    df = kpi_series("online_handling_rate", "360100", scope=PROVINCE, start="2025-01", end="2025-03",
                    cumulative=cumulative, dept="D01")  # 公安局: 机动车驾驶证换证 (SX1) only
    monthly = {1: (60.0, 300.0), 2: (90.0, 150.0), 3: (230.0, 400.0)}
    expected = []
    for m in (1, 2, 3):
        months = range(1, m + 1) if cumulative else [m]
        num, den = sum(monthly[i][0] for i in months), sum(monthly[i][1] for i in months)
        expected.append((num / den * 100, num, den))
    assert _figures(df) == pytest.approx(expected, rel=1e-12)
    clear_all()
