"""Page data assembled from the engine, and the start-up cache warm-up."""

import pytest

from data import db
from metrics.dashboard import overview_data, warm_caches

pytestmark = pytest.mark.usefixtures("fixture_env")


def test_after_warming_the_top_overview_needs_no_query(province, monkeypatch):
    warm_caches(province)

    def no_query(*_args, **_kwargs):
        raise AssertionError("warmed data should not be queried again")

    monkeypatch.setattr(db, "query", no_query)
    for period in ("ytd", "month"):
        data = overview_data(None, "2025-03", period, "online_handling_rate", scope=province)
        assert data["region"] == "360000" and data["month"] == "2025-03"


def test_the_overview_lists_red_kpis_and_rule_alerts(province):
    data = overview_data("360000", "2025-03", "ytd", "online_handling_rate", scope=province)
    assert "online_handling_rate" in {r["kpi_id"] for r in data["red_kpis"]}  # 49.1% against 60%
    assert data["alert_summary"].set_index("rule_id")["count"]["overdue"] == 1
    assert data["top_alerts"]["project_id"].tolist()[0] == "P2"  # 211 days over, the longest
