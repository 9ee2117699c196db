"""The alert list reads each red KPI against its target the way a reader would say it."""

import pandas as pd

from components.alerts import create_alert_list
from metrics.catalogue import load_catalogue
from metrics.display import kpi_display
from tests.components.test_cards import texts

EMPTY_TOP = pd.DataFrame(columns=["project_id", "project_name", "owner_unit", "rule_name", "days_over"])
SUMMARY = pd.DataFrame(columns=["rule_id", "rule_name", "clause", "count"])


def red(kpi_id: str, value: float, target: float | None, unit: str):
    return kpi_display({"kpi_id": kpi_id, "name": load_catalogue().kpi(kpi_id).name, "value": value,
                        "target": target, "unit": unit, "period_label": "2026年1—10月"})


def test_each_red_kpi_says_its_target_plainly():
    gap = next(k for k in load_catalogue().kpis.values() if k.type == "gap")
    items = [red("online_handling_rate", 64.3, 70.0, "%"), red("overdue_projects", 72, 0.0, "个"),
             red(gap.id, -29.7, 0.0, gap.unit), red("online_handling_rate", 64.3, None, "%")]
    lines = [t for t in texts(create_alert_list(items, SUMMARY, EMPTY_TOP, prefix="t")) if "2026年1—10月" in t]
    assert lines == [
        "网上办件率 64.3%（目标 ≥70.0%，2026年1—10月）",
        "逾期项目 72 个（目标：清零，2026年1—10月）",
        f"{gap.name} -29.7 个百分点（目标：不低于序时进度，2026年1—10月）",
        "网上办件率 64.3%（2026年1—10月）",
    ]
