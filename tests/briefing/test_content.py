"""The briefing's content against the engine, and its scope."""

from __future__ import annotations

import pytest

from briefing.content import BriefingError, briefing_content, check_request
from data.scope import Scope
from metrics.catalogue import load_catalogue
from metrics.engine import kpi_results, kpi_value
from metrics.rules import project_alerts
from tests.briefing.conftest import COUNTY, MONTH, PROVINCE


def test_kpis_are_the_engines(briefing_env):
    scope = Scope.province(PROVINCE)
    b = briefing_content(PROVINCE, MONTH, scope=scope)
    ids = [k.id for k in load_catalogue().headline()]
    assert [k["kpi_id"] for k in b.kpis] == ids
    for k, r in zip(b.kpis, kpi_results(ids, PROVINCE, MONTH, "ytd", scope=scope), strict=True):
        assert k["ytd_value"] == pytest.approx(r.value) and k["rag"] == r.rag and k["target"] == r.target
    cur = kpi_value("online_handling_rate", PROVINCE, MONTH, "month", scope=scope)
    row = next(k for k in b.kpis if k["kpi_id"] == "online_handling_rate")
    assert row["month_value"] == pytest.approx(cur.value)
    assert row["progress"] == pytest.approx(row["ytd_value"] / row["target"] * 100)
    assert b.problems["alerts_total"] == len(project_alerts(PROVINCE, MONTH, scope=scope))
    assert {k["kpi_id"] for k in b.problems["red"]} == {k["kpi_id"] for k in b.kpis if k["rag"] == "red"}
    # the lagging cities are exactly those red on some headline KPI, named
    assert b.child_level == "city" and all(r["region_name"].endswith("市") for r in b.problems["lagging"])
    assert b.paragraphs[0].startswith("2025年1—6月，全省网上可办率达")


def test_county_viewer_sees_only_the_county(briefing_env):
    scope = Scope(regions=(COUNTY,))
    b = briefing_content(COUNTY, MONTH, scope=scope)
    assert b.region_name == "东湖区" and b.level == "county" and not b.children and b.map_frame is None
    assert b.problems["alerts_total"] == len(project_alerts(COUNTY, MONTH, scope=scope))
    text = "".join(b.paragraphs + b.problem_lines + b.highlight_lines)
    assert "全区" in text
    for other in ("萍乡市", "新余市", "九江市", "赣州市", "西湖区", "崇仁县"):  # nothing outside the scope
        assert other not in text
    with pytest.raises(BriefingError, match="无权查看"):
        check_request(PROVINCE, MONTH, scope=scope)


def test_outlook_does_not_look_past_the_month(briefing_env, monkeypatch):
    """A June briefing's forecast uses data up to June only: its 'current' is June's 累计."""
    scope = Scope.province(PROVINCE)
    b = briefing_content(PROVINCE, MONTH, scope=scope)
    row = next(r for r in b.outlook if r["kpi_id"] == "online_handling_rate")
    assert row["source"] == "engine" and row["months_remaining"] == 6
    assert 0.0 <= row["probability"] <= 1.0


@pytest.mark.parametrize("region,month,message", [
    ("999999", MONTH, "未知的地区代码"), (PROVINCE, "2031-06", "没有数据"), (PROVINCE, "2025-13", "月份格式不正确")])
def test_bad_requests_are_chinese_errors(briefing_env, region, month, message):
    with pytest.raises(BriefingError, match=message):
        check_request(region, month, scope=Scope.province(PROVINCE))
