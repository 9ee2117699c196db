"""A tiny hand-built database whose every number the metric tests work out by hand.

Regions: 省 360000 → 市 360100 (县 360102, 360103) and 市 360200 (县 360222, 360203).
County 360203 has no fact rows at all. Months: 2024-01 … 2025-03 in the calendar;
service rows exist for 2024-03, 2025-01, 2025-02, 2025-03 only.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from data.db import migrate
from metrics.materialize import materialize
from metrics.results import refresh as refresh_results

REGIONS = [
    ("360000", "江西省", "province", None),
    ("360100", "南昌市", "city", "360000"),
    ("360102", "东湖区", "county", "360100"),
    ("360103", "西湖区", "county", "360100"),
    ("360200", "景德镇市", "city", "360000"),
    ("360222", "浮梁县", "county", "360200"),
    ("360203", "珠山区", "county", "360200"),
]

DEPARTMENTS = [("D01", "公安局", "公安"), ("D02", "市场监督管理局", "市场监管")]

# item_code, name, dept, type, audience, on_application, statutory, promised
ITEMS = [
    ("SX1", "机动车驾驶证换证", "D01", "行政确认", "个人", True, 20, 10),
    ("SX2", "食品经营许可", "D02", "行政许可", "法人", True, 20, 5),
    ("SX3", "个体工商户设立登记", "D02", "行政许可", "个人", False, 10, 10),
]

# month, county, item, online_capable, applications, online, completed, on_time,
# good, bad, bad_fixed, licences, e_synced
SERVICE = [
    ("2024-03-01", "360102", "SX1", 1, 100, 40, 100, 95, 50, 0, 0, 0, 0),
    ("2024-03-01", "360102", "SX2", 0, 50, 0, 50, 50, 20, 0, 0, 10, 5),
    ("2025-01-01", "360102", "SX1", 1, 100, 60, 90, 90, 40, 2, 2, 0, 0),
    ("2025-01-01", "360102", "SX2", 1, 100, 50, 100, 98, 40, 0, 0, 20, 18),
    ("2025-01-01", "360103", "SX1", 0, 200, 0, 200, 190, 80, 4, 3, 0, 0),
    ("2025-02-01", "360102", "SX1", 1, 50, 40, 50, 50, 20, 0, 0, 0, 0),
    ("2025-02-01", "360103", "SX1", 1, 100, 50, 100, 100, 50, 0, 0, 0, 0),
    ("2025-02-01", "360222", "SX2", 1, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    ("2025-03-01", "360102", "SX1", 1, 100, 80, 100, 100, 50, 0, 0, 0, 0),
    ("2025-03-01", "360102", "SX3", 0, 10, 0, 10, 10, 5, 0, 0, 10, 10),
    ("2025-03-01", "360103", "SX1", 1, 300, 150, 300, 280, 100, 1, 1, 0, 0),
    ("2025-03-01", "360222", "SX2", 1, 100, 90, 100, 100, 60, 0, 0, 40, 40),
]

# one project per city county; budgets and payments in 万元
PROJECTS = [
    ("P1", "东湖区政务服务平台", "东湖区政务服务中心", "县级", "D01", "360102", 100.0),
    ("P2", "浮梁县数据中台", "浮梁县数据局", "县级", "D02", "360222", 300.0),
]
EVENTS = [
    ("P1", "applied", "2023-10-01"), ("P1", "approved", "2023-12-01"), ("P1", "started", "2024-02-01"),
    ("P2", "applied", "2024-01-05"), ("P2", "approved", "2024-03-01"),
]
BUDGET = [
    (2025, "360102", "D01", "P1", "县级", "建设", 120.0),
    (2025, "360222", "D02", "P2", "县级", "建设", 200.0),
    (2025, "360222", "D02", "P2", "县级", "运维", 40.0),
]
PAYMENT = [
    ("2025-01-01", "360102", "D01", "P1", "县级", "建设", 10.0),
    ("2025-02-01", "360102", "D01", "P1", "县级", "建设", 20.0),
    ("2025-03-01", "360102", "D01", "P1", "县级", "建设", 30.0),
    ("2025-03-01", "360222", "D02", "P2", "县级", "建设", 24.0),
]
HOTLINE = [
    ("2025-03-01", "360102", "投诉", 100, 80, 76, 50, 45),
    ("2025-03-01", "360222", "咨询", 50, 40, 40, 20, 19),
]
TARGETS = [
    ("online_handling_rate", "360000", 2025, 60.0, "测试目标（省）"),
    ("online_handling_rate", "360222", 2025, 80.0, "测试目标（浮梁县）"),
]


# build_lifecycle adds four projects further down their lifecycle (dates worked by hand in the
# tests of metrics.rule_thresholds and the policy corrections):
#   P3  试运行 since 2024-06-15, no 终验
#   P4  竣工验收 2023-11-10 (数据共享已确认), no 绩效自评
#   P5  终验 2024-05-20, not yet 竣工验收, 数据共享未确认
#   P6  竣工验收 2024-02-15, 数据共享未确认, 绩效自评 2024-08-20
LIFECYCLE_PROJECTS = [  # project, name, unit, level, dept, county, budget, 数据共享已确认
    ("P3", "西湖区协同办公平台", "西湖区数据局", "县级", "D02", "360103", 80.0, True),
    ("P4", "浮梁县政务服务一体机", "浮梁县政务服务中心", "县级", "D01", "360222", 60.0, True),
    ("P5", "东湖区城市运行监测系统", "东湖区数据局", "县级", "D02", "360102", 150.0, False),
    ("P6", "浮梁县电子证照归集系统", "浮梁县数据局", "县级", "D02", "360222", 40.0, False),
]
LIFECYCLE_EVENTS = [
    ("P3", "applied", "2023-09-01"), ("P3", "approved", "2023-10-01"), ("P3", "started", "2023-11-01"),
    ("P3", "trial", "2024-06-15"),
    ("P4", "applied", "2022-09-01"), ("P4", "approved", "2022-10-01"), ("P4", "started", "2022-11-01"),
    ("P4", "trial", "2023-03-01"), ("P4", "final_accepted", "2023-10-20"), ("P4", "completed", "2023-11-10"),
    ("P5", "applied", "2023-01-10"), ("P5", "approved", "2023-02-10"), ("P5", "started", "2023-04-01"),
    ("P5", "trial", "2023-11-01"), ("P5", "final_accepted", "2024-05-20"),
    ("P6", "applied", "2022-10-01"), ("P6", "approved", "2022-11-01"), ("P6", "started", "2023-01-01"),
    ("P6", "trial", "2023-06-01"), ("P6", "final_accepted", "2024-01-10"), ("P6", "completed", "2024-02-15"),
    ("P6", "evaluated", "2024-08-20"),
]


def build_lifecycle(path: Path) -> Path:
    """The fixture database plus the four projects of ``LIFECYCLE_PROJECTS``."""
    build(path)
    con = duckdb.connect(str(path))
    try:
        con.executemany(
            "INSERT INTO project (project_id, name, owner_unit, owner_level, dept_code, county_code, category, tier,"
            " approved_budget, data_sharing_confirmed, fund_source, apply_year, planned_start, planned_finish,"
            " on_gov_cloud, classified, crypto_assessed, mlps_level)"
            " VALUES (?, ?, ?, ?, ?, ?, '应用系统', '一般', ?, ?, '县级', 2023, '2023-01-01', '2025-12-31',"
            " true, false, false, 2)",
            LIFECYCLE_PROJECTS,
        )
        con.executemany("INSERT INTO project_event (project_id, stage, event_date) VALUES (?, ?, ?)",
                        LIFECYCLE_EVENTS)
        materialize(con)
        refresh_results(con)  # as a publish of these projects would
    finally:
        con.close()
    return path


def build(path: Path) -> Path:
    """Write the fixture database to ``path``."""
    con = duckdb.connect(str(path))
    try:
        migrate(con)
        con.executemany("INSERT INTO region VALUES (?, ?, ?, ?)", REGIONS)
        parents = {c: p for c, _, _, p in REGIONS}
        closure = []
        for code, *_ in REGIONS:
            node, depth = code, 0
            while node:
                closure.append((node, code, depth))
                node, depth = parents[node], depth + 1
        con.executemany("INSERT INTO region_closure VALUES (?, ?, ?)", closure)
        con.executemany("INSERT INTO department VALUES (?, ?, ?)", DEPARTMENTS)
        con.executemany(
            "INSERT INTO service_item VALUES (?, ?, ?, ?, ?, ?, ?, ?, true, false, true, true, false, ?, false, false)",
            [(*i, i[0] == "SX2") for i in ITEMS],
        )
        dept = {i[0]: i[2] for i in ITEMS}
        con.executemany(
            "INSERT INTO service_monthly VALUES (?, ?, ?, ?, ?, 0, 0, 1, 0, ?, ?, ?, ?, 0, 0, ?, ?, ?, ?, ?)",
            [(m, c, dept[i], i, oc, *rest) for m, c, i, oc, *rest in SERVICE],
        )
        con.executemany("INSERT INTO hotline_monthly VALUES (?, ?, ?, ?, ?, ?, ?, ?)", HOTLINE)
        con.executemany(
            "INSERT INTO project (project_id, name, owner_unit, owner_level, dept_code, county_code, category, tier,"
            " approved_budget, fund_source, apply_year, planned_start, planned_finish, on_gov_cloud, classified,"
            " data_sharing_confirmed, crypto_assessed, mlps_level)"
            " VALUES (?, ?, ?, ?, ?, ?, '应用系统', '一般', ?, '县级', 2024, '2024-01-01', '2024-12-31',"
            " true, false, false, false, 2)",
            PROJECTS,
        )
        con.executemany("INSERT INTO project_event (project_id, stage, event_date) VALUES (?, ?, ?)", EVENTS)
        con.executemany("INSERT INTO budget VALUES (?, ?, ?, ?, ?, ?, ?)", BUDGET)
        con.executemany("INSERT INTO payment VALUES (?, ?, ?, ?, ?, ?, ?)", PAYMENT)
        con.executemany("INSERT INTO kpi_target VALUES (?, ?, ?, ?, ?)", TARGETS)
        con.execute(
            "INSERT INTO calendar SELECT CAST(m AS DATE) FROM range(DATE '2024-01-01', DATE '2025-04-01',"
            " INTERVAL 1 MONTH) AS t(m)"
        )
        con.execute("INSERT INTO meta VALUES ('data_version', 'fixture-1')")
        materialize(con)
        refresh_results(con)  # the province's KPI results, as a publish computes them
    finally:
        con.close()
    return path
