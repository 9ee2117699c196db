"""Snapshots of the generated SQL, so a change in the SQL shows in review.

Regenerate after an intended change with ``UPDATE_SQL_SNAPSHOTS=1 pytest tests/metrics/test_sql_snapshots.py``.
"""

import os
from pathlib import Path

import pytest

from metrics.catalogue import load_catalogue
from metrics.compile import series_sql, windows_sql

SNAPSHOTS = Path(__file__).parent / "snapshots"


def _cases():
    cat = load_catalogue()
    service, spending = cat.facts["service"], cat.facts["spending"]
    rate = cat.measures_of(cat.kpi("online_handling_rate"))
    return {
        "windows_online_handling_rate.sql": windows_sql(service, rate, {}, False, [cat.kpi("online_handling_rate")]),
        "windows_online_handling_rate_by_dept_scoped.sql": windows_sql(service, rate, {"dept_code": "D01"}, True),
        "windows_one_thing_count.sql": windows_sql(service, cat.measures_of(cat.kpi("one_thing_count")), {}, False),
        "windows_budget_execution_rate.sql": windows_sql(
            spending, cat.measures_of(cat.kpi("budget_execution_rate")), {}, False, [cat.kpi("budget_execution_rate")]
        ),
        "series_online_handling_rate.sql": series_sql(service, rate, {"item_code": "SX1"}, False,
                                                      [cat.kpi("online_handling_rate")]),
        "series_budget_execution_rate.sql": series_sql(
            spending, cat.measures_of(cat.kpi("budget_execution_rate")), {}, False, [cat.kpi("budget_execution_rate")]
        ),
        "series_one_thing_count.sql": series_sql(service, cat.measures_of(cat.kpi("one_thing_count")), {}, False,
                                                 [cat.kpi("one_thing_count")]),
    }


@pytest.mark.parametrize("name", sorted(_cases()))
def test_generated_sql_matches_its_snapshot(name):
    sql = _cases()[name]
    path = SNAPSHOTS / name
    if os.environ.get("UPDATE_SQL_SNAPSHOTS") == "1":
        path.write_text(sql, encoding="utf-8")
    assert path.exists(), f"缺少快照 {name}：设置 UPDATE_SQL_SNAPSHOTS=1 生成"
    assert sql == path.read_text(encoding="utf-8")


def test_values_never_appear_in_the_generated_sql():
    cat = load_catalogue()
    sql = windows_sql(cat.facts["service"], cat.measures_of(cat.kpi("online_handling_rate")),
                      {"dept_code": "D01'; DROP TABLE region; --"}, True)
    assert "DROP" not in sql and "$f_dept_code" in sql
